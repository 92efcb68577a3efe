// EngineImpl, sending: frames to the target, request pacing, exchange records, closing, resync.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

// Every TCP frame the engine sends is built, counted and handed to the sink here: headers
// built over the payload slices (none for a control segment; no payload copy in the
// engine); a segmented sink gets the headers and the slices of a data segment, any other
// sink (and every control segment) the frame assembled in tx_frame_. False when the frame
// could not be built (nothing sent, nothing counted).
template <class IpSpec>
inline bool EngineImpl::emit_frame(const IpSpec& ip, const net::TcpSpec& t, std::span<const PayloadSlice> slices) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < slices.size(); ++i) {
        slice_bytes_[i] = slices[i].bytes;
        bytes += slices[i].bytes.size();
    }
    const std::size_t h = net::build_tcp_headers(net::Bytes(tx_frame_.data(), tx_frame_.size()), l2_, ip, t,
                                                 std::span<const ConstBytes>(slice_bytes_.data(), slices.size()));
    if (h == 0 || h + bytes > tx_frame_.size()) return false;
    ++ctr_[Counter::emitted_frames];
    ctr_[Counter::emitted_bytes] += h + bytes;
    if (segmented_ && !slices.empty()) {
        sink_.emit_segment(ConstBytes(tx_frame_.data(), h), slices);
        return true;
    }
    std::size_t at = h;
    for (const PayloadSlice& sl : slices) {
        std::memcpy(tx_frame_.data() + at, sl.bytes.data(), sl.bytes.size());
        at += sl.bytes.size();
    }
    sink_.emit(ConstBytes(tx_frame_.data(), at));
    return true;
}

inline bool EngineImpl::emit_to_target(Session& s, const net::TcpSpec& t, std::uint16_t ip_id, std::span<const PayloadSlice> slices) {
    if (s.identity.family & family::translated6) {
        const SessionAddrs6& a = addrs6_[id_of(s)];
        net::Ipv6Spec ip;
        ip.src = a.translated_src;
        ip.dst = a.translated_dst;
        return emit_frame(ip, t, slices);
    }
    net::Ipv4Spec ip;
    ip.src = s.identity.translated.src_ip;
    ip.dst = s.identity.translated.dst_ip;
    ip.id = ip_id;
    return emit_frame(ip, t, slices);
}

inline bool EngineImpl::emit_reply(ConstBytes frame, const net::PacketView& v, const net::TcpSpec& t) {
    if (v.l3 == net::L3Kind::ipv6) {
        net::Ipv6Spec ip;
        ip.src = v.dst6(frame);
        ip.dst = v.src6(frame);
        return emit_frame(ip, t);
    }
    net::Ipv4Spec ip;
    ip.src = v.key.dst_ip;
    ip.dst = v.key.src_ip;
    return emit_frame(ip, t);
}

inline net::TcpSpec EngineImpl::tcp_spec(Session& s, std::uint8_t flags, Seq seq, Nanos now, bool syn) {
    net::TcpSpec t;
    t.src_port = s.identity.translated.src_port;
    t.dst_port = s.identity.translated.dst_port;
    t.seq = seq;
    t.ack = (flags & tf::ack) ? s.target.rcv_nxt : Seq(0);
    t.flags = flags;
    t.window = 65535;
    if (syn) {
        if (s.target.syn_mss) t.options.mss = s.target.syn_mss;
        if (s.flags & sflag::syn_window_scale) t.options.wscale = s.target.syn_window_scale;
        if (s.flags & sflag::syn_timestamps) t.options.ts = net::TcpTimestamp{tsval(s, now), 0};
    } else if ((s.flags & sflag::timestamps) && !(flags & tf::rst)) {
        t.options.ts = net::TcpTimestamp{tsval(s, now), s.target.ts_recent};
    }
    return t;
}

// A segment of the session's connection to the target: our options, the session's IP id;
// `slices` of queued payload (none for a control segment).
inline void EngineImpl::emit_session_segment(Session& s, std::uint8_t flags, Seq seq, Nanos now,
                                      std::span<const PayloadSlice> slices, bool syn) {
    const net::TcpSpec t = tcp_spec(s, flags, seq, now, syn);
    emit_to_target(s, t, s.target.ip_id++, slices);
}

inline void EngineImpl::send_ack(Session& s, Nanos now) {
    ++ctr_[Counter::acks_sent];
    emit_session_segment(s, tf::ack, s.target.snd_nxt, now);
}

