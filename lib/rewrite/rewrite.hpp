// In-place rewrites of a parsed IPv4/TCP (or UDP) frame. Each keeps the IPv4 header
// checksum and the TCP/UDP checksum right by incremental update (RFC 1624); the
// frame's checksums are assumed right on entry (if they were wrong, they stay
// wrong by the same amount, which is what a forwarding device must do).
// Preconditions: `v` came from parse_frame() on this frame, l3 == ipv4, and for
// the TCP functions l4 == tcp.
#pragma once

#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/parse.hpp"

namespace dpcopy::net {

void set_ip_src(Bytes frame, PacketView& v, Ipv4Addr a) noexcept;
void set_ip_dst(Bytes frame, PacketView& v, Ipv4Addr a) noexcept;
void set_ttl(Bytes frame, const PacketView& v, std::uint8_t ttl) noexcept;
void set_ip_id(Bytes frame, const PacketView& v, std::uint16_t id) noexcept;
// UDP: a checksum of 0 ("none") stays 0, and an update landing on 0 is stored as 0xffff.
// ICMP: address rewrites touch only the IPv4 checksum (no pseudo-header); port setters do nothing.
void set_src_port(Bytes frame, PacketView& v, Port p) noexcept;  // TCP or UDP
void set_dst_port(Bytes frame, PacketView& v, Port p) noexcept;  // TCP or UDP
void set_seq(Bytes frame, const PacketView& v, Seq s) noexcept;
void set_ack(Bytes frame, const PacketView& v, Seq s) noexcept;
void set_tcp_flags(Bytes frame, const PacketView& v, std::uint8_t flags) noexcept;
void set_window(Bytes frame, const PacketView& v, std::uint16_t window) noexcept;
// Option rewrites that keep the length. Return false when the option is absent.
bool set_timestamp(Bytes frame, const PacketView& v, std::uint32_t tsval, std::uint32_t tsecr) noexcept;
bool set_mss(Bytes frame, const PacketView& v, std::uint16_t mss) noexcept;
// Replaces every option of `kind` with NOPs (length unchanged). Returns how many were removed
// (0 for kind EOL or NOP).
int remove_tcp_option(Bytes frame, const PacketView& v, std::uint8_t kind) noexcept;

// Adds an option (kind,len,data… in `option`, padded with NOPs to a multiple of 4) to the
// end of the option area, moving the payload. `buf` is the whole buffer (frame + tailroom),
// `frame_len` the frame's current length; both it and `v` are updated. Returns false (frame
// untouched) when the option area would exceed 40 bytes or the buffer has no room.
// Details: the option goes after the last option; an EOL and the padding after it are
// replaced (so an option that fits in that padding keeps the length). The TCP checksum is
// updated incrementally (the payload moves by a multiple of 4, so its sum is unchanged).
// An Ethernet trailer (frame_len > v.frame_len()) keeps the frame at least as long, zeroed.
// `option` must have 2 <= size <= 40 and option[1] == size.
bool add_tcp_option(Bytes buf, std::size_t& frame_len, PacketView& v, ConstBytes option) noexcept;

// IPv6 (l3 == ipv6; rewrite_ipv6.cpp): an address rewrite updates the TCP, UDP or ICMPv6
// checksum by RFC 1624 over the 128-bit field (there is no IPv6 header checksum); the hop
// limit is covered by no checksum. The port, sequence, flag, window and option setters above
// touch only L4 bytes and work on IPv6 frames unchanged; set_ttl, set_ip_id and
// add_tcp_option are IPv4 only (add_tcp_option returns false on IPv6).
void set_ip6_src(Bytes frame, const PacketView& v, const Ipv6Addr& a) noexcept;
void set_ip6_dst(Bytes frame, const PacketView& v, const Ipv6Addr& a) noexcept;
void set_hop_limit(Bytes frame, const PacketView& v, std::uint8_t hop_limit) noexcept;

// Full recomputation, for frames whose checksums are not trusted or were built field by field.
void fill_ipv4_checksum(Bytes frame, const PacketView& v) noexcept;
// TCP, UDP, ICMP or ICMPv6; IPv6 frames with the IPv6 pseudo-header.
void fill_l4_checksum(Bytes frame, const PacketView& v) noexcept;
bool ipv4_checksum_ok(ConstBytes frame, const PacketView& v) noexcept;
bool l4_checksum_ok(ConstBytes frame, const PacketView& v) noexcept;

}  // namespace dpcopy::net
