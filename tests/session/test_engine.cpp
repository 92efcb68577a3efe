// Engine unit tests with a tiny scripted target: each test plays the captured
// conversation and the target's answers by hand and checks every frame the engine emits.
#include "tests/session/engine_rig.hpp"

TEST_CASE("engine: rejects bad configurations with one line") {
    Sink s;
    std::string err;
    EngineConfig c = base_config();
    c.transfers.clear();
    CHECK_FALSE(Engine::create(c, s, err));
    CHECK_FALSE(err.empty());
    c = base_config();
    c.multiply = 1001;
    CHECK_FALSE(Engine::create(c, s, err));
    c = base_config();
    c.worker_index = 2;
    c.worker_count = 2;
    CHECK_FALSE(Engine::create(c, s, err));
    c = base_config();
    c.instance = 64;
    CHECK_FALSE(Engine::create(c, s, err));
    c = base_config();
    c.mtu = 100;
    CHECK_FALSE(Engine::create(c, s, err));
    CHECK(Engine::create(base_config(), s, err));
}

TEST_CASE("engine: a full session (SYN options, ack/timestamp rewriting, pacing by bytes, FIN close)") {
    Rig r(base_config());
    Conv cv;
    net::TcpOptions so;
    so.mss = 1460;
    so.sack_permitted = true;
    so.wscale = 7;
    so.ts = net::TcpTimestamp{111, 0};
    r.cap(cv.csyn(so));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    const Seg syn = o[0];
    CHECK(syn.h.flags == tf::syn);
    CHECK(syn.h.seq == Seq(cv.cisn));                         // client seq as captured
    CHECK(syn.key.src_ip == kFake);                            // -c address
    CHECK(syn.key.dst_ip == kTarget);
    CHECK(syn.key.dst_port == kTargetPort);
    CHECK(syn.o.mss == std::optional<std::uint16_t>(1460));   // options kept...
    CHECK(syn.o.wscale == std::optional<std::uint8_t>(7));
    REQUIRE(syn.o.ts);
    CHECK(syn.o.ts->val == 111);
    CHECK_FALSE(syn.o.sack_permitted);                         // ...but SACK-permitted removed
    cv.xlat = syn.key;
    r.cap(cv.ssynack());
    r.cap(cv.cack(0, 0));
    CHECK(r.out().empty());

    net::TcpOptions to;
    to.mss = 1400;
    to.wscale = 5;
    to.ts = net::TcpTimestamp{555, 111};
    r.step(2 * kMs);
    r.tgt(cv.tsynack(cv.cisn + 1, to));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::ack);
    CHECK(o[0].h.ack == Seq(cv.tisn + 1));  // ack rewritten to the target's side
    REQUIRE(o[0].o.ts);
    CHECK(o[0].o.ts->ecr == 555);            // echo the target's TSval
    std::uint32_t last_tsval = o[0].o.ts->val;
    CHECK(last_tsval >= 111);
    CHECK(r.c(Counter::handshakes) == 1);

    // request 1: sent at once
    r.step(1 * kMs);
    r.cap(cv.cdata(0, 0, bytes(100, 1)));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.seq == Seq(cv.cisn + 1));
    CHECK(o[0].h.ack == Seq(cv.tisn + 1));
    CHECK(o[0].payload == bytes(100, 1));
    REQUIRE(o[0].o.ts);
    CHECK(o[0].o.ts->val >= last_tsval);  // monotonic
    last_tsval = o[0].o.ts->val;

    // online response 300 bytes, then request 2 (its ack covers the 300 bytes): held
    r.cap(cv.sdata(0, 100, 300));
    r.cap(cv.cack(100, 300));
    r.cap(cv.cdata(100, 300, bytes(50, 2)));
    CHECK(r.out().empty());
    CHECK(r.c(Counter::requests_held) == 1);

    // the target acks request 1 and sends 200 bytes: we ack them, request 2 still held
    r.step(1 * kMs);
    to.ts = net::TcpTimestamp{560, last_tsval};
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 200, 0, to));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload.empty());
    CHECK(o[0].h.ack == Seq(cv.tisn + 1 + 200));
    CHECK(o[0].o.ts->ecr == 560);
    // 100 more bytes: the target has now sent as much as the online server: request 2 goes
    to.ts = net::TcpTimestamp{561, last_tsval};
    r.tgt(cv.tack(200, cv.cisn + 101, 65535, 100, 0, to));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(50, 2));
    CHECK(o[0].h.seq == Seq(cv.cisn + 101));
    CHECK(o[0].h.ack == Seq(cv.tisn + 1 + 300));
    CHECK(o[0].o.ts->ecr == 561);
    CHECK(r.c(Counter::requests_released_bytes) == 1);

    // the client closes; the FIN waits for the target's ack of request 2
    r.cap(cv.cfin(150, 300));
    CHECK(r.out().empty());
    r.tgt(cv.tack(300, cv.cisn + 151));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == (tf::fin | tf::ack));
    CHECK(o[0].h.seq == Seq(cv.cisn + 151));
    r.tgt(cv.tack(300, cv.cisn + 152, 65535, 0, tf::fin));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::ack);
    CHECK(o[0].h.ack == Seq(cv.tisn + 302));
    CHECK(r.c(Counter::end_closed) == 1);
    CHECK(r.e->active_sessions() == 0);
    CHECK(r.e->idle());
    CHECK(r.c(Counter::data_bytes_sent) == 150);
}

TEST_CASE("engine: a shorter target response releases the next request after a quiet time") {
    OpenRig r;
    r.hold_after_short_response();
    r.step(1 * kMs);
    CHECK(r.out().empty());
    r.step(10 * kMs);  // quiet for longer than the quiet time (floor 2 ms, timer tick ~1 ms)
    r.check_released_quiet();
}

namespace {
bool has_fin(const std::vector<Seg>& o) {
    return std::any_of(o.begin(), o.end(), [](const Seg& g) { return (g.h.flags & tf::fin) != 0; });
}
}  // namespace

TEST_CASE("engine: a FIN captured behind a held request keeps its own ack and waits for that request's response (EB-6)") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(10, 1000, 10);             // request 1, online response 1, request 2
    r.cap(cv.sdata(1000, 20, 300));           // online response 2
    r.cap(cv.cfin(20, 1300));                 // the client's FIN, after response 2
    CHECK(r.out().empty());                   // request 2 (and the FIN behind it) held
    r.tgt(cv.tack(0, cv.cisn + 11, 65535, 1000));  // the target's response 1: request 2 goes
    auto o = r.out();
    REQUIRE(std::any_of(o.begin(), o.end(), [](const Seg& g) { return g.payload == bytes(10, 2); }));
    CHECK_FALSE(has_fin(o));
    r.tgt(cv.tack(1000, cv.cisn + 21));  // request 2 acknowledged, its response not sent yet
    CHECK_FALSE(has_fin(r.out()));       // was: the FIN, with request 2's ack as its need
    for (int i = 0; i < 20; ++i) r.step(1 * kMs);
    CHECK_FALSE(has_fin(r.out()));       // a close waits longer than a request (close_quiet)
    r.tgt(cv.tack(1000, cv.cisn + 21, 65535, 300));  // response 2
    o = r.out();
    REQUIRE(has_fin(o));
    CHECK(o.back().h.seq == Seq(cv.cisn + 21));
}

