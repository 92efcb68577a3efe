// The engine tests' rig: frames of a scripted conversation (Conv), an engine with a
// recording sink (Rig), an open session (OpenRig). Shared by the engine test files.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"
#include "lib/session/engine.hpp"

using namespace dpcopy;
using namespace dpcopy::session;
using net::Seq;
namespace tf = net::tcpflag;

namespace {

const net::Ipv4Addr kClient = net::Ipv4Addr::from_octets(10, 0, 0, 1);
const net::Ipv4Addr kOnline = net::Ipv4Addr::from_octets(192, 168, 1, 10);
const net::Ipv4Addr kTarget = net::Ipv4Addr::from_octets(192, 168, 2, 20);
const net::Ipv4Addr kFake = net::Ipv4Addr::from_octets(10, 9, 0, 1);
const net::Port kOnlinePort{80};
const net::Port kTargetPort{8080};

using Frame = std::vector<std::uint8_t>;

struct Sink : FrameSink {
    std::vector<Frame> frames;
    void emit(ConstBytes f) override { frames.emplace_back(f.begin(), f.end()); }
    std::vector<Frame> take() {
        std::vector<Frame> v;
        v.swap(frames);
        return v;
    }
};

struct Seg {
    net::FlowKey key;
    net::TcpHdr h;
    net::TcpOptions o;
    std::vector<std::uint8_t> payload;
    bool has(std::uint8_t f) const { return h.has(f); }
};

inline Seg parse(const Frame& f) {
    net::PacketView v;
    REQUIRE(net::parse_frame(net::ConstBytes(f.data(), f.size()), v) == net::ParseError::ok);
    REQUIRE(v.l4 == net::L4Kind::tcp);
    REQUIRE(net::ipv4_checksum_ok(net::ConstBytes(f.data(), f.size()), v));
    REQUIRE(net::l4_checksum_ok(net::ConstBytes(f.data(), f.size()), v));
    Seg s;
    s.key = v.key;
    s.h = net::TcpHdr::read(net::ConstBytes(f.data(), f.size()).subspan(v.l4_off));
    auto o = net::TcpOptions::read(v.tcp_options(net::ConstBytes(f.data(), f.size())));
    REQUIRE(o);
    s.o = *o;
    auto p = v.payload(net::ConstBytes(f.data(), f.size()));
    s.payload.assign(p.begin(), p.end());
    return s;
}

inline std::vector<Seg> parse_all(const std::vector<Frame>& fs) {
    std::vector<Seg> v;
    for (auto& f : fs) v.push_back(parse(f));
    return v;
}

inline Frame tcp(net::FlowKey k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::vector<std::uint8_t> payload = {},
          net::TcpOptions o = {}, std::uint16_t win = 65535) {
    const net::L2Spec l2{.src = net::MacAddr{{2, 0, 0, 0, 0, 1}}, .dst = net::MacAddr{{2, 0, 0, 0, 0, 2}}};
    const net::Ipv4Spec ip{.src = k.src_ip, .dst = k.dst_ip};
    const net::TcpSpec t{.src_port = k.src_port, .dst_port = k.dst_port, .seq = Seq(seq), .ack = Seq(ack), .flags = flags,
                         .window = win, .options = o, .payload = net::ConstBytes(payload.data(), payload.size())};
    Frame f(net::tcp_frame_size(l2, t) + 64);
    const std::size_t n = net::build_tcp(net::Bytes(f.data(), f.size()), l2, ip, t);
    REQUIRE(n > 0);
    f.resize(n);
    return f;
}

inline std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
    return v;
}

inline EngineConfig base_config() {
    EngineConfig c;
    c.transfers.push_back(TransferMap{std::nullopt, kOnlinePort, kTarget, kTargetPort});
    c.clients = {kFake};
    c.max_sessions = 4096;
    c.max_queued_segments = 4096;
    return c;
}

// One client conversation: captured frames in both directions and the target's answers.
struct Conv {
    net::FlowKey c2s{kClient, kOnline, net::Port(40000), kOnlinePort};
    net::FlowKey xlat{};  // learnt from the engine's SYN
    std::uint32_t cisn = 1000;   // client ISN
    std::uint32_t sisn = 7000;   // online server ISN
    std::uint32_t tisn = 90000;  // target ISN
    Frame csyn(net::TcpOptions o = {}) { return tcp(c2s, cisn, 0, tf::syn, {}, o); }
    Frame cdata(std::uint32_t rel_seq, std::uint32_t rel_ack, std::vector<std::uint8_t> p, std::uint8_t extra = 0) {
        return tcp(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, static_cast<std::uint8_t>(tf::ack | tf::psh | extra), p);
    }
    Frame cack(std::uint32_t rel_seq, std::uint32_t rel_ack) { return tcp(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, tf::ack); }
    Frame cfin(std::uint32_t rel_seq, std::uint32_t rel_ack) {
        return tcp(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, tf::fin | tf::ack);
    }
    Frame crst(std::uint32_t rel_seq) { return tcp(c2s, cisn + 1 + rel_seq, 0, tf::rst); }
    Frame ssynack() { return tcp(c2s.reversed(), sisn, cisn + 1, tf::syn | tf::ack); }
    Frame sdata(std::uint32_t rel_seq, std::uint32_t rel_ack, std::size_t n) {
        return tcp(c2s.reversed(), sisn + 1 + rel_seq, cisn + 1 + rel_ack, tf::ack, bytes(n, 9));
    }
    // target side (seq/ack relative to the target's and the client's ISNs)
    Frame tsynack(std::uint32_t ack_abs, net::TcpOptions o = {}, std::uint16_t win = 65535) {
        return tcp(xlat.reversed(), tisn, ack_abs, tf::syn | tf::ack, {}, o, win);
    }
    Frame tack(std::uint32_t rel_seq, std::uint32_t ack_abs, std::uint16_t win = 65535, std::size_t n = 0,
               std::uint8_t extra = 0, net::TcpOptions o = {}) {
        return tcp(xlat.reversed(), tisn + 1 + rel_seq, ack_abs, static_cast<std::uint8_t>(tf::ack | extra), bytes(n, 3), o, win);
    }
};

