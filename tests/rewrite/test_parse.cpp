#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "tests/rewrite/test_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

Frame tcp_frame_with(std::vector<VlanTag> vlans, Frame ip_opts, Frame tcp_opts, Frame payload) {
    Composer c;
    c.vlans = std::move(vlans);
    c.ip_options = std::move(ip_opts);
    c.l4 = tcp_bytes(tcp_opts, payload);
    Frame f = c.make();
    PacketView v;
    finish(f, v);
    return f;
}

Frame arp_frame() {
    Frame f(42, 0);
    L2Spec l2;
    l2.src = MacAddr{{2, 0, 0, 0, 0, 1}};
    l2.dst = MacAddr::broadcast();
    ArpPkt a;
    a.sha = l2.src;
    a.spa = Ipv4Addr(0xc6120001);
    a.tpa = Ipv4Addr(0xc6120002);
    build_arp(mb(f), l2, a);
    return f;
}

Frame with_l4(std::uint8_t proto, Frame l4, Frame ip_opts = {}) {
    Composer c;
    c.proto = proto;
    c.l4 = std::move(l4);
    c.ip_options = std::move(ip_opts);
    return c.make();
}

// Valid frames of every shape, used by the truncation and mutation tests.
std::vector<Frame> valid_frames() {
    std::vector<Frame> v;
    v.push_back(sample_tcp_frame());
    v.push_back(tcp_frame_with({{ethertype::qinq, 200}, {ethertype::vlan, 300}}, {1, 7, 7, 4, 0, 0, 0, 0},
                               {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2},
                               {1, 2, 3}));
    v.push_back(tcp_frame_with({{ethertype::vlan, 100}}, {}, {}, {}));
    v.push_back(with_l4(ipproto::udp, udp_bytes({'a', 'b', 'c'})));
    v.push_back(with_l4(ipproto::icmp, icmp_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9})));
    v.push_back(with_l4(47, {0, 0, 8, 0, 1, 2, 3, 4}));
    v.push_back(arp_frame());
    for (auto& f : v) {
        PacketView pv;
        finish(f, pv);
    }
    return v;
}

struct Malformed {
    std::string name;
    Frame frame;
    ParseError want;
    LinkType link = LinkType::ethernet;
};

