// Offline pacing: when a captured frame is due, from its capture timestamp, --speed,
// --max-gap and --loop. Pure: times are passed in (monotonic ns). DPDK-free.
//
//   due = start + (capture time elapsed since the first frame, gaps over --max-gap
//                  shortened to --max-gap, out-of-order timestamps taken as gap 0,
//                  the gap between the last frame of a pass and the first of the next
//                  taken as 0) / speed
//   A shortened gap is counted (gaps_shortened(), the report's capture_gaps_shortened);
//   the first one is kept (first_shortened_gap()) for the run's one warning line.
//   speed 0: every frame is due at once (the feeder then goes as fast as the workers
//            accept, and the engine paces requests by the target's answers).
#pragma once

#include <cstdint>
#include <optional>

namespace dpcopy::io {

class Pacer {
public:
    // speed: 0, or 0.001..1000 (2 = twice as fast). max_gap_ns: nullopt = keep every gap.
    Pacer(double speed, std::optional<std::uint64_t> max_gap_ns) noexcept;

    // Monotonic time at which the frame captured at `capture_ns` is due. The first call
    // anchors the schedule at `now`. Successive calls must follow the file order.
    std::uint64_t due(std::uint64_t capture_ns, std::uint64_t now) noexcept;
    // The next frame starts a new pass over the file: no gap before it.
    void new_pass() noexcept { new_pass_ = true; }

    // Capture time covered so far (after gap shortening), for the status line.
    std::uint64_t capture_elapsed() const noexcept { return elapsed_; }
    bool as_fast_as_possible() const noexcept { return speed_ <= 0.0; }
    // Gaps longer than max_gap_ns, shortened to it (at any speed, 0 included).
    std::uint64_t gaps_shortened() const noexcept { return gaps_shortened_; }
    // The capture gap of the first of them as captured (0 when none).
    std::uint64_t first_shortened_gap() const noexcept { return first_shortened_gap_; }

private:
    double speed_;
    std::optional<std::uint64_t> max_gap_;
    bool anchored_ = false;
    bool new_pass_ = false;
    std::uint64_t start_ = 0;     // monotonic anchor
    std::uint64_t prev_cap_ = 0;  // capture time of the previous frame
    std::uint64_t elapsed_ = 0;   // capture time elapsed since the first frame (after shortening)
    std::uint64_t last_due_ = 0;
    std::uint64_t gaps_shortened_ = 0;
    std::uint64_t first_shortened_gap_ = 0;
};

}  // namespace dpcopy::io
