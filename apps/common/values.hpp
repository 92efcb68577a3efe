// Value parsers shared by dpcopy and dpintercept. Pure: no DPDK, no I/O except
// the file checks at the bottom. Each returns the value or a short reason; the
// caller turns the reason into the one-line error of errors.hpp.
#pragma once

#include "apps/common/result.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/transfer_map.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpcopy::cli {

using net::Ipv4Addr;
using net::Port;

// An address with its on-link prefix, e.g. --ip 10.0.0.1/24.
struct IfAddr {
    Ipv4Addr ip;
    std::uint8_t prefix = 32;
    Ipv4Addr network() const noexcept;
    Ipv4Addr broadcast() const noexcept;
    bool on_link(Ipv4Addr other) const noexcept;  // same subnet
    std::string to_string() const;
    bool operator==(const IfAddr&) const = default;
};

// A network, host bits zero, e.g. --allow 10.0.0.0/8.
struct Cidr {
    Ipv4Addr network;
    std::uint8_t prefix = 32;
    bool contains(Ipv4Addr ip) const noexcept;
    std::string to_string() const;
    bool operator==(const Cidr&) const = default;
};

// One -x map: [ONLINE_IP:]PORT-TARGET_IP:PORT. No online_ip = any address. The engine's type.
using TransferMap = session::TransferMap;

// One -s entry: IP[:PORT]; no port = the --control-port.
struct Endpoint {
    Ipv4Addr ip;
    std::optional<Port> port;
    bool operator==(const Endpoint&) const = default;
};

inline constexpr std::size_t kMaxTransferMaps = 256;
inline constexpr std::size_t kMaxIntercepts = 32;   // tcpcopy's MAX_REAL_SERVERS
inline constexpr std::size_t kMaxAllowNets = 256;

// Plain unsigned decimal, no sign, no spaces, within [min, max].
Result<std::uint64_t> parse_uint(std::string_view text, std::uint64_t min, std::uint64_t max);
// Plain decimal with at most max_decimals digits after '.', within [min, max]
// ("12.5", "0", "3."); no exponent, sign, nan or inf.
Result<double> parse_decimal(std::string_view text, double min, double max, int max_decimals);

Result<Ipv4Addr> parse_ipv4(std::string_view text);
// An address usable as a unicast host: not 0.0.0.0, 127/8, 224/4 (multicast) or 240/4.
Result<Ipv4Addr> parse_host_ipv4(std::string_view text);
Result<Port> parse_port(std::string_view text);  // 1..65535
// IP/PREFIX with prefix 1..32; the address must be a host of that subnet
// (not its network or broadcast address when the prefix is < 31).
Result<IfAddr> parse_ifaddr(std::string_view text);
// NET/PREFIX (prefix 0..32, host bits must be zero) or a bare address (= /32).
Result<Cidr> parse_cidr(std::string_view text);
Result<std::vector<Cidr>> parse_cidr_list(std::string_view text);
// MAP[,MAP...]; identical maps are merged, one online ip:port toward two
// different targets is an error, and so is a target that is an online service
// (transfer_loop_reason). Either side may be IPv6 in brackets ([fd77::2]:80). A named
// online address sets the captured family it matches; a bare PORT matches the target's
// family (see widen_bare_ports).
Result<std::vector<TransferMap>> parse_transfer_list(std::string_view text);
// A bare PORT map also matches captures of the other family (family mapping) when -c gives
// a pool of its target's family (pool4: IPv4 addresses, pool6: an IPv6 prefix), unless
// another bare map of the same port has a target of the other family (80-A4,80-[B6]:80
// splits port 80 by family).
void widen_bare_ports(std::vector<TransferMap>& maps, bool pool4, bool pool6);
// Why copies sent by `maps` would come back as input, or empty: a map whose target is
// its own online IP:PORT, or the online IP:PORT of another map (copies copied again, a
// loop when two maps point at each other). Maps without an online IP (any address) are
// not checked: "80-10.0.0.2:80" is the usual form, the mirror does not see the target.
std::string transfer_loop_reason(const std::vector<TransferMap>& maps);
// IP[:PORT][,...]; duplicates merged.
Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view text);

// --vlan: ID or OUTER,INNER; IDs 1..4094 (0 is "priority only", 4095 reserved).
inline constexpr std::uint64_t kMaxVlanId = 4094;
Result<std::vector<std::uint16_t>> parse_vlan_ids(std::string_view text);

// Split on ',' keeping empty items (so that "a,,b" and "a," can be rejected).
std::vector<std::string_view> split_commas(std::string_view text);

// File checks done at parse time (the only I/O here). Every input file must be a
// regular file: a FIFO, device or socket is refused before it is opened (opening a
// FIFO without a writer would block forever), and the file is opened with O_NONBLOCK
// and checked again with fstat() in case the path changed in between.
inline constexpr std::size_t kMaxKeyFileBytes = 4096;
// The first max_bytes bytes of a readable regular file (fewer when it is shorter).
Result<std::string> read_file_head(const std::string& path, std::size_t max_bytes);
// A readable regular file.
Result<bool> check_readable_file(const std::string& path);
// A readable regular pcap (any byte order, us or ns) or pcapng file (checks the magic).
Result<bool> check_capture_file(const std::string& path);
// A readable regular file holding 1..kMaxKeyFileBytes bytes (the shared control secret).
Result<bool> check_key_file(const std::string& path);
// A file that can be created or appended to later: its directory exists.
Result<bool> check_writable_path(const std::string& path);
// --metrics: "IP:PORT" (IPv4, port 1..65535), returned as given (normalised).
Result<std::string> parse_listen_address(std::string_view text);

}  // namespace dpcopy::cli
