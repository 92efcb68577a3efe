// The control protocol's clock (ns since the Unix epoch) from a monotonic data-path clock
// (the TSC) re-anchored on the system's wall clock every `period` (1 s). Anchoring once and
// adding TSC time drifts with the TSC's rate error (100 ppm is 8.6 s a day), past the 5 s
// skew limit of a long run; re-anchoring keeps the error to the drift of one period plus
// the wall clock's own (NTP) error. Pure: the caller reads the wall clock when due() says
// so (one clock_gettime a second, on the control path), so tests drive it with any clocks.
#pragma once

#include <cstdint>
#include <ctime>

namespace dpcopy::io {

class WallClock {
public:
    explicit WallClock(std::uint64_t period_ns = 1'000'000'000ULL) : period_(period_ns) {}
    // mono: the data path's clock now; wall: the system's wall clock read now.
    void anchor(std::uint64_t mono, std::uint64_t wall) noexcept {
        offset_ = wall - mono;  // modulo 2^64: now() adds it back
        next_ = mono + period_;
        ++anchors_;
    }
    bool due(std::uint64_t mono) const noexcept { return anchors_ == 0 || mono >= next_; }
    std::uint64_t now(std::uint64_t mono) const noexcept { return mono + offset_; }
    std::uint64_t anchors() const noexcept { return anchors_; }

private:
    std::uint64_t period_;
    std::uint64_t offset_ = 0;
    std::uint64_t next_ = 0;
    std::uint64_t anchors_ = 0;
};

// CLOCK_REALTIME in ns (a vDSO call, no system call on Linux/x86-64).
inline std::uint64_t realtime_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace dpcopy::io
