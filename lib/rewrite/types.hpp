// Strong value types for the packet core: addresses, ports, sequence numbers,
// flow keys. Host byte order inside; conversion happens only in read/write.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dpcopy::net {

class Ipv4Addr {
public:
    constexpr Ipv4Addr() noexcept = default;
    constexpr explicit Ipv4Addr(std::uint32_t host_order) noexcept : v_(host_order) {}
    static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
        return Ipv4Addr((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
    }
    // Strict dotted quad: four decimal octets 0..255, no leading '+', no spaces.
    static std::optional<Ipv4Addr> parse(std::string_view text) noexcept;

    constexpr std::uint32_t value() const noexcept { return v_; }
    constexpr std::uint8_t octet(int i) const noexcept { return static_cast<std::uint8_t>(v_ >> (24 - 8 * i)); }
    std::string to_string() const;

    constexpr auto operator<=>(const Ipv4Addr&) const noexcept = default;

private:
    std::uint32_t v_ = 0;
};

// An IPv6 address: the 16 bytes in network order (as on the wire; no host-order form exists).
class Ipv6Addr {
public:
    using Bytes16 = std::array<std::uint8_t, 16>;
    constexpr Ipv6Addr() noexcept = default;
    constexpr explicit Ipv6Addr(const Bytes16& b) noexcept : b_(b) {}
    // Reads 16 bytes in network order (the caller guarantees they exist).
    static Ipv6Addr load(const std::uint8_t* p) noexcept;
    void store(std::uint8_t* p) const noexcept;
    // RFC 4291 §2.2 text: eight hex groups of 1-4 digits, one "::" for a run of zero groups,
    // an optional dotted-quad tail (::ffff:192.0.2.1). Hex in either case; no zone (%eth0),
    // no brackets, no prefix length.
    static std::optional<Ipv6Addr> parse(std::string_view text) noexcept;
    // RFC 5952 §4: lowercase, no leading zeros, the longest run (first of equal ones) of two or
    // more zero groups as "::"; IPv4-mapped addresses (::ffff:0:0/96) with a dotted-quad tail (§5).
    std::string to_string() const;

    constexpr const Bytes16& bytes() const noexcept { return b_; }
    constexpr std::uint16_t group(int i) const noexcept {
        return static_cast<std::uint16_t>((std::uint16_t{b_[static_cast<std::size_t>(2 * i)]} << 8) |
                                          b_[static_cast<std::size_t>(2 * i + 1)]);
    }
    constexpr bool is_unspecified() const noexcept { return *this == Ipv6Addr{}; }
    constexpr bool is_multicast() const noexcept { return b_[0] == 0xff; }
    constexpr bool is_link_local() const noexcept { return b_[0] == 0xfe && (b_[1] & 0xc0) == 0x80; }
    // ff02::1:ffXX:XXXX for this address (RFC 4291 §2.7.1): where NDP solicitations go.
    Ipv6Addr solicited_node() const noexcept;

    constexpr auto operator<=>(const Ipv6Addr&) const noexcept = default;

private:
    Bytes16 b_{};
};

// An IPv6 prefix: address and length 0..128. Bits beyond the length are cleared on
// construction, so equal prefixes compare equal whatever host bits the text had.
class Ipv6Prefix {
public:
    constexpr Ipv6Prefix() noexcept = default;
    Ipv6Prefix(Ipv6Addr addr, std::uint8_t len) noexcept;
    // "addr/len" with len 0..128 in decimal (no leading '+'). parse_strict also refuses host
    // bits set beyond the length (fd77::1/64), for options where that is likely a mistake.
    static std::optional<Ipv6Prefix> parse(std::string_view text) noexcept;
    static std::optional<Ipv6Prefix> parse_strict(std::string_view text) noexcept;
    std::string to_string() const;  // "addr/len", the address as Ipv6Addr::to_string

