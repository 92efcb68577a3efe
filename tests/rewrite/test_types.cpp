#include <catch2/catch.hpp>

#include <unordered_set>

#include "lib/rewrite/types.hpp"

using namespace dpcopy::net;

TEST_CASE("Seq compares modulo 2^32 across wraparound", "[types][seq]") {
    CHECK(Seq(1) < Seq(2));
    CHECK(Seq(2) > Seq(1));
    CHECK_FALSE(Seq(2) < Seq(2));
    CHECK(Seq(2) <= Seq(2));
    CHECK(Seq(2) >= Seq(2));
    CHECK(Seq(0xffffffffU) < Seq(0));         // 0 comes after 2^32-1
    CHECK(Seq(0xfffffff0U) < Seq(0x10));
    CHECK(Seq(0x10) > Seq(0xfffffff0U));
    CHECK((Seq(0x10) - Seq(0xfffffff0U)) == 0x20);
    CHECK((Seq(0xfffffff0U) - Seq(0x10)) == -0x20);
    CHECK((Seq(0xffffffffU) + 1) == Seq(0));
    CHECK((Seq(0) - 1) == Seq(0xffffffffU));
    Seq s(0xfffffffeU);
    s += 3;
    CHECK(s == Seq(1));
    s -= 2;
    CHECK(s == Seq(0xffffffffU));
    // Half the space away: 0 .. 2^31-1 ahead is "after".
    CHECK(Seq(0) < Seq(0x7fffffffU));
    CHECK(Seq(0x7fffffffU) > Seq(0));
    CHECK(seq_max(Seq(0xffffff00U), Seq(5)) == Seq(5));
    CHECK(seq_min(Seq(0xffffff00U), Seq(5)) == Seq(0xffffff00U));
    CHECK(seq_max(Seq(7), Seq(9)) == Seq(9));
    CHECK(seq_min(Seq(7), Seq(9)) == Seq(7));
}

TEST_CASE("Ipv4Addr::parse accepts strict dotted quads", "[types][ipv4]") {
    auto a = Ipv4Addr::parse("198.18.0.1");
    REQUIRE(a);
    CHECK(a->value() == 0xc6120001U);
    CHECK(a->octet(0) == 198);
    CHECK(a->octet(3) == 1);
    CHECK(a->to_string() == "198.18.0.1");
    CHECK(Ipv4Addr::parse("0.0.0.0")->value() == 0);
    CHECK(Ipv4Addr::parse("255.255.255.255")->value() == 0xffffffffU);
    CHECK(Ipv4Addr::parse("010.1.1.1")->value() == 0x0a010101U);  // decimal, leading zero allowed
    CHECK(Ipv4Addr::from_octets(10, 0, 0, 1) == *Ipv4Addr::parse("10.0.0.1"));
}

TEST_CASE("Ipv4Addr::parse rejects everything else", "[types][ipv4]") {
    for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..2.3", ".1.2.3", "1.2.3.",
                            " 1.2.3.4", "1.2.3.4 ", "+1.2.3.4", "-1.2.3.4", "1.2.3.4a", "a.b.c.d", "1234.1.1.1",
                            "0001.1.1.1", "1.2.3.4/24", "1,2,3,4", "999.999.999.999"}) {
        INFO("input: '" << bad << "'");
        CHECK_FALSE(Ipv4Addr::parse(bad).has_value());
    }
}

TEST_CASE("MacAddr, Port and FlowKey", "[types]") {
    MacAddr m{{0x02, 0x00, 0x00, 0xab, 0xcd, 0xef}};
    CHECK(m.to_string() == "02:00:00:ab:cd:ef");
    CHECK(MacAddr::broadcast().to_string() == "ff:ff:ff:ff:ff:ff");
    CHECK(MacAddr{}.is_zero());
    CHECK_FALSE(m.is_zero());
    CHECK(Port(80) < Port(443));
    CHECK(Port(80).value() == 80);
    FlowKey k{Ipv4Addr(1), Ipv4Addr(2), Port(3), Port(4)};
    FlowKey r = k.reversed();
    CHECK(r.src_ip == Ipv4Addr(2));
    CHECK(r.dst_port == Port(3));
    CHECK(r.reversed() == k);
    CHECK_FALSE(r == k);
    CHECK(hash_flow(k) != hash_flow(r));
    CHECK(hash_flow(k) == hash_flow(k));
    CHECK(hash_flow(k, 1) != hash_flow(k, 2));
    std::unordered_set<FlowKey> set;
    for (std::uint16_t p = 0; p < 1000; ++p) set.insert(FlowKey{Ipv4Addr(1), Ipv4Addr(2), Port(p), Port(80)});
    CHECK(set.size() == 1000);
}
