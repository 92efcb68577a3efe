// Queued captured client data, per worker, allocated up front:
//  - PiecePool: piece descriptors (one per queued run of a session's stream), handed out
//    from a free list; each references up to kPieceBytes of payload in one block;
//  - BlockPool: the payload bytes, in refcounted blocks of kBlockBytes. A captured segment's
//    payload is stored once, in the blocks of its frame, and every replica's pieces (-n)
//    reference them: amplification copies no payload in the engine, and (block, generation)
//    lets the adapter share one copy among the replicas' frames (FrameSink::emit_segment).
// A captured segment larger than a block (GRO/TSO) spans several consecutive pieces.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "lib/rewrite/bytes.hpp"
#include "lib/session/big_array.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::session {

struct Piece {
    static constexpr std::uint8_t kFin = 0x01;  // the client's FIN follows the last byte
    static constexpr std::uint8_t kAck = 0x02;  // `ack` is valid
    static constexpr std::uint8_t kBoundary = 0x04;  // proven request start: the online server had
                                                     // answered every byte before it (see client_segment)
    static constexpr std::uint8_t kUnseenAnswer = 0x10;  // acks online server data the capture lacks
    static constexpr std::uint8_t kOwnBlock = 0x08;  // `block` is this piece's alone (BlockPool::alloc_private)
    std::uint32_t next = 0xffffffffu;
    net::Seq seq;            // first byte
    net::Seq ack;            // captured ack field (online server data acknowledged)
    std::uint16_t len = 0;   // payload bytes (may be 0 for a bare FIN)
    std::uint8_t flags = 0;
    std::uint8_t pad_ = 0;
    std::uint32_t block = 0xffffffffu;  // payload block (none for a bare FIN)
    std::uint16_t boff = 0;             // first byte's offset in the block
    std::uint64_t cap_time = 0;      // when the engine got the segment (its clock: capture gap timeout)
    std::uint64_t request_time = 0;  // its time in the capture (EngineImpl::capture_clock_)
    std::uint64_t srv_time = 0;      // the online server's last data before it, in the capture
    net::Seq data_end() const noexcept { return seq + len; }
    net::Seq end() const noexcept { return seq + len + ((flags & kFin) ? 1u : 0u); }
    bool fin() const noexcept { return (flags & kFin) != 0; }
};

class PiecePool {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr std::uint32_t kPieceBytes = 2048;

    explicit PiecePool(std::uint32_t count = 0) : desc_(count, NoInit{}), stack_(count, NoInit{}), count_(count) {
        // free pieces on a LIFO stack of ids (so the next ones to be handed out are known and
        // can be prefetched)
        for (std::uint32_t i = 0; i < count; ++i) {
            new (&desc_[i]) Piece{};
            stack_[i] = count - 1 - i;
        }
        top_ = count;
    }

    std::uint32_t capacity() const noexcept { return count_; }
    std::uint32_t in_use() const noexcept { return used_; }
    std::uint32_t available() const noexcept { return count_ - used_; }

    std::uint32_t alloc() noexcept {
        if (top_ == 0) return kNone;
        const std::uint32_t id = stack_[--top_];
        desc_[id] = Piece{};
        ++used_;
        return id;
    }
    void free(std::uint32_t id) noexcept {
        desc_[id].next = kNone;
        stack_[top_++] = id;
        --used_;
    }
    // Prefetches (for writing) the descriptor of the piece the k-th next alloc() will hand
    // out (k = 0: the next one): the captured burst path calls it so these misses overlap.
    void prefetch_next(std::uint32_t k) const noexcept {
        if (k >= top_) return;
        __builtin_prefetch(&desc_[stack_[top_ - 1 - k]], 1);
    }
    void prefetch(std::uint32_t id) const noexcept {
        if (id != kNone) __builtin_prefetch(&desc_[id], 1);
    }
    Piece& operator[](std::uint32_t id) noexcept { return desc_[id]; }
    const Piece& operator[](std::uint32_t id) const noexcept { return desc_[id]; }
    std::size_t memory_bytes() const noexcept { return std::size_t{count_} * (sizeof(Piece) + 4); }

private:
    BigArray<Piece> desc_;
    BigArray<std::uint32_t> stack_;
    std::uint32_t count_;
    std::uint32_t top_ = 0;
    std::uint32_t used_ = 0;
};

