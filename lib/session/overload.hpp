// Overload: what the engine can still take, and whom it admits (issue #16, part 2). Pure,
// unit-tested directly (tests/session/test_overload.cpp).
//
// Offline, a target slower than the capture must make the replay lag, never drop: the
// adapter hands a captured frame to the engine only when the engine's headroom (free
// pieces, payload blocks, session slots) covers the frame's worst-case cost, and holds it
// otherwise (lib/dpdk_io's capture gate).
// Live, nothing can wait: above a high-water mark of the queue's or the table's occupancy,
// a new session (its SYN, or the first segment of a flow captured mid-stream) is not
// admitted, with all its replicas; its frames are counted as shed (ShedFlows remembers it),
// so the sessions already admitted keep the room they need to be delivered completely.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dpcopy::session {

// Free capacity of an engine's capture side.
struct CaptureHeadroom {
    std::uint64_t pieces = 0;    // free queue pieces (PiecePool)
    std::uint64_t blocks = 0;    // free payload blocks (BlockPool)
    std::uint64_t sessions = 0;  // free session table slots
};

// The most one captured frame may take from the headroom.
struct CaptureCost {
    std::uint64_t pieces = 0;
    std::uint64_t blocks = 0;
    std::uint64_t sessions = 0;

    CaptureCost& operator+=(const CaptureCost& o) noexcept {
        pieces += o.pieces;
        blocks += o.blocks;
        sessions += o.sessions;
        return *this;
    }
    CaptureCost times(std::uint64_t k) const noexcept { return {pieces * k, blocks * k, sessions * k}; }
};

inline bool covers(const CaptureHeadroom& h, const CaptureCost& c) noexcept {
    return c.pieces <= h.pieces && c.blocks <= h.blocks && c.sessions <= h.sessions;
}
// Takes `c` from `h` when it covers it; false (h unchanged) when it does not.
inline bool take(CaptureHeadroom& h, const CaptureCost& c) noexcept {
    if (!covers(h, c)) return false;
    h.pieces -= c.pieces;
    h.blocks -= c.blocks;
    h.sessions -= c.sessions;
    return true;
}

// Worst case of queueing `payload_bytes` of client payload for `replicas` sessions (-n),
// opening them first when `opens`: per replica, one piece per payload block the bytes span
// (CaptureQueue cuts pieces at the frame's block boundaries) plus two (a run split by data
// already queued, a FIN alone); blocks once for all replicas when they are shared
// (`shared_blocks`), else one per piece. Frames of the other direction cost nothing but
// may be passed with payload_bytes 0 and opens false.
inline CaptureCost capture_cost(std::size_t payload_bytes, std::uint32_t replicas, bool shared_blocks, bool opens,
                                std::uint32_t block_bytes = 2048) noexcept {
    const std::uint64_t spanned = (payload_bytes + block_bytes - 1) / block_bytes;
    CaptureCost c;
    c.pieces = std::uint64_t{replicas} * (spanned + 2);
    c.blocks = shared_blocks ? spanned : c.pieces;
    c.sessions = opens ? replicas : 0;
    return c;
}

// Occupancy of an engine's capture side, for admission (live).
struct Occupancy {
    std::uint64_t pieces_used = 0, pieces_cap = 0;
    std::uint64_t blocks_used = 0, blocks_cap = 0;
    std::uint64_t sessions_used = 0, sessions_cap = 0;
};

// Live admission of a new session and its `replicas` (-n): all or none. Not admitted when,
// counting its replicas, the table would pass `high_water_pct` percent of its slots, or the
// queue's pieces or blocks are already at or above that share. high_water_pct 0 (or >= 100):
// no admission control (offline: the capture gate waits instead).
inline bool admit_session(const Occupancy& o, std::uint32_t replicas, std::uint32_t high_water_pct) noexcept {
    if (high_water_pct == 0 || high_water_pct >= 100) return true;
    auto over = [high_water_pct](std::uint64_t used, std::uint64_t cap) {
        return cap != 0 && used * 100 >= cap * high_water_pct;
    };
    if (over(o.pieces_used, o.pieces_cap) || over(o.blocks_used, o.blocks_cap)) return false;
    const std::uint64_t limit = o.sessions_cap * high_water_pct / 100;
    return o.sessions_used + replicas <= limit;
}

// The flows (original client -> server 4-tuples, by hash) whose session was shed: their later
// frames are shed too (a session is delivered whole or not at all), until the flow has been
// quiet for `ttl` or a new SYN starts another connection on it. Direct-mapped and lossy: a
// flow evicted by another one's hash is forgotten (its next segment then opens a mid-stream
// session, counted as such). No allocation after construction.
class ShedFlows {
public:
    // slots: rounded up to a power of two; 0: disabled (contains() is always false).
    explicit ShedFlows(std::size_t slots = 0) {
        if (slots == 0) return;
        std::size_t n = 1;
        while (n < slots) n <<= 1;
        slots_.resize(n);
        mask_ = n - 1;
    }
    bool enabled() const noexcept { return !slots_.empty(); }

    // Remembers a shed flow at `now`.
    void add(std::uint64_t h, std::uint64_t now) noexcept {
        Slot& s = slots_[h & mask_];
        s = Slot{h | 1, now, 0, false};
    }
    // The flow is remembered as shed (and seen at `now`: its quiet time restarts).
    bool contains(std::uint64_t h, std::uint64_t now, std::uint64_t ttl) noexcept {
        if (!enabled()) return false;
        Slot& s = slots_[h & mask_];
        if (s.key != (h | 1)) return false;
        if (now > s.seen + ttl) {
            s = Slot{};
            return false;
        }
        s.seen = std::max(s.seen, now);
        return true;
    }
    void erase(std::uint64_t h) noexcept {
        if (!enabled()) return;
        Slot& s = slots_[h & mask_];
        if (s.key == (h | 1)) s = Slot{};
    }
    // A client data segment of a remembered shed flow acknowledging `ack` (the online
    // server's bytes the client had): true when it starts a new request, i.e. the first data
    // of the flow or data after new server bytes (the pacing's notion of a request; pipelined
    // requests count as one).
    bool new_request(std::uint64_t h, std::uint32_t ack) noexcept {
        Slot& s = slots_[h & mask_];
        if (s.key != (h | 1)) return false;
        const bool fresh = !s.has_data || s.ack != ack;
        s.has_data = true;
        s.ack = ack;
        return fresh;
    }
    std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(Slot); }

private:
    struct Slot {
        std::uint64_t key = 0;  // the flow's hash | 1 (0: empty)
        std::uint64_t seen = 0;
        std::uint32_t ack = 0;
        bool has_data = false;
    };
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

}  // namespace dpcopy::session
