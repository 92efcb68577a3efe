// Session engine counters: one per outcome and per drop reason. Generated from an
// X-macro so the enum and the names never drift apart; the DPDK adapter prints and
// exports them generically with Counters::for_each(). The machinery: lib/counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/counters/counter_set.hpp"
#include "lib/rewrite/parse.hpp"

namespace dpcopy::session {

// X(name, description)
#define DPCOPY_SESSION_COUNTERS(X)                                                                   \
    /* input */                                                                                     \
    X(captured_frames, "frames handed to on_captured")                                              \
    X(captured_client_frames, "captured client->server TCP frames of a -x transfer")                \
    X(captured_server_frames, "captured server->client TCP frames of a -x transfer")                \
    X(target_frames, "frames handed to on_target")                                                  \
    X(emitted_frames, "frames emitted toward the target")                                           \
    X(emitted_bytes, "bytes of the frames emitted")                                                 \
    /* capture drops */                                                                             \
    X(drop_captured_parse, "captured frame rejected by the parser (see parse_captured.*)")          \
    X(drop_captured_not_tcp, "captured frame is not TCP")                                           \
    X(drop_captured_no_transfer, "captured frame matches no -x transfer")                           \
    X(drop_captured_not_sampled, "captured frame of a session not chosen by -r")                    \
    X(drop_captured_no_session, "captured ACK/FIN/RST of an unknown session")                       \
    X(drop_captured_mid_stream, "captured mid-stream session refused by -O")                        \
    X(drop_captured_duplicate_syn, "captured SYN retransmission, already sent")                     \
    X(drop_captured_duplicate, "captured segment already queued or sent (capture dup/retransmit)")  \
    X(trim_captured_overlap, "captured segment partly overlapping queued data, trimmed")            \
    X(drop_captured_after_close, "captured data after the client's FIN/RST")                        \
    X(drop_queue_full_session, "captured segment dropped: session queue bound reached")             \
    X(drop_queue_full_worker, "captured segment dropped: worker segment pool exhausted")            \
    X(drop_resync_segments, "captured segments skipped while waiting for a request boundary")       \
    X(drop_resync_bytes, "captured bytes skipped while waiting for a request boundary")             \
    X(capture_hole_bytes, "client bytes missing from the capture (a hole given up on), never sent")       \
    X(requests_lost_capture_hole, "requests lost to capture holes: the one with the hole, and those skipped to a safe restart") \
    X(requests_lost_resync, "requests cut when the target closed or reset the connection inside them (not replayed)")  \
    X(resync_restart_unseen_answer, "restarts after a hole at a segment acking online data the capture lacks (guess)") \
    X(drop_server_frame_early, "captured server frame before the session's base was known")         \
    /* target drops */                                                                              \
    X(drop_target_parse, "target frame rejected by the parser (see parse_target.*)")               \
    X(drop_target_not_tcp, "target frame is not TCP")                                               \
    X(drop_target_unknown, "target frame of no live session")                                       \
    X(target_unknown_rst_sent, "RST sent for a target frame of no live session")                    \
    X(target_unknown_rst_limited, "RST not sent for a target frame of no live session: over the rate limit") \
    X(drop_target_bad_ack, "target ACK beyond what we sent")                                        \
    X(target_out_of_order, "target data out of order (duplicate ACK sent)")                         \
    X(target_duplicate_data, "target data already received (retransmission)")                      \
    X(target_challenge_rst, "RST sent for a bad ACK while our SYN was pending")                     \
    X(syn_resent_after_challenge, "SYN sent again at once behind such an RST (once per session)")    \
    X(target_time_wait_acks, "ACKs re-sent for a target FIN of a connection we closed (TIME_WAIT)") \
    /* session life */                                                                              \
    X(sessions_created, "sessions created (each replica counts)")                                   \
    X(sessions_ipv6, "sessions created whose captured connection is IPv6 (each replica counts)")      \
    X(sessions_family_mapped, "sessions created toward a target of the other IP family than the capture's") \
    X(sessions_mid_stream, "sessions created without a captured SYN (fabricated handshake)")        \
    X(mid_stream_rebased, "mid-stream sessions restarted at an earlier, late-captured segment before their handshake") \
    X(sessions_superseded, "sessions detached because the client reused the port with a new SYN")   \
    X(create_table_full, "session not created: table full")                                         \
    X(create_no_tuple, "session not created: no free translated tuple")                             \
    /* live admission control (lib/session/overload.hpp): shed whole, never lost mid-session */    \
    X(shed_sessions, "sessions not admitted (each replica counts): the queue or table was over the high-water mark (live)") \
    X(shed_requests, "requests of shed sessions, not replayed (each replica counts; pipelined ones count once)") \
    X(shed_frames, "captured frames of shed sessions, not replayed")                                \
    X(syn_sent, "SYNs sent (captured or fabricated)")                                               \
    X(syn_retransmits, "SYN retransmissions")                                                       \
    X(handshakes, "handshakes completed with the target")                                           \
    X(data_segments_sent, "data segments sent (first transmissions)")                               \
    X(data_bytes_sent, "client payload bytes sent (first transmissions)")                           \
    X(acks_sent, "pure ACKs sent")                                                                  \
    X(retransmits_rto, "retransmission timeouts")                                                   \
    X(retransmits_fast, "fast retransmits (three duplicate ACKs)")                                  \
    X(window_probes, "zero-window probes")                                                          \
    X(window_blocked, "sends deferred by the target's receive window")                              \
    X(requests_held, "requests held by pacing")                                                     \
    X(requests_released_bytes, "held requests released: the target sent the online response size")  \
    X(requests_released_quiet, "requests released: the target answered less than online, then went quiet (guess)") \
    X(requests_released_unanswered, "requests released: the target sent nothing for unanswered_limit (guess)") \
    X(close_unanswered, "client close replayed though the target sent nothing for the last request (guess)") \
    X(capture_gaps, "gaps detected in the captured client stream")                                  \
    X(capture_gaps_filled, "gaps later filled by a late captured segment")                          \
    X(reconnect_capture_gap, "reconnects after an unfilled capture gap")                            \
    X(reconnect_target_rst, "reconnects after the target's RST with captured data left")            \
    X(reconnect_target_fin, "reconnects after the target's FIN with captured data left")            \
    X(reconnects, "fabricated re-handshakes (all causes)")                                          \
    X(rst_sent, "RSTs sent")                                                                        \
    X(fin_sent, "FINs sent")                                                                        \
    X(exchanges, "exchange records produced")                                                       \
    /* MySQL/MariaDB logins (lib/session/mysql_login.hpp) */                                        \
    X(mysql_greetings, "target connections that greeted like MySQL/MariaDB")                        \
    X(mysql_logins_rewritten, "logins rewritten for the target's scramble (--mysql-user)")          \
    X(mysql_logins_kept, "logins sent as captured (no --mysql-user account, TLS, or unreadable)")   \
    X(mysql_logins_not_rewritten, "logins of a --mysql-user account that could not be rewritten (length, plugin)") \
    X(mysql_logins_ok, "logins the target accepted")                                                \
    X(mysql_logins_failed, "logins the target refused (ERR, or caching_sha2 full auth needed)")     \
    X(mysql_logins_auth_switch, "logins the target answered with an auth switch (not replayed)")    \
    /* outcomes: every ended session counts in exactly one */                                       \
    X(end_closed, "ended: FIN exchange completed (captured close)")                                 \
    X(end_client_rst, "ended: captured client RST replayed")                                        \
    X(end_finished_input, "ended: input finished, closed with FIN")                                 \
    X(end_close_linger, "ended: target did not finish closing, RST after linger")                   \
    X(end_target_rst, "ended: target RST and no captured data left")                               \
    X(end_idle_timeout, "ended: RST after session timeout idle")                                    \
    X(end_syn_timeout, "ended: no SYN-ACK after all SYN retransmissions")                           \
    X(end_target_refused, "ended: target answered our SYN with RST")                                \
    X(end_retrans_timeout, "ended: data unacknowledged after all retransmissions")                  \
    X(end_no_tuple, "ended: no translated tuple free for a reconnect")                              \
    X(end_detached, "ended: no connection and the capture closed/ended before a request boundary")

DPCOPY_DEFINE_COUNTERS(Counter, counter_count, counter_names, counter_descriptions, DPCOPY_SESSION_COUNTERS)
inline constexpr std::string_view to_string(Counter c) noexcept { return counter_names[static_cast<std::size_t>(c)]; }

// Outcome counters (each ended session is counted in exactly one of these).
inline constexpr Counter first_outcome = Counter::end_closed;
inline constexpr Counter last_outcome = Counter::end_detached;

struct Counters : counters::CounterSet<Counter, counter_count> {
    std::array<std::uint64_t, net::parse_error_count> parse_captured{};  // by net::ParseError
    std::array<std::uint64_t, net::parse_error_count> parse_target{};

