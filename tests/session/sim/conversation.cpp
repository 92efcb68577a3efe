#include "tests/session/sim/conversation.hpp"

#include <algorithm>
#include <stdexcept>

#include "lib/rewrite/build.hpp"

namespace dpcopy::sim {

namespace {

std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace

std::uint8_t request_byte(std::uint32_t sid, std::uint32_t idx, std::uint32_t j) noexcept {
    const std::uint64_t w = mix((std::uint64_t{sid} << 32 | idx) * 0x100000001b3ULL + (j >> 3));
    return static_cast<std::uint8_t>(w >> (8 * (j & 7)));
}

void append_request(std::vector<std::uint8_t>& out, std::uint32_t sid, std::uint32_t idx, std::uint32_t len) {
    if (len < kReqHeader) throw std::invalid_argument("request shorter than its header");
    const std::size_t at = out.size();
    out.resize(at + len);
    net::store_be32(out.data() + at, len);
    net::store_be32(out.data() + at + 4, sid);
    net::store_be32(out.data() + at + 8, idx);
    for (std::uint32_t j = kReqHeader; j < len; ++j) out[at + j] = request_byte(sid, idx, j);
}

std::size_t ExpectedSession::request_at(std::uint64_t off) const noexcept {
    auto it = std::upper_bound(req_offset.begin(), req_offset.end(), off);
    if (it == req_offset.begin()) return 0;
    std::size_t r = static_cast<std::size_t>(it - req_offset.begin()) - 1;
    if (off >= std::uint64_t{req_offset[r]} + req_len[r]) return requests();
    return r;
}

net::MacAddr mac_of(std::uint32_t n) {
    return net::MacAddr{{0x02, 0x00, static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                         static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)}};
}

SessionScript simple_session(std::uint32_t n, std::uint32_t req, std::uint32_t resp, Nanos start,
                             std::uint32_t client_host, std::uint16_t client_port) {
    SessionScript s;
    s.client_ip = net::Ipv4Addr(net::Ipv4Addr::from_octets(10, 1, 0, 0).value() + client_host);
    s.client_port = net::Port(client_port);
    s.start = start;
    for (std::uint32_t i = 0; i < n; ++i) {
        Exchange e;
        e.request_bytes = req;
        e.response_bytes = resp;
        s.exchanges.push_back(e);
    }
    return s;
}

namespace {

// One captured segment before it becomes a frame.
struct Seg {
    Nanos t = 0;
    bool from_client = true;
    std::uint32_t seq_off = 0;   // offset from ISN (SYN = 0, first data byte = 1)
    std::uint32_t ack_off = 0;   // offset from the peer's ISN
    std::uint8_t flags = net::tcpflag::ack;
    std::uint32_t data_off = 0;  // offset into the sender's byte stream (0-based)
    std::uint32_t len = 0;
    bool syn_opts = false;
    bool client_data = false;    // eligible for capture defects
    Nanos burst_end = 0;         // time of the last segment of its burst (client data)
    Nanos rtt = 0;
};

class SessionGen {
public:
    SessionGen(const SessionScript& sc, std::uint32_t sid) : sc_(sc), sid_(sid), rng_(sc.seed ^ (std::uint64_t{sid} << 40)) {
        c_isn_ = rng_.u32();
        s_isn_ = rng_.u32();
        c_ts0_ = rng_.u32();
        s_ts0_ = rng_.u32();
        ip_id_c_ = static_cast<std::uint16_t>(rng_.u32());
        ip_id_s_ = static_cast<std::uint16_t>(rng_.u32());
    }

    void run(std::vector<CapFrame>& out, ExpectedSession& exp);

private:
    // Sends `len` bytes from one side starting at `t`, window-limited; returns the time of the last segment.
    Nanos burst(bool client, Nanos t, std::uint32_t len, Nanos rtt, bool mark_client_data);
    void frame_of(const Seg& s, std::vector<std::uint8_t>& bytes);