// Refcounted payload blocks. A block is filled once, when allocated, and never changed
// while referenced; its generation grows at every allocation, so (id, gen) names one content.
class BlockPool {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr std::uint32_t kBlockBytes = PiecePool::kPieceBytes;

    explicit BlockPool(std::uint32_t count = 0)
        : data_(std::size_t{count} * kBlockBytes, NoInit{}), meta_(count, NoInit{}), stack_(count, NoInit{}), count_(count) {
        for (std::uint32_t i = 0; i < count; ++i) {
            new (&meta_[i]) Meta{};
            stack_[i] = count - 1 - i;
        }
        top_ = count;
    }
    std::uint32_t capacity() const noexcept { return count_; }
    std::uint32_t in_use() const noexcept { return count_ - top_; }
    std::uint32_t available() const noexcept { return top_; }

    // A block holding a copy of `bytes` (at most kBlockBytes), with no reference yet.
    std::uint32_t alloc(net::ConstBytes bytes) noexcept {
        if (top_ == 0) return kNone;
        const std::uint32_t id = stack_[--top_];
        Meta& m = meta_[id];
        m.refs = 0;
        ++m.gen;
        m.len = static_cast<std::uint16_t>(bytes.size());
        if (!bytes.empty()) std::memcpy(data(id), bytes.data(), bytes.size());
        return id;
    }
    // A block for one owner (no replicas to share it with): no meta record is kept (its
    // generation and length are not maintained), so neither alloc nor free touches one.
    std::uint32_t alloc_private(net::ConstBytes bytes) noexcept {
        if (top_ == 0) return kNone;
        const std::uint32_t id = stack_[--top_];
        if (!bytes.empty()) std::memcpy(data(id), bytes.data(), bytes.size());
        return id;
    }
    void free_private(std::uint32_t id) noexcept { stack_[top_++] = id; }
    void ref(std::uint32_t id) noexcept { ++meta_[id].refs; }
    // Drops a reference; true when it was the last one (the block is free again).
    bool unref(std::uint32_t id) noexcept {
        if (--meta_[id].refs != 0) return false;
        stack_[top_++] = id;
        return true;
    }
    std::uint32_t refs(std::uint32_t id) const noexcept { return meta_[id].refs; }
    std::uint32_t gen(std::uint32_t id) const noexcept { return meta_[id].gen; }
    std::uint16_t len(std::uint32_t id) const noexcept { return meta_[id].len; }
    // The block the k-th next alloc() hands out: its first data line and its meta record.
    void prefetch_next(std::uint32_t k, bool with_meta = true) const noexcept {
        if (k >= top_) return;
        const std::uint32_t id = stack_[top_ - 1 - k];
        __builtin_prefetch(data(id), 1);
        if (with_meta) __builtin_prefetch(&meta_[id], 1);
    }
    void prefetch_meta(std::uint32_t id) const noexcept { __builtin_prefetch(&meta_[id], 1); }
    std::uint8_t* data(std::uint32_t id) noexcept { return data_.data() + std::size_t{id} * kBlockBytes; }
    const std::uint8_t* data(std::uint32_t id) const noexcept { return data_.data() + std::size_t{id} * kBlockBytes; }
    std::size_t memory_bytes() const noexcept { return std::size_t{count_} * (kBlockBytes + sizeof(Meta) + 4); }

private:
    struct Meta {
        std::uint32_t refs = 0;
        std::uint32_t gen = 0;
        std::uint16_t len = 0;
    };
    BigArray<std::uint8_t> data_;  // pages are only mapped when first used
    BigArray<Meta> meta_;
    BigArray<std::uint32_t> stack_;
    std::uint32_t count_;
    std::uint32_t top_ = 0;
};

}  // namespace dpcopy::session
