// The capture queue: each session's captured client data, in pieces over the worker's
// PiecePool and BlockPool (seg_pool.hpp), until the target acknowledges it. A session holds
// its list (PieceList: sorted by seq, pieces never overlap); one CaptureQueue per worker
// does the work on the lists: queue a captured segment (duplicates and overlaps cut away,
// holes kept in order), walk, free. Header-only: the engine's per-packet path inlines it.
//
// Blocks: the frame being queued is shared (share_frame()) so that every replica's pieces
// reference one copy of its payload; with one replica and a flat sink (share_blocks false)
// each piece owns a private block instead. A freed piece's block reference is dropped later,
// at release_blocks() (the engine calls it at the end of each entry point or burst), with
// its meta record prefetched meanwhile.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/seg_pool.hpp"

namespace dpcopy::session {

// One session's queued captured client data.
struct PieceList {
    static constexpr std::uint32_t kNone = PiecePool::kNone;
    std::uint32_t head = kNone;
    std::uint32_t tail = kNone;
    std::uint32_t send = kNone;  // where CaptureQueue::first_unsent() last stopped (kNone: from the head)
    std::uint16_t count = 0;     // pieces in the list
    bool empty() const noexcept { return head == kNone; }
};

class CaptureQueue {
public:
    static constexpr std::uint32_t kNone = PiecePool::kNone;

    CaptureQueue(PiecePool& pieces, BlockPool& blocks, std::uint32_t max_per_session, bool share_blocks) noexcept
        : pieces_(pieces), blocks_(blocks), max_per_session_(max_per_session), share_blocks_(share_blocks) {}

    // A captured client segment: [seq, seq + payload.size()), then the FIN if `fin`.
    struct Segment {
        net::Seq seq;
        net::ConstBytes payload;
        net::Seq ack;                 // its ack field (valid when has_ack)
        bool has_ack = false;
        bool fin = false;
        std::uint8_t start = 0;       // Piece flags of its first byte (kBoundary, kUnseenAnswer)
        std::uint64_t cap_time = 0;   // Piece::cap_time
        std::uint64_t srv_time = 0;   // Piece::srv_time
        std::uint64_t request_time = 0;  // Piece::request_time
    };
    enum class Full : std::uint8_t { no, session, worker };
    // What add() did.
    struct Added {
        bool duplicate = false;       // it lay wholly at or below `low`: nothing was done
        bool trimmed = false;         // bytes of it were below `low` or queued already
        bool fin_placed = false;      // its FIN is queued
        Full full = Full::no;         // no room for a run: that run and the rest were dropped
        std::uint32_t first = kNone;  // the piece `contiguous_end` was extended from (kNone: none)
    };

    // Queues `seg` in `q`, less what lies below `low` (already acknowledged or skipped) and
    // what is queued already; `contiguous_end` (the end of the contiguous captured stream)
    // moves over the pieces the segment made contiguous.
    Added add(PieceList& q, const Segment& seg, net::Seq low, net::Seq& contiguous_end) noexcept;

    // The frame whose payload add() is about to queue for each replica: its blocks are
    // filled once and shared (until end_frame()).
    void share_frame(net::ConstBytes payload) noexcept {
        stash_.base = payload.data();
        stash_.len = std::min(payload.size(), kStashBlocks * std::size_t{BlockPool::kBlockBytes});
        const std::size_t n = (stash_.len + BlockPool::kBlockBytes - 1) / BlockPool::kBlockBytes;
        for (std::size_t i = 0; i < n; ++i) stash_.blocks[i] = kNone;
    }
    void end_frame() noexcept {
        stash_.len = 0;
        stash_.base = nullptr;
    }

