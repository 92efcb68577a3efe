#include "apps/common/values.hpp"
#include "temp_files.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace dpcopy::cli;
using dpcopy::net::Ipv4Addr;

static Ipv4Addr ip(const char* s) { return *Ipv4Addr::parse(s); }

TEST_CASE("parse_uint: range and syntax", "[cli][values]") {
    struct Case { const char* text; std::uint64_t min, max; bool ok; std::uint64_t value; };
    const Case cases[] = {
        {"0", 0, 10, true, 0},      {"10", 0, 10, true, 10},   {"11", 0, 10, false, 0},
        {"1", 1, 1, true, 1},       {"0", 1, 5, false, 0},     {"007", 0, 10, true, 7},
        {"", 0, 10, false, 0},      {"-1", 0, 10, false, 0},   {"+1", 0, 10, false, 0},
        {" 1", 0, 10, false, 0},    {"1 ", 0, 10, false, 0},   {"1.0", 0, 10, false, 0},
        {"0x10", 0, 100, false, 0}, {"1e2", 0, 1000, false, 0},
        {"99999999999999999999999", 0, 100, false, 0},
        {"18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX},
    };
    for (const auto& c : cases) {
        INFO("'" << c.text << "' in [" << c.min << "," << c.max << "]");
        const auto r = parse_uint(c.text, c.min, c.max);
        REQUIRE(r.ok() == c.ok);
        if (c.ok) CHECK(*r == c.value);
        else CHECK_THAT(r.error(), Catch::Contains("expected"));
    }
}

TEST_CASE("parse_decimal: plain decimals only", "[cli][values]") {
    struct Case { const char* text; int decimals; bool ok; double value; };
    const Case cases[] = {
        {"1", 2, true, 1},      {"12.5", 2, true, 12.5}, {"0.01", 2, true, 0.01}, {"100", 2, true, 100},
        {"3.", 2, true, 3},     {".5", 2, true, 0.5},    {"0.001", 2, false, 0},  {"101", 2, false, 0},
        {"1e1", 2, false, 0},   {"nan", 2, false, 0},    {"inf", 2, false, 0},    {"-1", 2, false, 0},
        {"", 2, false, 0},      {".", 2, false, 0},      {"1,5", 2, false, 0},    {"0", 2, false, 0},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto r = parse_decimal(c.text, 0.01, 100, c.decimals);
        REQUIRE(r.ok() == c.ok);
        if (c.ok) CHECK(*r == Approx(c.value));
    }
}

TEST_CASE("host addresses, ports, IP/PREFIX, CIDR", "[cli][values]") {
    CHECK(parse_host_ipv4("10.0.0.1").ok());
    for (const char* bad : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.1.1.1", "255.255.255.255",
                            "240.0.0.1", "10.0.0.256", "10.0.0", "a.b.c.d", ""}) {
        INFO(bad);
        CHECK_FALSE(parse_host_ipv4(bad).ok());
    }
    CHECK(parse_port("1")->value() == 1);
    CHECK(parse_port("65535")->value() == 65535);
    CHECK_FALSE(parse_port("0").ok());
    CHECK_FALSE(parse_port("65536").ok());
    CHECK_FALSE(parse_port("http").ok());

    auto a = parse_ifaddr("10.0.0.1/24");
    REQUIRE(a.ok());
    CHECK(a->ip == ip("10.0.0.1"));
    CHECK(a->prefix == 24);
    CHECK(a->network() == ip("10.0.0.0"));
    CHECK(a->broadcast() == ip("10.0.0.255"));
    CHECK(a->on_link(ip("10.0.0.200")));
    CHECK_FALSE(a->on_link(ip("10.0.1.1")));
    CHECK(parse_ifaddr("10.0.0.1/32").ok());
    CHECK(parse_ifaddr("10.0.0.0/31").ok());  // /31: both addresses are hosts (RFC 3021)
    CHECK_THAT(parse_ifaddr("10.0.0.0/24").error(), Catch::Contains("network address"));
    CHECK_THAT(parse_ifaddr("10.0.0.255/24").error(), Catch::Contains("broadcast address"));
    CHECK_THAT(parse_ifaddr("10.0.0.1").error(), Catch::Contains("IP/PREFIX"));
    CHECK_FALSE(parse_ifaddr("10.0.0.1/0").ok());
    CHECK_FALSE(parse_ifaddr("10.0.0.1/33").ok());
    CHECK_FALSE(parse_ifaddr("10.0.0.1/").ok());

    auto c = parse_cidr("10.0.0.0/8");
    REQUIRE(c.ok());
    CHECK(c->contains(ip("10.255.1.1")));
    CHECK_FALSE(c->contains(ip("11.0.0.1")));
    CHECK(parse_cidr("10.1.2.3")->prefix == 32);
    CHECK(parse_cidr("0.0.0.0/0")->contains(ip("8.8.8.8")));
    CHECK_THAT(parse_cidr("10.0.0.1/8").error(), Catch::Contains("did you mean 10.0.0.0/8"));
    auto list = parse_cidr_list("10.0.0.0/8,192.168.1.0/24,10.0.0.0/8");
    REQUIRE(list.ok());
    CHECK(list->size() == 2);
    CHECK_FALSE(parse_cidr_list("10.0.0.0/8,").ok());
}

