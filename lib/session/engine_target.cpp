// EngineImpl, target frames: the handshake, acknowledgements, data, resets; frames of no session.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

inline bool EngineImpl::take_unknown_rst_token(Nanos now) noexcept {
    const Nanos step = kSec / kUnknownRstPerSec;
    if (now > rst_refill_at_) {
        const Nanos earned = (now - rst_refill_at_) / step;
        rst_tokens_ = static_cast<std::uint32_t>(std::min<Nanos>(kUnknownRstBurst, rst_tokens_ + earned));
        rst_refill_at_ += earned * step;
        if (rst_tokens_ == kUnknownRstBurst) rst_refill_at_ = now;
    }
    if (rst_tokens_ == 0) return false;
    --rst_tokens_;
    return true;
}

inline void EngineImpl::reset_unknown(ConstBytes frame, const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
    // RFC 793 reset generation for a segment of no live session (e.g. the target still
    // holds a connection we already ended): it frees the target's state.
    if (!take_unknown_rst_token(now)) {
        ++ctr_[Counter::target_unknown_rst_limited];
        return;
    }
    net::TcpSpec t;
    t.src_port = v.key.dst_port;
    t.dst_port = v.key.src_port;
    if (th.has(tf::ack)) {
        t.seq = th.ack;
        t.flags = tf::rst;
    } else {
        t.seq = Seq(0);
        t.ack = th.seq + v.payload_len + (th.has(tf::syn) ? 1u : 0u) + (th.has(tf::fin) ? 1u : 0u);
        t.flags = tf::rst | tf::ack;
    }
    t.window = 0;
    if (emit_reply(frame, v, t)) ++ctr_[Counter::target_unknown_rst_sent];
}

inline void EngineImpl::target_segment(std::uint32_t id, ConstBytes frame, const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
    Session& s = sessions_[id];
    if (awaiting_syn_ack(s)) {
        std::optional<net::TcpOptions> opts;
        if (th.has(tf::syn)) opts = net::TcpOptions::read(v.tcp_options(frame));
        syn_sent_segment(s, th, opts, now);
    } else if (sending(s) || our_fin_sent(s)) {
        // only the timestamp matters once connected (no full option parse per ACK)
        std::optional<net::TcpTimestamp> ts;
        if (s.flags & sflag::timestamps) ts = net::TcpOptions::read_timestamp(v.tcp_options(frame));
        // a connection's first answers (a MySQL greeting, the answer to its login) are
        // looked at before they move the session on
        if (v.payload_len > 0 && th.seq == s.target.rcv_nxt && s.target.received_bytes < kLoginWindow) {
            logins_.on_target_data(id, v.payload(frame), ctr_);
        }
        connected_segment(s, th, ts, v.payload(frame), now);
    } else {
        ++ctr_[Counter::drop_target_unknown];
        return;
    }
    if (s.state != State::free) schedule_deadline(id);
}

inline void EngineImpl::syn_sent_segment(Session& s, const net::TcpHdr& th, const std::optional<net::TcpOptions>& opts, Nanos now) {
    if (th.has(tf::rst)) {
        if (th.has(tf::ack) && th.ack == s.target.isn + 1) do_closed(s, Counter::end_target_refused, now);
        return;
    }
    if (!th.has(tf::ack)) return;
    if (!th.has(tf::syn) || th.ack != s.target.isn + 1) {
        reset_stale_connection(s, th, now);
        return;
    }
    do_established(s, th, opts, now);
}

// A stale connection on this tuple answered our SYN (challenge ACK): typically the target's
// TIME_WAIT of the same tuple from an earlier replay of the same capture (the same client
// ISN, lower than where that connection ended). Reset it; the first time, send the SYN again
// at once behind the RST (the target takes them in order: the RST ends its TIME_WAIT, the SYN
// opens the new connection) instead of waiting a whole RTO, which on a re-run of a capture of
// short connections would stall every session for a second. A second challenge (a target
// that keeps its TIME_WAIT against RSTs: net.ipv4.tcp_rfc1337) waits for the RTO as usual.
inline void EngineImpl::reset_stale_connection(Session& s, const net::TcpHdr& th, Nanos now) {
    ++ctr_[Counter::target_challenge_rst];
    net::TcpSpec t;
    t.src_port = s.identity.translated.src_port;
    t.dst_port = s.identity.translated.dst_port;
    t.seq = th.ack;
    t.flags = tf::rst;
    t.window = 0;
    emit_to_target(s, t, 0);
    if (s.target.syn_retries == 0 && s.target.syn_retries < cfg_.syn_retries) {
        ++s.target.syn_retries;
        ++ctr_[Counter::syn_retransmits];
        ++ctr_[Counter::syn_resent_after_challenge];
        send_syn(s, now);
    }
}

