// LatencyHistogram: bucket bounds, and percentiles against a sorted array of the samples.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "lib/compare/latency_histogram.hpp"
#include "lib/compare/summary_format.hpp"

using namespace dpcopy::compare;

TEST_CASE("Histogram buckets: 8 per decade from 1 us to 100 s", "[compare][histogram]") {
    CHECK(LatencyHistogram::kBuckets == 65);
    CHECK(LatencyHistogram::upper_ns(0) == 1000);
    CHECK(LatencyHistogram::upper_ns(8) == 10000);
    CHECK(LatencyHistogram::upper_ns(1) == 1334);  // 10^(1/8) us
    CHECK(LatencyHistogram::upper_ns(64) == 100'000'000'000ull);
    CHECK(LatencyHistogram::bucket_of(0) == 0);
    CHECK(LatencyHistogram::bucket_of(1000) == 0);
    CHECK(LatencyHistogram::bucket_of(1001) == 1);
    CHECK(LatencyHistogram::bucket_of(10000) == 8);
    CHECK(LatencyHistogram::bucket_of(10001) == 9);
    CHECK(LatencyHistogram::bucket_of(500'000'000'000ull) == 64);  // above 100 s: the last
}

TEST_CASE("Histogram bucket_of: the first bucket whose bound is >= the value (the last above)", "[compare][histogram]") {
    // the definition, as a plain scan, against the bit-width lookup
    const auto scan = [](std::uint64_t ns) {
        std::size_t i = 0;
        while (i < LatencyHistogram::kBuckets - 1 && LatencyHistogram::upper_ns(i) < ns) ++i;
        return i;
    };
    std::vector<std::uint64_t> values{0, 1, 2, 3, ~0ull, ~0ull - 1};
    for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i)
        for (std::uint64_t d : {0ull, 1ull}) values.push_back(LatencyHistogram::upper_ns(i) - d), values.push_back(LatencyHistogram::upper_ns(i) + d);
    for (unsigned w = 1; w < 64; ++w)
        for (std::uint64_t d : {0ull, 1ull}) values.push_back((1ull << w) - d), values.push_back((1ull << w) + d);
    std::mt19937_64 rng(11);
    for (int k = 0; k < 100000; ++k) values.push_back(rng() >> (rng() % 64));
    for (std::uint64_t v : values) {
        INFO("ns " << v);
        REQUIRE(LatencyHistogram::bucket_of(v) == scan(v));
    }
}

TEST_CASE("Histogram percentiles lie in the bucket of the exact value", "[compare][histogram]") {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 20; ++round) {
        LatencyHistogram h;
        std::vector<std::uint64_t> samples;
        const std::size_t n = 1 + rng() % 5000;
        std::lognormal_distribution<double> dist(13.0 + round % 4, 1.5);  // around 0.5 ms .. 20 ms
        for (std::size_t i = 0; i < n; ++i) {
            const auto ns = static_cast<std::uint64_t>(dist(rng));
            samples.push_back(ns);
            h.record(ns);
        }
        std::sort(samples.begin(), samples.end());
        REQUIRE(h.total() == n);
        for (double q : {0.5, 0.9, 0.99, 0.999}) {
            const std::size_t rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(n))));
            const std::uint64_t exact = samples[rank - 1];
            const double estimate_ns = h.percentile_ms(q) * 1e6;
            const std::size_t b = LatencyHistogram::bucket_of(exact);
            const double lower = b == 0 ? 0.0 : static_cast<double>(LatencyHistogram::upper_ns(b - 1));
            INFO("n " << n << " q " << q << " exact " << exact << " estimate " << estimate_ns);
            CHECK(estimate_ns > lower - 1e-3);
            CHECK(estimate_ns <= static_cast<double>(LatencyHistogram::upper_ns(b)) + 1e-3);
        }
    }
}

TEST_CASE("Histogram: exact interpolation, merge, empty", "[compare][histogram]") {
    LatencyHistogram h;
    CHECK(h.percentile_ms(0.5) == 0.0);
    // Four samples in bucket 8 (7499 .. 10000 ns]: the median is halfway through it.
    for (int i = 0; i < 4; ++i) h.record(9000);
    CHECK(h.percentile_ms(0.5) == Approx((7499.0 + (10000.0 - 7499.0) * 0.5) / 1e6));
    LatencyHistogram other;
    other.record(2'000'000);
    h.merge(other);
    CHECK(h.total() == 5);
    CHECK(h.count(8) == 4);
    CHECK(h.percentile_ms(1.0) > 1.77);
}

TEST_CASE("Summary number formats", "[compare][format]") {
    CHECK(with_thousands(0) == "0");
    CHECK(with_thousands(999) == "999");
    CHECK(with_thousands(14998) == "14,998");
    CHECK(with_thousands(1234567) == "1,234,567");
    CHECK(format_ms(0.4134) == "0.41");
    CHECK(format_ms(2.13) == "2.1");
    CHECK(format_ms(0.01234) == "0.012");
    CHECK(format_ms(37.4) == "37");
    CHECK(format_ms(1234.4) == "1234");
    CHECK(format_ms(0.0) == "0");
    CHECK(format_ms(0.9999) == "1.0");
    CHECK(format_ms(9.96) == "10");
    CHECK(same_percent(14953, 14998) == "99.7");
    CHECK(same_percent(9999, 10000) == "99.9");
    CHECK(same_percent(99999, 100000) == "99.9");
    CHECK(same_percent(5, 5) == "100.0");
    CHECK(round_significant(0.41234, 3) == Approx(0.412));
}