TEST_CASE("engine: the close after a request released in a pause of a long answer waits for that request's own answer") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(10, 1000, 10);                  // request 1, online response 1 (1,000 bytes), request 2
    r.cap(cv.sdata(1000, 20, 300));                // online response 2
    r.cap(cv.cfin(20, 1300));                      // the client's FIN, after response 2
    r.tgt(cv.tack(0, cv.cisn + 11, 65535, 400));   // the target's response 1 starts, then pauses
    CHECK_FALSE(has_fin(r.out()));
    r.run_for(20 * kMs);                           // quiet: request 2 goes as a guess
    auto o = r.out();
    REQUIRE(std::any_of(o.begin(), o.end(), [](const Seg& g) { return g.payload == bytes(10, 2); }));
    CHECK(r.c(Counter::requests_released_quiet) == 1);
    CHECK_FALSE(has_fin(o));
    r.tgt(cv.tack(400, cv.cisn + 21));             // request 2 acknowledged
    r.tgt(cv.tack(400, cv.cisn + 21, 65535, 600)); // the rest of response 1 (was: taken as response 2: FIN)
    CHECK_FALSE(has_fin(r.out()));
    r.run_for(5 * kMs);
    CHECK_FALSE(has_fin(r.out()));
    r.tgt(cv.tack(1000, cv.cisn + 21, 65535, 300)); // response 2
    o = r.out();
    REQUIRE(has_fin(o));
    CHECK(o.back().h.seq == Seq(cv.cisn + 21));
    CHECK(r.c(Counter::close_unanswered) == 0);
}

TEST_CASE("engine: a gap in the engine's own calls does not count as the target's quiet time (EB-6)") {
    OpenRig r;
    r.hold_after_short_response();  // 40 of the 5000 bytes, then nothing seen
    r.step(100 * kMs);  // the worker was not running: the target's frames may wait unread
    CHECK(r.out().empty());
    CHECK(r.c(Counter::requests_released_quiet) == 0);
    for (int i = 0; i < 5; ++i) r.step(1 * kMs);  // running again: the quiet time completes
    r.check_released_quiet();
}

TEST_CASE("engine: -W sends every request without waiting") {
    OpenRig r(config_with(&EngineConfig::no_wait, true));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(10, 1)));
    r.cap(cv.cdata(10, 5000, bytes(10, 2)));
    CHECK(r.out().size() == 2);
}

TEST_CASE("engine: server-first protocol: the first request waits for the target's greeting") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap(cv.sdata(0, 0, 60));            // online greeting
    r.cap(cv.cdata(0, 60, bytes(20, 1)));  // the client's first request acks it
    CHECK(r.out().empty());
    r.tgt(cv.tack(0, cv.cisn + 1, 65535, 60));  // the target's greeting
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(20, 1));
    CHECK(o[0].h.ack == Seq(cv.tisn + 61));
}

TEST_CASE("engine: server-first protocol: a greeting the target is slow to send is waited for, not guessed") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap(cv.sdata(0, 0, 60));             // online greeting (MySQL, SMTP, FTP, SSH)
    r.cap(cv.cdata(0, 60, bytes(20, 1)));  // the client's first request acks it
    r.run_for(3 * kSec);  // far beyond any quiet time
    CHECK(r.out().empty());
    CHECK(r.c(Counter::requests_released_quiet) == 0);
    r.tgt(cv.tack(0, cv.cisn + 1, 65535, 52));  // a shorter greeting (another version string)
    CHECK(r.out().size() == 1);                 // our ACK only
    r.step(1 * kMs);
    CHECK(r.out().empty());
    for (int i = 0; i < 5; ++i) r.step(1 * kMs);  // some answer, then quiet: released
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(20, 1));
    CHECK(r.c(Counter::requests_released_quiet) == 1);
}

TEST_CASE("engine: client-first negotiation: a 1-byte answer is waited for however late (PostgreSQL SSLRequest)") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(8, 1, 40);  // SSLRequest, the online server's 'N', StartupMessage
    r.tgt(cv.tack(0, cv.cisn + 9));  // SSLRequest acknowledged
    r.run_for(8 * kSec);             // no answer for 8 s
    CHECK(r.out().empty());
    CHECK(r.c(Counter::requests_held) == 1);
    r.tgt(cv.tack(0, cv.cisn + 9, 65535, 1));  // 'N'
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(40, 2));
    CHECK(o[0].h.ack == Seq(cv.tisn + 2));
    CHECK(r.c(Counter::requests_released_bytes) == 1);
    CHECK(r.c(Counter::requests_released_unanswered) == 0);
}

TEST_CASE("engine: a target that never answers is waited for up to unanswered_limit, then counted") {
    OpenRig r(config_with(&EngineConfig::unanswered_limit, 3 * kSec));
    r.two_requests(8, 1, 40);
    r.tgt(r.cv.tack(0, r.cv.cisn + 9));  // request 1 acknowledged, never answered
    r.run_for(2900 * kMs);
    CHECK(r.out().empty());
    r.run_for(200 * kMs);
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(40, 2));
    CHECK(r.c(Counter::requests_released_unanswered) == 1);
}

TEST_CASE("engine: a longer earlier answer does not release a later request before its own answer") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(10, 100, 10);                    // request 1, online answer 100, request 2
    r.tgt(cv.tack(0, cv.cisn + 11, 65535, 5000));   // the target answers request 1 with 5000 bytes
    auto o = r.out();
    REQUIRE(std::any_of(o.begin(), o.end(), [](const Seg& g) { return g.payload == bytes(10, 2); }));
    r.cap(cv.sdata(100, 20, 100));                  // online answer 2
    r.cap(cv.cdata(20, 200, bytes(10, 3)));         // request 3: needs 200 in all, target sent 5000
    CHECK(r.out().empty());                         // ... but nothing for request 2 yet: held
    r.tgt(cv.tack(5000, cv.cisn + 21, 65535, 100)); // answer 2
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(10, 3));
}

TEST_CASE("engine: empty online answers and pipelined requests go at once") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(10, 1)));
    r.cap_sent(cv.cdata(10, 0, bytes(10, 2)));  // the online server answered nothing in between
    r.cap_sent(cv.cdata(20, 0, bytes(10, 3)));
    CHECK(r.c(Counter::requests_held) == 0);
}

TEST_CASE("engine: a half-close waits for the target's answer to the last request, however late") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(10, 1)));
    r.cap(cv.cfin(10, 0));                     // the client half-closes right after its request
    r.cap(cv.sdata(0, 11, 300));               // the online server answers after the FIN
    r.tgt(cv.tack(0, cv.cisn + 11));           // request 1 acknowledged
    auto o = r.out();
    REQUIRE(o.size() == 1);                    // the FIN was captured before the answer: it goes
    CHECK(has_fin(o));

    OpenRig r2;
    Conv& c2 = r2.cv;
    r2.cap_sent(c2.cdata(0, 0, bytes(10, 1)));
    r2.cap(c2.sdata(0, 10, 300));
    r2.cap(c2.cfin(10, 300));                  // the close acks the online answer
    r2.tgt(c2.tack(0, c2.cisn + 11));
    r2.run_for(5 * kSec);
    CHECK_FALSE(has_fin(r2.out()));            // 5 s: the target has not answered yet
    r2.tgt(c2.tack(0, c2.cisn + 11, 65535, 300));
    o = r2.out();
    REQUIRE(has_fin(o));
    CHECK(r2.c(Counter::close_unanswered) == 0);
}

TEST_CASE("engine: mid-stream session gets a fabricated handshake (seq - 1, MSS only)") {
    Rig r(base_config());
    Conv cv;
    net::TcpOptions ts;
    r.cap(cv.cdata(500, 800, bytes(30, 4)));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::syn);
    CHECK(o[0].h.seq == Seq(cv.cisn + 1 + 500 - 1));
    CHECK(o[0].o.mss == std::optional<std::uint16_t>(1460));
    CHECK_FALSE(o[0].o.wscale);
    CHECK_FALSE(o[0].o.ts);
    CHECK_FALSE(o[0].o.sack_permitted);
    CHECK(r.c(Counter::sessions_mid_stream) == 1);
    o = r.accept(cv, o[0], cv.cisn + 501);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(30, 4));
    CHECK(o[0].h.seq == Seq(cv.cisn + 501));

    EngineConfig c = base_config();
    c.full_sessions_only = true;
    Rig r2(c);
    r2.cap(cv.cdata(500, 800, bytes(30, 4)));
    CHECK(r2.out().empty());
    CHECK(r2.c(Counter::drop_captured_mid_stream) == 1);
}

