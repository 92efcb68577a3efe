#include "tests/session/sim/reference_client.hpp"

#include <algorithm>
#include <limits>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"

namespace dpcopy::sim {

namespace {
constexpr Nanos kNever = std::numeric_limits<Nanos>::max();
}

struct RefClient::Conn {
    std::size_t session = 0;
    net::Port port;
    net::Ipv4Addr ip;
    std::uint32_t iss = 0;
    std::uint64_t base = 0;      // stream offset carried by this connection's first byte
    enum class St { syn_sent, established, fin_sent, done } st = St::syn_sent;
    std::uint64_t snd_una = 0, snd_nxt = 0, snd_max = 0;  // relative to the stream (0 = base), FIN = len + 1
    std::uint64_t len = 0;
    std::uint64_t peer_wnd = 0;
    std::uint8_t peer_ws = 0;
    std::uint32_t peer_mss = 536;
    std::uint32_t irs = 0;
    std::uint64_t rcv_nxt = 0;   // relative to irs + 1
    bool peer_fin = false, fin_acked = false;
    std::uint32_t ts_recent = 0;
    Nanos rto_at = kNever;
    Nanos rto = 300 * kMsec;
    Nanos linger_until = 0;
};

RefClient::RefClient(const Capture& cap, RefClientParams p, Sink& sink) : cap_(cap), p_(p), sink_(sink) {
    for (std::size_t i = 0; i < cap_.sessions.size(); ++i) {
        std::vector<std::uint8_t> s = cap_.sessions[i].stream;
        if (i == 0 && p_.corrupt_offset >= 0 && static_cast<std::size_t>(p_.corrupt_offset) < s.size())
            s[static_cast<std::size_t>(p_.corrupt_offset)] ^= 0x5a;
        if (i == 0 && p_.skip_request && cap_.sessions[i].requests() > 2) {
            const auto& e = cap_.sessions[i];
            s.erase(s.begin() + e.req_offset[1], s.begin() + e.req_offset[1] + e.req_len[1]);
        }
        streams_.push_back(std::move(s));
    }
}

RefClient::~RefClient() = default;

void RefClient::open(std::size_t session, std::uint64_t from, Nanos now) {
    auto c = std::make_unique<Conn>();
    c->session = session;
    c->ip = net::Ipv4Addr(p_.client_base.value() + 1 + (next_port_ >> 16));
    c->port = net::Port(static_cast<std::uint16_t>(next_port_ & 0xffff ? next_port_ & 0xffff : 1));
    ++next_port_;
    c->iss = static_cast<std::uint32_t>(net::mix64(next_port_ * 7919ULL + session));
    c->base = from;
    c->len = streams_[session].size() - from;
    c->st = Conn::St::syn_sent;
    send(*c, net::tcpflag::syn, 0, 0, now);
    c->rto_at = now + c->rto;
    conns_.push_back(std::move(c));
}

void RefClient::send(Conn& c, std::uint8_t flags, std::uint64_t off, std::uint32_t len, Nanos now) {
    const net::L2Spec l2{.src = p_.mac, .dst = p_.target_mac};
    const net::Ipv4Spec ip{.src = c.ip, .dst = p_.target_ip};
    // Sequence: SYN at iss, byte k of the stream at iss + 1 + k, FIN after the last byte.
    net::TcpSpec t;
    t.src_port = c.port;
    t.dst_port = p_.target_port;
    t.seq = net::Seq(c.iss + (flags & net::tcpflag::syn ? 0u : 1u + static_cast<std::uint32_t>(off)));
    t.flags = flags;
    t.window = 65535;
    if (flags & net::tcpflag::ack) t.ack = net::Seq(c.irs + 1 + static_cast<std::uint32_t>(c.rcv_nxt));
    t.options.ts = net::TcpTimestamp{static_cast<std::uint32_t>(now / kMsec) + 1, c.ts_recent};
    if (flags & net::tcpflag::syn) {
        t.options.mss = static_cast<std::uint16_t>(p_.mss);
        t.options.wscale = 0;
    }
    if (len) t.payload = net::ConstBytes(streams_[c.session].data() + c.base + off, len);
    std::vector<std::uint8_t> frame(net::tcp_frame_size(l2, t));
    const std::size_t n = net::build_tcp(frame, l2, ip, t);
    frame.resize(n);
    if (p_.bad_checksum && len && !bad_checksum_done_) {
        bad_checksum_done_ = true;
        net::PacketView v;
        if (net::parse_frame(frame, v) == net::ParseError::ok) frame[v.l4_off + 16] ^= 0x01;
    }
    sink_.emit(frame);
}

void RefClient::output(Conn& c, Nanos now) {
    if (c.st == Conn::St::syn_sent || c.st == Conn::St::done) return;
    const std::uint32_t mss = p_.oversize ? 3000u : std::min<std::uint32_t>(p_.mss, c.peer_mss) - 12u;
    while (c.snd_nxt < c.len) {
        const std::uint64_t edge = c.snd_una + c.peer_wnd;
        if (c.snd_nxt >= edge) break;
        const std::uint64_t n = std::min<std::uint64_t>({c.len - c.snd_nxt, edge - c.snd_nxt, mss});
        send(c, net::tcpflag::ack | net::tcpflag::psh, c.snd_nxt, static_cast<std::uint32_t>(n), now);
        c.snd_nxt += n;
    }
    if (c.snd_nxt == c.len && c.snd_una == c.len && c.st == Conn::St::established && !p_.skip_fin) {
        send(c, net::tcpflag::fin | net::tcpflag::ack, c.len, 0, now);
        c.snd_nxt = c.len + 1;
        c.st = Conn::St::fin_sent;
    }
    if (c.rto_at == kNever && (c.snd_una < c.snd_nxt || c.snd_nxt < c.len)) c.rto_at = now + c.rto;
}

void RefClient::on_captured(net::ConstBytes, Nanos now) {
    if (started_) return;
    started_ = true;
    for (std::uint32_t r = 0; r < p_.replicas; ++r)
        for (std::size_t i = 0; i < streams_.size(); ++i)
            if (!streams_[i].empty()) open(i, 0, now);
}

void RefClient::on_target(net::ConstBytes frame, Nanos now) {
    net::PacketView v;
    if (net::parse_frame(frame, v) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) return;
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    const auto opts = net::TcpOptions::read(v.tcp_options(frame));
    Conn* c = nullptr;
    for (auto& cp : conns_)
        if (cp->ip == v.key.dst_ip && cp->port == v.key.dst_port) c = cp.get();
    if (!c) return;
    const net::ConstBytes pl = v.payload(frame);
    if (th.has(net::tcpflag::rst)) {
        if (c->st == Conn::St::done) return;
        c->st = Conn::St::done;
        // Reconnect at the first request boundary at or after what the target acknowledged.
        const auto& e = cap_.sessions[c->session];
        const std::uint64_t acked = c->base + std::min(c->snd_una, c->len);
        std::size_t q = e.request_at(acked);
        if (q < e.requests() && e.req_offset[q] < acked) ++q;
        ++reconnects_;
        if (q < e.requests() && !p_.skip_request) open(c->session, e.req_offset[q], now);
        return;
    }
    if (c->st == Conn::St::done) {
        if (th.has(net::tcpflag::fin)) send(*c, net::tcpflag::ack, c->snd_nxt, 0, now);
        return;
    }
    if (opts && opts->ts) c->ts_recent = opts->ts->val;
    if (th.has(net::tcpflag::syn)) {
        if (c->st != Conn::St::syn_sent) {
            send(*c, net::tcpflag::ack, c->snd_nxt, 0, now);
            return;
        }
        c->irs = th.seq.value();
        c->rcv_nxt = 0;
        c->peer_ws = opts && opts->wscale ? *opts->wscale : 0;
        c->peer_mss = opts && opts->mss ? *opts->mss : 536;
        c->peer_wnd = th.window;
        c->st = Conn::St::established;
        c->rto_at = kNever;
        send(*c, net::tcpflag::ack, 0, 0, now);
        output(*c, now);
        return;
    }
    // ACK.
    const std::int64_t ad = net::Seq(th.ack) - net::Seq(c->iss + 1 + static_cast<std::uint32_t>(c->snd_una));
    c->snd_max = std::max(c->snd_max, c->snd_nxt);
    if (ad > 0 && c->snd_una + static_cast<std::uint64_t>(ad) <= c->snd_max) {
        c->snd_una += static_cast<std::uint64_t>(ad);
        c->snd_nxt = std::max(c->snd_nxt, c->snd_una);
        c->rto = 300 * kMsec;
        c->rto_at = c->snd_una < c->snd_nxt ? now + c->rto : kNever;
        if (c->snd_una == c->len + 1) c->fin_acked = true;
    }
    if (ad >= 0) c->peer_wnd = std::uint64_t{th.window} << c->peer_ws;
    // Data / FIN from the target.
    const std::int64_t d = net::Seq(th.seq) - net::Seq(c->irs + 1 + static_cast<std::uint32_t>(c->rcv_nxt));
    bool ack = false;
    if (!pl.empty() || th.has(net::tcpflag::fin)) {
        ack = true;
        if (d <= 0 && d + static_cast<std::int64_t>(pl.size()) >= 0) {
            c->rcv_nxt += static_cast<std::uint64_t>(d + static_cast<std::int64_t>(pl.size()));
            if (th.has(net::tcpflag::fin) && !c->peer_fin) {
                c->peer_fin = true;
                c->rcv_nxt += 1;
            }
        }
    }
    if (ack) send(*c, net::tcpflag::ack, c->snd_nxt, 0, now);
    if (c->peer_fin && c->snd_una < c->len + (c->st == Conn::St::fin_sent ? 1 : 0) && c->st != Conn::St::fin_sent) {
        // The target closed before we were done: reset and continue on a new connection.
        send(*c, net::tcpflag::rst, c->snd_nxt, 0, now);
        c->st = Conn::St::done;
        const auto& e = cap_.sessions[c->session];
        const std::uint64_t acked = c->base + c->snd_una;
        std::size_t q = e.request_at(acked);
        if (q < e.requests() && e.req_offset[q] < acked) ++q;
        ++reconnects_;
        if (q < e.requests()) open(c->session, e.req_offset[q], now);
        return;
    }
    if (c->fin_acked && c->peer_fin) {
        c->st = Conn::St::done;
        return;
    }
    output(*c, now);
}

void RefClient::advance(Nanos now) {
    const std::size_t n = conns_.size();
    for (std::size_t i = 0; i < n; ++i) {
        Conn& c = *conns_[i];
        if (c.st == Conn::St::done || c.rto_at > now) continue;
        c.rto = std::min<Nanos>(c.rto * 2, 10 * kSecond);
        c.rto_at = now + c.rto;
        if (c.st == Conn::St::syn_sent) {
            send(c, net::tcpflag::syn, 0, 0, now);
            continue;
        }
        if (c.peer_wnd == 0 && c.snd_una == c.snd_nxt && c.snd_nxt < c.len) {
            send(c, net::tcpflag::ack, c.snd_nxt, 1, now);  // zero-window probe with one byte
            continue;
        }
        c.snd_max = std::max(c.snd_max, c.snd_nxt);
        c.snd_nxt = c.snd_una;  // go back N
        if (c.st == Conn::St::fin_sent && c.snd_una == c.len) {
            send(c, net::tcpflag::fin | net::tcpflag::ack, c.len, 0, now);
            c.snd_nxt = c.len + 1;
            continue;
        }
        if (c.st == Conn::St::fin_sent) c.st = Conn::St::established;
        output(c, now);
    }
}

void RefClient::finish_input(Nanos) {}

bool RefClient::idle() const {
    if (!started_) return false;
    return std::all_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->st == Conn::St::done; });
}

std::string RefClient::describe() const {
    std::size_t open = 0;
    for (const auto& c : conns_) open += c->st != Conn::St::done;
    return "refclient: " + std::to_string(conns_.size()) + " connections, " + std::to_string(open) + " open, " +
           std::to_string(reconnects_) + " reconnects";
}

}  // namespace dpcopy::sim
