// Pool of queued captured client data: fixed-size pieces (descriptor + up to kPieceBytes
// of payload), allocated up front per worker and handed out from a free list. A captured
// segment larger than a piece (GRO/TSO) is stored as several consecutive pieces.
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
    std::uint32_t next = 0xffffffffu;
    net::Seq seq;            // first byte
    net::Seq ack;            // captured ack field (online server data acknowledged)
    std::uint16_t len = 0;   // payload bytes (may be 0 for a bare FIN)
    std::uint8_t flags = 0;
    std::uint8_t pad_ = 0;
    std::uint64_t cap_time = 0;  // capture time of the segment
    std::uint64_t srv_time = 0;  // capture time of the online server's last data before it
    net::Seq data_end() const noexcept { return seq + len; }
    net::Seq end() const noexcept { return seq + len + ((flags & kFin) ? 1u : 0u); }
    bool fin() const noexcept { return (flags & kFin) != 0; }
};

class PiecePool {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr std::uint32_t kPieceBytes = 2048;

    explicit PiecePool(std::uint32_t count = 0)
        : desc_(count, NoInit{}), data_(std::size_t{count} * kPieceBytes, NoInit{}), stack_(count, NoInit{}), count_(count) {
        // free pieces on a LIFO stack of ids (so the next ones to be handed out are known and
        // can be prefetched); the data area is left untouched (pages are only mapped when
        // first used)
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
    // Prefetches (for writing) the descriptor and first data line of the piece the k-th next
    // alloc() will hand out (k = 0: the next one): the captured burst path calls it so these
    // misses overlap.
    void prefetch_next(std::uint32_t k) const noexcept {
        if (k >= top_) return;
        const std::uint32_t id = stack_[top_ - 1 - k];
        __builtin_prefetch(&desc_[id], 1);
        __builtin_prefetch(data(id), 1);
    }
    void prefetch(std::uint32_t id) const noexcept {
        if (id != kNone) __builtin_prefetch(&desc_[id], 1);
    }
    Piece& operator[](std::uint32_t id) noexcept { return desc_[id]; }
    const Piece& operator[](std::uint32_t id) const noexcept { return desc_[id]; }
    std::uint8_t* data(std::uint32_t id) noexcept { return data_.data() + std::size_t{id} * kPieceBytes; }
    const std::uint8_t* data(std::uint32_t id) const noexcept { return data_.data() + std::size_t{id} * kPieceBytes; }
    std::size_t memory_bytes() const noexcept { return std::size_t{count_} * (sizeof(Piece) + kPieceBytes + 4); }

private:
    BigArray<Piece> desc_;
    BigArray<std::uint8_t> data_;
    BigArray<std::uint32_t> stack_;
    std::uint32_t count_;
    std::uint32_t top_ = 0;
    std::uint32_t used_ = 0;
};

}  // namespace dpcopy::session