TEST_CASE("engine: capture duplicates are sent once, GRO segments are split at the MTU") {
    OpenRig r(config_with(&EngineConfig::mtu, 1500));
    Conv& cv = r.cv;
    const auto big = bytes(5000, 5);
    r.cap(cv.cdata(0, 0, big));
    auto o = r.out();
    REQUIRE(o.size() == 4);  // 1460 + 1460 + 1460 + 620
    std::vector<std::uint8_t> got;
    std::uint32_t expect = cv.cisn + 1;
    for (auto& s : o) {
        CHECK(s.h.seq == Seq(expect));
        CHECK(s.payload.size() <= 1460);
        expect += static_cast<std::uint32_t>(s.payload.size());
        got.insert(got.end(), s.payload.begin(), s.payload.end());
    }
    CHECK(got == big);
    r.cap(cv.cdata(0, 0, big));  // captured twice
    CHECK(r.out().empty());
    CHECK(r.c(Counter::drop_captured_duplicate) == 1);
    // a retransmission overlapping the end plus new bytes: only the new bytes go
    std::vector<std::uint8_t> more(big.end() - 100, big.end());
    const auto extra = bytes(50, 6);
    more.insert(more.end(), extra.begin(), extra.end());
    r.cap(cv.cdata(4900, 0, more));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.seq == Seq(cv.cisn + 1 + 5000));
    CHECK(o[0].payload == extra);
    CHECK(r.c(Counter::trim_captured_overlap) == 1);
}

TEST_CASE("engine: RTO retransmission with backoff, fast retransmit on three duplicate ACKs") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(100, 1)));
    r.step(900 * kMs);  // initial RTO (no data RTT sample yet beyond the handshake's 0 ms -> floor 200 ms)
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(100, 1));
    CHECK(r.c(Counter::retransmits_rto) == 1);
    r.step(300 * kMs);  // backoff: not yet (400 ms)
    CHECK(r.out().empty());
    r.step(200 * kMs);
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(r.c(Counter::retransmits_rto) == 2);
    r.tgt(cv.tack(0, cv.cisn + 101));
    CHECK(r.out().empty());

    // three more segments (same request), the first lost: three duplicate ACKs
    r.cap(cv.cdata(100, 0, bytes(100, 2)));
    r.cap(cv.cdata(200, 0, bytes(100, 3)));
    r.cap(cv.cdata(300, 0, bytes(100, 4)));
    r.cap(cv.cdata(400, 0, bytes(100, 5)));
    REQUIRE(r.out().size() == 4);
    r.tgt(cv.tack(0, cv.cisn + 101));
    r.tgt(cv.tack(0, cv.cisn + 101));
    CHECK(r.out().empty());
    r.tgt(cv.tack(0, cv.cisn + 101));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.seq == Seq(cv.cisn + 101));  // from the first unacknowledged byte
    REQUIRE(o[0].payload.size() >= 100);
    CHECK(std::vector<std::uint8_t>(o[0].payload.begin(), o[0].payload.begin() + 100) == bytes(100, 2));
    CHECK(r.c(Counter::retransmits_fast) == 1);
    r.tgt(cv.tack(0, cv.cisn + 501));
    CHECK(r.out().empty());
}

TEST_CASE("engine: the target's receive window is respected; zero window gets probes") {
    Rig r(base_config());
    Conv cv;
    r.cap(cv.csyn());
    auto o = r.out();
    cv.xlat = o[0].key;
    r.tgt(cv.tsynack(cv.cisn + 1, {}, 1000));  // window 1000
    r.out();
    r.cap(cv.cdata(0, 0, bytes(3000, 1)));
    o = r.out();
    std::size_t sent = 0;
    for (auto& s : o) sent += s.payload.size();
    CHECK(sent == 1000);
    CHECK(r.c(Counter::window_blocked) == 1);
    r.tgt(cv.tack(0, cv.cisn + 1001, 0));  // everything acked, window closed
    CHECK(r.out().empty());
    r.step(1500 * kMs);
    o = r.out();
    REQUIRE(o.size() >= 1);
    CHECK(o[0].payload.empty());
    CHECK(o[0].h.seq == Seq(cv.cisn + 1000));  // probe: an old sequence number
    CHECK(r.c(Counter::window_probes) >= 1);
    r.tgt(cv.tack(0, cv.cisn + 1001, 5000));  // window opens
    o = r.out();
    sent = 0;
    for (auto& s : o) sent += s.payload.size();
    CHECK(sent == 2000);
}

TEST_CASE("engine: the target's RST with captured data left: reconnect at the next request boundary") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(100, 300, 60);             // request 2, held
    r.cap(cv.cdata(160, 300, bytes(40, 3)));  // its continuation
    r.tgt(cv.tack(0, cv.cisn + 101));
    r.out();
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 0, tf::rst));
    auto o = r.out();
    REQUIRE(o.size() == 1);  // a fabricated SYN from a new tuple, right before request 2
    CHECK(o[0].h.flags == tf::syn);
    CHECK(o[0].h.seq == Seq(cv.cisn + 100));
    CHECK(o[0].key != r.syn.key);
    CHECK(r.c(Counter::reconnect_target_rst) == 1);
    CHECK(r.c(Counter::reconnects) == 1);
    CHECK(r.c(Counter::requests_lost_resync) == 0);  // request 1 was acknowledged, request 2 not begun
    o = r.accept(cv, o[0], cv.cisn + 101);
    REQUIRE(o.size() == 1);  // request 2 in one segment: 100 bytes
    CHECK(o[0].payload == concat(bytes(60, 2), bytes(40, 3)));
    CHECK(o[0].h.ack == Seq(cv.tisn + 1));
}

TEST_CASE("engine: the target's RST inside a request: that request is counted lost, the next one replayed") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(100, 300, 60);              // request 1 sent, request 2 held
    r.tgt(cv.tack(0, cv.cisn + 51));           // half of request 1 acknowledged
    r.out();
    r.tgt(cv.tack(0, cv.cisn + 51, 65535, 0, tf::rst));
    auto o = r.out();
    REQUIRE(o.size() == 1);                    // a new connection right before request 2
    CHECK(o[0].h.seq == Seq(cv.cisn + 100));
    CHECK(r.c(Counter::requests_lost_resync) == 1);
    CHECK(r.c(Counter::drop_resync_segments) == 1);
    o = r.accept(cv, o[0], cv.cisn + 101);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(60, 2));
}

TEST_CASE("engine: a capture gap is waited for, then the session resets and reopens at the next boundary") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));      // A
    // B (100..200) lost by the mirror
    r.cap(cv.cdata(200, 0, bytes(100, 3)));    // C: same request as A and B
    r.cap(cv.sdata(0, 300, 80));
    r.cap(cv.cdata(300, 80, bytes(50, 4)));    // D: the next request
    auto o = r.out();
    REQUIRE(o.size() == 1);  // only A
    CHECK(r.c(Counter::capture_gaps) == 1);
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 80));
    r.out();
    r.step(100 * kMs);
    CHECK(r.out().empty());
    r.step(250 * kMs);
    o = r.out();
    r.check_reset_reopened(o, 300);  // the broken connection is reset and reopened right before D
    CHECK(r.c(Counter::reconnect_capture_gap) == 1);
    CHECK(r.c(Counter::drop_resync_segments) == 1);  // C could not be sent
    CHECK(r.c(Counter::capture_hole_bytes) == 100);   // B
    CHECK(r.c(Counter::requests_lost_capture_hole) == 1);  // A+B+C, one request
    CHECK(r.c(Counter::requests_lost_resync) == 0);
    o = r.accept(cv, o[1], cv.cisn + 301);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(50, 4));
}

TEST_CASE("engine: a late segment fills the gap before the bound") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));
    r.cap(cv.cdata(200, 0, bytes(100, 3)));
    CHECK(r.out().size() == 1);
    r.step(10 * kMs);
    r.cap(cv.cdata(100, 0, bytes(100, 2)));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload.size() == 200);
    CHECK(r.c(Counter::capture_gaps_filled) == 1);
}

