// Known answers from real logins recorded by tests/proto/data/record.sh (see the README
// there): mariadbd 10.11 and the mariadb client (libmariadb) for mysql_native_password, the
// auth switch, a rejected password and TLS; libmariadb's caching_sha2_password plugin against
// a scripted MySQL-8-style greeting for caching_sha2. The auth bytes here were computed by
// those programs, and the server accepted or refused them; compute_auth must agree.
#include <catch2/catch.hpp>

#include <random>

#include "tests/fuzz/mysql_harness.hpp"
#include "tests/proto/proto_util.hpp"

using namespace dpcopy::proto::mysql;
using namespace ptest;

namespace {

constexpr std::string_view known_password = "Known:pass-1";  // record.sh's $PASS

struct Recorded {
    Streams s;
    Greeting greeting;
    Login login;
    LoginStatus login_status = LoginStatus::incomplete;
    ConstBytes after_greeting;  // the server's bytes after its greeting
};

Recorded load(const std::string& name) {
    Recorded r;
    r.s = read_streams(name);
    INFO(name << ": " << r.s.error);
    REQUIRE(r.s.error.empty());
    REQUIRE(parse_greeting(cb(r.s.s2c), r.greeting) == GreetingStatus::ok);
    r.login_status = parse_login(cb(r.s.c2s), r.login);
    r.after_greeting = cb(r.s.s2c).subspan(r.greeting.packet_len);
    return r;
}

Buf auth_for(AuthPlugin plugin, std::string_view password, ConstBytes scramble) {
    Buf out(max_auth_len);
    const AuthResult r = compute_auth(plugin, sv(password), scramble, mb(out));
    REQUIRE(r.error == AuthError::ok);
    out.resize(r.len);
    return out;
}

Buf captured_auth(const Recorded& r) { return Buf(r.login.auth.in(cb(r.s.c2s)).begin(), r.login.auth.in(cb(r.s.c2s)).end()); }

void check_mariadb_greeting(const Recorded& r) {
    const Greeting& g = r.greeting;
    CHECK(g.protocol == 10);
    CHECK(str(g.version.in(cb(r.s.s2c))).find("-MariaDB") != std::string::npos);
    CHECK((g.capabilities & cap::client_mysql) == 0);  // MariaDB: extended capabilities follow
    CHECK(g.mariadb_capabilities != 0);
    CHECK((g.capabilities & cap::plugin_auth) != 0);
    CHECK(g.plugin == AuthPlugin::native);
    CHECK(str(g.plugin_name.in(cb(r.s.s2c))) == "mysql_native_password");
    CHECK(g.scramble_len == scramble_size);
    CHECK(g.packet_len == r.s.s2c[0] + 4U);
}

}  // namespace

TEST_CASE("recorded: mariadbd accepted the native login, and compute_auth gives its bytes", "[known]") {
    const Recorded r = load("mariadb_native_ok.pcap");
    check_mariadb_greeting(r);
    REQUIRE(r.login_status == LoginStatus::ok);
    const ConstBytes c2s = cb(r.s.c2s);
    CHECK(str(r.login.user.in(c2s)) == "dpc_native");
    CHECK(r.login.has_database);
    CHECK(str(r.login.database.in(c2s)) == "dpc");
    CHECK(r.login.has_plugin);
    CHECK(r.login.plugin == AuthPlugin::native);
    CHECK(r.login.auth_form == AuthForm::lenenc);
    CHECK(r.login.auth.len == 20);
    CHECK(r.login.packet_len == r.s.c2s[0] + 4U);
    CHECK(auth_for(AuthPlugin::native, known_password, r.greeting.scramble_bytes()) == captured_auth(r));

    const Reply reply = classify_login_reply(r.after_greeting);
    CHECK(reply.kind == ReplyKind::ok);
    CHECK(reply.seq == 2);

    // Rewriting for the server the login was made for reproduces the client's packet exactly.
    Buf copy = r.s.c2s;
    CHECK(rewrite_login(mb(copy), r.login, sv(known_password), r.greeting) == RewriteStatus::ok);
    CHECK(copy == r.s.c2s);

    // For another server's scramble only the auth bytes change, to that scramble's answer.
    const Recorded other = load("mariadb_native_wrong.pcap");
    REQUIRE(other.greeting.scramble_bytes().size() == scramble_size);
    REQUIRE(!std::equal(other.greeting.scramble.begin(), other.greeting.scramble.begin() + 20, r.greeting.scramble.begin()));
    CHECK(rewrite_login(mb(copy), r.login, sv(known_password), other.greeting) == RewriteStatus::ok);
    const Buf want = auth_for(AuthPlugin::native, known_password, other.greeting.scramble_bytes());
    CHECK(Buf(copy.begin() + r.login.auth.off, copy.begin() + r.login.auth.off + 20) == want);
    CHECK(std::equal(copy.begin(), copy.begin() + r.login.auth.off, r.s.c2s.begin()));
    CHECK(std::equal(copy.begin() + r.login.auth.off + 20, copy.end(), r.s.c2s.begin() + r.login.auth.off + 20));
}