std::vector<Malformed> malformed_corpus() {
    std::vector<Malformed> c;
    const Frame tcp = sample_tcp_frame();  // Ethernet(14) IPv4(20) TCP(20+20) payload(5)
    auto mutate = [&](const std::string& name, ParseError want, auto&& fn, Frame base = {}) {
        Frame f = base.empty() ? tcp : base;
        fn(f);
        c.push_back({name, f, want});
    };
    c.push_back({"empty frame", {}, ParseError::truncated_l2});
    c.push_back({"13-byte Ethernet header", Frame(tcp.begin(), tcp.begin() + 13), ParseError::truncated_l2});
    {
        Frame f(tcp.begin(), tcp.begin() + 12);
        f.insert(f.end(), {0x81, 0x00, 0x00});
        c.push_back({"VLAN tag cut short", f, ParseError::truncated_vlan});
        Frame g(tcp.begin(), tcp.begin() + 12);
        g.insert(g.end(), {0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x01});
        c.push_back({"inner QinQ tag cut short", g, ParseError::truncated_vlan});
    }
    {
        Composer k;
        k.vlans = {{ethertype::qinq, 1}, {ethertype::vlan, 2}, {ethertype::vlan, 3}};
        k.l4 = tcp_bytes({}, {});
        c.push_back({"three VLAN tags", k.make(), ParseError::too_many_vlans});
    }
    mutate("IPv6 ethertype", ParseError::ipv6_not_supported, [](Frame& f) { f[12] = 0x86; f[13] = 0xdd; });
    mutate("LLDP ethertype", ParseError::not_ipv4, [](Frame& f) { f[12] = 0x88; f[13] = 0xcc; });
    {
        Frame f = tcp;
        f[14] = 0x60;
        c.push_back({"raw IPv6 packet", Frame(f.begin() + 14, f.end()), ParseError::ipv6_not_supported, LinkType::raw_ipv4});
    }
    const Frame arp = arp_frame();
    c.push_back({"ARP cut at 27 bytes", Frame(arp.begin(), arp.begin() + 14 + 27), ParseError::truncated_arp});
    mutate("ARP htype 6", ParseError::bad_arp, [](Frame& f) { f[15] = 6; }, arp);
    mutate("ARP ptype IPv6", ParseError::bad_arp, [](Frame& f) { f[16] = 0x86; f[17] = 0xdd; }, arp);
    mutate("ARP hlen 8", ParseError::bad_arp, [](Frame& f) { f[18] = 8; }, arp);
    mutate("ARP op 3 (RARP)", ParseError::bad_arp, [](Frame& f) { f[21] = 3; }, arp);
    c.push_back({"IPv4 header of 19 bytes", Frame(tcp.begin(), tcp.begin() + 14 + 19), ParseError::truncated_ip});
    c.push_back({"ethertype IPv4 with no header", Frame(tcp.begin(), tcp.begin() + 14), ParseError::truncated_ip});
    c.push_back({"raw link, empty", {}, ParseError::truncated_ip, LinkType::raw_ipv4});
    mutate("IHL 15 beyond the frame", ParseError::truncated_ip, [](Frame& f) { f[14] = 0x4f; f.resize(14 + 40); });
    mutate("IP version 6 behind IPv4 ethertype", ParseError::bad_ip_version, [](Frame& f) { f[14] = 0x65; });
    mutate("IP version 0", ParseError::bad_ip_version, [](Frame& f) { f[14] = 0x05; });
    mutate("IHL 4", ParseError::bad_ihl, [](Frame& f) { f[14] = 0x44; });
    mutate("IHL 0", ParseError::bad_ihl, [](Frame& f) { f[14] = 0x40; });
    mutate("total length beyond the frame", ParseError::bad_total_length, [](Frame& f) { f[17] = static_cast<std::uint8_t>(f[17] + 1); });
    mutate("frame one byte short of total length", ParseError::bad_total_length, [](Frame& f) { f.pop_back(); });
    mutate("total length below IHL", ParseError::bad_total_length, [](Frame& f) { f[16] = 0; f[17] = 19; });
    mutate("total length 0", ParseError::bad_total_length, [](Frame& f) { f[16] = 0; f[17] = 0; });
    mutate("more-fragments set", ParseError::ip_fragment, [](Frame& f) { f[20] = 0x20; });
    mutate("fragment offset 185", ParseError::ip_fragment, [](Frame& f) { f[20] = 0; f[21] = 185; });
    {
        Frame bad_len0 = with_l4(ipproto::udp, udp_bytes({}), {7, 0, 0, 0});
        c.push_back({"IP option length 0", bad_len0, ParseError::bad_ip_options});
        Frame past = with_l4(ipproto::udp, udp_bytes({}), {1, 7, 9, 0});
        c.push_back({"IP option runs past the header", past, ParseError::bad_ip_options});
        Frame lone = with_l4(ipproto::udp, udp_bytes({}), {1, 1, 1, 7});
        c.push_back({"IP option without length byte", lone, ParseError::bad_ip_options});
    }
    c.push_back({"TCP header of 19 bytes", with_l4(ipproto::tcp, Frame(19, 0)), ParseError::truncated_tcp});
    c.push_back({"TCP with no header", with_l4(ipproto::tcp, {}), ParseError::truncated_tcp});
    mutate("TCP data offset 4", ParseError::bad_data_offset, [](Frame& f) { f[34 + 12] = 0x40; });
    mutate("TCP data offset 0", ParseError::bad_data_offset, [](Frame& f) { f[34 + 12] = 0x00; });
    c.push_back({"TCP data offset past the segment", with_l4(ipproto::tcp, tcp_bytes({1, 1, 1, 1}, {})), ParseError::ok});
    c.back().frame[34 + 12] = 0xf0;
    c.back().want = ParseError::bad_data_offset;
    mutate("TCP MSS option of length 3", ParseError::bad_tcp_options, [](Frame& f) { f[54 + 1] = 3; });
    mutate("TCP option length 0", ParseError::bad_tcp_options, [](Frame& f) { f[54 + 1] = 0; });
    mutate("TCP option runs past the header", ParseError::bad_tcp_options, [](Frame& f) { f[54 + 16] = 30; f[54 + 17] = 9; });
    mutate("TCP timestamp of length 8", ParseError::bad_tcp_options, [](Frame& f) { f[54 + 7] = 8; });
    c.push_back({"UDP header of 7 bytes", with_l4(ipproto::udp, Frame(7, 0)), ParseError::truncated_udp});
    {
        Frame u = with_l4(ipproto::udp, udp_bytes({1, 2, 3}));
        u[34 + 5] = 7;
        c.push_back({"UDP length 7", u, ParseError::bad_udp_length});
        Frame w = with_l4(ipproto::udp, udp_bytes({1, 2, 3}));
        w[34 + 5] = 12;
        c.push_back({"UDP length beyond the IP payload", w, ParseError::bad_udp_length});
        Frame z = with_l4(ipproto::udp, udp_bytes({1, 2, 3}));
        z[34 + 4] = 0;
        z[34 + 5] = 0;
        c.push_back({"UDP length 0", z, ParseError::bad_udp_length});
    }
    c.push_back({"ICMP header of 7 bytes", with_l4(ipproto::icmp, Frame(7, 0)), ParseError::truncated_icmp});
    c.push_back({"ICMP with nothing", with_l4(ipproto::icmp, {}), ParseError::truncated_icmp});
    c.push_back({"GRE (unsupported)", with_l4(47, Frame(8, 0)), ParseError::unsupported_l4});
    return c;
}