TEST_CASE("engine: SYN retransmitted with backoff, then the session is given up") {
    Rig r(config_with(&EngineConfig::syn_retries, 3));
    Conv cv;
    r.cap(cv.csyn());
    REQUIRE(r.out().size() == 1);
    std::vector<Nanos> times;
    for (int i = 0; i < 20000 && !r.e->idle(); ++i) {
        r.step(1 * kMs);
        for (auto& s : r.out())
            if (s.has(tf::syn)) times.push_back(r.now);
    }
    REQUIRE(times.size() == 3);
    CHECK(times[0] - 1 * kSec >= 1 * kSec);
    CHECK(times[1] - times[0] >= 2 * kSec);
    CHECK(times[2] - times[1] >= 4 * kSec);
    CHECK(r.c(Counter::end_syn_timeout) == 1);
    CHECK(r.c(Counter::syn_retransmits) == 3);
}

TEST_CASE("engine: an idle session is reset after the session timeout") {
    OpenRig r(config_with(&EngineConfig::session_timeout, 10 * kSec));
    r.step(9 * kSec);
    CHECK(r.out().empty());
    r.step(2 * kSec);
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::rst) != 0);
    CHECK(r.c(Counter::end_idle_timeout) == 1);
    CHECK(r.e->idle());
}

TEST_CASE("engine: the client's RST is replayed once its data is acknowledged") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));
    r.cap(cv.crst(100));
    auto o = r.out();
    REQUIRE(o.size() == 1);  // data only: the RST waits
    r.tgt(cv.tack(0, cv.cisn + 101));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::rst) != 0);
    CHECK(o[0].h.seq == Seq(cv.cisn + 101));
    CHECK(r.c(Counter::end_client_rst) == 1);
}

TEST_CASE("engine: finish_input closes every session and idle() turns true") {
    Rig r(base_config());
    Conv a, b;
    b.c2s.src_port = net::Port(40001);
    open(r, a);
    open(r, b);
    r.cap(a.cdata(0, 0, bytes(10, 1)));
    REQUIRE(r.out().size() == 1);
    r.e->finish_input(r.now);
    auto o = r.out();
    CHECK(o.size() == 1);  // b's FIN (a still has unacknowledged data)
    r.tgt(a.tack(0, a.cisn + 11));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::fin) != 0);
    for (int i = 0; i < 10 && !r.e->idle(); ++i) r.step(1 * kSec);
    CHECK(r.e->idle());
    CHECK(r.e->counters().ended() == 2);
    CHECK(r.c(Counter::end_close_linger) == 2);  // the scripted target never sends its FIN
}

TEST_CASE("engine: -n fans a captured frame out to replicas with distinct tuples") {
    EngineConfig c = base_config();
    c.multiply = 50;
    c.clients = {kFake, net::Ipv4Addr::from_octets(10, 9, 0, 2)};
    Rig r(c);
    Conv cv;
    r.cap(cv.csyn());
    auto syns = r.out();
    REQUIRE(syns.size() == 50);
    std::set<std::pair<std::uint32_t, std::uint16_t>> tuples;
    for (auto& s : syns) {
        CHECK(s.h.seq == Seq(cv.cisn));
        tuples.insert({s.key.src_ip.value(), s.key.src_port.value()});
    }
    CHECK(tuples.size() == 50);
    for (auto& s : syns) {
        Conv t = cv;
        t.xlat = s.key;
        r.tgt(t.tsynack(cv.cisn + 1));
    }
    CHECK(r.out().size() == 50);
    r.cap(cv.cdata(0, 0, bytes(10, 1)));
    auto d = r.out();
    REQUIRE(d.size() == 50);
    for (auto& s : d) CHECK(s.payload == bytes(10, 1));
    CHECK(r.c(Counter::sessions_created) == 50);
}

TEST_CASE("engine: queued segments are bounded per session and per worker, drops counted") {
    Rig r(config_with(&EngineConfig::max_queued_per_session, 4));
    Conv cv;
    r.cap(cv.csyn());  // no SYN-ACK: everything queues
    r.out();
    for (std::uint32_t i = 0; i < 6; ++i) r.cap(cv.cdata(i * 10, 0, bytes(10, 1)));
    CHECK(r.c(Counter::drop_queue_full_session) == 2);

    EngineConfig c2 = base_config();
    c2.max_queued_segments = 5;
    Rig r2(c2);
    Conv a, b;
    b.c2s.src_port = net::Port(40001);
    r2.cap(a.csyn());
    r2.cap(b.csyn());
    for (std::uint32_t i = 0; i < 4; ++i) r2.cap(a.cdata(i * 10, 0, bytes(10, 1)));
    for (std::uint32_t i = 0; i < 4; ++i) r2.cap(b.cdata(i * 10, 0, bytes(10, 1)));
    CHECK(r2.c(Counter::drop_queue_full_worker) == 3);
}

TEST_CASE("engine: -r 30 chooses the same sessions in two runs, about 30%") {
    EngineConfig c = base_config();
    c.percent = 30;
    std::set<std::uint16_t> runs[2];
    for (int run = 0; run < 2; ++run) {
        Rig r(c);
        for (std::uint16_t p = 0; p < 1000; ++p) {
            Conv cv;
            cv.c2s.src_port = net::Port(static_cast<std::uint16_t>(20000 + p));
            cv.cisn = 100000u * p;
            r.cap(cv.csyn());
            for (auto& s : r.out()) runs[run].insert(static_cast<std::uint16_t>(s.h.seq.value() / 100000u));
        }
        CHECK(r.c(Counter::drop_captured_not_sampled) == 1000 - runs[run].size());
    }
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0].size() > 240);
    CHECK(runs[0].size() < 360);
}

TEST_CASE("engine: a new SYN on a reused client port starts a new session on a new tuple") {
    Rig r(base_config());
    Conv cv;
    const Seg s1 = open(r, cv);
    r.cap(cv.csyn());  // the same SYN again: a capture duplicate
    CHECK(r.out().empty());
    CHECK(r.c(Counter::drop_captured_duplicate_syn) == 1);
    Conv cv2 = cv;
    cv2.cisn = 555555;
    r.cap(cv2.csyn());
    auto o = r.out();
    // the old session closes (FIN) and the new one opens on another tuple
    bool fin = false, syn = false;
    for (auto& s : o) {
        if (s.has(tf::syn)) {
            syn = true;
            CHECK(s.key != s1.key);
            CHECK(s.h.seq == Seq(555555));
        }
        if (s.has(tf::fin)) fin = true;
    }
    CHECK(fin);
    CHECK(syn);
    CHECK(r.c(Counter::sessions_superseded) == 1);
}

TEST_CASE("engine: exchange records carry online and target sizes and times") {
    struct Obs : ExchangeObserver {
        std::vector<ExchangeRecord> v;
        void on_exchange(const ExchangeRecord& r) override { v.push_back(r); }
    } obs;
    Rig r(base_config());
    r.e->set_observer(&obs);
    Conv cv;
    open(r, cv);
    r.cap(cv.cdata(0, 0, bytes(100, 1)));
    r.out();
    r.step(5 * kMs);
    r.cap(cv.sdata(0, 100, 300));
    r.step(1 * kMs);
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 250));
    r.step(1 * kMs);
    r.cap(cv.cdata(100, 300, bytes(20, 2)));
    r.step(20 * kMs);  // quiet release
    r.out();
    REQUIRE(obs.v.size() == 1);
    CHECK(obs.v[0].original == cv.c2s);
    CHECK(obs.v[0].request_bytes == 100);
    CHECK(obs.v[0].online_response_bytes == 300);
    CHECK(obs.v[0].online_response_time == 5 * kMs);
    CHECK(obs.v[0].target_response_bytes == 250);
    CHECK(obs.v[0].target_response_time == 6 * kMs);
}

