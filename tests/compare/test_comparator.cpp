// The Comparator driven through the hooks in the order the engine calls them (session start;
// per exchange: client data, the previous exchange's record, the request's release, online and
// target bytes in segments; the last record at the session's end), then merged and reported.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <tuple>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/compare/comparator.hpp"
#include "lib/compare/comparator_impl.hpp"
#include "tests/compare/parser_harness.hpp"

using namespace dpcopy;
using namespace dpcopy::compare;
using namespace dpcopy::compare::test;
using namespace std::string_literals;
using nlohmann::json;

namespace {

constexpr session::Nanos kUs = 1000;

struct Exchange {
    std::string request, online, target;
    session::Nanos online_ns = 400 * kUs, target_ns = 500 * kUs;
};

session::ConstBytes bytes_of(const std::string& s, std::size_t from = 0, std::size_t n = std::string::npos) {
    n = std::min(n, s.size() - from);
    return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, n};
}

// One session in one slot, as the engine reports it.
class SessionDriver {
public:
    SessionDriver(Comparator& c, std::uint32_t slot, std::uint16_t replica) : c_(c), slot_(slot), replica_(replica) {
        c_.on_session_start(slot_, replica_);
    }
    ~SessionDriver() { end(); }

    void exchange(const Exchange& e, std::size_t segment = 7) {
        c_.on_client_data(slot_, online_pos_);
        end();
        c_.on_request(slot_, bytes_of(e.request, 0, session::ExchangeObserver::kRequestHeadBytes), now_);
        feed(e.online, online_pos_, segment, true);
        feed(e.target, target_pos_, segment, false);
        record_ = {};
        record_.replica = replica_;
        record_.slot = slot_;
        record_.request_bytes = static_cast<std::uint32_t>(e.request.size());
        record_.online_begin = online_pos_;
        record_.online_response_bytes = static_cast<std::uint32_t>(e.online.size());
        record_.online_response_time = e.online_ns;
        record_.target_begin = target_pos_;
        record_.target_response_bytes = static_cast<std::uint32_t>(e.target.size());
        record_.target_response_time = e.target_ns;
        online_pos_ += static_cast<std::uint32_t>(e.online.size());
        target_pos_ += static_cast<std::uint32_t>(e.target.size());
        open_ = true;
        now_ += 1000 * kUs;
    }
    void end() {
        if (open_) c_.on_exchange(record_);
        open_ = false;
    }

private:
    void feed(const std::string& s, std::uint32_t base, std::size_t segment, bool online) {
        for (std::size_t i = 0; i < s.size(); i += segment) {
            const auto off = static_cast<std::uint32_t>(base + i);
            if (online) c_.on_online_data(slot_, off, bytes_of(s, i, segment), now_);
            else c_.on_target_data(slot_, off, bytes_of(s, i, segment), now_);
        }
    }

    Comparator& c_;
    std::uint32_t slot_;
    std::uint16_t replica_;
    std::uint32_t online_pos_ = 0, target_pos_ = 0;
    session::Nanos now_ = 1'000'000'000;
    session::ExchangeRecord record_{};
    bool open_ = false;
};

std::string http(int code, std::string_view body, bool send_body = true) {
    return "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           (send_body ? std::string(body) : "");
}

std::string redis_get(std::string_view key) {
    return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) + "\r\n";
}

std::unique_ptr<Comparator> make(CompareConfig cfg = {}) {
    std::string err;
    auto c = Comparator::create(cfg, err);
    REQUIRE(c);
    REQUIRE(err.empty());
    return c;
}

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
    return out;
}

