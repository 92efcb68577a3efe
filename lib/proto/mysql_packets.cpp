// Parsers of the MySQL/MariaDB connection phase: greeting, login, login reply, auth switch.
// Every read goes through wire::Cursor, bounded by the packet's own payload.
#include <algorithm>
#include <cstring>

#include "lib/proto/mysql_auth.hpp"
#include "lib/proto/mysql_wire.hpp"

namespace dpcopy::proto::mysql {

namespace {

constexpr std::uint8_t greeting_v10 = 10;
constexpr std::uint8_t kind_ok = 0x00;
constexpr std::uint8_t kind_more_data = 0x01;
constexpr std::uint8_t kind_switch = 0xFE;
constexpr std::uint8_t kind_err = 0xFF;
constexpr std::uint8_t fast_auth_success = 0x03;
constexpr std::uint8_t perform_full_auth = 0x04;
constexpr std::size_t login_fixed = 32;     // caps 4, max packet 4, charset 1, filler 23
constexpr std::size_t login_zero_fill = 19; // filler bytes that are zero for MySQL and MariaDB
constexpr std::size_t reserved_greeting = 10;
constexpr std::size_t mariadb_caps_at = 6;  // inside the 10 reserved bytes of a greeting

bool name_is(ConstBytes name, const char* text) noexcept {
    const std::size_t n = std::strlen(text);
    return name.size() == n && std::memcmp(name.data(), text, n) == 0;
}

void append(std::array<std::uint8_t, max_scramble>& dst, std::uint8_t& len, ConstBytes src) noexcept {
    const std::size_t n = std::min(src.size(), max_scramble - len);
    std::memcpy(dst.data() + len, src.data(), n);
    len = static_cast<std::uint8_t>(len + n);
}

void drop_trailing_nul(const std::array<std::uint8_t, max_scramble>& s, std::uint8_t& len) noexcept {
    if (len > 0 && s[len - 1U] == 0) --len;
}

// ERR packet in place of a greeting: 0xFF, error code (no SQL state before 4.1 handshakes).
GreetingStatus read_greeting_error(ConstBytes stream, std::size_t end, Greeting& out) noexcept {
    wire::Cursor c(stream, header_size + 1, end);
    if (!c.le16(out.error_code)) return GreetingStatus::not_mysql;
    return GreetingStatus::server_error;
}

// The fields after the lower capability flags (absent from pre-4.1 servers' greetings).
GreetingStatus read_greeting_tail(ConstBytes stream, wire::Cursor& c, Greeting& out) noexcept {
    std::uint16_t upper = 0;
    std::uint8_t auth_len = 0;
    Field reserved;
    if (!c.u8(out.charset) || !c.le16(out.status_flags) || !c.le16(upper) || !c.u8(auth_len) ||
        !c.bytes(reserved_greeting, reserved))
        return GreetingStatus::not_mysql;
    out.capabilities |= static_cast<std::uint32_t>(upper) << 16;
    if ((out.capabilities & cap::client_mysql) == 0) {
        std::uint32_t ext = 0;
        wire::Cursor rc(stream, reserved.off + mariadb_caps_at, reserved.off + reserved.len);
        if (rc.le32(ext)) out.mariadb_capabilities = ext;
    }
    if ((out.capabilities & cap::secure_connection) != 0) {
        const std::size_t part2 = std::max<std::size_t>(13, auth_len > 8 ? auth_len - 8U : 0U);
        Field f;
        if (!c.bytes(part2, f)) return GreetingStatus::not_mysql;
        append(out.scramble, out.scramble_len, f.in(stream));
        drop_trailing_nul(out.scramble, out.scramble_len);
    }
    // MySQL 5.5.7-5.5.9 sent the name without its NUL: it then runs to the end.
    if ((out.capabilities & cap::plugin_auth) != 0) c.cstring(out.plugin_name, true);
    return GreetingStatus::ok;
}

GreetingStatus read_greeting_v10(ConstBytes stream, std::size_t end, Greeting& out) noexcept {
    wire::Cursor c(stream, header_size + 1, end);
    out.protocol = greeting_v10;
    Field part1;
    std::uint8_t filler = 0;
    std::uint16_t lower = 0;
    if (!c.cstring(out.version, false) || !c.le32(out.connection_id) || !c.bytes(8, part1) || !c.u8(filler) ||
        !c.le16(lower))
        return GreetingStatus::not_mysql;
    out.capabilities = lower;
    append(out.scramble, out.scramble_len, part1.in(stream));
    if (!c.at_end()) {
        const GreetingStatus s = read_greeting_tail(stream, c, out);
        if (s != GreetingStatus::ok) return s;
    }
    out.plugin = plugin_from_name(out.plugin_name.in(stream));
    if (out.plugin == AuthPlugin::none && (out.capabilities & cap::secure_connection) != 0)
        out.plugin = AuthPlugin::native;
    return GreetingStatus::ok;
}

// The auth response, in the form the capability flags say.
bool read_login_auth(wire::Cursor& c, Login& out) noexcept {
    if ((out.capabilities & cap::plugin_auth_lenenc) != 0) {
        out.auth_form = AuthForm::lenenc;
        std::uint64_t n = 0;
        return c.lenenc(n) && n <= c.left() && c.bytes(static_cast<std::size_t>(n), out.auth);
    }
    if ((out.capabilities & cap::secure_connection) != 0) {
        out.auth_form = AuthForm::one_byte;
        std::uint8_t n = 0;
        return c.u8(n) && c.bytes(n, out.auth);
    }
    out.auth_form = AuthForm::nul_terminated;
    return c.cstring(out.auth, true);
}

// Everything after the fixed 32 bytes: user, auth response, database, plugin name. Fields a
// client left off at the end of the packet are absent; trailing ones may lack their NUL.
LoginStatus read_login_fields(ConstBytes stream, wire::Cursor& c, Login& out) noexcept {
    if (!c.cstring(out.user, false) || !read_login_auth(c, out)) return LoginStatus::not_login;
    if ((out.capabilities & cap::connect_with_db) != 0 && !c.at_end()) {
        out.has_database = true;
        c.cstring(out.database, true);
    }
    if ((out.capabilities & cap::plugin_auth) != 0 && !c.at_end()) {
        out.has_plugin = true;
        c.cstring(out.plugin_name, true);
    }
    out.plugin = plugin_from_name(out.plugin_name.in(stream));
    if (out.plugin == AuthPlugin::none && out.auth_form != AuthForm::nul_terminated) out.plugin = AuthPlugin::native;
    return LoginStatus::ok;
}

}  // namespace

AuthPlugin plugin_from_name(ConstBytes name) noexcept {
    if (name.empty()) return AuthPlugin::none;
    if (name_is(name, "mysql_native_password")) return AuthPlugin::native;
    if (name_is(name, "caching_sha2_password")) return AuthPlugin::caching_sha2;
    return AuthPlugin::other;
}

GreetingStatus parse_greeting(ConstBytes stream, Greeting& out) noexcept {
    out = Greeting{};
    const auto h = wire::read_header(stream);
    if (!h) return GreetingStatus::incomplete;
    if (h->seq != 0 || h->payload_len == 0 || h->payload_len > max_greeting_payload)
        return GreetingStatus::not_mysql;
    if (stream.size() < header_size + 1) return GreetingStatus::incomplete;
    const std::uint8_t kind = stream[header_size];
    if (kind != greeting_v10 && kind != kind_err) return GreetingStatus::not_mysql;
    const std::size_t end = header_size + h->payload_len;
    if (stream.size() < end) return GreetingStatus::incomplete;
    out.packet_len = static_cast<std::uint32_t>(end);
    if (kind == kind_err) return read_greeting_error(stream, end, out);
    return read_greeting_v10(stream, end, out);
}

LoginStatus parse_login(ConstBytes stream, Login& out) noexcept {
    out = Login{};
    const auto h = wire::read_header(stream);
    if (!h) return LoginStatus::incomplete;
    if (h->seq != 1 || h->payload_len > max_login_payload) return LoginStatus::not_login;
    const std::size_t end = header_size + h->payload_len;
    if (stream.size() < end) return LoginStatus::incomplete;
    out.packet_len = static_cast<std::uint32_t>(end);
    out.seq = h->seq;
    wire::Cursor c(stream, header_size, end);
    std::uint16_t lower = 0;
    if (!c.le16(lower)) return LoginStatus::not_login;
    // HandshakeResponse320: 2-byte flags, 3-byte max packet size, a user name.
    if ((lower & cap::protocol_41) == 0) return c.left() >= 4 ? LoginStatus::unsupported : LoginStatus::not_login;
    if (h->payload_len < login_fixed) return LoginStatus::not_login;
    c = wire::Cursor(stream, header_size, end);
    Field filler;
    if (!c.le32(out.capabilities) || !c.le32(out.max_packet) || !c.u8(out.charset) || !c.bytes(23, filler))
        return LoginStatus::not_login;
    const ConstBytes fill = filler.in(stream);
    if (std::any_of(fill.begin(), fill.begin() + login_zero_fill, [](std::uint8_t b) { return b != 0; }))
        return LoginStatus::not_login;
    if ((out.capabilities & cap::client_mysql) == 0) {
        wire::Cursor ec(stream, filler.off + login_zero_fill, filler.off + filler.len);
        ec.le32(out.mariadb_capabilities);
    }
    if ((out.capabilities & cap::ssl) != 0) return LoginStatus::tls;
    return read_login_fields(stream, c, out);
}

Reply classify_login_reply(ConstBytes stream) noexcept {
    Reply r;
    const auto h = wire::read_header(stream);
    if (!h) return r;
    r.seq = h->seq;
    const std::size_t end = header_size + h->payload_len;
    if (h->payload_len == 0) {
        r.kind = ReplyKind::unknown;
        r.packet_len = static_cast<std::uint32_t>(end);
        return r;
    }
    if (stream.size() < header_size + 1) return r;
    const std::uint8_t kind = stream[header_size];
    const bool known = kind == kind_ok || kind == kind_err || kind == kind_switch || kind == kind_more_data;
    if (!known || h->payload_len > max_reply_payload) {
        r.kind = ReplyKind::unknown;
        r.packet_len = static_cast<std::uint32_t>(end);
        return r;
    }
    if (stream.size() < end) return r;
    r.packet_len = static_cast<std::uint32_t>(end);
    wire::Cursor c(stream, header_size + 1, end);
    switch (kind) {
        case kind_ok: r.kind = ReplyKind::ok; break;
        case kind_switch: r.kind = ReplyKind::auth_switch; break;
        case kind_more_data: {
            std::uint8_t b = 0;
            const bool one = h->payload_len == 2 && c.u8(b);
            r.kind = !one                        ? ReplyKind::more_data
                     : b == fast_auth_success    ? ReplyKind::fast_auth_ok
                     : b == perform_full_auth    ? ReplyKind::full_auth_needed
                                                 : ReplyKind::more_data;
            break;
        }
        default: {  // kind_err: code, then '#' + SQL state (4.1), then the message
            if (!c.le16(r.error_code)) {
                r.kind = ReplyKind::unknown;
                break;
            }
            r.kind = ReplyKind::err;
            if (c.left() >= 6 && stream[c.pos()] == '#') {
                c.skip(1);
                c.bytes(5, r.sql_state);
            }
            c.bytes(c.left(), r.message);
            break;
        }
    }
    return r;
}

SwitchStatus parse_auth_switch(ConstBytes stream, AuthSwitch& out) noexcept {
    out = AuthSwitch{};
    const auto h = wire::read_header(stream);
    if (!h) return SwitchStatus::incomplete;
    if (h->payload_len == 0 || h->payload_len > max_reply_payload) return SwitchStatus::not_switch;
    if (stream.size() < header_size + 1) return SwitchStatus::incomplete;
    if (stream[header_size] != kind_switch) return SwitchStatus::not_switch;
    const std::size_t end = header_size + h->payload_len;
    if (stream.size() < end) return SwitchStatus::incomplete;
    out.packet_len = static_cast<std::uint32_t>(end);
    out.seq = h->seq;
    if (h->payload_len == 1) {  // old form: switch to mysql_old_password, same scramble
        out.plugin = AuthPlugin::other;
        return SwitchStatus::ok;
    }
    wire::Cursor c(stream, header_size + 1, end);
    Field data;
    if (!c.cstring(out.plugin_name, false) || c.left() > max_scramble + 1) return SwitchStatus::not_switch;
    c.bytes(c.left(), data);
    ConstBytes d = data.in(stream);
    if (!d.empty() && d.back() == 0) d = d.first(d.size() - 1);
    if (d.size() > max_scramble) return SwitchStatus::not_switch;
    append(out.scramble, out.scramble_len, d);
    out.plugin = plugin_from_name(out.plugin_name.in(stream));
    return SwitchStatus::ok;
}

}  // namespace dpcopy::proto::mysql