void check_view_in_bounds(const PacketView& v, std::size_t size) {
    CHECK(v.l3_off <= size);
    CHECK(v.frame_len() <= size);
    if (v.l3 == L3Kind::ipv4) {
        CHECK(v.l3_off < v.l4_off);
        CHECK(v.l4_off <= v.payload_off);
        CHECK(std::size_t{v.payload_off} + v.payload_len <= v.frame_len());
    }
}

}  // namespace

TEST_CASE("to_string names every ParseError", "[parse]") {
    std::set<std::string> names;
    for (std::size_t i = 0; i < parse_error_count; ++i) names.insert(to_string(static_cast<ParseError>(i)));
    CHECK(names.size() == parse_error_count);
    CHECK(std::string(to_string(ParseError::ok)) == "ok");
    CHECK(std::string(to_string(ParseError::bad_total_length)) == "bad_total_length");
    CHECK(std::string(to_string(ParseError::count_)) == "unknown");
}

TEST_CASE("parse a TCP frame with options", "[parse]") {
    const Frame f = sample_tcp_frame();
    PacketView v;
    REQUIRE(parse_frame(cb(f), v) == ParseError::ok);
    CHECK(v.l3 == L3Kind::ipv4);
    CHECK(v.l4 == L4Kind::tcp);
    CHECK(v.vlan_count == 0);
    CHECK(v.l3_off == 14);
    CHECK(v.l4_off == 34);
    CHECK(v.payload_off == 74);
    CHECK(v.payload_len == 5);
    CHECK(v.ip_total_len == 65);
    CHECK(v.ip_proto == 6);
    CHECK(v.frame_len() == f.size());
    CHECK(v.key == FlowKey{Ipv4Addr(0xc6120001), Ipv4Addr(0xc6120002), Port(12345), Port(80)});
    CHECK(std::string(v.payload(cb(f)).begin(), v.payload(cb(f)).end()) == "hello");
    auto o = TcpOptions::read(v.tcp_options(cb(f)));
    REQUIRE(o);
    CHECK(o->mss == std::uint16_t{1460});
    CHECK(o->ts->val == 1);
    CHECK(o->wscale == std::uint8_t{7});
    CHECK(ipv4_checksum_ok(cb(f), v));
    CHECK(l4_checksum_ok(cb(f), v));
}