    std::uint64_t get(Counter c) const noexcept { return v[static_cast<std::size_t>(c)]; }

    // Adds another engine's counters (the sum over workers).
    Counters& operator+=(const Counters& o) noexcept {
        CounterSet::operator+=(o);
        for (std::size_t k = 0; k < parse_captured.size(); ++k) {
            parse_captured[k] += o.parse_captured[k];
            parse_target[k] += o.parse_target[k];
        }
        return *this;
    }

    // Sessions that have ended (sum of the outcome counters).
    std::uint64_t ended() const noexcept {
        std::uint64_t n = 0;
        for (auto i = static_cast<std::size_t>(first_outcome); i <= static_cast<std::size_t>(last_outcome); ++i) n += v[i];
        return n;
    }

    // f(std::string_view group, std::string_view name, std::uint64_t value) for every counter:
    // group "session" for the Counter values, "parse_captured"/"parse_target" for parse errors
    // (ParseError::ok excluded).
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < counter_count; ++i) f(std::string_view{"session"}, counter_names[i], v[i]);
        for (std::size_t i = 1; i < net::parse_error_count; ++i) {
            f(std::string_view{"parse_captured"}, std::string_view{net::to_string(static_cast<net::ParseError>(i))},
              parse_captured[i]);
        }
        for (std::size_t i = 1; i < net::parse_error_count; ++i) {
            f(std::string_view{"parse_target"}, std::string_view{net::to_string(static_cast<net::ParseError>(i))},
              parse_target[i]);
        }
    }
};

}  // namespace dpcopy::session
