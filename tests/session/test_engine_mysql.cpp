// MySQL/MariaDB logins through the engine: the target's greeting carries its own scramble;
// with --mysql-user the captured login's auth response is rewritten for it (per replica),
// without it the login goes as captured; the target's answer is counted.
#include "tests/session/engine_rig.hpp"

#include "lib/proto/mysql_auth.hpp"

namespace {

namespace my = proto::mysql;
using Buf = std::vector<std::uint8_t>;

void put_le(Buf& b, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(i < 8 ? v >> (8 * i) : 0));
}
Buf packet(std::uint8_t seq, const Buf& payload) {
    Buf p;
    put_le(p, payload.size(), 3);
    p.push_back(seq);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}
Buf scramble(std::uint8_t first) {
    Buf s;
    for (std::uint8_t i = 0; i < 20; ++i) s.push_back(static_cast<std::uint8_t>(first + i * 7));
    return s;
}
// A MariaDB-like greeting (protocol 10, secure connection, plugin auth, native password).
Buf greeting(const Buf& scr) {
    Buf p{10};
    for (char ch : std::string_view("10.11.6-MariaDB")) p.push_back(static_cast<std::uint8_t>(ch));
    p.push_back(0);
    put_le(p, 42, 4);
    p.insert(p.end(), scr.begin(), scr.begin() + 8);
    p.push_back(0);
    const std::uint32_t caps = 0x81FFF7DF;
    put_le(p, caps & 0xFFFF, 2);
    p.push_back(45);
    put_le(p, 2, 2);
    put_le(p, caps >> 16, 2);
    p.push_back(21);
    put_le(p, 0, 10);
    p.insert(p.end(), scr.begin() + 8, scr.end());
    p.push_back(0);
    for (char ch : std::string_view("mysql_native_password")) p.push_back(static_cast<std::uint8_t>(ch));
    p.push_back(0);
    return packet(0, p);
}
Buf native_auth(std::string_view pw, const Buf& scr) {
    Buf out(32);
    const my::AuthResult r = my::compute_auth(my::AuthPlugin::native, my::ConstBytes(
        reinterpret_cast<const std::uint8_t*>(pw.data()), pw.size()), my::ConstBytes(scr.data(), scr.size()),
        my::Bytes(out.data(), out.size()));
    REQUIRE(r.error == my::AuthError::ok);
    out.resize(r.len);
    return out;
}
// HandshakeResponse41 for user "app" with `auth` (secure connection, plugin auth).
Buf login(const Buf& auth) {
    Buf p;
    put_le(p, 0x000AA20D, 4);  // protocol 41, secure connection, plugin auth, long password
    put_le(p, 0x01000000, 4);
    p.push_back(45);
    put_le(p, 0, 23);
    for (char ch : std::string_view("app")) p.push_back(static_cast<std::uint8_t>(ch));
    p.push_back(0);
    p.push_back(static_cast<std::uint8_t>(auth.size()));
    p.insert(p.end(), auth.begin(), auth.end());
    for (char ch : std::string_view("mysql_native_password")) p.push_back(static_cast<std::uint8_t>(ch));
    p.push_back(0);
    return packet(1, p);
}
Buf ok_packet() { return packet(2, Buf{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}); }
Buf err_packet() {
    Buf p{0xFF};
    put_le(p, 1045, 2);
    for (char ch : std::string_view("#28000Access denied")) p.push_back(static_cast<std::uint8_t>(ch));
    return packet(2, p);
}

EngineConfig with_account(std::string_view pw, std::uint32_t multiply = 1) {
    EngineConfig c = base_config();
    c.multiply = multiply;
    my::UserParse u = my::parse_mysql_user("app:" + std::string(pw));
    REQUIRE(u.ok);
    c.mysql_users.push_back(std::move(u.user));
    return c;
}