inline void EngineImpl::send_rst(Session& s, Nanos now) {
    ++ctr_[Counter::rst_sent];
    emit_session_segment(s, tf::rst | tf::ack, s.target.snd_max, now);
}

inline void EngineImpl::send_syn(Session& s, Nanos now) {
    ++ctr_[Counter::syn_sent];
    emit_session_segment(s, tf::syn, s.target.isn, now, {}, true);
    if (s.target.syn_retries == 0) {
        s.deadlines.rtt_start = now;
        s.flags |= sflag::rtt_timing;
    } else {
        s.flags &= ~sflag::rtt_timing;
    }
    s.deadlines.rto_at = now + Rto::timeout_ns(s.target.rto_us, s.target.syn_retries);
}

inline void EngineImpl::emit_record(Session& s, std::uint32_t online_bytes, Nanos online_time) {
    ++ctr_[Counter::exchanges];
    if (!observer_) return;
    ExchangeRecord r;
    r.original = s.identity.original;
    r.replica = s.identity.replica;
    r.request_bytes = s.exchange.request_bytes;
    r.online_response_bytes = online_bytes;
    r.online_response_time = online_time;
    r.target_response_bytes = target_answer(s);
    r.target_response_time = s.exchange.target_last_data > s.exchange.sent_time ? s.exchange.target_last_data - s.exchange.sent_time : 0;
    r.slot = id_of(s);
    r.online_begin = s.exchange.online_received;
    r.target_begin = s.exchange.target_bytes_at_release;
    r.target_received = target_bytes_since_release(s);
    observer_->on_exchange(r);
}

inline void EngineImpl::start_exchange(Session& s, const Piece& p, std::uint32_t need, Nanos now) {
    if (s.flags & sflag::exchange_open) {
        emit_record(s, need > s.exchange.online_received ? need - s.exchange.online_received : 0, p.srv_time > s.exchange.request_time ? p.srv_time - s.exchange.request_time : 0);
    }
    s.flags |= sflag::exchange_open;
    s.exchange.request_time = p.request_time;
    s.exchange.online_received = need;
    s.exchange.sent_time = now;
    request_delay_ = now > p.cap_time ? now - p.cap_time : 0;
    s.exchange.target_bytes_at_release = s.target.received_bytes;
    s.exchange.request_bytes = 0;
    if (observer_) {
        const std::size_t n = p.block == kNone ? 0 : std::min<std::size_t>(p.len, ExchangeObserver::kRequestHeadBytes);
        observer_->on_request(id_of(s), n ? ConstBytes(blocks_.data(p.block) + p.boff, n) : ConstBytes{}, now);
    }
}

inline void EngineImpl::finish_exchange(Session& s) {
    if (!(s.flags & sflag::exchange_open)) return;
    const std::uint32_t end = online_rel_end(s);
    emit_record(s, end > s.exchange.online_received ? end - s.exchange.online_received : 0, s.capture.online_last_data > s.exchange.request_time ? s.capture.online_last_data - s.exchange.request_time : 0);
    s.flags &= ~sflag::exchange_open;
}

inline void EngineImpl::advance_and_schedule(std::uint32_t id, Nanos now) {
    Session& s = sessions_[id];
    advance_session(s, now);
    if (s.state != State::free) schedule_deadline(id);
}

// Moves the session forward as far as it can go now. Returns true if it sent a segment.
inline bool EngineImpl::advance_session(Session& s, Nanos now) {
    switch (s.state) {
        case State::detached:
            resync(s, now);
            return false;
        case State::established:
        case State::close_wait: {
            if (s.state == State::close_wait && has_unsent_payload(s)) {
                do_detached(s, Counter::reconnect_target_fin, true, now);
                resync(s, now);
                return true;
            }
            if (s.capture_gap == CaptureGap::expired && s.target.snd_una == s.target.snd_max && s.target.snd_nxt == s.capture.contiguous_end) {
                const std::uint32_t after = first_unsent_piece(s);  // the first piece past the hole
                const std::uint32_t need = after != kNone ? need_of(s, pieces_[after]) : online_rel_end(s);
                if (answer_pending(s, need, now)) return false;
                do_detached(s, Counter::reconnect_capture_gap, true, now);
                resync(s, now);
                return true;
            }
            const bool sent = send_queued_data(s, now, 0xffffffffu) > 0;
            if (!sending(s)) return sent;
            return try_close(s, now) || sent;
        }
        default:
            return false;
    }
}

