// Latency histogram with logarithmic buckets: 8 per decade from 1 µs to 100 s. Bucket i
// holds latencies <= upper_us(i) = 10^(i/8) µs (and > upper_us(i-1)); bucket 0 everything up
// to 1 µs, the last one everything above 10^(63/8) µs, 100 s and more included.
// Percentiles are interpolated linearly within the bucket that holds the rank, so they lie
// in the same bucket as the exact value: within a factor 10^(1/8) ≈ 1.33 of it.
// Recording finds the bucket from the value's bit width (a table of where each power of two
// falls) and at most a few comparisons: no allocation, no floating point.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace dpcopy::compare {

class LatencyHistogram {
public:
    static constexpr std::size_t kPerDecade = 8;
    static constexpr std::size_t kBuckets = 8 * kPerDecade + 1;  // 10^0 .. 10^8 µs

    // Upper bound of bucket i in nanoseconds (rounded to the nanosecond).
    static std::uint64_t upper_ns(std::size_t i) noexcept { return bounds().ns[i]; }
    static double upper_us(std::size_t i) noexcept {
        return std::pow(10.0, static_cast<double>(i) / static_cast<double>(kPerDecade));
    }

    // The first bucket whose bound is >= ns, else the last. A value of bit width w lies in
    // [2^(w-1), 2^w): its bucket is at or after the first one bounding 2^(w-1), and a factor
    // 2 spans log10(2) * 8 = 2.4 buckets: at most three steps.
    static std::size_t bucket_of(std::uint64_t ns) noexcept {
        const Bounds& b = bounds();
        std::size_t i = b.first_of_width[static_cast<std::size_t>(std::bit_width(ns))];
        while (i < kBuckets - 1 && b.ns[i] < ns) ++i;
        return i;
    }

    void record(std::uint64_t ns) noexcept { record_in(bucket_of(ns)); }
    // A sample whose bucket_of() is known (one lookup for several histograms).
    void record_in(std::size_t bucket) noexcept {
        ++counts_[bucket];
        ++total_;
    }
    void merge(const LatencyHistogram& o) noexcept {
        for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
        total_ += o.total_;
    }
    std::uint64_t total() const noexcept { return total_; }
    std::uint64_t count(std::size_t i) const noexcept { return counts_[i]; }

    // The q-quantile (0 < q <= 1) in milliseconds; 0 when empty. The rank is ceil(q * total):
    // the value a sorted array of the samples holds at index rank - 1 lies in the same bucket.
    double percentile_ms(double q) const noexcept {
        if (total_ == 0) return 0.0;
        auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
        if (rank < 1) rank = 1;
        if (rank > total_) rank = total_;
        std::uint64_t below = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            if (below + counts_[i] >= rank) {
                const double lower = i == 0 ? 0.0 : static_cast<double>(upper_ns(i - 1));
                const double upper = static_cast<double>(upper_ns(i));
                const double frac = static_cast<double>(rank - below) / static_cast<double>(counts_[i]);
                return (lower + (upper - lower) * frac) / 1e6;
            }
            below += counts_[i];
        }
        return static_cast<double>(upper_ns(kBuckets - 1)) / 1e6;
    }

private:
    struct Bounds {
        std::array<std::uint64_t, kBuckets> ns{};
        // [w]: the first bucket whose bound is >= 2^(w-1) (the smallest value of bit width w)
        std::array<std::uint8_t, 65> first_of_width{};
        Bounds() noexcept {
            for (std::size_t i = 0; i < kBuckets; ++i) ns[i] = static_cast<std::uint64_t>(std::llround(upper_us(i) * 1000.0));
            for (std::size_t w = 1; w < first_of_width.size(); ++w) {
                const std::uint64_t smallest = std::uint64_t{1} << (w - 1);
                std::size_t i = 0;
                while (i < kBuckets - 1 && ns[i] < smallest) ++i;
                first_of_width[w] = static_cast<std::uint8_t>(i);
            }
        }
    };
    static const Bounds& bounds() noexcept {
        static const Bounds b;  // built on first use (create() touches it, off the data path)
        return b;
    }

    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t total_ = 0;
};

}  // namespace dpcopy::compare
