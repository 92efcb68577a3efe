// IPv6 value parsers of the command line (issue #18, layer 3), and the options that take
// either family: --ip and --gateway (once per family), -c's IPv6 prefix. Pure, like values.hpp.
#pragma once

#include "apps/common/result.hpp"
#include "apps/common/values.hpp"
#include "lib/rewrite/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpcopy::cli {

using net::Ipv6Addr;
using net::Ipv6Prefix;

// An IPv6 address with its on-link prefix, e.g. --ip fd77:40::1/64.
struct IfAddr6 {
    Ipv6Addr ip;
    std::uint8_t prefix = 128;
    // Same prefix, or a link-local address (always on-link, RFC 4861 §5.2).
    bool on_link(const Ipv6Addr& other) const noexcept;
    std::string to_string() const;
    bool operator==(const IfAddr6&) const = default;
};

// An address usable as a unicast host: not ::, ::1, multicast (ff00::/8) nor IPv4-mapped.
Result<Ipv6Addr> parse_host_ipv6(std::string_view text);
// IP/PREFIX with prefix 1..128, a host address (not the prefix's subnet-router anycast
// address, host bits all zero, below /127).
Result<IfAddr6> parse_ifaddr6(std::string_view text);
// "[IPV6]:PORT" (brackets required). An IPv6 address without brackets gets a hint.
Result<net::Ipv6Endpoint> parse_endpoint6(std::string_view text);
// Whether a value names an IPv6 address (holds a ':' outside "A.B.C.D:PORT", or a '[').
bool looks_ipv6(std::string_view text) noexcept;

// --ip and --gateway may each be given once per family.
struct FamilyAddrs {
    std::optional<IfAddr> ip;
    std::optional<IfAddr6> ip6;
    std::optional<Ipv4Addr> gateway;
    std::optional<Ipv6Addr> gateway6;
};
// The --ip (--gateway) values, each a comma list; an error for a bad or empty item, or two of
// one family.
Result<bool> take_ifaddrs(const std::vector<std::string>& values, FamilyAddrs& out);
Result<bool> take_gateways(const std::vector<std::string>& values, FamilyAddrs& out);

// -c split by family: the IPv4 items (for ClientPool::parse, "" when none) and at most one
// IPv6 prefix (e.g. fd77:41::/64, length 1..126: its first hosts are the fake clients).
struct ClientLists {
    std::string ipv4;
    std::optional<Ipv6Prefix> ipv6;
};
Result<ClientLists> split_client_list(std::string_view list);

}  // namespace dpcopy::cli
