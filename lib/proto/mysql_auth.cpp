// Auth responses (OpenSSL libcrypto digests), in-place rewrites, the --mysql-user helpers and
// the names of lib/proto's enums. Every buffer that held a password or a digest of one is
// wiped with OPENSSL_cleanse before it goes out of scope.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "lib/proto/mysql_auth.hpp"
#include "lib/proto/mysql_wire.hpp"

namespace dpcopy::proto::mysql {

namespace {

constexpr std::size_t max_digest = 32;
constexpr std::size_t max_user_name = 255;

using Digest = std::array<std::uint8_t, max_digest>;

// out = H(a + b); false when libcrypto fails (e.g. a provider refusing the digest).
bool digest(const EVP_MD* md, ConstBytes a, ConstBytes b, Digest& out) noexcept {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return false;
    unsigned int n = 0;
    const bool good = EVP_DigestInit_ex(ctx, md, nullptr) == 1 &&
                      (a.empty() || EVP_DigestUpdate(ctx, a.data(), a.size()) == 1) &&
                      (b.empty() || EVP_DigestUpdate(ctx, b.data(), b.size()) == 1) &&
                      EVP_DigestFinal_ex(ctx, out.data(), &n) == 1;
    EVP_MD_CTX_free(ctx);  // resets (and so cleanses) the digest state
    return good;
}

// SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))): scramble before the hash.
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble): scramble after it.
bool scramble_password(const EVP_MD* md, std::size_t n, bool scramble_first, ConstBytes password,
                       ConstBytes scramble, Bytes out) noexcept {
    Digest h1{}, h2{}, h3{};
    const ConstBytes h2b(h2.data(), n);
    const bool good = digest(md, password, {}, h1) && digest(md, ConstBytes(h1.data(), n), {}, h2) &&
                      (scramble_first ? digest(md, scramble, h2b, h3) : digest(md, h2b, scramble, h3));
    if (good) {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(h1[i] ^ h3[i]);
    }
    OPENSSL_cleanse(h1.data(), h1.size());
    OPENSSL_cleanse(h2.data(), h2.size());
    OPENSSL_cleanse(h3.data(), h3.size());
    return good;
}

bool is_empty_response(ConstBytes captured) noexcept {
    return captured.empty() || (captured.size() == 1 && captured[0] == 0);
}

RewriteStatus to_rewrite(AuthError e) noexcept {
    switch (e) {
        case AuthError::ok: return RewriteStatus::ok;
        case AuthError::unknown_plugin: return RewriteStatus::unknown_plugin;
        case AuthError::bad_scramble: return RewriteStatus::bad_scramble;
        case AuthError::out_too_small: return RewriteStatus::not_rewritable;
        case AuthError::crypto_error: break;
    }
    return RewriteStatus::crypto_error;
}

// Overwrites `dst` (the captured response) with the new one when it has the same length.
RewriteStatus write_response(Bytes dst, AuthPlugin plugin, ConstBytes password, ConstBytes scramble,
                             bool nul_terminated) noexcept {
    if (plugin != AuthPlugin::native && plugin != AuthPlugin::caching_sha2) return RewriteStatus::unknown_plugin;
    if (password.empty()) return is_empty_response(dst) ? RewriteStatus::ok : RewriteStatus::length_differs;
    std::array<std::uint8_t, max_auth_len> buf{};
    const AuthResult r = compute_auth(plugin, password, scramble, buf);
    RewriteStatus s = to_rewrite(r.error);
    if (s == RewriteStatus::ok && r.len != dst.size()) s = RewriteStatus::length_differs;
    if (s == RewriteStatus::ok && nul_terminated && std::find(buf.begin(), buf.begin() + r.len, 0) != buf.begin() + r.len)
        s = RewriteStatus::not_rewritable;
    if (s == RewriteStatus::ok) std::memcpy(dst.data(), buf.data(), r.len);
    OPENSSL_cleanse(buf.data(), buf.size());
    return s;
}

}  // namespace

AuthResult compute_auth(AuthPlugin plugin, ConstBytes password, ConstBytes scramble, Bytes out) noexcept {
    const bool native = plugin == AuthPlugin::native;
    if (!native && plugin != AuthPlugin::caching_sha2) return {AuthError::unknown_plugin, 0};
    if (scramble.size() != scramble_size) return {AuthError::bad_scramble, 0};
    if (password.empty()) return {AuthError::ok, 0};
    const std::size_t n = native ? 20 : 32;
    if (out.size() < n) return {AuthError::out_too_small, 0};
    if (!scramble_password(native ? EVP_sha1() : EVP_sha256(), n, native, password, scramble, out))
        return {AuthError::crypto_error, 0};
    return {AuthError::ok, static_cast<std::uint8_t>(n)};
}

RewriteStatus rewrite_login(Bytes login_packet, const Login& login, ConstBytes password,
                            const Greeting& greeting) noexcept {
    if (login.packet_len == 0 || std::size_t{login.auth.off} + login.auth.len > login_packet.size())
        return RewriteStatus::not_rewritable;
    return write_response(login_packet.subspan(login.auth.off, login.auth.len), login.plugin, password,
                          greeting.scramble_bytes(), login.auth_form == AuthForm::nul_terminated);
}

RewriteStatus rewrite_auth_response(Bytes packet, AuthPlugin plugin, ConstBytes password,
                                    ConstBytes scramble) noexcept {
    const auto h = wire::read_header(packet);
    if (!h || packet.size() - header_size < h->payload_len) return RewriteStatus::not_rewritable;
    return write_response(packet.subspan(header_size, h->payload_len), plugin, password, scramble, false);
}

