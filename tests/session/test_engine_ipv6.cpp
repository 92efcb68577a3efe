// The engine has no IPv6 sessions yet (issue #18, layer 2): IPv6 frames, which lib/rewrite can
// now parse, must still be dropped whole, under their named reason, on every entry point.
#include "tests/session/engine_rig.hpp"

namespace {

Frame ipv6_syn(std::uint16_t dst_port, std::size_t payload_len = 0) {
    net::L2Spec l2;
    net::Ipv6Spec ip;
    ip.src = *net::Ipv6Addr::parse("fd77:40::1");
    ip.dst = *net::Ipv6Addr::parse("fd77:40::2");
    net::TcpSpec t;
    t.src_port = net::Port(40000);
    t.dst_port = net::Port(dst_port);
    t.flags = payload_len ? tf::ack | tf::psh : tf::syn;
    t.options.mss = 1440;
    const Frame payload(payload_len, 'x');
    t.payload = net::ConstBytes(payload.data(), payload.size());
    Frame f(net::tcp_frame_size6(l2, t));
    REQUIRE(net::build_tcp(net::Bytes(f.data(), f.size()), l2, ip, t) == f.size());
    return f;
}

std::uint64_t reason(const Rig& r, bool captured, net::ParseError e) {
    const auto& c = r.e->counters();
    return (captured ? c.parse_captured : c.parse_target)[static_cast<std::size_t>(e)];
}

}  // namespace

TEST_CASE("engine: IPv6 frames are dropped as ipv6_not_supported, captured or from the target, one by one or in bursts") {
    Rig r(base_config());
    const Frame syn = ipv6_syn(kOnlinePort.value());
    const Frame data = ipv6_syn(kOnlinePort.value(), 333);
    const Frame from_target = ipv6_syn(kTargetPort.value());
    r.cap(syn);
    r.cap(data);
    const std::vector<net::ConstBytes> burst(5, net::ConstBytes(data.data(), data.size()));
    r.e->on_captured_burst(burst, net::LinkType::ethernet, r.now);
    const Frame raw(syn.begin() + 14, syn.end());  // a raw-IP capture (LINKTYPE_RAW) carrying IPv6
    r.e->on_captured(net::ConstBytes(raw.data(), raw.size()), net::LinkType::raw_ipv4, r.now);
    r.tgt(from_target);
    const std::vector<net::ConstBytes> tburst(3, net::ConstBytes(from_target.data(), from_target.size()));
    r.e->on_target_burst(tburst, r.now);
    r.run_for(10 * kMs);

    CHECK(reason(r, true, net::ParseError::ipv6_not_supported) == 8);
    CHECK(r.c(Counter::drop_captured_parse) == 8);
    CHECK(reason(r, false, net::ParseError::ipv6_not_supported) == 4);
    CHECK(r.c(Counter::drop_target_parse) == 4);
    CHECK(r.c(Counter::captured_client_frames) == 0);
    CHECK(r.e->active_sessions() == 0);
    CHECK(r.out().empty());
    const CaptureCost cost = r.e->capture_cost(net::ConstBytes(data.data(), data.size()), net::LinkType::ethernet);
    CHECK((cost.pieces == 0 && cost.blocks == 0 && cost.sessions == 0));
    bool named = false;
    r.e->counters().for_each([&](std::string_view group, std::string_view name, std::uint64_t v) {
        if (group == "parse_captured" && name == "ipv6_not_supported") named = v == 8;
    });
    CHECK(named);
}
