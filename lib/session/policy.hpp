// Small pure decisions of the engine, kept apart so they are unit-tested directly:
// sampling (-r), request pacing, quiet time.
#pragma once

#include <algorithm>
#include <cstdint>

#include "lib/rewrite/types.hpp"

namespace dpcopy::session {

// -r: a seeded stable hash of the original client->server 4-tuple; the same sessions are
// chosen in every run and by every instance and worker. Resolution 1/10000 percent.
inline bool sampled(const net::FlowKey& original, double percent, std::uint64_t seed) noexcept {
    if (percent >= 100.0) return true;
    if (percent <= 0.0) return false;
    const std::uint64_t h = net::hash_flow(original, seed) % 1'000'000ULL;
    return static_cast<double>(h) < percent * 10'000.0;
}

// Request pacing. A captured client segment that starts a request carries, in its ack, how
// many response bytes the online client had received. What the online server sent between
// the previous request and this one (`online_answer`) is what this request waited for; the
// target must have answered the previous request before this one goes:
//  - the online server answered nothing (pipelined requests, fire-and-forget): send;
//  - the target has sent at least as many bytes since the previous request: release_bytes;
//  - the target has sent some bytes, fewer than online (its answer is shorter, or still
//    coming), and everything sent is acknowledged: release after `quiet` without progress
//    (a guess: release_quiet);
//  - the target has sent nothing at all: hold, however long it takes (a 1-byte answer such as
//    PostgreSQL's reply to SSLRequest must be seen before the StartupMessage goes), until
//    `unanswered_limit` without progress: then the target is taken as not answering this
//    request (a guess: release_unanswered).
enum class Pace : std::uint8_t { send, release_bytes, release_quiet, release_unanswered, hold };

struct PaceInput {
    std::uint32_t online_answer = 0;  // online response bytes between the previous request and this one
    std::uint32_t target_answer = 0;  // target response bytes since the previous request was released
                                      // (less the rest of an earlier answer still owed)
    bool target_silent = false;       // the target sent no byte at all since the previous release
    bool all_acked = false;           // the target acknowledged everything we sent
    bool no_wait = false;             // -W
    std::uint64_t now = 0;
    std::uint64_t quiet_since = 0;    // last progress from the target
    std::uint64_t quiet = 0;          // quiet time (quiet_time())
    std::uint64_t unanswered_limit = 0;  // how long a target that sent nothing is waited for
};

inline Pace pace(const PaceInput& in) noexcept {
    if (in.no_wait || in.online_answer == 0) return Pace::send;
    if (in.target_answer >= in.online_answer) return Pace::release_bytes;
    if (!in.all_acked) return Pace::hold;
    if (in.target_silent) {
        return in.now >= in.quiet_since + in.unanswered_limit ? Pace::release_unanswered : Pace::hold;
    }
    return in.now >= in.quiet_since + in.quiet ? Pace::release_quiet : Pace::hold;
}

struct QuietPolicy {
    std::uint64_t min_ns = 2'000'000;       // floor
    std::uint64_t max_ns = 1'000'000'000;   // ceiling
};

// Quiet time after a partial answer: twice the larger of the captured RTT and the target's
// smoothed RTT, clamped.
inline std::uint64_t quiet_time(std::uint64_t captured_rtt_ns, std::uint64_t target_srtt_ns,
                                const QuietPolicy& p = {}) noexcept {
    return std::clamp(2 * std::max(captured_rtt_ns, target_srtt_ns), p.min_ns, p.max_ns);
}

}  // namespace dpcopy::session
