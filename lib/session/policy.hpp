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
// many response bytes the online client had received (`need`, relative to the start of the
// online server's stream). It goes to the target when the target has sent at least as much
// (`target_bytes`), or when everything sent has been acknowledged and the target has been
// quiet for `quiet` since its last progress (`quiet_since`).
enum class Pace : std::uint8_t { send, release_bytes, release_quiet, hold };

struct PaceInput {
    std::uint32_t need = 0;          // online response bytes the request waited for
    std::uint32_t released = 0;      // highest `need` already released on this connection
    std::uint32_t target_bytes = 0;  // response bytes received from the target so far
    bool all_acked = false;          // the target acknowledged everything we sent
    bool no_wait = false;            // -W
    std::uint64_t now = 0;
    std::uint64_t quiet_since = 0;   // last progress from the target
    std::uint64_t quiet = 0;         // quiet time
};

inline Pace pace(const PaceInput& in) noexcept {
    if (in.no_wait || in.need <= in.released) return Pace::send;
    if (in.target_bytes >= in.need) return Pace::release_bytes;
    if (in.all_acked && in.now >= in.quiet_since + in.quiet) return Pace::release_quiet;
    return Pace::hold;
}

struct QuietPolicy {
    std::uint64_t min_ns = 2'000'000;           // floor
    std::uint64_t max_ns = 1'000'000'000;       // ceiling
    std::uint64_t no_response_ns = 50'000'000;  // floor while the target sent nothing for this request
};

// Quiet time: twice the larger of the captured RTT and the target's smoothed RTT, clamped;
// longer when the target has not answered the current request at all.
inline std::uint64_t quiet_time(std::uint64_t captured_rtt_ns, std::uint64_t target_srtt_ns, bool target_answered,
                                const QuietPolicy& p = {}) noexcept {
    std::uint64_t q = 2 * std::max(captured_rtt_ns, target_srtt_ns);
    q = std::clamp(q, p.min_ns, p.max_ns);
    if (!target_answered) q = std::max(q, std::min(p.no_response_ns, p.max_ns));
    return q;
}

}  // namespace dpcopy::session
