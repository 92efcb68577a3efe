// CompareQueue: every hook's arguments come out of the ring as they went in, in order (across
// the ring's end, long payloads in chunks); a full ring drops a slot's events up to its next
// request with room (the exchanges between counted not_compared), never part of an exchange; a producer and a consumer on two
// threads; the comparator fed through the queue counts what it counts when fed directly.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lib/compare/compare_queue.hpp"
#include "lib/compare/comparator.hpp"

using namespace dpcopy;
using namespace dpcopy::compare;

namespace {

// Every hook call as one comparable record.
struct Call {
    char kind = 0;  // x exchange, s start, o online, c client, r request, t target, l events lost
    std::uint32_t slot = 0, offset = 0;
    std::uint64_t time = 0;
    std::string bytes;
    session::ExchangeRecord record{};
    bool operator==(const Call& o) const {
        return kind == o.kind && slot == o.slot && offset == o.offset && time == o.time && bytes == o.bytes &&
               (kind != 'x' || (record.slot == o.record.slot && record.replica == o.record.replica &&
                                record.online_begin == o.record.online_begin &&
                                record.target_received == o.record.target_received &&
                                record.target_response_time == o.record.target_response_time));
    }
};

struct Recorder : session::ExchangeObserver {
    std::vector<Call> calls;
    static std::string text(session::ConstBytes b) { return std::string(b.begin(), b.end()); }
    void on_exchange(const session::ExchangeRecord& r) override { calls.push_back({'x', r.slot, 0, 0, {}, r}); }
    void on_session_start(std::uint32_t slot, std::uint16_t replica) override { calls.push_back({'s', slot, replica, 0, {}, {}}); }
    void on_online_data(std::uint32_t slot, std::uint32_t off, session::ConstBytes p, session::Nanos t) override {
        calls.push_back({'o', slot, off, t, text(p)});
    }
    void on_client_data(std::uint32_t slot, std::uint32_t off) override { calls.push_back({'c', slot, off, 0, {}, {}}); }
    void on_events_lost(std::uint32_t slot) override { calls.push_back({'l', slot, 0, 0, {}, {}}); }
    void on_request(std::uint32_t slot, session::ConstBytes head, session::Nanos t) override {
        calls.push_back({'r', slot, 0, t, text(head)});
    }
    void on_target_data(std::uint32_t slot, std::uint32_t off, session::ConstBytes p, session::Nanos t) override {
        calls.push_back({'t', slot, off, t, text(p)});
    }
};

session::ConstBytes as_bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// A random call (payloads up to `max_payload` bytes) made on both observers.
void random_call(std::mt19937& gen, std::uint32_t slots, std::size_t max_payload, session::ExchangeObserver& a,
                 session::ExchangeObserver& b) {
    const auto rng = [&] { return static_cast<std::uint32_t>(gen()); };
    const std::uint32_t slot = rng() % slots;
    const std::uint32_t off = rng();
    const std::uint64_t t = rng();
    std::string p(rng() % (max_payload + 1), '\0');
    for (char& ch : p) ch = static_cast<char>(rng());
    session::ExchangeRecord r;
    r.slot = slot, r.replica = static_cast<std::uint16_t>(rng()), r.online_begin = off, r.target_received = off ^ 7,
    r.target_response_time = t;
    for (session::ExchangeObserver* o : {&a, &b}) {
        switch (off % 6) {
            case 0: o->on_exchange(r); break;
            case 1: o->on_session_start(slot, static_cast<std::uint16_t>(off >> 8)); break;
            case 2: o->on_online_data(slot, off, as_bytes(p), t); break;
            case 3: o->on_client_data(slot, off); break;
            case 4: o->on_request(slot, as_bytes(p).first(std::min<std::size_t>(p.size(), session::ExchangeObserver::kRequestHeadBytes)), t); break;
            default: o->on_target_data(slot, off, as_bytes(p), t); break;
        }
    }
}

}  // namespace

TEST_CASE("compare_queue: what goes in comes out, in order, across the ring's end") {
    std::string err;
    auto q = CompareQueue::create(0, 16, err);  // the smallest ring: 64 KiB
    REQUIRE(q);
    Recorder direct, through;
    std::mt19937 rng(7);
    std::size_t delivered = 0;
    for (int i = 0; i < 20000; ++i) {  // some 10 laps of the ring
        random_call(rng, 16, 300, direct, *q);
        if (i % 50 == 49) {
            q->publish();
            delivered += q->drain(through, ~std::size_t{0});
        }
    }
    q->publish();
    delivered += q->drain(through, 7);  // a bounded drain stops after 7
    CHECK(q->drain(through, 0) == 0);
    delivered += q->drain(through, ~std::size_t{0});
    CHECK(q->empty());
    CHECK(delivered == direct.calls.size());
    CHECK(q->counts().dropped_events == 0);
    CHECK(q->counts().events == direct.calls.size());
    REQUIRE(through.calls.size() == direct.calls.size());
    for (std::size_t i = 0; i < direct.calls.size(); ++i) {
        INFO("call " << i);
        CHECK(through.calls[i] == direct.calls[i]);
    }
}

