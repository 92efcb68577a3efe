// Hashed timer wheel over entity ids 0..capacity-1 (one timer per entity), driven by
// the caller's clock. O(1) schedule/cancel; advance() visits only the slots of the
// elapsed ticks (at most one full turn). Entries further away than one turn stay in
// their slot and are skipped until due. No allocation after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/session/big_array.hpp"

namespace dpcopy::session {

class TimerWheel {
public:
    using Nanos = std::uint64_t;
    static constexpr std::uint32_t kNone = 0xffffffffu;

    // tick = 2^tick_shift ns (default ~1.05 ms), 2^slots_shift slots (default 4096: ~4.3 s per turn).
    explicit TimerWheel(std::uint32_t capacity = 0, unsigned tick_shift = 20, unsigned slots_shift = 12)
        : next_(capacity, kNone), prev_(capacity, kNone), slot_(capacity, 0u), at_(capacity, Nanos{0}), head_(std::size_t{1} << slots_shift, kNone),
          tick_shift_(tick_shift), mask_((std::uint64_t{1} << slots_shift) - 1) {}

    std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(next_.size()); }
    std::size_t size() const noexcept { return size_; }
    bool scheduled(std::uint32_t id) const noexcept { return at_[id] != 0; }
    Nanos when(std::uint32_t id) const noexcept { return at_[id]; }
    Nanos tick_ns() const noexcept { return Nanos{1} << tick_shift_; }

    void prefetch(std::uint32_t id) const noexcept { __builtin_prefetch(&at_[id], 1); }

    // (Re)schedules `id` to fire at `at` (at == 0 is treated as 1).
    void schedule(std::uint32_t id, Nanos at) noexcept {
        if (at == 0) at = 1;
        if (at_[id] != 0) unlink(id);
        at_[id] = at;
        link(id);
    }
    // Schedules only if not scheduled or `at` is earlier than the current time for `id`.
    void schedule_if_earlier(std::uint32_t id, Nanos at) noexcept {
        if (at_[id] == 0 || at < at_[id]) schedule(id, at);
    }
    void cancel(std::uint32_t id) noexcept {
        if (at_[id] == 0) return;
        unlink(id);
        at_[id] = 0;
    }

    // Fires fire(id) for every entry with at <= now (entry unscheduled before the call; the
    // callback may schedule or cancel any id).
    template <class F>
    void advance(Nanos now, F&& fire) {
        const std::uint64_t target = now >> tick_shift_;
        started_ = true;  // first call: cur_ == 0, so one full pass finds everything scheduled so far
        if (target < cur_) return;
        const std::uint64_t span = target - cur_;
        const std::uint64_t nslots = mask_ + 1;
        const std::uint64_t visits = span >= nslots ? nslots : span + 1;
        const std::uint64_t first = span >= nslots ? target + 1 : cur_;
        cur_ = target;  // entries scheduled from callbacks for ticks <= target go to slot(target)
        for (std::uint64_t i = 0; i < visits; ++i) {
            const std::uint64_t slot = (first + i) & mask_;
            std::uint32_t id = head_[slot];
            head_[slot] = kNone;
            while (id != kNone) {
                const std::uint32_t nx = next_[id];
                --size_;
                next_[id] = prev_[id] = kNone;
                if (at_[id] <= now) {
                    at_[id] = 0;
                    fire(id);
                } else {
                    link(id);
                }
                id = nx;
            }
        }
    }

private:
    void link(std::uint32_t id) noexcept {
        std::uint64_t tick = at_[id] >> tick_shift_;
        if (started_ && tick < cur_) tick = cur_;  // overdue: the next slot advance() visits
        const auto slot = static_cast<std::uint32_t>(tick & mask_);
        const std::uint32_t h = head_[slot];
        next_[id] = h;
        prev_[id] = kNone;
        slot_[id] = slot;
        if (h != kNone) prev_[h] = id;
        head_[slot] = id;
        ++size_;
    }
    void unlink(std::uint32_t id) noexcept {
        const std::uint32_t n = next_[id], p = prev_[id];
        if (p != kNone) {
            next_[p] = n;
        } else {
            head_[slot_[id]] = n;
        }
        if (n != kNone) prev_[n] = p;
        next_[id] = prev_[id] = kNone;
        --size_;
    }

    BigArray<std::uint32_t> next_, prev_, slot_;
    BigArray<Nanos> at_;
    BigArray<std::uint32_t> head_;
    unsigned tick_shift_;
    std::uint64_t mask_;
    std::uint64_t cur_ = 0;
    bool started_ = false;
    std::size_t size_ = 0;
};

}  // namespace dpcopy::session
