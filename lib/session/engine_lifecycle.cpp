// EngineImpl, tuples and the session life cycle: create, supersede, detach, reconnect, end.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

// An IPv6 fake client is the pool's address of the tuple, or the captured client's own.
inline void EngineImpl::bind_tuple(Session& s, const TupleAllocator::Tuple& t) {
    s.identity.tuple = t.index;
    if (s.identity.family & family::translated6) {
        SessionAddrs6& a = addrs6_[id_of(s)];
        a.translated_src = tuples6_.pool6() ? tuples6_.address6(t.index) : a.original_src;
        s.identity.translated.src_ip = fold6(a.translated_src);
    } else {
        s.identity.translated.src_ip = t.ip;
    }
    s.identity.translated.src_port = t.port;
    by_xlat_.insert(translated_hash(s), id_of(s));
}

inline void EngineImpl::release_tuple(Session& s, Nanos now) {
    if (s.identity.tuple == kNone) return;
    by_xlat_.erase(translated_hash(s), id_of(s));
    tuples_of(s).release(s.identity.tuple, now);
    s.identity.tuple = kNone;
}

inline void EngineImpl::do_closed(Session& s, Counter outcome, Nanos now) {
    const std::uint32_t id = id_of(s);
    finish_exchange(s);
    remember_closed(s, now);
    release_tuple(s, now);
    // unlink from the replica chain (and the original-key index when it is the head)
    if (s.identity.prev_replica != kNone) {
        sessions_[s.identity.prev_replica].identity.next_replica = s.identity.next_replica;
    } else if (!(s.flags & sflag::superseded)) {
        const std::uint64_t h = original_hash(s);
        if (s.identity.next_replica != kNone) {
            by_orig_.replace(h, id, s.identity.next_replica);
        } else {
            by_orig_.erase(h, id);
        }
    }
    if (s.identity.next_replica != kNone) sessions_[s.identity.next_replica].identity.prev_replica = s.identity.prev_replica;
    queue_.clear(s.queue);
    wheel_.cancel(id);
    s.state = State::free;
    free_ids_.push_back(id);
    --active_;
    ++ctr_[outcome];
}

// The connection is about to end inside a request: bytes of it are unacknowledged, or its
// first bytes went out and the rest is still queued. resync() does not replay it.
inline bool EngineImpl::request_cut(Session& s) {
    if (!connected(s)) return false;
    if (s.target.snd_una != s.target.snd_max) return true;
    const std::uint32_t id = first_unsent_piece(s);
    if (id == kNone || s.exchange.request_bytes == 0) return false;
    const Piece& p = pieces_[id];
    return p.len > 0 && p.seq <= s.target.snd_nxt && (s.flags & sflag::exchange_open) && need_of(s, p) <= s.target.released_need;
}

// Drops the connection to the target; the session waits for the next request boundary.
inline void EngineImpl::do_detached(Session& s, Counter why, bool rst, Nanos now) {
    if (rst && connected(s)) send_rst(s, now);
    ++ctr_[why];
    if (request_cut(s)) ++ctr_[Counter::requests_lost_resync];
    finish_exchange(s);
    release_tuple(s, now);
    s.state = State::detached;
    s.deadlines.rto_at = 0;
    s.deadlines.wait_at = 0;
    s.flags &= static_cast<std::uint16_t>(~(sflag::timestamps | sflag::rtt_timing | sflag::request_held | sflag::window_blocked));
    s.target.dupacks = 0;
    s.target.backoff = 0;
    // bytes the target acknowledged are done; what was in flight is the request at risk
    s.target.snd_nxt = s.target.snd_una;
    s.queue.send = kNone;
}

// A new translated tuple for a session that opens a new connection to the target; without
// one the session ends (end_no_tuple) and this returns false.
inline bool EngineImpl::rebind(Session& s, Nanos now) {
    const auto t = tuples_of(s).allocate(s.identity.original.src_ip, now);
    if (!t) {
        do_closed(s, Counter::end_no_tuple, now);
        return false;
    }
    bind_tuple(s, *t);
    return true;
}