TEST_CASE("compare_queue: nothing is visible before publish(), and a long payload comes out in chunks") {
    std::string err;
    auto q = CompareQueue::create(1 << 20, 4, err);
    REQUIRE(q);
    Recorder out;
    q->on_client_data(1, 5);
    CHECK(q->drain(out, 100) == 0);
    q->publish();
    CHECK(q->drain(out, 100) == 1);
    std::string big(40000, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    q->on_target_data(2, 1000, as_bytes(big), 9);  // past kPublishBytes: published at once
    CHECK(q->drain(out, 100) == 3);                // 16 KiB + 16 KiB + the rest
    REQUIRE(out.calls.size() == 4);
    std::string joined;
    for (std::size_t i = 1; i < 4; ++i) {
        CHECK(out.calls[i].offset == 1000 + joined.size());  // each chunk at its own offset
        joined += out.calls[i].bytes;
    }
    CHECK(joined == big);
}

TEST_CASE("compare_queue: a full ring drops a slot's events up to its next request with room; that exchange is not reported") {
    std::string err;
    auto q = CompareQueue::create(0, 8, err);
    REQUIRE(q);
    const std::string answer(1000, 'a');
    session::ExchangeRecord r;
    r.slot = 3;
    // fill the ring with slot 3's answers, none drained
    std::uint32_t pushed = 0;
    while (q->counts().dropped_events == 0) q->on_target_data(3, pushed++ * 1000, as_bytes(answer), 0);
    const std::uint64_t queued = q->counts().events;
    CHECK(queued == pushed - 1);
    q->on_request(3, as_bytes("GET"), 0);  // still full: dropped, the slot stays marked
    CHECK(q->counts().dropped_events == 2);
    Recorder out;
    q->publish();
    q->drain(out, 10);  // room again, but slot 3 is marked: its events are dropped up to a request
    q->on_target_data(3, 0, as_bytes(answer), 0);
    q->on_exchange(r);
    q->on_client_data(3, 1);
    CHECK(q->counts().dropped_events == 5);
    CHECK(q->counts().not_compared == 1);
    q->on_client_data(5, 77);           // another slot's events go on
    q->on_request(3, as_bytes("GET /a"), 9);  // slot 3 resumes: events lost, then the request
    q->on_target_data(3, 4000, as_bytes("ok"), 10);
    q->on_exchange(r);                   // the exchange it resumed in: not reported
    CHECK(q->counts().not_compared == 2);
    q->on_request(3, as_bytes("GET /b"), 11);
    q->on_exchange(r);                   // whole: reported
    q->publish();
    out.calls.clear();
    q->drain(out, ~std::size_t{0});
    CHECK(q->counts().not_compared == 2);
    CHECK(q->counts().dropped_events == 5);
    REQUIRE(out.calls.size() >= 6);
    const std::vector<Call> tail(out.calls.end() - 6, out.calls.end());
    CHECK(tail[0].kind == 'c');
    CHECK(tail[0].slot == 5);
    CHECK(tail[1].kind == 'l');
    CHECK(tail[1].slot == 3);
    CHECK(tail[2].kind == 'r');
    CHECK(tail[2].bytes == "GET /a");
    CHECK(tail[3].kind == 't');
    CHECK(tail[4].kind == 'r');
    CHECK(tail[4].bytes == "GET /b");
    CHECK(tail[5].kind == 'x');
    // a new session in a marked slot flows again at once
    while (q->counts().dropped_events == 5) q->on_target_data(3, 0, as_bytes(answer), 0);
    q->publish();
    q->drain(out, ~std::size_t{0});
    q->on_session_start(3, 1);
    q->on_exchange(r);
    CHECK(q->counts().not_compared == 2);
}

TEST_CASE("compare_queue: create's bounds") {
    std::string err;
    CHECK_FALSE(CompareQueue::create(CompareQueue::kMaxRingBytes + 1, 4, err));
    CHECK(err.find("MiB") != std::string::npos);
    CHECK_FALSE(CompareQueue::create(1 << 20, 0, err));
    auto q = CompareQueue::create(100000, 4, err);  // rounded up to 128 KiB
    REQUIRE(q);
    CHECK(q->memory_bytes() >= 128 * 1024);
    CHECK(q->memory_bytes() < 130 * 1024);
}

TEST_CASE("compare_queue: a producer and a consumer on two threads: in order, every event delivered or counted") {
    std::string err;
    auto q = CompareQueue::create(0, 64, err);
    REQUIRE(q);
    constexpr std::uint32_t kEvents = 200000;
    std::atomic<bool> done{false};
    Recorder consumer;
    std::thread reader([&] {
        for (;;) {
            const bool last = done.load(std::memory_order_acquire);
            if (q->drain(consumer, 1000) == 0 && last) break;
        }
    });
    // each slot's events carry increasing offsets; a session start every 100 events per slot
    std::vector<std::uint32_t> next(64, 0);
    const std::string p(40, 'p');
    for (std::uint32_t i = 0; i < kEvents; ++i) {
        const std::uint32_t slot = i % 64;
        if (next[slot] % 100 == 0) q->on_session_start(slot, 0);
        else q->on_online_data(slot, next[slot], as_bytes(p), i);
        ++next[slot];
        if (i % 32 == 31) q->publish();
    }
    q->publish();
    done.store(true, std::memory_order_release);
    reader.join();
    const QueueCounts c = q->counts();
    CHECK(c.events + c.dropped_events == kEvents);
    CHECK(consumer.calls.size() == c.events);
    // per slot: offsets increase within a session; after a gap (dropped events), nothing until
    // the next session start
    std::vector<std::int64_t> last(64, -1);
    for (const Call& call : consumer.calls) {
        if (call.kind == 's') {
            last[call.slot] = -1;
            continue;
        }
        REQUIRE(call.kind == 'o');
        if (last[call.slot] >= 0) CHECK(call.offset == last[call.slot] + 1);
        last[call.slot] = call.offset;
    }
}
