// EngineImpl, close memories: recently closed original sessions, TIME_WAIT of translated tuples.
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

void EngineImpl::remember_closed(const Session& s, Nanos now) {
    if (!(s.flags & (sflag::cap_fin | sflag::cap_rst)) || (s.flags & sflag::superseded)) return;
    ClosedEntry& c = recently_closed_[net::hash_flow(s.orig) & (recently_closed_.size() - 1)];
    c.orig = s.orig;
    c.end = s.captured_contig_end;
    c.ms = static_cast<std::uint32_t>(now / kMs);
    c.used = true;
}

bool EngineImpl::recently_closed(const net::FlowKey& orig, Seq seq, Nanos now) const {
    const ClosedEntry& c = recently_closed_[net::hash_flow(orig) & (recently_closed_.size() - 1)];
    if (!c.used || !(c.orig == orig)) return false;
    if (static_cast<std::uint32_t>(now / kMs) - c.ms > cfg_.time_wait / kMs) return false;
    return seq < c.end && c.end - seq < (1 << 30);
}

EngineImpl::TimeWaitEntry* EngineImpl::time_wait_find(const net::FlowKey& xk, std::uint64_t h) {
    TimeWaitEntry* b = &time_wait_[(h & (time_wait_.size() - 1)) & ~(kTwWays - 1)];
    for (std::size_t w = 0; w < kTwWays; ++w)
        if (b[w].used && b[w].xlat == xk) return &b[w];
    return nullptr;
}

void EngineImpl::remember_time_wait(const Session& s, Nanos now) {
    const std::uint32_t now_ms = static_cast<std::uint32_t>(now / kMs);
    TimeWaitEntry* b = &time_wait_[(net::hash_flow(s.xlat) & (time_wait_.size() - 1)) & ~(kTwWays - 1)];
    TimeWaitEntry* victim = &b[0];
    for (std::size_t w = 0; w < kTwWays; ++w) {
        if (!b[w].used || b[w].xlat == s.xlat || now_ms - b[w].ms > cfg_.time_wait / kMs) {
            victim = &b[w];
            break;
        }
        if (now_ms - b[w].ms > now_ms - victim->ms) victim = &b[w];
    }
    TimeWaitEntry& t = *victim;
    t.xlat = s.xlat;
    t.snd = s.snd_max;
    t.rcv = s.rcv_nxt;
    t.ts_off = s.ts_off;
    t.ts_recent = s.ts_recent;
    t.ms = static_cast<std::uint32_t>(now / kMs);
    t.used = 1;
    t.ts_on = (s.flags & sflag::ts_on) ? 1 : 0;
}

bool EngineImpl::time_wait_ack(const net::FlowKey& xk, std::uint64_t h, const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
    TimeWaitEntry* tp = time_wait_find(xk, h);
    if (!tp) return false;
    TimeWaitEntry& t = *tp;
    if (static_cast<std::uint32_t>(now / kMs) - t.ms > cfg_.time_wait / kMs) {
        t.used = 0;
        return false;
    }
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
    net::Ipv4Spec ip;
    ip.src = xk.src_ip;
    ip.dst = xk.dst_ip;
    if (!emit_frame(ip, ts)) return true;
    ++ctr_[Counter::target_time_wait_acks];
    ++ctr_[Counter::acks_sent];
    return true;
}

}  // namespace dpcopy::session::detail