// The target's SYN-ACK: syn_sent -> established, with the target's options, then whatever
// the session can send (at least the handshake's ACK).
inline void EngineImpl::do_established(Session& s, const net::TcpHdr& th, const std::optional<net::TcpOptions>& opts, Nanos now) {
    ++ctr_[Counter::handshakes];
    logins_.reset(id_of(s));
    s.target.rcv_nxt = th.seq + 1;
    s.target.received_bytes = 0;
    s.exchange.target_bytes_at_release = 0;
    s.exchange.answer_owed = 0;
    s.target.snd_una = s.target.isn + 1;
    s.target.window_scale = 0;
    std::uint16_t mss = 536;
    if (opts) {
        if (opts->mss) mss = *opts->mss;
        if ((s.flags & sflag::syn_window_scale) && opts->wscale) s.target.window_scale = std::min<std::uint8_t>(*opts->wscale, 14);
        if ((s.flags & sflag::syn_timestamps) && opts->ts) {
            s.flags |= sflag::timestamps;
            s.target.ts_recent = opts->ts->val;
        }
    }
    s.target.window = th.window;  // never scaled in a SYN
    std::uint16_t m = std::min<std::uint16_t>(mss, max_payload(s));
    if (s.flags & sflag::timestamps) m = static_cast<std::uint16_t>(m > 64 ? m - 12 : m);
    s.target.mss = std::max<std::uint16_t>(m, 64);
    if ((s.flags & sflag::rtt_timing) && s.target.syn_retries == 0) {
        Rto::sample(s.target.srtt_us, s.target.rttvar_us, s.target.rto_us, static_cast<std::uint32_t>((now - s.deadlines.rtt_start) / 1000));
    }
    s.flags &= static_cast<std::uint16_t>(~sflag::rtt_timing);
    s.target.backoff = 0;
    s.deadlines.rto_at = 0;
    s.state = State::established;
    s.deadlines.quiet_from = observed_clock_;
    s.deadlines.last_activity = now;
    drop_acked(s);
    if (!advance_session(s, now) && s.state == State::established) send_ack(s, now);
}

inline void EngineImpl::connected_segment(Session& s, const net::TcpHdr& th, std::optional<net::TcpTimestamp> ts, ConstBytes payload,
                                   Nanos now) {
    const auto len = static_cast<std::uint16_t>(payload.size());
    if (th.has(tf::rst)) {
        const std::int32_t off = th.seq - s.target.rcv_nxt;
        if (off < 0 || off > (1 << 24)) return;  // not in window: ignore
        do_reset(s, now);
        return;
    }
    if (th.has(tf::syn)) {  // SYN-ACK again: our ACK was lost
        send_ack(s, now);
        return;
    }
    bool need_ack = th.has(tf::ack) && take_target_ack(s, th, len, now);
    if (ts && (s.flags & sflag::timestamps) && static_cast<std::int32_t>(ts->val - s.target.ts_recent) >= 0) s.target.ts_recent = ts->val;
    if (len > 0) {
        need_ack = true;
        take_target_data(s, th.seq, payload, now);
    }
    if (th.has(tf::fin)) {
        need_ack = true;
        if (th.seq + len == s.target.rcv_nxt && !target_fin_received(s)) do_fin_received(s, now);
    }
    if (our_fin_sent(s)) {
        close_when_both_fins_acked(s, need_ack, now);
        return;
    }
    const bool sent = advance_session(s, now);
    if (need_ack && !sent && sending(s)) send_ack(s, now);
}

// The target's FIN, in order: established -> close_wait, fin_wait -> closing.
inline void EngineImpl::do_fin_received(Session& s, Nanos now) {
    s.target.rcv_nxt += 1;
    s.state = s.state == State::fin_wait ? State::closing : State::close_wait;
    s.deadlines.last_activity = now;
}

