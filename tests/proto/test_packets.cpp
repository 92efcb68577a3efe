// Hand-built packets for every branch of the connection-phase parsers, and hostile inputs:
// every prefix, every self-consistent truncation, seeded random mutations.
#include <catch2/catch.hpp>

#include <random>

#include "tests/fuzz/mysql_harness.hpp"
#include "tests/proto/proto_util.hpp"

using namespace dpcopy::proto::mysql;
using namespace ptest;

namespace {

Greeting parsed_greeting(const Buf& b, GreetingStatus want = GreetingStatus::ok) {
    Greeting g;
    REQUIRE(parse_greeting(cb(b), g) == want);
    return g;
}

Login parsed_login(const Buf& b, LoginStatus want = LoginStatus::ok) {
    Login l;
    REQUIRE(parse_login(cb(b), l) == want);
    return l;
}

// The packet with its payload cut to `n` bytes and the header saying so.
Buf reframed(const Buf& pkt, std::size_t n) {
    Buf payload(pkt.begin() + 4, pkt.begin() + 4 + static_cast<std::ptrdiff_t>(n));
    return packet(pkt[3], payload);
}

Buf with(Buf b, std::size_t at, std::uint8_t v) {
    b[at] = v;
    return b;
}

}  // namespace

TEST_CASE("greeting: MySQL 8 style, every field", "[greeting]") {
    GreetingSpec spec;
    Buf b = greeting(spec);
    const std::size_t len = b.size();
    b.push_back(0x42);  // bytes after the greeting are not its own
    const Greeting g = parsed_greeting(b);
    CHECK(g.packet_len == len);
    CHECK(g.protocol == 10);
    CHECK(str(g.version.in(cb(b))) == "8.0.36");
    CHECK(g.connection_id == 0x01020304);
    CHECK(g.capabilities == spec.caps);
    CHECK(g.mariadb_capabilities == 0);
    CHECK(g.charset == 255);
    CHECK(g.status_flags == 2);
    CHECK(g.plugin == AuthPlugin::caching_sha2);
    CHECK(str(g.plugin_name.in(cb(b))) == "caching_sha2_password");
    CHECK(Buf(g.scramble_bytes().begin(), g.scramble_bytes().end()) == spec.scramble);
}

TEST_CASE("greeting: MariaDB's extended capabilities, native plugin", "[greeting]") {
    GreetingSpec spec;
    spec.version = "5.5.5-10.11.19-MariaDB";
    spec.caps &= ~cap::client_mysql;
    spec.mariadb_caps = 0x1d;
    spec.plugin = "mysql_native_password";
    const Greeting g = parsed_greeting(greeting(spec));
    CHECK(g.mariadb_capabilities == 0x1d);
    CHECK(g.plugin == AuthPlugin::native);
    CHECK(g.scramble_len == 20);
}

TEST_CASE("greeting: the forms without a plugin name or a second scramble part", "[greeting]") {
    SECTION("no CLIENT_PLUGIN_AUTH: native implied, 13-byte part 2") {
        GreetingSpec spec;
        spec.caps &= ~cap::plugin_auth;
        spec.auth_len = 0;
        const Greeting g = parsed_greeting(greeting(spec));
        CHECK(g.plugin == AuthPlugin::native);
        CHECK(g.plugin_name.len == 0);
        CHECK(Buf(g.scramble_bytes().begin(), g.scramble_bytes().end()) == spec.scramble);
    }
    SECTION("pre-4.1 short greeting: 8-byte scramble, lower flags only") {
        GreetingSpec spec;
        spec.caps = cap::protocol_41;
        spec.short_form = true;
        const Greeting g = parsed_greeting(greeting(spec));
        CHECK(g.capabilities == cap::protocol_41);
        CHECK(g.scramble_len == 8);
        CHECK(g.plugin == AuthPlugin::none);
    }
    SECTION("no CLIENT_SECURE_CONNECTION: 8 bytes, no plugin") {
        GreetingSpec spec;
        spec.caps = cap::protocol_41;
        const Greeting g = parsed_greeting(greeting(spec));
        CHECK(g.scramble_len == 8);
        CHECK(g.plugin == AuthPlugin::none);
    }
    SECTION("plugin name without its NUL (MySQL 5.5.7-5.5.9) runs to the end") {
        GreetingSpec spec;
        spec.plugin = "mysql_native_password";
        spec.plugin_nul = false;
        const Buf b = greeting(spec);
        const Greeting g = parsed_greeting(b);
        CHECK(str(g.plugin_name.in(cb(b))) == "mysql_native_password");
        CHECK(g.plugin == AuthPlugin::native);
    }
    SECTION("another plugin; a longer scramble part 2 from auth_len") {
        GreetingSpec spec;
        spec.plugin = "client_ed25519";
        spec.auth_len = 33;
        spec.scramble = Buf(32, 0x55);
        const Greeting g = parsed_greeting(greeting(spec));
        CHECK(g.plugin == AuthPlugin::other);
        CHECK(g.scramble_len == 32);
    }
}