TEST_CASE("engine: a capture file's timestamps measure the online latency, whatever the replay speed") {
    struct Obs : ExchangeObserver {
        std::vector<ExchangeRecord> v;
        void on_exchange(const ExchangeRecord& r) override { v.push_back(r); }
    } obs;
    Rig r(base_config());
    r.e->set_observer(&obs);
    Conv cv;
    open(r, cv);
    // as fast as possible: the engine's clock hardly moves, the capture's says 7 ms
    const auto at = [&](const Frame& f, Nanos capture_time) {
        const net::ConstBytes b(f.data(), f.size());
        const Nanos t = capture_time;
        r.e->on_captured_burst({&b, 1}, {&t, 1}, net::LinkType::ethernet, r.now);
    };
    at(cv.cdata(0, 0, bytes(100, 1)), 1'000 * kMs);
    r.out();
    at(cv.sdata(0, 100, 300), 1'007 * kMs);
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 300));
    at(cv.cdata(100, 300, bytes(20, 2)), 1'009 * kMs);
    r.step(1 * kMs);
    r.out();
    REQUIRE(obs.v.size() == 1);
    CHECK(obs.v[0].online_response_time == 7 * kMs);
    CHECK(obs.v[0].online_response_bytes == 300);
}

TEST_CASE("engine: the observer's byte hooks name the slot and the stream offsets of both answers") {
    struct Obs : ExchangeObserver {
        std::vector<std::string> log;
        std::vector<ExchangeRecord> recs;
        void on_exchange(const ExchangeRecord& r) override { recs.push_back(r); }
        void on_session_start(std::uint32_t slot, std::uint16_t replica) override {
            log.push_back("start " + std::to_string(slot) + " r" + std::to_string(replica));
        }
        void on_online_data(std::uint32_t, std::uint32_t off, ConstBytes p, Nanos) override {
            log.push_back("online @" + std::to_string(off) + " +" + std::to_string(p.size()) + " " + std::to_string(p[0]));
        }
        void on_client_data(std::uint32_t, std::uint32_t off) override { log.push_back("client had " + std::to_string(off)); }
        void on_request(std::uint32_t, ConstBytes head, Nanos) override {
            log.push_back("request " + std::to_string(head.size()) + " first " + std::to_string(head[0]));
        }
        void on_target_data(std::uint32_t, std::uint32_t off, ConstBytes p, Nanos) override {
            log.push_back("target @" + std::to_string(off) + " +" + std::to_string(p.size()));
        }
    } obs;
    Rig r(base_config());
    r.e->set_observer(&obs);
    Conv cv;
    open(r, cv);
    REQUIRE(obs.log.size() == 1);
    REQUIRE(obs.log[0].rfind("start ", 0) == 0);
    const auto slot = static_cast<std::uint32_t>(std::stoul(obs.log[0].substr(6)));
    obs.log.clear();
    r.cap(cv.cdata(0, 0, bytes(200, 7)));   // a request longer than the head
    r.out();
    r.cap(cv.sdata(0, 200, 300));
    r.cap(cv.sdata(0, 200, 300));           // a capture duplicate: shown again
    r.cap(cv.sdata(300, 200, 100));
    // the target answers 150 bytes, then 100 of which 40 repeat what it sent
    r.tgt(cv.tack(0, cv.cisn + 201, 65535, 150));
    r.tgt(cv.tack(110, cv.cisn + 201, 65535, 100));
    r.step(1 * kMs);
    r.cap(cv.cdata(200, 400, bytes(20, 5)));  // the next request: the client had 400 online bytes
    r.run_for(50 * kMs);
    r.out();
    const std::vector<std::string> want{"client had 0", "request 128 first 7",
        "online @0 +300 9", "online @0 +300 9", "online @300 +100 9",
        "target @0 +150", "target @150 +60", "client had 400", "request 20 first 5"};
    CHECK(obs.log == want);
    REQUIRE(obs.recs.size() == 1);
    CHECK(obs.recs[0].slot == slot);
    CHECK(obs.recs[0].online_begin == 0);
    CHECK(obs.recs[0].online_response_bytes == 400);
    CHECK(obs.recs[0].target_begin == 0);
    CHECK(obs.recs[0].target_response_bytes == 210);
}

TEST_CASE("engine: frames of no session are counted, never crash; target strays get an RST") {
    Rig r(base_config());
    std::vector<std::uint8_t> junk(30, 0x45);
    r.e->on_captured(net::ConstBytes(junk.data(), junk.size()), net::LinkType::ethernet, r.now);
    r.e->on_target(net::ConstBytes(junk.data(), junk.size()), r.now);
    CHECK(r.c(Counter::drop_captured_parse) == 1);
    CHECK(r.c(Counter::drop_target_parse) == 1);
    std::uint64_t parse_errors = 0;
    for (auto v : r.e->counters().parse_captured) parse_errors += v;
    CHECK(parse_errors == 1);
    Conv cv;
    r.cap(cv.cack(0, 0));
    CHECK(r.c(Counter::drop_captured_no_session) == 1);
    // a target segment for a tuple of ours that has no session: RST
    Conv t;
    t.xlat = net::FlowKey{kFake, kTarget, net::Port(2000), kTargetPort};
    r.tgt(t.tack(0, 12345));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::rst);
    CHECK(o[0].h.seq == Seq(12345));
    std::size_t names = 0;
    r.e->counters().for_each([&](std::string_view, std::string_view n, std::uint64_t) { names += !n.empty(); });
    CHECK(names == counter_count + 2 * (net::parse_error_count - 1));
}

TEST_CASE("engine: EB-3 a retransmitted target FIN after our final ACK is re-acknowledged (TIME_WAIT), not reset") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(100, 1)));
    r.cap(cv.cfin(100, 0));
    r.tgt(cv.tack(0, cv.cisn + 101));
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == (tf::fin | tf::ack));
    r.tgt(cv.tack(0, cv.cisn + 102, 65535, 0, tf::fin));  // ACK + FIN of the target
    o = r.out();
    REQUIRE(o.size() == 1);  // our final ACK (lost on the link, say)
    CHECK(o[0].h.flags == tf::ack);
    CHECK(r.c(Counter::end_closed) == 1);
    CHECK(r.e->active_sessions() == 0);
    r.step(200 * kMs);
    r.tgt(cv.tack(0, cv.cisn + 102, 65535, 0, tf::fin));  // the target retransmits its FIN
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::ack);  // re-acknowledged, no RST
    CHECK(o[0].key == cv.xlat);
    CHECK(o[0].h.seq == Seq(cv.cisn + 102));
    CHECK(o[0].h.ack == Seq(cv.tisn + 2));
    CHECK(r.c(Counter::target_time_wait_acks) == 1);
    CHECK(r.c(Counter::target_unknown_rst_sent) == 0);
    // a stale duplicate ACK of that connection (reordered on the link) is ignored, not reset
    r.tgt(cv.tack(0, cv.cisn + 101));
    CHECK(r.out().empty());
    CHECK(r.c(Counter::target_unknown_rst_sent) == 0);
    // new data on that tuple is not part of the closed connection: RST as before
    r.tgt(cv.tack(1, cv.cisn + 102, 65535, 10));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::rst) != 0);
    // after the TIME_WAIT period the record is forgotten
    EngineConfig c = base_config();
    c.time_wait = 1 * kSec;
    Rig r2(c);
    Conv cv2;
    open(r2, cv2);
    r2.cap(cv2.cfin(0, 0));
    REQUIRE(r2.out().size() == 1);
    r2.tgt(cv2.tack(0, cv2.cisn + 2, 65535, 0, tf::fin));
    REQUIRE(r2.out().size() == 1);
    r2.step(2 * kSec);
    r2.tgt(cv2.tack(0, cv2.cisn + 2, 65535, 0, tf::fin));
    o = r2.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::rst) != 0);
    CHECK(r2.c(Counter::target_time_wait_acks) == 0);
}

