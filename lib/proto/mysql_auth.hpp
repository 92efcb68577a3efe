// MySQL/MariaDB login handling for replay (issue #12, item 6). Pure code: byte spans in,
// small result structs out; no rte_* header, no exception, no allocation except in the
// option helpers at the end (command-line time only).
//
// A replayed session meets a target server that sends its own greeting (Initial Handshake
// v10) with a fresh scramble, while the captured client's login (HandshakeResponse41) carries
// an auth response computed for the online server's scramble. The session engine parses the
// target's greeting (parse_greeting) and the captured login (parse_login), and, for an account
// given with --mysql-user, writes the response for the target's scramble into its copy of the
// login (rewrite_login, same length). Then it reads the target's answer (classify_login_reply);
// an auth switch request (parse_auth_switch) is answered with make_auth_response or by
// rewriting the captured switch response (rewrite_auth_response).
//
// Every parser takes a stream: the bytes one side sent from the start of the connection (or
// from the packet in question), which may hold more than that packet or not all of it yet;
// it never reads outside the span. Offsets (Field) are relative to that stream, so they stay
// valid in a copy of it. Passwords are never logged; the copies this code makes are wiped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/rewrite/bytes.hpp"

namespace dpcopy::proto::mysql {

using net::Bytes;
using net::ConstBytes;

// Capability flags used here (protocol::CapabilityFlags).
namespace cap {
inline constexpr std::uint32_t client_mysql = 0x1;  // CLIENT_LONG_PASSWORD; clear from MariaDB (then extended caps)
inline constexpr std::uint32_t connect_with_db = 0x8;
inline constexpr std::uint32_t compress = 0x20;
inline constexpr std::uint32_t protocol_41 = 0x200;
inline constexpr std::uint32_t ssl = 0x800;
inline constexpr std::uint32_t secure_connection = 0x8000;
inline constexpr std::uint32_t plugin_auth = 0x80000;
inline constexpr std::uint32_t connect_attrs = 0x100000;
inline constexpr std::uint32_t plugin_auth_lenenc = 0x200000;
}  // namespace cap

inline constexpr std::size_t header_size = 4;              // 3-byte little-endian length + sequence id
inline constexpr std::size_t max_greeting_payload = 1024;  // larger: not a MySQL greeting
inline constexpr std::size_t max_login_payload = 65536 + 1024;  // attrs are capped at 64 KiB by clients
inline constexpr std::size_t max_reply_payload = 65535;    // larger: kind unknown
inline constexpr std::size_t scramble_size = 20;           // what native and caching_sha2 need
inline constexpr std::size_t max_scramble = 255;           // part 1 + part 2, or an auth switch's data
inline constexpr std::size_t max_auth_len = 32;            // longest response compute_auth writes

// The auth method a greeting, a login or a switch request names. `none`: no name and no
// CLIENT_SECURE_CONNECTION (pre-4.1 scrambling, not handled).
enum class AuthPlugin : std::uint8_t { none, native, caching_sha2, other };
const char* to_string(AuthPlugin p) noexcept;
// "mysql_native_password" -> native, "caching_sha2_password" -> caching_sha2, "" -> none,
// anything else -> other.
AuthPlugin plugin_from_name(ConstBytes name) noexcept;

// A run of bytes inside the parsed stream.
struct Field {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
    ConstBytes in(ConstBytes stream) const noexcept { return stream.subspan(off, len); }
};

// ---- Greeting (server -> client, sequence id 0) -------------------------------------------

// server_error: the server sent an ERR packet instead of a greeting (too many connections,
// host blocked); error_code says which.
enum class GreetingStatus : std::uint8_t { ok, incomplete, not_mysql, server_error };
const char* to_string(GreetingStatus s) noexcept;

struct Greeting {
    std::uint32_t packet_len = 0;   // header + payload: the bytes of the stream the greeting takes
    std::uint8_t protocol = 0;      // 10
    Field version;                  // server version, without its NUL
    std::uint32_t connection_id = 0;
    std::uint32_t capabilities = 0;          // lower | upper << 16
    std::uint32_t mariadb_capabilities = 0;  // extended capabilities when client_mysql is clear
    std::uint8_t charset = 0;
    std::uint16_t status_flags = 0;
    Field plugin_name;                       // empty when the server names none
    AuthPlugin plugin = AuthPlugin::none;    // native when unnamed but CLIENT_SECURE_CONNECTION
    std::uint16_t error_code = 0;            // server_error only
    std::uint8_t scramble_len = 0;           // part 1 + part 2, trailing NUL dropped
    std::array<std::uint8_t, max_scramble> scramble{};
    ConstBytes scramble_bytes() const noexcept { return ConstBytes(scramble.data(), scramble_len); }
};

// Parses the greeting at the start of `stream`. incomplete: not all of it yet (only its header
// and first byte are checked). not_mysql: bad framing, sequence id != 0, a protocol other than
// 10, a payload above max_greeting_payload, or a field running past the payload.
GreetingStatus parse_greeting(ConstBytes stream, Greeting& out) noexcept;

// ---- Login (client -> server, sequence id 1) ----------------------------------------------

// tls: an SSLRequest (CLIENT_SSL set: the server starts TLS whatever follows); not rewritable.
// unsupported: a pre-4.1 HandshakeResponse320 (no CLIENT_PROTOCOL_41).
// not_login: bad framing, sequence id != 1, shorter than 32 bytes, non-zero filler, an unended
// user name, a bad or overlong auth-response length, or a payload above max_login_payload.
enum class LoginStatus : std::uint8_t { ok, incomplete, not_login, tls, unsupported };
const char* to_string(LoginStatus s) noexcept;

// How the auth response's length is given.
enum class AuthForm : std::uint8_t {
    lenenc,          // CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: length-encoded integer
    one_byte,        // CLIENT_SECURE_CONNECTION: one length byte
    nul_terminated,  // neither: up to a NUL (or the end of the packet)
};

struct Login {
    std::uint32_t packet_len = 0;  // header + payload
    std::uint8_t seq = 0;
    std::uint32_t capabilities = 0;
    std::uint32_t max_packet = 0;
    std::uint8_t charset = 0;
    std::uint32_t mariadb_capabilities = 0;  // the filler's last 4 bytes when client_mysql is clear
    Field user;                              // without its NUL
    Field auth;                              // the auth-response bytes, without length or NUL
    AuthForm auth_form = AuthForm::one_byte;
    bool has_database = false;
    Field database;
    bool has_plugin = false;
    Field plugin_name;
    // The method the auth response was made for: the named one; native when the client names
    // none (or an empty one) but uses CLIENT_SECURE_CONNECTION; none otherwise.
    AuthPlugin plugin = AuthPlugin::none;
};

// Parses the client's first packet at the start of `stream`.
LoginStatus parse_login(ConstBytes stream, Login& out) noexcept;

// ---- Auth responses ---------------------------------------------------------------------

enum class AuthError : std::uint8_t { ok, unknown_plugin, bad_scramble, out_too_small, crypto_error };
const char* to_string(AuthError e) noexcept;

struct AuthResult {
    AuthError error = AuthError::ok;
    std::uint8_t len = 0;  // bytes written to `out`
};

// The auth response `plugin` computes from `password` and the server's `scramble`
// (scramble_size bytes, else bad_scramble):
//   native:       SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))            (20 bytes)
//   caching_sha2: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)    (32 bytes)
// An empty password gives an empty response (len 0) for both. none/other: unknown_plugin.
AuthResult compute_auth(AuthPlugin plugin, ConstBytes password, ConstBytes scramble, Bytes out) noexcept;

// ok: written (or nothing to write: an empty password and a captured response that is empty
// or the single NUL some caching_sha2 clients send for one).
// length_differs: the new response would not have the captured length (e.g. captured with an
// empty password, a password configured), so it cannot be written in place.
// not_rewritable: the login did not parse ok, `packet` does not hold its auth bytes, or a
// NUL-terminated response would contain a NUL.
enum class RewriteStatus : std::uint8_t {
    ok,
    length_differs,
    unknown_plugin,
    bad_scramble,
    not_rewritable,
    crypto_error,
};
const char* to_string(RewriteStatus s) noexcept;

// Writes into `login_packet` (a copy of the stream parse_login saw, same offsets) the auth
// response for `password` and the target's greeting, for the method the login names.
RewriteStatus rewrite_login(Bytes login_packet, const Login& login, ConstBytes password,
                            const Greeting& greeting) noexcept;

// ---- The server's answer to the login -----------------------------------------------------

enum class ReplyKind : std::uint8_t {
    incomplete,
    ok,                // 0x00
    err,               // 0xFF, error_code (and message)
    auth_switch,       // 0xFE: see parse_auth_switch
    fast_auth_ok,      // 0x01 0x03 (caching_sha2: an OK packet follows)
    full_auth_needed,  // 0x01 0x04 (caching_sha2: needs TLS or the server's RSA key)
    more_data,         // another 0x01 packet (e.g. a public key)
    unknown,           // anything else, bad framing, or a payload above max_reply_payload
};
const char* to_string(ReplyKind k) noexcept;

struct Reply {
    ReplyKind kind = ReplyKind::incomplete;
    std::uint32_t packet_len = 0;  // header + payload, when known
    std::uint8_t seq = 0;
    std::uint16_t error_code = 0;  // err
    Field sql_state;               // err: the 5 characters after '#', when present
    Field message;                 // err: the error text
};

// Classifies the packet at the start of `stream` (the server's bytes after the greeting, or
// after an earlier reply). The kind byte is checked as soon as it arrives; the other kinds
// wait for the whole packet.
Reply classify_login_reply(ConstBytes stream) noexcept;

enum class SwitchStatus : std::uint8_t { ok, incomplete, not_switch };
const char* to_string(SwitchStatus s) noexcept;

struct AuthSwitch {
    std::uint32_t packet_len = 0;
    std::uint8_t seq = 0;
    Field plugin_name;                      // empty for the old 1-byte form (mysql_old_password)
    AuthPlugin plugin = AuthPlugin::none;   // other for the old form
    std::uint8_t scramble_len = 0;          // the plugin data, trailing NUL dropped
    std::array<std::uint8_t, max_scramble> scramble{};
    ConstBytes scramble_bytes() const noexcept { return ConstBytes(scramble.data(), scramble_len); }
};

// Parses an AuthSwitchRequest (0xFE, NUL-terminated plugin name, plugin data) at the start of
// `stream`. not_switch: bad framing, another first byte, an unended name, or a payload above
// max_reply_payload or with more than max_scramble bytes of data.
SwitchStatus parse_auth_switch(ConstBytes stream, AuthSwitch& out) noexcept;

// Rewrites a captured client auth packet whose payload is the auth data only (the answer to
// an auth switch), for `plugin` and the switch request's scramble. Same rules as
// rewrite_login; not_rewritable when `packet` is not one whole packet.
RewriteStatus rewrite_auth_response(Bytes packet, AuthPlugin plugin, ConstBytes password,
                                    ConstBytes scramble) noexcept;

// Builds the client's answer to an auth switch (header with `seq` + compute_auth's bytes) into
// `out` (header_size + max_auth_len bytes are enough). len: the whole packet's size.
AuthResult make_auth_response(Bytes out, std::uint8_t seq, AuthPlugin plugin, ConstBytes password,
                              ConstBytes scramble) noexcept;

// ---- Accounts from the command line (--mysql-user NAME:PASSWORD) ------------------------

// A password: its bytes are wiped when it is destroyed or overwritten. Copyable (every copy
// wipes its own bytes); never printed.
class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view text);
    Secret(const Secret& other);
    Secret(Secret&& other) noexcept;
    Secret& operator=(const Secret& other);
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();
    ConstBytes bytes() const noexcept { return ConstBytes(bytes_.data(), bytes_.size()); }
    bool empty() const noexcept { return bytes_.empty(); }

private:
    void wipe() noexcept;
    std::vector<std::uint8_t> bytes_;
};

struct MysqlUser {
    std::string name;
    Secret password;
};

struct UserParse {
    bool ok = false;
    MysqlUser user;
    std::string error;  // one line, never containing the password
};

// "NAME:PASSWORD": split at the first ':' (the password may contain ':' and may be empty for
// a passwordless account); the name must be non-empty, at most 255 bytes, without NUL.
UserParse parse_mysql_user(std::string_view arg);

struct UsersParse {
    bool ok = false;
    std::vector<MysqlUser> users;
    std::string error;
};

// Every --mysql-user value; a name given twice is an error.
UsersParse parse_mysql_users(std::span<const std::string> args);

// The password configured for the login's user name (exact, case-sensitive bytes), or null.
const Secret* find_password(std::span<const MysqlUser> users, ConstBytes name) noexcept;

}  // namespace dpcopy::proto::mysql
