// IPv6 sessions' keys (issue #18, layer 2). The engine's tables stay keyed by net::FlowKey,
// whose address fields are 32 bits: an IPv6 flow's key holds a 32-bit fold of each address
// (fold6), it is hashed with its own seed (key_hash) and the session carries a family marker
// (SessionIdentity::family), so an IPv4 key and an IPv6 one never match. The full addresses
// live in a side table, one SessionAddrs6 (64 bytes, one cache line) per session slot,
// allocated only when a -x entry is IPv6 on either side: the index compares them too, so two
// IPv6 flows whose folds collide stay apart. IPv4 sessions never touch that table.
#pragma once

#include <cstdint>
#include <cstring>

#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::session {

// SessionIdentity::family bits
namespace family {
inline constexpr std::uint8_t original6 = 1u << 0;    // the captured connection is IPv6
inline constexpr std::uint8_t translated6 = 1u << 1;  // the connection to the target is IPv6
}  // namespace family

inline constexpr std::uint64_t kIpv6KeySeed = 0x69707636u;  // "ipv6": IPv6 keys' hash seed

inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// 32 well-mixed bits of an IPv6 address: what an IPv6 flow key holds in place of an address.
inline net::Ipv4Addr fold6(const net::Ipv6Addr& a) noexcept {
    const std::uint8_t* p = a.bytes().data();
    return net::Ipv4Addr(static_cast<std::uint32_t>(net::mix64(load_u64(p) ^ net::mix64(load_u64(p + 8) ^ kIpv6KeySeed))));
}

// The tables' hash of a flow key of either family.
inline std::uint64_t key_hash(const net::FlowKey& k, bool v6) noexcept {
    return v6 ? net::hash_flow(k, kIpv6KeySeed) : net::hash_flow(k);
}

// A frame's IPv6 addresses (source, destination).
struct Addr6Pair {
    net::Ipv6Addr src, dst;
};

// The full addresses of a session's two tuples, where they are IPv6 (family bits say which).
struct alignas(64) SessionAddrs6 {
    net::Ipv6Addr original_src, original_dst;      // captured client, online server
    net::Ipv6Addr translated_src, translated_dst;  // fake client, target
};
static_assert(sizeof(SessionAddrs6) == 64);

// After parse_frame: an IPv6 view's key gets the folds of its addresses (a view's IPv6 key
// holds ports only), so the engine's key code serves both families.
inline void fold_view_key(net::ConstBytes frame, net::PacketView& v) noexcept {
    if (v.l3 != net::L3Kind::ipv6) return;
    v.key.src_ip = fold6(v.src6(frame));
    v.key.dst_ip = fold6(v.dst6(frame));
}

// -r over IPv6: a seeded stable hash of the full addresses and the ports (the same sessions in
// every run, instance and worker, as sampled() for IPv4).
inline bool sampled6(const Addr6Pair& a, const net::FlowKey& k, double percent, std::uint64_t seed) noexcept {
    if (percent >= 100.0) return true;
    if (percent <= 0.0) return false;
    const std::uint8_t* s = a.src.bytes().data();
    const std::uint8_t* d = a.dst.bytes().data();
    std::uint64_t h = net::mix64(seed ^ ((std::uint64_t{k.src_port.value()} << 16) | k.dst_port.value()));
    h = net::mix64(h ^ load_u64(s));
    h = net::mix64(h ^ load_u64(s + 8));
    h = net::mix64(h ^ load_u64(d));
    h = net::mix64(h ^ load_u64(d + 8));
    return static_cast<double>(h % 1'000'000ULL) < percent * 10'000.0;
}

}  // namespace dpcopy::session