    constexpr const Ipv6Addr& addr() const noexcept { return addr_; }
    constexpr std::uint8_t len() const noexcept { return len_; }
    bool contains(const Ipv6Addr& a) const noexcept;
    constexpr auto operator<=>(const Ipv6Prefix&) const noexcept = default;

private:
    Ipv6Addr addr_{};
    std::uint8_t len_ = 0;
};

class Port {
public:
    constexpr Port() noexcept = default;
    constexpr explicit Port(std::uint16_t host_order) noexcept : v_(host_order) {}
    constexpr std::uint16_t value() const noexcept { return v_; }
    constexpr auto operator<=>(const Port&) const noexcept = default;

private:
    std::uint16_t v_ = 0;
};

// "[addr]:port" (RFC 3986 §3.2.2 / RFC 5952 §6), port 0..65535 in decimal: the IPv6 form of
// an endpoint in list options. nullopt for anything else (no brackets, zone, missing port).
struct Ipv6Endpoint {
    Ipv6Addr addr;
    Port port;
    static std::optional<Ipv6Endpoint> parse(std::string_view text) noexcept;
    std::string to_string() const;  // "[addr]:port"
    constexpr bool operator==(const Ipv6Endpoint&) const noexcept = default;
};

struct MacAddr {
    std::array<std::uint8_t, 6> b{};
    static constexpr MacAddr broadcast() noexcept { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    constexpr bool is_zero() const noexcept { return (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0; }
    std::string to_string() const;
    constexpr auto operator<=>(const MacAddr&) const noexcept = default;
};

// TCP sequence number: arithmetic and comparison modulo 2^32 (RFC 793 §3.3).
// a < b means "b is after a" within half the sequence space.
class Seq {
public:
    constexpr Seq() noexcept = default;
    constexpr explicit Seq(std::uint32_t v) noexcept : v_(v) {}
    constexpr std::uint32_t value() const noexcept { return v_; }

    constexpr Seq operator+(std::uint32_t n) const noexcept { return Seq(v_ + n); }
    constexpr Seq operator-(std::uint32_t n) const noexcept { return Seq(v_ - n); }
    constexpr Seq& operator+=(std::uint32_t n) noexcept { v_ += n; return *this; }
    constexpr Seq& operator-=(std::uint32_t n) noexcept { v_ -= n; return *this; }
    // Signed distance b - a, valid while |distance| < 2^31.
    friend constexpr std::int32_t operator-(Seq b, Seq a) noexcept {
        return static_cast<std::int32_t>(b.v_ - a.v_);
    }
    friend constexpr bool operator==(Seq a, Seq b) noexcept { return a.v_ == b.v_; }
    friend constexpr bool operator<(Seq a, Seq b) noexcept { return (b - a) > 0; }
    friend constexpr bool operator>(Seq a, Seq b) noexcept { return b < a; }
    friend constexpr bool operator<=(Seq a, Seq b) noexcept { return !(b < a); }
    friend constexpr bool operator>=(Seq a, Seq b) noexcept { return !(a < b); }

private:
    std::uint32_t v_ = 0;
};

constexpr Seq seq_max(Seq a, Seq b) noexcept { return a < b ? b : a; }
constexpr Seq seq_min(Seq a, Seq b) noexcept { return a < b ? a : b; }

// An IPv4 TCP/UDP 4-tuple as seen on the wire (src = sender).
struct FlowKey {
    Ipv4Addr src_ip;
    Ipv4Addr dst_ip;
    Port src_port;
    Port dst_port;

    constexpr FlowKey reversed() const noexcept { return FlowKey{dst_ip, src_ip, dst_port, src_port}; }
    constexpr bool operator==(const FlowKey&) const noexcept = default;
};

// Cheap, well-mixing 64-bit hash of a flow key (not symmetric; see session sharding for that).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
constexpr std::uint64_t hash_flow(const FlowKey& k, std::uint64_t seed = 0) noexcept {
    std::uint64_t a = (std::uint64_t{k.src_ip.value()} << 32) | k.dst_ip.value();
    std::uint64_t b = (std::uint64_t{k.src_port.value()} << 16) | k.dst_port.value();
    return mix64(a ^ mix64(b ^ seed));
}

}  // namespace dpcopy::net

template <>
struct std::hash<dpcopy::net::FlowKey> {
    std::size_t operator()(const dpcopy::net::FlowKey& k) const noexcept { return dpcopy::net::hash_flow(k); }
};