TEST_CASE("recorded: a wrong password is refused with ERR 1045, and its bytes are that password's", "[known]") {
    const Recorded r = load("mariadb_native_wrong.pcap");
    check_mariadb_greeting(r);
    REQUIRE(r.login_status == LoginStatus::ok);
    CHECK_FALSE(r.login.has_database);
    CHECK(auth_for(AuthPlugin::native, "wrong-password", r.greeting.scramble_bytes()) == captured_auth(r));
    CHECK(auth_for(AuthPlugin::native, known_password, r.greeting.scramble_bytes()) != captured_auth(r));

    const Reply reply = classify_login_reply(r.after_greeting);
    REQUIRE(reply.kind == ReplyKind::err);
    CHECK(reply.error_code == 1045);
    CHECK(str(reply.sql_state.in(r.after_greeting)) == "28000");
    CHECK(str(reply.message.in(r.after_greeting)).rfind("Access denied for user 'dpc_native'", 0) == 0);
    CHECK(reply.packet_len == r.after_greeting.size());
}

TEST_CASE("recorded: a passwordless account's login needs no rewrite", "[known]") {
    const Recorded r = load("mariadb_empty.pcap");
    REQUIRE(r.login_status == LoginStatus::ok);
    CHECK(str(r.login.user.in(cb(r.s.c2s))) == "dpc_empty");
    CHECK(r.login.auth.len == 0);
    Buf out(max_auth_len);
    CHECK(compute_auth(AuthPlugin::native, {}, r.greeting.scramble_bytes(), mb(out)).len == 0);
    Buf copy = r.s.c2s;
    CHECK(rewrite_login(mb(copy), r.login, {}, r.greeting) == RewriteStatus::ok);
    CHECK(copy == r.s.c2s);
    CHECK(rewrite_login(mb(copy), r.login, sv(known_password), r.greeting) == RewriteStatus::length_differs);
    CHECK(copy == r.s.c2s);
    CHECK(classify_login_reply(r.after_greeting).kind == ReplyKind::ok);
}

TEST_CASE("recorded: mariadbd's auth switch is answered with compute_auth's bytes", "[known]") {
    const Recorded r = load("mariadb_switch.pcap");
    REQUIRE(r.login_status == LoginStatus::ok);
    // The client made its first response for caching_sha2 without a scramble: empty.
    CHECK(r.login.plugin == AuthPlugin::caching_sha2);
    CHECK(r.login.auth.len == 0);
    Buf copy = r.s.c2s;
    CHECK(rewrite_login(mb(copy), r.login, sv(known_password), r.greeting) == RewriteStatus::length_differs);
    CHECK(copy == r.s.c2s);

    const Reply reply = classify_login_reply(r.after_greeting);
    REQUIRE(reply.kind == ReplyKind::auth_switch);
    CHECK(reply.seq == 2);
    AuthSwitch sw;
    REQUIRE(parse_auth_switch(r.after_greeting, sw) == SwitchStatus::ok);
    CHECK(sw.plugin == AuthPlugin::native);
    CHECK(str(sw.plugin_name.in(r.after_greeting)) == "mysql_native_password");
    CHECK(Buf(sw.scramble_bytes().begin(), sw.scramble_bytes().end()) ==
          Buf(r.greeting.scramble_bytes().begin(), r.greeting.scramble_bytes().end()));

    // The client's answer (its second packet, seq 3) is what make_auth_response builds.
    const std::vector<Buf> client = packets(r.s.c2s);
    REQUIRE(client.size() >= 2);
    const Buf& answer = client[1];
    Buf made(header_size + max_auth_len);
    const AuthResult m = make_auth_response(mb(made), 3, sw.plugin, sv(known_password), sw.scramble_bytes());
    REQUIRE(m.error == AuthError::ok);
    made.resize(m.len);
    CHECK(made == answer);
    Buf answer_copy = answer;
    CHECK(rewrite_auth_response(mb(answer_copy), sw.plugin, sv(known_password), sw.scramble_bytes()) == RewriteStatus::ok);
    CHECK(answer_copy == answer);

    const Reply after = classify_login_reply(r.after_greeting.subspan(reply.packet_len));
    CHECK(after.kind == ReplyKind::ok);
    CHECK(after.seq == 4);
}

