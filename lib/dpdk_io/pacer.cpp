#include "lib/dpdk_io/pacer.hpp"

#include <algorithm>

namespace dpcopy::io {

Pacer::Pacer(double speed, std::optional<std::uint64_t> max_gap_ns) noexcept : speed_(speed), max_gap_(max_gap_ns) {}

std::uint64_t Pacer::due(std::uint64_t capture_ns, std::uint64_t now) noexcept {
    if (!anchored_) {
        anchored_ = true;
        new_pass_ = false;
        start_ = now;
        prev_cap_ = capture_ns;
        last_due_ = now;
        return speed_ <= 0.0 ? now : start_;
    }
    std::uint64_t gap = capture_ns > prev_cap_ ? capture_ns - prev_cap_ : 0;
    if (new_pass_) {
        gap = 0;
        new_pass_ = false;
    }
    if (max_gap_ && gap > *max_gap_) {
        if (gaps_shortened_++ == 0) first_shortened_gap_ = gap;
        gap = *max_gap_;
    }
    prev_cap_ = capture_ns;
    elapsed_ += gap;
    if (speed_ <= 0.0) return now;
    const double scaled = static_cast<double>(elapsed_) / speed_;
    const std::uint64_t offset = scaled >= 1.8e19 ? std::uint64_t{1} << 63 : static_cast<std::uint64_t>(scaled);
    last_due_ = std::max(last_due_, start_ + offset);
    return last_due_;
}

}  // namespace dpcopy::io
