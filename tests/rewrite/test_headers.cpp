#include <catch2/catch.hpp>

#include <array>
#include <vector>

#include "lib/rewrite/checksum.hpp"
#include "lib/rewrite/headers.hpp"

using namespace dpcopy::net;

TEST_CASE("byte-order helpers", "[headers]") {
    std::uint8_t b[4] = {};
    store_be16(b, 0x1234);
    CHECK(b[0] == 0x12);
    CHECK(b[1] == 0x34);
    CHECK(load_be16(b) == 0x1234);
    store_be32(b, 0xdeadbeef);
    CHECK(b[0] == 0xde);
    CHECK(b[3] == 0xef);
    CHECK(load_be32(b) == 0xdeadbeef);
    CHECK(load_be16(ConstBytes(b), 2) == 0xbeef);
}

TEST_CASE("Ethernet, ARP, IPv4, TCP, UDP, ICMP headers round-trip", "[headers]") {
    std::array<std::uint8_t, 64> buf{};
    EthHdr e{MacAddr{{1, 2, 3, 4, 5, 6}}, MacAddr{{7, 8, 9, 10, 11, 12}}, 0x0800};
    e.write(buf);
    CHECK(buf[0] == 1);
    CHECK(buf[6] == 7);
    CHECK(buf[12] == 0x08);
    auto e2 = EthHdr::read(buf);
    CHECK(e2.dst == e.dst);
    CHECK(e2.src == e.src);
    CHECK(e2.ethertype == 0x0800);

    ArpPkt a;
    a.op = ArpPkt::op_reply;
    a.sha = MacAddr{{2, 0, 0, 0, 0, 2}};
    a.spa = Ipv4Addr(0xc6120002);
    a.tha = MacAddr{{2, 0, 0, 0, 0, 1}};
    a.tpa = Ipv4Addr(0xc6120001);
    buf.fill(0);
    a.write(buf);
    const std::uint8_t arp_head[] = {0, 1, 8, 0, 6, 4, 0, 2};
    CHECK(std::equal(std::begin(arp_head), std::end(arp_head), buf.begin()));
    auto a2 = ArpPkt::read(buf);
    CHECK(a2.op == ArpPkt::op_reply);
    CHECK(a2.sha == a.sha);
    CHECK(a2.spa == a.spa);
    CHECK(a2.tha == a.tha);
    CHECK(a2.tpa == a.tpa);

    Ipv4Hdr ip;
    ip.ihl = 6;
    ip.options_len = 4;
    ip.options[0] = 1; ip.options[1] = 1; ip.options[2] = 1; ip.options[3] = 0;
    ip.tos = 0x10;
    ip.total_len = 100;
    ip.id = 0xbeef;
    ip.frag = Ipv4Hdr::flag_df | 5;
    ip.ttl = 3;
    ip.proto = 6;
    ip.checksum = 0xabcd;
    ip.src = Ipv4Addr(0x01020304);
    ip.dst = Ipv4Addr(0x05060708);
    buf.fill(0);
    ip.write(buf);
    CHECK(buf[0] == 0x46);
    CHECK(buf[6] == 0x40);
    CHECK(buf[7] == 5);
    auto ip2 = Ipv4Hdr::read(buf);
    CHECK(ip2.version == 4);
    CHECK(ip2.header_len() == 24);
    CHECK(ip2.options_len == 4);
    CHECK(ip2.options[2] == 1);
    CHECK(ip2.tos == 0x10);
    CHECK(ip2.total_len == 100);
    CHECK(ip2.id == 0xbeef);
    CHECK(ip2.is_fragment());
    CHECK(ip2.ttl == 3);
    CHECK(ip2.checksum == 0xabcd);
    CHECK(ip2.src == ip.src);
    CHECK(ip2.dst == ip.dst);
    ip2.frag = Ipv4Hdr::flag_df;
    CHECK_FALSE(ip2.is_fragment());
    ip2.frag = Ipv4Hdr::flag_mf;
    CHECK(ip2.is_fragment());

    TcpHdr t;
    t.src_port = Port(1234);
    t.dst_port = Port(80);
    t.seq = Seq(0xfffffffe);
    t.ack = Seq(7);
    t.data_off = 8;
    t.flags = tcpflag::syn | tcpflag::ack;
    t.window = 0x1234;
    t.checksum = 0x5678;
    t.urgent = 9;
    buf.fill(0);
    t.write(buf);
    CHECK(buf[12] == 0x80);
    CHECK(buf[13] == 0x12);
    auto t2 = TcpHdr::read(buf);
    CHECK(t2.src_port == t.src_port);
    CHECK(t2.dst_port == t.dst_port);
    CHECK(t2.seq == t.seq);
    CHECK(t2.ack == t.ack);
    CHECK(t2.header_len() == 32);
    CHECK(t2.has(tcpflag::syn));
    CHECK_FALSE(t2.has(tcpflag::fin));
    CHECK(t2.window == 0x1234);
    CHECK(t2.checksum == 0x5678);
    CHECK(t2.urgent == 9);

    UdpHdr u{Port(5000), Port(53), 20, 0xffff};
    buf.fill(0);
    u.write(buf);
    CHECK(buf[0] == 0x13);
    auto u2 = UdpHdr::read(buf);
    CHECK(u2.src_port == Port(5000));
    CHECK(u2.dst_port == Port(53));
    CHECK(u2.length == 20);
    CHECK(u2.checksum == 0xffff);

    IcmpEcho ic;
    ic.ident = 0x1111;
    ic.sequence = 2;
    ic.checksum = 0x3333;
    buf.fill(0);
    ic.write(buf);
    CHECK(buf[0] == 8);
    auto ic2 = IcmpEcho::read(buf);
    CHECK(ic2.type == IcmpEcho::type_echo_request);
    CHECK(ic2.ident == 0x1111);
    CHECK(ic2.sequence == 2);
    CHECK(ic2.checksum == 0x3333);

    VlanTag tag{ethertype::vlan, 0xa064};
    CHECK(tag.vid() == 100);
    CHECK(tag.pcp() == 5);
}