// Six exchanges in two sessions (HTTP in slot 3, Redis replica 1 in slot 4): two differ in
// status, one in length only.
void run_scenario(Comparator& c) {
    {
        SessionDriver s(c, 3, 0);
        s.exchange({"GET /users/17 HTTP/1.1\r\nHost: a\r\n\r\n", http(200, "alice"), http(200, "alice")});
        s.exchange({"GET /users/18?full=1 HTTP/1.1\r\n\r\n", http(200, "bob"), http(404, "no such user")});
        s.exchange({"GET /users/19 HTTP/1.1\r\n\r\n", http(200, "abc"), http(200, "abcd")});
        s.exchange({"HEAD /static/app.js HTTP/1.1\r\n\r\n", http(200, std::string(1000, 'j'), false),
                    http(200, std::string(1000, 'j'), false)});
        s.exchange({"POST /orders HTTP/1.1\r\nContent-Length: 0\r\n\r\n", http(500, "oops"), http(500, "oops")}, 3);
    }
    SessionDriver r(c, 4, 1);
    r.exchange({redis_get("user:17"), "$5\r\nalice\r\n", "$-1\r\n"}, 2);
}

}  // namespace

TEST_CASE("Comparator: create checks its config; memory is allocated up front", "[compare][comparator]") {
    std::string err;
    CHECK(!Comparator::create({.max_sessions = 0}, err));
    CHECK(err == "compare: max_sessions must be 1..16777216");
    CHECK(!Comparator::create({.max_endpoints = 0}, err));
    CHECK(!Comparator::create({.max_diffs = 2'000'000}, err));
    auto small = make({.max_sessions = 16, .max_endpoints = 4, .max_diffs = 10});
    auto big = make({.max_sessions = 65536, .max_endpoints = 256, .max_diffs = 1000});
    CHECK(small->memory_bytes() < big->memory_bytes());
    // Per slot: the difference between 65536 and 16 sessions, endpoint and diff tables aside.
    auto big_slots = make({.max_sessions = 65536 + 16, .max_endpoints = 256, .max_diffs = 1000});
    const std::size_t per_slot = (big_slots->memory_bytes() - big->memory_bytes()) / 16;
    CHECK(per_slot < 700);
    WARN("memory_bytes at 65536 sessions: " << big->memory_bytes() << ", per slot " << per_slot);
}

