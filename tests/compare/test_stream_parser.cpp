// Status parsers fed whole, byte by byte, at every single cut and in random splits: the same
// responses (start offset and status) whatever the segmentation.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "lib/compare/stream_parser.hpp"
#include "tests/compare/parser_harness.hpp"

using namespace dpcopy::compare;
using namespace dpcopy::compare::test;
using namespace std::string_literals;

namespace {

std::string at(std::string_view all, std::string_view part) { return std::to_string(all.find(part)); }

void check_every_split(Protocol proto, const std::string& bytes, const std::string& expected, bool head = false) {
    std::string whole;
    INFO(bytes);
    CHECK(parse_every_split(proto, bytes, whole, head) == "");
    CHECK(whole == expected);
}

}  // namespace

TEST_CASE("HTTP: pipelined responses framed by Content-Length, status lines in every split", "[compare][http]") {
    const std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
    const std::string b = "HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n";
    const std::string c = "HTTP/1.0 503 Service Unavailable\r\nContent-Length:  12\r\n\r\nHTTP/1.1 200";
    const std::string all = a + b + c;
    check_every_split(Protocol::http, all, "0:200 " + at(all, "HTTP/1.1 404") + ":404 " + at(all, "HTTP/1.0 503") + ":503");
}

TEST_CASE("HTTP: chunked bodies with extensions and trailers", "[compare][http]") {
    const std::string a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                          "5;ext=1;q=\"x\"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: a\r\nX-Other: b\r\n\r\n";
    const std::string b = "HTTP/1.1 500 Internal Server Error\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n";
    const std::string c = "HTTP/1.1 201 Created\r\n\r\nbody until the next anchor HTTP/1.1 400 x\r\n";
    const std::string all = a + b + c;
    check_every_split(Protocol::http, all, "0:200 " + std::to_string(a.size()) + ":500 " + std::to_string(a.size() + b.size()) + ":201");
}

TEST_CASE("HTTP: no body for HEAD, 204, 304 and 1xx", "[compare][http]") {
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    const std::string r204 = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
    const std::string r304 = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
    const std::string r100 = "HTTP/1.1 100 Continue\r\n\r\n";
    const std::string r200 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const std::string all = head + r204 + r304 + r100 + r200;
    std::size_t o1 = head.size(), o2 = o1 + r204.size(), o3 = o2 + r304.size(), o4 = o3 + r100.size();
    check_every_split(Protocol::http, all,
                      "0:200 " + std::to_string(o1) + ":204 " + std::to_string(o2) + ":304 " + std::to_string(o3) + ":100 " +
                          std::to_string(o4) + ":200",
                      true);
    // Without the HEAD hint the 1000-byte body swallows the rest.
    CHECK(parse_split(Protocol::http, all, {}) == "0:200");
}

TEST_CASE("HTTP: not a status line, NUL-filled tails desynchronise until an anchor", "[compare][http]") {
    CHECK(parse_split(Protocol::http, "HTXP/1.1 200 OK\r\n\r\n", {}) == "");
    CHECK(parse_split(Protocol::http, "HTTP/1.1 2x0 OK\r\n\r\n", {}) == "");
    // dpintercept: a 24-byte prefix, then zeros.
    const std::string first = "HTTP/1.1 200 OK\r\nContent" + std::string(100, '\0');
    const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    StreamParser p;
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    p.feed(Protocol::http, 0, reinterpret_cast<const std::uint8_t*>(first.data()), first.size(), f);
    CHECK(!p.synchronised());
    p.anchor_here();  // the next release
    p.feed(Protocol::http, static_cast<std::uint32_t>(first.size()), reinterpret_cast<const std::uint8_t*>(second.data()), second.size(), f);
    CHECK(listing(f) == "0:200 124:404");
    CHECK(p.desyncs() == 1);
}

