// Offline back-pressure (internal to lib/dpdk_io's worker; issue #16): a worker takes a
// captured frame from the feeder's ring only when its engine has room for it (the engine's
// CaptureHeadroom covers the frame's CaptureCost, lib/session/overload.hpp), so a target
// slower than the capture makes the replay lag (the ring fills, the feeder waits) instead of
// the engine dropping (drop_queue_full_*, create_table_full).
//
// A frame that does not fit is held back, with every later frame of its flow (their order
// kept), while frames of other flows go on: a new session waiting for a table slot does not
// hold up the sessions whose end would free one. When `cap` frames are held, nothing more is
// taken. Held frames are tried again, oldest first, whenever the engine's headroom changed.
// If the engine makes no progress at all (no frame emitted, none from the target) for
// kStallNs while frames are held, held frames go anyway, oldest first, one per poll until
// something moves, and the engine counts what it drops: a capture with more concurrent
// sessions than the table holds, all waiting for frames held behind a new one, cannot
// deadlock.
//
// The fast path (nothing held, room for a whole burst of the largest frames) is one
// headroom read and the usual burst dequeue: no parse.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>
#include <vector>

#include "lib/dpdk_io/dp_mbuf.hpp"
#include "lib/dpdk_io/io_counters.hpp"
#include "lib/dpdk_io/shard.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io::dp {

class CaptureGate {
public:
    static constexpr unsigned kMaxHeld = 2048;
    static constexpr std::uint64_t kStallNs = 15'000'000'000ULL;  // > the engine's unanswered_limit (10 s)

    explicit CaptureGate(unsigned cap) : cap_(cap == 0 ? 1 : (cap > kMaxHeld ? kMaxHeld : cap)) {}
    CaptureGate(const CaptureGate&) = delete;
    CaptureGate& operator=(const CaptureGate&) = delete;
    ~CaptureGate() { release(); }

    // Fills b[0..kBurst) with the frames the engine can take now (held ones first); returns
    // how many. `burst` is the caller's burst size.
    // Each frame held back is counted in `ctr` (capture_held).
    unsigned take(rte_ring* ring, rte_mbuf** b, unsigned burst, const session::Engine& e, std::uint64_t now,
                  IoCounters& ctr) {
        session::CaptureHeadroom room = e.capture_headroom();
        if (n_ == 0 && session::covers(room, e.capture_cost_bound(kMaxFrame).times(burst)))
            return rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(b), burst, nullptr);
        const std::uint64_t progress = progress_of(e);
        if (n_ == 0 || progress != last_progress_) stalled_since_ = now;
        last_progress_ = progress;
        unsigned n = 0;
        if (n_ != 0 && (retry_ || !same(room, last_room_))) {
            last_room_ = room;
            n = release_fitting(b, burst, room, e);
        }
        retry_ = n != 0;  // (what it released may free nothing the next frame needs: look again)
        // No progress at all for kStallNs (the engine sent nothing and heard nothing from the
        // target; a slow target still answers, or the engine guesses after unanswered_limit):
        // one held frame per poll goes anyway, oldest first, until something moves.
        if (n_ != 0 && n == 0 && now - stalled_since_ >= kStallNs) b[n++] = pop_oldest();
        while (n < burst && n_ < cap_) {
            rte_mbuf* m;
            if (rte_ring_sc_dequeue(ring, reinterpret_cast<void**>(&m)) != 0) break;
            const Held h = examine(m);
            if (!bit(flows_, h.flow) && session::take(room, cost(h, e))) {
                b[n++] = m;
            } else {
                if (n_ == 0) {
                    stalled_since_ = now;
                    last_room_ = e.capture_headroom();
                }
                hold(h);
                ++ctr[IoCounter::capture_held];
            }
        }
        return n;
    }

    bool empty() const noexcept { return n_ == 0; }
    unsigned held() const noexcept { return n_; }
    // Frees the held frames (teardown, before the pool goes).
    void release() noexcept {
        for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(held_[i].m);
        n_ = 0;
    }

private:
    struct Held {
        rte_mbuf* m = nullptr;
        std::uint64_t flow = 0;  // symmetric hash of its 4-tuple (0: not TCP/UDP)
    };
    static constexpr unsigned kFlowBits = 8192;  // flows with frames held (a filter: a collision only holds longer)

    static std::uint64_t progress_of(const session::Engine& e) noexcept {
        const session::Counters& c = e.counters();
        return c[session::Counter::emitted_frames] + c[session::Counter::target_frames];
    }
    static bool same(const session::CaptureHeadroom& a, const session::CaptureHeadroom& b) noexcept {
        return a.pieces == b.pieces && a.blocks == b.blocks && a.sessions == b.sessions;
    }
    static net::LinkType link_of(const rte_mbuf* m) noexcept {
        return frame_tag(m) == FrameTag::captured_raw_ipv4 ? net::LinkType::raw_ipv4 : net::LinkType::ethernet;
    }
    Held examine(rte_mbuf* m) {
        Held h{m, 0};
        net::PacketView v;
        if (net::parse_frame(mbuf_bytes(m, scratch_), v, link_of(m), true) == net::ParseError::ok &&
            (v.l4 == net::L4Kind::tcp || v.l4 == net::L4Kind::udp))
            h.flow = symmetric_flow_hash(v.key);
        return h;
    }
    session::CaptureCost cost(const Held& h, const session::Engine& e) {
        return e.capture_cost(mbuf_bytes(h.m, scratch_), link_of(h.m));
    }
    static bool bit(const std::array<std::uint64_t, kFlowBits / 64>& set, std::uint64_t flow) noexcept {
        const std::uint64_t i = flow % kFlowBits;
        return (set[i / 64] >> (i % 64)) & 1u;
    }
    static void set_bit(std::array<std::uint64_t, kFlowBits / 64>& set, std::uint64_t flow) noexcept {
        const std::uint64_t i = flow % kFlowBits;
        set[i / 64] |= std::uint64_t{1} << (i % 64);
    }
    void hold(const Held& h) {
        held_[n_++] = h;
        set_bit(flows_, h.flow);
    }
    rte_mbuf* pop_oldest() {
        rte_mbuf* m = held_[0].m;
        for (unsigned i = 1; i < n_; ++i) held_[i - 1] = held_[i];
        --n_;
        rebuild_flows();
        return m;
    }
    void rebuild_flows() {
        flows_.fill(0);
        for (unsigned i = 0; i < n_; ++i) set_bit(flows_, held_[i].flow);
    }
    // The held frames that fit now, oldest first; a frame that does not fit keeps its flow's
    // later ones held.
    unsigned release_fitting(rte_mbuf** b, unsigned burst, session::CaptureHeadroom& room, const session::Engine& e) {
        std::array<std::uint64_t, kFlowBits / 64> blocked{};
        unsigned n = 0, kept = 0;
        for (unsigned i = 0; i < n_; ++i) {
            const Held h = held_[i];
            if (n < burst && !bit(blocked, h.flow) && session::take(room, cost(h, e))) {
                b[n++] = h.m;
            } else {
                set_bit(blocked, h.flow);
                held_[kept++] = h;
            }
        }
        n_ = kept;
        flows_ = blocked;
        return n;
    }

    unsigned cap_;
    std::array<Held, kMaxHeld> held_{};
    unsigned n_ = 0;
    std::array<std::uint64_t, kFlowBits / 64> flows_{};
    session::CaptureHeadroom last_room_{};
    std::uint64_t last_progress_ = 0;
    std::uint64_t stalled_since_ = 0;
    bool retry_ = false;
    std::vector<std::uint8_t> scratch_ = std::vector<std::uint8_t>(kMaxFrame);
};

}  // namespace dpcopy::io::dp