TEST_CASE("Comparator: totals, endpoints, status pairs, diffs and summary of a scripted run", "[compare][comparator]") {
    auto c = make();
    run_scenario(*c);
    const CompareTotals& t = c->totals();
    CHECK(t.exchanges == 6);
    CHECK(t.compared == 6);
    CHECK(t.same_status == 4);
    CHECK(t.different_status == 2);
    CHECK(t.length_mismatch == 1);
    CHECK(t.unknown_status == 0);

    CompareSummary sum;
    sum.merge(*c);
    CHECK(sum.exchanges() == 6);
    const json j = sum.to_json();
    CHECK(keys(j) == std::set<std::string>{"exchanges", "compared", "same_status", "different_status", "length_mismatch",
                                           "unknown_status", "latency_ms", "histogram", "statuses", "endpoints",
                                           "endpoints_other", "diffs_logged", "diffs_not_logged"});
    CHECK(keys(j["latency_ms"]["online"]) == std::set<std::string>{"p50", "p90", "p99", "p999"});
    CHECK(keys(j["histogram"]) == std::set<std::string>{"upper_us", "online", "target"});
    CHECK(j["histogram"]["upper_us"].size() == 65);
    CHECK(j["histogram"]["upper_us"][1] == 1.33);
    CHECK(j["histogram"]["online"][21] == 6);  // 400 us: (316, 422] us
    CHECK(j["histogram"]["target"][22] == 6);  // 500 us: (422, 562] us
    CHECK(j["latency_ms"]["online"]["p50"] == 0.369);
    CHECK(j["latency_ms"]["target"]["p99"] == 0.562);
    CHECK(j["statuses"] == json::parse(R"([{"online":"200","target":"200","count":3},
        {"online":"$","target":"nil","count":1},{"online":"200","target":"404","count":1},
        {"online":"500","target":"500","count":1}])"));
    CHECK(j["endpoints_other"] == 0);
    CHECK(j["diffs_logged"] == 2);
    CHECK(j["diffs_not_logged"] == 0);

    const json& eps = j["endpoints"];
    REQUIRE(eps.size() == 4);
    CHECK(eps[0]["endpoint"] == "GET /users/{id}");
    CHECK(eps[0]["protocol"] == "http");
    CHECK(eps[0]["exchanges"] == 3);
    CHECK(eps[0]["same_status"] == 2);
    CHECK(eps[0]["different_status"] == 1);
    CHECK(eps[0]["length_mismatch"] == 1);
    CHECK(eps[0]["unknown_status"] == 0);
    CHECK(keys(eps[0]) == std::set<std::string>{"endpoint", "protocol", "exchanges", "same_status", "different_status",
                                                "length_mismatch", "unknown_status", "statuses", "latency_ms", "histogram",
                                                "samples"});
    CHECK(keys(eps[0]["histogram"]) == std::set<std::string>{"online", "target"});
    REQUIRE(eps[0]["samples"].size() == 1);
    CHECK(eps[0]["samples"][0]["request"] == "GET /users/18?full=1 HTTP/1.1");
    std::set<std::string> names;
    for (const json& e : eps) names.insert(e["protocol"].get<std::string>() + " " + e["endpoint"].get<std::string>());
    CHECK(names == std::set<std::string>{"http GET /users/{id}", "http HEAD /static/app.js", "http POST /orders", "redis GET"});

    std::ostringstream log;
    CHECK(sum.write_diff_log(log) == 2);
    CHECK(log.str() ==
          R"({"endpoint":"GET /users/{id}","protocol":"http","request":"GET /users/18?full=1 HTTP/1.1","online_status":"200","target_status":"404","online_bytes":40,"target_bytes":50,"online_ms":0.4,"target_ms":0.5,"replica":0})"
          "\n"
          R"({"endpoint":"GET","protocol":"redis","request":"GET user:17","online_status":"$","target_status":"nil","online_bytes":11,"target_bytes":5,"online_ms":0.4,"target_ms":0.5,"replica":1})"
          "\n");
    CHECK(sum.summary_line() == "compared 6 exchanges: 66.7 % same status, 1 length mismatch; latency p50 0.37 → 0.49 ms, p99 0.42 → 0.56 ms");
}

TEST_CASE("Comparator: workers merged; tables full: endpoints into other, diffs counted", "[compare][comparator]") {
    auto c = make({.max_sessions = 8, .max_endpoints = 2, .max_diffs = 1});
    {
        SessionDriver s(*c, 0, 0);
        s.exchange({"GET /a HTTP/1.1\r\n\r\n", http(200, ""), http(200, "")});
        s.exchange({"GET /b HTTP/1.1\r\n\r\n", http(200, ""), http(500, "")});
        s.exchange({"GET /c HTTP/1.1\r\n\r\n", http(200, ""), http(503, "")});  // third endpoint: "other"
        s.exchange({"GET /c HTTP/1.1\r\n\r\n", http(200, "x"), ""});             // target silent: unknown
    }
    auto second = make();
    run_scenario(*second);
    CompareSummary sum;
    sum.merge(*c);
    sum.merge(*second);
    const json j = sum.to_json(2);
    CHECK(j["exchanges"] == 10);
    CHECK(j["compared"] == 9);
    CHECK(j["unknown_status"] == 1);
    CHECK(j["different_status"] == 4);
    CHECK(j["endpoints_other"] == 2);
    CHECK(j["diffs_logged"] == 3);
    CHECK(j["diffs_not_logged"] == 1);
    REQUIRE(j["endpoints"].size() == 2);
    CHECK(j["endpoints"][0]["endpoint"] == "GET /users/{id}");
    CHECK(j["endpoints"][1]["endpoint"] == "other");
    CHECK(j["endpoints"][1]["exchanges"] == 2);
    CHECK(j["endpoints"][1]["statuses"] == json::parse(R"([{"online":"200","target":"","count":1},{"online":"200","target":"503","count":1}])"));
    std::ostringstream log;
    CHECK(sum.write_diff_log(log) == 4);
    CHECK(log.str().substr(log.str().rfind('{')) == "{\"diffs_not_logged\":1}\n");
    CHECK(sum.summary_line() ==
          "compared 9 exchanges: 55.6 % same status, 1 length mismatch; latency p50 0.37 → 0.50 ms, p99 0.42 → 0.56 ms\n"
          "1 of 10 exchanges not compared: a status could not be read");
}