TEST_CASE("RESP: simple types, errors by prefix, nil, nested arrays framed", "[compare][redis]") {
    const std::string all = "+OK\r\n-ERR unknown command 'foo'\r\n:42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n"
                            "*2\r\n*2\r\n:1\r\n$3\r\nabc\r\n-WRONGTYPE Operation\r\n*0\r\n";
    check_every_split(Protocol::redis, all,
                      "0:+ 5:-ERR " + at(all, ":42") + ":: " + at(all, "$5") + ":$ " + at(all, "$-1") + ":nil " + at(all, "*-1") +
                          ":nil " + at(all, "*2") + ":* " + at(all, "*0") + ":*");
    // RESP3: a map of two pairs, a null, a double.
    const std::string resp3 = "%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n_\r\n,3.5\r\n";
    check_every_split(Protocol::redis, resp3, "0:% 24:nil 27:,");
    CHECK(parse_split(Protocol::redis, "+OK\r\n" + std::string(10, '\0'), {}) == "0:+");
    CHECK(parse_split(Protocol::redis, "-\xc3\xa9" "BAD\tX y\r\n", {}) == "0:-..BAD.X");  // printable only
}

// COMMAND DOCS answers maps of arrays of maps... nested deeper than any fixed stack: the
// parser counts the values left, so the next answer is still found where it begins.
TEST_CASE("RESP: aggregates nested 40 deep, then the next answer", "[compare][redis]") {
    std::string deep = "$3\r\nabc\r\n";  // arrays of three (the deeper one in the middle) and maps of one pair
    for (int level = 0; level < 40; ++level)
        deep = level % 2 ? "%1\r\n+key\r\n" + deep : "*3\r\n:1\r\n" + deep + "_\r\n";
    const std::string all = deep + "+OK\r\n" + "*1\r\n" + deep + ":5\r\n";
    check_every_split(Protocol::redis, all, "0:% " + at(all, "+OK") + ":+ " + at(all, "*1\r\n%1") + ":* " + at(all, ":5\r\n") + "::");
}

TEST_CASE("PostgreSQL: ErrorResponse after RowDescription, success at ReadyForQuery", "[compare][postgresql]") {
    const std::string failed = pg('T', std::string(20, 'x')) +
                               pg('E', "SERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0\0"s) + pg('Z', "I");
    const std::string ok = pg('T', std::string(8, 'y')) + pg('D', std::string(10, 'z')) + pg('C', "SELECT 1\0"s) + pg('Z', "I");
    const std::string startup = pg('R', be32(0)) + pg('S', "server_version\0" "16\0"s) + pg('K', be32(1) + be32(2)) + pg('Z', "I");
    const std::string no_code = pg('E', "SFATAL\0\0"s) + pg('Z', "E");
    const std::string all = failed + ok + startup + no_code;
    check_every_split(Protocol::postgresql, all,
                      "0:42P01 " + std::to_string(failed.size()) + ":ok " + std::to_string(failed.size() + ok.size()) + ":ok " +
                          std::to_string(failed.size() + ok.size() + startup.size()) + ":error");
    CHECK(parse_split(Protocol::postgresql, pg('C', "x") + std::string(9, '\0'), {}) == "");
    // SSLRequest refused: a lone 'N', then (after the client's StartupMessage) the startup answer.
    StreamParser p;
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    const std::string startup_answer = pg('R', be32(0)) + pg('Z', "I");
    p.feed(Protocol::postgresql, 0, reinterpret_cast<const std::uint8_t*>("N"), 1, f);
    p.flush_within(0, 1, f);
    p.client_anchor(1);
    p.feed(Protocol::postgresql, 1, reinterpret_cast<const std::uint8_t*>(startup_answer.data()), startup_answer.size(), f);
    CHECK(listing(f) == "0:N 1:ok");
    // Online, the client's next request says the lone byte was the whole answer.
    StreamParser online;
    ResponseFifo g;
    g.attach(pool);
    const std::string both = "S" + startup_answer;
    online.feed(Protocol::postgresql, 0, reinterpret_cast<const std::uint8_t*>(both.data()), 1, g);
    online.client_anchor(1);
    online.feed(Protocol::postgresql, 1, reinterpret_cast<const std::uint8_t*>(both.data()) + 1, both.size() - 1, g);
    CHECK(listing(g) == "0:S 1:ok");
}