TEST_CASE("Ethernet trailer padding after the IP total length is ignored", "[parse]") {
    Composer c;
    c.l4 = tcp_bytes({}, {});  // 54-byte frame, padded to 60 as on the wire
    Frame f = c.make();
    PacketView v;
    finish(f, v);
    f.resize(60, 0xee);
    REQUIRE(parse_frame(cb(f), v) == ParseError::ok);
    CHECK(v.payload_len == 0);
    CHECK(v.frame_len() == 54);
    CHECK(l4_checksum_ok(cb(f), v));
}

TEST_CASE("VLAN and QinQ tags are recorded outer first", "[parse]") {
    const auto frames = valid_frames();
    PacketView v;
    REQUIRE(parse_frame(cb(frames[1]), v) == ParseError::ok);
    CHECK(v.vlan_count == 2);
    CHECK(v.vlans[0].tpid == ethertype::qinq);
    CHECK(v.vlans[0].vid() == 200);
    CHECK(v.vlans[1].tpid == ethertype::vlan);
    CHECK(v.vlans[1].vid() == 300);
    CHECK(v.l3_off == 22);
    CHECK(v.l4_off == 22 + 28);
    CHECK(v.payload_len == 3);
    REQUIRE(parse_frame(cb(frames[2]), v) == ParseError::ok);
    CHECK(v.vlan_count == 1);
    CHECK(v.vlans[0].vid() == 100);
    CHECK(v.l3_off == 18);
    // 0x9100 is also accepted as an outer tag
    Frame old = frames[2];
    old[12] = 0x91;
    REQUIRE(parse_frame(cb(old), v) == ParseError::ok);
    CHECK(v.vlans[0].tpid == ethertype::qinq_old);
}

TEST_CASE("UDP, ICMP, ARP, other protocols and raw IPv4", "[parse]") {
    const auto frames = valid_frames();
    PacketView v;
    REQUIRE(parse_frame(cb(frames[3]), v) == ParseError::ok);
    CHECK(v.l4 == L4Kind::udp);
    CHECK(v.payload_off == 42);
    CHECK(v.payload_len == 3);
    CHECK(v.key.src_port == Port(5000));
    CHECK(v.key.dst_port == Port(53));

    REQUIRE(parse_frame(cb(frames[4]), v) == ParseError::ok);
    CHECK(v.l4 == L4Kind::icmp);
    CHECK(v.payload_len == 9);
    CHECK(v.key.src_port == Port(0));

    CHECK(parse_frame(cb(frames[5]), v) == ParseError::unsupported_l4);
    REQUIRE(parse_frame(cb(frames[5]), v, LinkType::ethernet, true) == ParseError::ok);
    CHECK(v.l4 == L4Kind::none);
    CHECK(v.ip_proto == 47);
    CHECK(v.payload_off == 34);
    CHECK(v.payload_len == 8);

    REQUIRE(parse_frame(cb(frames[6]), v) == ParseError::ok);
    CHECK(v.l3 == L3Kind::arp);
    CHECK(v.l4 == L4Kind::none);
    CHECK(v.key.src_ip == Ipv4Addr(0xc6120001));
    CHECK(v.key.dst_ip == Ipv4Addr(0xc6120002));
    CHECK(v.frame_len() == 42);

    const Frame raw(frames[0].begin() + 14, frames[0].end());
    REQUIRE(parse_frame(cb(raw), v, LinkType::raw_ipv4) == ParseError::ok);
    CHECK(v.l3_off == 0);
    CHECK(v.l4_off == 20);
    CHECK(v.payload_len == 5);

    // UDP length shorter than the IP payload: the extra bytes are not payload.
    Frame u = with_l4(ipproto::udp, udp_bytes({1, 2, 3}));
    u[34 + 5] = 9;
    REQUIRE(parse_frame(cb(u), v) == ParseError::ok);
    CHECK(v.payload_len == 1);
}