    const SessionScript& sc_;
    std::uint32_t sid_;
    Rng rng_;
    std::uint32_t c_isn_, s_isn_, c_ts0_, s_ts0_;
    std::uint16_t ip_id_c_, ip_id_s_;
    std::vector<Seg> segs_;
    std::vector<std::uint8_t> cstream_;  // all client bytes (every request)
    std::vector<std::uint8_t> sstream_;  // all online server bytes (greeting, then each response)
    std::uint32_t c_sent_ = 0;           // client bytes sent
    std::uint32_t s_sent_ = 0;           // server bytes sent
    std::uint32_t c_seen_by_s_ = 0;      // client bytes the server has acknowledged
    std::uint32_t s_seen_by_c_ = 0;      // server bytes the client has acknowledged
    std::uint32_t fin_c_ = 0, fin_s_ = 0;  // 1 once that side's FIN is sent (occupies a sequence number)
};

Nanos SessionGen::burst(bool client, Nanos t, std::uint32_t len, Nanos rtt, bool mark_client_data) {
    const std::uint32_t mss = client ? (sc_.gro_bytes ? sc_.gro_bytes : sc_.client_mss) : sc_.server_mss;
    const std::uint32_t wseg = std::max<std::uint32_t>(1, client && sc_.gro_bytes
                                                               ? std::max<std::uint32_t>(1, sc_.window_segments * sc_.client_mss / sc_.gro_bytes)
                                                               : sc_.window_segments);
    std::uint32_t done = 0, i = 0;
    Nanos last = t;
    const std::size_t first_seg = segs_.size();
    std::uint32_t since_ack = 0;
    while (done < len) {
        const std::uint32_t n = std::min(mss, len - done);
        Seg s;
        s.t = t + (i / wseg) * rtt + (i % wseg) * 12 * kUs;
        s.from_client = client;
        s.flags = static_cast<std::uint8_t>(net::tcpflag::ack | (done + n == len ? net::tcpflag::psh : 0));
        if (client) {
            s.seq_off = 1 + c_sent_;
            s.ack_off = 1 + s_seen_by_c_ + fin_s_;
            s.data_off = c_sent_;
            c_sent_ += n;
        } else {
            s.seq_off = 1 + s_sent_;
            s.ack_off = 1 + c_seen_by_s_ + fin_c_;
            s.data_off = s_sent_;
            s_sent_ += n;
        }
        s.len = n;
        s.client_data = client && mark_client_data;
        segs_.push_back(s);
        last = s.t;
        // The receiver acknowledges every second segment (and the last one).
        ++since_ack;
        if (since_ack == 2 || done + n == len) {
            since_ack = 0;
            Seg a;
            a.from_client = !client;
            if (client) {
                // The server is next to the capture point: its ACK is seen right away.
                a.t = s.t + 5 * kUs;
                c_seen_by_s_ = c_sent_;
                a.seq_off = 1 + s_sent_;
                a.ack_off = 1 + c_seen_by_s_;
            } else {
                // The client's ACK is seen one RTT later.
                a.t = s.t + rtt;
                s_seen_by_c_ = s_sent_;
                a.seq_off = 1 + c_sent_;
                a.ack_off = 1 + s_seen_by_c_;
            }
            segs_.push_back(a);
        }
        done += n;
        ++i;
    }
    for (std::size_t k = first_seg; k < segs_.size(); ++k) {
        segs_[k].burst_end = last;
        segs_[k].rtt = rtt;
    }
    return last;
}

void SessionGen::frame_of(const Seg& s, std::vector<std::uint8_t>& bytes) {
    const bool c = s.from_client;  // sender: the client, else the server
    const net::MacAddr cmac = mac_of(0x0a000000u | (sc_.client_ip.value() & 0xffffff));
    const net::MacAddr smac = mac_of(0x5e000001u);
    const net::L2Spec l2{.src = c ? cmac : smac, .dst = c ? smac : cmac};
    const net::Ipv4Spec ip{.src = c ? sc_.client_ip : sc_.server_ip,
                           .dst = c ? sc_.server_ip : sc_.client_ip,
                           .id = c ? ip_id_c_++ : ip_id_s_++};
    net::TcpSpec tcp;
    tcp.src_port = c ? sc_.client_port : sc_.server_port;
    tcp.dst_port = c ? sc_.server_port : sc_.client_port;
    tcp.seq = net::Seq((c ? c_isn_ : s_isn_) + s.seq_off);
    tcp.ack = net::Seq((c ? s_isn_ : c_isn_) + s.ack_off);
    tcp.flags = s.flags;
    tcp.window = c ? 502 : 509;
    const std::uint32_t ms = static_cast<std::uint32_t>(s.t / kMsec);
    net::TcpTimestamp ts;
    ts.val = (c ? c_ts0_ : s_ts0_) + ms;
    ts.ecr = (c && (s.flags & net::tcpflag::syn)) ? 0 : (c ? s_ts0_ : c_ts0_) + ms;  // the client's SYN echoes nothing
    tcp.options.ts = ts;
    std::vector<std::uint8_t> server_payload;
    if (s.len && c) {
        tcp.payload = net::ConstBytes(cstream_.data() + s.data_off, s.len);
    } else if (s.len) {
        server_payload.resize(s.len);
        for (std::uint32_t j = 0; j < s.len; ++j)
            server_payload[j] = s.data_off + j < sstream_.size() ? sstream_[s.data_off + j]
                                                                  : static_cast<std::uint8_t>('a' + (s.data_off + j) % 26);
        tcp.payload = server_payload;
    }
    if (s.flags & net::tcpflag::syn) {
        tcp.window = s.from_client ? 64240 : 65160;
        tcp.options.mss = static_cast<std::uint16_t>(s.from_client ? sc_.client_mss : sc_.server_mss);
        tcp.options.sack_permitted = true;
        tcp.options.wscale = 7;
    }
    if (s.flags & net::tcpflag::rst) tcp.options.ts.reset();
    bytes.resize(net::tcp_frame_size(l2, tcp));
    const std::size_t n = net::build_tcp(bytes, l2, ip, tcp);
    if (n == 0) throw std::runtime_error("conversation: build_tcp failed");
    bytes.resize(n);
}

void SessionGen::run(std::vector<CapFrame>& out, ExpectedSession& exp) {
    const auto& ex = sc_.exchanges;
    const Nanos rtt0 = ex.empty() ? kMsec : ex.front().rtt;
    // Requests, all of them.
    std::vector<std::uint32_t> req_off(ex.size()), req_first_seg(ex.size());
    for (std::size_t i = 0; i < ex.size(); ++i) {
        req_off[i] = static_cast<std::uint32_t>(cstream_.size());
        append_request(cstream_, sid_, static_cast<std::uint32_t>(i), ex[i].request_bytes);
    }
    // The online server's bytes, in the order it sends them: letters, or HTTP responses.
    for (std::uint32_t j = 0; j < sc_.greeting_bytes; ++j) sstream_.push_back(static_cast<std::uint8_t>('a' + j % 26));
    for (const Exchange& e : ex) {
        if (e.http_status) {
            append_http_response(sstream_, e.http_status, e.response_bytes);
        } else {
            for (std::uint32_t j = 0; j < e.response_bytes; ++j)
                sstream_.push_back(static_cast<std::uint8_t>('a' + sstream_.size() % 26));
        }
    }
    Nanos t = sc_.start;
    // Handshake.
    Seg syn; syn.t = t; syn.flags = net::tcpflag::syn; syn.seq_off = 0; syn.ack_off = 0;
    segs_.push_back(syn);
    Seg synack; synack.t = t + 30 * kUs; synack.from_client = false;
    synack.flags = net::tcpflag::syn | net::tcpflag::ack; synack.seq_off = 0; synack.ack_off = 1;
    segs_.push_back(synack);
    Seg ack3; ack3.t = t + rtt0; ack3.seq_off = 1; ack3.ack_off = 1;
    segs_.push_back(ack3);
    t += rtt0;
    if (sc_.greeting_bytes) {
        Nanos last = burst(false, t + 50 * kUs, sc_.greeting_bytes, rtt0, false);
        t = last + rtt0;
    }
    const std::uint32_t pipe = std::max<std::uint32_t>(1, sc_.pipeline);
    std::vector<Nanos> req_end(ex.size(), 0);
    for (std::size_t g = 0; g < ex.size(); g += pipe) {
        const std::size_t gend = std::min(ex.size(), g + pipe);
        t += ex[g].think;
        Nanos ct = t;
        for (std::size_t i = g; i < gend; ++i) {
            req_first_seg[i] = static_cast<std::uint32_t>(segs_.size());
            ct = burst(true, ct, ex[i].request_bytes, ex[i].rtt, true) + 12 * kUs;
            req_end[i] = ct;
        }
        Nanos st = ct;
        for (std::size_t i = g; i < gend; ++i) {
            st = std::max(st, req_end[i] + ex[i].server_time);
            if (ex[i].response_bytes) st = burst(false, st, ex[i].response_bytes, ex[i].rtt, false) + 12 * kUs;
        }
        t = std::max(st, ct) + ex[gend - 1].rtt;
    }
    // Close.
    t += kMsec;
    if (sc_.close == CloseKind::fin) {
        Seg f; f.t = t; f.flags = net::tcpflag::fin | net::tcpflag::ack;
        f.seq_off = 1 + c_sent_; f.ack_off = 1 + s_sent_;
        segs_.push_back(f);
        fin_c_ = 1;
        Seg sf; sf.t = t + 40 * kUs; sf.from_client = false; sf.flags = net::tcpflag::fin | net::tcpflag::ack;
        sf.seq_off = 1 + s_sent_; sf.ack_off = 2 + c_sent_;
        segs_.push_back(sf);
        fin_s_ = 1;
        Seg la; la.t = t + rtt0; la.seq_off = 2 + c_sent_; la.ack_off = 2 + s_sent_;
        segs_.push_back(la);
    } else if (sc_.close == CloseKind::rst) {
        Seg r; r.t = t; r.flags = net::tcpflag::rst | net::tcpflag::ack;
        r.seq_off = 1 + c_sent_; r.ack_off = 1 + s_sent_;
        segs_.push_back(r);
    }

    // Mid-stream: the capture starts between the previous response and request #k.
    std::size_t k = std::min<std::size_t>(sc_.mid_stream_from, ex.size());
    Nanos cut = 0;
    if (k > 0 && k < ex.size()) {
        const Nanos rq = segs_[req_first_seg[k]].t;
        const Nanos prev = segs_[req_first_seg[k - 1]].t;
        cut = prev + (rq - prev) * 3 / 4;  // usually inside the previous response
        // ... but never inside the previous request's own data.
        for (std::size_t j = req_first_seg[k - 1]; j < req_first_seg[k]; ++j)
            if (segs_[j].from_client && segs_[j].len) cut = std::max(cut, segs_[j].t + 1);
        if (cut >= rq) cut = rq - 1;
    } else if (k >= ex.size() && k > 0) {
        cut = t + 1;  // nothing of the session's data is captured
    }

    // Capture defects on client data segments.
    struct Emitted { Seg s; Nanos when; };
    std::vector<Emitted> caps;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> lost;  // client stream ranges
    for (const Seg& s : segs_) {
        if (s.t < cut) continue;
        if (s.client_data && s.len) {
            const std::uint64_t r = rng_.next() % 1'000'000;
            const double p = static_cast<double>(r) / 1e6;
            double acc = sc_.loss;
            if (p < acc) { lost.emplace_back(s.data_off, s.data_off + s.len); continue; }
            acc += sc_.dup;
            if (p < acc) { caps.push_back({s, s.t}); caps.push_back({s, s.t + 3 * kUs}); continue; }
            acc += sc_.retrans;
            // A spurious retransmission: the client's RTO fired before the ACK reached it, so
            // the copy is captured less than one RTT after the original.
            if (p < acc) { caps.push_back({s, s.t}); caps.push_back({s, s.t + rng_.range(s.rtt / 4, s.rtt)}); continue; }
            acc += sc_.late;
            // Lost before the server and retransmitted: captured after the rest of its burst
            // (and before the server's answer, which needs it).
            if (p < acc) { caps.push_back({s, s.burst_end + 5 * kUs}); continue; }
        }
        caps.push_back({s, s.t});
    }
    for (const Emitted& e : caps) {
        CapFrame f;
        f.t = e.when;
        frame_of(e.s, f.bytes);
        out.push_back(std::move(f));
    }

    // Expected result.
    exp.original = net::FlowKey{sc_.client_ip, sc_.server_ip, sc_.client_port, sc_.server_port};
    exp.start = sc_.start;
    exp.close = sc_.close;
    exp.greeting_bytes = sc_.greeting_bytes;
    exp.first_idx = static_cast<std::uint32_t>(k);
    exp.captured = k < ex.size() || sc_.close != CloseKind::none;
    const std::uint32_t base = k < ex.size() ? req_off[k] : static_cast<std::uint32_t>(cstream_.size());
    exp.stream.assign(cstream_.begin() + base, cstream_.end());
    for (std::size_t i = k; i < ex.size(); ++i) {
        exp.req_offset.push_back(req_off[i] - base);
        exp.req_len.push_back(ex[i].request_bytes);
    }
    exp.may_lose.assign(exp.req_offset.size(), false);
    exp.has_gap = !lost.empty();
    // A request is a boundary the engine can detect when its first segment acknowledges
    // online server data that the previous client data segment did not.
    auto detectable = [&](std::size_t i) {
        if (i == 0) return true;
        const Seg& first = segs_[req_first_seg[i]];
        // previous client data segment
        for (std::size_t j = req_first_seg[i]; j-- > 0;) {
            const Seg& p = segs_[j];
            if (p.from_client && p.len) return first.ack_off != p.ack_off;
        }
        return true;
    };
    for (std::size_t i = k; i < ex.size(); ++i) exp.boundary.push_back(detectable(i));
    for (const auto& [a, b] : lost) {
        (void)b;
        std::size_t r = 0;
        while (r + 1 < ex.size() && req_off[r + 1] <= a) ++r;
        for (std::size_t i = r; i < ex.size(); ++i) {
            if (i > r && detectable(i)) break;
            if (i >= k) exp.may_lose[i - k] = true;
        }
    }
}

}  // namespace

Capture generate(const std::vector<SessionScript>& scripts, std::uint32_t sid_base) {
    Capture cap;
    cap.sessions.resize(scripts.size());
    for (std::size_t i = 0; i < scripts.size(); ++i) {
        const std::uint32_t sid = sid_base + static_cast<std::uint32_t>(i);
        cap.sessions[i].sid = sid;
        SessionGen g(scripts[i], sid);
        g.run(cap.frames, cap.sessions[i]);
    }
    std::stable_sort(cap.frames.begin(), cap.frames.end(), [](const CapFrame& a, const CapFrame& b) { return a.t < b.t; });
    return cap;
}

void append_http_response(std::vector<std::uint8_t>& out, std::uint16_t status, std::uint32_t size) {
    // the header's length depends on the body's length's digits: settle it in two steps
    std::string head;
    std::uint32_t body = 0;
    for (int pass = 0; pass < 3; ++pass) {
        head = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body) + "\r\n\r\n";
        body = size > head.size() ? size - static_cast<std::uint32_t>(head.size()) : 0;
    }
    if (head.size() + body != size) throw std::runtime_error("append_http_response: size too small");
    out.insert(out.end(), head.begin(), head.end());
    for (std::uint32_t j = 0; j < body; ++j) out.push_back(static_cast<std::uint8_t>('a' + j % 26));
}

}  // namespace dpcopy::sim
