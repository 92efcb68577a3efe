#include "tests/session/sim/model_target.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"

namespace dpcopy::sim {

const char* to_string(ConnEnd e) noexcept {
    switch (e) {
        case ConnEnd::open: return "open";
        case ConnEnd::fin: return "fin";
        case ConnEnd::rst_in: return "rst_in";
        case ConnEnd::rst_out: return "rst_out";
        case ConnEnd::aborted: return "aborted";
        case ConnEnd::syn_timeout: return "syn_timeout";
    }
    return "?";
}

namespace {
constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

std::string tuple_str(const net::FlowKey& k) {
    return k.src_ip.to_string() + ":" + std::to_string(k.src_port.value()) + "->" + k.dst_ip.to_string() + ":" +
           std::to_string(k.dst_port.value());
}
}  // namespace

enum class St : std::uint8_t { syn_rcvd, established, close_wait, last_ack, fin_wait1, fin_wait2, closing, closed };

struct ModelTarget::Conn {
    std::size_t rec = 0;
    net::FlowKey key{};
    St st = St::syn_rcvd;
    // Receive side; offsets relative to irs + 1.
    std::uint32_t irs = 0;
    std::uint64_t rcv_nxt = 0;
    std::uint64_t adv_edge = 0;       // highest right edge ever advertised
    std::uint64_t app_off = 0;        // bytes the application has read
    std::uint64_t parse_off = 0;      // start of the next request in record.data
    bool corrupt = false;
    std::map<std::uint64_t, std::vector<std::uint8_t>> ooo;
    bool buffer_ooo = true;
    std::uint32_t rcvbuf = 65535;
    Nanos paused_until = 0;
    std::uint32_t segs_unacked = 0;
    Nanos delack_at = kNever;
    // Send side; offsets relative to iss + 1.
    std::uint32_t iss = 0;
    std::vector<std::uint8_t> sbuf;   // every byte we ever queued
    std::uint64_t snd_una = 0, snd_nxt = 0, snd_max = 0;
    std::uint64_t peer_wnd = 0;
    bool fin_pending = false, fin_sent = false, fin_acked = false;
    bool app_closed = false;          // our application closed the socket (fault or after client FIN)
    Nanos rto_at = kNever;
    Nanos rto = 0;
    std::uint32_t retries = 0;
    // Options.
    std::uint16_t my_mss = 1460, peer_mss = 536;
    std::uint8_t my_ws = 0, peer_ws = 0;
    bool ws_ok = false, ts_ok = false;
    std::uint32_t ts_recent = 0;
    // Application.
    struct Pending { Nanos at; std::uint32_t size; bool close_after; std::uint32_t sid, idx; };
    std::deque<Pending> responses;
    Nanos last_resp_at = 0;
};

ModelTarget::ModelTarget(ModelParams p, std::uint64_t seed, Out out)
    : p_(std::move(p)), rng_(seed), out_(std::move(out)), clock_base_(rng_.u32()) {
    if (!p_.response_size)
        p_.response_size = [](std::uint32_t, std::uint32_t, std::uint32_t, Rng& r) {
            return static_cast<std::uint32_t>(r.range(0, 4000));
        };
}

ModelTarget::~ModelTarget() = default;

void ModelTarget::fail(std::string msg) {
    if (failures_.size() < 200) failures_.push_back(std::move(msg));
}

std::size_t ModelTarget::live_connections() const {
    std::size_t n = 0;
    for (const auto& [k, c] : conns_)
        if (c->st != St::closed) ++n;
    return n;
}

std::vector<std::string> ModelTarget::open_connections() const {
    static const char* names[] = {"SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "FIN_WAIT1", "FIN_WAIT2", "CLOSING", "CLOSED"};
    std::vector<std::string> v;
    for (const auto& [k, c] : conns_) {
        if (c->st == St::closed) continue;
        v.push_back(tuple_str(k) + " " + names[static_cast<int>(c->st)] + " rcv=" + std::to_string(c->rcv_nxt) +
                    " snd_una=" + std::to_string(c->snd_una) + "/" + std::to_string(c->sbuf.size()));
    }
    return v;
}

Nanos ModelTarget::next_timer() const {
    Nanos t = kNever;
    for (const auto& [k, c] : conns_) {
        if (c->st == St::closed) continue;
        t = std::min(t, std::min(c->rto_at, c->delack_at));
        if (!c->responses.empty() && !c->app_closed) t = std::min(t, c->responses.front().at);
        if (c->paused_until > now_) t = std::min(t, c->paused_until);
    }
    return t;
}

std::uint32_t ModelTarget::rcv_wnd(const Conn& c) const {
    const std::uint64_t unread = c.rcv_nxt - c.app_off;
    std::uint64_t w = unread >= c.rcvbuf ? 0 : c.rcvbuf - unread;
    w = std::min<std::uint64_t>(w, std::uint64_t{65535} << c.my_ws);
    return static_cast<std::uint32_t>(w);
}

void ModelTarget::send(Conn& c, std::uint8_t flags, std::uint32_t seq, std::uint32_t len, Nanos now) {
    ConnRecord& r = records_[c.rec];
    const net::L2Spec l2{.src = p_.mac, .dst = p_.peer_mac};
    const net::Ipv4Spec ip{.src = p_.ip, .dst = c.key.src_ip, .id = ip_id_++};
    net::TcpSpec t;
    t.src_port = p_.port;
    t.dst_port = c.key.src_port;
    t.seq = net::Seq(seq);
    t.flags = flags;
    if (flags & net::tcpflag::ack) t.ack = net::Seq(c.irs + 1 + static_cast<std::uint32_t>(c.rcv_nxt));
    const std::uint32_t wnd = rcv_wnd(c);
    if (flags & net::tcpflag::syn) {
        t.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd, 65535));
        t.options.mss = c.my_mss;
        if (c.ws_ok) t.options.wscale = c.my_ws;
        c.adv_edge = std::max<std::uint64_t>(c.adv_edge, c.rcv_nxt + t.window);
    } else {
        t.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> c.my_ws, 65535));
        c.adv_edge = std::max<std::uint64_t>(c.adv_edge, c.rcv_nxt + (std::uint64_t{t.window} << c.my_ws));
    }
    if (c.ts_ok && !(flags & net::tcpflag::rst))
        t.options.ts = net::TcpTimestamp{clock_base_ + static_cast<std::uint32_t>(now / kMsec), c.ts_recent};
    std::vector<std::uint8_t> payload;
    if (len) {
        const std::uint64_t off = static_cast<std::uint32_t>(seq - (c.iss + 1));
        payload.assign(c.sbuf.begin() + static_cast<std::ptrdiff_t>(off), c.sbuf.begin() + static_cast<std::ptrdiff_t>(off + len));
        t.payload = payload;
    }
    std::vector<std::uint8_t> frame(net::tcp_frame_size(l2, t));
    const std::size_t n = net::build_tcp(frame, l2, ip, t);
    if (n == 0) {
        fail("model: build_tcp failed");
        return;
    }
    frame.resize(n);
    if (flags & net::tcpflag::ack) {
        c.segs_unacked = 0;
        c.delack_at = kNever;
    }
    (void)r;
    out_(std::move(frame));
}

