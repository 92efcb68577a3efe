// MySQL/MariaDB logins of replayed sessions (issue #12, item 6). The target greets every
// connection with a fresh scramble; the captured client's login carries an auth response made
// for the online server's scramble. Per session, this records the target's scramble from its
// greeting, rewrites the login the engine is about to send for an account given with
// --mysql-user (same length, in the engine's copy), and classifies the target's answer to the
// login. Sessions whose target does not greet like MySQL are left alone after its first bytes.
// One per engine, sized up front: no allocation per packet.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lib/proto/mysql_auth.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/session/counters.hpp"

namespace dpcopy::session {

class MysqlLogins {
public:
    MysqlLogins(std::span<const proto::mysql::MysqlUser> users, std::uint32_t max_sessions);

    // A new connection of session `id` to the target: nothing seen yet.
    void reset(std::uint32_t id) noexcept { state_[id] = State::awaiting_greeting; }
    // In-order response bytes of the target on session `id`'s connection (the first ones:
    // the greeting; after the login: its answer).
    void on_target_data(std::uint32_t id, net::ConstBytes payload, Counters& ctr) noexcept;
    // The session's next client bytes are its login (the greeting was seen, no login sent).
    bool login_next(std::uint32_t id) const noexcept { return state_[id] == State::greeted; }
    // `login`: a copy of the client's first bytes (the login packet, whole). Rewrites the auth
    // response in place for a configured account; true when bytes changed. Counts the outcome;
    // the session then waits for the target's answer.
    bool rewrite(std::uint32_t id, net::Bytes login, Counters& ctr) noexcept;

private:
    enum class State : std::uint8_t {
        awaiting_greeting,  // nothing from the target yet on this connection
        greeted,            // a MySQL greeting came: its scramble is kept, the login is next
        login_sent,         // waiting for the target's answer to the login
        done,               // not MySQL, or the login is settled
    };
    struct Scramble {
        std::uint8_t bytes[proto::mysql::scramble_size];
        std::uint8_t len;
    };
    std::vector<State> state_;
    std::vector<Scramble> scramble_;  // per session, only with accounts configured
    std::span<const proto::mysql::MysqlUser> users_;
};

}  // namespace dpcopy::session