    // Moves `contiguous_end` over the pieces from `from` on that continue it.
    void extend_contiguous(std::uint32_t from, net::Seq& contiguous_end) const noexcept {
        for (std::uint32_t id = from; id != kNone; id = pieces_[id].next) {
            const Piece& p = pieces_[id];
            if (p.seq > contiguous_end) break;
            if (p.end() > contiguous_end) contiguous_end = p.end();
        }
    }
    // Something is queued past `contiguous_end` (the captured stream has a hole).
    bool has_hole(const PieceList& q, net::Seq contiguous_end) const noexcept {
        return q.tail != kNone && pieces_[q.tail].end() > contiguous_end;
    }
    // Data of `len` bytes at `seq` lies before the FIN at the list's end (captured out of order).
    bool before_fin(const PieceList& q, net::Seq seq, std::size_t len) const noexcept {
        if (len == 0 || q.tail == kNone || !pieces_[q.tail].fin()) return false;
        return seq + static_cast<std::uint32_t>(len) <= pieces_[q.tail].data_end();
    }
    // Data queued past `seq`.
    bool has_data_after(const PieceList& q, net::Seq seq) const noexcept {
        return q.tail != kNone && pieces_[q.tail].data_end() > seq;
    }
    // The first piece holding data at or after `next` (or a FIN not yet sent), from the
    // list's cursor when it is not past `next`; kNone when there is none.
    std::uint32_t first_unsent(PieceList& q, net::Seq next) const noexcept {
        std::uint32_t id = q.send;
        if (id == kNone || pieces_[id].seq > next) id = q.head;
        while (id != kNone) {
            const Piece& p = pieces_[id];
            if (p.data_end() > next || (p.fin() && p.end() > next)) break;
            id = p.next;
        }
        q.send = id;
        return id;
    }

    // Frees the head piece (its block reference is dropped at release_blocks()).
    void free_head(PieceList& q) noexcept {
        const std::uint32_t id = q.head;
        q.head = pieces_[id].next;
        if (q.head == kNone) q.tail = kNone;
        if (q.send == id) q.send = kNone;
        const std::uint32_t b = pieces_[id].block;
        if (b != kNone) {
            if (pieces_[id].flags & Piece::kOwnBlock) blocks_.free_private(b);
            else defer_unref(b);
        }
        pieces_.free(id);
        --q.count;
    }
    // Frees the pieces that end at or before `acked`.
    void drop_acked(PieceList& q, net::Seq acked) noexcept {
        while (q.head != kNone && pieces_[q.head].end() <= acked) free_head(q);
    }
    void clear(PieceList& q) noexcept {
        while (q.head != kNone) free_head(q);
    }
    // A piece's payload replaced by `bytes` (same length) in a block of its own; false when
    // no block is free (the piece is unchanged).
    bool replace_payload(Piece& d, net::ConstBytes bytes) noexcept {
        if (blocks_.available() == 0) return false;
        if (d.flags & Piece::kOwnBlock) {
            blocks_.free_private(d.block);
            d.block = blocks_.alloc_private(bytes);
        } else {
            const std::uint32_t old = d.block;
            d.block = blocks_.alloc(bytes);
            blocks_.ref(d.block);
            defer_unref(old);
        }
        d.boff = 0;
        return true;
    }
    // Drops the block references of the pieces freed since the last call; `released(b)`
    // for each block that had no other reference (it is free again).
    template <class F>
    void release_blocks(F&& released) {
        for (std::size_t i = 0; i < n_deferred_; ++i) {
            const std::uint32_t b = deferred_[i];
            if (blocks_.unref(b)) released(b);
        }
        n_deferred_ = 0;
    }
    void release_blocks() {
        release_blocks([](std::uint32_t) {});
    }

    Piece& operator[](std::uint32_t id) noexcept { return pieces_[id]; }
    const Piece& operator[](std::uint32_t id) const noexcept { return pieces_[id]; }

private:
    // The frame being queued: its payload is copied into blocks at most once (block k holds
    // payload bytes [k * kBlockBytes, (k + 1) * kBlockBytes)), when a first piece of any
    // replica needs it; the other replicas' pieces reference the same block.
    static constexpr std::size_t kStashBlocks = 65536 / BlockPool::kBlockBytes + 1;
    struct Stash {
        const std::uint8_t* base = nullptr;
        std::size_t len = 0;
        std::array<std::uint32_t, kStashBlocks> blocks{};
    };