TEST_CASE("engine: EB-1 after a capture hole, a request proven by the online server's ack is the restart point") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));      // request A
    r.cap(cv.sdata(0, 100, 80));               // its response
    // request B (100..200) lost by the mirror entirely; the server answers it: its data acks 200
    r.cap(cv.sdata(80, 200, 50));
    r.cap(cv.cdata(200, 130, bytes(60, 3)));   // request C starts exactly there: a proven boundary
    r.cap(cv.cdata(260, 130, bytes(40, 4)));   // its continuation
    auto o = r.out();
    REQUIRE(o.size() == 1);  // only A
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 80));
    r.out();
    r.run_for(350 * kMs);  // the gap expires; C's ack also covers B's answer, which the target
                           // cannot send: the reset waits for the close quiet time after A's answer
    o = r.out();
    r.check_reset_reopened(o, 200);  // right before C, nothing of C dropped
    CHECK(r.c(Counter::drop_resync_segments) == 0);
    o = r.accept(cv, o[1], cv.cisn + 201);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == concat(bytes(60, 3), bytes(40, 4)));
}

TEST_CASE("engine: the reset at a capture hole waits for the target's answer to the request before it") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));      // request A (a POST the target takes long to answer)
    r.cap(cv.sdata(0, 100, 80));               // its online answer
    r.cap(cv.sdata(80, 200, 50));              // the answer to B, which the mirror lost
    r.cap(cv.cdata(200, 130, bytes(60, 3)));   // C, a proven boundary
    REQUIRE(r.out().size() == 1);              // A
    r.tgt(cv.tack(0, cv.cisn + 101));          // A acknowledged, not answered yet
    r.run_for(2 * kSec);                       // the gap expired long ago
    auto o = r.out();
    CHECK(o.empty());                          // no RST while A's answer is awaited
    CHECK(r.c(Counter::reconnect_capture_gap) == 0);
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 80));  // A's answer
    r.out();
    r.run_for(300 * kMs);                      // then the reset and the reconnect before C
    o = r.out();
    r.check_reset_reopened(o, 200);
    CHECK(r.c(Counter::reconnect_capture_gap) == 1);
    CHECK(r.c(Counter::capture_hole_bytes) == 100);
}

TEST_CASE("engine: data captured after the client's FIN but before it in sequence is replayed, then the FIN") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(10, 1)));
    r.cap(cv.cfin(20, 0));                     // the FIN overtook the last request in the mirror
    r.cap(cv.cdata(10, 0, bytes(10, 2)));      // the last request, late
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(10, 2));
    CHECK(r.c(Counter::drop_captured_after_close) == 0);
    r.tgt(cv.tack(0, cv.cisn + 21));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(has_fin(o));
    CHECK(o[0].h.seq == Seq(cv.cisn + 21));
    r.cap(cv.cdata(20, 0, bytes(5, 3)));       // data beyond the FIN is still refused
    CHECK(r.out().empty());
    CHECK(r.c(Counter::drop_captured_after_close) == 1);
}

TEST_CASE("engine: a request lost with its answer: the next request, acking the unseen answer, is the restart point") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));      // request A
    r.cap(cv.sdata(0, 100, 80));               // its response
    // request B (100..200) and its 50-byte answer both lost by the mirror
    r.cap(cv.cdata(200, 130, bytes(60, 3)));   // request C acks the unseen answer
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 80));
    r.out();
    r.run_for(350 * kMs);                      // the gap bound (A's answer came long before)
    auto o = r.out();
    r.check_reset_reopened(o, 200);            // C is replayed, not skipped
    CHECK(r.c(Counter::drop_resync_segments) == 0);
    CHECK(r.c(Counter::resync_restart_unseen_answer) == 1);
    CHECK(r.c(Counter::requests_lost_capture_hole) == 1);
    o = r.accept(cv, o[1], cv.cisn + 201);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(60, 3));
}

TEST_CASE("engine: after a capture hole, a segment whose ack merely advanced is not trusted as a request start") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap(cv.cdata(0, 0, bytes(100, 1)));      // request A
    r.cap(cv.sdata(0, 100, 80));               // its response (acks 100)
    // 100..200 lost: it may be the head of the next segment's request
    r.cap(cv.cdata(200, 80, bytes(60, 3)));    // ack advanced over the response, but not proven
    r.cap(cv.sdata(80, 260, 20));
    r.cap_sent(cv.cdata(260, 100, bytes(40, 4)));   // contiguous, ack advanced: the next boundary
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 80));
    r.out();
    r.step(350 * kMs);
    auto o = r.out();
    REQUIRE(o.size() == 2);
    CHECK(o[1].h.flags == tf::syn);
    CHECK(o[1].h.seq == Seq(cv.cisn + 260));
    CHECK(r.c(Counter::drop_resync_segments) == 1);
}

TEST_CASE("engine: EB-5 a reordered old ACK does not reopen the target's window") {
    OpenRig r;
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(1000, 1)));
    r.cap_sent(cv.cdata(1000, 0, bytes(1000, 2)));
    r.tgt(cv.tack(0, cv.cisn + 1001, 1000));  // old ACK, window 1000 (delivered late, see below)
    r.tgt(cv.tack(0, cv.cisn + 2001, 0));     // everything acked, window closed
    r.out();
    r.cap(cv.cdata(2000, 0, bytes(500, 3)));
    CHECK(r.out().empty());                   // zero window: nothing sent
    r.tgt(cv.tack(0, cv.cisn + 1001, 1000));  // the old ACK again, reordered after the close
    CHECK(r.out().empty());                   // still nothing beyond the closed window
    r.tgt(cv.tack(0, cv.cisn + 2001, 600));   // the window really opens
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload.size() == 500);
}

TEST_CASE("engine: EB-4 the target's RST after the client's RST was captured: queued requests are still replayed") {
    OpenRig r;
    Conv& cv = r.cv;
    r.two_requests(100, 300, 60);              // request 1, sent; request 2, held
    r.cap(cv.sdata(300, 160, 50));
    r.cap(cv.cdata(160, 350, bytes(40, 3)));   // request 3, queued
    r.cap(cv.crst(200));                       // the client's RST: queued behind the data
    CHECK(r.out().empty());
    r.tgt(cv.tack(0, cv.cisn + 101, 65535, 0, tf::rst));  // the target resets (request 1 acked? no)
    auto o = r.out();
    REQUIRE(o.size() == 1);  // reconnect right before request 2 (request 1 was at risk)
    CHECK(o[0].h.flags == tf::syn);
    CHECK(o[0].key != r.syn.key);
    CHECK(o[0].h.seq == Seq(cv.cisn + 100));
    o = r.accept(cv, o[0], cv.cisn + 101);
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(60, 2));       // the new connection needs nothing: request 2 goes
    r.tgt(cv.tack(0, cv.cisn + 161, 65535, 50));
    o = r.out();
    REQUIRE(!o.empty());
    CHECK(o[0].payload == bytes(40, 3));       // request 3 after 50 response bytes
    r.tgt(cv.tack(50, cv.cisn + 201));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK((o[0].h.flags & tf::rst) != 0);      // then the client's RST is replayed
    CHECK(r.c(Counter::end_client_rst) == 1);
    CHECK(r.c(Counter::end_detached) == 0);
}

TEST_CASE("engine: EB-2/seed 609 a mid-stream session restarts at an earlier segment captured late, before its handshake") {
    Rig r(base_config());
    Conv cv;
    r.cap(cv.cdata(1000, 0, bytes(100, 2)));   // the tail of a GRO run, captured first
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::syn);
    CHECK(o[0].h.seq == Seq(cv.cisn + 1000));
    const net::FlowKey first_tuple = o[0].key;
    r.cap(cv.cdata(0, 0, bytes(1000, 1)));     // its head, reordered by the mirror
    o = r.out();
    REQUIRE(o.size() == 2);
    CHECK((o[0].h.flags & tf::rst) != 0);      // the first attempt is cleared on the target
    CHECK(o[0].key == first_tuple);
    CHECK(o[1].h.flags == tf::syn);
    CHECK(o[1].h.seq == Seq(cv.cisn));         // the connection now starts at the head
    CHECK(o[1].key != first_tuple);
    CHECK(r.c(Counter::mid_stream_rebased) == 1);
    o = r.accept(cv, o[1], cv.cisn + 1, mss_option(1460));
    std::vector<std::uint8_t> got;
    for (const Seg& sg : o) got = concat(std::move(got), sg.payload);
    CHECK(got == concat(bytes(1000, 1), bytes(100, 2)));
    REQUIRE(!o.empty());
    CHECK(o[0].h.seq == Seq(cv.cisn + 1));
    // once connected, a late earlier segment is a duplicate, not a restart
    r.cap(cv.cdata(0, 0, bytes(1000, 1)));
    CHECK(r.c(Counter::mid_stream_rebased) == 1);
}

