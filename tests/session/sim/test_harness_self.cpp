// Self-tests of the simulation kit: the generator's captures, the model target and the
// harness's checks, with an independent reference client as the device under test.
// Includes the negative self-checks: the harness must detect deliberate defects.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"
#include "tests/session/sim/conversation.hpp"
#include "tests/session/sim/harness.hpp"
#include "tests/session/sim/model_target.hpp"
#include "tests/session/sim/reference_client.hpp"

using namespace dpcopy;
using namespace dpcopy::sim;

namespace {

struct Reassembly {
    std::map<std::uint64_t, std::vector<std::uint8_t>> segs;  // by stream offset
    std::uint32_t isn = 0;
    bool have_isn = false;
};

// Reassembles each session's client stream from the capture (by sequence number).
std::map<std::uint64_t, Reassembly> reassemble(const Capture& cap, bool& all_ok) {
    std::map<std::uint64_t, Reassembly> out;
    all_ok = true;
    for (const auto& f : cap.frames) {
        net::PacketView v;
        if (net::parse_frame(f.bytes, v) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) { all_ok = false; continue; }
        if (!net::ipv4_checksum_ok(f.bytes, v) || !net::l4_checksum_ok(f.bytes, v)) all_ok = false;
        const auto th = net::TcpHdr::read(net::ConstBytes(f.bytes).subspan(v.l4_off));
        const auto opts = net::TcpOptions::read(v.tcp_options(f.bytes));
        if (!opts) { all_ok = false; continue; }
        if (!th.has(net::tcpflag::rst) && !opts->ts) all_ok = false;  // timestamps on every segment
        if (th.has(net::tcpflag::syn) && (!opts->mss || !opts->wscale || !opts->sack_permitted)) all_ok = false;
        if (v.key.dst_port.value() != 80) continue;
        const std::uint64_t k = (std::uint64_t{v.key.src_ip.value()} << 16) | v.key.src_port.value();
        auto& r = out[k];
        if (th.has(net::tcpflag::syn)) { r.isn = th.seq.value(); r.have_isn = true; continue; }
        if (v.payload_len == 0 || !r.have_isn) continue;
        const std::uint64_t off = static_cast<std::uint32_t>(th.seq.value() - r.isn - 1);
        auto pl = v.payload(f.bytes);
        r.segs[off].assign(pl.begin(), pl.end());
    }
    return out;
}

std::vector<std::uint8_t> flatten(const Reassembly& r) {
    std::vector<std::uint8_t> s;
    for (const auto& [off, d] : r.segs) {
        if (off > s.size()) break;
        if (off + d.size() > s.size()) s.insert(s.end(), d.begin() + static_cast<std::ptrdiff_t>(s.size() - off), d.end());
    }
    return s;
}

SimResult run_ref(const Capture& cap, SimConfig cfg, RefClientParams rp = {}) {
    if (std::getenv("SIM_VERBOSE")) std::fprintf(stderr, "run_ref seed %llu\n", static_cast<unsigned long long>(cfg.seed));
    Harness h(cap, cfg);
    RefClient ref(cap, rp, h.sink());
    return h.run(ref);
}

}  // namespace

