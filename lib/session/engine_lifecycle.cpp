// EngineImpl, tuples and the session life cycle: create, supersede, detach, reconnect, end.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

inline void EngineImpl::bind_tuple(Session& s, const TupleAllocator::Tuple& t) {
    s.tuple = t.index;
    s.xlat.src_ip = t.ip;
    s.xlat.src_port = t.port;
    by_xlat_.insert(net::hash_flow(s.xlat), id_of(s));
}

inline void EngineImpl::release_tuple(Session& s, Nanos now) {
    if (s.tuple == kNone) return;
    by_xlat_.erase(net::hash_flow(s.xlat), id_of(s));
    tuples_.release(s.tuple, now);
    s.tuple = kNone;
}

inline void EngineImpl::do_closed(Session& s, Counter outcome, Nanos now) {
    const std::uint32_t id = id_of(s);
    finish_exchange(s);
    remember_closed(s, now);
    release_tuple(s, now);
    // unlink from the replica chain (and the original-key index when it is the head)
    if (s.prev_rep != kNone) {
        sessions_[s.prev_rep].next_rep = s.next_rep;
    } else if (!(s.flags & sflag::superseded)) {
        const std::uint64_t h = net::hash_flow(s.orig);
        if (s.next_rep != kNone) {
            by_orig_.replace(h, id, s.next_rep);
        } else {
            by_orig_.erase(h, id);
        }
    }
    if (s.next_rep != kNone) sessions_[s.next_rep].prev_rep = s.prev_rep;
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
    if (s.snd_una != s.snd_max) return true;
    const std::uint32_t id = first_unsent_piece(s);
    if (id == kNone || s.ex_req_bytes == 0) return false;
    const Piece& p = pieces_[id];
    return p.len > 0 && p.seq <= s.snd_nxt && (s.flags & sflag::exchange) && need_of(s, p) <= s.released_need;
}

// Drops the connection to the target; the session waits for the next request boundary.
inline void EngineImpl::do_detached(Session& s, Counter why, bool rst, Nanos now) {
    if (rst && connected(s)) send_rst(s, now);
    ++ctr_[why];
    if (request_cut(s)) ++ctr_[Counter::requests_lost_resync];
    finish_exchange(s);
    release_tuple(s, now);
    s.state = State::detached;
    s.rto_at = 0;
    s.wait_at = 0;
    s.flags &= static_cast<std::uint16_t>(~(sflag::ts_on | sflag::rtt_timing | sflag::held | sflag::win_blocked));
    s.dupacks = 0;
    s.backoff = 0;
    // bytes the target acknowledged are done; what was in flight is the request at risk
    s.snd_nxt = s.snd_una;
    s.queue.send = kNone;
}

// A new translated tuple for a session that opens a new connection to the target; without
// one the session ends (end_no_tuple) and this returns false.
inline bool EngineImpl::rebind(Session& s, Nanos now) {
    const auto t = tuples_.allocate(s.orig.src_ip, now);
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
    s.isn = p.seq - 1;
    if (p.flags & Piece::kAck) {
        s.online_base = p.ack;  // this request needs nothing from the new connection
        s.flags |= sflag::base_known;
        if (seq_dist(s.online_end, s.online_base) == 0) s.online_end = s.online_base;
    }
    s.released_need = 0;
    s.tgt_bytes = 0;
    s.ex_target_bytes_at_release = 0;
    s.answer_owed = 0;
    s.flags &= static_cast<std::uint16_t>(~(sflag::syn_ws | sflag::syn_ts | sflag::exchange | sflag::resync_jumped));
    s.syn_mss = fabricated_mss_;
    s.snd_una = s.isn;
    s.snd_nxt = s.snd_max = s.isn + 1;
    s.rcv_nxt = Seq(0);
    s.syn_retries = 0;
    s.backoff = 0;
    s.dupacks = 0;
    s.quiet_ref = observed_clock_;
    if (observer_) observer_->on_session_start(id_of(s), s.replica);  // both streams begin again
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
inline std::uint32_t EngineImpl::create_chain(const net::FlowKey& orig, const TransferMap& xfer, Nanos now) {
    std::uint32_t head = kNone, last = kNone;
    for (std::uint32_t r = 0; r < cfg_.multiply; ++r) {
        if (free_ids_.empty()) {
            ++ctr_[Counter::create_table_full];
            break;
        }
        const auto t = tuples_.allocate(orig.src_ip, now);
        if (!t) {
            ++ctr_[Counter::create_no_tuple];
            break;
        }
        const std::uint32_t id = free_ids_.back();
        free_ids_.pop_back();
        Session& s = sessions_[id];
        s = Session{};
        s.orig = orig;
        s.replica = static_cast<std::uint16_t>(r);
        s.xlat.dst_ip = xfer.target_ip;
        s.xlat.dst_port = xfer.target_port;
        bind_tuple(s, *t);
        s.last_activity = now;
        s.quiet_ref = observed_clock_;
        s.ip_id = static_cast<std::uint16_t>(net::mix64(orig.src_port.value() + (std::uint64_t{r} << 16)));
        s.prev_rep = last;
        if (last != kNone) {
            sessions_[last].next_rep = id;
        } else {
            head = id;
        }
        last = id;
        ++active_;
        ++ctr_[Counter::sessions_created];
        if (observer_) observer_->on_session_start(id, s.replica);
    }
    if (head != kNone) by_orig_.insert(net::hash_flow(orig), head);
    return head;
}

inline void EngineImpl::supersede_chain(std::uint32_t head, Nanos now) {
    by_orig_.erase(net::hash_flow(sessions_[head].orig), head);
    for (std::uint32_t id = head; id != kNone;) {
        Session& s = sessions_[id];
        const std::uint32_t nx = s.next_rep;
        s.flags |= sflag::superseded | sflag::input_done;
        expire_gap(s);
        ++ctr_[Counter::sessions_superseded];
        advance_and_schedule(id, now);
        id = nx;
    }
}

}  // namespace dpcopy::session::detail
