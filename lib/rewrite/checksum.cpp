#include "lib/rewrite/checksum.hpp"

namespace dpcopy::net {

std::uint32_t csum_add(ConstBytes data, std::uint32_t sum) noexcept {
    std::uint64_t acc = sum;
    const std::size_t n = data.size();
    const std::uint8_t* p = data.data();
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) acc += load_be16(p + i);
    if (i < n) acc += static_cast<std::uint64_t>(p[i]) << 8;
    // Fold the 64-bit accumulator into 32 bits (end-around carry keeps the one's-complement sum).
    while (acc >> 32) acc = (acc & 0xffffffffULL) + (acc >> 32);
    return static_cast<std::uint32_t>(acc);
}

std::uint16_t csum_fold(std::uint32_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffffU) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::uint16_t csum(ConstBytes data) noexcept { return static_cast<std::uint16_t>(~csum_fold(csum_add(data))); }

std::uint16_t ipv4_header_checksum(ConstBytes hdr) noexcept {
    if (hdr.size() < 12) return static_cast<std::uint16_t>(~csum_fold(csum_add(hdr)));
    std::uint32_t s = csum_add(hdr.first(10));
    s = csum_add(hdr.subspan(12), s);
    return static_cast<std::uint16_t>(~csum_fold(s));
}

std::uint16_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, std::uint16_t l4_len) noexcept {
    std::uint32_t s = (src.value() >> 16) + (src.value() & 0xffffU) + (dst.value() >> 16) + (dst.value() & 0xffffU) +
                      proto + l4_len;
    return csum_fold(s);
}

std::uint16_t l4_checksum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, ConstBytes l4) noexcept {
    std::size_t field = 0;
    switch (proto) {
        case 6: field = 16; break;
        case 17: field = 6; break;
        case 1: field = 2; break;
        default: field = l4.size(); break;  // unknown: no field to skip
    }
    std::uint32_t s = 0;
    if (proto != 1) s = pseudo_header_sum(src, dst, proto, static_cast<std::uint16_t>(l4.size()));
    if (field + 2 <= l4.size()) {
        s = csum_add(l4.first(field), s);
        s = csum_add(l4.subspan(field + 2), s);
    } else {
        s = csum_add(l4, s);
    }
    auto c = static_cast<std::uint16_t>(~csum_fold(s));
    if (proto == 17 && c == 0) c = 0xffff;
    return c;
}

std::uint16_t csum_update_sum(std::uint16_t hc, std::uint32_t old_sum, std::uint32_t new_sum) noexcept {
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m and m' the (folded) sums of the changed words.
    std::uint32_t s = static_cast<std::uint16_t>(~hc);
    s += static_cast<std::uint16_t>(~csum_fold(old_sum));
    s += csum_fold(new_sum);
    return static_cast<std::uint16_t>(~csum_fold(s));
}

std::uint16_t csum_update16(std::uint16_t hc, std::uint16_t old_v, std::uint16_t new_v) noexcept {
    return csum_update_sum(hc, old_v, new_v);
}

std::uint16_t csum_update32(std::uint16_t hc, std::uint32_t old_v, std::uint32_t new_v) noexcept {
    return csum_update_sum(hc, (old_v >> 16) + (old_v & 0xffffU), (new_v >> 16) + (new_v & 0xffffU));
}

}  // namespace dpcopy::net