TEST_CASE("transfer maps: forms and rejections", "[cli][values][transfer]") {
    auto one = parse_transfer_list("80-10.0.0.2:8080");
    REQUIRE(one.ok());
    REQUIRE(one->size() == 1);
    CHECK_FALSE((*one)[0].online_ip.has_value());
    CHECK((*one)[0].online_port.value() == 80);
    CHECK((*one)[0].target_ip == ip("10.0.0.2"));
    CHECK((*one)[0].target_port.value() == 8080);

    auto with_ip = parse_transfer_list("192.168.0.1:80-10.0.0.2:80,443-10.0.0.3:8443");
    REQUIRE(with_ip.ok());
    REQUIRE(with_ip->size() == 2);
    CHECK((*with_ip)[0].online_ip == ip("192.168.0.1"));
    CHECK((*with_ip)[1].to_string() == "443-10.0.0.3:8443");
    CHECK((*with_ip)[0].to_string() == "192.168.0.1:80-10.0.0.2:80");

    // Identical maps merge; the same port with and without an online IP are different keys.
    CHECK(parse_transfer_list("80-10.0.0.2:80,80-10.0.0.2:80")->size() == 1);
    CHECK(parse_transfer_list("80-10.0.0.2:80,10.1.1.1:80-10.0.0.3:80")->size() == 2);

    struct Bad { const char* text; const char* why; };
    const Bad bad[] = {
        {"80-10.0.0.256:80", "10.0.0.256"},
        {"80", "not [ONLINE_IP:]PORT-TARGET_IP:PORT"},
        {"80-10.0.0.2", "must be TARGET_IP:PORT"},
        {"80-10.0.0.2:0", "bad port"},
        {"0-10.0.0.2:80", "bad port"},
        {"65536-10.0.0.2:80", "bad port"},
        {"80-10.0.0.2:80-1", "not [ONLINE_IP:]PORT"},
        {"10.0.0.1-10.0.0.2:80", "needs a port"},
        {"80-127.0.0.1:80", "loopback"},
        {"80-224.0.0.1:80", "multicast"},
        {"0.0.0.0:80-10.0.0.2:80", "0.0.0.0"},
        {"80-10.0.0.2:80,", "empty map"},
        {",80-10.0.0.2:80", "empty map"},
        {"", "empty map"},
        {"80-10.0.0.2:80,80-10.0.0.3:80", "ambiguous"},
        {"x-10.0.0.2:80", "bad port"},
        {"80-10.0.0.2:80 ", "bad port"},
    };
    for (const auto& b : bad) {
        INFO(b.text);
        const auto r = parse_transfer_list(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error(), Catch::Contains(b.why));
    }
    std::string many;
    for (int i = 1; i <= 257; ++i) many += (i > 1 ? "," : "") + std::to_string(i) + "-10.0.0.2:80";
    CHECK_THAT(parse_transfer_list(many).error(), Catch::Contains("more than 256"));
}

TEST_CASE("intercept endpoint lists", "[cli][values]") {
    auto r = parse_endpoint_list("10.0.0.5,10.0.0.6:4000,10.0.0.5");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK_FALSE((*r)[0].port.has_value());
    CHECK((*r)[1].port->value() == 4000);
    for (const char* bad : {"", "10.0.0.5,", "10.0.0.5:0", "10.0.0.5:x", "host:80", "127.0.0.1"}) {
        INFO(bad);
        CHECK_FALSE(parse_endpoint_list(bad).ok());
    }
    std::string many;
    for (int i = 1; i <= 33; ++i) many += (i > 1 ? "," : "") + std::string("10.0.1.") + std::to_string(i);
    CHECK_THAT(parse_endpoint_list(many).error(), Catch::Contains("more than 32"));
}