AuthResult make_auth_response(Bytes out, std::uint8_t seq, AuthPlugin plugin, ConstBytes password,
                              ConstBytes scramble) noexcept {
    if (out.size() < header_size) return {AuthError::out_too_small, 0};
    AuthResult r = compute_auth(plugin, password, scramble, out.subspan(header_size));
    if (r.error != AuthError::ok) return r;
    wire::write_header(out, r.len, seq);
    r.len = static_cast<std::uint8_t>(r.len + header_size);
    return r;
}

// ---- Secret ---------------------------------------------------------------------------

Secret::Secret(std::string_view text) : bytes_(text.size()) {
    if (!text.empty()) std::memcpy(bytes_.data(), text.data(), text.size());
}
Secret::Secret(const Secret& other) : bytes_(other.bytes_) {}
Secret::Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) {}
Secret& Secret::operator=(const Secret& other) {
    if (this != &other) {
        wipe();
        bytes_ = other.bytes_;
    }
    return *this;
}
Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
    }
    return *this;
}
Secret::~Secret() { wipe(); }
void Secret::wipe() noexcept {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
}

// ---- --mysql-user ----------------------------------------------------------------------

UserParse parse_mysql_user(std::string_view arg) {
    UserParse r;
    const std::size_t colon = arg.find(':');
    if (colon == std::string_view::npos) {
        r.error = "--mysql-user: expected NAME:PASSWORD (no ':' found)";
        return r;
    }
    const std::string_view name = arg.substr(0, colon);
    if (name.empty()) {
        r.error = "--mysql-user: the user name before ':' is empty";
    } else if (name.size() > max_user_name) {
        r.error = "--mysql-user: the user name is longer than 255 bytes";
    } else if (name.find('\0') != std::string_view::npos) {
        r.error = "--mysql-user: the user name contains a NUL byte";
    } else {
        r.ok = true;
        r.user.name = std::string(name);
        r.user.password = Secret(arg.substr(colon + 1));
    }
    return r;
}

UsersParse parse_mysql_users(std::span<const std::string> args) {
    UsersParse r;
    for (const std::string& a : args) {
        UserParse u = parse_mysql_user(a);
        if (!u.ok) {
            r.error = std::move(u.error);
            r.users.clear();
            return r;
        }
        const auto same = [&](const MysqlUser& m) { return m.name == u.user.name; };
        if (std::any_of(r.users.begin(), r.users.end(), same)) {
            r.error = "--mysql-user: user '" + u.user.name + "' given twice";
            r.users.clear();
            return r;
        }
        r.users.push_back(std::move(u.user));
    }
    r.ok = true;
    return r;
}

const Secret* find_password(std::span<const MysqlUser> users, ConstBytes name) noexcept {
    for (const MysqlUser& u : users) {
        if (u.name.size() == name.size() && std::memcmp(u.name.data(), name.data(), name.size()) == 0)
            return &u.password;
    }
    return nullptr;
}

// ---- names -----------------------------------------------------------------------------

const char* to_string(AuthPlugin p) noexcept {
    switch (p) {
        case AuthPlugin::none: return "none";
        case AuthPlugin::native: return "mysql_native_password";
        case AuthPlugin::caching_sha2: return "caching_sha2_password";
        case AuthPlugin::other: return "other";
    }
    return "unknown";
}

const char* to_string(GreetingStatus s) noexcept {
    switch (s) {
        case GreetingStatus::ok: return "ok";
        case GreetingStatus::incomplete: return "incomplete";
        case GreetingStatus::not_mysql: return "not_mysql";
        case GreetingStatus::server_error: return "server_error";
    }
    return "unknown";
}

const char* to_string(LoginStatus s) noexcept {
    switch (s) {
        case LoginStatus::ok: return "ok";
        case LoginStatus::incomplete: return "incomplete";
        case LoginStatus::not_login: return "not_login";
        case LoginStatus::tls: return "tls";
        case LoginStatus::unsupported: return "unsupported";
    }
    return "unknown";
}

const char* to_string(AuthError e) noexcept {
    switch (e) {
        case AuthError::ok: return "ok";
        case AuthError::unknown_plugin: return "unknown_plugin";
        case AuthError::bad_scramble: return "bad_scramble";
        case AuthError::out_too_small: return "out_too_small";
        case AuthError::crypto_error: return "crypto_error";
    }
    return "unknown";
}

const char* to_string(RewriteStatus s) noexcept {
    switch (s) {
        case RewriteStatus::ok: return "ok";
        case RewriteStatus::length_differs: return "length_differs";
        case RewriteStatus::unknown_plugin: return "unknown_plugin";
        case RewriteStatus::bad_scramble: return "bad_scramble";
        case RewriteStatus::not_rewritable: return "not_rewritable";
        case RewriteStatus::crypto_error: return "crypto_error";
    }
    return "unknown";
}

const char* to_string(ReplyKind k) noexcept {
    switch (k) {
        case ReplyKind::incomplete: return "incomplete";
        case ReplyKind::ok: return "ok";
        case ReplyKind::err: return "err";
        case ReplyKind::auth_switch: return "auth_switch";
        case ReplyKind::fast_auth_ok: return "fast_auth_ok";
        case ReplyKind::full_auth_needed: return "full_auth_needed";
        case ReplyKind::more_data: return "more_data";
        case ReplyKind::unknown: return "unknown";
    }
    return "unknown";
}

const char* to_string(SwitchStatus s) noexcept {
    switch (s) {
        case SwitchStatus::ok: return "ok";
        case SwitchStatus::incomplete: return "incomplete";
        case SwitchStatus::not_switch: return "not_switch";
    }
    return "unknown";
}

}  // namespace dpcopy::proto::mysql