void ModelTarget::send_rst(const net::FlowKey& to_client, std::uint32_t seq, std::uint32_t ack, bool with_ack) {
    const net::L2Spec l2{.src = p_.mac, .dst = p_.peer_mac};
    const net::Ipv4Spec ip{.src = p_.ip, .dst = to_client.src_ip, .id = ip_id_++};
    net::TcpSpec t;
    t.src_port = p_.port;
    t.dst_port = to_client.src_port;
    t.seq = net::Seq(seq);
    t.ack = net::Seq(ack);
    t.flags = static_cast<std::uint8_t>(net::tcpflag::rst | (with_ack ? net::tcpflag::ack : 0));
    t.window = 0;
    std::vector<std::uint8_t> frame(net::tcp_frame_size(l2, t));
    const std::size_t n = net::build_tcp(frame, l2, ip, t);
    frame.resize(n);
    if (n) out_(std::move(frame));
}

void ModelTarget::ack_now(Conn& c, Nanos now) {
    send(c, net::tcpflag::ack, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, now);
}

void ModelTarget::end(Conn& c, ConnEnd how, Nanos now) {
    if (c.st == St::closed) return;
    c.st = St::closed;
    ConnRecord& r = records_[c.rec];
    r.end = how;
    r.ended_at = now;
    if (how == ConnEnd::fin)
        time_wait_[c.key] = Remembered{now + p_.time_wait, c.irs + 1 + static_cast<std::uint32_t>(c.rcv_nxt)};
    if (how == ConnEnd::aborted)
        fail("model: gave up on " + tuple_str(c.key) + " after " + std::to_string(c.retries) +
             " retransmissions (peer unresponsive)");
}