TEST_CASE("greeting: ERR in its place, and what is not a greeting", "[greeting]") {
    Buf err{0xFF};
    put_le(err, 1040, 2);
    put(err, "Too many connections", false);
    const Greeting g = parsed_greeting(packet(0, err), GreetingStatus::server_error);
    CHECK(g.error_code == 1040);
    CHECK(parsed_greeting(packet(0, {0xFF, 0x10}), GreetingStatus::not_mysql).error_code == 0);

    const Buf good = greeting();
    parsed_greeting(with(good, 3, 1), GreetingStatus::not_mysql);                    // sequence id
    parsed_greeting(with(good, 4, 9), GreetingStatus::not_mysql);                    // protocol 9
    parsed_greeting(packet(0, {}), GreetingStatus::not_mysql);                       // empty payload
    parsed_greeting(packet(0, Buf(max_greeting_payload + 1, 10)), GreetingStatus::not_mysql);
    parsed_greeting(bytes_of("GET / HTTP/1.1\r\n"), GreetingStatus::not_mysql);     // another protocol
    parsed_greeting(packet(0, Buf{10, 'a', 'b'}), GreetingStatus::not_mysql);        // version without NUL
    GreetingSpec spec;
    const Buf payload = greeting_payload(spec);
    // cut inside the reserved bytes / inside scramble part 2: framing says complete, fields do not fit
    parsed_greeting(reframed(greeting(spec), payload.size() - 30), GreetingStatus::not_mysql);
    parsed_greeting(reframed(greeting(spec), payload.size() - 25), GreetingStatus::not_mysql);
}

TEST_CASE("greeting: every prefix is incomplete, every reframed cut is safe", "[greeting][hostile]") {
    const Buf b = greeting();
    for (std::size_t n = 0; n < b.size(); ++n) {
        Greeting g;
        INFO(n);
        CHECK(parse_greeting(ConstBytes(b.data(), n), g) == GreetingStatus::incomplete);
    }
    for (std::size_t n = 1; n < b.size() - 4; ++n) {
        const Buf r = reframed(b, n);
        INFO(n);
        CHECK(dpcopy_fuzz::fuzz_one(r.data(), r.size()));
    }
}

TEST_CASE("login: lenenc auth, database, plugin, attributes", "[login]") {
    LoginSpec spec;
    spec.attrs = {3, 'a', 'b', 'c'};
    Buf b = login(spec);
    const std::size_t len = b.size();
    put(b, packet(0, {0x03, 'S', 'E', 'L'}));
    const Login l = parsed_login(b);
    CHECK(l.packet_len == len);
    CHECK(l.seq == 1);
    CHECK(l.capabilities == spec.caps);
    CHECK(l.max_packet == spec.max_packet);
    CHECK(l.charset == 45);
    CHECK(l.mariadb_capabilities == 0);
    CHECK(str(l.user.in(cb(b))) == "alice");
    CHECK(l.user.off == 36);
    CHECK(l.auth_form == AuthForm::lenenc);
    CHECK(l.auth.off == 36 + 6 + 1);
    CHECK(Buf(l.auth.in(cb(b)).begin(), l.auth.in(cb(b)).end()) == spec.auth);
    CHECK(l.has_database);
    CHECK(str(l.database.in(cb(b))) == "shop");
    CHECK(l.has_plugin);
    CHECK(str(l.plugin_name.in(cb(b))) == "mysql_native_password");
    CHECK(l.plugin == AuthPlugin::native);
}

