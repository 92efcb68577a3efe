// The session engine: one instance per worker (lcore). Pure C++: it consumes
// (frame, now) events from both directions and emits frames into a sink. It never
// allocates per packet after construction (tables and pools are sized up front),
// never locks, never logs.
//
// Directions:
//   on_captured(): frames of the ONLINE conversation (client->online server and
//                  online server->client), from a mirror port or a capture file.
//   on_target():   frames from the TARGET (the test server) addressed to our fake
//                  clients, arriving on our port or decoded from intercept records.
//   advance():     time passes (timers: retransmission, pacing, gaps, idle, TIME_WAIT).
//
// This header is the contract between lib/session, lib/dpdk_io and the tests.
// Additions are fine; changes to existing signatures need the tests updated too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/proto/mysql_auth.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/counters.hpp"
#include "lib/session/overload.hpp"
#include "lib/session/transfer_map.hpp"

namespace dpcopy::session {

using net::ConstBytes;
using net::Ipv4Addr;
using net::MacAddr;
using net::Port;

using Nanos = std::uint64_t;  // monotonic time in nanoseconds, supplied by the caller
inline constexpr Nanos kMs = 1'000'000;
inline constexpr Nanos kSec = 1'000'000'000;

// Part of a data segment's payload, held in one of the engine's payload blocks. A block
// is filled once with captured payload and shared by every replica (-n) that sends from
// it; (block, gen) names that content for as long as the engine references it, i.e. until
// FrameSink::payload_released(block, gen). `bytes` = block_data + offset, `bytes.size()`.
inline constexpr std::uint32_t kPayloadBlockBytes = 2048;  // block_len is at most this
struct PayloadSlice {
    ConstBytes bytes;
    const std::uint8_t* block_data = nullptr;  // the whole block: block_len valid bytes
    std::uint32_t block = 0;
    std::uint32_t gen = 0;
    std::uint16_t block_len = 0;
    std::uint16_t offset = 0;
};

// Receives every frame the engine originates (complete Ethernet frames, checksums set).
// The span is valid only during the call.
class FrameSink {
public:
    virtual ~FrameSink() = default;
    virtual void emit(ConstBytes frame) = 0;

