// fuzz_engine's events: captured client/server frames of 16 flows (2 clients x 4 ports x
// 2 online servers), target frames answering what the engine sent (learnt from its frames),
// raw frames, bursts, time steps and finish_input, each decoded from a few input bytes.
#pragma once

#include <array>
#include <map>
#include <tuple>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "tests/fuzz/engine_checks.hpp"

namespace dpcopy_fuzz {

namespace tf = net::tcpflag;
using Frame = std::vector<std::uint8_t>;

inline Frame tcp_frame(const FlowKey& k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::size_t len,
                       std::uint16_t win = 65535, std::optional<std::uint16_t> mss = std::nullopt) {
    static std::array<std::uint8_t, 1460> pattern = [] {
        std::array<std::uint8_t, 1460> p{};
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>('a' + i % 26);
        return p;
    }();
    const net::L2Spec l2{.src = MacAddr{{2, 0, 0, 0, 0, 9}}, .dst = kLocalMac};
    const net::Ipv4Spec ip{.src = k.src_ip, .dst = k.dst_ip};
    net::TcpSpec t{.src_port = k.src_port, .dst_port = k.dst_port, .seq = net::Seq(seq), .ack = net::Seq(ack),
                   .flags = flags, .window = win, .options = {}, .payload = ConstBytes(pattern.data(), std::min(len, pattern.size()))};
    t.options.mss = mss;
    Frame f(net::tcp_frame_size(l2, t));
    const std::size_t n = net::build_tcp(net::Bytes(f.data(), f.size()), l2, ip, t);
    FUZZ_CHECK(n > 0);
    f.resize(n);
    return f;
}

struct Flow {
    FlowKey c2s;
    std::uint32_t cisn = 0, sisn = 0;
    std::uint32_t c_next = 0, s_next = 0;  // next client / server sequence
};

struct TargetSide {
    std::uint32_t isn = 0, next = 0;
};

class Driver {
public:
    Driver(Engine& e, Checker& chk) : e_(e), chk_(chk) {
        for (std::uint32_t i = 0; i < flows_.size(); ++i) {
            Flow& f = flows_[i];
            f.c2s = FlowKey{kClients[i & 1], kOnline[(i >> 3) & 1], Port(static_cast<std::uint16_t>(40000 + ((i >> 1) & 3))),
                            kOnlinePorts[(i >> 3) & 1]};
            f.cisn = 1000 + i * 100000;
            f.sisn = 3'000'000'000u + i * 100000;
            f.c_next = f.cisn, f.s_next = f.sisn;
        }
    }

    void event(Input& in) {
        now_ += 10'000;
        const std::uint8_t op = in.u8();
        switch (op % 10) {
        case 0: case 1: case 2: return captured(client_frame(in));
        case 3: return captured(server_frame(in));
        case 4: case 5: case 6: return target_frame(in);
        case 7: return advance(in.u8());
        case 8: {
            std::vector<Frame> fs;
            for (int n = 2 + in.u8() % 3; n > 0; --n) fs.push_back(in.u8() & 1 ? client_frame(in) : server_frame(in));
            std::vector<ConstBytes> spans;
            for (const Frame& f : fs) spans.emplace_back(f.data(), f.size());
            chk_.captured += spans.size();
            return e_.on_captured_burst(spans, net::LinkType::ethernet, now_);
        }
        default: return special(in);
        }
    }

    // finish_input, then time until every session has had every chance to end.
    void drain() {
        e_.finish_input(now_);
        for (int i = 0; i < 600 && !e_.idle(); ++i) {
            now_ += 500 * kMs;
            e_.advance(now_);
            chk_.check();
        }
    }

private:
    static std::uint32_t payload_len(std::uint8_t b) {
        static constexpr std::uint32_t lens[8] = {0, 0, 1, 10, 100, 536, 1000, 1460};
        return lens[b & 7];
    }

    void captured(const Frame& f) {
        ++chk_.captured;
        e_.on_captured(ConstBytes(f.data(), f.size()), net::LinkType::ethernet, now_);
    }

    Frame client_frame(Input& in) {
        Flow& f = flows_[in.u8() % flows_.size()];
        const std::uint8_t b = in.u8();
        const std::uint32_t len = payload_len(in.u8());
        static constexpr std::uint8_t flag_set[8] = {tf::syn, tf::ack, tf::ack | tf::psh, tf::ack | tf::psh,
                                                     tf::fin | tf::ack, tf::rst, tf::rst | tf::ack, tf::ack | tf::psh};
        const std::uint8_t flags = flag_set[b & 7];
        std::uint32_t seq = f.c_next;
        switch ((b >> 3) & 3) {
        case 1: seq = f.c_next - (len ? len : 1); break;            // retransmission
        case 2: seq = f.c_next + 1 + std::uint32_t{in.u8()} * 8; break;  // gap
        case 3: seq = f.c_next + in.u16(); break;
        default: break;
        }
        if (flags == tf::syn) {
            if (b & 0x20) f.cisn += 1'000'000;  // a new connection reusing the port
            seq = f.c_next = f.cisn;
        }
        const std::uint32_t ack = (b & 0x40) ? f.s_next - in.u8() : f.s_next;
        const std::size_t n = flags == tf::syn || (flags & tf::rst) ? 0 : len;
        const std::uint32_t end = seq + static_cast<std::uint32_t>(n) + ((flags & (tf::syn | tf::fin)) ? 1 : 0);
        if (static_cast<std::int32_t>(end - f.c_next) > 0) f.c_next = end;
        return tcp_frame(f.c2s, seq, flags == tf::syn ? 0 : ack, flags, n, 65535,
                         flags == tf::syn ? std::optional<std::uint16_t>(1460) : std::nullopt);
    }