TEST_CASE("login: the three auth-length forms", "[login]") {
    SECTION("lenenc with a 2-byte length") {
        LoginSpec spec;
        spec.auth = Buf(300, 7);
        const Buf b = login(spec);
        const Login l = parsed_login(b);
        CHECK(l.auth.len == 300);
        CHECK(l.auth.off == 36 + 6 + 3);
        CHECK(str(l.database.in(cb(b))) == "shop");
    }
    SECTION("CLIENT_SECURE_CONNECTION: one length byte") {
        LoginSpec spec;
        spec.caps &= ~cap::plugin_auth_lenenc;
        spec.plugin = "caching_sha2_password";
        spec.auth = Buf(32, 9);
        const Login l = parsed_login(login(spec));
        CHECK(l.auth_form == AuthForm::one_byte);
        CHECK(l.auth.len == 32);
        CHECK(l.plugin == AuthPlugin::caching_sha2);
    }
    SECTION("neither: NUL-terminated, old scrambling without a plugin") {
        LoginSpec spec;
        spec.caps = cap::protocol_41 | cap::connect_with_db;
        spec.auth = bytes_of("abcdefgh");
        const Buf b = login(spec);
        const Login l = parsed_login(b);
        CHECK(l.auth_form == AuthForm::nul_terminated);
        CHECK(str(l.auth.in(cb(b))) == "abcdefgh");
        CHECK(str(l.database.in(cb(b))) == "shop");
        CHECK_FALSE(l.has_plugin);
        CHECK(l.plugin == AuthPlugin::none);
    }
    SECTION("NUL-terminated response running to the end of the packet") {
        Buf p = login_payload([] {
            LoginSpec s;
            s.caps = cap::protocol_41;
            s.auth = {};
            return s;
        }());
        p.pop_back();  // the auth response's NUL
        put(p, "xyz", false);
        const Buf b = packet(1, p);
        const Login l = parsed_login(b);
        CHECK(str(l.auth.in(cb(b))) == "xyz");
    }
}

TEST_CASE("login: optional fields left off or unended", "[login]") {
    SECTION("flags say database and plugin, the packet ends after the auth response") {
        LoginSpec spec;
        spec.caps &= ~(cap::connect_with_db | cap::plugin_auth);
        Buf b = login(spec);
        b[4] = static_cast<std::uint8_t>(b[4] | cap::connect_with_db);
        b[6] = static_cast<std::uint8_t>(b[6] | (cap::plugin_auth >> 16));
        const Login l = parsed_login(b);
        CHECK_FALSE(l.has_database);
        CHECK_FALSE(l.has_plugin);
        CHECK(l.plugin == AuthPlugin::native);  // secure connection, no name
    }
    SECTION("plugin name without its NUL") {
        LoginSpec spec;
        spec.caps &= ~cap::connect_attrs;
        spec.trailing_nul = false;
        spec.plugin = "caching_sha2_password";
        const Buf b = login(spec);
        const Login l = parsed_login(b);
        CHECK(str(l.plugin_name.in(cb(b))) == "caching_sha2_password");
        CHECK(l.plugin == AuthPlugin::caching_sha2);
    }
    SECTION("empty plugin name: native; unknown name: other") {
        LoginSpec spec;
        spec.plugin = "";
        CHECK(parsed_login(login(spec)).plugin == AuthPlugin::native);
        spec.plugin = "client_ed25519";
        CHECK(parsed_login(login(spec)).plugin == AuthPlugin::other);
    }
    SECTION("MariaDB's extended capabilities in the filler") {
        LoginSpec spec;
        spec.caps &= ~cap::client_mysql;
        spec.mariadb_caps = 0x1d;
        CHECK(parsed_login(login(spec)).mariadb_capabilities == 0x1d);
    }
}

