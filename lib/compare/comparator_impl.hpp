// The Comparator's implementation (one per worker) and the tables it fills, which
// CompareSummary::merge reads once the worker has stopped. Everything is sized at create():
// per-slot state (max_sessions), the endpoint table (max_endpoints + "other"), the diffs.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/compare/comparator.hpp"
#include "lib/compare/endpoint.hpp"
#include "lib/compare/fixed_text.hpp"
#include "lib/compare/latency_histogram.hpp"
#include "lib/compare/stream_parser.hpp"

namespace dpcopy::compare {

struct StatusPair {
    JoinedStatus online;  // "" when not read
    JoinedStatus target;
    std::uint64_t count = 0;
};

// (online, target) status pairs with their counts: N - 1 distinct pairs, then every further
// pair is counted in the last entry, ("other", "other"). Pairs are found by one-word keys
// (lengths and three characters of each status: key_of) before their texts are compared:
// small tables by a scan, big ones (the worker's) through an open-addressing index, since
// once such a table is full most pairs are new ones (statuses that are hashes, error codes)
// that a scan would compare with every entry.
template <std::size_t N>
struct StatusPairs {
    static_assert(N >= 2 && N < 256);
    static constexpr std::size_t kIndex = N > 16 ? std::bit_ceil(N * 2) : 0;  // 0: scan
    static constexpr std::uint32_t kNotFound = ~0u;
    std::array<StatusPair, N> pairs{};
    std::array<std::uint64_t, N> keys{};     // key_of() of pairs[i], i < N - 1
    std::array<std::uint8_t, kIndex> index{};  // i + 1 for pairs[i], 0: empty
    std::uint32_t used = 0;
    std::uint32_t last = 0;  // the pair matched last: most exchanges repeat it

    static std::uint32_t key_of(const JoinedStatus& s) noexcept {
        if (s.len == 0) return 0;
        const auto at = [&](std::size_t i) { return std::uint32_t{static_cast<unsigned char>(s.data[i])}; };
        return std::uint32_t{s.len} | at(0) << 8 | at(s.len > 1 ? s.len - 2u : 0u) << 16 | at(s.len - 1u) << 24;
    }
    static std::uint64_t key_of(const JoinedStatus& online, const JoinedStatus& target) noexcept {
        return key_of(online) | std::uint64_t{key_of(target)} << 32;
    }
    static std::size_t home(std::uint64_t key) noexcept {
        return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ull) >> 40) & (kIndex - 1);
    }
    bool is(std::uint32_t i, std::uint64_t key, const JoinedStatus& online, const JoinedStatus& target) const noexcept {
        return keys[i] == key && pairs[i].online == online && pairs[i].target == target;
    }
    std::uint32_t find(std::uint64_t key, const JoinedStatus& online, const JoinedStatus& target) const noexcept {
        if constexpr (kIndex > 0) {
            for (std::size_t h = home(key);; h = (h + 1) & (kIndex - 1)) {
                if (index[h] == 0) return kNotFound;
                if (is(index[h] - 1u, key, online, target)) return index[h] - 1u;
            }
        } else {
            const std::uint32_t distinct = used < N ? used : N - 1;  // the folded entry aside
            for (std::uint32_t i = 0; i < distinct; ++i)
                if (is(i, key, online, target)) return i;
            return kNotFound;
        }
    }

    void add(const JoinedStatus& online, const JoinedStatus& target) noexcept {
        const std::uint64_t key = key_of(online, target);
        if (last < used && last < N - 1 && is(last, key, online, target)) {
            ++pairs[last].count;
            return;
        }
        if (const std::uint32_t i = find(key, online, target); i != kNotFound) {
            ++pairs[i].count;
            last = i;
            return;
        }
        if (used < N - 1) {
            keys[used] = key;
            if constexpr (kIndex > 0) {
                std::size_t h = home(key);
                while (index[h] != 0) h = (h + 1) & (kIndex - 1);
                index[h] = static_cast<std::uint8_t>(used + 1);
            }
            pairs[used++] = StatusPair{online, target, 1};
            return;
        }
        StatusPair& folded = pairs[N - 1];
        if (used < N) folded = StatusPair{}, folded.online.assign("other"), folded.target.assign("other"), used = N;
        ++folded.count;
    }
};

struct EndpointStats {
    EndpointName name;
    Protocol protocol = Protocol::other;
    std::uint64_t exchanges = 0, same_status = 0, different_status = 0, length_mismatch = 0, unknown_status = 0;
    LatencyHistogram online, target;
    StatusPairs<8> statuses;
    static constexpr std::size_t kSamples = 3;
    std::array<std::uint32_t, kSamples> samples{};  // indices into WorkerTables::diffs
    std::uint8_t sample_count = 0;
};

