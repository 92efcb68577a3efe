// Decapsulation of remote mirrors: a frame received on the mirror port may carry the
// mirrored frame inside VXLAN, GENEVE, ERSPAN (type I, II, III) or GRE transparent
// Ethernet bridging (gretap). decapsulate() finds the inner Ethernet frame, or names why
// it refuses the frame; the outcome is also the counter to bump (one per encapsulation,
// one per reject reason), so every frame is counted under exactly one name.
// Pure: byte spans only, no allocation, never reads outside the span.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/counters/counter_set.hpp"
#include "lib/rewrite/bytes.hpp"

namespace dpcopy::mirror {

// X(name, description). The first entries are the outcomes that yield a frame; the rest
// are reject reasons (is_reject()).
#define DPCOPY_DECAP_COUNTERS(X)                                                                        \
    X(plain, "mirrored frames not encapsulated, taken as they are (--mirror-encap auto or none)")     \
    X(decap_vxlan, "mirrored frames taken out of VXLAN")                                              \
    X(decap_geneve, "mirrored frames taken out of GENEVE")                                            \
    X(decap_erspan1, "mirrored frames taken out of ERSPAN type I (GRE 0x88BE without sequence number)") \
    X(decap_erspan2, "mirrored frames taken out of ERSPAN type II")                                   \
    X(decap_erspan3, "mirrored frames taken out of ERSPAN type III")                                  \
    X(decap_gretap, "mirrored frames taken out of GRE transparent Ethernet bridging (gretap)")        \
    X(reject_truncated_outer, "encapsulated frames cut short inside the outer headers")              \
    X(reject_bad_outer_header, "encapsulated frames with a malformed outer IPv4 or UDP header (IHL, lengths)") \
    X(reject_outer_fragment, "fragments of encapsulated frames (outer IPv4; not reassembled)")       \
    X(reject_outer_ipv6, "encapsulations over IPv6 (UDP or GRE in IPv6; not supported yet)")         \
    X(reject_not_encapsulated, "frames that are not the encapsulation --mirror-encap names")         \
    X(reject_unknown_gre_proto, "GRE frames of a protocol other than gretap and ERSPAN")             \
    X(reject_wrong_version, "GRE version not 0, GENEVE version not 0, ERSPAN version not its type's") \
    X(reject_bad_flags, "VXLAN without the I flag, GRE with routing (RFC 1701), GENEVE control packets") \
    X(reject_not_ethernet, "GENEVE protocol type not 0x6558, ERSPAN III frame type not Ethernet")     \
    X(reject_not_selected, "frames of another mirror session than vni=/session= select")             \
    X(reject_inner_too_short, "inner frames shorter than an Ethernet header")

DPCOPY_DEFINE_COUNTERS(DecapCounter, decap_counter_count, decap_counter_names, decap_counter_descriptions,
                       DPCOPY_DECAP_COUNTERS)

struct DecapCounters : counters::CounterSet<DecapCounter, decap_counter_count> {};

// The names prefixed "mirror_" (mirror_decap_vxlan, mirror_reject_not_selected): how
// reports, telemetry and metrics show them next to the other counters. NUL-terminated.
#define DPCOPY_DECAP_QUALIFIED_NAME_(name, desc) std::string_view{"mirror_" #name},
inline constexpr std::array<std::string_view, decap_counter_count> decap_counter_qualified_names{
    DPCOPY_DECAP_COUNTERS(DPCOPY_DECAP_QUALIFIED_NAME_)};
#undef DPCOPY_DECAP_QUALIFIED_NAME_

inline constexpr bool is_reject(DecapCounter c) noexcept { return c >= DecapCounter::reject_truncated_outer; }

// What --mirror-encap asks for.
enum class EncapMode : std::uint8_t {
    auto_detect,  // VXLAN and GENEVE on their ports, ERSPAN, gretap; anything else is plain
    none,         // every frame is plain; nothing is looked at
    vxlan,        // only VXLAN on udp_port; everything else rejected (not_encapsulated)
    geneve,       // only GENEVE on udp_port
    erspan,       // only ERSPAN I/II/III
    gretap,       // only GRE with protocol 0x6558
};

inline constexpr std::uint16_t vxlan_port = 4789;
inline constexpr std::uint16_t geneve_port = 6081;

struct DecapConfig {
    EncapMode mode = EncapMode::auto_detect;
    std::uint16_t vxlan_udp_port = vxlan_port;
    std::uint16_t geneve_udp_port = geneve_port;
    // Selectors: when either is set, only frames carrying a selected id pass: the VNI
    // (VXLAN, GENEVE) must equal `vni`, the ERSPAN session id or the gretap GRE key must
    // equal `session`. Frames of a kind no set selector names (plain frames included) are
    // rejected as not_selected.
    bool select_vni = false;
    std::uint32_t vni = 0;       // 24 bits
    bool select_session = false;
    std::uint32_t session = 0;   // ERSPAN: 10 bits; gretap: the 32-bit GRE key
};

struct Decapsulated {
    DecapCounter outcome = DecapCounter::plain;
    std::uint32_t inner_off = 0;  // where the inner Ethernet frame starts in the outer frame
    std::uint32_t inner_len = 0;  // its length (outer padding excluded)
    std::uint32_t tunnel_id = 0;  // VNI, ERSPAN session id or GRE key (0 when none)

    bool ok() const noexcept { return !is_reject(outcome); }
    net::ConstBytes inner(net::ConstBytes frame) const noexcept { return frame.subspan(inner_off, inner_len); }
};

// Looks at `frame` (outer Ethernet, up to two 802.1Q/802.1ad tags, IPv4) as `cfg` says.
// The outer destination address is not checked: a mirror
// port receives only mirrored traffic.
Decapsulated decapsulate(net::ConstBytes frame, const DecapConfig& cfg) noexcept;

}  // namespace dpcopy::mirror