TEST_CASE("login: SSLRequest, pre-4.1 and what is not a login", "[login]") {
    LoginSpec spec;
    spec.caps |= cap::ssl;
    const Buf full = login(spec);
    const Buf ssl_request(full.begin(), full.begin() + 36);
    CHECK(parsed_login(reframed(ssl_request, 32), LoginStatus::tls).packet_len == 36);
    parsed_login(full, LoginStatus::tls);  // CLIENT_SSL: the server starts TLS whatever follows

    Buf old{0x05, 0x00, 0xff, 0xff, 0xff};  // 2-byte flags without PROTOCOL_41, max packet
    put(old, "bob");
    parsed_login(packet(1, old), LoginStatus::unsupported);
    parsed_login(packet(1, {0x05, 0x00}), LoginStatus::not_login);
    parsed_login(packet(1, {0x05}), LoginStatus::not_login);

    const Buf good = login();
    parsed_login(with(good, 3, 0), LoginStatus::not_login);                     // sequence id 0
    parsed_login(with(good, 3, 2), LoginStatus::not_login);                     // sequence id 2
    parsed_login(with(good, 4 + 9, 1), LoginStatus::not_login);                 // filler not zero
    parsed_login(reframed(good, 31), LoginStatus::not_login);                   // shorter than 32
    parsed_login(reframed(good, 34), LoginStatus::not_login);                   // unended user
    parsed_login(packet(1, Buf(max_login_payload + 1, 0)), LoginStatus::not_login);
    const std::size_t len_at = 36 + 6;                                          // the lenenc auth length
    for (std::uint8_t bad : {std::uint8_t{0xFB}, std::uint8_t{0xFF}, std::uint8_t{0xFD}, std::uint8_t{0xFE},
                             std::uint8_t{0xFA}}) {
        INFO(int(bad));
        parsed_login(with(good, len_at, bad), LoginStatus::not_login);
    }
    LoginSpec one;
    one.caps &= ~cap::plugin_auth_lenenc;
    one.caps &= ~(cap::connect_with_db | cap::plugin_auth | cap::connect_attrs);
    parsed_login(with(login(one), len_at, 21), LoginStatus::not_login);         // one-byte length past the end
}

TEST_CASE("login: every prefix is incomplete, every reframed cut is safe", "[login][hostile]") {
    LoginSpec spec;
    spec.attrs = {3, 'a', 'b', 'c'};
    const Buf b = login(spec);
    for (std::size_t n = 0; n < b.size(); ++n) {
        Login l;
        INFO(n);
        CHECK(parse_login(ConstBytes(b.data(), n), l) == LoginStatus::incomplete);
    }
    for (std::size_t n = 0; n < b.size() - 4; ++n) {
        const Buf r = reframed(b, n);
        INFO(n);
        CHECK(dpcopy_fuzz::fuzz_one(r.data(), r.size()));
    }
}

TEST_CASE("reply: every kind", "[reply]") {
    const Buf ok = packet(2, {0, 0, 0, 2, 0, 0, 0});
    Reply r = classify_login_reply(cb(ok));
    CHECK(r.kind == ReplyKind::ok);
    CHECK(r.seq == 2);
    CHECK(r.packet_len == ok.size());

    Buf e{0xFF, 0x15, 0x04};
    put(e, "#28000Access denied", false);
    const Buf err = packet(2, e);
    r = classify_login_reply(cb(err));
    CHECK(r.kind == ReplyKind::err);
    CHECK(r.error_code == 1045);
    CHECK(str(r.sql_state.in(cb(err))) == "28000");
    CHECK(str(r.message.in(cb(err))) == "Access denied");

    Buf e320{0xFF, 0x15, 0x04};
    put(e320, "Access denied", false);
    const Buf err320 = packet(2, e320);
    r = classify_login_reply(cb(err320));
    CHECK(r.kind == ReplyKind::err);
    CHECK(r.sql_state.len == 0);
    CHECK(str(r.message.in(cb(err320))) == "Access denied");

    CHECK(classify_login_reply(cb(packet(2, {0xFF, 0x15}))).kind == ReplyKind::unknown);
    CHECK(classify_login_reply(cb(packet(2, {0xFE}))).kind == ReplyKind::auth_switch);
    CHECK(classify_login_reply(cb(packet(2, {0x01, 0x03}))).kind == ReplyKind::fast_auth_ok);
    CHECK(classify_login_reply(cb(packet(2, {0x01, 0x04}))).kind == ReplyKind::full_auth_needed);
    CHECK(classify_login_reply(cb(packet(2, {0x01, 0x05}))).kind == ReplyKind::more_data);
    CHECK(classify_login_reply(cb(packet(2, {0x01}))).kind == ReplyKind::more_data);
    CHECK(classify_login_reply(cb(packet(4, bytes_of("\x01-----BEGIN PUBLIC KEY-----")))).kind == ReplyKind::more_data);

    // Unknown as soon as the kind byte is there; the length still tells where it ends.
    const Reply u = classify_login_reply(cb(Buf{0x10, 0, 0, 2, 0x05}));
    CHECK(u.kind == ReplyKind::unknown);
    CHECK(u.packet_len == 20);
    CHECK(classify_login_reply(cb(packet(2, {}))).kind == ReplyKind::unknown);
    CHECK(classify_login_reply(cb(packet(2, Buf(max_reply_payload + 1, 0)))).kind == ReplyKind::unknown);
    for (std::size_t n = 0; n < err.size(); ++n) {
        INFO(n);
        CHECK(classify_login_reply(ConstBytes(err.data(), n)).kind == ReplyKind::incomplete);
    }
}

