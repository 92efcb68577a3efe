// EngineImpl, the capture queue: captured client data in pieces until the target acknowledges it.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

// Inserts [seq, seq+len) of `payload` (already trimmed to what is missing) after `prev`
// (kNone: at the head). Returns the last piece inserted and sets `first`, or returns
// kNone when there was no room (nothing inserted). Pieces are cut at the frame's block
// boundaries, so each lies in one block.
inline std::uint32_t EngineImpl::insert_run(Session& s, std::uint32_t prev, Seq seq, ConstBytes payload, Seq ack, bool has_ack,
                         bool fin, Nanos now, std::uint32_t& first, std::uint8_t start) {
    constexpr std::size_t B = BlockPool::kBlockBytes;
    const std::size_t len = payload.size();
    // where the bytes come from: the stashed frame (shared blocks) or, for bytes outside
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
    if (s.q_count + pieces > cfg_.max_queued_per_session) {
        ++ctr_[Counter::drop_queue_full_session];
        return kNone;
    }
    if (pieces_.available() < pieces || blocks_.available() < new_blocks) {
        ++ctr_[Counter::drop_queue_full_worker];
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
            const ConstBytes content(base + b0, std::min(src_len, b0 + B) - b0);
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
        p.ack = ack;
        p.len = static_cast<std::uint16_t>(n);
        p.flags = static_cast<std::uint8_t>(p.flags | (has_ack ? Piece::kAck : 0) | ((fin && i + 1 == pieces) ? Piece::kFin : 0) |
                                            (i == 0 ? start : 0));
        p.cap_time = now;
        p.srv_time = s.online_last;
        off += n;
        if (after == kNone) {
            p.next = s.q_head;
            s.q_head = pid;
        } else {
            p.next = pieces_[after].next;
            pieces_[after].next = pid;
        }
        if (p.next == kNone) s.q_tail = pid;
        ++s.q_count;
        after = pid;
    }
    return after;
}

// Queues a captured client segment: duplicates and retransmissions of what is already
// queued or acknowledged are cut away, holes are kept in order (capture reordering).
// `start`: Piece flags of the segment's first byte (kBoundary, kUnseenAnswer).
inline void EngineImpl::enqueue(Session& s, Seq seq, ConstBytes payload, Seq ack, bool has_ack, bool fin, Nanos now, std::uint8_t start) {
    const Seq seq0 = seq;
    if ((s.flags & sflag::cap_fin) && !before_captured_fin(s, seq, payload.size())) {
        ++ctr_[payload.empty() && fin ? Counter::drop_captured_duplicate : Counter::drop_captured_after_close];
        return;
    }
    const Seq low = s.state == State::detached ? s.snd_nxt : s.snd_una;
    const Seq end = seq + static_cast<std::uint32_t>(payload.size());
    if (end < low || (end == low && !fin)) {
        ++ctr_[Counter::drop_captured_duplicate];
        return;
    }
    bool trimmed = false;
    if (seq < low) {
        payload = payload.subspan(static_cast<std::size_t>(low - seq));
        seq = low;
        trimmed = true;
    }
    // Cut [seq, end) against the queued pieces (sorted, disjoint); insert what is missing.
    std::uint32_t prev = kNone, first_new = kNone;
    std::uint32_t id = s.q_head;
    if (s.q_tail != kNone && pieces_[s.q_tail].end() <= seq) {  // common case: append
        prev = s.q_tail;
        id = kNone;
    }
    Seq c = seq;
    bool dropped = false;
    while (id != kNone && c < end) {
        const Piece& p = pieces_[id];
        if (p.end() <= c) {
            prev = id;
            id = p.next;
            continue;
        }
        if (p.seq > c) {
            const Seq stop = seq_min(end, p.seq);
            std::uint32_t first = kNone;
            const std::uint32_t last = insert_run(s, prev, c, payload.subspan(static_cast<std::size_t>(c - seq),
                                                                              static_cast<std::size_t>(stop - c)),
                                                  ack, has_ack, false, now, first, c == seq0 ? start : std::uint8_t{0});
            if (last == kNone) {
                dropped = true;
                break;
            }
            if (first_new == kNone) first_new = first;
            prev = last;
            c = stop;
            continue;  // `id` is still the next existing piece
        }
        trimmed = true;  // p covers c
        c = seq_max(c, p.data_end());
        prev = id;
        id = p.next;
    }
    bool fin_placed = false;
    if (!dropped) {
        if (c < end) {
            std::uint32_t first = kNone;
            const std::uint32_t last = insert_run(s, prev, c, payload.subspan(static_cast<std::size_t>(c - seq)), ack,
                                                  has_ack, fin, now, first, c == seq0 ? start : std::uint8_t{0});
            if (last != kNone) {
                if (first_new == kNone) first_new = first;
                fin_placed = fin;
            }
        } else if (fin) {
            fin_placed = place_fin(s, prev, end, ack, has_ack, now, first_new);
        }
    }
    if (trimmed) ++ctr_[first_new == kNone && !fin_placed ? Counter::drop_captured_duplicate : Counter::trim_captured_overlap];
    if (fin_placed) s.flags |= sflag::cap_fin;
    if (first_new != kNone) extend_contig(s, first_new);
    refresh_gap(s, now);
}

// All data of a captured FIN segment is queued (ending at `end`, in `prev`): the FIN goes on
// the piece ending at `end`, or alone after it. Alone when its ack differs: a FIN sent after
// the last response acknowledges that response, and that ack is what paces it (EB-6: merged
// into the last request's piece, it took that request's need and went out right after it).
// True when placed; `first_new` then names the piece the contiguous stream may extend from.
inline bool EngineImpl::place_fin(Session& s, std::uint32_t prev, Seq end, Seq ack, bool has_ack, Nanos now,
                           std::uint32_t& first_new) {
    if (prev != kNone && pieces_[prev].data_end() == end && !pieces_[prev].fin() &&
        (pieces_[prev].next == kNone || pieces_[pieces_[prev].next].seq > end) &&
        (!has_ack || ((pieces_[prev].flags & Piece::kAck) && pieces_[prev].ack == ack))) {
        pieces_[prev].flags |= Piece::kFin;
        if (pieces_[prev].seq <= s.captured_contig_end) first_new = prev;
        return true;
    }
    std::uint32_t first = kNone;
    if (insert_run(s, prev, end, {}, ack, has_ack, true, now, first) == kNone) return false;
    first_new = first;
    return true;
}

inline void EngineImpl::extend_contig(Session& s, std::uint32_t from) {
    // from may start before captured_contig_end (a late segment): walk while contiguous
    for (std::uint32_t id = from; id != kNone; id = pieces_[id].next) {
        const Piece& p = pieces_[id];
        if (p.seq > s.captured_contig_end) break;
        if (p.end() > s.captured_contig_end) s.captured_contig_end = p.end();
    }
}

inline void EngineImpl::refresh_gap(Session& s, Nanos now) {
    const bool gap = s.q_tail != kNone && pieces_[s.q_tail].end() > s.captured_contig_end;
    if (gap && !(s.flags & sflag::gap)) {
        s.flags |= sflag::gap;
        s.gap_at = now + cfg_.capture_gap_timeout;
        ++ctr_[Counter::capture_gaps];
        if (s.flags & sflag::input_done) s.gap_at = now;
    } else if (!gap && (s.flags & sflag::gap)) {
        s.flags &= ~(sflag::gap | sflag::gap_expired);
        s.gap_at = 0;
        ++ctr_[Counter::capture_gaps_filled];
    }
}

}  // namespace dpcopy::session::detail
