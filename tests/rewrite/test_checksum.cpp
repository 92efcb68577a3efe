#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "lib/rewrite/checksum.hpp"

using namespace dpcopy::net;

TEST_CASE("RFC 1071 example sum", "[checksum]") {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    const std::uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(csum_fold(csum_add(d)) == 0xddf2);
    CHECK(csum(d) == static_cast<std::uint16_t>(~0xddf2));
}

TEST_CASE("odd length is padded with a zero byte", "[checksum]") {
    const std::uint8_t odd[] = {0x12, 0x34, 0x56};
    const std::uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
    CHECK(csum_add(odd) == csum_add(even));
    CHECK(csum_fold(csum_add(odd)) == 0x6834);
    CHECK(csum(ConstBytes{}) == 0xffff);
}

TEST_CASE("csum_add chains and handles 64 KiB of 0xff", "[checksum]") {
    std::vector<std::uint8_t> big(65536, 0xff);
    CHECK(csum_fold(csum_add(big)) == 0xffff);
    CHECK(csum_fold(csum_add(ConstBytes(big).subspan(1000), csum_add(ConstBytes(big).first(1000)))) == 0xffff);
    CHECK(csum_fold(0x1ffffU) == 0x0001);
    CHECK(csum_fold(0xffffffffU) == 0xffff);
}

TEST_CASE("IPv4 header checksum of a known header", "[checksum]") {
    // Wikipedia's example header: checksum b861.
    std::uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    CHECK(ipv4_header_checksum(h) == 0xb861);
    h[10] = 0;
    h[11] = 0;
    CHECK(ipv4_header_checksum(h) == 0xb861);  // the field is taken as zero either way
}

TEST_CASE("UDP checksum: computed zero is sent as 0xffff", "[checksum]") {
    // Find a payload whose UDP checksum computes to 0: choose the last word to cancel the rest.
    const Ipv4Addr s(0x0a000001), d(0x0a000002);
    std::vector<std::uint8_t> udp = {0x12, 0x34, 0x56, 0x78, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    std::uint32_t sum = pseudo_header_sum(s, d, 17, 12);
    sum = csum_add(udp, sum);
    const std::uint16_t need = static_cast<std::uint16_t>(~csum_fold(sum));  // makes the total 0xffff
    udp[10] = static_cast<std::uint8_t>(need >> 8);
    udp[11] = static_cast<std::uint8_t>(need);
    CHECK(l4_checksum(s, d, 17, udp) == 0xffff);
    CHECK(l4_checksum(s, d, 6, udp) != 0xffff);  // TCP keeps its computed value (0 here)
}

TEST_CASE("RFC 1624 incremental updates equal recomputation", "[checksum]") {
    std::mt19937_64 rng(0x1624);
    for (int iter = 0; iter < 2000; ++iter) {
        std::vector<std::uint8_t> d(2 + (rng() % 64) * 2);
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
        if (iter % 7 == 0) std::fill(d.begin(), d.end(), 0);  // all-zero edge case
        const std::uint16_t hc = csum(d);
        const std::size_t at = (rng() % (d.size() / 2)) * 2;
        const std::uint16_t old_v = load_be16(d.data() + at);
        const auto new_v = static_cast<std::uint16_t>(rng());
        store_be16(d.data() + at, new_v);
        CAPTURE(iter);
        if (std::any_of(d.begin(), d.end(), [](std::uint8_t b) { return b != 0; }))
            CHECK(csum_update16(hc, old_v, new_v) == csum(d));
        if (d.size() >= 4 + at) {
            const std::uint32_t o32 = load_be32(d.data() + at);
            const auto n32 = static_cast<std::uint32_t>(rng());
            const std::uint16_t hc2 = csum(d);
            store_be32(d.data() + at, n32);
            if (std::any_of(d.begin(), d.end(), [](std::uint8_t b) { return b != 0; }))
                CHECK(csum_update32(hc2, o32, n32) == csum(d));
        }
    }
    // The RFC 1624 section 4 example: eqn. 3 yields 0x0000, not 0xffff.
    CHECK(csum_update16(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

TEST_CASE("csum_update_sum with multi-word changes", "[checksum]") {
    std::vector<std::uint8_t> d = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const std::uint16_t hc = csum(d);
    const std::uint32_t old_sum = csum_add(ConstBytes(d).subspan(2, 6));
    d[2] = 0xaa; d[5] = 0xbb; d[7] = 0xcc;
    const std::uint32_t new_sum = csum_add(ConstBytes(d).subspan(2, 6));
    CHECK(csum_update_sum(hc, old_sum, new_sum) == csum(d));
}