TEST_CASE("file checks", "[cli][values][files]") {
    char tmpl[] = "/tmp/dpcopy-cli-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    auto write = [](const std::string& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary) << bytes;
    };
    write(dir + "/le.pcap", std::string("\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8));
    write(dir + "/be.pcap", std::string("\xa1\xb2\xc3\xd4", 4));
    write(dir + "/ns.pcap", std::string("\x4d\x3c\xb2\xa1", 4));
    write(dir + "/x.pcapng", std::string("\x0a\x0d\x0d\x0a", 4));
    write(dir + "/text.pcap", "hello world");
    write(dir + "/short.pcap", "ab");
    write(dir + "/key", "s3cret");
    write(dir + "/empty", "");
    write(dir + "/big", std::string(4097, 'k'));
    for (const char* f : {"/le.pcap", "/be.pcap", "/ns.pcap", "/x.pcapng"}) CHECK(check_capture_file(dir + f).ok());
    CHECK_THAT(check_capture_file(dir + "/text.pcap").error(), Catch::Contains("not a pcap"));
    CHECK_THAT(check_capture_file(dir + "/short.pcap").error(), Catch::Contains("too short"));
    CHECK_THAT(check_capture_file(dir + "/missing.pcap").error(), Catch::Contains("no such file"));
    CHECK_THAT(check_capture_file(dir).error(), Catch::Contains("directory"));
    CHECK(check_key_file(dir + "/key").ok());
    CHECK_THAT(check_key_file(dir + "/empty").error(), Catch::Contains("empty"));
    CHECK_THAT(check_key_file(dir + "/big").error(), Catch::Contains("4096"));
    CHECK(check_writable_path(dir + "/new.log").ok());
    CHECK_THAT(check_writable_path(dir + "/nodir/new.log").error(), Catch::Contains("does not exist"));
    CHECK_THAT(check_writable_path(dir).error(), Catch::Contains("directory"));
    for (const char* f : {"/le.pcap", "/be.pcap", "/ns.pcap", "/x.pcapng", "/text.pcap", "/short.pcap", "/key",
                          "/empty", "/big"})
        std::remove((dir + f).c_str());
    std::remove(dir.c_str());
}

TEST_CASE("input files: regular files only, refused before any blocking open", "[cli][values]") {
    // a FIFO without a writer: a plain open() for reading would wait forever
    CHECK_THAT(check_readable_file(cli_test::temp().path("fifo")).error(), Catch::Contains("is a FIFO"));
    CHECK_THAT(check_capture_file(cli_test::temp().path("fifo")).error(), Catch::Contains("is a FIFO"));
    CHECK_THAT(check_key_file(cli_test::temp().path("fifo")).error(), Catch::Contains("is a FIFO"));
    CHECK_THAT(check_readable_file(cli_test::temp().path("dir")).error(), Catch::Contains("is a directory"));
    CHECK_THAT(check_readable_file("/dev/zero").error(), Catch::Contains("is a device"));
    CHECK_THAT(check_readable_file(cli_test::temp().path("missing")).error(), Catch::Contains("no such file"));
    CHECK(check_readable_file(cli_test::temp().path("key")).ok());
    CHECK(check_capture_file(cli_test::temp().path("in.pcap")).ok());
    CHECK(check_key_file(cli_test::temp().path("key")).ok());
    CHECK_THAT(check_key_file(cli_test::temp().path("emptykey")).error(), Catch::Contains("empty"));
    const auto big = cli_test::temp().write("bigkey", std::string(kMaxKeyFileBytes + 1, 'k'));
    CHECK_THAT(check_key_file(big).error(), Catch::Contains("larger than 4096 bytes"));
    CHECK(check_key_file(cli_test::temp().write("fullkey", std::string(kMaxKeyFileBytes, 'k'))).ok());
    auto head = read_file_head(cli_test::temp().path("key"), 4);
    REQUIRE(head.ok());
    CHECK(*head == "0123");
}

TEST_CASE("transfer maps: a target that is an online service is refused", "[cli][values]") {
    CHECK_THAT(parse_transfer_list("10.1.1.1:80-10.1.1.1:80").error(), Catch::Contains("online service itself"));
    CHECK_THAT(parse_transfer_list("10.1.1.1:80-10.1.1.2:80,10.1.1.2:80-10.1.1.1:80").error(),
               Catch::Contains("copied again"));
    CHECK_THAT(parse_transfer_list("10.1.1.3:80-10.1.1.2:80,10.1.1.2:80-10.1.1.4:80").error(),
               Catch::Contains("the target of '10.1.1.3:80-10.1.1.2:80' is the online service of '10.1.1.2:80-10.1.1.4:80'"));
    CHECK(parse_transfer_list("10.1.1.1:80-10.1.1.1:81").ok());
    CHECK(parse_transfer_list("80-10.0.0.2:80").ok());
    CHECK(parse_transfer_list("10.1.1.1:80-10.1.1.2:80,10.1.1.2:81-10.1.1.4:80").ok());
    CHECK(transfer_loop_reason({}).empty());
}
