#include "lib/rewrite/checksum.hpp"

#include <bit>
#include <cstring>

namespace dpcopy::net {

std::uint32_t csum_add(ConstBytes data, std::uint32_t sum) noexcept {
    // RFC 1071 byte-order independence: sum the data as native-order words, 8 bytes at a
    // time (32-bit halves into two 64-bit accumulators: no carry is lost for any span below
    // 2^34 bytes), fold to 16 bits and swap the bytes back on a little-endian host.
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    std::uint64_t a = 0, b = 0;
    while (n >= 32) {
        std::uint64_t w[4];
        std::memcpy(w, p, 32);
        a += (w[0] & 0xffffffffULL) + (w[1] & 0xffffffffULL) + (w[2] & 0xffffffffULL) + (w[3] & 0xffffffffULL);
        b += (w[0] >> 32) + (w[1] >> 32) + (w[2] >> 32) + (w[3] >> 32);
        p += 32;
        n -= 32;
    }
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        a += w & 0xffffffffULL;
        b += w >> 32;
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        a += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        b += w;
        p += 2;
        n -= 2;
    }
    if (n) {  // odd length: the last byte is the high byte of a zero-padded big-endian word
        if constexpr (std::endian::native == std::endian::little) {
            a += p[0];
        } else {
            a += std::uint64_t{p[0]} << 8;
        }
    }
    // fold to 16 bits without data-dependent branches (a, b < 2^62: a + b cannot overflow), so
    // the result depends only on the data's sum, not on how it was split into loads
    std::uint64_t acc = a + b;
    acc = (acc & 0xffffffffULL) + (acc >> 32);  // < 2^33
    acc = (acc & 0xffffULL) + (acc >> 16);      // < 2^17 + 2^16
    acc = (acc & 0xffffULL) + (acc >> 16);      // <= 0xffff + 2
    acc = (acc & 0xffffULL) + (acc >> 16);      // <= 0xffff
    auto w = static_cast<std::uint16_t>(acc);
    if constexpr (std::endian::native == std::endian::little) w = static_cast<std::uint16_t>((w << 8) | (w >> 8));
    // add to the caller's accumulator, keeping the end-around carry
    std::uint64_t r = std::uint64_t{sum} + w;
    r = (r & 0xffffffffULL) + (r >> 32);
    return static_cast<std::uint32_t>(r);
}

std::uint16_t csum_fold(std::uint32_t sum) noexcept {
    sum = (sum & 0xffffU) + (sum >> 16);  // <= 0x1fffe
    sum = (sum & 0xffffU) + (sum >> 16);  // <= 0xffff
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

std::uint16_t pseudo_header_sum6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                                 std::uint32_t l4_len) noexcept {
    std::uint32_t s = csum_add(ConstBytes(src.bytes()));
    s = csum_add(ConstBytes(dst.bytes()), s);
    s += (l4_len >> 16) + (l4_len & 0xffffU) + next_header;  // < 2^32: no carry lost
    return csum_fold(s);
}

std::uint16_t l4_checksum6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header, ConstBytes l4) noexcept {
    std::size_t field = l4.size();  // unknown: no field to skip
    if (next_header == 6) field = 16;
    if (next_header == 17) field = 6;
    if (next_header == 58) field = 2;
    std::uint32_t s = pseudo_header_sum6(src, dst, next_header, static_cast<std::uint32_t>(l4.size()));
    if (field + 2 <= l4.size()) {
        s = csum_add(l4.first(field), s);
        s = csum_add(l4.subspan(field + 2), s);
    } else {
        s = csum_add(l4, s);
    }
    auto c = static_cast<std::uint16_t>(~csum_fold(s));
    if (next_header == 17 && c == 0) c = 0xffff;
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

std::uint16_t csum_update128(std::uint16_t hc, const Ipv6Addr& old_v, const Ipv6Addr& new_v) noexcept {
    return csum_update_sum(hc, csum_add(ConstBytes(old_v.bytes())), csum_add(ConstBytes(new_v.bytes())));
}

}  // namespace dpcopy::net
