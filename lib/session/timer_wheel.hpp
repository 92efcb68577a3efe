// Hashed timer wheel over entity ids 0..capacity-1 (one timer per entity), driven by
// the caller's clock. O(1) schedule/cancel; a timer fires at the first advance() whose
// `now` is at or after its time. No allocation after construction.
//
// Structure:
// - 2^slots_shift slots of 2^tick_shift ns (default 4096 x ~1.05 ms: ~4.3 s per turn); a
//   timer further away than one turn stays in its slot and is skipped until due.
// - The current tick (the one holding the last `now`) is split into 64 sub-slots (~16 us),
//   plus a "parked" list for the current slot's entries of later turns. So the callers that
//   advance() very often (a DPDK loop does it on every iteration, a benchmark every few
//   microseconds) only walk the timers of the elapsed sub-slots, not the whole current slot
//   again and again.
// - One 32-byte record per id holds its deadline and its list links, so a schedule, a
//   cancel or a step of advance() touches one cache line per id.
// - advance() detaches a list and marks its entries first, then fires the due ones in order
//   (calling the optional `prefetch(id)` a few entries ahead, so the caller's per-id state is
//   on its way); a callback may schedule or cancel any id, including one of that list.
#pragma once

#include <array>
#include <cstdint>

#include "lib/session/big_array.hpp"

namespace dpcopy::session {

class TimerWheel {
public:
    using Nanos = std::uint64_t;
    static constexpr std::uint32_t kNone = 0xffffffffu;

    // tick = 2^tick_shift ns (default ~1.05 ms), 2^slots_shift slots (default 4096: ~4.3 s per turn).
    explicit TimerWheel(std::uint32_t capacity = 0, unsigned tick_shift = 20, unsigned slots_shift = 12)
        : rec_(capacity, Rec{}),
          walk_(capacity, NoInit{}),
          nslots_(std::uint32_t{1} << slots_shift),
          heads_(std::size_t{nslots_} + kSubs + 1, kNone),
          tick_shift_(tick_shift),
          sub_shift_(tick_shift > kSubShift ? tick_shift - kSubShift : 0),
          mask_((std::uint64_t{1} << slots_shift) - 1) {}

    std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(rec_.size()); }
    std::size_t size() const noexcept { return size_; }
    bool scheduled(std::uint32_t id) const noexcept { return rec_[id].at != 0; }
    Nanos when(std::uint32_t id) const noexcept { return rec_[id].at; }
    Nanos tick_ns() const noexcept { return Nanos{1} << tick_shift_; }
    static constexpr std::size_t bytes_per_id() noexcept { return sizeof(Rec) + sizeof(std::uint32_t); }

    void prefetch(std::uint32_t id) const noexcept { __builtin_prefetch(&rec_[id], 1); }

    // (Re)schedules `id` to fire at `at` (at == 0 is treated as 1).
    void schedule(std::uint32_t id, Nanos at) noexcept {
        if (at == 0) at = 1;
        Rec& r = rec_[id];
        if (r.at != 0) {
            if (list_of(at) == r.list) {  // already on the right list (lists are unordered)
                r.at = at;
                return;
            }
            unlink(id);
        } else {
            ++size_;
        }
        r.at = at;
        link(id);
    }
    // Schedules only if not scheduled or `at` is earlier than the current time for `id`.
    void schedule_if_earlier(std::uint32_t id, Nanos at) noexcept {
        const Nanos cur = rec_[id].at;
        if (cur == 0 || at < cur) schedule(id, at);
    }
    void cancel(std::uint32_t id) noexcept {
        Rec& r = rec_[id];
        if (r.at == 0) return;
        unlink(id);
        r.at = 0;
        --size_;
    }

    // Fires fire(id) for every entry with at <= now (entry unscheduled before the call; the
    // callback may schedule or cancel any id; what it schedules at or before `now` fires in
    // this pass or the next). prefetch(id) is called ahead for due ids.
    template <class F, class P>
    void advance(Nanos now, F&& fire, P&& prefetch_due) {
        const std::uint64_t target = now >> tick_shift_;
        if (started_ && target < cur_) return;
        std::uint32_t from_sub = sub_cur_;
        if (!started_ || target != cur_) {
            // take out what belongs to the tick we leave (its sub-slots and parked entries),
            // marking all of it before any callback runs
            std::uint32_t taken = 0;
            for (std::uint32_t k = 0; k <= kSubs; ++k) {
                taken = collect(heads_[nslots_ + k], taken, now, prefetch_due);
                heads_[nslots_ + k] = kNone;
            }
            const bool first_call = !started_;
            const std::uint64_t span = target - cur_;
            const std::uint64_t nslots = mask_ + 1;
            // slots of the elapsed ticks; the first call also visits tick 0, later calls start
            // after the tick they leave (its slot is empty: its entries were in sub-slots/parked)
            const std::uint64_t visits = span >= nslots ? nslots : (first_call ? span + 1 : span);
            const std::uint64_t from = span >= nslots ? target + 1 : (first_call ? cur_ : cur_ + 1);
            started_ = true;
            cur_ = target;  // from here on, link() files entries relative to the new tick
            sub_cur_ = sub_of(now);
            from_sub = 0;
            handle(taken, now, fire, prefetch_due);
            for (std::uint64_t i = 0; i < visits; ++i) {
                const auto slot = static_cast<std::uint32_t>((from + i) & mask_);
                const std::uint32_t h = heads_[slot];
                heads_[slot] = kNone;
                run_list(h, now, fire, prefetch_due);
            }
        } else if (sub_of(now) > sub_cur_) {
            sub_cur_ = sub_of(now);
        }
        // The current tick: its sub-slots up to `now`'s. Entries not yet due go back to theirs;
        // what callbacks schedule at or before `now` goes to sub-slot sub_cur_ (the last one
        // walked here, and the first one walked next time).
        for (std::uint32_t k = from_sub; k <= sub_cur_; ++k) {
            const std::uint32_t h = heads_[nslots_ + k];
            heads_[nslots_ + k] = kNone;
            run_list(h, now, fire, prefetch_due);
        }
    }
    template <class F>
    void advance(Nanos now, F&& fire) {
        advance(now, fire, [](std::uint32_t) {});
    }

private:
    static constexpr unsigned kSubShift = 6;
    static constexpr std::uint32_t kSubs = 1u << kSubShift;
    static constexpr std::uint32_t kPending = 0xfffffffeu;  // detached by advance(), not yet handled
    struct alignas(32) Rec {
        Nanos at = 0;  // 0: not scheduled
        std::uint32_t next = kNone, prev = kNone;
        std::uint32_t list = kNone;  // heads_ index: slot, nslots_ + sub-slot, or the parked list
    };