    // Zero-copy amplification. A sink whose segmented() returns true (asked once, when the
    // engine is created) receives data segments as their headers (Ethernet to TCP options;
    // lengths and checksums already cover the payload) plus the payload's slices in order,
    // through emit_segment() instead of emit(): it may reference a block's bytes from many
    // frames (one copy per block, e.g. an mbuf chained after each replica's header mbuf)
    // until payload_released() says the engine let go of that block. Spans are valid only
    // during the call; the frame is the headers followed by the slices' bytes.
    virtual bool segmented() const { return false; }
    virtual void emit_segment(ConstBytes headers, std::span<const PayloadSlice> payload) {
        (void)headers;
        (void)payload;
    }
    virtual void payload_released(std::uint32_t block, std::uint32_t gen) {
        (void)block;
        (void)gen;
    }
};

// One request/response exchange, for an optional observer (latency comparison,
// response checking). Times are engine `now` values.
struct ExchangeRecord {
    net::FlowKey original;       // captured client -> online server tuple
    std::uint16_t replica = 0;
    std::uint32_t request_bytes = 0;
    std::uint32_t online_response_bytes = 0;
    Nanos online_response_time = 0;   // from the capture: first request byte -> last response byte
    std::uint32_t target_response_bytes = 0;
    Nanos target_response_time = 0;   // measured: request sent -> target's last response byte
    // --- for comparison (lib/compare) ---
    std::uint32_t slot = 0;           // the session's table slot (the one the byte hooks named)
    std::uint32_t online_begin = 0;   // online stream offset where this answer begins
    std::uint32_t target_begin = 0;   // target stream offset where the request went
    // The target's bytes since the request went: target_response_bytes plus what the engine
    // took for the rest of an earlier answer (answer_owed), which may instead be this answer
    // when the target answered the earlier request shorter than the online server did.
    std::uint32_t target_received = 0;
};

// Observer of the exchanges and of the bytes both servers answer with. Slots are session
// table indices (0 .. max_sessions-1); a slot's streams restart at on_session_start().
// Stream offsets count payload bytes from the connection's first one (the online server's:
// relative to its ISN + 1, the target's: likewise), modulo 2^32. The byte hooks default
// to nothing, so an observer that only wants records overrides on_exchange() alone.
// Called on the data path: an observer must be quick, allocate nothing and never block.
class ExchangeObserver {
public:
    virtual ~ExchangeObserver() = default;
    virtual void on_exchange(const ExchangeRecord& r) = 0;
    // A new connection toward the target begins in `slot` (replica `replica` of a capture).
    virtual void on_session_start(std::uint32_t slot, std::uint16_t replica) { (void)slot, (void)replica; }
    // Online server payload seen in the capture, in capture order (may repeat, overlap or
    // leave holes, as the capture does).
    virtual void on_online_data(std::uint32_t slot, std::uint32_t offset, ConstBytes payload, Nanos capture_time) {
        (void)slot, (void)offset, (void)payload, (void)capture_time;
    }
    // Captured client data (a request, or part of one) when the client had received
    // `online_offset` bytes of the online stream: where the next online answer begins,
    // if the online server had finished the previous one.
    virtual void on_client_data(std::uint32_t slot, std::uint32_t online_offset) { (void)slot, (void)online_offset; }
    // A request goes toward the target: `head` is its first captured bytes (at most
    // kRequestHeadBytes; fewer if its first segment is shorter). The exchange it opens ends with
    // on_exchange() (the next request's release, or the session's end).
    static constexpr std::size_t kRequestHeadBytes = 128;
    virtual void on_request(std::uint32_t slot, ConstBytes head, Nanos now) { (void)slot, (void)head, (void)now; }
    // The target's payload, in order, without repeats (what the engine accepted). With
    // dpintercept, bytes past the record's payload prefix arrive as zeros.
    virtual void on_target_data(std::uint32_t slot, std::uint32_t offset, ConstBytes payload, Nanos now) {
        (void)slot, (void)offset, (void)payload, (void)now;
    }
    // Events of `slot` were not delivered (a full queue between the engine and this observer):
    // its streams have holes since the last event delivered, and the exchanges between were
    // not reported. The next event is a request's release (on_request).
    virtual void on_events_lost(std::uint32_t slot) { (void)slot; }
    // Where the observer keeps its per-slot state, so that the engine prefetches it with the
    // session's lines: slot k (< count) is `bytes` long at base + k * stride (nothing when base
    // is null). Asked once, by set_observer(); that memory must stay put while it is set.
    struct SlotMemory {
        const void* base = nullptr;
        std::size_t stride = 0, bytes = 0;
        std::uint32_t count = 0;
    };
    virtual SlotMemory slot_memory() const { return {}; }
};

struct EngineConfig {
    std::vector<TransferMap> transfers;     // -x
    std::vector<Ipv4Addr> clients;          // -c expanded; empty: keep the original client address
    std::uint32_t multiply = 1;             // -n (1..1000)
    std::uint32_t instance = 0;             // -f (0..63)
    double percent = 100.0;                 // -r
    std::uint64_t sample_seed = 0x6470636f7079ULL;  // fixed: same sessions in every run and instance
    std::uint32_t mtu = 1500;               // -M: largest IP packet we send
    bool no_wait = false;                   // -W
    bool full_sessions_only = false;        // -O
    Nanos session_timeout = 120 * kSec;     // -t
    Nanos time_wait = 60 * kSec;            // --time-wait
    std::uint32_t worker_index = 0;         // this engine's worker
    std::uint32_t worker_count = 1;         // total workers; owner of a translated tuple = owner_of()
    std::uint32_t max_sessions = 1u << 16;  // table capacity per worker
    std::uint32_t max_queued_segments = 1u << 18;  // captured segments held per worker
    std::uint32_t max_queued_per_session = 256;
    MacAddr local_mac;                      // source MAC of emitted frames
    MacAddr next_hop_mac;                   // destination MAC (target or gateway); settable later
    std::uint8_t vlan_count = 0;            // tags to put on emitted frames
    std::array<net::VlanTag, 2> vlans{};