TEST_CASE("Comparator: MySQL decided from the greeting; NUL-filled target tails; pipelined HTTP", "[compare][comparator]") {
    auto c = make({.max_sessions = 4});
    // MySQL: the greeting arrives before any request (both servers send one).
    const std::string greeting = my(0, "\x0a" "8.0\0"s + std::string(40, 'g'));
    c->on_session_start(1, 0);
    c->on_online_data(1, 0, bytes_of(greeting), 0);
    c->on_target_data(1, 0, bytes_of(greeting), 0);
    c->on_client_data(1, static_cast<std::uint32_t>(greeting.size()));
    const std::string query = my(0, "\x03select * from missing"s);
    c->on_request(1, bytes_of(query), 0);
    const std::string ok = my(1, "\x00\x00\x00\x02\x00\x00\x00"s), err = my(1, "\xff\x7a\x04#42S02no"s);
    const auto g = static_cast<std::uint32_t>(greeting.size());
    c->on_online_data(1, g, bytes_of(ok), 0);
    c->on_target_data(1, g, bytes_of(err), 0);
    session::ExchangeRecord r{};
    r.slot = 1;
    r.online_begin = r.target_begin = g;
    r.online_response_bytes = static_cast<std::uint32_t>(ok.size());
    r.target_response_bytes = static_cast<std::uint32_t>(err.size());
    c->on_exchange(r);

    // HTTP with dpintercept: the target's answer beyond a 20-byte prefix arrives as zeros.
    c->on_session_start(2, 0);
    const std::string online = http(200, "hello") + http(404, "");  // two pipelined answers
    std::string target = http(200, "hello") + http(404, "");
    std::fill(target.begin() + 20, target.begin() + 43, '\0');
    c->on_client_data(2, 0);
    c->on_request(2, bytes_of("GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"s), 0);
    c->on_online_data(2, 0, bytes_of(online), 0);
    c->on_target_data(2, 0, bytes_of(target), 0);
    r = {};
    r.slot = 2;
    r.online_response_bytes = static_cast<std::uint32_t>(online.size());
    r.target_response_bytes = static_cast<std::uint32_t>(target.size());
    c->on_exchange(r);

    CompareSummary sum;
    sum.merge(*c);
    const json j = sum.to_json();
    CHECK(j["statuses"] == json::parse(R"([{"online":"200,404","target":"200","count":1},{"online":"ok","target":"ERR 1146","count":1}])"));
    REQUIRE(j["endpoints"].size() == 2);
    CHECK(j["endpoints"][0]["endpoint"] == "GET /x");
    CHECK(j["endpoints"][1]["endpoint"] == "SELECT");
    CHECK(j["endpoints"][1]["protocol"] == "mysql");
    CHECK(j["different_status"] == 2);
}

