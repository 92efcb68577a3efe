// Properties of lib/mirror's decapsulation over the fixtures of tests/data/mirror:
//  - every truncation point, with the outer IPv4 and UDP lengths fitted to the cut: plain
//    before the outer IPv4 header is whole, truncated_outer up to the inner frame,
//    inner_too_short within its first 14 bytes, the shortened inner frame after;
//  - every truncation point with the lengths left as they were: never a frame;
//  - outer 802.1Q/802.1ad tags (0 to 2) move nothing but the offsets;
//  - 200,000 random corruptions of outer bytes: the answer stays inside the frame.
// Each frame is copied into a buffer of its exact size so ASan sees any read beyond it.
// Seed: DPCOPY_SEED overrides the fixed default.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <random>

#include "lib/mirror/decap.hpp"
#include "lib/rewrite/bytes.hpp"
#include "tests/mirror/mirror_util.hpp"

using namespace dpcopy;
using namespace dpcopy::mirror;
using namespace mirrortest;

namespace {

// Decapsulates the first `n` bytes of `f` from a heap block of exactly `n` bytes.
Decapsulated exact(const Frame& f, std::size_t n, const DecapConfig& cfg = {}) {
    const std::unique_ptr<std::uint8_t[]> block(new std::uint8_t[n == 0 ? 1 : n]);
    std::copy(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n), block.get());
    return decapsulate(net::ConstBytes(block.get(), n), cfg);
}

// `f` cut to `n` bytes with the outer IPv4 total length (and UDP length) fitted to the cut.
Frame cut_fitted(const Frame& f, std::size_t n, const Fixture& fx) {
    Frame c(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
    if (n >= fx.ip_off + 4) net::store_be16(c.data() + fx.ip_off + 2, static_cast<std::uint16_t>(n - fx.ip_off));
    if (fx.udp && n >= fx.l4_off + 6) net::store_be16(c.data() + fx.l4_off + 4, static_cast<std::uint16_t>(n - fx.l4_off));
    return c;
}

Frame with_tags(const Frame& f, int tags) {
    Frame t(f.begin(), f.begin() + 12);
    const std::uint16_t tpids[2] = {0x88a8, 0x8100};
    for (int i = 0; i < tags; ++i) {
        const std::uint16_t tpid = tags == 2 ? tpids[i] : 0x8100;
        t.push_back(static_cast<std::uint8_t>(tpid >> 8));
        t.push_back(static_cast<std::uint8_t>(tpid));
        t.push_back(0x00);
        t.push_back(static_cast<std::uint8_t>(10 + i));
    }
    t.insert(t.end(), f.begin() + 12, f.end());
    return t;
}

std::uint64_t seed() {
    const char* s = std::getenv("DPCOPY_SEED");
    return s ? std::strtoull(s, nullptr, 10) : 0x6d6972726f72ULL;
}

}  // namespace

TEST_CASE("property: every truncation point, lengths fitted", "[decap][property]") {
    for (const Fixture& fx : fixtures()) {
        for (const Frame& f : read_pcap(fx.file)) {
            for (std::size_t n = 0; n <= f.size(); ++n) {
                INFO(fx.file << " cut at " << n << " of " << f.size());
                const Frame c = cut_fitted(f, n, fx);
                const Decapsulated d = exact(c, n);
                if (n < fx.ip_off + 20) {
                    CHECK(d.outcome == DecapCounter::plain);
                    CHECK(d.inner_len == n);
                } else if (n < fx.inner_off) {
                    CHECK(d.outcome == DecapCounter::reject_truncated_outer);
                } else if (n < fx.inner_off + 14) {
                    CHECK(d.outcome == DecapCounter::reject_inner_too_short);
                } else {
                    REQUIRE(d.outcome == fx.outcome);
                    CHECK(d.inner_off == fx.inner_off);
                    CHECK(d.inner_len == n - fx.inner_off);
                }
            }
        }
    }
}

TEST_CASE("property: every truncation point, lengths as they were", "[decap][property]") {
    for (const Fixture& fx : fixtures()) {
        for (const Frame& f : read_pcap(fx.file)) {
            for (std::size_t n = 0; n < f.size(); ++n) {
                INFO(fx.file << " cut at " << n);
                const Decapsulated d = exact(f, n);
                if (n < fx.ip_off + 20) CHECK(d.outcome == DecapCounter::plain);
                else CHECK(d.outcome == DecapCounter::reject_bad_outer_header);
            }
        }
    }
}

TEST_CASE("property: outer tags move only the offsets", "[decap][property]") {
    for (const Fixture& fx : fixtures()) {
        const std::size_t own_tags = (fx.ip_off - 14) / 4;
        for (const Frame& f : read_pcap(fx.file)) {
            const Decapsulated base = exact(f, f.size());
            for (int tags = 0; tags + static_cast<int>(own_tags) <= 3; ++tags) {
                INFO(fx.file << " +" << tags << " tags");
                const Frame t = with_tags(f, tags);
                const Decapsulated d = exact(t, t.size());
                if (static_cast<std::size_t>(tags) + own_tags > 2) {
                    CHECK(d.outcome == DecapCounter::plain);  // three tags: not a frame we look into
                    continue;
                }
                CHECK(d.outcome == base.outcome);
                CHECK(d.inner_off == base.inner_off + 4U * static_cast<unsigned>(tags));
                CHECK(d.inner_len == base.inner_len);
                CHECK(d.tunnel_id == base.tunnel_id);
            }
        }
    }
}

TEST_CASE("property: random corruption of the outer headers stays inside the frame", "[decap][property]") {
    std::mt19937_64 rng(seed());
    INFO("DPCOPY_SEED=" << seed());
    std::vector<Frame> frames;
    std::vector<std::size_t> inner_offs;
    for (const Fixture& fx : fixtures())
        for (const Frame& f : read_pcap(fx.file)) {
            frames.push_back(f);
            inner_offs.push_back(fx.inner_off);
        }
    REQUIRE(frames.size() == 100);
    const EncapMode modes[] = {EncapMode::auto_detect, EncapMode::vxlan, EncapMode::geneve, EncapMode::erspan, EncapMode::gretap};
    std::size_t decapsulated = 0, rejected = 0;
    for (int round = 0; round < 200000; ++round) {
        const std::size_t k = rng() % frames.size();
        Frame f = frames[k];
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) f[rng() % inner_offs[k]] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
        const std::size_t n = rng() % 8 == 0 ? rng() % (f.size() + 1) : f.size();
        DecapConfig cfg;
        cfg.mode = modes[rng() % 5];
        if (rng() % 4 == 0) {
            cfg.select_vni = true;
            cfg.vni = rng() % 2 == 0 ? 42 : static_cast<std::uint32_t>(rng() & 0xffffff);
        }
        const Decapsulated d = exact(f, n, cfg);
        INFO("round " << round);
        REQUIRE(std::size_t{d.inner_off} + d.inner_len <= n);
        if (d.outcome == DecapCounter::plain) {
            REQUIRE(d.inner_off == 0);
            REQUIRE(d.inner_len == n);
        } else if (d.ok()) {
            REQUIRE(d.inner_len >= 14);
            ++decapsulated;
        } else {
            ++rejected;
        }
    }
    CHECK(decapsulated > 1000);  // the corruption leaves many frames intact enough
    CHECK(rejected > 1000);
}
