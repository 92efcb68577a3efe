// Value types for the headers dpcopy reads and writes. Each has an explicit
// read() from bytes and write() to bytes (network byte order on the wire, host
// order in the struct). read()/write() never check bounds themselves: callers
// pass a span of at least `size` (or wire_size()) bytes; parse.hpp does the checking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;   // 802.1Q C-tag
inline constexpr std::uint16_t qinq = 0x88a8;   // 802.1ad S-tag
inline constexpr std::uint16_t qinq_old = 0x9100;
inline constexpr std::uint16_t ipv6 = 0x86dd;
}  // namespace ethertype

namespace ipproto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t icmpv6 = 58;
}  // namespace ipproto

struct EthHdr {
    static constexpr std::size_t size = 14;
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;
    static EthHdr read(ConstBytes b) noexcept;
    void write(Bytes b) const noexcept;
};

// One 802.1Q / 802.1ad tag: TPID (the ethertype that announced it) and TCI.
struct VlanTag {
    static constexpr std::size_t size = 4;  // TCI + next ethertype
    std::uint16_t tpid = ethertype::vlan;
    std::uint16_t tci = 0;
    constexpr std::uint16_t vid() const noexcept { return tci & 0x0fff; }
    constexpr std::uint8_t pcp() const noexcept { return static_cast<std::uint8_t>(tci >> 13); }
};

struct ArpPkt {
    static constexpr std::size_t size = 28;  // Ethernet/IPv4 ARP only
    static constexpr std::uint16_t op_request = 1;
    static constexpr std::uint16_t op_reply = 2;
    std::uint16_t htype = 1;
    std::uint16_t ptype = ethertype::ipv4;
    std::uint8_t hlen = 6;
    std::uint8_t plen = 4;
    std::uint16_t op = op_request;
    MacAddr sha;
    Ipv4Addr spa;
    MacAddr tha;
    Ipv4Addr tpa;
    static ArpPkt read(ConstBytes b) noexcept;
    void write(Bytes b) const noexcept;
};

struct Ipv4Hdr {
    static constexpr std::size_t min_size = 20;
    static constexpr std::size_t max_size = 60;
    static constexpr std::uint16_t flag_df = 0x4000;
    static constexpr std::uint16_t flag_mf = 0x2000;
    static constexpr std::uint16_t frag_offset_mask = 0x1fff;
    std::uint8_t version = 4;
    std::uint8_t ihl = 5;  // in 32-bit words
    std::uint8_t tos = 0;
    std::uint16_t total_len = 0;
    std::uint16_t id = 0;
    std::uint16_t frag = 0;  // flags + fragment offset
    std::uint8_t ttl = 64;
    std::uint8_t proto = 0;
    std::uint16_t checksum = 0;
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint8_t options_len = 0;  // = ihl*4 - 20
    std::array<std::uint8_t, 40> options{};

    std::size_t header_len() const noexcept { return std::size_t{ihl} * 4; }
    bool is_fragment() const noexcept { return (frag & (flag_mf | frag_offset_mask)) != 0; }
    static Ipv4Hdr read(ConstBytes b) noexcept;  // b holds at least ihl*4 bytes
    void write(Bytes b) const noexcept;           // writes header_len() bytes, checksum as stored
};

namespace tcpflag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcpflag

namespace tcpopt {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::uint8_t wscale = 3;
inline constexpr std::uint8_t sack_permitted = 4;
inline constexpr std::uint8_t sack = 5;
inline constexpr std::uint8_t timestamp = 8;
}  // namespace tcpopt

struct SackBlock {
    Seq left;
    Seq right;
};

struct TcpTimestamp {
    std::uint32_t val = 0;
    std::uint32_t ecr = 0;
};

