// EngineImpl, captured frames: the client's (sessions open, data queued) and the server's.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

// An IPv6 captured frame (ipv6_keys.hpp: its key holds the folds of its addresses): the -x
// entries matching IPv6, by port and, when they name one, the online server's full address.
void EngineImpl::captured_ipv6(ConstBytes frame, const Parsed& p, Nanos now) {
    const net::PacketView& v = p.v;
    const Addr6Pair a{v.src6(frame), v.dst6(frame)};
    for (const TransferMap& t : transfers6_) {
        if (v.key.dst_port == t.online_port && (!t.online_ip6 || *t.online_ip6 == a.dst)) {
            ++ctr_[Counter::captured_client_frames];
            client_frame(frame, v, hash_of(p, true), t, &a, now);
            return;
        }
    }
    for (const TransferMap& t : transfers6_) {
        if (v.key.src_port == t.online_port && (!t.online_ip6 || *t.online_ip6 == a.src)) {
            ++ctr_[Counter::captured_server_frames];
            const Addr6Pair client_to_server{a.dst, a.src};
            server_frame(frame, v, hash_of(p, false), &client_to_server, now);
            return;
        }
    }
    ++ctr_[Counter::drop_captured_no_transfer];
}

// a6: the frame's IPv6 addresses (nullptr for IPv4).
inline void EngineImpl::client_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, const TransferMap& xfer,
                                     const Addr6Pair* a6, Nanos now) {
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    const net::FlowKey& orig = v.key;
    std::uint32_t head = by_orig_.find(h, [&](std::uint32_t i) { return original_is(i, orig, a6); });
    const bool syn = th.has(tf::syn) && !th.has(tf::ack);
    if (head != kNone && syn) {
        const Session& hs = sessions_[head];
        if ((hs.flags & sflag::client_syn) && hs.target.isn == th.seq) {
            ++ctr_[Counter::drop_captured_duplicate_syn];
            return;
        }
        supersede_chain(head, now);  // the client reused the port: a new connection
        head = kNone;
    }
    if (head == kNone) {
        if (!syn && shed_.contains(h, now, cfg_.session_timeout)) {  // a session shed whole
            shed_frame(h, v.payload_len > 0, th);
            return;
        }
        if (th.has(tf::syn) && th.has(tf::ack)) {
            ++ctr_[Counter::drop_captured_no_session];
            return;
        }
        const bool data = v.payload_len > 0;
        if (!syn && !data) {
            ++ctr_[Counter::drop_captured_no_session];
            return;
        }
        if (!syn && recently_closed(orig, a6 != nullptr, th.seq, now)) {
            ++ctr_[Counter::drop_captured_after_close];
            return;
        }
        if (!syn && cfg_.full_sessions_only) {
            ++ctr_[Counter::drop_captured_mid_stream];
            return;
        }
        if (!(a6 ? sampled6(*a6, orig, cfg_.percent, cfg_.sample_seed) : sampled(orig, cfg_.percent, cfg_.sample_seed))) {
            ++ctr_[Counter::drop_captured_not_sampled];
            return;
        }
        if (!admit(h, data, th, now)) return;
        head = create_chain(orig, xfer, a6, now);
        if (head == kNone) return;
        if (syn) {
            std::optional<net::TcpOptions> opts = net::TcpOptions::read(v.tcp_options(frame));
            for (std::uint32_t id = head; id != kNone; id = sessions_[id].identity.next_replica) {
                open_from_syn(sessions_[id], th, opts ? *opts : net::TcpOptions{}, now);
                schedule_deadline(id);
            }
            return;
        }
        for (std::uint32_t id = head; id != kNone; id = sessions_[id].identity.next_replica) {
            open_mid_stream(sessions_[id], th.seq, now);
        }
    }
    const ConstBytes payload = v.payload(frame);
    // the frame's payload is stored once, in blocks shared by every replica's pieces
    // (with one replica and a flat sink nothing is shared: private blocks, no meta)
    if (share_blocks_) queue_.share_frame(payload);
    for (std::uint32_t id = head; id != kNone;) {
        const std::uint32_t nx = sessions_[id].identity.next_replica;
        client_segment(id, th, payload, now);
        id = nx;
    }
    queue_.end_frame();
}

