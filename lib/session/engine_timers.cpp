// EngineImpl, timers: idle timeout, capture gaps, retransmission, waits.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

inline void EngineImpl::on_timer(std::uint32_t id, Nanos now) {
    Session& s = sessions_[id];
    if (s.state == State::free) return;
    if (now >= s.deadlines.last_activity + cfg_.session_timeout) {
        if (connected(s)) send_rst(s, now);
        do_closed(s, Counter::end_idle_timeout, now);
        return;
    }
    if (s.deadlines.gap_at && now >= s.deadlines.gap_at) {
        s.deadlines.gap_at = 0;
        expire_gap(s);
        advance_session(s, now);
        if (s.state == State::free) return;
    }
    if (s.deadlines.rto_at && now >= s.deadlines.rto_at) {
        on_rto(s, now);
        if (s.state == State::free) return;
    }
    if (s.deadlines.wait_at && now >= s.deadlines.wait_at) {
        s.deadlines.wait_at = 0;
        if (our_fin_sent(s)) {
            send_rst(s, now);
            do_closed(s, Counter::end_close_linger, now);
            return;
        }
        advance_session(s, now);
        if (s.state == State::free) return;
    }
    schedule_deadline(id);
}

inline void EngineImpl::on_rto(Session& s, Nanos now) {
    s.deadlines.rto_at = 0;
    switch (s.state) {
        case State::syn_sent:
        case State::mid_stream_syn_sent:
            if (s.target.syn_retries >= cfg_.syn_retries) {
                send_rst(s, now);
                do_closed(s, Counter::end_syn_timeout, now);
                return;
            }
            ++s.target.syn_retries;
            ++ctr_[Counter::syn_retransmits];
            send_syn(s, now);
            return;
        case State::established:
        case State::close_wait:
            if (s.target.snd_una == s.target.snd_max) {  // persist: zero window with data waiting
                if (has_unsent_payload(s) && std::int64_t{s.target.window} <= static_cast<std::int64_t>(s.target.snd_nxt - s.target.snd_una)) {
                    ++ctr_[Counter::window_probes];
                    ++ctr_[Counter::acks_sent];
                    emit_session_segment(s, tf::ack, s.target.snd_una - 1, now);
                    if (s.target.backoff < 16) ++s.target.backoff;
                    s.deadlines.rto_at = now + rto_ns(s);
                }
                return;
            }
            if (s.target.backoff >= cfg_.max_retransmits) {
                send_rst(s, now);
                do_closed(s, Counter::end_retrans_timeout, now);
                return;
            }
            ++s.target.backoff;
            ++ctr_[Counter::retransmits_rto];
            s.flags &= ~sflag::rtt_timing;
            s.target.dupacks = 0;
            s.target.snd_nxt = s.target.snd_una;
            s.queue.send = kNone;
            send_queued_data(s, now, 1);
            s.deadlines.rto_at = now + rto_ns(s);
            return;
        case State::fin_wait:
        case State::closing:
            if (s.target.snd_una == s.target.snd_max) return;
            if (s.target.backoff >= cfg_.max_retransmits) {
                send_rst(s, now);
                do_closed(s, Counter::end_retrans_timeout, now);
                return;
            }
            ++s.target.backoff;
            ++ctr_[Counter::retransmits_rto];
            emit_session_segment(s, tf::fin | tf::ack, s.target.snd_max - 1, now);
            s.deadlines.rto_at = now + rto_ns(s);
            return;
        default:
            return;
    }
}

}  // namespace dpcopy::session::detail
