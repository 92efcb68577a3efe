// lib/mirror decapsulation against frames encapsulated by the Linux kernel (VXLAN) and by
// scapy (GENEVE, ERSPAN I/II/III, gretap): known answers, selectors, modes, malformed
// headers. Truncation and random corruption: test_decap_property.cpp.
#include <catch2/catch.hpp>

#include "lib/mirror/decap.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/mirror/mirror_util.hpp"

using namespace dpcopy;
using namespace dpcopy::mirror;
using namespace mirrortest;

namespace {

Decapsulated run(const Frame& f, const DecapConfig& cfg = {}) { return decapsulate(cb(f), cfg); }

DecapConfig config(EncapMode mode) {
    DecapConfig c;
    c.mode = mode;
    return c;
}

Frame first_frame(const char* file) {
    const auto frames = read_pcap(file);
    REQUIRE_FALSE(frames.empty());
    return frames[0];
}

}  // namespace

TEST_CASE("every fixture decapsulates to the kernel's inner frames", "[decap]") {
    const auto inner = kernel_inner_frames();
    REQUIRE(inner.size() == 10);
    for (const Fixture& fx : fixtures()) {
        INFO(fx.file);
        const auto frames = read_pcap(fx.file);
        REQUIRE(frames.size() == inner.size());
        for (std::size_t i = 0; i < frames.size(); ++i) {
            INFO("frame " << i);
            const Decapsulated d = run(frames[i]);
            REQUIRE(d.outcome == fx.outcome);
            CHECK(d.inner_off == fx.inner_off);
            const auto got = d.inner(cb(frames[i]));
            CHECK(Frame(got.begin(), got.end()) == inner[i]);
            net::PacketView v;
            CHECK(net::parse_frame(got, v) == net::ParseError::ok);
            CHECK(v.l4 == net::L4Kind::tcp);
        }
    }
}

TEST_CASE("tunnel ids: VNI, ERSPAN session, GRE key", "[decap]") {
    CHECK(run(first_frame("mirror/vxlan_http.pcap")).tunnel_id == 42);
    CHECK(run(first_frame("mirror/geneve.pcap")).tunnel_id == 4242);
    CHECK(run(first_frame("mirror/erspan2.pcap")).tunnel_id == 100);
    CHECK(run(first_frame("mirror/erspan3.pcap")).tunnel_id == 301);
    CHECK(run(first_frame("mirror/gretap_key_seq_csum.pcap")).tunnel_id == 7);
    CHECK(run(first_frame("mirror/gretap.pcap")).tunnel_id == 0);
}

TEST_CASE("VXLAN on another port needs vxlan:PORT", "[decap]") {
    const auto frames = read_pcap("mirror/vxlan_8472_icmp.pcap");
    REQUIRE(frames.size() == 2);
    DecapConfig on_8472 = config(EncapMode::vxlan);
    on_8472.vxlan_udp_port = 8472;
    for (const Frame& f : frames) {
        CHECK(run(f).outcome == DecapCounter::plain);  // auto: UDP to 8472 is plain UDP
        CHECK(run(f, config(EncapMode::vxlan)).outcome == DecapCounter::reject_not_encapsulated);
        const Decapsulated d = run(f, on_8472);
        REQUIRE(d.outcome == DecapCounter::decap_vxlan);
        CHECK(d.tunnel_id == 7);
        net::PacketView v;
        CHECK(net::parse_frame(d.inner(cb(f)), v) == net::ParseError::ok);
        CHECK(v.l3 == net::L3Kind::arp);
    }
}

TEST_CASE("outer fragments are counted, whole datagrams of the same tunnel pass", "[decap]") {
    const auto frames = read_pcap("mirror/vxlan_fragments.pcap");
    REQUIRE(frames.size() == 6);
    int fragments = 0, whole = 0;
    for (const Frame& f : frames) {
        const bool is_fragment = (net::load_be16(f.data() + 20) & 0x3fff) != 0;
        const Decapsulated d = run(f);
        if (is_fragment) {
            ++fragments;
            CHECK(d.outcome == DecapCounter::reject_outer_fragment);
        } else {
            ++whole;
            CHECK(d.outcome == DecapCounter::decap_vxlan);
            CHECK(d.tunnel_id == 9);
        }
    }
    CHECK(fragments == 4);  // first and second fragment of the request and of the reply
    CHECK(whole == 2);
}

