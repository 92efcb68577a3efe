// Retransmission timeout per RFC 6298 (microsecond units), with Linux's 200 ms floor
// instead of RFC 6298's 1 s (documented in docs/PERFORMANCE.md / engine notes), 1 s
// before the first sample, 60 s ceiling, exponential backoff.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpcopy::session {

struct Rto {
    static constexpr std::uint32_t kInitialUs = 1'000'000;
    static constexpr std::uint32_t kMinUs = 200'000;
    static constexpr std::uint32_t kMaxUs = 60'000'000;
    static constexpr std::uint32_t kGranularityUs = 1'000;  // G: clock granularity (timer wheel tick)

    // srtt == 0: no sample yet
    static void sample(std::uint32_t& srtt, std::uint32_t& rttvar, std::uint32_t& rto, std::uint32_t r_us) noexcept {
        if (r_us == 0) r_us = 1;
        if (srtt == 0) {
            srtt = r_us;
            rttvar = r_us / 2;
        } else {
            const std::uint32_t diff = srtt > r_us ? srtt - r_us : r_us - srtt;
            rttvar = static_cast<std::uint32_t>((3ULL * rttvar + diff) / 4);
            srtt = static_cast<std::uint32_t>((7ULL * srtt + r_us) / 8);
        }
        const std::uint64_t v = std::uint64_t{srtt} + std::max<std::uint64_t>(kGranularityUs, 4ULL * rttvar);
        rto = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(v, kMinUs, kMaxUs));
    }
    // Timeout with `backoff` doublings applied, in ns.
    static std::uint64_t timeout_ns(std::uint32_t rto_us, std::uint32_t backoff) noexcept {
        const std::uint64_t base = rto_us == 0 ? kInitialUs : rto_us;
        const std::uint64_t us = std::min<std::uint64_t>(base << std::min<std::uint32_t>(backoff, 16), kMaxUs);
        return us * 1000ULL;
    }
};

}  // namespace dpcopy::session
