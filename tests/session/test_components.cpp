// Timer wheel, session index, piece pool, sampling, pacing decisions, quiet time, RTO.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "lib/session/engine.hpp"
#include "lib/session/flat_index.hpp"
#include "lib/session/policy.hpp"
#include "lib/session/rto.hpp"
#include "lib/session/seg_pool.hpp"
#include "lib/session/session.hpp"
#include "lib/session/timer_wheel.hpp"

using namespace dpcopy;
using namespace dpcopy::session;

TEST_CASE("timer wheel: fires each timer once, at or after its time, within one tick") {
    TimerWheel w(1000);
    std::mt19937_64 rng(7);
    std::map<std::uint32_t, std::uint64_t> due;
    const std::uint64_t t0 = 5 * kSec;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const std::uint64_t at = t0 + rng() % (20 * kSec);  // beyond one turn (4.3 s) too
        w.schedule(i, at);
        due[i] = at;
    }
    CHECK(w.size() == 1000);
    std::map<std::uint32_t, std::uint64_t> fired;
    for (std::uint64_t now = t0; now <= t0 + 21 * kSec; now += 300 * 1000) {  // 0.3 ms steps
        w.advance(now, [&](std::uint32_t id) {
            REQUIRE(fired.count(id) == 0);
            fired[id] = now;
        });
    }
    REQUIRE(fired.size() == 1000);
    for (auto& [id, at] : fired) {
        CHECK(at >= due[id]);
        CHECK(at - due[id] <= w.tick_ns() + 300 * 1000);
    }
    CHECK(w.size() == 0);
}

TEST_CASE("timer wheel: cancel, reschedule, big jumps and scheduling from the callback") {
    TimerWheel w(4);
    w.schedule(0, 100 * kMs);
    w.schedule(1, 200 * kMs);
    w.schedule(2, 300 * kMs);
    w.cancel(1);
    w.schedule(2, 50 * kMs);               // earlier
    w.schedule_if_earlier(0, 500 * kMs);   // not earlier: stays at 100 ms
    CHECK(w.when(0) == 100 * kMs);
    std::vector<std::uint32_t> order;
    w.advance(60 * kMs, [&](std::uint32_t id) { order.push_back(id); });
    CHECK(order == std::vector<std::uint32_t>{2});
    // a jump of a minute: everything due fires once (in slot order, not time order); a timer
    // set from a callback fires in that pass or the next
    w.schedule(3, 30 * kSec);
    w.advance(60 * kSec, [&](std::uint32_t id) {
        order.push_back(id);
        if (id == 0) w.schedule(1, 60 * kSec);
    });
    w.advance(60 * kSec + 1, [&](std::uint32_t id) { order.push_back(id); });
    REQUIRE(order.size() == 4);
    CHECK(order[0] == 2);
    std::sort(order.begin(), order.end());
    CHECK(order == std::vector<std::uint32_t>{0, 1, 2, 3});
    CHECK(w.size() == 0);
}