// Decoded TCP options. Unknown options are counted and kept verbatim (up to the
// 40-byte option space) so a rewrite can carry them through.
struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> wscale;
    bool sack_permitted = false;
    std::optional<TcpTimestamp> ts;
    std::uint8_t sack_count = 0;
    std::array<SackBlock, 4> sack{};
    std::uint8_t unknown_count = 0;
    std::uint8_t unknown_len = 0;            // bytes used in `unknown`
    std::array<std::uint8_t, 40> unknown{};  // kind,len,data... of each unknown option

    // Parses an option area. nullopt when malformed (bad length, runs past the end).
    static std::optional<TcpOptions> read(ConstBytes opts) noexcept;
    // Whether read() would accept the area, without building the struct (for parsers that
    // only validate).
    static bool valid(ConstBytes opts) noexcept;
    // The timestamp option as read() would give it (the last one); nullopt when there is
    // none or the area is malformed.
    static std::optional<TcpTimestamp> read_timestamp(ConstBytes opts) noexcept;
    // Encoded size, padded to a multiple of 4 (may exceed 40: caller checks).
    std::size_t wire_size() const noexcept;
    // Writes wire_size() bytes in a canonical order (MSS, SACK-perm/NOPs, TS, WS, SACK, unknown),
    // padded with NOP/EOL. Returns bytes written, or 0 if it exceeds 40 or out is too small.
    // The layout is Linux's (MSS; SACK-perm+TS or NOP,NOP,TS or NOP,NOP,SACK-perm; NOP,WS;
    // NOP,NOP,SACK), so a kernel's options re-encode byte for byte; unknown options follow
    // verbatim and the end is padded with EOL (0) bytes. read() keeps the last of duplicate
    // known options and stops at EOL (bytes after it are padding, not validated).
    std::size_t write(Bytes out) const noexcept;
    // One's-complement sum (unfolded, as csum_add returns it) of the 16-bit words write()
    // would produce, computed from the values (no bytes are read back): a frame builder adds
    // it to the TCP checksum without loading what it just stored.
    std::uint32_t word_sum() const noexcept;
};

struct TcpHdr {
    static constexpr std::size_t min_size = 20;
    static constexpr std::size_t max_size = 60;
    Port src_port;
    Port dst_port;
    Seq seq;
    Seq ack;
    std::uint8_t data_off = 5;  // in 32-bit words
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t checksum = 0;
    std::uint16_t urgent = 0;

    std::size_t header_len() const noexcept { return std::size_t{data_off} * 4; }
    bool has(std::uint8_t f) const noexcept { return (flags & f) != 0; }
    static TcpHdr read(ConstBytes b) noexcept;  // the fixed 20 bytes
    void write(Bytes b) const noexcept;          // the fixed 20 bytes
};
// (inline: every frame of the data path reads one and every frame it sends writes one)
inline TcpHdr TcpHdr::read(ConstBytes b) noexcept {
    TcpHdr h;
    h.src_port = Port(load_be16(b, 0));
    h.dst_port = Port(load_be16(b, 2));
    h.seq = Seq(load_be32(b, 4));
    h.ack = Seq(load_be32(b, 8));
    h.data_off = static_cast<std::uint8_t>(b[12] >> 4);
    h.flags = b[13];
    h.window = load_be16(b, 14);
    h.checksum = load_be16(b, 16);
    h.urgent = load_be16(b, 18);
    return h;
}

inline void TcpHdr::write(Bytes b) const noexcept {
    store_be16(b, 0, src_port.value());
    store_be16(b, 2, dst_port.value());
    store_be32(b, 4, seq.value());
    store_be32(b, 8, ack.value());
    b[12] = static_cast<std::uint8_t>(data_off << 4);
    b[13] = flags;
    store_be16(b, 14, window);
    store_be16(b, 16, checksum);
    store_be16(b, 18, urgent);
}

struct UdpHdr {
    static constexpr std::size_t size = 8;
    Port src_port;
    Port dst_port;
    std::uint16_t length = 0;
    std::uint16_t checksum = 0;
    static UdpHdr read(ConstBytes b) noexcept;
    void write(Bytes b) const noexcept;
};

struct IcmpEcho {
    static constexpr std::size_t size = 8;
    static constexpr std::uint8_t type_echo_reply = 0;
    static constexpr std::uint8_t type_echo_request = 8;
    std::uint8_t type = type_echo_request;
    std::uint8_t code = 0;
    std::uint16_t checksum = 0;
    std::uint16_t ident = 0;
    std::uint16_t sequence = 0;
    static IcmpEcho read(ConstBytes b) noexcept;
    void write(Bytes b) const noexcept;
};

}  // namespace dpcopy::net