TEST_CASE("MySQL: greeting, OK, ERR with its code, result sets, sequence breaks", "[compare][mysql]") {
    const std::string greeting = my(0, "\x0a" "8.0.36\0"s + std::string(30, 'g'));
    const std::string login_ok = my(2, "\x00\x00\x00\x02\x00\x00\x00"s);
    const std::string err = my(1, "\xff\x7a\x04#42S02Table 'db.t' doesn't exist"s);
    const std::string rows = my(1, "\x01"s) + my(2, std::string(20, 'c')) + my(3, "\xfe\x00\x00\x02\x00"s) +
                             my(4, "\x01" "1"s) + my(5, "\xfe\x00\x00\x02\x00"s);
    const std::string ok = my(1, "\x00\x01\x00\x02\x00\x00\x00"s);
    const std::string all = greeting + login_ok + err + rows + ok;
    std::size_t o = 0;
    std::string expected = "0:ok";
    for (const std::string* part : {&greeting, &login_ok, &err, &rows}) {
        o += part->size();
        expected += " " + std::to_string(o) + (part == &login_ok ? ":ERR 1146" : ":ok");
    }
    check_every_split(Protocol::mysql, all, expected);
    CHECK(parse_split(Protocol::mysql, my(1, "\x00\x00"s) + std::string(12, '\0'), {}) == "0:ok");
}

TEST_CASE("Other protocols: FNV-1a of the answer's first 16 bytes", "[compare][other]") {
    CHECK(fnv1a32(reinterpret_cast<const std::uint8_t*>("a"), 1) == 0xe40c292cu);
    const std::string answer = "\x01\x02binary answer that is long";
    char expected[16];
    std::snprintf(expected, sizeof expected, "0:#%08x", fnv1a32(reinterpret_cast<const std::uint8_t*>(answer.data()), 16));
    check_every_split(Protocol::other, answer, expected);
    std::snprintf(expected, sizeof expected, "0:#%08x", fnv1a32(reinterpret_cast<const std::uint8_t*>("short"), 5));
    CHECK(parse_split(Protocol::other, "short", {}) == expected);
}

TEST_CASE("Online stream: duplicates and overlaps skipped, a hole re-anchored by the client", "[compare][anchor]") {
    const std::string r1 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    const std::string r2 = "HTTP/1.1 302 Found\r\nContent-Length: 4\r\n\r\nwxyz";
    const std::string r3 = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    const std::string all = r1 + r2 + r3;
    auto bytes = [&](std::size_t from) { return reinterpret_cast<const std::uint8_t*>(all.data()) + from; };
    const auto o2 = static_cast<std::uint32_t>(r1.size()), o3 = static_cast<std::uint32_t>(r1.size() + r2.size());
    StreamParser p;
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    p.feed(Protocol::http, 0, bytes(0), 20, f);
    p.feed(Protocol::http, 10, bytes(10), 20, f);  // overlaps [10, 20)
    p.feed(Protocol::http, 0, bytes(0), 30, f);    // a repeat
    p.feed(Protocol::http, 30, bytes(30), o2 - 30, f);
    CHECK(listing(f) == "0:200");
    CHECK(p.position() == o2);
    // r2's first 5 bytes are lost: a hole.
    p.feed(Protocol::http, o2 + 5, bytes(o2 + 5), r2.size() - 5, f);
    CHECK(!p.synchronised());
    CHECK(listing(f) == "0:200");
    // The client asks again having received everything up to r3 (not yet captured): r3 starts there.
    p.client_anchor(o3);
    p.feed(Protocol::http, o3, bytes(o3), r3.size(), f);
    CHECK(listing(f) == "0:200 " + std::to_string(o3) + ":404");
    CHECK(p.synchronised());
    CHECK(p.desyncs() == 1);
}

