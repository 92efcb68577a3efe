#include "apps/common/values6.hpp"

#include <charconv>

namespace dpcopy::cli {

namespace {

std::string quoted(std::string_view s) {
    std::string q("'");
    return q.append(s).append("'");
}

bool is_v4_mapped(const Ipv6Addr& a) noexcept {
    const auto& b = a.bytes();
    for (std::size_t i = 0; i < 10; ++i)
        if (b[i] != 0) return false;
    return b[10] == 0xff && b[11] == 0xff;
}

// Why an address cannot be a unicast host, or empty.
std::string non_host_reason6(const Ipv6Addr& a) {
    if (a.is_unspecified()) return ":: is the unspecified address, not a host address";
    if (a == *Ipv6Addr::parse("::1")) return "::1 is the loopback address (dpcopy sends on a DPDK port, not through the host stack)";
    if (a.is_multicast()) return a.to_string() + " is a multicast address";
    if (is_v4_mapped(a)) return a.to_string() + " is an IPv4-mapped address: write the IPv4 address itself";
    return {};
}

}  // namespace

bool IfAddr6::on_link(const Ipv6Addr& other) const noexcept {
    return other.is_link_local() || Ipv6Prefix(ip, prefix).contains(other);
}

std::string IfAddr6::to_string() const { return ip.to_string() + "/" + std::to_string(prefix); }

bool looks_ipv6(std::string_view text) noexcept {
    return text.find('[') != std::string_view::npos || text.find(':') != text.rfind(':');
}

Result<Ipv6Addr> parse_host_ipv6(std::string_view text) {
    const auto a = Ipv6Addr::parse(text);
    if (!a) {
        if (text.find('%') != std::string_view::npos)
            return fail<Ipv6Addr>(quoted(text) + ": no zone (%IF) here: dpcopy's port is the link");
        return fail<Ipv6Addr>(quoted(text) + " is not an IPv6 address");
    }
    if (auto why = non_host_reason6(*a); !why.empty()) return fail<Ipv6Addr>(why);
    return *a;
}

Result<IfAddr6> parse_ifaddr6(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return fail<IfAddr6>("expected IP/PREFIX, e.g. fd77:40::1/64");
    auto ip = parse_host_ipv6(text.substr(0, slash));
    if (!ip) return fail<IfAddr6>(ip.error());
    auto prefix = parse_uint(text.substr(slash + 1), 1, 128);
    if (!prefix) return fail<IfAddr6>("bad prefix length " + quoted(text.substr(slash + 1)) + ": " + prefix.error());
    IfAddr6 a{*ip, static_cast<std::uint8_t>(*prefix)};
    if (a.prefix < 127 && Ipv6Prefix(a.ip, a.prefix).addr() == a.ip)
        return fail<IfAddr6>(a.ip.to_string() + " is the subnet-router anycast address of " +
                             Ipv6Prefix(a.ip, a.prefix).to_string() + " (host bits all zero)");
    return a;
}

Result<net::Ipv6Endpoint> parse_endpoint6(std::string_view text) {
    if (text.empty() || text.front() != '[')
        return fail<net::Ipv6Endpoint>("IPv6 address without brackets in " + quoted(text) + ": write [IPV6]:PORT");
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail<net::Ipv6Endpoint>("no ']' in " + quoted(text) + ": write [IPV6]:PORT");
    auto ip = parse_host_ipv6(text.substr(1, close - 1));
    if (!ip) return fail<net::Ipv6Endpoint>(ip.error());
    if (close + 1 >= text.size() || text[close + 1] != ':')
        return fail<net::Ipv6Endpoint>("expected [IPV6]:PORT in " + quoted(text));
    auto port = parse_port(text.substr(close + 2));
    if (!port) return fail<net::Ipv6Endpoint>(port.error());
    return net::Ipv6Endpoint{*ip, *port};
}

namespace {

// Each value of a repeatable option, split on commas; an empty item is an error.
Result<std::vector<std::string>> items_of(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const std::string& v : values)
        for (auto item : split_commas(v)) {
            if (item.empty()) return fail<std::vector<std::string>>("empty item in the list");
            out.emplace_back(item);
        }
    return out;
}

}  // namespace

Result<bool> take_ifaddrs(const std::vector<std::string>& values, FamilyAddrs& out) {
    auto items = items_of(values);
    if (!items) return fail<bool>(items.error());
    for (const std::string& v : *items) {
        if (looks_ipv6(v)) {
            auto a = parse_ifaddr6(v);
            if (!a) return fail<bool>(a.error());
            if (out.ip6) return fail<bool>("given twice for IPv6 (" + out.ip6->to_string() + " and " + a->to_string() +
                                           "): at most one --ip per family");
            out.ip6 = *a;
        } else {
            auto a = parse_ifaddr(v);
            if (!a) return fail<bool>(a.error());
            if (out.ip) return fail<bool>("given twice for IPv4 (" + out.ip->to_string() + " and " + a->to_string() +
                                          "): at most one --ip per family");
            out.ip = *a;
        }
    }
    return true;
}

Result<bool> take_gateways(const std::vector<std::string>& values, FamilyAddrs& out) {
    auto items = items_of(values);
    if (!items) return fail<bool>(items.error());
    for (const std::string& v : *items) {
        if (looks_ipv6(v)) {
            auto a = parse_host_ipv6(v);
            if (!a) return fail<bool>(a.error());
            if (out.gateway6) return fail<bool>("given twice for IPv6: at most one --gateway per family");
            out.gateway6 = *a;
        } else {
            auto a = parse_host_ipv4(v);
            if (!a) return fail<bool>(a.error());
            if (out.gateway) return fail<bool>("given twice for IPv4: at most one --gateway per family");
            out.gateway = *a;
        }
    }
    return true;
}

Result<ClientLists> split_client_list(std::string_view list) {
    ClientLists out;
    for (auto item : split_commas(list)) {
        if (item.empty()) return fail<ClientLists>("empty item in the list");
        if (item.find(':') == std::string_view::npos) {
            if (!out.ipv4.empty()) out.ipv4 += ',';
            out.ipv4.append(item);
            continue;
        }
        if (item.find('/') == std::string_view::npos)
            return fail<ClientLists>("an IPv6 pool is a prefix, e.g. fd77:41::/64 (" + quoted(item) + " has no /LEN)");
        const auto p = Ipv6Prefix::parse(item);
        if (!p) return fail<ClientLists>(quoted(item) + " is not an IPv6 prefix (e.g. fd77:41::/64)");
        if (!Ipv6Prefix::parse_strict(item))
            return fail<ClientLists>(quoted(item) + " has host bits set (did you mean " + p->to_string() + "?)");
        if (p->len() > 126) return fail<ClientLists>(quoted(item) + " is too small: an IPv6 pool is at most a /126");
        if (p->addr().is_multicast() || p->addr().is_link_local() || p->len() < 8)
            return fail<ClientLists>(quoted(item) + " is not a unicast prefix for fake clients");
        if (out.ipv6) return fail<ClientLists>("two IPv6 prefixes (" + out.ipv6->to_string() + " and " + p->to_string() +
                                               "): -c takes at most one (a /64 holds every tuple)");
        out.ipv6 = *p;
    }
    return out;
}

}  // namespace dpcopy::cli