// The target's acknowledgement and window in a connected segment (RFC 9293 SEG.ACK checks):
// progress frees the acknowledged pieces, a third duplicate ACK retransmits. True when the
// ACK needs an answer (it acknowledges data we never sent).
inline bool EngineImpl::take_target_ack(Session& s, const net::TcpHdr& th, std::uint16_t len, Nanos now) {
    bool need_ack = false;
    const std::uint32_t wnd = std::uint32_t{th.window} << s.target.window_scale;
    if (th.ack > s.target.snd_max) {
        ++ctr_[Counter::drop_target_bad_ack];
        need_ack = true;
    } else if (th.ack > s.target.snd_una) {
        s.target.snd_una = th.ack;
        if (s.target.snd_nxt < s.target.snd_una) s.target.snd_nxt = s.target.snd_una;
        if ((s.flags & sflag::rtt_timing) && s.target.snd_una >= s.target.rtt_seq) {
            Rto::sample(s.target.srtt_us, s.target.rttvar_us, s.target.rto_us, static_cast<std::uint32_t>((now - s.deadlines.rtt_start) / 1000));
            s.flags &= ~sflag::rtt_timing;
        }
        s.target.backoff = 0;
        s.target.dupacks = 0;
        s.deadlines.quiet_from = observed_clock_;
        s.deadlines.last_activity = now;
        s.flags &= ~sflag::window_blocked;
        s.deadlines.rto_at = s.target.snd_una == s.target.snd_max ? 0 : now + rto_ns(s);
        drop_acked(s);
    } else if (th.ack == s.target.snd_una && len == 0 && !th.has(tf::fin) && s.target.snd_max > s.target.snd_una && wnd == s.target.window) {
        if (++s.target.dupacks == 3) fast_retransmit(s, now);
    }
    // window update only from a segment that is not older than what we know (RFC 9293
    // SND.WL2): a reordered old ACK must not reopen a window the target has since closed
    if (!(th.ack < s.target.snd_una)) {
        if (wnd > s.target.window) s.flags &= ~sflag::window_blocked;
        s.target.window = wnd;
    }
    return need_ack;
}

// The target's data in a connected segment: in order it is counted as the target's answer,
// else counted as a duplicate or out of order (and dropped).
inline void EngineImpl::take_target_data(Session& s, Seq seq, ConstBytes payload, Nanos now) {
    const Seq end = seq + static_cast<std::uint32_t>(payload.size());
    if (seq <= s.target.rcv_nxt && end > s.target.rcv_nxt) {
        const std::uint32_t add = seq_dist(end, s.target.rcv_nxt);
        if (observer_) observer_->on_target_data(id_of(s), s.target.received_bytes, payload.last(add), now);
        s.target.rcv_nxt = end;
        s.target.received_bytes += add;
        s.exchange.target_last_data = now;
        s.deadlines.quiet_from = observed_clock_;
        s.deadlines.last_activity = now;
    } else if (end <= s.target.rcv_nxt) {
        ++ctr_[Counter::target_duplicate_data];
    } else {
        ++ctr_[Counter::target_out_of_order];
    }
}

// fin_wait, closing: our FIN is out; acknowledged and the target's FIN received (closing),
// the connection is closed (its TIME_WAIT remembered) and the session ends.
inline void EngineImpl::close_when_both_fins_acked(Session& s, bool need_ack, Nanos now) {
    if (need_ack) send_ack(s, now);
    if (s.state == State::closing && s.target.snd_una == s.target.snd_max) {
        remember_time_wait(s, now);
        do_closed(s, (s.flags & sflag::client_fin) ? Counter::end_closed : Counter::end_finished_input, now);
    }
}

inline void EngineImpl::fast_retransmit(Session& s, Nanos now) {
    ++ctr_[Counter::retransmits_fast];
    const Seq save_nxt = s.target.snd_nxt;
    s.target.snd_nxt = s.target.snd_una;
    s.queue.send = kNone;
    s.flags &= ~sflag::rtt_timing;
    send_queued_data(s, now, 1);
    s.target.snd_nxt = seq_max(save_nxt, s.target.snd_nxt);
    s.queue.send = kNone;
}

// The target's RST, in window: the session ends, or detaches to reconnect at the next request.
inline void EngineImpl::do_reset(Session& s, Nanos now) {
    if (our_fin_sent(s)) {
        do_closed(s, s.target.snd_una == s.target.snd_max ? ((s.flags & sflag::client_fin) ? Counter::end_closed : Counter::end_finished_input)
                                      : Counter::end_target_rst,
            now);
        return;
    }
    const bool left = has_unsent_payload(s) || s.target.snd_una != s.target.snd_max;
    if (!left && (s.flags & (sflag::client_fin | sflag::client_rst | sflag::input_done))) {
        do_closed(s, Counter::end_target_rst, now);
        return;
    }
    do_detached(s, Counter::reconnect_target_rst, false, now);
    resync(s, now);
}

}  // namespace dpcopy::session::detail