TEST_CASE("malformed corpus: every frame rejected with its reason", "[parse][malformed]") {
    const auto corpus = malformed_corpus();
    std::set<ParseError> seen;
    for (const auto& m : corpus) {
        INFO(m.name);
        const Frame exact(m.frame);  // exact-size heap copy: ASan sees any over-read
        PacketView v;
        CHECK(parse_frame(cb(exact), v, m.link) == m.want);
        seen.insert(m.want);
    }
    for (std::size_t i = 0; i < parse_error_count; ++i) {
        const auto e = static_cast<ParseError>(i);
        if (e == ParseError::ok) continue;
        const std::string name = to_string(e);
        // IPv6's own reasons have their corpus in test_ipv6_parse.cpp
        if (name != "ipv6_not_supported" && (name.find("ipv6") != std::string::npos || name.find("icmpv6") != std::string::npos)) continue;
        INFO("no malformed frame for " << name);
        CHECK(seen.count(e) == 1);
    }
}

TEST_CASE("truncation at every byte offset is rejected and never reads out of bounds", "[parse][truncation]") {
    int cuts = 0;
    for (const auto& f : valid_frames()) {
        PacketView full;
        REQUIRE(parse_frame(cb(f), full, LinkType::ethernet, true) == ParseError::ok);
        for (std::size_t n = 0; n < f.size(); ++n) {
            const Frame cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
            PacketView v;
            const auto e = parse_frame(cb(cut), v, LinkType::ethernet, true);
            CAPTURE(n, f.size(), to_string(e));
            CHECK(e != ParseError::ok);
            ++cuts;
            const auto r = parse_frame(cb(cut).subspan(std::min<std::size_t>(cut.size(), 14)), v, LinkType::raw_ipv4, true);
            CHECK(r != ParseError::ok);
        }
    }
    CHECK(cuts > 300);
}

TEST_CASE("fuzz: random bytes and mutations never break the parser or rewrites", "[parse][fuzz]") {
    const std::uint64_t seed = 0xd9c0b1e5ULL;
    std::mt19937_64 rng(seed);
    const auto base = valid_frames();
    std::size_t ok = 0, rejected = 0;
    for (int iter = 0; iter < 60000; ++iter) {
        Frame f;
        if (iter % 4 == 0) {
            f.resize(rng() % 120);
            for (auto& b : f) b = static_cast<std::uint8_t>(rng());
            if (f.size() > 14 && rng() % 2) { f[12] = 0x08; f[13] = 0x00; f[14] = static_cast<std::uint8_t>(0x40 | (f[14] & 0x0f)); }
        } else {
            f = base[rng() % base.size()];
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<std::uint8_t>(rng());
            if (rng() % 3 == 0) f.resize(rng() % (f.size() + 1));
        }
        const Frame exact(f);
        PacketView v;
        const auto link = (iter % 5 == 4) ? LinkType::raw_ipv4 : LinkType::ethernet;
        const auto e = parse_frame(cb(exact), v, link, iter % 2 == 0);
        INFO("seed " << seed << " iteration " << iter);
        if (e != ParseError::ok) {
            ++rejected;
            continue;
        }
        ++ok;
        check_view_in_bounds(v, exact.size());
        if (v.l3 != L3Kind::ipv4) continue;
        Frame w(exact);
        (void)ipv4_checksum_ok(cb(w), v);
        (void)l4_checksum_ok(cb(w), v);
        set_ttl(mb(w), v, 9);
        if (v.l4 == L4Kind::tcp) {
            set_seq(mb(w), v, Seq(static_cast<std::uint32_t>(rng())));
            set_timestamp(mb(w), v, 1, 2);
            set_mss(mb(w), v, 1000);
            remove_tcp_option(mb(w), v, tcpopt::sack_permitted);
            Frame buf(w);
            buf.resize(w.size() + 40);
            std::size_t len = w.size();
            const std::uint8_t ws[] = {3, 3, 5};
            add_tcp_option(mb(buf), len, v, ws);
            CHECK(len <= buf.size());
        }
    }
    CHECK(ok > 1000);
    CHECK(rejected > 1000);
}
