#include "lib/mirror/decap.hpp"

namespace dpcopy::mirror {

namespace {

using net::ConstBytes;
using net::load_be16;
using net::load_be32;

constexpr std::size_t eth_size = 14;
constexpr std::size_t vlan_size = 4;
constexpr std::size_t ipv4_min = 20;
constexpr std::size_t ipv6_size = 40;
constexpr std::size_t udp_size = 8;
constexpr std::size_t vxlan_size = 8;
constexpr std::size_t geneve_size = 8;
constexpr std::size_t erspan2_size = 8;
constexpr std::size_t erspan3_size = 12;
constexpr std::size_t erspan3_subheader = 8;

constexpr std::uint16_t ether_ipv4 = 0x0800;
constexpr std::uint16_t ether_ipv6 = 0x86dd;
constexpr std::uint8_t proto_udp = 17;
constexpr std::uint8_t proto_gre = 47;

constexpr std::uint16_t gre_teb = 0x6558;      // transparent Ethernet bridging
constexpr std::uint16_t gre_erspan2 = 0x88be;  // ERSPAN type I (no sequence) and II
constexpr std::uint16_t gre_erspan3 = 0x22eb;
constexpr std::uint16_t gre_flag_c = 0x8000;
constexpr std::uint16_t gre_flag_r = 0x4000;
constexpr std::uint16_t gre_flag_k = 0x2000;
constexpr std::uint16_t gre_flag_s = 0x1000;
constexpr std::uint16_t gre_version_mask = 0x0007;

constexpr std::uint16_t ip_mf = 0x2000;
constexpr std::uint16_t ip_offset_mask = 0x1fff;

Decapsulated reject(DecapCounter why) noexcept { return Decapsulated{why, 0, 0, 0}; }

bool any_selector(const DecapConfig& cfg) noexcept { return cfg.select_vni || cfg.select_session; }

// A frame that is not (or cannot be) an encapsulation this configuration takes.
Decapsulated not_encapsulated(ConstBytes frame, const DecapConfig& cfg) noexcept {
    if (cfg.mode != EncapMode::auto_detect) return reject(DecapCounter::reject_not_encapsulated);
    if (any_selector(cfg)) return reject(DecapCounter::reject_not_selected);
    return Decapsulated{DecapCounter::plain, 0, static_cast<std::uint32_t>(frame.size()), 0};
}

bool takes_udp(const DecapConfig& cfg, std::uint16_t dst_port) noexcept {
    const bool any = cfg.mode == EncapMode::auto_detect;
    return ((any || cfg.mode == EncapMode::vxlan) && dst_port == cfg.vxlan_udp_port) ||
           ((any || cfg.mode == EncapMode::geneve) && dst_port == cfg.geneve_udp_port);
}

bool takes_gre(const DecapConfig& cfg) noexcept {
    return cfg.mode == EncapMode::auto_detect || cfg.mode == EncapMode::erspan || cfg.mode == EncapMode::gretap;
}

// The inner frame is [start, end) of the outer one; `selected`: by vni= / session=.
// Checked last, so a frame not selected is one the open configuration decapsulates.
Decapsulated inner(std::size_t start, std::size_t end, DecapCounter encap, std::uint32_t id, bool selected) noexcept {
    if (end - start < eth_size) return reject(DecapCounter::reject_inner_too_short);
    if (!selected) return reject(DecapCounter::reject_not_selected);
    return Decapsulated{encap, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end - start), id};
}

bool vni_selected(const DecapConfig& cfg, std::uint32_t vni) noexcept {
    return !any_selector(cfg) || (cfg.select_vni && cfg.vni == vni);
}
bool session_selected(const DecapConfig& cfg, bool has_id, std::uint32_t id) noexcept {
    return !any_selector(cfg) || (cfg.select_session && has_id && cfg.session == id);
}

// VXLAN (RFC 7348): flags (I = 0x08), 3 reserved, VNI (24 bits), 1 reserved.
Decapsulated vxlan(ConstBytes f, std::size_t p, std::size_t end, const DecapConfig& cfg) noexcept {
    if (end - p < vxlan_size) return reject(DecapCounter::reject_truncated_outer);
    if ((f[p] & 0x08U) == 0) return reject(DecapCounter::reject_bad_flags);
    const std::uint32_t vni = load_be32(f, p + 4) >> 8;
    return inner(p + vxlan_size, end, DecapCounter::decap_vxlan, vni, vni_selected(cfg, vni));
}

// GENEVE (RFC 8926): Ver(2) OptLen(6, in 4-byte words) | O C Rsvd(6) | Protocol Type |
// VNI(24) Rsvd(8) | options.
Decapsulated geneve(ConstBytes f, std::size_t p, std::size_t end, const DecapConfig& cfg) noexcept {
    if (end - p < geneve_size) return reject(DecapCounter::reject_truncated_outer);
    if ((f[p] >> 6) != 0) return reject(DecapCounter::reject_wrong_version);
    if ((f[p + 1] & 0x80U) != 0) return reject(DecapCounter::reject_bad_flags);  // O: control message
    if (load_be16(f, p + 2) != gre_teb) return reject(DecapCounter::reject_not_ethernet);
    const std::size_t header = geneve_size + std::size_t{f[p] & 0x3fU} * 4;
    if (end - p < header) return reject(DecapCounter::reject_truncated_outer);
    const std::uint32_t vni = load_be32(f, p + 4) >> 8;
    return inner(p + header, end, DecapCounter::decap_geneve, vni, vni_selected(cfg, vni));
}

// The outer UDP datagram is [l4, end).
Decapsulated udp(ConstBytes f, std::size_t l4, std::size_t end, const DecapConfig& cfg) noexcept {
    if (end - l4 < udp_size) return reject(DecapCounter::reject_truncated_outer);
    const std::size_t ulen = load_be16(f, l4 + 4);
    if (ulen < udp_size || ulen > end - l4) return reject(DecapCounter::reject_bad_outer_header);
    end = l4 + ulen;
    const bool is_vxlan = (cfg.mode == EncapMode::auto_detect || cfg.mode == EncapMode::vxlan) &&
                          load_be16(f, l4 + 2) == cfg.vxlan_udp_port;
    return is_vxlan ? vxlan(f, l4 + udp_size, end, cfg) : geneve(f, l4 + udp_size, end, cfg);
}

// ERSPAN II: Ver(4) = 1 | VLAN(12) | COS(3) En(2) T(1) Session(10) | Rsvd(12) Index(20).
// ERSPAN III: Ver(4) = 2 | VLAN(12) | COS(3) BSO(2) T(1) Session(10) | Timestamp(32) |
// SGT(16) P(1) FT(5) HW ID(6) D(1) Gra(2) O(1) [| 8-byte platform subheader when O].
Decapsulated erspan(ConstBytes f, std::size_t p, std::size_t end, bool type3, const DecapConfig& cfg) noexcept {
    const std::size_t fixed = type3 ? erspan3_size : erspan2_size;
    if (end - p < fixed) return reject(DecapCounter::reject_truncated_outer);
    if ((f[p] >> 4) != (type3 ? 2 : 1)) return reject(DecapCounter::reject_wrong_version);
    std::size_t header = fixed;
    if (type3) {
        if (((f[p + 10] >> 2) & 0x1fU) != 0) return reject(DecapCounter::reject_not_ethernet);
        if ((f[p + 11] & 0x01U) != 0) header += erspan3_subheader;
        if (end - p < header) return reject(DecapCounter::reject_truncated_outer);
    }
    const std::uint32_t session = load_be16(f, p + 2) & 0x3ffU;
    return inner(p + header, end, type3 ? DecapCounter::decap_erspan3 : DecapCounter::decap_erspan2, session,
                 session_selected(cfg, true, session));
}

// GRE (RFC 2784, key and sequence RFC 2890): C R K S s Recur(3) Flags(5) Ver(3) | Protocol,
// then checksum + offset (C or R), key (K), sequence (S). The GRE packet is [l4, end).
Decapsulated gre(ConstBytes f, std::size_t l4, std::size_t end, const DecapConfig& cfg) noexcept {
    if (end - l4 < 4) return reject(DecapCounter::reject_truncated_outer);
    const std::uint16_t flags = load_be16(f, l4);
    const std::uint16_t proto = load_be16(f, l4 + 2);
    if ((flags & gre_version_mask) != 0) return reject(DecapCounter::reject_wrong_version);
    if ((flags & gre_flag_r) != 0) return reject(DecapCounter::reject_bad_flags);
    const std::size_t key_off = l4 + 4 + ((flags & gre_flag_c) != 0 ? 4 : 0);
    const std::size_t header = key_off - l4 + ((flags & gre_flag_k) != 0 ? 4 : 0) + ((flags & gre_flag_s) != 0 ? 4 : 0);
    const bool erspan_ok = cfg.mode != EncapMode::gretap;
    const bool gretap_ok = cfg.mode != EncapMode::erspan;
    if ((proto == gre_teb && !gretap_ok) || ((proto == gre_erspan2 || proto == gre_erspan3) && !erspan_ok))
        return reject(DecapCounter::reject_not_encapsulated);
    if (proto != gre_teb && proto != gre_erspan2 && proto != gre_erspan3)
        return reject(DecapCounter::reject_unknown_gre_proto);
    if (end - l4 < header) return reject(DecapCounter::reject_truncated_outer);
    const std::size_t p = l4 + header;
    if (proto == gre_teb) {
        const bool has_key = (flags & gre_flag_k) != 0;
        const std::uint32_t key = has_key ? load_be32(f, key_off) : 0;
        return inner(p, end, DecapCounter::decap_gretap, key, session_selected(cfg, has_key, key));
    }
    if (proto == gre_erspan3) return erspan(f, p, end, true, cfg);
    if ((flags & gre_flag_s) != 0) return erspan(f, p, end, false, cfg);
    // ERSPAN type I: no sequence number and no ERSPAN header (the frame follows GRE).
    return inner(p, end, DecapCounter::decap_erspan1, 0, session_selected(cfg, false, 0));
}

// Outer IPv6 is recognised (to count it) but not decapsulated yet.
Decapsulated ipv6(ConstBytes f, std::size_t off, const DecapConfig& cfg) noexcept {
    if (f.size() - off < ipv6_size) return not_encapsulated(f, cfg);
    const std::uint8_t next = f[off + 6];
    const std::size_t l4 = off + ipv6_size;
    if ((next == proto_gre && takes_gre(cfg)) ||
        (next == proto_udp && f.size() - l4 >= 4 && takes_udp(cfg, load_be16(f, l4 + 2))))
        return reject(DecapCounter::reject_outer_ipv6);
    return not_encapsulated(f, cfg);
}

// Outer IPv4 at `off`: UDP to a tunnel port or GRE, else not encapsulated.
Decapsulated ipv4(ConstBytes f, std::size_t off, const DecapConfig& cfg) noexcept {
    const std::size_t avail = f.size() - off;
    if (avail < ipv4_min || (f[off] >> 4) != 4) return not_encapsulated(f, cfg);
    const std::uint8_t proto = f[off + 9];
    if (proto != proto_udp && proto != proto_gre) return not_encapsulated(f, cfg);
    if (proto == proto_gre && !takes_gre(cfg)) return not_encapsulated(f, cfg);
    const std::size_t ihl = std::size_t{f[off] & 0x0fU} * 4;
    const std::size_t total = load_be16(f, off + 2);
    const bool header_ok = ihl >= ipv4_min && ihl <= avail && total >= ihl && total <= avail;
    const std::uint16_t frag = load_be16(f, off + 6);
    const std::size_t l4 = off + ihl;
    if (proto == proto_udp) {
        // The port decides, when the first fragment's UDP header is there to read.
        const bool first = (frag & ip_offset_mask) == 0;
        if (header_ok && first && total - ihl >= 4 && !takes_udp(cfg, load_be16(f, l4 + 2)))
            return not_encapsulated(f, cfg);
        if (cfg.mode == EncapMode::erspan || cfg.mode == EncapMode::gretap) return not_encapsulated(f, cfg);
    }
    if (!header_ok) return reject(DecapCounter::reject_bad_outer_header);
    if ((frag & (ip_mf | ip_offset_mask)) != 0) return reject(DecapCounter::reject_outer_fragment);
    const std::size_t end = off + total;
    return proto == proto_udp ? udp(f, l4, end, cfg) : gre(f, l4, end, cfg);
}

}  // namespace

Decapsulated decapsulate(ConstBytes frame, const DecapConfig& cfg) noexcept {
    if (cfg.mode == EncapMode::none) return Decapsulated{DecapCounter::plain, 0, static_cast<std::uint32_t>(frame.size()), 0};
    if (frame.size() < eth_size) return not_encapsulated(frame, cfg);
    std::uint16_t type = load_be16(frame, 12);
    std::size_t off = eth_size;
    for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; ++tags) {
        if (tags == 2 || frame.size() - off < vlan_size) return not_encapsulated(frame, cfg);
        type = load_be16(frame, off + 2);
        off += vlan_size;
    }
    if (type == ether_ipv4) return ipv4(frame, off, cfg);
    if (type == ether_ipv6) return ipv6(frame, off, cfg);
    return not_encapsulated(frame, cfg);
}

}  // namespace dpcopy::mirror