void ModelTarget::output(Conn& c, Nanos now) {
    if (c.st == St::closed || c.st == St::syn_rcvd) return;
    const std::uint32_t eff_mss = std::max<std::uint32_t>(
        64, std::min<std::uint32_t>(c.my_mss, c.peer_mss) - (c.ts_ok ? 12u : 0u));
    bool sent = false;
    for (;;) {
        const std::uint64_t edge = c.snd_una + (p_.cwnd_bytes ? std::min<std::uint64_t>(c.peer_wnd, p_.cwnd_bytes) : c.peer_wnd);
        if (c.snd_nxt < c.sbuf.size()) {
            if (c.snd_nxt >= edge) break;
            const std::uint64_t n = std::min<std::uint64_t>({c.sbuf.size() - c.snd_nxt, edge - c.snd_nxt, eff_mss});
            const bool last = c.snd_nxt + n == c.sbuf.size();
            send(c, static_cast<std::uint8_t>(net::tcpflag::ack | (last ? net::tcpflag::psh : 0)),
                 c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), static_cast<std::uint32_t>(n), now);
            c.snd_nxt += n;
            sent = true;
        } else if (c.fin_pending && !c.fin_sent && c.snd_nxt == c.sbuf.size()) {
            send(c, net::tcpflag::fin | net::tcpflag::ack, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, now);
            c.fin_sent = true;
            c.snd_nxt += 1;
            if (c.st == St::established) c.st = St::fin_wait1;
            else if (c.st == St::close_wait) c.st = St::last_ack;
            sent = true;
        } else if (c.fin_sent && c.snd_nxt == c.sbuf.size() && c.snd_nxt < c.snd_max) {
            // retransmitted FIN after go-back
            send(c, net::tcpflag::fin | net::tcpflag::ack, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, now);
            c.snd_nxt += 1;
            sent = true;
        } else {
            break;
        }
        c.snd_max = std::max(c.snd_max, c.snd_nxt);
    }
    const bool outstanding = c.snd_una < c.snd_max;
    const bool blocked = c.snd_nxt < c.sbuf.size() && c.snd_nxt >= c.snd_una + c.peer_wnd;
    if ((outstanding || blocked) && c.rto_at == kNever) {
        if (c.rto == 0) c.rto = p_.rto_min;
        c.rto_at = now + c.rto;
    }
    (void)sent;
}