// Live admission control (overload.hpp): a new session is admitted with all its replicas, or
// shed whole and remembered, so that none of its frames opens it later.
inline bool EngineImpl::admit(std::uint64_t h, bool data, const net::TcpHdr& th, Nanos now) {
    if (!shed_.enabled()) return true;
    Occupancy o;
    o.pieces_used = pieces_.in_use();
    o.pieces_cap = pieces_.capacity();
    o.blocks_used = blocks_.in_use();
    o.blocks_cap = blocks_.capacity();
    o.sessions_cap = cfg_.max_sessions;
    o.sessions_used = cfg_.max_sessions - free_ids_.size();
    if (admit_session(o, cfg_.multiply, cfg_.admission_high_water_pct)) {
        shed_.erase(h);  // (a new SYN on a flow shed before)
        return true;
    }
    shed_.add(h, now);
    ctr_[Counter::shed_sessions] += cfg_.multiply;
    shed_frame(h, data, th);
    return false;
}

inline void EngineImpl::open_from_syn(Session& s, const net::TcpHdr& th, const net::TcpOptions& o, Nanos now) {
    s.flags |= sflag::client_syn;
    s.target.isn = th.seq;
    s.capture.contiguous_end = th.seq + 1;
    s.target.syn_mss = o.mss ? syn_mss_toward_target(s, *o.mss) : 0;
    if (o.wscale) {
        s.flags |= sflag::syn_window_scale;
        s.target.syn_window_scale = std::min<std::uint8_t>(*o.wscale, 14);
    }
    if (o.ts) {
        s.flags |= sflag::syn_timestamps;
        s.target.ts_offset = o.ts->val - static_cast<std::uint32_t>(now / kMs);
    }
    // SACK-permitted is not sent: we do not process SACK blocks.
    s.target.snd_una = s.target.isn;
    s.target.snd_nxt = s.target.snd_max = s.target.isn + 1;
    do_syn_sent(s, now);
}

inline void EngineImpl::open_mid_stream(Session& s, Seq first_seq, Nanos now) {
    ++ctr_[Counter::sessions_mid_stream];
    s.target.isn = first_seq - 1;
    s.capture.contiguous_end = first_seq;
    s.target.syn_mss = fabricated_mss(s);
    s.target.snd_una = s.target.isn;
    s.target.snd_nxt = s.target.snd_max = s.target.isn + 1;
    do_mid_stream_syn_sent(s, now);
}

inline void EngineImpl::rebase_mid_stream(Session& s, Seq first_seq, Nanos now) {
    send_rst(s, now);  // clears the target's half-open connection, if our SYN reached it
    release_tuple(s, now);
    if (!rebind(s, now)) return;
    ++ctr_[Counter::mid_stream_rebased];
    s.target.isn = first_seq - 1;
    s.capture.contiguous_end = first_seq;
    s.target.snd_una = s.target.isn;
    s.target.snd_nxt = s.target.snd_max = s.target.isn + 1;
    s.target.syn_retries = 0;
    s.queue.send = kNone;
    send_syn(s, now);
    if (s.queue.head != kNone) queue_.extend_contiguous(s.queue.head, s.capture.contiguous_end);
}