// A request starts at `p` (its first byte, not sent yet): request pacing decides whether it
// goes now. Held: counted once, the wait deadline set, false. Released: the exchange record
// starts, true.
inline bool EngineImpl::release_request(Session& s, const Piece& p, std::uint32_t need, Nanos now) {
    PaceInput in;
    in.online_answer = (need > s.target.released_need ? need - s.target.released_need : 0u);
    in.target_answer = target_answer(s);
    in.target_silent = target_bytes_since_release(s) == 0;
    in.all_acked = s.target.snd_una == s.target.snd_max;
    in.no_wait = cfg_.no_wait;
    in.now = observed_clock_;
    in.quiet_since = s.deadlines.quiet_from;
    in.quiet = quiet(s);
    in.unanswered_limit = cfg_.unanswered_limit;
    const Pace d = pace(in);
    if (d == Pace::hold) {
        if (!(s.flags & sflag::request_held)) {
            s.flags |= sflag::request_held;
            ++ctr_[Counter::requests_held];
        }
        const Nanos wait = in.target_silent ? in.unanswered_limit : in.quiet;
        if (in.all_acked) s.deadlines.wait_at = quiet_deadline(s, wait, now);
        return false;
    }
    // a held request released by the target's answer; every guess, held or not
    if (d == Pace::release_bytes && (s.flags & sflag::request_held)) ++ctr_[Counter::requests_released_bytes];
    if (d == Pace::release_quiet) ++ctr_[Counter::requests_released_quiet];
    if (d == Pace::release_unanswered) ++ctr_[Counter::requests_released_unanswered];
    s.flags &= ~sflag::request_held;
    s.deadlines.wait_at = 0;
    // a guess: the rest of the previous answer may still come (counted from the
    // bytes since the previous release, so owed bytes never pile up)
    const std::uint32_t since = target_bytes_since_release(s);
    const std::uint32_t owed =
        d == Pace::release_quiet && in.online_answer > since ? in.online_answer - since : 0u;
    start_exchange(s, p, need, now);
    s.exchange.answer_owed = owed;
    s.target.released_need = std::max(s.target.released_need, need);
    return true;
}

inline std::uint32_t EngineImpl::send_queued_data(Session& s, Nanos now, std::uint32_t max_segments) {
    std::uint32_t sent = 0;
    while (sent < max_segments) {
        const std::uint32_t id = first_unsent_piece(s);
        if (id == kNone) break;
        const Piece& p = pieces_[id];
        if (p.seq > s.target.snd_nxt) break;             // capture gap
        if (p.data_end() <= s.target.snd_nxt) break;     // only the FIN is left
        const bool first_tx = s.target.snd_nxt >= s.target.snd_max;
        if (first_tx && p.seq == s.target.snd_nxt) {
            const std::uint32_t need = need_of(s, p);
            if (!(s.flags & sflag::exchange_open) || need > s.target.released_need) {  // a request starts here
                if (!release_request(s, p, need, now)) break;
            }
        }
        if (first_tx && p.seq == s.target.snd_nxt && s.target.snd_nxt == s.target.isn + 1 && logins_.login_next(id_of(s))) {
            rewrite_login(s, id);
        }
        const std::int64_t room = std::int64_t{s.target.window} - static_cast<std::int64_t>(s.target.snd_nxt - s.target.snd_una);
        std::int64_t limit = std::min<std::int64_t>(s.target.mss, room);
        if (!first_tx) limit = std::min<std::int64_t>(limit, s.target.snd_max - s.target.snd_nxt);
        if (limit <= 0) {
            if (!(s.flags & sflag::window_blocked)) {
                s.flags |= sflag::window_blocked;
                ++ctr_[Counter::window_blocked];
            }
            if (s.target.snd_una == s.target.snd_max && s.deadlines.rto_at == 0) s.deadlines.rto_at = now + rto_ns(s);  // persist
            break;
        }
        // gather up to `limit` bytes over contiguous pieces of the same request
        std::size_t n = 0, parts = 0;
        Seq pos = s.target.snd_nxt;
        for (std::uint32_t q = id; q != kNone && static_cast<std::int64_t>(n) < limit && parts < kMaxSlices;) {
            const Piece& d = pieces_[q];
            if (d.seq > pos) break;
            if (q != id && pos >= s.target.snd_max && d.seq == pos && need_of(s, d) > s.target.released_need) break;
            const std::uint32_t off = seq_dist(pos, d.seq);
            if (off >= d.len) break;
            const std::size_t take = std::min<std::size_t>(d.len - off, static_cast<std::size_t>(limit) - n);
            PayloadSlice& sl = slices_[parts++];
            const std::uint8_t* bd = blocks_.data(d.block);
            sl.offset = static_cast<std::uint16_t>(d.boff + off);
            sl.bytes = ConstBytes(bd + sl.offset, take);
            if (segmented_) {  // the block's meta record only for a zero-copy sink
                sl.block = d.block;
                sl.gen = blocks_.gen(d.block);
                sl.block_data = bd;
                sl.block_len = blocks_.len(d.block);
            }
            n += take;
            pos += static_cast<std::uint32_t>(take);
            if (off + take < d.len || d.fin()) break;
            q = d.next;
        }
        if (n == 0) break;
        emit_session_segment(s, tf::ack | tf::psh, s.target.snd_nxt, now, std::span<const PayloadSlice>(slices_.data(), parts));
        if (first_tx) {
            ++ctr_[Counter::data_segments_sent];
            ctr_[Counter::data_bytes_sent] += n;
            s.exchange.request_bytes += static_cast<std::uint32_t>(n);
            if (!(s.flags & sflag::rtt_timing)) {
                s.flags |= sflag::rtt_timing;
                s.target.rtt_seq = pos;
                s.deadlines.rtt_start = now;
            }
        }
        s.target.snd_nxt = pos;
        if (pos > s.target.snd_max) s.target.snd_max = pos;
        if (s.deadlines.rto_at == 0) s.deadlines.rto_at = now + rto_ns(s);
        ++sent;
    }
    return sent;
}