    Frame server_frame(Input& in) {
        Flow& f = flows_[in.u8() % flows_.size()];
        const std::uint8_t b = in.u8();
        const std::uint32_t len = payload_len(in.u8());
        static constexpr std::uint8_t flag_set[4] = {tf::syn | tf::ack, tf::ack, tf::fin | tf::ack, tf::rst};
        const std::uint8_t flags = (b & 4) ? tf::ack : flag_set[b & 3];
        if (flags & tf::syn) f.s_next = f.sisn;
        const std::uint32_t seq = f.s_next;
        const std::size_t n = (flags & (tf::syn | tf::rst)) ? 0 : len;
        f.s_next += static_cast<std::uint32_t>(n) + ((flags & (tf::syn | tf::fin)) ? 1 : 0);
        return tcp_frame(f.c2s.reversed(), seq, f.c_next, flags, n);
    }

    void target_frame(Input& in) {
        if (chk_.tuples.empty()) return advance(in.u8());
        const std::size_t i = in.u8() % chk_.tuples.size();
        const Tuple& t = chk_.tuples[i];
        TargetSide& s = target_[t.key];
        const std::uint8_t b = in.u8();
        const FlowKey k = t.key.reversed();
        std::uint32_t ack = t.next;
        std::uint16_t win = 65535;
        Frame fr;
        switch (b & 7) {
        case 0:
            s.isn = 70'000'000u + static_cast<std::uint32_t>(i) * 1000 + in.u8();
            s.next = s.isn + 1;
            fr = tcp_frame(k, s.isn, t.syn_seq + 1, tf::syn | tf::ack, 0, 65535,
                           (b & 8) ? std::optional<std::uint16_t>(536) : std::optional<std::uint16_t>(1460));
            break;
        case 1: fr = tcp_frame(k, s.next, ack, tf::ack, 0); break;
        case 2: {
            const std::uint32_t len = payload_len(in.u8());
            fr = tcp_frame(k, s.next, ack, tf::ack | tf::psh, len);
            s.next += len;
            break;
        }
        case 3: fr = tcp_frame(k, s.next, ack, tf::fin | tf::ack, 0); s.next += 1; break;
        case 4: fr = tcp_frame(k, s.next, ack, (b & 8) ? tf::rst : tf::rst | tf::ack, 0); break;
        case 5: ack -= 1 + in.u8(); fr = tcp_frame(k, s.next, ack, tf::ack, 0); break;  // old / duplicate ACK
        case 6: win = (b & 8) ? 0 : 512; fr = tcp_frame(k, s.next, ack, tf::ack, 0, win); break;
        default: fr = tcp_frame(k, in.u32(), in.u32(), in.u8(), payload_len(in.u8())); break;
        }
        ++chk_.target;
        e_.on_target(ConstBytes(fr.data(), fr.size()), now_);
    }

    void advance(std::uint8_t b) {
        static constexpr Nanos steps[8] = {kMs, 5 * kMs, 50 * kMs, 200 * kMs, kSec, 3 * kSec, 10 * kSec, 70 * kSec};
        now_ += steps[b & 7];
        e_.advance(now_);
    }

    void special(Input& in) {
        const std::uint8_t b = in.u8();
        const auto raw = in.bytes(in.u8());
        switch (b & 3) {
        case 0: {
            const net::LinkType link = (b & 4) ? net::LinkType::raw_ipv4 : net::LinkType::ethernet;
            net::PacketView v;
            if (net::parse_frame(raw, v, link) == net::ParseError::ok) chk_.raw_clients.insert(v.key.src_ip.value());
            ++chk_.captured;
            return e_.on_captured(raw, link, now_);
        }
        case 1: {
            // A target frame of the input's bytes: an RST answering it goes back to its source.
            net::PacketView v;
            if (net::parse_frame(raw, v) == net::ParseError::ok && v.l4 == net::L4Kind::tcp)
                chk_.junk_sources.insert({v.key.src_ip.value(), v.key.src_port.value()});
            ++chk_.target;
            return e_.on_target(raw, now_);
        }
        case 2:
            if (!finished_) e_.finish_input(now_);
            finished_ = true;
            return;
        default: return e_.set_next_hop_mac(kNextHopMac);
        }
    }

    struct KeyLess {
        bool operator()(const FlowKey& a, const FlowKey& b) const {
            return std::tie(a.src_ip, a.dst_ip, a.src_port, a.dst_port) < std::tie(b.src_ip, b.dst_ip, b.src_port, b.dst_port);
        }
    };

    Engine& e_;
    Checker& chk_;
    Nanos now_ = kSec;
    bool finished_ = false;
    std::array<Flow, 16> flows_{};
    std::map<FlowKey, TargetSide, KeyLess> target_;
};

}  // namespace dpcopy_fuzz
