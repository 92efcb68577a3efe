// EngineImpl, close memories: recently closed original sessions, TIME_WAIT of translated tuples.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

inline void EngineImpl::remember_closed(const Session& s, Nanos now) {
    if (!(s.flags & (sflag::client_fin | sflag::client_rst)) || (s.flags & sflag::superseded)) return;
    recently_closed_.remember(s.identity.original, original_hash(s), s.capture.contiguous_end, now);
}

// (An IPv6 key's addresses are folds: two IPv6 flows whose folds and ports all match share a
// memory, a false match about once in 2^64 pairs.)
inline bool EngineImpl::recently_closed(const net::FlowKey& orig, bool v6, Seq seq, Nanos now) const {
    return recently_closed_.covers(orig, key_hash(orig, v6), seq, now, cfg_.time_wait);
}

inline void EngineImpl::remember_time_wait(const Session& s, Nanos now) {
    TimeWaitRecord& t = time_wait_.place(s.identity.translated, translated_hash(s), now, cfg_.time_wait);
    t.xlat = s.identity.translated;
    t.snd = s.target.snd_max;
    t.rcv = s.target.rcv_nxt;
    t.ts_off = s.target.ts_offset;
    t.ts_recent = s.target.ts_recent;
    t.ms = static_cast<std::uint32_t>(now / kMs);
    t.used = 1;
    t.ts_on = (s.flags & sflag::timestamps) ? 1 : 0;
}

inline bool EngineImpl::time_wait_ack(ConstBytes frame, const net::FlowKey& xk, std::uint64_t h, const net::PacketView& v,
                                      const net::TcpHdr& th, Nanos now) {
    TimeWaitRecord* tp = time_wait_.find(xk, h);
    if (!tp) return false;
    TimeWaitRecord& t = *tp;
    if (TimeWaitTable::expire(t, now, cfg_.time_wait)) return false;
    if (th.has(tf::syn)) return false;
    // only a retransmission of what we already acknowledged (the FIN, or data before it)
    const Seq end = th.seq + v.payload_len + (th.has(tf::fin) ? 1u : 0u);
    if (end > t.rcv) return false;
    if (v.payload_len == 0 && !th.has(tf::fin)) return true;  // an old duplicate ACK: ignored, no RST
    net::TcpSpec ts;
    ts.src_port = xk.src_port;
    ts.dst_port = xk.dst_port;
    ts.seq = t.snd;
    ts.ack = t.rcv;
    ts.flags = tf::ack;
    ts.window = 65535;
    if (t.ts_on) ts.options.ts = net::TcpTimestamp{static_cast<std::uint32_t>(now / kMs) + t.ts_off, t.ts_recent};
    if (!emit_reply(frame, v, ts)) return true;
    ++ctr_[Counter::target_time_wait_acks];
    ++ctr_[Counter::acks_sent];
    return true;
}

}  // namespace dpcopy::session::detail
