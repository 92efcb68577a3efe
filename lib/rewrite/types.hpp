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

class Port {
public:
    constexpr Port() noexcept = default;
    constexpr explicit Port(std::uint16_t host_order) noexcept : v_(host_order) {}
    constexpr std::uint16_t value() const noexcept { return v_; }
    constexpr auto operator<=>(const Port&) const noexcept = default;

private:
    std::uint16_t v_ = 0;
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