TEST_CASE("generator: captures parse, carry realistic options and the expected client stream", "[sim][generator]") {
    std::vector<SessionScript> scripts;
    scripts.push_back(simple_session(5, 300, 2000, 0, 1, 40001));
    auto up = simple_session(2, 200'000, 100, 3 * kMsec, 2, 40002);
    scripts.push_back(up);
    auto pipe = simple_session(6, 500, 700, 5 * kMsec, 3, 40003);
    pipe.pipeline = 3;
    scripts.push_back(pipe);
    auto greet = simple_session(3, 100, 100, 7 * kMsec, 4, 40004);
    greet.greeting_bytes = 90;
    greet.close = CloseKind::rst;
    scripts.push_back(greet);
    auto gro = simple_session(2, 60'000, 100, 9 * kMsec, 5, 40005);
    gro.gro_bytes = 20'000;
    scripts.push_back(gro);
    const Capture cap = generate(scripts);
    REQUIRE(cap.sessions.size() == scripts.size());
    bool ok = false;
    auto re = reassemble(cap, ok);
    CHECK(ok);
    for (std::size_t i = 0; i < scripts.size(); ++i) {
        const auto& e = cap.sessions[i];
        const std::uint64_t k = (std::uint64_t{scripts[i].client_ip.value()} << 16) | scripts[i].client_port.value();
        INFO("session " << i);
        CHECK(flatten(re[k]) == e.stream);
        CHECK_FALSE(e.has_gap);
        CHECK(e.requests() == scripts[i].exchanges.size());
    }
    // GRO: some captured frames are larger than an Ethernet MTU.
    std::size_t big = 0;
    for (const auto& f : cap.frames) big += f.bytes.size() > 1514;
    CHECK(big >= 6);
    // Times are sorted.
    for (std::size_t i = 1; i < cap.frames.size(); ++i) REQUIRE(cap.frames[i - 1].t <= cap.frames[i].t);
}

TEST_CASE("generator: mid-stream, loss, duplicates and late segments", "[sim][generator]") {
    auto mid = simple_session(6, 300, 500, 0, 1, 40001);
    mid.mid_stream_from = 3;
    auto lossy = simple_session(30, 3000, 300, 0, 2, 40002);
    lossy.loss = 0.1;
    lossy.seed = 7;
    auto dupy = simple_session(30, 3000, 300, 0, 3, 40003);
    dupy.dup = 0.2;
    dupy.retrans = 0.1;
    dupy.late = 0.1;
    const Capture cap = generate({mid, lossy, dupy});
    bool ok = false;
    auto re = reassemble(cap, ok);
    CHECK(ok);
    CHECK(cap.sessions[0].first_idx == 3);
    CHECK(cap.sessions[0].requests() == 3);
    std::size_t syns = 0;
    for (const auto& f : cap.frames) {
        net::PacketView v;
        REQUIRE(net::parse_frame(f.bytes, v) == net::ParseError::ok);
        const auto th = net::TcpHdr::read(net::ConstBytes(f.bytes).subspan(v.l4_off));
        if (th.has(net::tcpflag::syn) && v.key.src_port.value() == 40001) ++syns;
    }
    CHECK(syns == 0);
    CHECK(cap.sessions[1].has_gap);
    CHECK(std::count(cap.sessions[1].may_lose.begin(), cap.sessions[1].may_lose.end(), true) >= 1);
    CHECK_FALSE(cap.sessions[2].has_gap);
    const std::uint64_t k = (std::uint64_t{cap.sessions[2].original.src_ip.value()} << 16) | 40003;
    CHECK(flatten(re[k]) == cap.sessions[2].stream);
}

TEST_CASE("model + harness: a reference client passes, clean and under faults", "[sim][self]") {
    std::vector<SessionScript> scripts;
    for (std::uint32_t i = 0; i < 6; ++i) scripts.push_back(simple_session(4 + i, 200 + 900 * i, 300, i * kMsec, i + 1, static_cast<std::uint16_t>(41000 + i)));
    scripts.push_back(simple_session(2, 150'000, 10, 0, 9, 41009));
    const Capture cap = generate(scripts);
    SECTION("clean") {
        SimConfig cfg;
        const SimResult r = run_ref(cap, cfg);
        INFO(r.report());
        CHECK(r.ok());
        CHECK(r.finished);
        CHECK(r.chosen.size() == scripts.size());
    }
    SECTION("faults, small windows, zero windows, varied MSS, no OOO buffering") {
        for (std::uint64_t seed = 1; seed <= 30; ++seed) {
            SimConfig cfg;
            cfg.seed = seed;
            cfg.to_target = FaultPlan{0.05, 0.03, 0.05};
            cfg.to_engine = FaultPlan{0.05, 0.03, 0.05};
            cfg.model.rcvbuf_min = 1000;
            cfg.model.rcvbuf_max = 30000;
            cfg.model.mss_min = 536;
            cfg.model.ooo_buffer = seed % 2 ? 1.0 : 0.0;
            cfg.model.zero_window = 0.2;
            const SimResult r = run_ref(cap, cfg);
            INFO("seed " << seed << "\n" << r.report());
            REQUIRE(r.ok());
        }
    }
    SECTION("the target resets and closes mid-session: reconnections") {
        for (std::uint64_t seed = 1; seed <= 20; ++seed) {
            SimConfig cfg;
            cfg.seed = seed;
            cfg.model.rst_after_request = 0.1;
            cfg.model.fin_after_request = 0.1;
            cfg.to_target = FaultPlan{0.03, 0.0, 0.0};
            const SimResult r = run_ref(cap, cfg);
            INFO("seed " << seed << "\n" << r.report());
            REQUIRE(r.ok());
        }
    }
}

TEST_CASE("negative self-checks: the harness detects defects", "[sim][self][negative]") {
    std::vector<SessionScript> scripts{simple_session(4, 500, 300, 0, 1, 42000), simple_session(3, 300, 300, 0, 2, 42001)};
    const Capture cap = generate(scripts);
    SimConfig cfg;
    cfg.bound_after_capture = 20 * kSecond;
    // a defect of the client (or an expectation it does not meet), and what the report must say
    struct Defect {
        const char* name;
        std::uint32_t multiply;  // replicas the harness expects
        void (*make)(RefClientParams&);
        const char* reported;
    };
    const Defect defects[] = {
        {"a corrupted byte", 1, [](RefClientParams& rp) { rp.corrupt_offset = 777; }, "differs at offset 777"},
        {"a missing request", 1, [](RefClientParams& rp) { rp.skip_request = true; }, "sid=1"},
        {"a connection never closed", 1, [](RefClientParams& rp) { rp.skip_fin = true; }, "half-open"},
        {"a bad TCP checksum", 1, [](RefClientParams& rp) { rp.bad_checksum = true; }, "bad TCP checksum"},
        {"segments over the MTU", 1, [](RefClientParams& rp) { rp.oversize = true; }, "exceeds the MTU"},
        {"two replicas expected, one made", 2, [](RefClientParams&) {}, "expected 2"},
    };
    for (const Defect& d : defects) {
        SECTION(d.name) {
            SimConfig c2 = cfg;
            c2.multiply = d.multiply;
            RefClientParams rp;
            d.make(rp);
            const SimResult r = run_ref(cap, c2, rp);
            REQUIRE_FALSE(r.ok());
            CHECK(r.report().find(d.reported) != std::string::npos);
        }
    }
    SECTION("the same replicas pass when made") {
        SimConfig c2 = cfg;
        c2.multiply = 2;
        RefClientParams rp;
        rp.replicas = 2;
        const SimResult r = run_ref(cap, c2, rp);
        INFO(r.report());
        CHECK(r.ok());
    }
}

TEST_CASE("model: tuple collisions are detected", "[sim][model][negative]") {
    std::vector<std::vector<std::uint8_t>> out;
    ModelParams mp;
    ModelTarget m(mp, 5, [&](std::vector<std::uint8_t>&& f) { out.push_back(std::move(f)); });
    const net::Ipv4Addr cip = net::Ipv4Addr::from_octets(10, 9, 9, 9);
    auto frame = [&](std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::vector<std::uint8_t> pl = {}) {
        net::L2Spec l2{mp.peer_mac, mp.mac};
        net::Ipv4Spec ip;
        ip.src = cip;
        ip.dst = mp.ip;
        net::TcpSpec t;
        t.src_port = net::Port(5555);
        t.dst_port = mp.port;
        t.seq = net::Seq(seq);
        t.ack = net::Seq(ack);
        t.flags = flags;
        if (flags & net::tcpflag::syn) t.options.mss = 1460;
        t.payload = pl;
        std::vector<std::uint8_t> f(net::tcp_frame_size(l2, t));
        f.resize(net::build_tcp(f, l2, ip, t));
        return f;
    };
    auto synack_seq = [&]() {
        REQUIRE(!out.empty());
        net::PacketView v;
        REQUIRE(net::parse_frame(out.back(), v) == net::ParseError::ok);
        return net::TcpHdr::read(net::ConstBytes(out.back()).subspan(v.l4_off)).seq.value();
    };
    m.on_frame(frame(net::tcpflag::syn, 1000, 0), kMsec);
    const std::uint32_t s = synack_seq();
    std::vector<std::uint8_t> req;
    append_request(req, 1, 0, 20);
    m.on_frame(frame(net::tcpflag::ack, 1001, s + 1, req), 2 * kMsec);
    CHECK(m.records().at(0).data == req);
    SECTION("a second SYN on a live tuple") {
        m.on_frame(frame(net::tcpflag::syn, 5000, 0), 3 * kMsec);
        CHECK(m.collisions() == 1);
    }
    SECTION("a SYN with a not-higher sequence number in TIME_WAIT") {
        m.on_frame(frame(net::tcpflag::fin | net::tcpflag::ack, 1021, s + 1), 3 * kMsec);
        m.advance(100 * kMsec);  // responses and the model's FIN
        net::PacketView v;
        REQUIRE(net::parse_frame(out.back(), v) == net::ParseError::ok);
        const auto th = net::TcpHdr::read(net::ConstBytes(out.back()).subspan(v.l4_off));
        REQUIRE(th.has(net::tcpflag::fin));
        m.on_frame(frame(net::tcpflag::ack, 1022, th.seq.value() + 1), 101 * kMsec);
        CHECK(m.live_connections() == 0);
        CHECK(m.records().at(0).end == ConnEnd::fin);
        m.on_frame(frame(net::tcpflag::syn, 1000, 0), 200 * kMsec);  // old duplicate: harmless
        CHECK(m.collisions() == 0);
        m.on_frame(frame(net::tcpflag::syn, 900, 0), 300 * kMsec);   // new connection, lower ISN: collision
        CHECK(m.collisions() == 1);
        m.on_frame(frame(net::tcpflag::syn, 90000, 0), 400 * kMsec);  // higher ISN: accepted
        CHECK(m.collisions() == 1);
        CHECK(m.live_connections() == 1);
    }
}