TEST_CASE("TcpOptions read: Linux SYN options", "[headers][tcpopt]") {
    const std::uint8_t syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x3d, 0xa8, 0x1b, 0xeb, 0, 0, 0, 0, 1, 3, 3, 10};
    auto o = TcpOptions::read(syn);
    REQUIRE(o);
    CHECK(o->mss == std::uint16_t{1460});
    CHECK(o->sack_permitted);
    REQUIRE(o->ts);
    CHECK(o->ts->val == 0x3da81bebU);
    CHECK(o->ts->ecr == 0U);
    CHECK(o->wscale == std::uint8_t{10});
    CHECK(o->sack_count == 0);
    CHECK(o->unknown_count == 0);
    // Canonical write reproduces Linux's SYN layout byte for byte.
    std::array<std::uint8_t, 40> out{};
    REQUIRE(o->wire_size() == 20);
    REQUIRE(o->write(out) == 20);
    CHECK(std::equal(std::begin(syn), std::end(syn), out.begin()));
}

TEST_CASE("TcpOptions read: SACK blocks, unknown options, EOL", "[headers][tcpopt]") {
    const std::uint8_t opts[] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
                                 30, 4, 0xaa, 0xbb, 0, 0xee, 0xee, 0xee};  // MPTCP-ish unknown, EOL, junk after
    auto o = TcpOptions::read(opts);
    REQUIRE(o);
    CHECK(o->sack_count == 2);
    CHECK(o->sack[0].left == Seq(1));
    CHECK(o->sack[0].right == Seq(2));
    CHECK(o->sack[1].left == Seq(0xfffffff0U));
    CHECK(o->sack[1].right == Seq(0x10));
    CHECK(o->unknown_count == 1);
    CHECK(o->unknown_len == 4);
    CHECK(o->unknown[0] == 30);
    CHECK(o->unknown[3] == 0xbb);
    CHECK_FALSE(o->mss);
    CHECK_FALSE(o->ts);
}

TEST_CASE("TcpOptions read rejects malformed areas", "[headers][tcpopt]") {
    const std::vector<std::vector<std::uint8_t>> bad = {
        {2},                      // kind without length
        {2, 4, 5},                // runs past the end
        {2, 3, 5, 0},             // MSS with length 3
        {3, 4, 1, 1},             // WS with length 4
        {4, 3, 0, 0},             // SACK-perm with length 3
        {8, 9, 0, 0, 0, 0, 0, 0, 0, 0},  // TS with length 9
        {5, 9, 0, 0, 0, 0, 0, 0, 0},     // SACK not 2+8n
        {5, 2, 1, 1},             // SACK with no block
        {30, 1, 1, 1},            // length below 2
        {30, 0, 1, 1},            // length 0 (would loop forever)
        {1, 1, 1, 30},            // unknown kind, length missing
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        CAPTURE(i);
        CHECK_FALSE(TcpOptions::read(bad[i]).has_value());
    }
    CHECK(TcpOptions::read({}).has_value());  // empty area is fine
    const std::uint8_t pad[] = {1, 1, 1, 0};
    CHECK(TcpOptions::read(pad).has_value());
}

TEST_CASE("TcpOptions write/read round-trip over all combinations", "[headers][tcpopt]") {
    int tested = 0;
    for (int mask = 0; mask < 64; ++mask) {
        for (std::uint8_t sacks = 0; sacks < 4; ++sacks) {
            TcpOptions o;
            if (mask & 1) o.mss = 1200;
            if (mask & 2) o.wscale = 7;
            if (mask & 4) o.sack_permitted = true;
            if (mask & 8) o.ts = TcpTimestamp{0x01020304, 0xa0b0c0d0};
            if (mask & 16) {
                const std::uint8_t unk[] = {30, 6, 1, 2, 3, 4};
                std::copy(std::begin(unk), std::end(unk), o.unknown.begin());
                o.unknown_len = 6;
                o.unknown_count = 1;
            }
            if (mask & 32) {
                const std::uint8_t unk[] = {253, 3, 9};
                std::copy(std::begin(unk), std::end(unk), o.unknown.begin() + o.unknown_len);
                o.unknown_len = static_cast<std::uint8_t>(o.unknown_len + 3);
                ++o.unknown_count;
            }
            o.sack_count = sacks;
            for (std::uint8_t k = 0; k < sacks; ++k) o.sack[k] = SackBlock{Seq(100u * k), Seq(100u * k + 50)};
            std::array<std::uint8_t, 60> out{};
            const std::size_t n = o.wire_size();
            CAPTURE(mask, int{sacks}, n);
            CHECK(n % 4 == 0);
            if (n > 40 || n == 0) {
                CHECK(o.write(out) == 0);
                continue;
            }
            REQUIRE(o.write(out) == n);
            // the sum a frame builder adds to the TCP checksum equals the sum of the written bytes
            CHECK(csum_fold(o.word_sum()) == csum_fold(csum_add(ConstBytes(out).first(n))));
            CHECK(o.write(Bytes(out).first(n - 1)) == 0);  // too small
            auto r = TcpOptions::read(ConstBytes(out).first(n));
            REQUIRE(r);
            CHECK(r->mss == o.mss);
            CHECK(r->wscale == o.wscale);
            CHECK(r->sack_permitted == o.sack_permitted);
            CHECK(r->ts.has_value() == o.ts.has_value());
            if (o.ts) {
                CHECK(r->ts->val == o.ts->val);
                CHECK(r->ts->ecr == o.ts->ecr);
            }
            CHECK(r->sack_count == o.sack_count);
            for (std::uint8_t k = 0; k < sacks; ++k) {
                CHECK(r->sack[k].left == o.sack[k].left);
                CHECK(r->sack[k].right == o.sack[k].right);
            }
            CHECK(r->unknown_count == o.unknown_count);
            CHECK(r->unknown_len == o.unknown_len);
            CHECK(std::equal(o.unknown.begin(), o.unknown.begin() + o.unknown_len, r->unknown.begin()));
            ++tested;
        }
    }
    CHECK(tested > 100);
}

TEST_CASE("TcpOptions valid and read_timestamp agree with read on random areas", "[headers][tcpopt]") {
    // areas built from known and unknown kinds with right and wrong lengths, NOP, EOL and
    // truncation: valid() must accept exactly what read() accepts, read_timestamp() must
    // give read()'s timestamp
    std::uint64_t rng = 0x2545f4914f6cdd1dULL;
    auto next = [&rng](std::uint32_t bound) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        return static_cast<std::uint32_t>(rng % bound);
    };
    const std::uint8_t kinds[] = {0, 1, 2, 3, 4, 5, 8, 30, 254};
    int accepted = 0, with_ts = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<std::uint8_t> a;
        const std::size_t target = next(41);
        while (a.size() < target) {
            const std::uint8_t kind = kinds[next(sizeof kinds)];
            a.push_back(kind);
            if (kind <= 1) continue;
            std::uint8_t len = 2;
            switch (kind) {
                case 2: len = 4; break;
                case 3: len = 3; break;
                case 4: len = 2; break;
                case 5: len = static_cast<std::uint8_t>(2 + 8 * (1 + next(4))); break;
                case 8: len = 10; break;
                default: len = static_cast<std::uint8_t>(2 + next(8)); break;
            }
            if (next(8) == 0) len = static_cast<std::uint8_t>(next(12));  // a wrong length
            a.push_back(len);
            for (std::uint8_t i = 2; i < len; ++i) a.push_back(static_cast<std::uint8_t>(next(256)));
        }
        if (a.size() > target && next(2)) a.resize(target);  // truncated last option
        const auto full = TcpOptions::read(a);
        INFO("iteration " << iter << ", " << a.size() << " bytes");
        REQUIRE(TcpOptions::valid(a) == full.has_value());
        const auto ts = TcpOptions::read_timestamp(a);
        REQUIRE(ts.has_value() == (full && full->ts.has_value()));
        if (ts) {
            CHECK(ts->val == full->ts->val);
            CHECK(ts->ecr == full->ts->ecr);
            ++with_ts;
        }
        accepted += full.has_value();
    }
    // the generator reaches both outcomes often
    CHECK(accepted > 2000);
    CHECK(accepted < 18000);
    CHECK(with_ts > 500);
}