// Before the connection goes (the client's FIN or RST, or a reset at a capture hole): the
// target's answer to the last request should be in, as far as the online server's answer
// (up to `need`) says; closing or resetting early makes the target abort it (nginx 499).
// True while it is worth waiting (wait_at set).
inline bool EngineImpl::answer_pending(Session& s, std::uint32_t need, Nanos now) {
    const std::uint32_t online = need > s.target.released_need ? need - s.target.released_need : 0u;
    if (cfg_.no_wait || target_answer(s) >= online) return false;
    const Nanos q = close_quiet(s);
    if (observed_clock_ < s.deadlines.quiet_from + q) {
        s.deadlines.wait_at = quiet_deadline(s, q, now);
        return true;
    }
    if (target_bytes_since_release(s) == 0) ++ctr_[Counter::close_unanswered];
    return false;
}

// The session's MySQL login is about to go (its first client bytes, after the target's
// greeting): the auth response is rewritten for the target's scramble in this session's
// own copy of the bytes: the pieces that change get new blocks, other replicas keep theirs.
inline void EngineImpl::rewrite_login(Session& s, std::uint32_t first) {
    std::size_t n = 0;
    for (std::uint32_t q = first; q != kNone; q = pieces_[q].next) {
        const Piece& d = pieces_[q];
        if (d.len == 0 || d.seq != s.target.snd_nxt + static_cast<std::uint32_t>(n) || n + d.len > login_copy_.size()) break;
        std::memcpy(login_copy_.data() + n, blocks_.data(d.block) + d.boff, d.len);
        n += d.len;
    }
    if (!logins_.rewrite(id_of(s), net::Bytes(login_copy_.data(), n), ctr_)) return;
    std::size_t off = 0;
    for (std::uint32_t q = first; off < n; q = pieces_[q].next) {
        Piece& d = pieces_[q];
        const ConstBytes now_bytes(login_copy_.data() + off, d.len);
        if (std::memcmp(now_bytes.data(), blocks_.data(d.block) + d.boff, d.len) != 0 && !queue_.replace_payload(d, now_bytes)) {
            ++ctr_[Counter::mysql_logins_not_rewritten];  // no block free: sent as captured
        }
        off += d.len;
    }
}