    // --- additions (lib/session; defaults are what the CLI uses unless it says otherwise) ---
    std::uint32_t instance_count = 0;       // 0: fixed -f partition (any -f 0..63 disjoint); N: even split in N
    Nanos capture_gap_timeout = 500 * kMs;  // wait for a missing captured client segment before resetting
    Nanos close_linger = 5 * kSec;          // after our FIN: wait this long for the target's FIN, then RST
    std::uint32_t syn_retries = 5;          // SYN retransmissions before giving up (1 s, 2 s, 4 s, ...)
    std::uint32_t max_retransmits = 10;     // data retransmission timeouts before giving up (RST)
    Nanos quiet_min = 2 * kMs;              // request pacing: floor of the quiet time
    Nanos quiet_max = 1 * kSec;             //   ceiling of the quiet time
    // A request whose predecessor the online server answered waits until the target has answered
    // it too (at least one byte): for as long as this without any progress from the target, then
    // it goes as a counted guess (requests_released_unanswered). The close waits the same way.
    Nanos unanswered_limit = 10 * kSec;
    // The client's FIN (or RST, or the close after finish_input) while the target has sent fewer
    // response bytes than the online server had: an early FIN makes a server abort the response
    // it is still writing (nginx: "client prematurely closed connection") and drop pipelined
    // requests, so the close waits for a longer quiet time than a request does.
    Nanos close_quiet = 200 * kMs;          //   floor once the target answered the last request in part
    // Quiet time is counted only while the engine is being called: a gap between two calls
    // (on_captured/on_target/advance/finish_input) counts as at most this much, since frames
    // from the target may be waiting unread in the receive queues (worker descheduled or busy).
    Nanos stall_gap = 1 * kMs;
    std::uint64_t max_tuples = std::uint64_t{1} << 22;  // translated tuples tracked per worker (4 bytes each)
    // --mysql-user: MySQL/MariaDB accounts whose captured logins are rewritten for the target's
    // scramble (lib/session/mysql_login.hpp). Without them logins go as captured (fine for
    // passwordless accounts); the target's answer to every login is counted either way.
    std::vector<proto::mysql::MysqlUser> mysql_users;
    // Live admission control (overload.hpp, admit_session): above this percentage of the
    // queue's or the table's capacity new sessions are shed whole (shed_sessions). 0: off (the
    // engine's default, and offline, where the adapter waits for headroom instead).
    std::uint32_t admission_high_water_pct = 0;
    // IPv6 (issue #18): the pool of fake IPv6 clients (-c with an IPv6 prefix) for IPv6 targets;
    // empty: an IPv6 session keeps its client's address (an IPv4 capture copied to an IPv6
    // target needs this pool, an IPv6 capture copied to an IPv4 target needs `clients`).
    std::optional<net::Ipv6Prefix> clients6;
};

class Engine {
public:
    // Validates the config; on error returns nullptr and sets `err` to one line.
    static std::unique_ptr<Engine> create(const EngineConfig& cfg, FrameSink& sink, std::string& err);
    virtual ~Engine() = default;

    virtual void on_captured(ConstBytes frame, net::LinkType link, Nanos now) = 0;
    virtual void on_target(ConstBytes frame, Nanos now) = 0;
    virtual void advance(Nanos now) = 0;
    // The capture is over: sessions finish what they have, then close. idle() turns
    // true when every session has ended (or been reset after its timeout).
    virtual void finish_input(Nanos now) = 0;
    virtual bool idle() const = 0;