TEST_CASE("engine: data captured before an expired gap but not yet sent is replayed before the reset") {
    OpenRig r(config_with(&EngineConfig::capture_gap_timeout, 300 * kMs));
    Conv& cv = r.cv;
    r.cap_sent(cv.cdata(0, 0, bytes(100, 1)));      // request A, sent
    r.tgt(cv.tack(0, cv.cisn + 101, 0, 80));   // A acked with its response, window closed
    r.out();
    r.cap(cv.sdata(0, 100, 80));
    r.cap(cv.cdata(100, 80, bytes(50, 2)));    // request B: blocked by the zero window
    // 150..250 lost by the mirror
    r.cap(cv.sdata(80, 250, 20));
    r.cap(cv.cdata(250, 100, bytes(30, 4)));   // request D, after the hole (proven start)
    CHECK(r.out().empty());
    r.step(400 * kMs);                          // the gap expires while B is still unsent
    for (const Seg& sg : r.out()) CHECK((sg.h.flags & (tf::rst | tf::syn)) == 0);  // probes only
    r.tgt(cv.tack(80, cv.cisn + 101, 65535));  // the window opens
    auto o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(50, 2));       // B goes on the old connection
    CHECK(o[0].key == r.syn.key);
    r.tgt(cv.tack(80, cv.cisn + 151, 65535, 20));
    o = r.out();
    REQUIRE(o.size() == 2);                    // then the reset and the reopening before D
    CHECK((o[0].h.flags & tf::rst) != 0);
    CHECK(o[1].h.flags == tf::syn);
    CHECK(o[1].h.seq == Seq(cv.cisn + 250));
    CHECK(r.c(Counter::reconnect_capture_gap) == 1);
}

TEST_CASE("engine: the burst entry points behave exactly as one call per frame (frames, counters)") {
    // Two engines get the same frames: one frame per call, and bursts of random sizes (1..70,
    // so bursts longer than the engine's 32 are split too); half the target bursts come with
    // the caller's parse of some of their frames. The traffic mixes handshakes,
    // requests (two of one session in a burst, duplicates), responses, resets, strays and
    // garbage; what each engine emits must be byte-identical, and so must its counters.
    std::mt19937_64 rng(0xb0b5);
    EngineConfig c = base_config();
    c.multiply = 2;  // replica chains too
    Rig a(c), b(c);
    constexpr std::uint32_t n = 120;
    std::vector<Conv> cv(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        cv[i].c2s.src_port = net::Port(static_cast<std::uint16_t>(20000 + i));
        cv[i].c2s.src_ip = net::Ipv4Addr::from_octets(10, 0, static_cast<std::uint8_t>(i % 3), 1);
    }
    auto feed = [&](std::vector<Frame> frames, bool captured) {
        for (const Frame& f : frames) {
            if (captured) a.cap(f);
            else a.tgt(f);
        }
        std::vector<net::ConstBytes> spans;
        for (const Frame& f : frames) spans.emplace_back(f.data(), f.size());
        for (std::size_t i = 0; i < spans.size();) {
            const std::size_t m = std::min<std::size_t>(1 + rng() % 70, spans.size() - i);
            const std::span<const net::ConstBytes> burst(spans.data() + i, m);
            if (captured) {
                b.e->on_captured_burst(burst, net::LinkType::ethernet, b.now);
            } else if (rng() % 2) {
                b.e->on_target_burst(burst, b.now);
            } else {
                // an adapter's own parse handed over (as the DPDK classifier does), for a
                // random part of the burst; the engine parses the rest itself
                std::vector<net::PacketView> views(m);
                for (std::size_t k = 0; k < m; ++k) {
                    net::PacketView v;
                    if (rng() % 4 != 0 && net::parse_frame(burst[k], v, net::LinkType::ethernet, true) == net::ParseError::ok)
                        views[k] = v;
                }
                b.e->on_target_burst(burst, views, b.now);
            }
            i += m;
        }
        REQUIRE(a.sink.frames.size() == b.sink.frames.size());
        for (std::size_t i = 0; i < a.sink.frames.size(); ++i) REQUIRE(a.sink.frames[i] == b.sink.frames[i]);
        REQUIRE(a.e->counters().v == b.e->counters().v);
        REQUIRE(a.e->counters().parse_captured == b.e->counters().parse_captured);
        REQUIRE(a.e->counters().parse_target == b.e->counters().parse_target);
        b.sink.take();
        return a.sink.take();
    };
    auto step = [&](Nanos d) {
        a.step(d);
        b.step(d);
        REQUIRE(a.sink.frames == b.sink.frames);
        a.sink.take();
        b.sink.take();
    };
    auto garbage = [&]() {
        Frame g(20 + rng() % 60);
        for (auto& x : g) x = static_cast<std::uint8_t>(rng());
        return g;
    };
    // handshakes (learn each conversation's translated tuples from the engine's SYNs)
    std::vector<Frame> fs;
    for (std::uint32_t i = 0; i < n; ++i) {
        fs.push_back(cv[i].csyn(mss_option(1460)));
        if (i % 17 == 0) fs.push_back(garbage());
    }
    std::vector<std::vector<net::FlowKey>> xlats(n);  // conversation -> translated tuples (replicas)
    REQUIRE(feed(fs, true).size() == 2 * n);
    // The engine's SYNs came in order: conversation i's two replicas are SYNs 2i and 2i+1.
    {
        std::vector<net::FlowKey> syn_keys;
        Rig probe(c);
        for (std::uint32_t i = 0; i < n; ++i) {
            probe.cap(cv[i].csyn(mss_option(1460)));
            for (const Seg& s : probe.out()) syn_keys.push_back(s.key);
        }
        REQUIRE(syn_keys.size() == 2 * n);
        for (std::uint32_t i = 0; i < n; ++i) xlats[i] = {syn_keys[2 * i], syn_keys[2 * i + 1]};
    }
    fs.clear();
    for (std::uint32_t i = 0; i < n; ++i) fs.push_back(cv[i].ssynack());
    fs.push_back(cv[0].sdata(0, 0, 10));  // a server frame of no known base yet is fine too
    feed(fs, true);
    fs.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i % 11 == 5) continue;  // these stay half-open
        for (const net::FlowKey& x : xlats[i]) {
            Conv t = cv[i];
            t.xlat = x;
            fs.push_back(t.tsynack(t.cisn + 1, mss_option(1460)));
        }
    }
    fs.push_back(garbage());
    feed(fs, false);
    // request/response rounds in random order
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    for (std::uint32_t r = 0; r < 6; ++r) {
        std::shuffle(order.begin(), order.end(), rng);
        fs.clear();
        for (std::uint32_t i : order) {
            fs.push_back(cv[i].cdata(r * 40, r * 30, bytes(40, static_cast<std::uint8_t>(r))));
            if (rng() % 9 == 0) fs.push_back(fs.back());  // a duplicate
            if (rng() % 13 == 0) fs.push_back(garbage());
        }
        feed(fs, true);
        step(1 * kMs);
        fs.clear();
        std::shuffle(order.begin(), order.end(), rng);
        for (std::uint32_t i : order) {
            if (i % 11 == 5) continue;
            for (const net::FlowKey& x : xlats[i]) {
                Conv t = cv[i];
                t.xlat = x;
                if (r == 3 && i % 7 == 0) {
                    fs.push_back(t.tack(r * 30, t.cisn + 1 + r * 40, 65535, 0, tf::rst));  // the target resets
                } else {
                    fs.push_back(t.tack(r * 30, t.cisn + 1 + (r + 1) * 40, 65535, 30));
                }
            }
            if (rng() % 10 == 0) {  // a stray for a tuple of no session
                Conv t = cv[i];
                t.xlat = xlats[i][0];
                t.xlat.src_port = net::Port(static_cast<std::uint16_t>(t.xlat.src_port.value() + 40000));
                fs.push_back(t.tack(0, 1, 65535, 5));
            }
        }
        feed(fs, false);
        fs.clear();
        for (std::uint32_t i : order) fs.push_back(cv[i].sdata(r * 30, (r + 1) * 40, 30));  // the online responses
        feed(fs, true);
        step(300 * kMs);
    }
    fs.clear();
    for (std::uint32_t i = 0; i < n; i += 4) fs.push_back(cv[i].cfin(6 * 40, 6 * 30));
    feed(fs, true);
    step(2 * kSec);
    CHECK(a.c(Counter::data_segments_sent) > 4 * n);
    CHECK(a.c(Counter::reconnects) > 0);
    CHECK(a.c(Counter::target_unknown_rst_sent) > 0);
}