// Replays the client's FIN/RST (or closes after finish_input) once all data is acknowledged.
inline bool EngineImpl::try_close(Session& s, Nanos now) {
    if (s.target.snd_nxt != s.target.snd_max) return false;
    const std::uint32_t id = first_unsent_piece(s);
    bool fin_pending = false;
    if (id != kNone) {
        const Piece& p = pieces_[id];
        if (!(p.fin() && p.data_end() == s.target.snd_nxt)) return false;  // data (or a gap) first
        fin_pending = true;
    } else if (!(s.flags & (sflag::client_rst | sflag::input_done))) {
        return false;
    }
    if (s.target.snd_una != s.target.snd_max) return false;
    const std::uint32_t need = fin_pending ? need_of(s, pieces_[id]) : online_rel_end(s);
    if (answer_pending(s, need, now)) return false;
    s.deadlines.wait_at = 0;
    finish_exchange(s);
    if ((s.flags & sflag::client_rst) && !fin_pending) {
        send_rst(s, now);
        do_closed(s, Counter::end_client_rst, now);
        return true;
    }
    do_fin_sent(s, now);
    return true;
}

// Our FIN goes (the client's, replayed): established -> fin_wait, close_wait -> closing.
inline void EngineImpl::do_fin_sent(Session& s, Nanos now) {
    ++ctr_[Counter::fin_sent];
    emit_session_segment(s, tf::fin | tf::ack, s.target.snd_nxt, now);
    s.target.snd_nxt += 1;
    s.target.snd_max = s.target.snd_nxt;
    s.state = s.state == State::close_wait ? State::closing : State::fin_wait;
    s.deadlines.rto_at = now + rto_ns(s);
    s.deadlines.wait_at = now + cfg_.close_linger;
}

// Detached: drop captured data up to the next request boundary, then reconnect there.
inline void EngineImpl::resync(Session& s, Nanos now) {
    for (;;) {
        if (s.queue.head == kNone) {  // a captured RST ends the session once nothing is left to replay
            if (s.flags & (sflag::input_done | sflag::client_rst)) do_closed(s, Counter::end_detached, now);
            return;
        }
        const Piece& p = pieces_[s.queue.head];
        if (p.seq > s.target.snd_nxt) {  // a capture gap before the next piece
            if (s.capture_gap != CaptureGap::expired && now < p.cap_time + cfg_.capture_gap_timeout) return;
            // give up on the hole. The first piece after the connection's last data cannot
            // be proven to start a request (the hole may be its head); after that, a piece
            // whose ack advanced over the previous captured piece is a boundary.
            // the request holding the hole is lost (its head, if sent, was reset with the connection)
            ctr_[Counter::capture_hole_bytes] += seq_dist(p.seq, s.target.snd_nxt);
            ++ctr_[Counter::requests_lost_capture_hole];
            s.target.snd_nxt = p.seq;
            if (!(s.flags & sflag::hole_skipped)) s.target.released_need = std::max(s.target.released_need, need_of(s, p));
            s.flags |= sflag::hole_skipped;
            if (s.capture.contiguous_end < s.target.snd_nxt) s.capture.contiguous_end = s.target.snd_nxt;
            s.capture_gap = CaptureGap::none;
            s.deadlines.gap_at = 0;
            queue_.extend_contiguous(s.queue.head, s.capture.contiguous_end);
            refresh_gap(s, now);
            // right after a hole only a proven request start (the online server had answered
            // every byte before it) is a restart point: the hole may hold its head
            const Piece& b = pieces_[s.queue.head];
            if ((b.flags & (Piece::kBoundary | Piece::kUnseenAnswer)) && b.len > 0) {
                if (!(b.flags & Piece::kBoundary)) ++ctr_[Counter::resync_restart_unseen_answer];
                reconnect(s, b, now);
                return;
            }
        } else {
            const std::uint32_t need = need_of(s, p);
            if (p.len > 0 && p.seq == s.target.snd_nxt && need > s.target.released_need) {
                reconnect(s, p, now);
                return;
            }
        }
        const Piece& q = pieces_[s.queue.head];
        if (q.fin()) {
            do_closed(s, Counter::end_detached, now);
            return;
        }
        s.target.released_need = std::max(s.target.released_need, need_of(s, q));
        if (q.data_end() > s.target.snd_nxt) s.target.snd_nxt = q.data_end();
        ++ctr_[Counter::drop_resync_segments];
        ctr_[Counter::drop_resync_bytes] += q.len;
        queue_.free_head(s.queue);
    }
}

}  // namespace dpcopy::session::detail