void ModelTarget::app_read(Conn& c, Nanos now) {
    if (c.st == St::closed) return;
    ConnRecord& r = records_[c.rec];
    if (now < c.paused_until) return;
    const std::uint32_t wnd_before = rcv_wnd(c);
    c.app_off = c.rcv_nxt;
    while (!c.corrupt && c.app_off >= c.parse_off + 4) {
        const std::uint32_t len = net::load_be32(r.data.data() + c.parse_off);
        if (len < kReqHeader || len > (64u << 20)) {
            c.corrupt = true;  // the verifier reports it with the full stream
            break;
        }
        if (c.app_off < c.parse_off + len) break;
        const std::uint32_t sid = net::load_be32(r.data.data() + c.parse_off + 4);
        const std::uint32_t idx = net::load_be32(r.data.data() + c.parse_off + 8);
        c.parse_off += len;
        r.requests++;
        if (rng_.chance(p_.rst_after_request)) {
            r.fault_injected = true;
            send_rst(c.key, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, false);
            end(c, ConnEnd::rst_out, now);
            return;
        }
        const std::uint32_t size = p_.response_size(sid, idx, len, rng_);
        const Nanos extra = p_.extra_delay ? p_.extra_delay(sid, idx) : 0;
        const Nanos at = std::max(c.last_resp_at, now + rng_.range(p_.resp_delay_min, p_.resp_delay_max) + extra);
        c.last_resp_at = at;
        const bool close_after = rng_.chance(p_.fin_after_request);
        c.responses.push_back({at, size, close_after, sid, idx});
        if (close_after) r.fault_injected = true;
        if (rng_.chance(p_.zero_window)) {
            c.paused_until = now + p_.zero_window_time;
            break;
        }
    }
    if (c.paused_until > now) c.app_off = std::min(c.app_off, c.parse_off);
    const std::uint32_t wnd_after = rcv_wnd(c);
    const std::uint32_t unit = std::max<std::uint32_t>(c.my_mss, 1u << c.my_ws);
    if (c.st != St::syn_rcvd && wnd_before < unit && wnd_after >= unit) ack_now(c, now);  // window update
}

