// dpcopy's side of the control protocol; see control_client.hpp.
#include "lib/control/control_client.hpp"

#include <algorithm>
#include <cstring>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"

namespace dpcopy::io {

namespace ctl = control;

constexpr std::uint64_t kSameInterceptNs = 1'000'000'000;

ControlSnapshot control_snapshot(const ControlClientCounters& c) {
    ControlSnapshot s;
    s.subscribes_sent = c[ControlClientCounter::subscribes_sent];
    s.unsubscribes_sent = c[ControlClientCounter::unsubscribes_sent];
    s.subscribe_no_mac = c[ControlClientCounter::subscribe_no_mac];
    s.datagrams_rx = c[ControlClientCounter::datagrams_rx];
    s.accepted = c.rejects.accepted;
    s.records = c[ControlClientCounter::records];
    s.datagrams_lost = c[ControlClientCounter::seq_gaps];
    s.intercept_restarts = c[ControlClientCounter::intercept_restarts];
    s.resubscribed = c[ControlClientCounter::resubscribed];
    s.from_strangers = c[ControlClientCounter::not_from_intercept];
    s.wrong_type = c[ControlClientCounter::wrong_type];
    s.records_not_target = c[ControlClientCounter::records_not_target];
    s.records_not_client = c[ControlClientCounter::records_not_client];
    for (std::size_t i = 1; i < ctl::kRejectCount; ++i)
        s.rejects.emplace_back(ctl::reject_name(static_cast<ctl::Reject>(i)), c.rejects.by_reason[i]);
    return s;
}

control::Subscribe make_subscription(const std::vector<std::pair<net::Ipv4Addr, net::Ipv4Addr>>& clients,
                                     std::uint16_t port_lo, std::uint16_t port_hi,
                                     const std::vector<std::pair<net::Ipv4Addr, net::Port>>& targets) {
    ctl::Subscribe s;
    s.heartbeat_ms = 1000;
    s.expire_after = 3;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> r;
    for (const auto& [a, b] : clients) r.emplace_back(std::max<std::uint32_t>(a.value(), 1), b.value());
    if (r.empty()) r.emplace_back(1, 0xffffffffu);  // the original client addresses: any
    if (r.size() > ctl::kMaxClientRanges) {
        std::uint32_t lo = 0xffffffffu, hi = 0;
        for (const auto& [a, b] : r) lo = std::min(lo, a), hi = std::max(hi, b);
        r.assign(1, {lo, hi});
    }
    for (const auto& [a, b] : r)
        s.clients[s.n_clients++] = {a, b, std::max<std::uint16_t>(port_lo, 1), port_hi};
    if (targets.size() <= ctl::kMaxTargets) {
        for (const auto& [ip, port] : targets) s.targets[s.n_targets++] = {ip.value(), port.value()};
    }  // more targets than fit: 0 = responses from any source
    return s;
}

namespace {
RecordFilter filter_of(const ctl::Subscribe& s) {
    RecordFilter f;
    for (std::size_t i = 0; i < s.n_targets; ++i) f.targets.push_back({s.targets[i].ip, s.targets[i].port});
    f.any_target = s.n_targets == 0;
    f.port_lo = 0xffff;
    f.port_hi = 0;
    for (std::size_t i = 0; i < s.n_clients; ++i) {
        f.clients.emplace_back(s.clients[i].first_ip, s.clients[i].last_ip);
        f.port_lo = std::min(f.port_lo, s.clients[i].first_port);
        f.port_hi = std::max(f.port_hi, s.clients[i].last_port);
    }
    return f;
}
}  // namespace

ControlClient::ControlClient(ControlClientConfig cfg, Resolver resolve)
    : cfg_(std::move(cfg)), resolve_(std::move(resolve)) {
    if (cfg_.key) key_ = &*cfg_.key;
    filter_ = cfg_.filter ? *cfg_.filter : filter_of(cfg_.sub);
    for (const auto& ep : cfg_.intercepts) peers_.push_back(Peer{ep, {}, false});
}

bool ControlClient::send(Peer& p, ctl::Type type, std::uint64_t now, session::FrameSink& out) {
    const auto mac = resolve_(p.ep.ip);
    if (!mac) {
        if (!p.no_mac) ++ctr_[ControlClientCounter::subscribe_no_mac];
        p.no_mac = true;
        return false;
    }
    p.no_mac = false;
    ctl::Header h;
    h.instance = cfg_.instance;
    h.epoch = cfg_.epoch;
    h.seq = ++seq_;
    h.ts_ns = now;
    const ctl::Endpoint reply{cfg_.ip.value(), cfg_.control_port.value()};
    ctl::Subscribe& sub = cfg_.sub;
    sub.reply = reply;
    const std::size_t n = type == ctl::Type::subscribe ? ctl::encode_subscribe(dgram_, h, sub, key_)
                                                       : ctl::encode_unsubscribe(dgram_, h, reply, key_);
    if (n == 0) return false;
    const std::size_t len = net::build_udp(out_, net::L2Spec{cfg_.mac, *mac, cfg_.vlan_count, cfg_.vlans}, net::Ipv4Spec{cfg_.ip, p.ep.ip},
                                           cfg_.control_port, p.ep.port, net::ConstBytes(dgram_.data(), n));
    if (len == 0) return false;
    out.emit(net::ConstBytes(out_.data(), len));
    if (type == ctl::Type::subscribe) ++ctr_[ControlClientCounter::subscribes_sent];
    else ++ctr_[ControlClientCounter::unsubscribes_sent];
    return true;
}

void ControlClient::poll(std::uint64_t now, session::FrameSink& out) {
    const std::uint64_t period = std::uint64_t{cfg_.sub.heartbeat_ms} * 1'000'000ULL;
    for (auto& p : peers_) {
        // (a next_due more than one period ahead: the wall clock stepped back; send now)
        if (now < p.next_due && p.next_due - now <= period) continue;
        p.next_due = now + (send(p, ctl::Type::subscribe, now, out) ? period : 0);
    }
}

void ControlClient::stop(std::uint64_t now, session::FrameSink& out) {
    for (auto& p : peers_) send(p, ctl::Type::unsubscribe, now, out);
}

bool ControlClient::is_control(const net::PacketView& v) const noexcept {
    return v.l4 == net::L4Kind::udp && v.key.dst_ip == cfg_.ip && v.key.dst_port == cfg_.control_port;
}

void ControlClient::on_datagram(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now,
                                session::FrameSink& records) {
    ++ctr_[ControlClientCounter::datagrams_rx];
    Peer* peer = nullptr;
    for (auto& p : peers_)
        if (p.ep.ip == v.key.src_ip && p.ep.port == v.key.src_port) peer = &p;
    if (!peer) {
        ++ctr_[ControlClientCounter::not_from_intercept];
        return;
    }
    ctl::Datagram d;
    const ctl::Reject r = ctl::decode(v.payload(frame), key_, now, cfg_.max_skew_ns, d);
    if (r != ctl::Reject::none) {
        ctr_.rejects.add(r);
        return;
    }
    if (d.h.type != ctl::Type::records || d.h.instance != cfg_.instance) {
        ++ctr_[ControlClientCounter::wrong_type];
        return;
    }
    // bound to us (our epoch, our address): a datagram for another dpcopy, even one with our
    // -f and a newer intercept epoch, is refused before it can move our replay window
    if (d.to != ctl::Subscriber{cfg_.epoch, {cfg_.ip.value(), cfg_.control_port.value()}}) {
        ctr_.rejects.add(ctl::Reject::not_for_us);
        return;
    }
    const std::uint64_t prev_epoch = peer->window.epoch();
    const auto w = peer->window.accept(d.h.epoch, d.h.seq);
    if (w.reject != ctl::Reject::none) {
        ctr_.rejects.add(w.reject);
        return;
    }
    ctr_.rejects.add(ctl::Reject::none);
    if (w.new_epoch) {
        // An intercept's epochs are its start time (ns), then +1 for each subscription it
        // creates: a step under 1 s is the same intercept, a larger one a restart.
        if (peer->seen) {
            ++ctr_[d.h.epoch - prev_epoch < kSameInterceptNs ? ControlClientCounter::resubscribed
                                                             : ControlClientCounter::intercept_restarts];
        }
        peer->seen = true;
    }
    ctr_[ControlClientCounter::seq_gaps] += w.gap;
    deliver(d, frame, records);
}

void ControlClient::deliver(const ctl::Datagram& d, net::ConstBytes frame, session::FrameSink& records) {
    // rebuilt frames: Ethernet (intercept -> us), then the record, zeros up to the IP total length
    const net::EthHdr eth = net::EthHdr::read(frame);
    net::EthHdr e{cfg_.mac, eth.src, 0x0800};
    e.write(net::Bytes(frame_.data(), net::EthHdr::size));
    auto it = d.record_iter();
    ctl::RecordView rv;
    while (it.next(rv)) {
        const std::uint8_t* ip = rv.bytes.data();
        const std::uint8_t* tcp = ip + rv.ip_header_len;
        const auto ld32 = [](const std::uint8_t* p) {
            return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        };
        const auto ld16 = [](const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); };
        const RecordVerdict verdict = filter_.check(ld32(ip + 12), ld16(tcp), ld32(ip + 16), ld16(tcp + 2));
        if (verdict != RecordVerdict::ok) {
            ++ctr_[verdict == RecordVerdict::not_target ? ControlClientCounter::records_not_target
                                                        : ControlClientCounter::records_not_client];
            continue;
        }
        std::memcpy(frame_.data() + net::EthHdr::size, rv.bytes.data(), rv.bytes.size());
        std::memset(frame_.data() + net::EthHdr::size + rv.bytes.size(), 0, rv.ip_total_len - rv.bytes.size());
        ++ctr_[ControlClientCounter::records];
        records.emit(net::ConstBytes(frame_.data(), net::EthHdr::size + rv.ip_total_len));
    }
}

}  // namespace dpcopy::io