    std::uint32_t sub_of(Nanos at) const noexcept {
        return static_cast<std::uint32_t>((at >> sub_shift_) & (kSubs - 1));
    }
    // The list an entry due at `at` belongs to now.
    std::uint32_t list_of(Nanos at) const noexcept {
        const std::uint64_t tick = at >> tick_shift_;
        if (!started_) return static_cast<std::uint32_t>(tick & mask_);
        if (tick <= cur_) {  // the current tick, or overdue: a sub-slot not yet walked
            const std::uint32_t k = tick == cur_ ? sub_of(at) : 0;
            return nslots_ + (k > sub_cur_ ? k : sub_cur_);
        }
        const auto slot = static_cast<std::uint32_t>(tick & mask_);
        if (slot == static_cast<std::uint32_t>(cur_ & mask_)) return nslots_ + kSubs;  // a later turn: parked
        return slot;
    }
    void link(std::uint32_t id) noexcept {
        Rec& r = rec_[id];
        const std::uint32_t l = list_of(r.at);
        const std::uint32_t h = heads_[l];
        r.next = h;
        r.prev = kNone;
        r.list = l;
        if (h != kNone) rec_[h].prev = id;
        heads_[l] = id;
    }
    void unlink(std::uint32_t id) noexcept {
        Rec& r = rec_[id];
        if (r.list == kPending) {  // detached by advance(): on no list
            r.list = kNone;
            return;
        }
        const std::uint32_t n = r.next, p = r.prev;
        if (p != kNone) {
            rec_[p].next = n;
        } else {
            heads_[r.list] = n;
        }
        if (n != kNone) rec_[n].prev = p;
        r.next = r.prev = kNone;
        r.list = kNone;
    }
    static constexpr std::uint32_t kAhead = 16;  // due entries whose state is prefetched ahead

    // Appends the entries of a detached chain to walk_[taken..], marked pending (so a callback
    // may cancel or reschedule any of them safely); returns the new count.
    template <class P>
    std::uint32_t collect(std::uint32_t id, std::uint32_t taken, Nanos now, P& prefetch_due) {
        while (id != kNone) {  // a chain of dependent loads: one line per entry
            Rec& r = rec_[id];
            const std::uint32_t nx = r.next;
            r.next = r.prev = kNone;
            r.list = kPending;
            if (taken < kAhead && r.at <= now) prefetch_due(id);
            walk_[taken++] = id;
            id = nx;
        }
        return taken;
    }
    // Fires the due entries of walk_[0..taken) in order and files the others again.
    template <class F, class P>
    void handle(std::uint32_t taken, Nanos now, F& fire, P& prefetch_due) {
        for (std::uint32_t b = 0; b < taken; ++b) {
            if (b + kAhead < taken) {
                const std::uint32_t a = walk_[b + kAhead];
                if (rec_[a].list == kPending && rec_[a].at <= now) prefetch_due(a);
            }
            const std::uint32_t e = walk_[b];
            Rec& r = rec_[e];
            if (r.list != kPending) continue;  // a callback cancelled or rescheduled it
            if (r.at <= now) {
                r.at = 0;
                r.list = kNone;
                --size_;
                fire(e);
            } else {
                link(e);
            }
        }
    }
    template <class F, class P>
    void run_list(std::uint32_t head, Nanos now, F& fire, P& prefetch_due) {
        handle(collect(head, 0, now, prefetch_due), now, fire, prefetch_due);
    }

    BigArray<Rec> rec_;
    BigArray<std::uint32_t> walk_;   // ids of the chain run_list() is handling
    std::uint32_t nslots_;
    BigArray<std::uint32_t> heads_;  // [0, nslots_): slots; then kSubs sub-slots; then the parked list
    unsigned tick_shift_;
    unsigned sub_shift_;
    std::uint64_t mask_;
    std::uint64_t cur_ = 0;       // tick of the last advance()
    std::uint32_t sub_cur_ = 0;   // sub-slot of the last advance() within that tick: no entry is filed below it
    bool started_ = false;
    std::size_t size_ = 0;
};

}  // namespace dpcopy::session