TEST_CASE("recorded: an SSLRequest is reported as tls", "[known]") {
    const Recorded r = load("mariadb_tls.pcap");
    CHECK((r.greeting.capabilities & cap::ssl) != 0);
    CHECK(r.login_status == LoginStatus::tls);
    CHECK(r.login.packet_len == 36);
    CHECK((r.login.capabilities & cap::ssl) != 0);
}

TEST_CASE("recorded: libmariadb's caching_sha2 response is compute_auth's", "[known]") {
    const Recorded r = load("fake8_sha2_ok.pcap");
    CHECK(r.greeting.plugin == AuthPlugin::caching_sha2);
    CHECK((r.greeting.capabilities & cap::client_mysql) != 0);
    CHECK(r.greeting.mariadb_capabilities == 0);
    CHECK(r.greeting.scramble_len == scramble_size);
    REQUIRE(r.login_status == LoginStatus::ok);
    CHECK(r.login.plugin == AuthPlugin::caching_sha2);
    CHECK(r.login.auth.len == 32);
    CHECK(auth_for(AuthPlugin::caching_sha2, known_password, r.greeting.scramble_bytes()) == captured_auth(r));
    Buf copy = r.s.c2s;
    CHECK(rewrite_login(mb(copy), r.login, sv(known_password), r.greeting) == RewriteStatus::ok);
    CHECK(copy == r.s.c2s);

    const Reply fast = classify_login_reply(r.after_greeting);
    CHECK(fast.kind == ReplyKind::fast_auth_ok);
    CHECK(fast.seq == 2);
    CHECK(fast.packet_len == 6);
    const Reply ok = classify_login_reply(r.after_greeting.subspan(fast.packet_len));
    CHECK(ok.kind == ReplyKind::ok);
    CHECK(ok.seq == 3);
}

TEST_CASE("recorded: libmariadb's caching_sha2 login without a password is empty", "[known]") {
    const Recorded r = load("fake8_sha2_empty.pcap");
    REQUIRE(r.login_status == LoginStatus::ok);
    CHECK(r.login.plugin == AuthPlugin::caching_sha2);
    CHECK(r.login.auth.len == 0);
    Buf copy = r.s.c2s;
    CHECK(rewrite_login(mb(copy), r.login, {}, r.greeting) == RewriteStatus::ok);
    CHECK(copy == r.s.c2s);
    CHECK(classify_login_reply(r.after_greeting).kind == ReplyKind::ok);
}

TEST_CASE("recorded streams: every prefix and mutation keeps the parsers' invariants", "[known][hostile]") {
    const char* const names[] = {"mariadb_native_ok.pcap", "mariadb_native_wrong.pcap", "mariadb_empty.pcap",
                                 "mariadb_switch.pcap",    "mariadb_tls.pcap",          "fake8_sha2_ok.pcap",
                                 "fake8_sha2_empty.pcap"};
    std::mt19937 rng(12);
    std::size_t runs = 0;
    for (const char* name : names) {
        const Streams s = read_streams(name);
        REQUIRE(s.error.empty());
        for (const Buf* stream : {&s.c2s, &s.s2c}) {
            for (std::size_t n = 0; n <= stream->size(); ++n) {
                INFO(name << " prefix " << n);
                REQUIRE(dpcopy_fuzz::fuzz_one(stream->data(), n));
                ++runs;
            }
            for (const Buf& p : packets(*stream)) {
                for (int i = 0; i < 300; ++i) {
                    Buf m = p;
                    const int edits = 1 + static_cast<int>(rng() % 4);
                    for (int e = 0; e < edits; ++e) m[rng() % m.size()] = static_cast<std::uint8_t>(rng());
                    INFO(name << " mutation " << i);
                    REQUIRE(dpcopy_fuzz::fuzz_one(m.data(), m.size()));
                    ++runs;
                }
            }
        }
    }
    CHECK(runs > 10000);
}
