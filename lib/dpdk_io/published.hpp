// A single-writer snapshot another thread can read without locks (a sequence lock
// over relaxed atomic words): a worker publishes its counters now and then; the main
// lcore (status line) and the telemetry thread read them. T must be trivially
// copyable. DPDK-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace dpcopy::io {

template <class T>
class Published {
    static_assert(std::is_trivially_copyable_v<T>);
    static constexpr std::size_t kWords = (sizeof(T) + 7) / 8;

public:
    Published() noexcept {
        for (auto& w : words_) w.store(0, std::memory_order_relaxed);
    }

    // Writer side (one thread only).
    void publish(const T& value) noexcept {
        std::uint64_t tmp[kWords] = {};
        std::memcpy(tmp, &value, sizeof(T));
        const std::uint64_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        for (std::size_t i = 0; i < kWords; ++i) words_[i].store(tmp[i], std::memory_order_relaxed);
        seq_.store(s + 2, std::memory_order_release);
    }

    // Reader side (any thread). False only if the writer kept writing for `tries` attempts.
    bool read(T& out, int tries = 1000) const noexcept {
        std::uint64_t tmp[kWords];
        for (int t = 0; t < tries; ++t) {
            const std::uint64_t s1 = seq_.load(std::memory_order_acquire);
            if (s1 & 1) continue;
            for (std::size_t i = 0; i < kWords; ++i) tmp[i] = words_[i].load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (seq_.load(std::memory_order_relaxed) == s1) {
                std::memcpy(&out, tmp, sizeof(T));
                return true;
            }
        }
        return false;
    }

    std::uint64_t version() const noexcept { return seq_.load(std::memory_order_acquire) / 2; }

private:
    std::atomic<std::uint64_t> seq_{0};
    std::atomic<std::uint64_t> words_[kWords];
};

}  // namespace dpcopy::io