TEST_CASE("Comparator: the capture runs ahead of the releases (answers parsed before their requests)", "[compare][comparator]") {
    auto c = make({.max_sessions = 2});
    const std::string req1 = "GET /a HTTP/1.1\r\n\r\n", req2 = "HEAD /b HTTP/1.1\r\n\r\n";
    const std::string on1 = http(200, "x"), on2 = http(404, std::string(50, 'y'), false), on3 = http(301, "");
    const auto o2 = static_cast<std::uint32_t>(on1.size()), o3 = static_cast<std::uint32_t>(on1.size() + on2.size());
    c->on_session_start(0, 0);
    // Three requests and answers captured before the engine releases the first one.
    c->on_client_data(0, 0);
    c->on_online_data(0, 0, bytes_of(on1), 0);
    c->on_client_data(0, o2);
    c->on_online_data(0, o2, bytes_of(on2), 0);  // HEAD's answer: no body despite Content-Length
    c->on_client_data(0, o3);
    c->on_online_data(0, o3, bytes_of(on3), 0);
    session::ExchangeRecord r{};
    const std::string t1 = http(200, "x"), t2 = http(200, std::string(50, 'y'), false);
    c->on_request(0, bytes_of(req1), 0);
    c->on_target_data(0, 0, bytes_of(t1), 0);
    r.online_response_bytes = o2;
    r.target_response_bytes = static_cast<std::uint32_t>(t1.size());
    c->on_exchange(r);
    c->on_request(0, bytes_of(req2), 0);
    c->on_target_data(0, r.target_response_bytes, bytes_of(t2), 0);
    r.online_begin = o2;
    r.online_response_bytes = o3 - o2;
    r.target_begin = r.target_response_bytes;
    r.target_response_bytes = static_cast<std::uint32_t>(t2.size());
    c->on_exchange(r);
    CompareSummary sum;
    sum.merge(*c);
    const json j = sum.to_json();
    CHECK(j["statuses"] == json::parse(R"([{"online":"200","target":"200","count":1},{"online":"404","target":"200","count":1}])"));
    CHECK(j["endpoints"][1]["endpoint"] == "HEAD /b");
    CHECK(c->totals().different_status == 1);
}

TEST_CASE("Status pairs: N - 1 distinct, the rest folded into (other, other)", "[compare][comparator]") {
    StatusPairs<3> pairs;
    JoinedStatus a, b, c;
    a.assign("200");
    b.assign("404");
    c.assign("500");
    pairs.add(a, a);
    pairs.add(a, b);
    pairs.add(a, c);  // folded
    pairs.add(a, a);
    pairs.add(b, b);  // folded
    REQUIRE(pairs.used == 3);
    CHECK(pairs.pairs[0].count == 2);
    CHECK(pairs.pairs[1].count == 1);
    CHECK(pairs.pairs[2].online.view() == "other");
    CHECK(pairs.pairs[2].target.view() == "other");
    CHECK(pairs.pairs[2].count == 2);
}

TEST_CASE("StatusPairs: the indexed table and the scanned one count as a plain list would", "[compare][comparator]") {
    // a reference: the first N - 1 distinct pairs in order of arrival, the rest folded
    std::mt19937 rng(5);
    const auto status = [&](unsigned r) {
        JoinedStatus s;
        if (r % 7 == 0) return s;  // unknown
        s.assign(r % 3 == 0 ? "ERR " + std::to_string(r % 97) : r % 3 == 1 ? "ok" : "#" + std::to_string(r * 2654435761u));
        return s;
    };
    StatusPairs<64> big;
    StatusPairs<8> small;
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, std::uint64_t> counts;
    for (int k = 0; k < 20000; ++k) {
        const auto r = static_cast<unsigned>(rng() % (k < 10000 ? 40u : 400u));  // repeats, then many new pairs
        const JoinedStatus online = status(r), target = status(r / 3 + (r & 1));
        big.add(online, target);
        small.add(online, target);
        const auto key = std::make_pair(std::string(online.view()), std::string(target.view()));
        if (counts[key]++ == 0) order.push_back(key);
    }
    for (auto [table_n, used, pairs] : {std::tuple{63u, big.used, big.pairs.data()}, std::tuple{7u, small.used, small.pairs.data()}}) {
        REQUIRE(order.size() > table_n);
        REQUIRE(used == table_n + 1);
        std::uint64_t folded = 0;
        for (std::size_t i = 0; i < order.size(); ++i) {
            if (i < table_n) {
                CHECK(pairs[i].online.view() == order[i].first);
                CHECK(pairs[i].target.view() == order[i].second);
                CHECK(pairs[i].count == counts[order[i]]);
            } else {
                folded += counts[order[i]];
            }
        }
        CHECK(pairs[table_n].online.view() == "other");
        CHECK(pairs[table_n].count == folded);
    }
}