void ModelTarget::segment(Conn& c, const net::TcpHdr& th, const net::TcpOptions& opts, net::ConstBytes payload, Nanos now) {
    ConnRecord& r = records_[c.rec];
    const std::uint32_t rcv_nxt_seq = c.irs + 1 + static_cast<std::uint32_t>(c.rcv_nxt);
    const std::int64_t d = net::Seq(th.seq) - net::Seq(rcv_nxt_seq);
    const std::int64_t seg_rel = static_cast<std::int64_t>(c.rcv_nxt) + d;
    const std::uint32_t len = static_cast<std::uint32_t>(payload.size());
    const std::uint32_t wnd = rcv_wnd(c);

    if (th.has(net::tcpflag::rst)) {
        // Acceptable if inside the window (RFC 5961 would demand exact; we accept the window).
        if (d >= -1 && d <= static_cast<std::int64_t>(std::max<std::uint32_t>(wnd, 1))) end(c, ConnEnd::rst_in, now);
        return;
    }
    // PAWS (RFC 7323): a real server drops a segment whose TSval went backwards.
    if (c.ts_ok && opts.ts) {
        if (net::Seq(opts.ts->val) < net::Seq(c.ts_recent)) {
            // Legit under reordering; the harness checks the DUT's TSvals in emission order.
            ++paws_drops_;
            ack_now(c, now);
            return;
        }
        if (d <= 0) c.ts_recent = opts.ts->val;
    }
    if (!th.has(net::tcpflag::ack)) return;  // RFC 9293: drop segments without ACK
    // ACK processing.
    const std::uint32_t snd_una_seq = c.iss + 1 + static_cast<std::uint32_t>(c.snd_una);
    const std::int64_t ad = net::Seq(th.ack) - net::Seq(snd_una_seq);
    if (c.st == St::syn_rcvd) {
        if (ad != 0 && !(c.snd_una == 0 && ad == 0)) {
            // ack must be iss + 1: snd_una is 0 here and its seq is iss + 1
            send_rst(c.key, th.ack.value(), 0, false);
            return;
        }
        c.st = St::established;
        r.established = true;
        c.rto_at = kNever;
        c.retries = 0;
        c.rto = 0;
        c.peer_wnd = std::uint64_t{th.window} << c.peer_ws;
        if (p_.greeting_bytes) {
            for (std::uint32_t i = 0; i < p_.greeting_bytes; ++i) c.sbuf.push_back(static_cast<std::uint8_t>('G' + i % 7));
            r.response_bytes += p_.greeting_bytes;
        }
    } else {
        const std::int64_t in_flight = static_cast<std::int64_t>(c.snd_max - c.snd_una);
        if (ad > in_flight) {
            fail("model: " + tuple_str(c.key) + " acknowledges data never sent (ack +" + std::to_string(ad) +
                 ", in flight " + std::to_string(in_flight) + ")");
            ack_now(c, now);
            return;
        }
        if (ad >= 0) {
            if (ad > 0) {
                c.snd_una += static_cast<std::uint64_t>(ad);
                if (c.snd_nxt < c.snd_una) c.snd_nxt = c.snd_una;
                c.retries = 0;
                c.rto = 0;
                c.rto_at = kNever;
            }
            c.peer_wnd = std::uint64_t{th.window} << c.peer_ws;
            if (c.fin_sent && c.snd_una == c.sbuf.size() + 1) c.fin_acked = true;
        }
    }
    if (c.fin_acked) {
        if (c.st == St::last_ack) { end(c, ConnEnd::fin, now); return; }
        if (c.st == St::fin_wait1) c.st = St::fin_wait2;
        if (c.st == St::closing) { end(c, ConnEnd::fin, now); return; }
    }

    // Data and FIN.
    const bool fin = th.has(net::tcpflag::fin);
    if (!len && !fin && seg_rel < static_cast<std::int64_t>(c.rcv_nxt) && c.st != St::syn_rcvd) {
        // An unacceptable segment (a zero-window probe or keep-alive at rcv_nxt - 1) is answered
        // with an ACK carrying the current window (RFC 9293 3.10.7.4; Linux tcp_send_dupack).
        ack_now(c, now);
        return;
    }
    if (len || fin) {
        const std::int64_t end_rel = seg_rel + len;
        const bool receiving = c.st == St::established || c.st == St::fin_wait1 || c.st == St::fin_wait2;
        if (!receiving && end_rel > static_cast<std::int64_t>(c.rcv_nxt) - (r.got_fin ? 1 : 0) && len) {
            fail("model: " + tuple_str(c.key) + " data after the client's FIN");
        }
        if (c.app_closed && end_rel > static_cast<std::int64_t>(c.rcv_nxt) && len) {
            // Our application closed the socket: new data is answered with RST (as Linux does).
            send_rst(c.key, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, false);
            end(c, ConnEnd::rst_out, now);
            return;
        }
        if (len && end_rel > static_cast<std::int64_t>(c.adv_edge) && !(len == 1 && wnd == 0 && seg_rel == static_cast<std::int64_t>(c.rcv_nxt))) {
            ++beyond_window_;
            fail("model: " + tuple_str(c.key) + " segment beyond the advertised window: ends at +" +
                 std::to_string(end_rel) + ", edge +" + std::to_string(c.adv_edge));
        }
        bool immediate = false;
        if (receiving) {
            const std::uint64_t right = c.rcv_nxt + wnd;
            if (seg_rel > static_cast<std::int64_t>(c.rcv_nxt)) {
                if (c.buffer_ooo && len && static_cast<std::uint64_t>(seg_rel) < right) {
                    const std::uint64_t keep = std::min<std::uint64_t>(len, right - static_cast<std::uint64_t>(seg_rel));
                    auto& slot = c.ooo[static_cast<std::uint64_t>(seg_rel)];
                    if (slot.size() < keep) slot.assign(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(keep));
                }
                immediate = true;  // duplicate ACK for the gap
            } else if (end_rel <= static_cast<std::int64_t>(c.rcv_nxt) && !(fin && end_rel == static_cast<std::int64_t>(c.rcv_nxt))) {
                immediate = true;  // old duplicate
            } else {
                const std::uint64_t skip = c.rcv_nxt - static_cast<std::uint64_t>(seg_rel);
                const std::uint64_t take = std::min<std::uint64_t>(len - skip, right - c.rcv_nxt);
                r.data.insert(r.data.end(), payload.begin() + static_cast<std::ptrdiff_t>(skip),
                              payload.begin() + static_cast<std::ptrdiff_t>(skip + take));
                c.rcv_nxt += take;
                const bool whole = skip + take == len;
                // Pull buffered out-of-order data.
                while (!c.ooo.empty()) {
                    auto it = c.ooo.begin();
                    if (it->first > c.rcv_nxt) break;
                    const std::uint64_t e = it->first + it->second.size();
                    if (e > c.rcv_nxt) {
                        const std::uint64_t s = c.rcv_nxt - it->first;
                        const std::uint64_t lim = std::min<std::uint64_t>(e, c.rcv_nxt + rcv_wnd(c));
                        if (lim <= c.rcv_nxt) break;
                        r.data.insert(r.data.end(), it->second.begin() + static_cast<std::ptrdiff_t>(s),
                                      it->second.begin() + static_cast<std::ptrdiff_t>(s + (lim - c.rcv_nxt)));
                        c.rcv_nxt = lim;
                        immediate = true;
                    }
                    c.ooo.erase(it);
                }
                if (fin && whole && static_cast<std::uint64_t>(end_rel) == c.rcv_nxt) {
                    if (p_.strict_close && !r.fault_injected && !c.app_closed) {
                        // What a real client's FIN after the last response never finds: a response
                        // still owed (pending, or not yet acknowledged), or a request not yet read.
                        const std::uint64_t unacked = c.sbuf.size() > c.snd_una ? c.sbuf.size() - c.snd_una : 0;
                        const bool unread = c.app_off < static_cast<std::uint64_t>(seg_rel);
                        if (unacked || !c.responses.empty() || unread)
                            fail("model: " + tuple_str(c.key) + " client FIN while responses were owed (" +
                                 std::to_string(unacked) + " response bytes unacknowledged, " +
                                 std::to_string(c.responses.size()) + " responses pending" + (unread ? ", requests unread" : "") +
                                 "): a server like nginx aborts the response it is writing and drops pipelined requests");
                    }
                    c.rcv_nxt += 1;
                    r.got_fin = true;
                    immediate = true;
                    if (c.st == St::established) c.st = St::close_wait;
                    else if (c.st == St::fin_wait1) c.st = c.fin_acked ? St::closed : St::closing;
                    else if (c.st == St::fin_wait2) c.st = St::closed;
                    if (c.st == St::closed) {
                        c.st = St::fin_wait2;  // let end() do the bookkeeping
                        ack_now(c, now);
                        end(c, ConnEnd::fin, now);
                        return;
                    }
                }
                if (!whole) immediate = true;
                if (len) ++c.segs_unacked;
            }
        } else if (fin || len) {
            immediate = true;  // retransmitted FIN or data after FIN: re-acknowledge
        }
        app_read(c, now);
        if (c.st == St::closed) return;
        if (immediate || c.segs_unacked >= 2) ack_now(c, now);
        else if (c.segs_unacked && c.delack_at == kNever) c.delack_at = now + p_.delack;
    }
    output(c, now);
}

