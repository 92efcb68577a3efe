// The poll loops' idle policy, shared by dpcopy (its workers, the offline feeder, the
// inline worker of `-l 0`) and dpintercept: give the CPU back when there is nothing to do.
// Pure: the loop tells it what each iteration did and sleeps what it answers. DPDK-free.
//
//   busy iteration (a frame moved, or frames wait to be sent): no sleep; the back-off resets
//   kEmptyPolls empty iterations in a row: then every empty iteration sleeps, first
//       kFirstSleepUs, doubling up to max_sleep_us (--idle-sleep); a busy one resets it
//   a due time known (the feeder's next frame, in due_in_us): a sleep never passes it, and
//       one shorter than the first step is not taken (the loop spins the last microseconds)
//   waiting only for a due time (the offline feeder on its own lcore, pacing at --speed 1):
//       sleep until kWakeMarginUs before it, at most kMaxWaitUs at a time (signals, status
//       lines): the time is known, no back-off needed; closer than that, the back-off
//   max_sleep_us 0 (--idle-sleep 0, --busy-poll): dedicated cores, never sleep
//
// Each sleep answered is counted (sleeps(), the io counter idle_sleeps).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace dpcopy::io {

class IdlePolicy {
public:
    static constexpr std::uint32_t kEmptyPolls = 32;     // empty iterations before the first sleep
    static constexpr std::uint32_t kFirstSleepUs = 2;    // the back-off's first step
    static constexpr std::uint32_t kWakeMarginUs = 30;   // a paced wait wakes this early (wake-up latency)
    static constexpr std::uint32_t kMaxWaitUs = 1000;    // longest paced wait at once
    static constexpr std::uint64_t kNoDue = std::numeric_limits<std::uint64_t>::max();

    // max_sleep_us: --idle-sleep (0 = never sleep)
    explicit IdlePolicy(std::uint32_t max_sleep_us = 0) noexcept : max_us_(max_sleep_us), next_us_(first_step()) {}

    bool sleeps_enabled() const noexcept { return max_us_ != 0; }
    std::uint32_t max_sleep_us() const noexcept { return max_us_; }

    // One iteration of a poll loop. `busy`: it moved a frame or has frames waiting to be
    // sent. `due_in_us`: time until the loop has something due (kNoDue: nothing). Returns
    // the microseconds to sleep now (0: poll again at once).
    std::uint32_t after_poll(bool busy, std::uint64_t due_in_us = kNoDue) noexcept {
        if (busy) {
            empty_ = 0;
            next_us_ = first_step();
            return 0;
        }
        if (max_us_ == 0) return 0;
        if (empty_ < kEmptyPolls) {
            ++empty_;
            return 0;
        }
        const std::uint64_t us = std::min<std::uint64_t>(next_us_, due_in_us);
        if (us < first_step()) return 0;
        next_us_ = std::min(next_us_ * 2, max_us_);
        ++sleeps_;
        return static_cast<std::uint32_t>(us);
    }

    // A loop with nothing to do but wait for `due_in_us` (the feeder's next frame): sleeps
    // until kWakeMarginUs before it (at most kMaxWaitUs), leaving the back-off as it is;
    // closer than that, an empty iteration of after_poll (capped by the due time).
    std::uint32_t wait_for_due(std::uint64_t due_in_us) noexcept {
        if (max_us_ == 0) return 0;
        if (due_in_us < kWakeMarginUs + first_step()) return after_poll(false, due_in_us);
        ++sleeps_;
        return static_cast<std::uint32_t>(std::min<std::uint64_t>(due_in_us - kWakeMarginUs, kMaxWaitUs));
    }

    std::uint64_t sleeps() const noexcept { return sleeps_; }

private:
    std::uint32_t first_step() const noexcept { return std::min(kFirstSleepUs, max_us_); }

    std::uint32_t max_us_;
    std::uint32_t next_us_;
    std::uint32_t empty_ = 0;
    std::uint64_t sleeps_ = 0;
};

}  // namespace dpcopy::io