    virtual void set_next_hop_mac(MacAddr mac) = 0;
    virtual void set_observer(ExchangeObserver* obs) = 0;

    virtual const Counters& counters() const = 0;
    virtual std::size_t active_sessions() const = 0;

    // --- additions ---
    // Bursts (what a DPDK rx loop has in hand): same effect as calling on_captured/on_target
    // for each frame in order, but the engine prefetches the table entries and sessions of
    // the whole burst first, so cache misses overlap (see docs/PERFORMANCE.md).
    virtual void on_captured_burst(std::span<const ConstBytes> frames, net::LinkType link, Nanos now) {
        for (ConstBytes f : frames) on_captured(f, link, now);
    }
    // The same for frames read from a capture file: capture_times[i] is frames[i]'s timestamp
    // in the file (ns, any epoch). The engine's clock (`now`) runs at the replay's speed; the
    // online server's latency in the exchange records is measured on the file's timestamps.
    // Without them (live, or the call above) it is measured on `now`.
    virtual void on_captured_burst(std::span<const ConstBytes> frames, std::span<const Nanos> capture_times,
                                   net::LinkType link, Nanos now) {
        (void)capture_times;
        on_captured_burst(frames, link, now);
    }
    virtual void on_target_burst(std::span<const ConstBytes> frames, Nanos now) {
        on_target_burst(frames, {}, now);
    }
    // The same, for a caller that has already parsed the frames (an adapter that classified
    // them): views[i], when `views` is not empty, is net::parse_frame's result for frames[i]
    // (any accept_other_l4), or a default PacketView (l3 == none) for a frame it did not
    // parse, which the engine parses itself. A parse is not done twice.
    virtual void on_target_burst(std::span<const ConstBytes> frames, std::span<const net::PacketView> views, Nanos now) {
        (void)views;
        for (ConstBytes f : frames) on_target(f, now);
    }
    // Captured segments queued now (of max_queued_segments), for the benchmark and tests
    // (the offline back-pressure uses capture_headroom()).
    virtual std::size_t queued_segments() const { return 0; }
    // Offline back-pressure (overload.hpp): the free pieces, blocks and session slots, and the
    // most a captured frame may take of them (0 for a frame that queues nothing and opens no
    // session). An adapter hands a frame over only when the headroom covers its cost, so a
    // target slower than the capture makes the replay lag instead of the engine drop.
    virtual CaptureHeadroom capture_headroom() const { return {~0ull, ~0ull, ~0ull}; }
    virtual CaptureCost capture_cost(ConstBytes frame, net::LinkType link) const {
        (void)frame, (void)link;
        return {};
    }
    // The worst cost of any captured frame of `frame_bytes` bytes (a new session's included).
    virtual CaptureCost capture_cost_bound(std::size_t frame_bytes) const {
        (void)frame_bytes;
        return {};
    }
    bool can_accept(ConstBytes frame, net::LinkType link) const { return covers(capture_headroom(), capture_cost(frame, link)); }
    // How long the latest request waited in the engine before its first transmission (from
    // when its first captured segment was handed over): with the feeder's own lag, how far
    // an offline replay is behind the capture's clock.
    virtual Nanos request_delay() const { return 0; }
    // Bytes allocated up front by this engine (tables, pools), for sizing and the benchmark.
    virtual std::size_t memory_bytes() const { return 0; }
    // Payload blocks in use (of max_queued_segments): one per 2 KiB of captured payload
    // queued, shared by the replicas.
    virtual std::size_t payload_blocks() const { return 0; }
};

// Which worker owns a translated tuple (fake client ip/port -> target ip/port). Every
// component that routes target responses or control records uses this.
std::uint32_t owner_of(const net::FlowKey& translated_client_to_target, std::uint32_t worker_count) noexcept;

}  // namespace dpcopy::session
