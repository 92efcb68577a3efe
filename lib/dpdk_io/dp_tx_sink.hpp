// The worker's TX sink (internal to lib/dpdk_io's data plane): the engine's frames into
// mbufs (or header mbufs chained to shared payload mbufs, -n zero-copy), batched for one
// TX queue. Hot: inline.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "lib/dpdk_io/dp_mbuf.hpp"
#include "lib/dpdk_io/io_counters.hpp"
#include "lib/rewrite/egress_guard.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io::dp {

constexpr unsigned kTxBufCap = 1024;        // frames a worker may hold for its TX queue

// ------------------------------------------------------------------ TX
// Zero-copy amplification (-n > 1 on a port that takes multi-segment frames): the engine
// stores each captured payload once, in blocks shared by the replicas, and hands data
// segments over as headers plus payload slices (session::FrameSink::emit_segment). The
// first frame that needs a block copies it into a direct mbuf from `payload_pool`, kept
// here until the engine releases the block; every replica's frame is then a small header
// mbuf chained to indirect mbufs (from `indirect_pool`) attached to those payload mbufs,
// so a block's bytes are copied once whatever -n. Payloads of at most kInlinePayload
// bytes are copied into the header mbuf instead (a chain costs more than such a copy).
// The port's TX queues never use RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (it forbids refcnt > 1).
struct ZeroCopyPools {
    rte_mempool* payload_pool = nullptr;   // direct mbufs, data room >= one block
    rte_mempool* indirect_pool = nullptr;  // indirect mbufs (no data room)
    std::uint32_t blocks = 0;              // the engine's block capacity (max_queued_segments)
};
constexpr std::size_t kInlinePayload = 256;

// --mirror-ip: the few frames sent on the mirror port (ARP replies), each at once on
// `queue` (the mirror port's TX queues idle otherwise); counted as mirror_arp_replies.
class MirrorReplySink final : public session::FrameSink {
public:
    void init(std::uint16_t port, std::uint16_t queue, rte_mempool* pool, IoCounters* ctr) {
        port_ = port;
        queue_ = queue;
        pool_ = pool;
        ctr_ = ctr;
    }
    void emit(net::ConstBytes frame) override {
        rte_mbuf* m = frame_to_mbuf(pool_, frame);
        if (!m) {
            ++(*ctr_)[IoCounter::drop_no_mbuf];
            return;
        }
        if (rte_eth_tx_burst(port_, queue_, &m, 1) == 1) {
            ++(*ctr_)[IoCounter::mirror_arp_replies];
        } else {
            rte_pktmbuf_free(m);
            ++(*ctr_)[IoCounter::drop_tx_full];
        }
    }

private:
    std::uint16_t port_ = 0, queue_ = 0;
    rte_mempool* pool_ = nullptr;
    IoCounters* ctr_ = nullptr;
};

class TxSink final : public session::FrameSink {
public:
    // `guard`: what may leave (lib/rewrite/egress_guard.hpp); every frame passes it.
    void init(std::uint16_t port, std::uint16_t queue, rte_mempool* pool, IoCounters* ctr, net::EgressGuard guard,
              const ZeroCopyPools* zc = nullptr) {
        guard_ = std::move(guard);
        port_ = port;
        queue_ = queue;
        pool_ = pool;
        ctr_ = ctr;
        if (zc && zc->payload_pool && zc->indirect_pool && zc->blocks > 0) {
            zc_ = *zc;
            cache_.assign(zc->blocks, CacheEntry{});
        }
    }
    ~TxSink() override { release_all(); }

    void emit(net::ConstBytes frame) override {
        if (!guard_allows(frame)) return;
        if (frame.size() > kMaxFrame) {
            ++(*ctr_)[IoCounter::drop_too_big];
            return;
        }
        if (!room()) return;
        rte_mbuf* m = frame_to_mbuf(pool_, frame);
        if (!m) {
            ++(*ctr_)[IoCounter::drop_no_mbuf];
            return;
        }
        push(m);
    }

    bool segmented() const override { return zc_.payload_pool != nullptr; }

    void emit_segment(net::ConstBytes headers, std::span<const session::PayloadSlice> payload) override {
        if (!guard_allows(headers)) return;
        std::size_t bytes = 0;
        for (const auto& sl : payload) bytes += sl.bytes.size();
        if (headers.size() + bytes > kMaxFrame) {
            ++(*ctr_)[IoCounter::drop_too_big];
            return;
        }
        if (!room()) return;
        rte_mbuf* hdr = rte_pktmbuf_alloc(pool_);
        if (!hdr) {
            ++(*ctr_)[IoCounter::drop_no_mbuf];
            return;
        }
        const bool inline_copy = bytes <= kInlinePayload;
        if (inline_copy || !chain(hdr, headers, payload)) {
            if (!inline_copy) ++(*ctr_)[IoCounter::tx_chain_fallback];
            // one flat frame: headers and payload copied (the data room holds a full frame)
            if (headers.size() + bytes > rte_pktmbuf_tailroom(hdr)) {
                rte_pktmbuf_free(hdr);
                ++(*ctr_)[IoCounter::drop_too_big];
                return;
            }
            auto* d = rte_pktmbuf_mtod(hdr, std::uint8_t*);
            std::memcpy(d, headers.data(), headers.size());
            std::size_t at = headers.size();
            for (const auto& sl : payload) {
                std::memcpy(d + at, sl.bytes.data(), sl.bytes.size());
                at += sl.bytes.size();
            }
            hdr->data_len = static_cast<std::uint16_t>(at);
            hdr->pkt_len = static_cast<std::uint32_t>(at);
        } else {
            ++(*ctr_)[IoCounter::tx_chained];
        }
        push(hdr);
    }