// One exchange whose status differs (a --diff-log line).
struct DiffEntry {
    std::uint32_t endpoint = 0;  // index into WorkerTables::endpoints
    std::uint16_t replica = 0;
    Protocol protocol = Protocol::other;
    JoinedStatus online_status, target_status;
    std::uint32_t online_bytes = 0, target_bytes = 0;
    std::uint64_t online_ns = 0, target_ns = 0;
    RequestLine request;
};

struct WorkerTables {
    std::vector<EndpointStats> endpoints;  // [0, used) named, [max_endpoints] "other"
    std::uint32_t endpoints_used = 0;
    std::uint32_t other_index = 0;
    std::uint64_t endpoints_other = 0;     // exchanges in "other" because the table was full
    LatencyHistogram online, target;
    StatusPairs<64> statuses;
    std::vector<DiffEntry> diffs;          // reserved to max_diffs
    std::uint64_t diffs_not_logged = 0;
};

class ComparatorImpl final : public Comparator {
public:
    explicit ComparatorImpl(const CompareConfig& cfg);

    void on_exchange(const session::ExchangeRecord& r) override;
    void on_session_start(std::uint32_t slot, std::uint16_t replica) override;
    void on_online_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos capture_time) override;
    void on_client_data(std::uint32_t slot, std::uint32_t online_offset) override;
    void on_request(std::uint32_t slot, session::ConstBytes head, session::Nanos now) override;
    void on_events_lost(std::uint32_t slot) override;
    void on_target_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos now) override;

    const CompareTotals& totals() const noexcept override { return totals_; }
    std::size_t memory_bytes() const noexcept override;

    const WorkerTables& tables() const noexcept { return tables_; }
    // Responses lost to a full FIFO, and parser desynchronisations, summed over the slots.
    std::uint64_t fifo_overflows() const noexcept;
    std::uint64_t desyncs() const noexcept;

    // Per-slot state: both streams' parsers and FIFOs, the current request. Six cache lines
    // (the engine prefetches them with the session's, slot_memory()): per exchange the
    // hooks touch nearly all of it.
    struct alignas(64) Slot {
        StreamParser online, target;
        ResponseFifo online_fifo, target_fifo;
        RequestLine request;                  // the current exchange's request
        std::uint32_t endpoint = 0;           // its endpoint (index into tables_.endpoints)
        std::uint32_t last_client_offset = 0; // the online offset of the latest client data
        Protocol protocol = Protocol::unknown;
        // "other" as a guess: from the server's bytes before any request, or from a request
        // no parser recognises; a stream that begins with a recognised answer still decides
        bool protocol_guessed = false;
        bool has_client_offset = false;
        bool endpoint_overflowed = false;
        // the protocol comes from a request's first bytes: the target's next answer (or a
        // stream's first bytes) must be able to begin in it (can_begin_answer), else "other"
        bool answer_unchecked = false;
    };
    static_assert(sizeof(Slot) == 6 * 64);

    SlotMemory slot_memory() const override {
        return {slots_.data(), sizeof(Slot), sizeof(Slot), static_cast<std::uint32_t>(slots_.size())};
    }

private:
    Protocol stream_protocol(Slot& s, const StreamParser& stream, std::uint32_t offset, session::ConstBytes first) noexcept;
    void switch_protocol(Slot& s, Protocol p) noexcept;
    void decide_protocol(Slot& s, session::ConstBytes head) noexcept;
    std::uint32_t endpoint_index(Protocol proto, const EndpointName& name, std::uint32_t previous, bool& overflowed) noexcept;
    void count_exchange(EndpointStats& ep, const session::ExchangeRecord& r, const JoinedStatus& online,
                        bool online_known, const JoinedStatus& target, bool target_known) noexcept;
    void log_diff(EndpointStats& ep, const Slot* s, std::uint32_t endpoint, const session::ExchangeRecord& r,
                  const JoinedStatus& online, const JoinedStatus& target) noexcept;

    CompareConfig cfg_;
    CompareTotals totals_;
    ResponsePool pending_;  // the nodes of every slot's FIFOs
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> endpoint_slots_;  // open addressing: endpoint index + 1, 0 = free
    WorkerTables tables_;
    EndpointName scratch_name_;  // on_request's endpoint name, before it is looked up
};

}  // namespace dpcopy::compare