TEST_CASE("timer wheel: matches a reference model (random schedule/cancel/advance, callbacks touching other timers)") {
    // A small wheel (64 slots of 1024 ns, sub-slots of 16 ns) so that turns, parked entries,
    // sub-slots and big jumps all happen; advance() steps from 0 ns to more than a turn.
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        constexpr std::uint32_t n = 300;
        TimerWheel w(n, 10, 6);
        std::mt19937_64 rng(seed);
        std::vector<std::uint64_t> model(n, 0);  // 0: not scheduled
        std::uint64_t now = 5000;
        std::uint64_t fired_total = 0;
        auto pick_at = [&]() -> std::uint64_t {
            switch (rng() % 5) {
                case 0: return now > 3000 ? now - rng() % 3000 : 1;  // overdue
                case 1: return now + rng() % 64;                       // this sub-slot or the next
                case 2: return now + rng() % 2048;                     // this tick or the next
                case 3: return now + rng() % 70000;                    // up to a turn and more
                default: return now + rng() % 300000;                  // several turns
            }
        };
        for (int step = 0; step < 40000; ++step) {
            const auto id = static_cast<std::uint32_t>(rng() % n);
            const unsigned op = static_cast<unsigned>(rng() % 10);
            if (op < 4) {
                const std::uint64_t at = pick_at();
                w.schedule(id, at);
                model[id] = at == 0 ? 1 : at;
            } else if (op < 5) {
                w.cancel(id);
                model[id] = 0;
            } else if (op < 6) {
                const std::uint64_t at = pick_at();
                w.schedule_if_earlier(id, at);
                if (model[id] == 0 || at < model[id]) model[id] = at;
            } else {
                switch (rng() % 4) {
                    case 0: now += rng() % 20; break;
                    case 1: now += rng() % 400; break;
                    case 2: now += rng() % 5000; break;
                    default: now += rng() % 150000; break;
                }
                std::set<std::uint32_t> late;  // scheduled from a callback at or before now: this pass or the next
                w.advance(now, [&](std::uint32_t f) {
                    REQUIRE((model[f] != 0 && model[f] <= now));
                    model[f] = 0;
                    ++fired_total;
                    const auto y = static_cast<std::uint32_t>(rng() % n);
                    switch (rng() % 4) {
                        case 0:
                            w.cancel(y);
                            model[y] = 0;
                            late.erase(y);
                            break;
                        case 1: {
                            const std::uint64_t at = pick_at();
                            w.schedule(y, at);
                            model[y] = at;
                            if (at <= now) late.insert(y);
                            else late.erase(y);
                            break;
                        }
                        default: break;
                    }
                });
                std::uint32_t missed = n;  // a due timer that did not fire (and was not set from a callback)
                for (std::uint32_t i = 0; i < n && missed == n; ++i) {
                    if (model[i] != 0 && model[i] <= now && late.count(i) == 0) missed = i;
                }
                REQUIRE(missed == n);
            }
            std::size_t live = 0;
            std::uint32_t wrong = n;  // a timer whose deadline differs from the model's
            for (std::uint32_t i = 0; i < n; ++i) {
                if (w.when(i) != model[i] && wrong == n) wrong = i;
                live += model[i] != 0;
            }
            REQUIRE(wrong == n);
            REQUIRE(w.size() == live);
        }
        CHECK(fired_total > 1000);
    }
}

TEST_CASE("flat index: insert, find, replace, erase under churn (backward shift keeps every key findable)") {
    const std::uint32_t n = 5000;
    FlatIndex idx(n);
    std::vector<net::FlowKey> keys(n);
    std::vector<bool> present(n, false);
    auto hash = [&](std::uint32_t i) { return net::hash_flow(keys[i]); };
    for (std::uint32_t i = 0; i < n; ++i)
        keys[i] = net::FlowKey{net::Ipv4Addr(0x0a000000u + i / 7), net::Ipv4Addr(0xc0a80001u), net::Port(static_cast<std::uint16_t>(1024 + i)), net::Port(80)};
    auto find = [&](std::uint32_t i) { return idx.find(hash(i), [&](std::uint32_t id) { return keys[id] == keys[i]; }); };
    std::mt19937 rng(3);
    for (int round = 0; round < 50000; ++round) {
        const auto i = static_cast<std::uint32_t>(rng() % n);
        if (present[i]) {
            REQUIRE(idx.erase(hash(i), i));
            present[i] = false;
        } else {
            idx.insert(hash(i), i);
            present[i] = true;
        }
        if (round % 5000 == 0) {
            for (std::uint32_t j = 0; j < n; ++j) REQUIRE((find(j) == j) == present[j]);
        }
    }
    std::size_t count = 0;
    for (std::uint32_t j = 0; j < n; ++j) {
        REQUIRE((find(j) == j) == present[j]);
        count += present[j];
    }
    CHECK(idx.size() == count);
    // replace keeps the key, changes the id
    std::uint32_t some = 0;
    while (!present[some]) ++some;
    REQUIRE(idx.replace(hash(some), some, 777777));
    CHECK(idx.find(hash(some), [&](std::uint32_t id) { return id == 777777; }) == 777777);
}

TEST_CASE("piece pool: bounded, reuses freed pieces, counts") {
    PiecePool p(3);
    const auto a = p.alloc(), b = p.alloc(), c = p.alloc();
    CHECK(a != PiecePool::kNone);
    CHECK(b != PiecePool::kNone);
    CHECK(c != PiecePool::kNone);
    CHECK(p.alloc() == PiecePool::kNone);
    CHECK(p.available() == 0);
    p.free(b);
    CHECK(p.alloc() == b);
    CHECK(sizeof(Session) <= 256);
}

