// Protocol detection and endpoint naming: collapsed HTTP paths, Redis commands, SQL keywords.
#include <catch2/catch.hpp>

#include <string>

#include "lib/compare/endpoint.hpp"
#include "tests/compare/parser_harness.hpp"

using namespace dpcopy::compare;
using namespace dpcopy::compare::test;
using namespace std::string_literals;

namespace {

HeadBytes bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

RequestDescription describe(const std::string& head) {
    RequestDescription d;
    describe_request(detect_request_protocol(bytes_of(head)), bytes_of(head), d);
    return d;
}

std::string collapsed(std::string_view target) {
    EndpointName n;
    append_collapsed_path(target, n);
    return std::string(n.view());
}

}  // namespace

TEST_CASE("HTTP paths: query dropped, numeric, hex and UUID segments collapsed", "[compare][endpoint]") {
    CHECK(collapsed("/users/17/orders?sort=asc&page=2") == "/users/{id}/orders");
    CHECK(collapsed("/a/deadbeef01/b") == "/a/{id}/b");
    CHECK(collapsed("/a/deadbee/b") == "/a/deadbee/b");  // 7 hex digits: a name
    CHECK(collapsed("/obj/123e4567-e89b-12d3-a456-426614174000") == "/obj/{id}");
    CHECK(collapsed("/obj/123e4567-e89b-12d3-a456-42661417400g") == "/obj/123e4567-e89b-12d3-a456-42661417400g");
    CHECK(collapsed("/v2/items/") == "/v2/items/");
    CHECK(collapsed("/") == "/");
    CHECK(collapsed("http://example.com:8080/x/42#frag") == "/x/{id}");
    CHECK(collapsed("https://example.com") == "/");
    CHECK(collapsed("/12/34/56") == "/{id}/{id}/{id}");
}

TEST_CASE("HTTP requests: METHOD /path, the first line, HEAD", "[compare][endpoint]") {
    const RequestDescription get = describe("GET /users/17?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(get.endpoint.view() == "GET /users/{id}");
    CHECK(get.line.view() == "GET /users/17?x=1 HTTP/1.1");
    CHECK(!get.head);
    const RequestDescription head = describe("HEAD /static/app.js HTTP/1.1\r\n");
    CHECK(head.endpoint.view() == "HEAD /static/app.js");
    CHECK(head.head);
    // A head cut inside the path keeps what it has.
    CHECK(describe("POST /api/v1/orders/99").endpoint.view() == "POST /api/v1/orders/{id}");
    CHECK(detect_request_protocol(bytes_of("get /x HTTP/1.1\r\n"s)) == Protocol::other);
    CHECK(detect_request_protocol(bytes_of("SET hello 1\r\n"s)) == Protocol::other);
}

TEST_CASE("Redis: the command uppercased, the request line from its arguments", "[compare][endpoint]") {
    const std::string get = "*2\r\n$3\r\nget\r\n$7\r\nuser:17\r\n";
    CHECK(detect_request_protocol(bytes_of(get)) == Protocol::redis);
    const RequestDescription d = describe(get);
    CHECK(d.endpoint.view() == "GET");
    CHECK(d.line.view() == "GET user:17");
    CHECK(describe("*3\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\nf").endpoint.view() == "HSET");
}

TEST_CASE("SQL: the first keyword of PostgreSQL queries and MySQL COM_QUERY", "[compare][endpoint]") {
    const std::string q = pg('Q', "  /* c */ -- x\n (select 1)\0"s);
    CHECK(detect_request_protocol(bytes_of(q)) == Protocol::postgresql);
    CHECK(describe(q).endpoint.view() == "SELECT");
    const std::string parse = pg('P', "s1\0update t set a = $1\0"s);
    CHECK(describe(parse).endpoint.view() == "UPDATE");
    CHECK(describe(parse).line.view() == "update t set a = $1");
    const std::string startup = be32(16) + be32(196608) + "user\0u\0"s;
    CHECK(detect_request_protocol(bytes_of(startup)) == Protocol::postgresql);
    CHECK(describe(startup).endpoint.view() == "STARTUP");
    CHECK(describe(be32(8) + be32(80877103)).endpoint.view() == "SSL REQUEST");

    const std::string query = my(0, "\x03insert into t values (1)"s);
    CHECK(detect_request_protocol(bytes_of(query)) == Protocol::mysql);
    CHECK(describe(query).endpoint.view() == "INSERT");
    CHECK(describe(query).line.view() == "insert into t values (1)");
    CHECK(describe(my(0, "\x0e"s)).endpoint.view() == "PING");
    CHECK(describe(my(1, std::string(40, 'L'))).endpoint.view() == "LOGIN");

    EndpointName n;
    CHECK(!append_sql_keyword("  -- only a comment", n));
    CHECK(n.empty());
}

TEST_CASE("Unknown protocols: endpoint other; server-first detection", "[compare][endpoint]") {
    const RequestDescription d = describe("\x16\x03\x01\x02\x00"s);
    CHECK(d.endpoint.view() == "other");
    CHECK(d.line.view() == "....."s);
    CHECK(detect_response_protocol(bytes_of(my(0, "\x0a" "5.7\0"s + std::string(40, 'x')))) == Protocol::mysql);
    CHECK(detect_response_protocol(bytes_of("HTTP/1.1 200 OK\r\n"s)) == Protocol::http);
    CHECK(detect_response_protocol(bytes_of("+PONG\r\n"s)) == Protocol::redis);
    CHECK(detect_response_protocol(bytes_of(pg('R', be32(0)))) == Protocol::postgresql);
    CHECK(detect_response_protocol(bytes_of("SSH-2.0-OpenSSH\r\n"s)) == Protocol::unknown);
}

TEST_CASE("can_begin_answer: answers each protocol can begin with, and binary that refutes it", "[compare][endpoint]") {
    const auto can = [](Protocol p, const std::string& s) { return can_begin_answer(p, bytes_of(s)); };
    CHECK(can(Protocol::http, "HTTP/1.1 200 OK\r\n"));
    CHECK(can(Protocol::http, "HTT"));  // too short to judge
    CHECK_FALSE(can(Protocol::http, "\x00\x01\x02\x03\x04\x05"s));
    CHECK(can(Protocol::redis, "+OK\r\n"));
    CHECK(can(Protocol::redis, ">3\r\n"));  // RESP3 push
    CHECK_FALSE(can(Protocol::redis, "hello"));
    CHECK(can(Protocol::mysql, "\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"s));  // OK to a command
    CHECK(can(Protocol::mysql, "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"s));  // OK to the login
    CHECK(can(Protocol::mysql, "\x4a\x00\x00\x00\x0a" "8.0"s));                     // the greeting
    CHECK_FALSE(can(Protocol::mysql, "\x50\x03\x00\x00\x02\x00\x00\x00aa"s));       // sequence 0, no greeting
    CHECK_FALSE(can(Protocol::mysql, "\x00\x00\x00\x01\x00"s));                     // empty packet
    CHECK(can(Protocol::postgresql, "N"));
    CHECK(can(Protocol::postgresql, pg('Z', "I")));
    CHECK(can(Protocol::postgresql, pg('v', be32(0))));
    CHECK_FALSE(can(Protocol::postgresql, pg('Q', "SELECT 1"s + '\0')));  // a frontend message
    CHECK_FALSE(can(Protocol::postgresql, "T\x00\x00\x00\x02" "xx"s));    // length below 4
    CHECK(can(Protocol::other, "anything"));
}
