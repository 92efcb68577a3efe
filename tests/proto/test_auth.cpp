// compute_auth, the rewrites, make_auth_response, Secret and the --mysql-user helpers.
// The byte values of the responses are checked against real clients in
// test_known_answers.cpp; here, every error path, and the server's side of each method:
// what mysqld stores for an account, and how it checks a response against it.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <random>
#include <set>

#include "tests/proto/proto_util.hpp"

using namespace dpcopy::proto::mysql;
using namespace ptest;

namespace {

Buf hash(const EVP_MD* md, const Buf& a, const Buf& b = {}) {
    Buf in(a);
    put(in, b);
    Buf out(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int n = 0;
    REQUIRE(EVP_Digest(in.data(), in.size(), out.data(), &n, md, nullptr) == 1);
    return out;
}

Buf xored(const Buf& a, const Buf& b) {
    Buf o(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) o[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
    return o;
}

// mysqld's check_scramble: stored = SHA1(SHA1(pw)); SHA1(response XOR SHA1(scramble + stored)) == stored.
bool native_server_accepts(const Buf& response, const Buf& scramble, const std::string& password) {
    const Buf stored = hash(EVP_sha1(), hash(EVP_sha1(), bytes_of(password)));
    return hash(EVP_sha1(), xored(response, hash(EVP_sha1(), scramble, stored))) == stored;
}

// MySQL 8's caching_sha2 fast path: cached = SHA256(SHA256(pw));
// SHA256(response XOR SHA256(cached + scramble)) == cached.
bool sha2_server_accepts(const Buf& response, const Buf& scramble, const std::string& password) {
    const Buf cached = hash(EVP_sha256(), hash(EVP_sha256(), bytes_of(password)));
    return hash(EVP_sha256(), xored(response, hash(EVP_sha256(), cached, scramble))) == cached;
}

Buf compute(AuthPlugin p, const std::string& pw, const Buf& scramble) {
    Buf out(max_auth_len);
    const AuthResult r = compute_auth(p, sv(pw), cb(scramble), mb(out));
    REQUIRE(r.error == AuthError::ok);
    out.resize(r.len);
    return out;
}

Greeting greeting_with(const Buf& scramble) {
    Greeting g;
    g.scramble_len = static_cast<std::uint8_t>(scramble.size());
    std::copy(scramble.begin(), scramble.end(), g.scramble.begin());
    return g;
}

}  // namespace

TEST_CASE("compute_auth: the server's check accepts it, for any password and scramble", "[auth]") {
    std::mt19937 rng(3);
    std::set<Buf> seen;
    for (int i = 0; i < 200; ++i) {
        std::string pw(1 + rng() % 40, 'x');
        for (auto& c : pw) c = static_cast<char>(1 + rng() % 255);
        Buf scr(20);
        for (auto& b : scr) b = static_cast<std::uint8_t>(rng());
        const Buf n = compute(AuthPlugin::native, pw, scr);
        const Buf s = compute(AuthPlugin::caching_sha2, pw, scr);
        REQUIRE(n.size() == 20);
        REQUIRE(s.size() == 32);
        CHECK(native_server_accepts(n, scr, pw));
        CHECK(sha2_server_accepts(s, scr, pw));
        CHECK_FALSE(native_server_accepts(n, scr, pw + "!"));
        scr[0] ^= 1;
        CHECK_FALSE(sha2_server_accepts(s, scr, pw));
        seen.insert(n);
    }
    CHECK(seen.size() == 200);
}

TEST_CASE("compute_auth: errors and the empty password", "[auth]") {
    const Buf scr = scramble20();
    Buf out(max_auth_len);
    CHECK(compute_auth(AuthPlugin::none, sv("pw"), cb(scr), mb(out)).error == AuthError::unknown_plugin);
    CHECK(compute_auth(AuthPlugin::other, sv("pw"), cb(scr), mb(out)).error == AuthError::unknown_plugin);
    for (std::size_t n : {0, 8, 19, 21, 32}) {
        INFO(n);
        CHECK(compute_auth(AuthPlugin::native, sv("pw"), cb(Buf(n, 'a')), mb(out)).error == AuthError::bad_scramble);
    }
    Buf small(19);
    CHECK(compute_auth(AuthPlugin::native, sv("pw"), cb(scr), mb(small)).error == AuthError::out_too_small);
    Buf small2(31);
    CHECK(compute_auth(AuthPlugin::caching_sha2, sv("pw"), cb(scr), mb(small2)).error == AuthError::out_too_small);
    Buf exact(20);
    CHECK(compute_auth(AuthPlugin::native, sv("pw"), cb(scr), mb(exact)).len == 20);
    const AuthResult e = compute_auth(AuthPlugin::caching_sha2, {}, cb(scr), {});
    CHECK(e.error == AuthError::ok);
    CHECK(e.len == 0);
}

TEST_CASE("rewrite_login: statuses, and nothing outside the auth bytes changes", "[auth][rewrite]") {
    const Buf scr = scramble20(0x40);
    const Greeting target = greeting_with(scr);
    LoginSpec spec;
    const Buf orig = login(spec);
    Buf b = orig;
    Login l;
    REQUIRE(parse_login(cb(b), l) == LoginStatus::ok);
    REQUIRE(rewrite_login(mb(b), l, sv("pw"), target) == RewriteStatus::ok);
    CHECK(Buf(b.begin() + l.auth.off, b.begin() + l.auth.off + 20) == compute(AuthPlugin::native, "pw", scr));
    CHECK(std::equal(b.begin(), b.begin() + l.auth.off, orig.begin()));
    CHECK(std::equal(b.begin() + l.auth.off + 20, b.end(), orig.begin() + l.auth.off + 20));

    b = orig;
    CHECK(rewrite_login(mb(b), l, {}, target) == RewriteStatus::length_differs);  // captured had a password
    CHECK(rewrite_login(mb(b), l, sv("pw"), greeting_with(Buf(8, 'x'))) == RewriteStatus::bad_scramble);
    CHECK(rewrite_login(mb(b).first(l.auth.off + 10), l, sv("pw"), target) ==
          RewriteStatus::not_rewritable);  // the copy does not hold the auth bytes
    CHECK(rewrite_login(mb(b), Login{}, sv("pw"), target) == RewriteStatus::not_rewritable);
    CHECK(b == orig);

    spec.plugin = "caching_sha2_password";  // 20 captured bytes, 32 needed
    Buf c = login(spec);
    REQUIRE(parse_login(cb(c), l) == LoginStatus::ok);
    CHECK(rewrite_login(mb(c), l, sv("pw"), target) == RewriteStatus::length_differs);
    spec.plugin = "client_ed25519";
    c = login(spec);
    REQUIRE(parse_login(cb(c), l) == LoginStatus::ok);
    CHECK(rewrite_login(mb(c), l, sv("pw"), target) == RewriteStatus::unknown_plugin);

    spec.plugin = "caching_sha2_password";
    spec.auth = {0};  // a client's empty caching_sha2 response
    c = login(spec);
    REQUIRE(parse_login(cb(c), l) == LoginStatus::ok);
    CHECK(rewrite_login(mb(c), l, {}, target) == RewriteStatus::ok);
    CHECK(c == login(spec));
    CHECK(rewrite_login(mb(c), l, sv("pw"), target) == RewriteStatus::length_differs);
}

TEST_CASE("rewrite_login: a NUL-terminated response cannot carry a NUL", "[auth][rewrite]") {
    LoginSpec spec;
    const Buf scr = scramble20();
    // find passwords whose native response has / has not a zero byte
    std::string with_nul, without_nul;
    for (int i = 0; with_nul.empty() || without_nul.empty(); ++i) {
        const std::string pw = "p" + std::to_string(i);
        const Buf r = compute(AuthPlugin::native, pw, scr);
        (std::find(r.begin(), r.end(), 0) != r.end() ? with_nul : without_nul) = pw;
    }
    spec.caps = cap::protocol_41;  // NUL-terminated form; the plugin is none without a name
    spec.auth = Buf(20, 'z');
    Buf b = login(spec);
    Login l;
    REQUIRE(parse_login(cb(b), l) == LoginStatus::ok);
    REQUIRE(l.auth_form == AuthForm::nul_terminated);
    CHECK(rewrite_login(mb(b), l, sv(without_nul), greeting_with(scr)) == RewriteStatus::unknown_plugin);
    l.plugin = AuthPlugin::native;  // as an engine would after an auth switch to native
    const Buf orig = b;
    CHECK(rewrite_login(mb(b), l, sv(with_nul), greeting_with(scr)) == RewriteStatus::not_rewritable);
    CHECK(b == orig);
    CHECK(rewrite_login(mb(b), l, sv(without_nul), greeting_with(scr)) == RewriteStatus::ok);
    CHECK(Buf(b.begin() + l.auth.off, b.begin() + l.auth.off + 20) == compute(AuthPlugin::native, without_nul, scr));
}

TEST_CASE("rewrite_auth_response and make_auth_response", "[auth][switch]") {
    const Buf scr = scramble20(0x50);
    Buf made(header_size + max_auth_len);
    AuthResult m = make_auth_response(mb(made), 3, AuthPlugin::caching_sha2, sv("pw"), cb(scr));
    REQUIRE(m.error == AuthError::ok);
    REQUIRE(m.len == 36);
    made.resize(m.len);
    CHECK(made[0] == 32);
    CHECK(made[3] == 3);
    CHECK(Buf(made.begin() + 4, made.end()) == compute(AuthPlugin::caching_sha2, "pw", scr));

    Buf captured = packet(3, Buf(32, 0xEE));
    CHECK(rewrite_auth_response(mb(captured), AuthPlugin::caching_sha2, sv("pw"), cb(scr)) == RewriteStatus::ok);
    CHECK(captured == made);
    CHECK(rewrite_auth_response(mb(captured), AuthPlugin::native, sv("pw"), cb(scr)) == RewriteStatus::length_differs);
    CHECK(rewrite_auth_response(mb(captured).first(35), AuthPlugin::caching_sha2, sv("pw"), cb(scr)) ==
          RewriteStatus::not_rewritable);
    CHECK(rewrite_auth_response(mb(captured).first(3), AuthPlugin::caching_sha2, sv("pw"), cb(scr)) ==
          RewriteStatus::not_rewritable);
    Buf empty = packet(3, {});
    CHECK(rewrite_auth_response(mb(empty), AuthPlugin::native, {}, cb(scr)) == RewriteStatus::ok);

    Buf tiny(3);
    CHECK(make_auth_response(mb(tiny), 3, AuthPlugin::native, sv("pw"), cb(scr)).error == AuthError::out_too_small);
    Buf short_out(10);
    CHECK(make_auth_response(mb(short_out), 3, AuthPlugin::native, sv("pw"), cb(scr)).error == AuthError::out_too_small);
    CHECK(make_auth_response(mb(short_out), 3, AuthPlugin::other, sv("pw"), cb(scr)).error == AuthError::unknown_plugin);
    m = make_auth_response(mb(short_out), 5, AuthPlugin::native, {}, cb(scr));
    CHECK(m.error == AuthError::ok);
    CHECK(m.len == 4);
    CHECK(Buf(short_out.begin(), short_out.begin() + 4) == Buf{0, 0, 0, 5});
}

TEST_CASE("Secret: copies and moves keep the bytes; a moved-from one is empty", "[options]") {
    Secret a("p:w");
    CHECK(str(a.bytes()) == "p:w");
    Secret b(a);
    CHECK(str(b.bytes()) == "p:w");
    Secret c(std::move(a));
    CHECK(str(c.bytes()) == "p:w");
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the documented state
    b = Secret("other");
    CHECK(str(b.bytes()) == "other");
    b = c;
    CHECK(str(b.bytes()) == "p:w");
    Secret& self = b;
    b = self;
    CHECK(str(b.bytes()) == "p:w");
    CHECK(Secret().empty());
    CHECK(Secret("").empty());
}

TEST_CASE("parse_mysql_user(s): NAME:PASSWORD", "[options]") {
    UserParse u = parse_mysql_user("alice:s3cret");
    REQUIRE(u.ok);
    CHECK(u.user.name == "alice");
    CHECK(str(u.user.password.bytes()) == "s3cret");
    u = parse_mysql_user("bob:a:b::");
    REQUIRE(u.ok);
    CHECK(str(u.user.password.bytes()) == "a:b::");
    u = parse_mysql_user("carol:");
    REQUIRE(u.ok);
    CHECK(u.user.password.empty());
    CHECK(parse_mysql_user(std::string(255, 'n') + ":x").ok);

    for (const std::string& bad : {std::string(":s3cret"), std::string("s3cret"), std::string(256, 'n') + ":s3cret",
                                  std::string("a\0b:s3cret", 10), std::string()}) {
        const UserParse e = parse_mysql_user(bad);
        INFO(e.error);
        CHECK_FALSE(e.ok);
        CHECK(e.error.rfind("--mysql-user: ", 0) == 0);
        CHECK(e.error.find('\n') == std::string::npos);
        CHECK(e.error.find("s3cret") == std::string::npos);
    }

    const std::vector<std::string> args = {"alice:one", "Alice:two", "bob:"};
    UsersParse all = parse_mysql_users(args);
    REQUIRE(all.ok);
    REQUIRE(all.users.size() == 3);
    CHECK(str(find_password(all.users, sv("Alice"))->bytes()) == "two");
    CHECK(str(find_password(all.users, sv("alice"))->bytes()) == "one");
    CHECK(find_password(all.users, sv("bob"))->empty());
    CHECK(find_password(all.users, sv("ali")) == nullptr);
    CHECK(find_password(all.users, sv("alice2")) == nullptr);
    CHECK(find_password({}, sv("alice")) == nullptr);

    const std::vector<std::string> dup = {"alice:one", "bob:x", "alice:s3cret"};
    all = parse_mysql_users(dup);
    CHECK_FALSE(all.ok);
    CHECK(all.users.empty());
    CHECK(all.error == "--mysql-user: user 'alice' given twice");
    const std::vector<std::string> broken = {"alice:one", "nocolon"};
    all = parse_mysql_users(broken);
    CHECK_FALSE(all.ok);
    CHECK(all.users.empty());
    CHECK(parse_mysql_users({}).ok);
}

TEST_CASE("names: every enumerator has its own", "[names]") {
    std::set<std::string> n;
    for (auto p : {AuthPlugin::none, AuthPlugin::native, AuthPlugin::caching_sha2, AuthPlugin::other}) n.insert(to_string(p));
    CHECK(n.size() == 4);
    n.clear();
    for (auto s : {GreetingStatus::ok, GreetingStatus::incomplete, GreetingStatus::not_mysql, GreetingStatus::server_error})
        n.insert(to_string(s));
    CHECK(n.size() == 4);
    n.clear();
    for (auto s : {LoginStatus::ok, LoginStatus::incomplete, LoginStatus::not_login, LoginStatus::tls, LoginStatus::unsupported})
        n.insert(to_string(s));
    CHECK(n.size() == 5);
    n.clear();
    for (auto s : {AuthError::ok, AuthError::unknown_plugin, AuthError::bad_scramble, AuthError::out_too_small,
                   AuthError::crypto_error})
        n.insert(to_string(s));
    CHECK(n.size() == 5);
    n.clear();
    for (auto s : {RewriteStatus::ok, RewriteStatus::length_differs, RewriteStatus::unknown_plugin,
                   RewriteStatus::bad_scramble, RewriteStatus::not_rewritable, RewriteStatus::crypto_error})
        n.insert(to_string(s));
    CHECK(n.size() == 6);
    n.clear();
    for (auto k : {ReplyKind::incomplete, ReplyKind::ok, ReplyKind::err, ReplyKind::auth_switch, ReplyKind::fast_auth_ok,
                   ReplyKind::full_auth_needed, ReplyKind::more_data, ReplyKind::unknown})
        n.insert(to_string(k));
    CHECK(n.size() == 8);
    n.clear();
    for (auto s : {SwitchStatus::ok, SwitchStatus::incomplete, SwitchStatus::not_switch}) n.insert(to_string(s));
    CHECK(n.size() == 3);
    CHECK(plugin_from_name(sv("mysql_native_password")) == AuthPlugin::native);
    CHECK(plugin_from_name(sv("caching_sha2_password")) == AuthPlugin::caching_sha2);
    CHECK(plugin_from_name(sv("mysql_native_passwor")) == AuthPlugin::other);
    CHECK(plugin_from_name({}) == AuthPlugin::none);
}