    std::uint32_t insert_run(PieceList& q, std::uint32_t prev, net::Seq seq, net::ConstBytes payload, const Segment& seg,
                             bool fin, std::uint8_t start, std::uint32_t& first, Full& full) noexcept;
    bool place_fin(PieceList& q, std::uint32_t prev, net::Seq end, const Segment& seg, net::Seq contiguous_end,
                   std::uint32_t& first_new, Full& full) noexcept;
    void defer_unref(std::uint32_t b) noexcept {
        if (n_deferred_ == deferred_.size()) release_blocks();
        blocks_.prefetch_meta(b);
        deferred_[n_deferred_++] = b;
    }

    PiecePool& pieces_;
    BlockPool& blocks_;
    std::uint32_t max_per_session_;
    bool share_blocks_;
    Stash stash_;
    std::array<std::uint32_t, 64> deferred_{};  // blocks to release (defer_unref)
    std::size_t n_deferred_ = 0;
};

// Inserts [seq, seq+len) of `payload` (already trimmed to what is missing) after `prev`
// (kNone: at the head). Returns the last piece inserted and sets `first`, or returns
// kNone when there was no room (nothing inserted; `full` says which bound). Pieces are cut
// at the frame's block boundaries, so each lies in one block.
inline std::uint32_t CaptureQueue::insert_run(PieceList& q, std::uint32_t prev, net::Seq seq, net::ConstBytes payload,
                                              const Segment& seg, bool fin, std::uint8_t start, std::uint32_t& first,
                                              Full& full) noexcept {
    constexpr std::size_t B = BlockPool::kBlockBytes;
    const std::size_t len = payload.size();
    // where the bytes come from: the shared frame (shared blocks) or, for bytes outside
    // it, private blocks
    const bool shared = len > 0 && stash_.base != nullptr && payload.data() >= stash_.base &&
                        payload.data() + len <= stash_.base + stash_.len;
    const std::uint8_t* base = shared ? stash_.base : payload.data();
    const std::size_t src_len = shared ? stash_.len : len;
    const std::size_t fo = shared ? static_cast<std::size_t>(payload.data() - stash_.base) : 0;
    const std::size_t pieces = len == 0 ? 1 : (fo + len - 1) / B - fo / B + 1;
    std::size_t new_blocks = 0;
    if (len > 0) {
        for (std::size_t bi = fo / B; bi <= (fo + len - 1) / B; ++bi) {
            if (!shared || stash_.blocks[bi] == kNone) ++new_blocks;
        }
    }
    if (q.count + pieces > max_per_session_) {
        full = Full::session;
        return kNone;
    }
    if (pieces_.available() < pieces || blocks_.available() < new_blocks) {
        full = Full::worker;
        return kNone;
    }
    std::uint32_t after = prev;
    std::size_t off = 0;
    for (std::size_t i = 0; i < pieces; ++i) {
        const std::uint32_t pid = pieces_.alloc();
        if (i == 0) first = pid;
        Piece& p = pieces_[pid];
        std::size_t n = 0;
        if (len > 0) {
            const std::size_t at = fo + off;  // position in `base`
            const std::size_t bi = at / B;
            n = std::min(len - off, (bi + 1) * B - at);
            std::uint32_t b = shared ? stash_.blocks[bi] : kNone;
            const std::size_t b0 = bi * B;
            const net::ConstBytes content(base + b0, std::min(src_len, b0 + B) - b0);
            if (!share_blocks_) {
                b = blocks_.alloc_private(content);
                p.flags = Piece::kOwnBlock;  // (the other flags are or-ed in below)
            } else {
                if (b == kNone) {
                    b = blocks_.alloc(content);
                    if (shared) stash_.blocks[bi] = b;
                }
                blocks_.ref(b);
            }
            p.block = b;
            p.boff = static_cast<std::uint16_t>(at - bi * B);
        }
        p.seq = seq + static_cast<std::uint32_t>(off);
        p.ack = seg.ack;
        p.len = static_cast<std::uint16_t>(n);
        p.flags = static_cast<std::uint8_t>(p.flags | (seg.has_ack ? Piece::kAck : 0) |
                                            ((fin && i + 1 == pieces) ? Piece::kFin : 0) | (i == 0 ? start : 0));
        p.cap_time = seg.cap_time;
        p.srv_time = seg.srv_time;
        p.request_time = seg.request_time;
        off += n;
        if (after == kNone) {
            p.next = q.head;
            q.head = pid;
        } else {
            p.next = pieces_[after].next;
            pieces_[after].next = pid;
        }
        if (p.next == kNone) q.tail = pid;
        ++q.count;
        after = pid;
    }
    return after;
}

inline CaptureQueue::Added CaptureQueue::add(PieceList& q, const Segment& seg, net::Seq low,
                                             net::Seq& contiguous_end) noexcept {
    Added r;
    net::Seq seq = seg.seq;
    net::ConstBytes payload = seg.payload;
    const net::Seq end = seq + static_cast<std::uint32_t>(payload.size());
    if (end < low || (end == low && !seg.fin)) {
        r.duplicate = true;
        return r;
    }
    if (seq < low) {
        payload = payload.subspan(static_cast<std::size_t>(low - seq));
        seq = low;
        r.trimmed = true;
    }
    // Cut [seq, end) against the queued pieces (sorted, disjoint); insert what is missing.
    std::uint32_t prev = kNone, first_new = kNone;
    std::uint32_t id = q.head;
    if (q.tail != kNone && pieces_[q.tail].end() <= seq) {  // common case: append
        prev = q.tail;
        id = kNone;
    }
    net::Seq c = seq;
    bool dropped = false;
    while (id != kNone && c < end) {
        const Piece& p = pieces_[id];
        if (p.end() <= c) {
            prev = id;
            id = p.next;
            continue;
        }
        if (p.seq > c) {
            const net::Seq stop = net::seq_min(end, p.seq);
            std::uint32_t first = kNone;
            const std::uint32_t last =
                insert_run(q, prev, c, payload.subspan(static_cast<std::size_t>(c - seq), static_cast<std::size_t>(stop - c)),
                           seg, false, c == seg.seq ? seg.start : std::uint8_t{0}, first, r.full);
            if (last == kNone) {
                dropped = true;
                break;
            }
            if (first_new == kNone) first_new = first;
            prev = last;
            c = stop;
            continue;  // `id` is still the next existing piece
        }
        r.trimmed = true;  // p covers c
        c = net::seq_max(c, p.data_end());
        prev = id;
        id = p.next;
    }
    if (!dropped) {
        if (c < end) {
            std::uint32_t first = kNone;
            const std::uint32_t last = insert_run(q, prev, c, payload.subspan(static_cast<std::size_t>(c - seq)), seg, seg.fin,
                                                  c == seg.seq ? seg.start : std::uint8_t{0}, first, r.full);
            if (last != kNone) {
                if (first_new == kNone) first_new = first;
                r.fin_placed = seg.fin;
            }
        } else if (seg.fin) {
            r.fin_placed = place_fin(q, prev, end, seg, contiguous_end, first_new, r.full);
        }
    }
    r.first = first_new;
    if (first_new != kNone) extend_contiguous(first_new, contiguous_end);
    return r;
}

// All data of a captured FIN segment is queued (ending at `end`, in `prev`): the FIN goes on
// the piece ending at `end`, or alone after it. Alone when its ack differs: a FIN sent after
// the last response acknowledges that response, and that ack is what paces it (EB-6: merged
// into the last request's piece, it took that request's need and went out right after it).
// True when placed; `first_new` then names the piece the contiguous stream may extend from.
inline bool CaptureQueue::place_fin(PieceList& q, std::uint32_t prev, net::Seq end, const Segment& seg,
                                    net::Seq contiguous_end, std::uint32_t& first_new, Full& full) noexcept {
    if (prev != kNone && pieces_[prev].data_end() == end && !pieces_[prev].fin() &&
        (pieces_[prev].next == kNone || pieces_[pieces_[prev].next].seq > end) &&
        (!seg.has_ack || ((pieces_[prev].flags & Piece::kAck) && pieces_[prev].ack == seg.ack))) {
        pieces_[prev].flags |= Piece::kFin;
        if (pieces_[prev].seq <= contiguous_end) first_new = prev;
        return true;
    }
    std::uint32_t first = kNone;
    if (insert_run(q, prev, end, {}, seg, true, 0, first, full) == kNone) return false;
    first_new = first;
    return true;
}

}  // namespace dpcopy::session