    void payload_released(std::uint32_t block, std::uint32_t gen) override {
        if (block >= cache_.size()) return;
        CacheEntry& e = cache_[block];
        if (e.m && e.gen == gen) {
            rte_pktmbuf_free(e.m);  // frames still in flight keep it through their refcount
            e.m = nullptr;
        }
    }
    // Frees every payload mbuf held for the engine's blocks (teardown, before the pools go).
    void release_all() noexcept {
        for (CacheEntry& e : cache_) {
            if (e.m) rte_pktmbuf_free(e.m);
            e.m = nullptr;
        }
    }

    void flush() noexcept {
        if (n_ == 0) return;
        std::uint64_t bytes[kTxBufCap];
        for (unsigned i = 0; i < n_; ++i) bytes[i] = buf_[i]->pkt_len;
        const std::uint16_t sent = rte_eth_tx_burst(port_, queue_, buf_, static_cast<std::uint16_t>(n_));
        for (unsigned i = 0; i < sent; ++i) (*ctr_)[IoCounter::tx_bytes] += bytes[i];
        (*ctr_)[IoCounter::tx_frames] += sent;
        if (sent) {
            std::memmove(buf_, buf_ + sent, (n_ - sent) * sizeof(rte_mbuf*));
            n_ -= sent;
        }
    }
    unsigned pending() const noexcept { return n_; }
    void discard() noexcept {
        for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(buf_[i]);
        (*ctr_)[IoCounter::drop_tx_full] += n_;
        n_ = 0;
    }

private:
    net::EgressGuard guard_;
    struct CacheEntry {
        rte_mbuf* m = nullptr;  // direct mbuf holding the block's bytes (one reference is ours)
        std::uint32_t gen = 0;
    };

    bool guard_allows(net::ConstBytes headers) {
        switch (guard_.check(headers)) {
            case net::EgressVerdict::allowed: return true;
            case net::EgressVerdict::not_target: ++(*ctr_)[IoCounter::drop_egress_not_target]; break;
            case net::EgressVerdict::not_control_peer: ++(*ctr_)[IoCounter::drop_egress_not_control_peer]; break;
            case net::EgressVerdict::no_next_hop: ++(*ctr_)[IoCounter::drop_egress_no_next_hop]; break;
            case net::EgressVerdict::unknown_kind: ++(*ctr_)[IoCounter::drop_egress_unknown_kind]; break;
        }
        return false;
    }
    bool room() {
        if (n_ == kTxBufCap) flush();
        if (n_ == kTxBufCap) {
            ++(*ctr_)[IoCounter::drop_tx_full];
            return false;
        }
        return true;
    }
    void push(rte_mbuf* m) {
        buf_[n_++] = m;
        if (n_ >= kBurst) flush();
    }
    // The mbuf holding (block, gen): the cached one, or a new copy of the block.
    rte_mbuf* payload_mbuf(const session::PayloadSlice& sl) {
        if (sl.block >= cache_.size()) return nullptr;
        CacheEntry& e = cache_[sl.block];
        if (e.m && e.gen == sl.gen) return e.m;
        if (e.m) {  // an older content of the block (its release was missed): let it go
            rte_pktmbuf_free(e.m);
            e.m = nullptr;
        }
        rte_mbuf* m = rte_pktmbuf_alloc(zc_.payload_pool);
        if (!m) return nullptr;
        if (sl.block_len > rte_pktmbuf_tailroom(m)) {
            rte_pktmbuf_free(m);
            return nullptr;
        }
        std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), sl.block_data, sl.block_len);
        m->data_len = sl.block_len;
        m->pkt_len = sl.block_len;
        ++(*ctr_)[IoCounter::tx_payload_blocks];
        e.m = m;
        e.gen = sl.gen;
        return m;
    }
    // Builds headers + indirect payload segments on `hdr`; false (hdr left empty) when a
    // payload or indirect mbuf is missing.
    bool chain(rte_mbuf* hdr, net::ConstBytes headers, std::span<const session::PayloadSlice> payload) {
        if (headers.size() > rte_pktmbuf_tailroom(hdr)) return false;
        std::memcpy(rte_pktmbuf_mtod(hdr, std::uint8_t*), headers.data(), headers.size());
        hdr->data_len = static_cast<std::uint16_t>(headers.size());
        hdr->pkt_len = static_cast<std::uint32_t>(headers.size());
        rte_mbuf* last = hdr;
        for (const auto& sl : payload) {
            rte_mbuf* pm = payload_mbuf(sl);
            rte_mbuf* ind = pm ? rte_pktmbuf_alloc(zc_.indirect_pool) : nullptr;
            if (!ind) {
                unchain(hdr);
                return false;
            }
            rte_pktmbuf_attach(ind, pm);  // pm's refcount + 1
            ind->data_off = static_cast<std::uint16_t>(ind->data_off + sl.offset);
            ind->data_len = static_cast<std::uint16_t>(sl.bytes.size());
            ind->pkt_len = ind->data_len;
            last->next = ind;
            last = ind;
            ++hdr->nb_segs;
            hdr->pkt_len += ind->data_len;
        }
        return true;
    }
    void unchain(rte_mbuf* hdr) noexcept {
        if (hdr->next) rte_pktmbuf_free(hdr->next);  // detaches the indirect mbufs
        hdr->next = nullptr;
        hdr->nb_segs = 1;
        hdr->data_len = 0;
        hdr->pkt_len = 0;
    }

    std::uint16_t port_ = 0, queue_ = 0;
    rte_mempool* pool_ = nullptr;
    IoCounters* ctr_ = nullptr;
    rte_mbuf* buf_[kTxBufCap] = {};
    unsigned n_ = 0;
    ZeroCopyPools zc_;
    std::vector<CacheEntry> cache_;
};

}  // namespace dpcopy::io::dp
