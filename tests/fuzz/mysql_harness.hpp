// The checks fuzz_mysql runs on every input, shared with the unit tests (tests/proto), which
// run them on truncated and mutated real captures under ASan/UBSan: every parser of
// lib/proto/mysql_auth on the same bytes, and the invariants their results must keep (fields
// inside the packet, packets inside the input, rewrites touching the auth bytes only).
// Each check returns false on a broken invariant; the fuzz entry point aborts on it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/proto/mysql_auth.hpp"

namespace dpcopy_fuzz {

namespace my = dpcopy::proto::mysql;

inline bool inside(my::Field f, std::size_t end) noexcept { return std::size_t{f.off} + f.len <= end; }

inline bool check_greeting(my::ConstBytes in, my::Greeting& g) {
    const my::GreetingStatus s = my::parse_greeting(in, g);
    if (s == my::GreetingStatus::server_error) return g.packet_len > my::header_size && g.packet_len <= in.size();
    if (s != my::GreetingStatus::ok) return true;
    const bool secure = (g.capabilities & my::cap::secure_connection) != 0;
    return g.protocol == 10 && g.packet_len > my::header_size && g.packet_len <= in.size() &&
           inside(g.version, g.packet_len) && inside(g.plugin_name, g.packet_len) && g.scramble_len >= 8 &&
           (g.plugin != my::AuthPlugin::none || !secure) && (secure || g.scramble_len == 8);
}

// Bytes outside the auth response are never touched; a successful rewrite with a non-empty
// password writes exactly what compute_auth gives.
inline bool check_rewrite(my::ConstBytes in, const my::Login& l, const my::Greeting& target) {
    static const std::uint8_t pw[] = {'s', '3', 'c', 'r', 'e', 't'};
    std::vector<std::uint8_t> copy(in.begin(), in.end());
    const my::RewriteStatus s = my::rewrite_login(copy, l, my::ConstBytes(pw, sizeof pw), target);
    const auto a = static_cast<std::ptrdiff_t>(l.auth.off);
    const auto b = a + static_cast<std::ptrdiff_t>(l.auth.len);
    if (!std::equal(copy.begin(), copy.begin() + a, in.begin()) || !std::equal(copy.begin() + b, copy.end(), in.begin() + b))
        return false;
    if (s != my::RewriteStatus::ok) return std::equal(copy.begin(), copy.end(), in.begin());
    std::array<std::uint8_t, my::max_auth_len> want{};
    const my::AuthResult r = my::compute_auth(l.plugin, my::ConstBytes(pw, sizeof pw), target.scramble_bytes(), want);
    return r.error == my::AuthError::ok && r.len == l.auth.len && std::equal(want.begin(), want.begin() + r.len, copy.begin() + a);
}

inline bool check_login(my::ConstBytes in, const my::Greeting& target) {
    my::Login l;
    const my::LoginStatus s = my::parse_login(in, l);
    if (s == my::LoginStatus::tls) return l.packet_len <= in.size() && (l.capabilities & my::cap::ssl) != 0;
    if (s != my::LoginStatus::ok) return true;
    const bool fields = l.packet_len <= in.size() && l.user.off == my::header_size + 32 && inside(l.user, l.packet_len) &&
                        inside(l.auth, l.packet_len) && inside(l.database, l.packet_len) &&
                        inside(l.plugin_name, l.packet_len) && l.auth.off > l.user.off + l.user.len;
    return fields && check_rewrite(in, l, target);
}

inline bool check_reply(my::ConstBytes in) {
    const my::Reply r = my::classify_login_reply(in);
    if (r.kind == my::ReplyKind::incomplete) return true;
    if (r.packet_len < my::header_size) return false;
    if (r.kind == my::ReplyKind::unknown) return true;
    return r.packet_len <= in.size() && inside(r.message, r.packet_len) && inside(r.sql_state, r.packet_len) &&
           (r.sql_state.len == 0 || r.sql_state.len == 5);
}

inline bool check_switch(my::ConstBytes in) {
    my::AuthSwitch sw;
    if (my::parse_auth_switch(in, sw) != my::SwitchStatus::ok) return true;
    if (sw.packet_len > in.size() || !inside(sw.plugin_name, sw.packet_len)) return false;
    std::array<std::uint8_t, my::header_size + my::max_auth_len> out{};
    static const std::uint8_t pw[] = {'p', 'w'};
    const my::AuthResult r = my::make_auth_response(out, 3, sw.plugin, my::ConstBytes(pw, sizeof pw), sw.scramble_bytes());
    if (r.error != my::AuthError::ok) return true;
    return r.len == my::header_size + (sw.plugin == my::AuthPlugin::native ? 20U : 32U) && out[3] == 3;
}

// All of the above on one input; the login's rewrite targets the input's own greeting when it
// parses, else a greeting whose scramble is the input's first bytes.
inline bool fuzz_one(const std::uint8_t* data, std::size_t size) {
    const my::ConstBytes in(data, size);
    my::Greeting g;
    if (!check_greeting(in, g)) return false;
    if (g.scramble_len != my::scramble_size) {
        g = my::Greeting{};
        g.scramble_len = static_cast<std::uint8_t>(std::min(size, my::scramble_size));
        std::copy(data, data + g.scramble_len, g.scramble.begin());
    }
    return check_login(in, g) && check_reply(in) && check_switch(in);
}

}  // namespace dpcopy_fuzz