// libpq's sslmode=prefer: an 8-byte SSLRequest answered by one byte 'N', then the
// StartupMessage. The capture runs ahead of the releases, so the online 'N' arrives before
// any request told the comparator the protocol (a one-byte answer no parser recognises).
TEST_CASE("Comparator: PostgreSQL SSLRequest answered 'N' before the protocol is known", "[compare][comparator]") {
    auto c = make({.max_sessions = 1});
    const std::string ssl = be32(8) + be32(80877103);
    const std::string startup = be32(9) + be32(196608) + "u"s;
    const std::string query = pg('Q', "SELECT 1"s + '\0');
    const std::string startup_answer = pg('R', be32(0)) + pg('S', "a\0b\0"s) + pg('Z', "I");
    const std::string rows = pg('T', std::string(10, 't')) + pg('D', std::string(6, 'd')) + pg('C', "SELECT 1"s + '\0') + pg('Z', "I");
    const std::string err = pg('E', "SERROR\0C42P01\0Mno\0\0"s) + pg('Z', "I");
    const std::vector<std::string> requests{ssl, startup, query, query};
    const std::vector<std::string> online{"N", startup_answer, rows, rows};
    const std::vector<std::string> target{"N", startup_answer, rows, err};
    c->on_session_start(0, 0);
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {  // the whole capture first
        c->on_client_data(0, at);
        c->on_online_data(0, at, bytes_of(online[i]), 0);
        at += static_cast<std::uint32_t>(online[i].size());
    }
    session::ExchangeRecord r{};
    std::uint32_t online_at = 0, target_at = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {  // then the releases
        if (i > 0) c->on_exchange(r);
        c->on_request(0, bytes_of(requests[i]), 0);
        c->on_target_data(0, target_at, bytes_of(target[i]), 0);
        r.online_begin = online_at;
        r.online_response_bytes = static_cast<std::uint32_t>(online[i].size());
        r.target_begin = target_at;
        r.target_response_bytes = static_cast<std::uint32_t>(target[i].size());
        online_at += r.online_response_bytes;
        target_at += r.target_response_bytes;
    }
    c->on_exchange(r);
    CHECK(c->totals().exchanges == 4);
    CHECK(c->totals().unknown_status == 0);
    CHECK(c->totals().compared == 4);
    CHECK(c->totals().different_status == 1);
}

// A private binary format (bench_dataplane's 10-byte payloads: session id, round, "aa") whose
// requests look like PostgreSQL ('P' and a length) or, from some round on, MySQL commands
// (a length, sequence 0, a command byte): the answers refute both, and every exchange is
// compared as "other".
TEST_CASE("Comparator: binary requests that look like MySQL or PostgreSQL are compared as other", "[compare][comparator]") {
    auto c = make({.max_sessions = 2});
    const auto payload = [](std::uint32_t id, std::uint32_t round) {
        std::string s(10, 'a');
        for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(id >> (8 * i)), s[4 + i] = static_cast<char>(round >> (8 * i));
        return s;
    };
    for (const std::uint32_t id : {848u, 7u}) {  // 'P' 03 00 00 ...; 07 00 00 00 <round>
        SessionDriver s(*c, id % 2, 0);
        for (std::uint32_t round = 0; round < 6; ++round) {
            const std::string answer = payload(id, round);
            s.exchange({payload(id, round), answer, round == 4 ? payload(id, 99) : answer}, 10);
        }
    }
    CHECK(c->totals().exchanges == 12);
    CHECK(c->totals().unknown_status == 0);
    CHECK(c->totals().compared == 12);
    CHECK(c->totals().different_status == 2);
    CompareSummary sum;
    sum.merge(*c);
    const json j = sum.to_json();
    REQUIRE(j["endpoints"].size() == 1);
    CHECK(j["endpoints"][0]["endpoint"] == "other");
    CHECK(j["endpoints"][0]["protocol"] == "other");
}
