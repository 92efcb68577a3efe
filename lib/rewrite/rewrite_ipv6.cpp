// In-place rewrites of IPv6 frames (rewrite.hpp): addresses and hop limit.
#include <cstddef>

#include "lib/rewrite/checksum.hpp"
#include "lib/rewrite/rewrite.hpp"

namespace dpcopy::net {

namespace {

std::size_t l4_checksum_at(const PacketView& v) noexcept {
    switch (v.l4) {
        case L4Kind::tcp: return std::size_t{v.l4_off} + 16;
        case L4Kind::udp: return std::size_t{v.l4_off} + 6;
        case L4Kind::icmpv6: return std::size_t{v.l4_off} + 2;
        case L4Kind::icmp:
        case L4Kind::none: break;
    }
    return 0;
}

// Writes the address at l3_off + field and updates the upper-layer checksum, whose
// pseudo-header covers it. A UDP checksum of 0 (invalid over IPv6, but forwarded as given)
// stays 0; an update landing on 0 is stored as 0xffff.
void set_ip6_addr(Bytes frame, const PacketView& v, std::size_t field, const Ipv6Addr& a) noexcept {
    std::uint8_t* p = frame.data() + v.l3_off + field;
    const Ipv6Addr old_a = Ipv6Addr::load(p);
    a.store(p);
    const std::size_t at = l4_checksum_at(v);
    if (at == 0) return;
    const std::uint16_t hc = load_be16(frame, at);
    if (v.l4 == L4Kind::udp && hc == 0) return;
    std::uint16_t c = csum_update128(hc, old_a, a);
    if (v.l4 == L4Kind::udp && c == 0) c = 0xffff;
    store_be16(frame, at, c);
}

}  // namespace

void set_ip6_src(Bytes frame, const PacketView& v, const Ipv6Addr& a) noexcept { set_ip6_addr(frame, v, 8, a); }
void set_ip6_dst(Bytes frame, const PacketView& v, const Ipv6Addr& a) noexcept { set_ip6_addr(frame, v, 24, a); }

void set_hop_limit(Bytes frame, const PacketView& v, std::uint8_t hop_limit) noexcept {
    frame[std::size_t{v.l3_off} + 7] = hop_limit;
}

}  // namespace dpcopy::net