TEST_CASE("block pool: refcounted, bounded, a new generation at every allocation") {
    BlockPool p(2);
    const std::uint8_t x[3] = {1, 2, 3};
    const auto a = p.alloc(net::ConstBytes(x, 3));
    REQUIRE(a != BlockPool::kNone);
    CHECK(p.len(a) == 3);
    CHECK(p.data(a)[2] == 3);
    const auto g = p.gen(a);
    p.ref(a);
    p.ref(a);
    const auto b = p.alloc({});
    REQUIRE(b != BlockPool::kNone);
    p.ref(b);
    CHECK(p.alloc({}) == BlockPool::kNone);
    CHECK(p.available() == 0);
    CHECK_FALSE(p.unref(a));  // one reference left
    CHECK(p.in_use() == 2);
    CHECK(p.unref(a));
    CHECK(p.in_use() == 1);
    std::vector<std::uint8_t> full(BlockPool::kBlockBytes, 0xab);
    const auto c = p.alloc(full);
    CHECK(c == a);
    CHECK(p.gen(c) == g + 1);
    CHECK(p.len(c) == BlockPool::kBlockBytes);
    CHECK(p.data(c)[BlockPool::kBlockBytes - 1] == 0xab);
}

TEST_CASE("sampling: -r 30 picks about 30% and the same sessions every time") {
    std::vector<net::FlowKey> keys;
    for (std::uint32_t i = 0; i < 20000; ++i)
        keys.push_back({net::Ipv4Addr(0x0a000000u + i * 13), net::Ipv4Addr(0xc0a80001u), net::Port(static_cast<std::uint16_t>(1024 + i % 60000)), net::Port(80)});
    const std::uint64_t seed = EngineConfig{}.sample_seed;
    std::vector<bool> first, second;
    for (auto& k : keys) first.push_back(sampled(k, 30.0, seed));
    for (auto& k : keys) second.push_back(sampled(k, 30.0, seed));
    CHECK(first == second);
    const auto n = std::count(first.begin(), first.end(), true);
    CHECK(n > 5600);
    CHECK(n < 6400);
    for (auto& k : keys) {
        CHECK(sampled(k, 100.0, seed));
        CHECK_FALSE(sampled(k, 0.0, seed));
        if (sampled(k, 10.0, seed)) CHECK(sampled(k, 30.0, seed));  // nested: a larger -r keeps the smaller's sessions
    }
}

TEST_CASE("pacing: a request waits for the target's answer: its size, or some of it and quiet") {
    PaceInput in;
    in.online_answer = 800;  // the online server sent 800 bytes between the two requests
    in.target_answer = 799;
    in.all_acked = true;
    in.now = 100 * kMs;
    in.quiet_since = 99 * kMs;
    in.quiet = 5 * kMs;
    in.unanswered_limit = 10 * kSec;
    CHECK(pace(in) == Pace::hold);
    in.target_answer = 800;
    CHECK(pace(in) == Pace::release_bytes);
    in.target_answer = 5000;  // a longer answer than online's
    CHECK(pace(in) == Pace::release_bytes);
    in.target_answer = 10;    // a shorter one: released once the target is quiet
    in.now = 104 * kMs;
    CHECK(pace(in) == Pace::release_quiet);
    in.all_acked = false;  // our request is not even acknowledged: keep waiting
    CHECK(pace(in) == Pace::hold);
    in.no_wait = true;
    CHECK(pace(in) == Pace::send);
    in.no_wait = false;
    in.online_answer = 0;  // the online server answered nothing: a pipelined request
    CHECK(pace(in) == Pace::send);
}

