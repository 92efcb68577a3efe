// Test support shared by the control-protocol tests (the in-memory unit tests and the
// DPDK ones): the addresses of dpcopy, dpintercept and the target, a FrameSink that keeps
// every frame, a frame parser that must succeed, the target's responses, the wall clock.
// No DPDK here.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <ctime>
#include <vector>

#include "lib/control/control_codec.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::testing {

using net::Ipv4Addr;
using net::MacAddr;
using net::Port;
namespace ctl = io::control;
using Buf = std::vector<std::uint8_t>;

inline constexpr std::uint64_t kT0 = 1'700'000'000'000'000'000ULL;  // a fixed "now" for the in-memory tests
inline const MacAddr kIcMac{{0x02, 0, 0, 0, 0, 0x03}};
inline const MacAddr kCopyMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kTargetMac{{0x02, 0, 0, 0, 0, 0x02}};
inline const Ipv4Addr kIcIp = Ipv4Addr::from_octets(198, 18, 0, 3);
inline const Ipv4Addr kCopyIp = Ipv4Addr::from_octets(198, 18, 0, 1);
inline const Ipv4Addr kTarget = Ipv4Addr::from_octets(198, 18, 0, 2);

// Keeps every frame it is given.
struct Sink : session::FrameSink {
    std::vector<Buf> frames;
    void emit(net::ConstBytes f) override { frames.emplace_back(f.begin(), f.end()); }
};

inline net::PacketView parse(const Buf& f) {
    net::PacketView v;
    REQUIRE(net::parse_frame(f, v) == net::ParseError::ok);
    return v;
}

// A segment of the target (kTargetMac, kTarget) from port `sport` to `client`:`dport`,
// addressed to the intercept's MAC `ic_mac`, with TCP timestamps `ts`: a response the
// intercept is to capture.
inline Buf target_segment(MacAddr ic_mac, Ipv4Addr client, std::uint16_t sport, std::uint16_t dport, net::Seq seq,
                          net::Seq ack, net::TcpTimestamp ts, const Buf& payload) {
    net::TcpSpec t;
    t.src_port = Port(sport);
    t.dst_port = Port(dport);
    t.seq = seq;
    t.ack = ack;
    t.options.ts = ts;
    t.payload = payload;
    Buf f(4096);
    f.resize(net::build_tcp(f, net::L2Spec{kTargetMac, ic_mac, 0, {}}, net::Ipv4Spec{kTarget, client}, t));
    REQUIRE(!f.empty());
    return f;
}

inline std::uint64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace dpcopy::testing
