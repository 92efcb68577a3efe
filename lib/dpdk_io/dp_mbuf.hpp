// Frames and mbufs (internal to lib/dpdk_io's data plane): a frame copied into an mbuf
// chain, a burst's prefetch, a contiguous view of an mbuf's frame. Hot: inline.
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lib/rewrite/bytes.hpp"

namespace dpcopy::io::dp {

constexpr std::uint16_t kBurst = 32;
constexpr std::size_t kMaxFrame = 65535 + 64;   // largest frame we copy into an mbuf chain

// ------------------------------------------------------------------ mbufs
// What a frame in a worker's rings is, told by a private tag in the mbuf's `packet_type`
// (no PMD fills it on these paths: the feeder's mbufs and worker 0's hand-offs set it).
enum class FrameTag : std::uint32_t {
    captured_ethernet = 0,  // a captured frame with an Ethernet header (live, or an Ethernet capture)
    captured_raw_ipv4 = 1,  // a captured frame that starts at its IPv4 header (raw-IP capture)
    target = 2,             // a frame from the target (handed from worker 0 to its owner)
};
inline void set_frame_tag(rte_mbuf* m, FrameTag t) noexcept { m->packet_type = static_cast<std::uint32_t>(t); }
inline FrameTag frame_tag(const rte_mbuf* m) noexcept { return static_cast<FrameTag>(m->packet_type); }

// A frame's timestamp in the capture file (ns), for the offline feeder's mbufs: DPDK's Rx
// timestamp dynamic field, registered once by the feeder before the workers start. The
// engine measures the online server's latency on it (its own clock runs at --speed).
struct CaptureTimeField {
    int offset = -1;          // -1: not registered (live runs)
    std::uint64_t flag = 0;   // ol_flags bit of a stamped mbuf
};
inline CaptureTimeField g_capture_time_field;
// Offline runs, before the workers start; false (and no stamps) if DPDK has no room.
inline bool register_capture_time_field() noexcept {
    int offset = -1;
    std::uint64_t flag = 0;
    if (rte_mbuf_dyn_rx_timestamp_register(&offset, &flag) != 0) return false;
    g_capture_time_field = CaptureTimeField{offset, flag};
    return true;
}
inline void set_capture_time(rte_mbuf* m, std::uint64_t ns) noexcept {
    if (g_capture_time_field.offset < 0) return;
    *RTE_MBUF_DYNFIELD(m, g_capture_time_field.offset, rte_mbuf_timestamp_t*) = ns;
    m->ol_flags |= g_capture_time_field.flag;
}
inline bool capture_time(const rte_mbuf* m, std::uint64_t& ns) noexcept {
    if (g_capture_time_field.offset < 0 || !(m->ol_flags & g_capture_time_field.flag)) return false;
    ns = *RTE_MBUF_DYNFIELD(m, g_capture_time_field.offset, const rte_mbuf_timestamp_t*);
    return true;
}

// `frame` copied into a chain of mbufs from `pool` (one when it fits a data room): the
// feeder's captured frames, control records, the engine's frames. Every segment's pkt_len
// is its own data_len before rte_pktmbuf_chain adds it to the head's, so the head's
// pkt_len is the whole frame. nullptr when the pool runs out.
inline rte_mbuf* frame_to_mbuf(rte_mempool* pool, net::ConstBytes frame) noexcept {
    rte_mbuf* head = rte_pktmbuf_alloc(pool);
    if (!head) return nullptr;
    std::size_t off = 0;
    rte_mbuf* seg = head;
    for (;;) {
        const std::size_t n = std::min<std::size_t>(rte_pktmbuf_tailroom(seg), frame.size() - off);
        std::memcpy(rte_pktmbuf_mtod(seg, std::uint8_t*), frame.data() + off, n);
        seg->data_len = static_cast<std::uint16_t>(n);
        seg->pkt_len = static_cast<std::uint32_t>(n);
        if (seg != head && rte_pktmbuf_chain(head, seg) != 0) {
            rte_pktmbuf_free(seg);
            rte_pktmbuf_free(head);
            return nullptr;
        }
        off += n;
        if (off >= frame.size()) break;
        seg = rte_pktmbuf_alloc(pool);
        if (!seg) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
    }
    return head;
}

// A received burst's mbufs were last written by another core (the PMD's ring producer, a
// hand-off from worker 0, a NIC's DMA): request both header lines of every mbuf (line 0 for
// lengths and data offset, line 1 for the free's `next`), then every frame's first line,
// before touching any, so the misses overlap instead of costing a round trip per frame.
inline void prefetch_burst(rte_mbuf* const* b, unsigned n) noexcept {
    for (unsigned i = 0; i < n; ++i) {
        rte_prefetch0(b[i]);
        rte_prefetch0(reinterpret_cast<const char*>(b[i]) + RTE_CACHE_LINE_SIZE);
    }
    for (unsigned i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(b[i], const void*));
}

// Contiguous view of an mbuf's frame (copied into `scratch` only when chained).
inline net::ConstBytes mbuf_bytes(const rte_mbuf* m, std::vector<std::uint8_t>& scratch) noexcept {
    const std::uint32_t len = std::min<std::uint32_t>(m->pkt_len, static_cast<std::uint32_t>(scratch.size()));
    const void* p = rte_pktmbuf_read(m, 0, len, scratch.data());
    if (!p) return {};
    return net::ConstBytes(static_cast<const std::uint8_t*>(p), len);
}

}  // namespace dpcopy::io::dp