TEST_CASE("pacing: a target that has sent nothing is waited for, however small the online answer") {
    PaceInput in;
    in.online_answer = 1;  // PostgreSQL's 'N' to SSLRequest
    in.target_answer = 0;
    in.target_silent = true;
    in.all_acked = true;
    in.quiet_since = 1 * kSec;
    in.quiet = 2 * kMs;
    in.unanswered_limit = 10 * kSec;
    for (std::uint64_t t : {1 * kSec, 1 * kSec + 50 * kMs, 2 * kSec, 10 * kSec, 11 * kSec - 1}) {
        in.now = t;
        CHECK(pace(in) == Pace::hold);  // never by the quiet time
    }
    in.now = 11 * kSec;
    CHECK(pace(in) == Pace::release_unanswered);  // the limit: a counted guess
    in.all_acked = false;
    CHECK(pace(in) == Pace::hold);
    in.all_acked = true;
    in.target_answer = 1;
    in.target_silent = false;
    in.now = 1 * kSec;
    CHECK(pace(in) == Pace::release_bytes);
}

TEST_CASE("pacing: bytes that only complete an earlier answer are progress, not this request's answer") {
    PaceInput in;
    in.online_answer = 300;
    in.target_answer = 0;      // the target sent bytes, all of them the rest of the previous answer
    in.target_silent = false;
    in.all_acked = true;
    in.quiet_since = 1 * kSec;
    in.quiet = 5 * kMs;
    in.unanswered_limit = 10 * kSec;
    in.now = 1 * kSec + 4 * kMs;
    CHECK(pace(in) == Pace::hold);
    in.now = 1 * kSec + 5 * kMs;  // the quiet time, not the unanswered limit
    CHECK(pace(in) == Pace::release_quiet);
}

TEST_CASE("quiet time: derived from the RTTs, clamped") {
    QuietPolicy p;
    CHECK(quiet_time(0, 0, p) == p.min_ns);
    CHECK(quiet_time(10 * kMs, 3 * kMs, p) == 20 * kMs);
    CHECK(quiet_time(3 * kMs, 10 * kMs, p) == 20 * kMs);
    CHECK(quiet_time(10 * kSec, 0, p) == p.max_ns);
}

TEST_CASE("RTO: RFC 6298 computation, floor, backoff and ceiling") {
    std::uint32_t srtt = 0, rttvar = 0, rto = 0;
    CHECK(Rto::timeout_ns(0, 0) == 1 * kSec);  // before any sample
    Rto::sample(srtt, rttvar, rto, 100'000);   // 100 ms
    CHECK(srtt == 100'000);
    CHECK(rttvar == 50'000);
    CHECK(rto == 300'000);  // srtt + 4*rttvar
    Rto::sample(srtt, rttvar, rto, 200'000);
    CHECK(rttvar == (3 * 50'000 + 100'000) / 4);
    CHECK(srtt == (7 * 100'000 + 200'000) / 8);
    CHECK(rto == srtt + 4 * rttvar);
    std::uint32_t s2 = 0, v2 = 0, r2 = 0;
    Rto::sample(s2, v2, r2, 100);  // LAN: 0.1 ms
    CHECK(r2 == Rto::kMinUs);
    CHECK(Rto::timeout_ns(r2, 1) == 2 * Rto::kMinUs * 1000ULL);
    CHECK(Rto::timeout_ns(r2, 3) == 8 * Rto::kMinUs * 1000ULL);
    CHECK(Rto::timeout_ns(r2, 30) == Rto::kMaxUs * 1000ULL);
}

TEST_CASE("counters: += adds every counter and every parse reason of another engine") {
    Counters a, b;
    for (std::size_t k = 0; k < a.v.size(); ++k) {
        a.v[k] = k;
        b.v[k] = 1000 + 3 * k;
    }
    for (std::size_t k = 0; k < a.parse_captured.size(); ++k) {
        a.parse_captured[k] = k;
        b.parse_captured[k] = 7 * k + 1;
        a.parse_target[k] = 2 * k;
        b.parse_target[k] = 5 * k + 2;
    }
    const Counters before = a;
    a += b;
    for (std::size_t k = 0; k < a.v.size(); ++k) CHECK(a.v[k] == before.v[k] + b.v[k]);
    for (std::size_t k = 0; k < a.parse_captured.size(); ++k) {
        CHECK(a.parse_captured[k] == before.parse_captured[k] + b.parse_captured[k]);
        CHECK(a.parse_target[k] == before.parse_target[k] + b.parse_target[k]);
    }
    CHECK(a.ended() == before.ended() + b.ended());
}