TEST_CASE("plain mirrors pass whole in auto and none", "[decap]") {
    for (const char* file : {"tcp_http.pcap", "tcp_http_vlan.pcap", "tcp_http_qinq.pcap", "udp.pcap", "arp.pcap",
                             "icmp_echo.pcap", "ip_fragments.pcap"}) {
        INFO(file);
        const auto frames = read_pcap(file);
        REQUIRE_FALSE(frames.empty());
        for (const Frame& f : frames) {
            for (const EncapMode m : {EncapMode::auto_detect, EncapMode::none}) {
                const Decapsulated d = run(f, config(m));
                CHECK(d.outcome == DecapCounter::plain);
                CHECK(d.inner_off == 0);
                CHECK(d.inner_len == f.size());
            }
            CHECK(run(f, config(EncapMode::erspan)).outcome == DecapCounter::reject_not_encapsulated);
        }
    }
}

TEST_CASE("none leaves even encapsulated frames whole", "[decap]") {
    for (const Fixture& fx : fixtures()) {
        const Frame f = first_frame(fx.file);
        CHECK(run(f, config(EncapMode::none)).outcome == DecapCounter::plain);
    }
}

TEST_CASE("explicit modes take only their encapsulation", "[decap]") {
    using C = DecapCounter;
    struct Case { EncapMode mode; bool takes_vxlan, takes_geneve, takes_erspan, takes_gretap; };
    for (const Case& c : {Case{EncapMode::vxlan, true, false, false, false}, Case{EncapMode::geneve, false, true, false, false},
                          Case{EncapMode::erspan, false, false, true, false}, Case{EncapMode::gretap, false, false, false, true}}) {
        for (const Fixture& fx : fixtures()) {
            INFO(fx.file << " mode " << int(c.mode));
            const bool vx = fx.outcome == C::decap_vxlan, gn = fx.outcome == C::decap_geneve;
            const bool gt = fx.outcome == C::decap_gretap;
            const bool es = !vx && !gn && !gt;
            const bool taken = (vx && c.takes_vxlan) || (gn && c.takes_geneve) || (es && c.takes_erspan) || (gt && c.takes_gretap);
            const Decapsulated d = run(first_frame(fx.file), config(c.mode));
            CHECK(d.outcome == (taken ? fx.outcome : C::reject_not_encapsulated));
        }
    }
}

TEST_CASE("selectors keep one mirror session", "[decap]") {
    using C = DecapCounter;
    DecapConfig vni42, vni43, session100, session7;
    vni42.select_vni = vni43.select_vni = true;
    vni42.vni = 42;
    vni43.vni = 43;
    session100.select_session = session7.select_session = true;
    session100.session = 100;
    session7.session = 7;

    const Frame vx = first_frame("mirror/vxlan_http.pcap");
    CHECK(run(vx, vni42).outcome == C::decap_vxlan);
    CHECK(run(vx, vni43).outcome == C::reject_not_selected);
    CHECK(run(vx, session100).outcome == C::reject_not_selected);  // a VXLAN frame has no session id

    const auto two = read_pcap("mirror/erspan2_two_sessions.pcap");
    REQUIRE(two.size() == 10);
    int kept = 0;
    for (const Frame& f : two) {
        const Decapsulated d = run(f, session100);
        if (d.ok()) {
            ++kept;
            CHECK(d.tunnel_id == 100);
        } else {
            CHECK(d.outcome == C::reject_not_selected);
        }
    }
    CHECK(kept == 5);
    CHECK(run(two[0], vni42).outcome == C::reject_not_selected);

    CHECK(run(first_frame("mirror/gretap_key_seq_csum.pcap"), session7).outcome == C::decap_gretap);
    CHECK(run(first_frame("mirror/gretap.pcap"), session7).outcome == C::reject_not_selected);  // no key
    CHECK(run(first_frame("mirror/erspan1.pcap"), session7).outcome == C::reject_not_selected);
    CHECK(run(first_frame("tcp_http.pcap"), vni42).outcome == C::reject_not_selected);  // plain

    DecapConfig both = vni42;
    both.select_session = true;
    both.session = 301;
    CHECK(run(vx, both).outcome == C::decap_vxlan);
    CHECK(run(first_frame("mirror/erspan3.pcap"), both).outcome == C::decap_erspan3);
    CHECK(run(first_frame("mirror/erspan2.pcap"), both).outcome == C::reject_not_selected);
}

