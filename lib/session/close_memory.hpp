// What the engine remembers of connections after they end, for the time_wait span: the
// captured stream ends of recently closed original sessions (a late captured segment must
// not open a mid-stream session) and the TIME_WAIT records of translated tuples (a
// retransmitted FIN of the target is re-acknowledged, RFC 9293 §3.6, instead of reset).
// Fixed tables, direct-mapped by flow hash: no allocation after construction; a record
// overwritten by a collision is simply forgotten.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "lib/rewrite/types.hpp"
#include "lib/session/big_array.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::session {

// Recently closed original sessions, one record per hash slot.
class RecentlyClosed {
public:
    explicit RecentlyClosed(std::uint32_t max_sessions)
        : entries_(std::bit_ceil(std::max<std::uint32_t>(max_sessions, 64)), Entry{}) {}

    // `orig` ended at captured stream position `end` (after its FIN) at `now`.
    void remember(const net::FlowKey& orig, std::uint64_t h, net::Seq end, Nanos now) noexcept {
        Entry& c = entries_[h & (entries_.size() - 1)];
        c.orig = orig;
        c.end = end;
        c.ms = static_cast<std::uint32_t>(now / kMs);
        c.used = true;
    }
    // True when `orig` closed within `time_wait` before `now` and `seq` lies before its end.
    bool covers(const net::FlowKey& orig, std::uint64_t h, net::Seq seq, Nanos now, Nanos time_wait) const noexcept {
        const Entry& c = entries_[h & (entries_.size() - 1)];
        if (!c.used || !(c.orig == orig)) return false;
        if (static_cast<std::uint32_t>(now / kMs) - c.ms > time_wait / kMs) return false;
        return seq < c.end && c.end - seq < (1 << 30);
    }
    std::size_t memory_bytes() const noexcept { return entries_.size() * sizeof(Entry); }

private:
    struct Entry {
        net::FlowKey orig{};
        net::Seq end;  // captured stream end (after the FIN)
        std::uint32_t ms = 0;
        bool used = false;
    };
    BigArray<Entry> entries_;
};

// TIME_WAIT records of translated tuples whose connection we closed by a FIN exchange, in
// 4-way buckets: a record is placed in a free, expired or same-tuple way, else over the oldest.
struct TimeWaitRecord {
    net::FlowKey xlat{};
    net::Seq snd;  // our sequence number after our FIN
    net::Seq rcv;  // after the target's FIN
    std::uint32_t ts_off = 0, ts_recent = 0;
    std::uint32_t ms = 0;
    std::uint8_t used = 0, ts_on = 0;
};

class TimeWaitTable {
public:
    static constexpr std::size_t kWays = 4;

    explicit TimeWaitTable(std::uint32_t max_sessions)
        : records_(std::bit_ceil(std::max<std::uint32_t>(max_sessions, 256)), TimeWaitRecord{}) {}

    // The live record of `xlat` (hash `h`), or nullptr.
    TimeWaitRecord* find(const net::FlowKey& xlat, std::uint64_t h) noexcept {
        TimeWaitRecord* b = bucket(h);
        for (std::size_t w = 0; w < kWays; ++w)
            if (b[w].used && b[w].xlat == xlat) return &b[w];
        return nullptr;
    }
    // The way a new record of `xlat` (hash `h`) goes to at `now`.
    TimeWaitRecord& place(const net::FlowKey& xlat, std::uint64_t h, Nanos now, Nanos time_wait) noexcept {
        const std::uint32_t now_ms = static_cast<std::uint32_t>(now / kMs);
        TimeWaitRecord* b = bucket(h);
        TimeWaitRecord* victim = &b[0];
        for (std::size_t w = 0; w < kWays; ++w) {
            if (!b[w].used || b[w].xlat == xlat || now_ms - b[w].ms > time_wait / kMs) {
                victim = &b[w];
                break;
            }
            if (now_ms - b[w].ms > now_ms - victim->ms) victim = &b[w];
        }
        return *victim;
    }
    // True (and the record freed) when `r` is older than `time_wait` at `now`.
    static bool expire(TimeWaitRecord& r, Nanos now, Nanos time_wait) noexcept {
        if (static_cast<std::uint32_t>(now / kMs) - r.ms > time_wait / kMs) {
            r.used = 0;
            return true;
        }
        return false;
    }
    std::size_t memory_bytes() const noexcept { return records_.size() * sizeof(TimeWaitRecord); }

private:
    TimeWaitRecord* bucket(std::uint64_t h) noexcept { return &records_[(h & (records_.size() - 1)) & ~(kWays - 1)]; }
    BigArray<TimeWaitRecord> records_;
};

}  // namespace dpcopy::session