namespace {
// A zero-copy sink (FrameSink::segmented): assembles headers + slices into the frame.
struct SegSink : Sink {
    std::uint64_t segments = 0, released = 0;
    bool segmented() const override { return true; }
    void emit_segment(net::ConstBytes headers, std::span<const PayloadSlice> payload) override {
        ++segments;
        Frame f(headers.begin(), headers.end());
        for (const auto& sl : payload) {
            REQUIRE(sl.bytes.data() == sl.block_data + sl.offset);
            REQUIRE(std::size_t{sl.offset} + sl.bytes.size() <= sl.block_len);
            f.insert(f.end(), sl.bytes.begin(), sl.bytes.end());
        }
        frames.push_back(std::move(f));
    }
    void payload_released(std::uint32_t, std::uint32_t) override { ++released; }
};
}  // namespace

TEST_CASE("engine: partly overlapping captured segments are sent from the right bytes (flat and zero-copy sinks)") {
    // the mirror captured a retransmission that the client repacketized: it overlaps what
    // was captured before, so only its tail is queued, from the middle of its payload
    const auto stream = bytes(5000, 42);
    auto part = [&](std::size_t a, std::size_t b) { return std::vector<std::uint8_t>(stream.begin() + static_cast<std::ptrdiff_t>(a), stream.begin() + static_cast<std::ptrdiff_t>(b)); };
    for (const bool zero_copy : {false, true}) {
        INFO((zero_copy ? "zero-copy sink" : "flat sink"));
        Sink flat;
        SegSink seg;
        Sink& sink = zero_copy ? static_cast<Sink&>(seg) : flat;
        std::string err;
        auto e = Engine::create(base_config(), sink, err);
        REQUIRE(e);
        Conv cv;
        Nanos now = kSec;
        auto cap = [&](const Frame& f) { e->on_captured(net::ConstBytes(f.data(), f.size()), net::LinkType::ethernet, now); };
        auto tgt = [&](const Frame& f) { e->on_target(net::ConstBytes(f.data(), f.size()), now); };
        cap(cv.csyn());
        auto o = parse_all(sink.take());
        REQUIRE(o.size() == 1);
        cv.xlat = o[0].key;
        cap(cv.ssynack());
        cap(cv.cack(0, 0));
        tgt(cv.tsynack(cv.cisn + 1, mss_option(1460)));
        sink.take();
        // [0, 1000), then [600, 1800) (tail [1000, 1800) from offset 400), then a GRO run
        // [1800, 4600) over two blocks, then [2500, 5000) (tail [4600, 5000) from offset 2100,
        // the second block of that frame)
        cap(cv.cdata(0, 0, part(0, 1000)));
        cap(cv.cdata(600, 0, part(600, 1800)));
        cap(cv.cdata(1800, 0, part(1800, 4600)));
        cap(cv.cdata(2500, 0, part(2500, 5000)));
        std::map<std::uint32_t, std::vector<std::uint8_t>> got;  // by relative seq
        for (const Seg& s : parse_all(sink.take()))
            if (!s.payload.empty()) got[s.h.seq.value() - (cv.cisn + 1)] = s.payload;
        std::vector<std::uint8_t> sent;
        for (const auto& [rel, p] : got) {
            REQUIRE(rel == sent.size());  // contiguous, each byte once
            sent.insert(sent.end(), p.begin(), p.end());
        }
        CHECK(sent == stream);
        CHECK(e->counters()[Counter::trim_captured_overlap] == 2);
        if (zero_copy) {
            CHECK(seg.segments == got.size());
            // acknowledged: every block goes back
            tgt(cv.tack(0, cv.cisn + 1 + 5000));
            CHECK(e->payload_blocks() == 0);
            CHECK(seg.released >= 4);  // [0,1000), [600,1800), two blocks of the GRO run, [2500,5000)'s second block
        }
    }
}

TEST_CASE("engine: RSTs for target frames of no session go only to a -x target and are rate-limited") {
    Rig r(base_config());
    Conv cv;
    cv.xlat = net::FlowKey{kFake, kTarget, net::Port(2001), kTargetPort};  // a fake client tuple (-f 0), no session
    // a storm of 1,000 stray segments from the target within 1 ms: the burst is answered, the rest counted
    std::size_t rsts = 0;
    for (int i = 0; i < 1000; ++i) {
        r.tgt(cv.tack(static_cast<std::uint32_t>(i) * 10, 1, 65535, 10));
        for (const Seg& g : r.out()) {
            CHECK((g.h.flags & tf::rst) != 0);
            CHECK(g.key == cv.xlat);
            ++rsts;
        }
    }
    CHECK(rsts == r.c(Counter::target_unknown_rst_sent));
    CHECK(rsts >= 32);
    CHECK(rsts <= 100);
    CHECK(r.c(Counter::target_unknown_rst_sent) + r.c(Counter::target_unknown_rst_limited) == 1000);
    // the bucket refills with time: one second later, answered again
    r.step(1 * kSec);
    r.tgt(cv.tack(20000, 1, 65535, 10));
    CHECK(r.out().size() == 1);
    // a frame for a fake client from an address that is no -x target (a forged record, say):
    // never answered, whatever the budget
    Conv other = cv;
    other.xlat = net::FlowKey{kFake, net::Ipv4Addr::from_octets(8, 8, 8, 8), net::Port(2001), net::Port(22)};
    const auto before = r.c(Counter::target_unknown_rst_sent);
    r.step(1 * kSec);
    r.tgt(other.tack(0, 1, 65535, 10));
    CHECK(r.out().empty());
    CHECK(r.c(Counter::target_unknown_rst_sent) == before);
    CHECK(r.c(Counter::drop_target_unknown) == 1002);
}

TEST_CASE("engine: a challenge ACK to our SYN (the target's TIME_WAIT of the tuple): RST, the SYN again at once, once") {
    Rig r(base_config());
    Conv cv;
    r.cap(cv.csyn());
    auto o = r.out();
    REQUIRE(o.size() == 1);
    cv.xlat = o[0].key;
    // the earlier connection's TIME_WAIT answers with its own sequence numbers
    const Frame challenge = tcp(cv.xlat.reversed(), 5555, 777, tf::ack);
    r.step(1 * kMs);
    r.tgt(challenge);
    o = r.out();
    REQUIRE(o.size() == 2);
    CHECK(o[0].h.flags == tf::rst);
    CHECK(o[0].h.seq == Seq(777));  // in the stale connection's window
    CHECK(o[1].h.flags == tf::syn);
    CHECK(o[1].h.seq == Seq(cv.cisn));
    CHECK(r.c(Counter::target_challenge_rst) == 1);
    CHECK(r.c(Counter::syn_resent_after_challenge) == 1);
    // a target that keeps its TIME_WAIT (tcp_rfc1337): RST only, the SYN waits for its RTO
    r.step(1 * kMs);
    r.tgt(challenge);
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::rst);
    CHECK(r.c(Counter::syn_resent_after_challenge) == 1);
    r.step(5000 * kMs);
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::syn);
    r.tgt(cv.tsynack(cv.cisn + 1, mss_option(1460)));
    o = r.out();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::ack);
    CHECK(r.c(Counter::handshakes) == 1);
}