inline void EngineImpl::reconnect(Session& s, const Piece& p, Nanos now) {
    if (!rebind(s, now)) return;
    ++ctr_[Counter::reconnects];
    s.target.isn = p.seq - 1;
    if (p.flags & Piece::kAck) {
        s.capture.online_base = p.ack;  // this request needs nothing from the new connection
        s.flags |= sflag::online_base_known;
        if (seq_dist(s.capture.online_end, s.capture.online_base) == 0) s.capture.online_end = s.capture.online_base;
    }
    s.target.released_need = 0;
    s.target.received_bytes = 0;
    s.exchange.target_bytes_at_release = 0;
    s.exchange.answer_owed = 0;
    s.flags &= static_cast<std::uint16_t>(~(sflag::syn_window_scale | sflag::syn_timestamps | sflag::exchange_open | sflag::hole_skipped));
    s.target.syn_mss = fabricated_mss(s);
    s.target.snd_una = s.target.isn;
    s.target.snd_nxt = s.target.snd_max = s.target.isn + 1;
    s.target.rcv_nxt = Seq(0);
    s.target.syn_retries = 0;
    s.target.backoff = 0;
    s.target.dupacks = 0;
    s.deadlines.quiet_from = observed_clock_;
    if (observer_) observer_->on_session_start(id_of(s), s.identity.replica);  // both streams begin again
    do_syn_sent(s, now);
}

// Our SYN goes: the client's captured one, or a reconnect's.
inline void EngineImpl::do_syn_sent(Session& s, Nanos now) {
    s.state = State::syn_sent;
    send_syn(s, now);
}

// Our fabricated SYN goes, for a session captured mid-stream (rebase_mid_stream may still
// move its start before the SYN-ACK).
inline void EngineImpl::do_mid_stream_syn_sent(Session& s, Nanos now) {
    s.state = State::mid_stream_syn_sent;
    send_syn(s, now);
}

// Session creation: one per replica, chained; the head is indexed by original key.
// a6: the captured connection's IPv6 addresses (nullptr: IPv4); the target's family is xfer's.
inline std::uint32_t EngineImpl::create_chain(const net::FlowKey& orig, const TransferMap& xfer, const Addr6Pair* a6, Nanos now) {
    std::uint32_t head = kNone, last = kNone;
    const bool x6 = xfer.target_is_ipv6();
    const auto fam = static_cast<std::uint8_t>((a6 ? family::original6 : 0) | (x6 ? family::translated6 : 0));
    for (std::uint32_t r = 0; r < cfg_.multiply; ++r) {
        if (free_ids_.empty()) {
            ++ctr_[Counter::create_table_full];
            break;
        }
        const auto t = (x6 ? tuples6_ : tuples_).allocate(orig.src_ip, now);
        if (!t) {
            ++ctr_[Counter::create_no_tuple];
            break;
        }
        const std::uint32_t id = free_ids_.back();
        free_ids_.pop_back();
        Session& s = sessions_[id];
        s = Session{};
        s.identity.original = orig;
        s.identity.replica = static_cast<std::uint16_t>(r);
        s.identity.family = fam;
        if (fam) {
            SessionAddrs6& ad = addrs6_[id];
            ad = SessionAddrs6{};
            if (a6) ad.original_src = a6->src, ad.original_dst = a6->dst;
            if (x6) ad.translated_dst = *xfer.target_ip6;
            if (a6) ++ctr_[Counter::sessions_ipv6];
            if ((a6 != nullptr) != x6) ++ctr_[Counter::sessions_family_mapped];
        }
        s.identity.translated.dst_ip = x6 ? fold6(*xfer.target_ip6) : xfer.target_ip;
        s.identity.translated.dst_port = xfer.target_port;
        bind_tuple(s, *t);
        s.deadlines.last_activity = now;
        s.deadlines.quiet_from = observed_clock_;
        s.target.ip_id = static_cast<std::uint16_t>(net::mix64(orig.src_port.value() + (std::uint64_t{r} << 16)));
        s.identity.prev_replica = last;
        if (last != kNone) {
            sessions_[last].identity.next_replica = id;
        } else {
            head = id;
        }
        last = id;
        ++active_;
        ++ctr_[Counter::sessions_created];
        if (observer_) observer_->on_session_start(id, s.identity.replica);
    }
    if (head != kNone) by_orig_.insert(key_hash(orig, a6 != nullptr), head);
    return head;
}

inline void EngineImpl::supersede_chain(std::uint32_t head, Nanos now) {
    by_orig_.erase(original_hash(sessions_[head]), head);
    for (std::uint32_t id = head; id != kNone;) {
        Session& s = sessions_[id];
        const std::uint32_t nx = s.identity.next_replica;
        s.flags |= sflag::superseded | sflag::input_done;
        expire_gap(s);
        ++ctr_[Counter::sessions_superseded];
        advance_and_schedule(id, now);
        id = nx;
    }
}

}  // namespace dpcopy::session::detail