TEST_CASE("wrong versions and flags", "[decap]") {
    using C = DecapCounter;
    struct Mutation { const char* file; std::size_t off; std::uint8_t and_mask, or_mask; C want; };
    const std::vector<Mutation> cases{
        {"mirror/vxlan_http.pcap", 42, 0xf7, 0x00, C::reject_bad_flags},          // I flag cleared
        {"mirror/geneve.pcap", 42, 0x3f, 0x40, C::reject_wrong_version},          // version 1
        {"mirror/geneve.pcap", 43, 0xff, 0x80, C::reject_bad_flags},              // O: control
        {"mirror/geneve.pcap", 44, 0x00, 0x08, C::reject_not_ethernet},           // protocol 0x0858
        {"mirror/gretap.pcap", 35, 0xf8, 0x01, C::reject_wrong_version},          // GRE version 1
        {"mirror/gretap.pcap", 34, 0xff, 0x40, C::reject_bad_flags},              // routing present
        {"mirror/gretap.pcap", 36, 0x00, 0x08, C::reject_unknown_gre_proto},      // 0x0858
        {"mirror/erspan2.pcap", 42, 0x0f, 0x20, C::reject_wrong_version},         // ERSPAN version 2 in II
        {"mirror/erspan3.pcap", 42, 0x0f, 0x10, C::reject_wrong_version},         // version 1 in III
        {"mirror/erspan3.pcap", 52, 0x83, 0x08, C::reject_not_ethernet},          // frame type 2 (IP)
    };
    for (const Mutation& m : cases) {
        INFO(m.file << " byte " << m.off);
        Frame f = first_frame(m.file);
        REQUIRE(run(f).ok());
        f[m.off] = static_cast<std::uint8_t>((f[m.off] & m.and_mask) | m.or_mask);
        CHECK(run(f).outcome == m.want);
    }
}

TEST_CASE("GENEVE options and ERSPAN III subheader lengths are honoured", "[decap]") {
    Frame g = first_frame("mirror/geneve_options.pcap");
    REQUIRE(run(g).inner_off == 70);
    // Options length past the datagram: truncated, never read beyond.
    g[42] = static_cast<std::uint8_t>((g[42] & 0xc0) | 0x3f);
    CHECK(run(g).outcome == DecapCounter::reject_truncated_outer);
    // Options claimed, the same bytes: the inner frame starts later (and is then not the kernel's).
    Frame g2 = first_frame("mirror/geneve.pcap");
    g2[42] = static_cast<std::uint8_t>(g2[42] | 0x01);
    CHECK(run(g2).inner_off == 54);

    Frame e = first_frame("mirror/erspan3.pcap");
    REQUIRE(run(e).inner_off == 54);
    e[53] |= 0x01;  // O bit: a platform subheader follows
    CHECK(run(e).inner_off == 62);
    Frame s = first_frame("mirror/erspan3_subheader.pcap");
    s[53] &= 0xfe;  // its subheader then read as the inner frame
    CHECK(run(s).inner_off == 54);
}

TEST_CASE("outer padding is not part of the inner frame", "[decap]") {
    for (const Fixture& fx : fixtures()) {
        Frame f = first_frame(fx.file);
        const Decapsulated before = run(f);
        f.insert(f.end(), 30, 0xaa);
        const Decapsulated after = run(f);
        CHECK(after.outcome == before.outcome);
        CHECK(after.inner_len == before.inner_len);
    }
}

TEST_CASE("outer IPv6 is recognised and counted", "[decap]") {
    // Ethernet, IPv6 (next header UDP or GRE), UDP to 4789 / GRE: the rest does not matter.
    auto ipv6_frame = [](std::uint8_t next, std::uint16_t dport) {
        Frame f(14 + 40 + 8 + 8 + 60, 0);
        f[12] = 0x86;
        f[13] = 0xdd;
        f[14] = 0x60;
        f[14 + 6] = next;
        net::store_be16(f.data() + 54 + 2, dport);
        return f;
    };
    CHECK(run(ipv6_frame(17, 4789)).outcome == DecapCounter::reject_outer_ipv6);
    CHECK(run(ipv6_frame(17, 6081)).outcome == DecapCounter::reject_outer_ipv6);
    CHECK(run(ipv6_frame(47, 0)).outcome == DecapCounter::reject_outer_ipv6);
    CHECK(run(ipv6_frame(17, 53)).outcome == DecapCounter::plain);
    CHECK(run(ipv6_frame(6, 4789)).outcome == DecapCounter::plain);
    CHECK(run(ipv6_frame(47, 0), config(EncapMode::vxlan)).outcome == DecapCounter::reject_not_encapsulated);
}

TEST_CASE("the counter list: decapsulations before rejects, names and descriptions", "[decap]") {
    CHECK_FALSE(is_reject(DecapCounter::plain));
    CHECK_FALSE(is_reject(DecapCounter::decap_gretap));
    CHECK(is_reject(DecapCounter::reject_truncated_outer));
    CHECK(is_reject(DecapCounter::reject_inner_too_short));
    CHECK(decap_counter_names[0] == "plain");
    for (std::size_t i = 0; i < decap_counter_count; ++i) {
        CHECK_FALSE(decap_counter_descriptions[i].empty());
        const bool reject_name = decap_counter_names[i].starts_with("reject_");
        CHECK(reject_name == is_reject(static_cast<DecapCounter>(i)));
    }
}
