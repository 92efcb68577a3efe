// EngineImpl, the capture queue: captured client data queued (CaptureQueue,
// capture_queue.hpp) until the target acknowledges it; the capture gap it may leave.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

// Queues a captured client segment: duplicates and retransmissions of what is already
// queued or acknowledged are cut away, holes are kept in order (capture reordering).
// `start`: Piece flags of the segment's first byte (kBoundary, kUnseenAnswer).
inline void EngineImpl::enqueue(Session& s, Seq seq, ConstBytes payload, Seq ack, bool has_ack, bool fin, Nanos now, std::uint8_t start) {
    if ((s.flags & sflag::client_fin) && !queue_.before_fin(s.queue, seq, payload.size())) {
        ++ctr_[payload.empty() && fin ? Counter::drop_captured_duplicate : Counter::drop_captured_after_close];
        return;
    }
    const Seq low = s.state == State::detached ? s.target.snd_nxt : s.target.snd_una;
    const CaptureQueue::Segment seg{seq, payload, ack, has_ack, fin, start, now, s.capture.online_last_data, capture_clock_};
    const CaptureQueue::Added r = queue_.add(s.queue, seg, low, s.capture.contiguous_end);
    if (r.duplicate) {
        ++ctr_[Counter::drop_captured_duplicate];
        return;
    }
    if (r.full == CaptureQueue::Full::session) ++ctr_[Counter::drop_queue_full_session];
    if (r.full == CaptureQueue::Full::worker) ++ctr_[Counter::drop_queue_full_worker];
    if (r.trimmed) ++ctr_[r.first == kNone && !r.fin_placed ? Counter::drop_captured_duplicate : Counter::trim_captured_overlap];
    if (r.fin_placed) s.flags |= sflag::client_fin;
    refresh_gap(s, now);
}

inline void EngineImpl::refresh_gap(Session& s, Nanos now) {
    const bool gap = queue_.has_hole(s.queue, s.capture.contiguous_end);
    if (gap && s.capture_gap == CaptureGap::none) {
        s.capture_gap = CaptureGap::open;
        s.deadlines.gap_at = now + cfg_.capture_gap_timeout;
        ++ctr_[Counter::capture_gaps];
        if (s.flags & sflag::input_done) s.deadlines.gap_at = now;
    } else if (!gap && s.capture_gap != CaptureGap::none) {
        s.capture_gap = CaptureGap::none;
        s.deadlines.gap_at = 0;
        ++ctr_[Counter::capture_gaps_filled];
    }
}

}  // namespace dpcopy::session::detail