// a6: the client->server IPv6 addresses (the frame's reversed; nullptr for IPv4).
inline void EngineImpl::server_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, const Addr6Pair* a6, Nanos now) {
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    const net::FlowKey orig = v.key.reversed();
    const std::uint32_t head = by_orig_.find(h, [&](std::uint32_t i) { return original_is(i, orig, a6); });
    if (head == kNone) {
        if (shed_.contains(h, now, cfg_.session_timeout)) {
            ++ctr_[Counter::shed_frames];
        } else if (!(a6 ? sampled6(*a6, orig, cfg_.percent, cfg_.sample_seed) : sampled(orig, cfg_.percent, cfg_.sample_seed))) {
            ++ctr_[Counter::drop_captured_not_sampled];
        } else {
            ++ctr_[Counter::drop_captured_no_session];
        }
        return;
    }
    for (std::uint32_t id = head; id != kNone; id = sessions_[id].identity.next_replica) {
        Session& s = sessions_[id];
        if (th.has(tf::syn)) {
            if (th.has(tf::ack) && !(s.flags & sflag::online_base_known)) {
                s.capture.online_base = s.capture.online_end = th.seq + 1;
                s.flags |= sflag::online_base_known;
                s.capture.synack_time = now;
            }
            continue;
        }
        if (!(s.flags & sflag::online_base_known)) {
            ++ctr_[Counter::drop_server_frame_early];
            continue;
        }
        const Seq dend = th.seq + v.payload_len;
        if (observer_ && v.payload_len > 0 && dend > s.capture.online_base) {
            // the bytes at or after the online stream's start (an older retransmission is cut)
            const std::uint32_t keep = std::min<std::uint32_t>(seq_dist(dend, s.capture.online_base), v.payload_len);
            observer_->on_online_data(id, seq_dist(dend - keep, s.capture.online_base), v.payload(frame).last(keep), capture_clock_);
        }
        if (v.payload_len > 0 && dend > s.capture.online_end) {
            s.capture.online_end = dend;
            s.capture.online_last_data = capture_clock_;
        }
        if (v.payload_len > 0 && th.has(tf::ack) &&
            (!(s.flags & sflag::online_data_seen) || th.ack != s.capture.online_data_ack)) {
            s.capture.online_data_ack = th.ack;
            s.capture.online_data_seq = th.seq;
            s.flags |= sflag::online_data_seen;
        }
        if (th.has(tf::fin)) s.flags |= sflag::online_fin;
    }
}

inline void EngineImpl::client_segment(std::uint32_t id, const net::TcpHdr& th, ConstBytes payload, Nanos now) {
    Session& s = sessions_[id];
    s.deadlines.last_activity = now;
    if (th.has(tf::ack) && !(s.flags & sflag::online_base_known)) {
        s.capture.online_base = s.capture.online_end = th.ack;
        s.flags |= sflag::online_base_known;
    }
    if (th.has(tf::ack) && s.capture.synack_time != 0) {  // (synack_time is set once: with online_base)
        s.capture.rtt_us = static_cast<std::uint32_t>(std::min<Nanos>((now - s.capture.synack_time) / 1000, 0xffffffffULL));
        s.capture.synack_time = 0;
    }
    if (th.has(tf::rst)) {
        s.flags |= sflag::client_rst;
        advance_and_schedule(id, now);
        return;
    }
    if (th.has(tf::syn)) return;
    if (payload.empty() && !th.has(tf::fin)) return;  // pure ACK: we make our own
    if (s.state == State::mid_stream_syn_sent && !payload.empty() && th.seq < s.target.isn + 1 &&
        (s.target.isn + 1) - th.seq < (1 << 24)) {
        // a mid-stream session whose handshake is still pending got an earlier segment
        // (reordered in the capture, e.g. the head of a GRO run): nothing was sent yet,
        // so start the connection there instead, on a fresh tuple
        rebase_mid_stream(s, th.seq, now);
        if (s.state == State::free) return;
    }
    // A segment starting exactly where the online server's latest response data said it
    // had received everything, and acknowledging that response, starts a request: even
    // after a capture hole right before it, it is a safe restart point.
    const bool proven = !payload.empty() && th.has(tf::ack) && (s.flags & sflag::online_data_seen) &&
                        th.seq == s.capture.online_data_ack && th.ack > s.capture.online_data_seq;
    // A segment acknowledging online server data the capture never showed: the server
    // answered something we missed (a request lost with its answer). Right after a hole it
    // is taken as the next request's start (a guess, counted: resync_restart_unseen_answer).
    const bool unseen_answer = !payload.empty() && th.has(tf::ack) && (s.flags & sflag::online_base_known) &&
                               th.ack > s.capture.online_end;
    if (observer_ && !payload.empty() && th.has(tf::ack) && (s.flags & sflag::online_base_known)) {
        observer_->on_client_data(id, seq_dist(th.ack, s.capture.online_base));
    }
    const std::uint8_t start = static_cast<std::uint8_t>((proven ? Piece::kBoundary : 0) |
                                                         (unseen_answer ? Piece::kUnseenAnswer : 0));
    enqueue(s, th.seq, payload, th.ack, th.has(tf::ack), th.has(tf::fin), now, start);
    advance_and_schedule(id, now);
}

}  // namespace dpcopy::session::detail
