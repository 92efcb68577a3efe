#include "lib/session/mysql_login.hpp"

#include <algorithm>
#include <cstring>

namespace dpcopy::session {

namespace my = proto::mysql;

MysqlLogins::MysqlLogins(std::span<const my::MysqlUser> users, std::uint32_t max_sessions)
    : state_(max_sessions, State::done), users_(users) {
    if (!users.empty()) scramble_.resize(max_sessions);
}

void MysqlLogins::on_target_data(std::uint32_t id, net::ConstBytes payload, Counters& ctr) noexcept {
    switch (state_[id]) {
        case State::awaiting_greeting: {
            my::Greeting g;
            if (my::parse_greeting(payload, g) != my::GreetingStatus::ok) {
                state_[id] = State::done;  // not MySQL (or a greeting cut over segments: left alone)
                return;
            }
            ++ctr[Counter::mysql_greetings];
            state_[id] = State::greeted;
            if (!scramble_.empty()) {
                Scramble& s = scramble_[id];
                s.len = static_cast<std::uint8_t>(std::min<std::size_t>(g.scramble_len, sizeof s.bytes));
                std::memcpy(s.bytes, g.scramble.data(), s.len);
            }
            return;
        }
        case State::login_sent: {
            const my::Reply r = my::classify_login_reply(payload);
            switch (r.kind) {
                case my::ReplyKind::ok:
                case my::ReplyKind::fast_auth_ok: ++ctr[Counter::mysql_logins_ok]; break;
                case my::ReplyKind::err:
                case my::ReplyKind::full_auth_needed: ++ctr[Counter::mysql_logins_failed]; break;
                case my::ReplyKind::auth_switch: ++ctr[Counter::mysql_logins_auth_switch]; break;
                default: return;  // not settled by these bytes
            }
            state_[id] = State::done;
            return;
        }
        default:
            return;
    }
}

bool MysqlLogins::rewrite(std::uint32_t id, net::Bytes login, Counters& ctr) noexcept {
    state_[id] = State::login_sent;
    my::Login l;
    if (my::parse_login(login, l) != my::LoginStatus::ok) {
        ++ctr[Counter::mysql_logins_kept];  // TLS, pre-4.1 or unreadable: sent as captured
        return false;
    }
    const my::Secret* pw = scramble_.empty() ? nullptr : my::find_password(users_, l.user.in(login));
    if (!pw) {
        ++ctr[Counter::mysql_logins_kept];  // no account given: a passwordless one still works
        return false;
    }
    const Scramble& s = scramble_[id];
    // rewrite_login reads the scramble from a Greeting: only the scramble matters there
    my::Greeting g;
    g.scramble_len = s.len;
    std::memcpy(g.scramble.data(), s.bytes, s.len);
    if (my::rewrite_login(login, l, pw->bytes(), g) != my::RewriteStatus::ok) {
        ++ctr[Counter::mysql_logins_not_rewritten];
        return false;
    }
    ++ctr[Counter::mysql_logins_rewritten];
    return true;
}

}  // namespace dpcopy::session