// A MySQL session: the online greeting (scramble 0x11..) and the client's login made for it;
// returns the login's bytes as captured.
Buf capture_login(OpenRig& r, std::string_view pw) {
    const Buf online = greeting(scramble(0x11));
    r.cap(tcp(r.cv.c2s.reversed(), r.cv.sisn + 1, r.cv.cisn + 1, tf::ack | tf::psh, online));
    const Buf l = login(native_auth(pw, scramble(0x11)));
    r.cap(r.cv.cdata(0, static_cast<std::uint32_t>(online.size()), l));
    CHECK(r.out().empty());  // the login waits for the target's greeting
    return l;
}
// The target's greeting on conversation `cv` (its session's translated tuple)
Frame target_greeting(const Conv& cv, const Buf& scr) {
    return tcp(cv.xlat.reversed(), cv.tisn + 1, cv.cisn + 1, tf::ack | tf::psh, greeting(scr));
}
Buf payload_of(const std::vector<Seg>& o) {
    for (const Seg& g : o)
        if (!g.payload.empty()) return g.payload;
    return {};
}

}  // namespace

TEST_CASE("engine (MySQL): with --mysql-user the login is rewritten for the target's scramble") {
    OpenRig r(with_account("s3cret"));
    const Buf captured = capture_login(r, "s3cret");
    r.tgt(target_greeting(r.cv, scramble(0x55)));
    const Buf sent = payload_of(r.out());
    REQUIRE(sent.size() == captured.size());
    const Buf want = login(native_auth("s3cret", scramble(0x55)));
    CHECK(sent == want);         // only the 20 auth bytes differ from the capture
    CHECK(sent != captured);
    CHECK(r.c(Counter::mysql_greetings) == 1);
    CHECK(r.c(Counter::mysql_logins_rewritten) == 1);
    const Buf ok = ok_packet();
    r.tgt(tcp(r.cv.xlat.reversed(), r.cv.tisn + 1 + static_cast<std::uint32_t>(greeting(scramble(0x55)).size()),
              r.cv.cisn + 1 + static_cast<std::uint32_t>(sent.size()), tf::ack | tf::psh, ok));
    CHECK(r.c(Counter::mysql_logins_ok) == 1);
    CHECK(r.c(Counter::mysql_logins_failed) == 0);
}

TEST_CASE("engine (MySQL): without an account the login goes as captured and a refusal is counted") {
    OpenRig r;
    const Buf captured = capture_login(r, "s3cret");
    r.tgt(target_greeting(r.cv, scramble(0x55)));
    CHECK(payload_of(r.out()) == captured);
    CHECK(r.c(Counter::mysql_logins_kept) == 1);
    const Buf err = err_packet();
    r.tgt(tcp(r.cv.xlat.reversed(), r.cv.tisn + 1 + static_cast<std::uint32_t>(greeting(scramble(0x55)).size()),
              r.cv.cisn + 1 + static_cast<std::uint32_t>(captured.size()), tf::ack | tf::psh, err));
    CHECK(r.c(Counter::mysql_logins_failed) == 1);
    CHECK(r.c(Counter::mysql_logins_ok) == 0);
}

TEST_CASE("engine (MySQL): every replica's login is made for its own target connection's scramble (-n 2)") {
    Rig r(with_account("pw", 2));
    Conv cv;
    r.cap(cv.csyn());
    auto syns = r.out();
    REQUIRE(syns.size() == 2);
    r.cap(cv.ssynack());
    r.cap(cv.cack(0, 0));
    const Buf online = greeting(scramble(0x11));
    r.cap(tcp(cv.c2s.reversed(), cv.sisn + 1, cv.cisn + 1, tf::ack | tf::psh, online));
    const Buf captured = login(native_auth("pw", scramble(0x11)));
    r.cap(cv.cdata(0, static_cast<std::uint32_t>(online.size()), captured));
    CHECK(r.out().empty());
    std::vector<Buf> sent;
    for (std::size_t k = 0; k < 2; ++k) {
        Conv rep = cv;
        rep.xlat = syns[k].key;
        rep.tisn = 5000 + static_cast<std::uint32_t>(k) * 1000;
        r.tgt(rep.tsynack(cv.cisn + 1, mss_option(1460)));
        r.out();  // our ACK
        const Buf scr = scramble(static_cast<std::uint8_t>(0x60 + 0x10 * k));
        r.tgt(tcp(rep.xlat.reversed(), rep.tisn + 1, cv.cisn + 1, tf::ack | tf::psh, greeting(scr)));
        sent.push_back(payload_of(r.out()));
        CHECK(sent.back() == login(native_auth("pw", scr)));
    }
    CHECK(sent[0] != sent[1]);
    CHECK(r.c(Counter::mysql_logins_rewritten) == 2);
}