struct Rig {
    Sink sink;
    std::unique_ptr<Engine> e;
    Nanos now = 1 * kSec;
    explicit Rig(const EngineConfig& c) {
        std::string err;
        e = Engine::create(c, sink, err);
        INFO(err);
        REQUIRE(e);
    }
    void cap(const Frame& f) { e->on_captured(net::ConstBytes(f.data(), f.size()), net::LinkType::ethernet, now); }
    void tgt(const Frame& f) { e->on_target(net::ConstBytes(f.data(), f.size()), now); }
    void step(Nanos d) {
        now += d;
        e->advance(now);
    }
    // time passes with the worker running (advance every millisecond): quiet time counts
    void run_for(Nanos d) {
        for (Nanos t = 0; t < d; t += kMs) step(kMs);
    }
    std::vector<Seg> out() { return parse_all(sink.take()); }
    std::uint64_t c(Counter k) const { return e->counters()[k]; }
    // a captured frame that the engine sends at once, as one frame
    void cap_sent(const Frame& f) {
        cap(f);
        REQUIRE(out().size() == 1);
    }
    // the target accepts the engine's SYN `syn` of conversation cv: what the engine sends then
    std::vector<Seg> accept(Conv& cv, const Seg& syn, std::uint32_t ack_abs, net::TcpOptions o = {}) {
        cv.xlat = syn.key;
        tgt(cv.tsynack(ack_abs, o));
        return out();
    }
};

// base_config() with one field changed
template <class M>
EngineConfig config_with(M EngineConfig::*field, std::type_identity_t<M> value) {
    EngineConfig c = base_config();
    c.*field = value;
    return c;
}

// Opens a session: captured SYN, engine SYN, target SYN-ACK, engine ACK. Returns the engine's SYN.
inline net::TcpOptions mss_option(std::uint16_t mss) {
    net::TcpOptions o;
    o.mss = mss;
    return o;
}

inline Seg open(Rig& r, Conv& cv, net::TcpOptions syn_opts = {}, net::TcpOptions synack_opts = mss_option(1460)) {
    r.cap(cv.csyn(syn_opts));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    REQUIRE(o[0].has(tf::syn));
    cv.xlat = o[0].key;
    r.cap(cv.ssynack());
    r.cap(cv.cack(0, 0));
    CHECK(r.out().empty());  // captured pure ACKs are not forwarded
    r.tgt(cv.tsynack(cv.cisn + 1, synack_opts));
    auto a = r.out();
    REQUIRE(a.size() == 1);
    CHECK(a[0].h.flags == tf::ack);
    CHECK(a[0].h.ack == Seq(cv.tisn + 1));
    CHECK(a[0].h.seq == Seq(cv.cisn + 1));
    return o[0];
}

// A rig with one conversation whose session is open (see open()); syn is the engine's SYN.
struct OpenRig : Rig {
    Conv cv;
    Seg syn;
    explicit OpenRig(const EngineConfig& c = base_config()) : Rig(c), syn(open(*this, cv)) {}
    // request 1 (req1 bytes, sent at once), its online response (resp bytes), then request 2
    // (req2 bytes, acking that response: held until the target has answered as much)
    void two_requests(std::uint32_t req1, std::uint32_t resp, std::uint32_t req2) {
        cap_sent(cv.cdata(0, 0, bytes(req1, 1)));
        cap(cv.sdata(0, req1, resp));
        cap(cv.cdata(req1, resp, bytes(req2, 2)));
    }
    // two_requests(10, 5000, 10), but the target answers request 1 with 40 bytes only
    void hold_after_short_response() {
        two_requests(10, 5000, 10);
        tgt(cv.tack(0, cv.cisn + 11, 65535, 40));
        CHECK(out().size() == 1);  // our ACK; request 2 stays held
    }
    // o: the engine's RST of the session's connection, then its SYN of a new one at cisn + rel_seq
    void check_reset_reopened(const std::vector<Seg>& o, std::uint32_t rel_seq) {
        REQUIRE(o.size() == 2);
        CHECK((o[0].h.flags & tf::rst) != 0);
        CHECK(o[0].key == syn.key);
        CHECK(o[1].h.flags == tf::syn);
        CHECK(o[1].h.seq == Seq(cv.cisn + rel_seq));
    }
    // request 2 of hold_after_short_response() released by the target's quiet time
    void check_released_quiet() {
        auto o = out();
        REQUIRE(o.size() == 1);
        CHECK(o[0].payload == bytes(10, 2));
        CHECK(c(Counter::requests_released_quiet) == 1);
    }
};

inline std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace
