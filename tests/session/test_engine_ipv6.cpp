// IPv6 sessions (issue #18, layer 2). An engine with no IPv6 -x entry drops IPv6 frames whole,
// under their named reason, on every entry point; one with IPv6 entries copies IPv6 sessions
// as it copies IPv4 ones. Family mapping: test_engine_ipv6_map.cpp.
#include "tests/session/engine_rig6.hpp"

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

TEST_CASE("engine: with no IPv6 -x entry, IPv6 frames are dropped as ipv6_not_supported, captured or from the target, one by one or in bursts") {
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

TEST_CASE("engine: an IPv6 session: handshake, data, the target's answer matched, close, all in IPv6") {
    Rig6 r(config6(true, true));
    Conv6 cv(true);
    const AnySeg syn = open6(r, cv);
    CHECK(syn.key.src.v6);
    CHECK(syn.key.src.a6 != kPool6.addr());  // not the subnet-router anycast address
    CHECK(kPool6.contains(syn.key.src.a6));
    CHECK(syn.key.dst == ep6(kTarget6));
    CHECK(syn.key.dp == kTargetPort);
    CHECK(syn.h.seq == Seq(cv.cisn));
    CHECK(syn.o.mss == std::optional<std::uint16_t>(1440));
    CHECK(r.c(Counter::sessions_ipv6) == 1);
    CHECK(r.c(Counter::sessions_family_mapped) == 0);

    r.cap(cv.cdata(0, 0, bytes(300, 1)));
    auto d = r.out6();
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == cv.xlat);
    CHECK(d[0].payload == bytes(300, 1));
    CHECK(d[0].h.seq == Seq(cv.cisn + 1));
    // the target acknowledges and answers: matched to the session, acknowledged in IPv6
    r.tgt(cv.tack(0, cv.cisn + 301, 120));
    auto a = r.out6();
    REQUIRE(a.size() == 1);
    CHECK(a[0].key == cv.xlat);
    CHECK(a[0].h.ack == Seq(cv.tisn + 1 + 120));
    CHECK(r.c(Counter::drop_target_unknown) == 0);

    r.cap(cv.sdata(0, 300, 120));
    r.cap(cv.cfin(300, 120));
    r.run_for(300 * kMs);
    auto f = r.out6();
    REQUIRE(!f.empty());
    CHECK(f.back().has(tf::fin));
    CHECK(f.back().key == cv.xlat);
}

TEST_CASE("engine: IPv6 sessions are keyed by their full addresses, apart from IPv4 ones with the same ports") {
    EngineConfig c = config6(true, true);
    c.transfers[0].online_family = OnlineFamily::both;  // both families to port 80, any address
    c.transfers[0].online_ip6.reset();
    c.transfers[0].target_ip6.reset();                   // an IPv4 target: IPv6 sessions are mapped
    Rig6 r(c);
    // three clients, the same ports: two IPv6 addresses differing in their top bits only, one IPv4
    Conv6 a(true), b(true), v4(false);
    b.c2s.src.a6 = *net::Ipv6Addr::parse("3001:db8::10");
    std::vector<Conv6*> all{&a, &b, &v4};
    for (Conv6* cv : all) {
        r.cap(cv->csyn());
        auto o = r.out6();
        REQUIRE(o.size() == 1);
        cv->xlat = o[0].key;
    }
    CHECK(r.e->active_sessions() == 3);
    CHECK(a.xlat != b.xlat);
    CHECK(r.c(Counter::sessions_ipv6) == 2);
    // each target SYN-ACK and each captured data segment goes to its own session
    for (Conv6* cv : all) r.tgt(cv->tsynack(cv->cisn + 1));
    CHECK(r.out6().size() == 3);
    for (std::size_t i = 0; i < all.size(); ++i) {
        r.cap(all[i]->cdata(0, 0, bytes(10 + i, static_cast<std::uint8_t>(i))));
        auto o = r.out6();
        REQUIRE(o.size() == 1);
        CHECK(o[0].key == all[i]->xlat);
        CHECK(o[0].payload == bytes(10 + i, static_cast<std::uint8_t>(i)));
    }
    CHECK(r.c(Counter::drop_captured_no_session) == 0);
}

TEST_CASE("engine: IPv6 request pacing holds the next request until the target answered, then a quiet release") {
    Rig6 r(config6(true, true));
    Conv6 cv(true);
    open6(r, cv);
    r.cap(cv.cdata(0, 0, bytes(10, 1)));
    CHECK(r.out6().size() == 1);
    r.cap(cv.sdata(0, 10, 5000));
    r.cap(cv.cdata(10, 5000, bytes(10, 2)));
    CHECK(r.out6().empty());  // held: the target has answered nothing yet
    r.tgt(cv.tack(0, cv.cisn + 11, 40));
    CHECK(r.out6().size() == 1);  // our ACK only: 40 bytes of 5000, still held
    r.step(1 * kMs);
    CHECK(r.out6().empty());
    r.step(10 * kMs);  // quiet for longer than the quiet time
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(10, 2));
    CHECK(o[0].key == cv.xlat);
    CHECK(r.c(Counter::requests_released_quiet) == 1);
}

TEST_CASE("engine: IPv6 -n 2 fans out to two IPv6 tuples of the pool, each answered on its own") {
    EngineConfig c = config6(true, true);
    c.multiply = 2;
    Rig6 r(c);
    Conv6 cv(true);
    r.cap(cv.csyn(mss_option(1440)));
    auto syns = r.out6();
    REQUIRE(syns.size() == 2);
    CHECK(syns[0].key != syns[1].key);
    for (const AnySeg& s : syns) {
        CHECK(kPool6.contains(s.key.src.a6));
        Conv6 t = cv;
        t.xlat = s.key;
        r.tgt(t.tsynack(cv.cisn + 1));
    }
    CHECK(r.out6().size() == 2);
    r.cap(cv.cdata(0, 0, bytes(50, 4)));
    auto d = r.out6();
    REQUIRE(d.size() == 2);
    CHECK(d[0].key != d[1].key);
    for (const AnySeg& s : d) CHECK(s.payload == bytes(50, 4));
    CHECK(r.c(Counter::sessions_created) == 2);
    CHECK(r.c(Counter::sessions_ipv6) == 2);
    CHECK(r.c(Counter::handshakes) == 2);
}

TEST_CASE("engine: an IPv6 tuple is not reused within TIME_WAIT, and is after it") {
    EngineConfig c = config6(true, true);
    c.instance_count = 64;  // ports 1024..2031; worker 0 of 16: 63 of them
    c.worker_count = 16;
    c.max_tuples = 63;      // one address of the /64
    c.time_wait = 5 * kSec;
    Rig6 r(c);
    std::vector<Key> used;
    for (std::uint16_t i = 0; i < 63; ++i) {
        Conv6 cv(true, static_cast<std::uint16_t>(41000 + i));
        r.cap(cv.csyn());
        auto o = r.out6();
        REQUIRE(o.size() == 1);
        used.push_back(o[0].key);
        cv.xlat = o[0].key;
        r.tgt(cv.tsynack(cv.cisn + 1));
        r.cap(tcp_any(cv.c2s, cv.cisn + 1, 0, tf::rst));  // the client resets: the session ends
        r.step(kMs);
        r.out6();
    }
    std::set<std::uint16_t> ports;
    for (const Key& k : used) {
        ports.insert(k.sp.value());
        CHECK(k.src == ep6(*net::Ipv6Addr::parse("fd77:41::1")));
    }
    CHECK(ports.size() == 63);
    CHECK(r.e->active_sessions() == 0);
    Conv6 early(true, 42000);  // every tuple is in TIME_WAIT: none is handed out
    r.cap(early.csyn());
    CHECK(r.out6().empty());
    CHECK(r.c(Counter::create_no_tuple) == 1);
    r.run_for(5 * kSec);
    Conv6 late(true, 42001);
    r.cap(late.csyn());
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].key == used[0]);  // the tuple released longest ago, once its TIME_WAIT is over
}

TEST_CASE("engine: -r over IPv6 chooses the same sessions in two runs, by the full addresses") {
    EngineConfig c = config6(true, true);
    c.percent = 40;
    std::set<int> runs[2];
    for (int run = 0; run < 2; ++run) {
        Rig6 r(c);
        for (int i = 0; i < 600; ++i) {
            Conv6 cv(true, 40000);  // the same ports: only the address's top bytes differ
            auto b = kClient6.bytes();
            b[0] = static_cast<std::uint8_t>(0x20 + (i >> 8));
            b[1] = static_cast<std::uint8_t>(i);
            cv.c2s.src.a6 = net::Ipv6Addr(b);
            cv.cisn = 100000u * static_cast<std::uint32_t>(i);
            r.cap(cv.csyn());
            for (auto& s : r.out6()) runs[run].insert(static_cast<int>(s.h.seq.value() / 100000u));
        }
        CHECK(r.c(Counter::drop_captured_not_sampled) == 600 - runs[run].size());
    }
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0].size() > 190);
    CHECK(runs[0].size() < 290);
}

TEST_CASE("engine: IPv6 frames of no IPv6 entry are refused by name; a stray target frame gets an IPv6 RST") {
    Rig6 r(config6(true, true));
    Conv6 other(true);
    other.c2s.dp = net::Port(81);  // no -x entry for port 81
    r.cap(other.csyn());
    Conv6 v4(false);  // an IPv4 client of the IPv6-only entry
    r.cap(v4.csyn());
    CHECK(r.c(Counter::drop_captured_no_transfer) == 2);
    CHECK(r.e->active_sessions() == 0);
    CHECK(r.out6().empty());
    // the target answers a tuple of our pool we hold no session on: RST from that tuple
    Conv6 ghost(true);
    ghost.xlat = Key{ep6(*net::Ipv6Addr::parse("fd77:41::1")), ep6(kTarget6), net::Port(2000), kTargetPort};
    r.tgt(ghost.tack(0, 5555, 10));
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].has(tf::rst));
    CHECK(o[0].key == ghost.xlat);
    CHECK(r.c(Counter::target_unknown_rst_sent) == 1);
    // outside the pool: not ours, no RST
    ghost.xlat.src = ep6(*net::Ipv6Addr::parse("fd77:99::1"));
    r.tgt(ghost.tack(0, 5555, 10));
    CHECK(r.out6().empty());
    CHECK(r.c(Counter::drop_target_unknown) == 2);
}

TEST_CASE("engine: IPv6 costs 64 bytes per session slot and the IPv6 pool's tuples, only with an IPv6 -x entry") {
    static_assert(sizeof(Session) <= 256);
    static_assert(sizeof(SessionAddrs6) == 64);
    Sink sink;
    std::string err;
    EngineConfig c4 = base_config();
    c4.max_tuples = 1u << 16;
    EngineConfig c4pool = c4;
    c4pool.clients6 = kPool6;  // a pool alone allocates nothing: no entry is IPv6
    EngineConfig c6 = config6(true, true);
    c6.max_tuples = 1u << 16;
    auto e4 = Engine::create(c4, sink, err);
    auto e4pool = Engine::create(c4pool, sink, err);
    auto e6 = Engine::create(c6, sink, err);
    REQUIRE((e4 && e4pool && e6));
    TupleConfig tc;
    tc.clients6 = kPool6;
    tc.max_tuples = c6.max_tuples;
    TupleAllocator pool6;
    REQUIRE(pool6.init(tc, err));
    CHECK(e4pool->memory_bytes() == e4->memory_bytes());
    CHECK(e6->memory_bytes() - e4->memory_bytes() == std::size_t{c6.max_sessions} * 64 + pool6.memory_bytes());
}