TEST_CASE("Online stream: a client request exactly where a framed answer is parsed re-anchors it", "[compare][anchor]") {
    // HEAD not known: the Content-Length would swallow the next response, the client's next
    // request (sent having received exactly the headers) says where the next one begins.
    const std::string r1 = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n";
    const std::string r2 = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    StreamParser p;
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    p.feed(Protocol::http, 0, reinterpret_cast<const std::uint8_t*>(r1.data()), r1.size(), f);
    p.client_anchor(static_cast<std::uint32_t>(r1.size()));
    p.feed(Protocol::http, static_cast<std::uint32_t>(r1.size()), reinterpret_cast<const std::uint8_t*>(r2.data()), r2.size(), f);
    CHECK(listing(f) == "0:200 " + std::to_string(r1.size()) + ":404");
    // A pipelining client (its offset behind the parser) changes nothing.
    p.client_anchor(3);
    CHECK(p.state() == StreamParser::State::response_start);
}

TEST_CASE("ResponseFifo: statuses of an exchange's range joined, an empty pool makes it unknown", "[compare][fifo]") {
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    Status s200, s404;
    s200.assign("200");
    s404.assign("404");
    f.push(0, s200);
    f.push(100, s404);
    f.push(200, s200);
    JoinedStatus j;
    CHECK(f.take(0, 200, j));
    CHECK(j.view() == "200,404");
    CHECK(!f.take(150, 40, j));  // nothing started in [150, 190)
    CHECK(j.view() == "");
    CHECK(f.size() == 1);
    CHECK(f.take(190, 20, j));
    CHECK(j.view() == "200");
    for (std::uint32_t i = 0; i < 8 + 2; ++i) f.push(1000 + i, s404);
    CHECK(f.overflows() == 2);
    CHECK(f.take(1000, 8, j));  // the first 8 were kept
    CHECK(j.view() == "404,404,404,404,404,404,404,404");
    CHECK(!f.take(1008, 2, j));  // these two were lost
    // Statuses that do not fit in 31 characters are cut, and end with '+'.
    Status wrongtype;
    wrongtype.assign("-WRONGTYPE");
    for (std::uint32_t i = 0; i < 4; ++i) f.push(2000 + i, wrongtype);
    CHECK(f.take(2000, 4, j));
    CHECK(j.view() == "-WRONGTYPE,-WRONGTYPE,-WRONGTY+");
}

TEST_CASE("Parsers survive random bytes, offsets, holes and anchors", "[compare][robustness]") {
    std::mt19937 rng(99);
    auto below = [&rng](std::uint32_t m) { return static_cast<std::uint32_t>(rng() % m); };
    const std::string seeds[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "*3\r\n$3\r\nabc\r\n*1\r\n:1\r\n-ERR x\r\n",
        pg('T', "abc") + pg('E', "C42P01\0\0"s) + pg('Z', "I"),
        my(1, "\x01"s) + my(2, "abc"s) + my(1, "\xff\x01\x02"s),
    };
    for (Protocol proto : {Protocol::http, Protocol::redis, Protocol::postgresql, Protocol::mysql, Protocol::other}) {
        for (int round = 0; round < 300; ++round) {
            std::string stream;
            for (int k = 0; k < 6; ++k) {
                std::string part = seeds[rng() % 4];
                for (char& c : part)
                    if (rng() % 16 == 0) c = static_cast<char>(rng());  // mutate
                stream += part;
            }
            StreamParser p;
            ResponsePool pool(8);  // as many pending statuses as a test needs
            ResponseFifo f;
            f.attach(pool);
            std::uint32_t off = 0;
            while (off < stream.size()) {
                const std::uint32_t n = 1 + below(40);
                const std::uint32_t from = rng() % 8 == 0 ? off - std::min<std::uint32_t>(off, below(20)) : off;  // repeats
                const std::uint32_t len = std::min<std::uint32_t>(n, static_cast<std::uint32_t>(stream.size()) - from);
                if (rng() % 10 != 0) p.feed(proto, from, reinterpret_cast<const std::uint8_t*>(stream.data()) + from, len, f);  // else: a hole
                off = std::max(off, from + len);
                if (rng() % 6 == 0) p.client_anchor(off + below(3));
                if (rng() % 6 == 0) p.anchor_here();
                if (rng() % 5 == 0) {
                    JoinedStatus j;
                    f.take(off - std::min<std::uint32_t>(off, 50), 50, j);
                    p.flush_within(0, off, f);
                }
            }
            CHECK(f.size() <= 8);
        }
    }
}