void ModelTarget::on_frame(net::ConstBytes frame, Nanos now) {
    now_ = std::max(now_, now);
    ++frames_in_;
    net::PacketView v;
    const net::ParseError pe = net::parse_frame(frame, v);
    if (pe != net::ParseError::ok) {
        fail(std::string("model: unparsable frame from the engine: ") + net::to_string(pe));
        return;
    }
    if (v.l3 != net::L3Kind::ipv4 || v.l4 != net::L4Kind::tcp) {
        fail("model: non-TCP frame from the engine");
        return;
    }
    const net::EthHdr eth = net::EthHdr::read(frame);
    if (eth.dst != p_.mac || eth.src != p_.peer_mac)
        fail("model: wrong MACs " + eth.src.to_string() + " -> " + eth.dst.to_string());
    if (!net::ipv4_checksum_ok(frame, v)) fail("model: bad IPv4 checksum from the engine");
    if (!net::l4_checksum_ok(frame, v)) fail("model: bad TCP checksum from the engine on " + tuple_str(v.key));
    if (v.ip_total_len > p_.mtu)
        fail("model: IP packet of " + std::to_string(v.ip_total_len) + " bytes exceeds the MTU " + std::to_string(p_.mtu));
    if (v.key.dst_ip != p_.ip || v.key.dst_port != p_.port) {
        fail("model: frame not addressed to the target: " + tuple_str(v.key));
        return;
    }
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    const auto opts_o = net::TcpOptions::read(v.tcp_options(frame));
    const net::TcpOptions opts = opts_o ? *opts_o : net::TcpOptions{};
    const net::ConstBytes payload = v.payload(frame);
    const net::FlowKey key = v.key;

    auto it = conns_.find(key);
    Conn* c = (it != conns_.end() && it->second->st != St::closed) ? it->second.get() : nullptr;
    if (c && c->st != St::syn_rcvd && payload.size() > c->my_mss && p_.check_mss)
        fail("model: " + tuple_str(key) + " segment of " + std::to_string(payload.size()) +
             " bytes exceeds our MSS " + std::to_string(c->my_mss));

    if (th.has(net::tcpflag::syn)) {
        if (th.has(net::tcpflag::ack)) {
            fail("model: the engine sent a SYN-ACK on " + tuple_str(key));
            return;
        }
        if (c) {
            if (th.seq.value() == c->irs) {
                if (c->st == St::syn_rcvd) send(*c, net::tcpflag::syn | net::tcpflag::ack, c->iss, 0, now);
                else ack_now(*c, now);
            } else {
                ++collisions_;
                fail("model: tuple collision: SYN (seq " + std::to_string(th.seq.value()) + ") for live connection " +
                     tuple_str(key) + " (isn " + std::to_string(c->irs) + ")");
            }
            return;
        }
        auto tw = time_wait_.find(key);
        if (tw != time_wait_.end()) {
            if (now < tw->second.until && th.seq <= net::Seq(tw->second.rcv_nxt)) {
                // An old duplicate of the previous connection's SYN is harmless.
                bool old_dup = false;
                for (auto rit = records_.rbegin(); rit != records_.rend(); ++rit)
                    if (rit->tuple == key) { old_dup = rit->irs == th.seq.value(); break; }
                if (!old_dup) {
                    ++collisions_;
                    fail("model: tuple collision: SYN (seq " + std::to_string(th.seq.value()) + ") for " + tuple_str(key) +
                         " still in TIME_WAIT (ended with rcv_nxt " + std::to_string(tw->second.rcv_nxt) + ")");
                }
                return;
            }
            time_wait_.erase(tw);
        }
        if (it != conns_.end()) conns_.erase(it);
        auto nc = std::make_unique<Conn>();
        nc->key = key;
        nc->irs = th.seq.value();
        nc->iss = rng_.u32();
        nc->rec = records_.size();
        ConnRecord rec;
        rec.id = next_id_++;
        rec.tuple = key;
        rec.irs = nc->irs;
        rec.opened = now;
        records_.push_back(std::move(rec));
        nc->my_mss = static_cast<std::uint16_t>(rng_.range(p_.mss_min, p_.mss_max));
        nc->peer_mss = opts.mss ? *opts.mss : 536;
        nc->ws_ok = opts.wscale.has_value();
        nc->peer_ws = nc->ws_ok ? std::min<std::uint8_t>(*opts.wscale, 14) : 0;
        nc->my_ws = nc->ws_ok ? static_cast<std::uint8_t>(rng_.range(0, p_.wscale_max)) : 0;
        nc->ts_ok = opts.ts.has_value();
        if (nc->ts_ok) nc->ts_recent = opts.ts->val;
        nc->rcvbuf = static_cast<std::uint32_t>(rng_.range(p_.rcvbuf_min, p_.rcvbuf_max));
        nc->buffer_ooo = rng_.chance(p_.ooo_buffer);
        nc->rto = 1 * kSecond;
        nc->rto_at = now + nc->rto;
        Conn& cr = *nc;
        conns_[key] = std::move(nc);
        send(cr, net::tcpflag::syn | net::tcpflag::ack, cr.iss, 0, now);
        return;
    }
    if (!c) {
        ++stray_;
        if (!th.has(net::tcpflag::rst)) {
            if (th.has(net::tcpflag::ack)) send_rst(key, th.ack.value(), 0, false);
            else send_rst(key, 0, th.seq.value() + static_cast<std::uint32_t>(payload.size()), true);
        }
        return;
    }
    segment(*c, th, opts, payload, now);
}