TEST_CASE("auth switch: new form, old form, and what is not one", "[switch]") {
    Buf p{0xFE};
    put(p, "mysql_native_password");
    put(p, scramble20(0x30));
    p.push_back(0);
    const Buf b = packet(2, p);
    AuthSwitch sw;
    REQUIRE(parse_auth_switch(cb(b), sw) == SwitchStatus::ok);
    CHECK(sw.seq == 2);
    CHECK(sw.packet_len == b.size());
    CHECK(sw.plugin == AuthPlugin::native);
    CHECK(Buf(sw.scramble_bytes().begin(), sw.scramble_bytes().end()) == scramble20(0x30));

    Buf p2{0xFE};
    put(p2, "client_ed25519");
    put(p2, Buf(32, 0x11));  // no trailing NUL: all of it is data
    REQUIRE(parse_auth_switch(cb(packet(2, p2)), sw) == SwitchStatus::ok);
    CHECK(sw.plugin == AuthPlugin::other);
    CHECK(sw.scramble_len == 32);

    REQUIRE(parse_auth_switch(cb(packet(2, {0xFE})), sw) == SwitchStatus::ok);
    CHECK(sw.plugin == AuthPlugin::other);
    CHECK(sw.plugin_name.len == 0);
    CHECK(sw.scramble_len == 0);

    CHECK(parse_auth_switch(cb(packet(2, bytes_of("\xFEno-nul"))), sw) == SwitchStatus::not_switch);
    CHECK(parse_auth_switch(cb(packet(2, {0x00, 0, 0})), sw) == SwitchStatus::not_switch);
    CHECK(parse_auth_switch(cb(packet(2, {})), sw) == SwitchStatus::not_switch);
    CHECK(parse_auth_switch(cb(packet(2, Buf(max_reply_payload + 1, 0xFE))), sw) == SwitchStatus::not_switch);
    Buf big{0xFE};
    put(big, "x");
    put(big, Buf(max_scramble + 1, 1));
    CHECK(parse_auth_switch(cb(packet(2, big)), sw) == SwitchStatus::not_switch);
    big.back() = 0;  // the trailing NUL is not data: 255 bytes fit
    CHECK(parse_auth_switch(cb(packet(2, big)), sw) == SwitchStatus::ok);
    CHECK(sw.scramble_len == max_scramble);
    for (std::size_t n = 0; n < b.size(); ++n) {
        INFO(n);
        CHECK(parse_auth_switch(ConstBytes(b.data(), n), sw) == SwitchStatus::incomplete);
    }
}

TEST_CASE("hostile: seeded random mutations of every packet shape keep the invariants", "[hostile]") {
    LoginSpec nul_form;
    nul_form.caps = cap::protocol_41 | cap::connect_with_db;
    LoginSpec one_byte;
    one_byte.caps &= ~cap::plugin_auth_lenenc;
    GreetingSpec maria;
    maria.caps &= ~cap::client_mysql;
    Buf sw{0xFE};
    put(sw, "mysql_native_password");
    put(sw, scramble20());
    const std::vector<Buf> shapes = {greeting(), greeting(maria), login(), login(nul_form), login(one_byte),
                                     packet(2, sw), packet(2, {0x01, 0x03}), packet(2, {0xFF, 0x15, 0x04, '#', '2', '8', '0', '0', '0', 'x'})};
    std::mt19937 rng(7);
    for (std::size_t s = 0; s < shapes.size(); ++s) {
        for (int i = 0; i < 5000; ++i) {
            Buf m = shapes[s];
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits; ++e) {
                const std::size_t at = 4 + rng() % (m.size() - 4);  // keep the framing: reach the fields
                m[at] = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() % 3 : rng());
            }
            if (rng() % 4 == 0) m.resize(4 + rng() % (m.size() - 4));
            INFO("shape " << s << " mutation " << i);
            REQUIRE(dpcopy_fuzz::fuzz_one(m.data(), m.size()));
        }
    }
    std::vector<std::uint8_t> noise(64);
    for (int i = 0; i < 20000; ++i) {
        for (auto& x : noise) x = static_cast<std::uint8_t>(rng());
        const std::size_t n = rng() % noise.size();
        REQUIRE(dpcopy_fuzz::fuzz_one(noise.data(), n));
    }
}