void ModelTarget::advance(Nanos now) {
    now_ = std::max(now_, now);
    for (auto& [k, cp] : conns_) {
        Conn& c = *cp;
        if (c.st == St::closed) continue;
        ConnRecord& r = records_[c.rec];
        if (c.paused_until && now >= c.paused_until) {
            c.paused_until = 0;
            app_read(c, now);
            if (c.st == St::closed) continue;
        }
        while (!c.responses.empty() && c.responses.front().at <= now && !c.app_closed) {
            const auto pr = c.responses.front();
            c.responses.pop_front();
            if (p_.response_content) {
                const std::size_t before = c.sbuf.size();
                std::vector<std::uint8_t> content;
                p_.response_content(pr.sid, pr.idx, pr.size, content);
                if (content.size() != pr.size) fail("model: response_content gave " + std::to_string(content.size()) + " bytes, not " + std::to_string(pr.size));
                c.sbuf.insert(c.sbuf.end(), content.begin(), content.end());
                c.sbuf.resize(before + pr.size, 'A');
            } else {
                for (std::uint32_t i = 0; i < pr.size; ++i) c.sbuf.push_back(static_cast<std::uint8_t>('A' + (r.response_bytes + i) % 23));
            }
            r.response_bytes += pr.size;
            if (pr.close_after) {
                c.app_closed = true;
                c.fin_pending = true;
                c.responses.clear();
            }
        }
        // The application closes after the client's FIN once every response is out.
        if (r.got_fin && c.responses.empty() && !c.fin_pending && c.paused_until <= now && c.app_off + 1 >= c.rcv_nxt) {
            c.fin_pending = true;
            c.app_closed = true;
        }
        if (c.delack_at <= now) ack_now(c, now);
        if (c.rto_at <= now) {
            c.rto_at = kNever;
            if (++c.retries > p_.max_retries) {
                if (c.st == St::syn_rcvd) {
                    end(c, ConnEnd::syn_timeout, now);
                } else {
                    send_rst(c.key, c.iss + 1 + static_cast<std::uint32_t>(c.snd_nxt), 0, false);
                    end(c, ConnEnd::aborted, now);
                }
                continue;
            }
            c.rto = std::min<Nanos>(c.rto * 2, 60 * kSecond);
            if (c.st == St::syn_rcvd) {
                send(c, net::tcpflag::syn | net::tcpflag::ack, c.iss, 0, now);
                c.rto_at = now + c.rto;
                continue;
            }
            if (c.snd_una < c.snd_max) {
                c.snd_nxt = c.snd_una;  // go back N
            } else if (c.snd_nxt < c.sbuf.size() && c.peer_wnd == 0) {
                // Zero-window probe (as Linux: an ACK with an old sequence number elicits the window).
                send(c, net::tcpflag::ack, c.iss + static_cast<std::uint32_t>(c.snd_una), 0, now);
            }
            c.rto_at = now + c.rto;
        }
        output(c, now);
    }
    // Sweep ended connections and expired TIME_WAIT entries.
    for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->second->st == St::closed) it = conns_.erase(it);
        else ++it;
    }
    for (auto it = time_wait_.begin(); it != time_wait_.end();) {
        if (it->second.until <= now) it = time_wait_.erase(it);
        else ++it;
    }
}

}  // namespace dpcopy::sim
