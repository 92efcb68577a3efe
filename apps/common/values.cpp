#include "apps/common/values.hpp"
#include "apps/common/option_hints.hpp"
#include "apps/common/values6.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpcopy::cli {

namespace {

std::uint32_t mask_of(unsigned prefix) noexcept {
    return prefix == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix);
}

std::string quoted(std::string_view s) {
    std::string q("'");  // (built stepwise: g++ 12 -O3 warns -Wrestrict on "'" + string)
    return q.append(s).append("'");
}

// Why an address cannot be a unicast host, or empty.
std::string non_host_reason(Ipv4Addr a) {
    const std::uint32_t v = a.value();
    if (v == 0) return "0.0.0.0 is not a host address";
    if ((v >> 24) == 0) return a.to_string() + " is in 0.0.0.0/8 (this network), not a host address";
    if ((v >> 24) == 127) return a.to_string() + " is a loopback address (dpcopy sends on a DPDK port, not through the host stack)";
    if ((v >> 28) == 0xe) return a.to_string() + " is a multicast address";
    if ((v >> 28) == 0xf) return a.to_string() + " is a reserved or broadcast address";
    return {};
}

// "IP" or "IP/N": returns ip and prefix text (empty when absent).
struct SlashSplit {
    std::string_view ip;
    std::optional<std::string_view> prefix;
};
SlashSplit split_slash(std::string_view text) {
    const auto pos = text.find('/');
    if (pos == std::string_view::npos) return {text, std::nullopt};
    return {text.substr(0, pos), text.substr(pos + 1)};
}

// "IP:PORT" (port required) or "IP" when port_optional.
struct HostPort {
    Ipv4Addr ip;
    std::optional<Port> port;
};
Result<HostPort> parse_host_port(std::string_view text, bool port_optional) {
    const auto pos = text.rfind(':');
    if (pos == std::string_view::npos) {
        if (!port_optional) return fail<HostPort>("expected IP:PORT in " + quoted(text));
        auto ip = parse_host_ipv4(text);
        if (!ip) return fail<HostPort>(ip.error());
        return HostPort{*ip, std::nullopt};
    }
    auto ip = parse_host_ipv4(text.substr(0, pos));
    if (!ip) return fail<HostPort>(ip.error());
    auto port = parse_port(text.substr(pos + 1));
    if (!port) return fail<HostPort>(port.error());
    return HostPort{*ip, *port};
}

}  // namespace

Ipv4Addr IfAddr::network() const noexcept { return Ipv4Addr(ip.value() & mask_of(prefix)); }
Ipv4Addr IfAddr::broadcast() const noexcept { return Ipv4Addr(ip.value() | ~mask_of(prefix)); }
bool IfAddr::on_link(Ipv4Addr other) const noexcept {
    return ((ip.value() ^ other.value()) & mask_of(prefix)) == 0;
}
std::string IfAddr::to_string() const { return ip.to_string() + "/" + std::to_string(prefix); }

bool Cidr::contains(Ipv4Addr ip) const noexcept {
    return ((ip.value() ^ network.value()) & mask_of(prefix)) == 0;
}
std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

std::vector<std::string_view> split_commas(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const auto pos = text.find(',', start);
        if (pos == std::string_view::npos) {
            out.push_back(text.substr(start));
            return out;
        }
        out.push_back(text.substr(start, pos - start));
        start = pos + 1;
    }
}

Result<std::uint64_t> parse_uint(std::string_view text, std::uint64_t min, std::uint64_t max) {
    const std::string range = "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (text.empty()) return fail<std::uint64_t>("empty value; " + range);
    for (char c : text)
        if (c < '0' || c > '9') return fail<std::uint64_t>("not a plain decimal integer; " + range);
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range || v < min || v > max) return fail<std::uint64_t>("out of range; " + range);
    if (ec != std::errc() || ptr != text.data() + text.size()) return fail<std::uint64_t>(range);
    return v;
}

Result<double> parse_decimal(std::string_view text, double min, double max, int max_decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "expected a number from %g to %g", min, max);
    const std::string range = buf;
    if (text.empty()) return fail<double>("empty value; " + range);
    std::size_t i = 0;
    std::size_t int_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') { ++i; ++int_digits; }
    std::size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') { ++i; ++frac_digits; }
    }
    if (i != text.size() || int_digits + frac_digits == 0 || int_digits > 9)
        return fail<double>("not a plain decimal number; " + range);
    if (frac_digits > static_cast<std::size_t>(max_decimals))
        return fail<double>("at most " + std::to_string(max_decimals) + " digits after the decimal point");
    double v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    if (ec != std::errc() || !std::isfinite(v)) return fail<double>(range);
    if (v < min || v > max) return fail<double>("out of range; " + range);
    return v;
}

Result<Ipv4Addr> parse_ipv4(std::string_view text) {
    auto ip = Ipv4Addr::parse(text);
    if (!ip) return fail<Ipv4Addr>(quoted(text) + " is not an IPv4 address (A.B.C.D, each 0..255)");
    return *ip;
}

Result<Ipv4Addr> parse_host_ipv4(std::string_view text) {
    auto ip = parse_ipv4(text);
    if (!ip) return ip;
    if (auto why = non_host_reason(*ip); !why.empty()) return fail<Ipv4Addr>(why);
    return ip;
}

Result<Port> parse_port(std::string_view text) {
    auto v = parse_uint(text, 1, 65535);
    if (!v) return fail<Port>("bad port " + quoted(text) + ": " + v.error());
    return Port(static_cast<std::uint16_t>(*v));
}

Result<IfAddr> parse_ifaddr(std::string_view text) {
    const auto parts = split_slash(text);
    if (!parts.prefix) return fail<IfAddr>("expected IP/PREFIX, e.g. 10.0.0.1/24");
    auto ip = parse_host_ipv4(parts.ip);
    if (!ip) return fail<IfAddr>(ip.error());
    auto prefix = parse_uint(*parts.prefix, 1, 32);
    if (!prefix) return fail<IfAddr>("bad prefix length " + quoted(*parts.prefix) + ": " + prefix.error());
    IfAddr a{*ip, static_cast<std::uint8_t>(*prefix)};
    if (a.prefix < 31 && a.ip == a.network())
        return fail<IfAddr>(a.ip.to_string() + " is the network address of " + a.network().to_string() + "/" +
                            std::to_string(a.prefix));
    if (a.prefix < 31 && a.ip == a.broadcast())
        return fail<IfAddr>(a.ip.to_string() + " is the broadcast address of " + a.network().to_string() + "/" +
                            std::to_string(a.prefix));
    return a;
}

Result<Cidr> parse_cidr(std::string_view text) {
    const auto parts = split_slash(text);
    auto ip = parse_ipv4(parts.ip);
    if (!ip) return fail<Cidr>(ip.error());
    unsigned prefix = 32;
    if (parts.prefix) {
        auto p = parse_uint(*parts.prefix, 0, 32);
        if (!p) return fail<Cidr>("bad prefix length " + quoted(*parts.prefix) + ": " + p.error());
        prefix = static_cast<unsigned>(*p);
    }
    const std::uint32_t net = ip->value() & mask_of(prefix);
    if (net != ip->value())
        return fail<Cidr>(quoted(text) + " has host bits set (did you mean " + Ipv4Addr(net).to_string() + "/" +
                          std::to_string(prefix) + "?)");
    return Cidr{*ip, static_cast<std::uint8_t>(prefix)};
}

Result<std::vector<Cidr>> parse_cidr_list(std::string_view text) {
    std::vector<Cidr> out;
    for (auto item : split_commas(text)) {
        if (item.empty()) return fail<std::vector<Cidr>>("empty item in the list");
        auto c = parse_cidr(item);
        if (!c) return fail<std::vector<Cidr>>(c.error());
        if (std::find(out.begin(), out.end(), *c) == out.end()) out.push_back(*c);
        if (out.size() > kMaxAllowNets)
            return fail<std::vector<Cidr>>("more than " + std::to_string(kMaxAllowNets) + " networks");
    }
    return out;
}

namespace {

// A map's target as TARGET_IP:PORT ([IPV6]:PORT).
std::string target_text(const TransferMap& m) {
    const std::string ip = m.target_ip6 ? "[" + m.target_ip6->to_string() + "]" : m.target_ip.to_string();
    return ip + ":" + std::to_string(m.target_port.value());
}

// Whether o's online ip:port (a named address) is m's target.
bool online_is_target(const TransferMap& o, const TransferMap& m) {
    if (o.online_port != m.target_port) return false;
    if (m.target_ip6) return o.online_ip6 && *o.online_ip6 == *m.target_ip6;
    return o.online_ip && *o.online_ip == m.target_ip;
}

bool same_online(const TransferMap& a, const TransferMap& b) {
    return a.online_ip == b.online_ip && a.online_ip6 == b.online_ip6 && a.online_family == b.online_family &&
           a.online_port == b.online_port;
}

// One side of a map: [IP:]PORT (online, IP optional) or IP:PORT; IPv6 addresses in brackets.
struct Side {
    std::optional<Ipv4Addr> ip;
    std::optional<net::Ipv6Addr> ip6;
    Port port;
};

Result<Side> parse_side(std::string_view text, bool online) {
    const std::string name = online ? "online side" : "target side";
    if (text.find('[') != std::string_view::npos || text.find(':') != text.rfind(':')) {
        auto ep = parse_endpoint6(text);
        if (!ep) return fail<Side>(name + ": " + ep.error());
        return Side{std::nullopt, ep->addr, ep->port};
    }
    if (text.find(':') == std::string_view::npos) {
        if (!online) return fail<Side>(name + " " + quoted(text) + " must be TARGET_IP:PORT");
        if (text.find('.') != std::string_view::npos)
            return fail<Side>(name + " " + quoted(text) + " needs a port (ONLINE_IP:PORT)");
        auto port = parse_port(text);
        if (!port) return fail<Side>(name + ": " + port.error());
        return Side{std::nullopt, std::nullopt, *port};
    }
    auto hp = parse_host_port(text, false);
    if (!hp) return fail<Side>(name + ": " + hp.error());
    return Side{hp->ip, std::nullopt, *hp->port};
}

Result<TransferMap> parse_transfer(std::string_view item) {
    const auto dash = item.find('-');
    if (dash == std::string_view::npos || item.find('-', dash + 1) != std::string_view::npos)
        return fail<TransferMap>(quoted(item) + " is not [ONLINE_IP:]PORT-TARGET_IP:PORT");
    auto online = parse_side(item.substr(0, dash), true);
    if (!online) return fail<TransferMap>(online.error());
    auto target = parse_side(item.substr(dash + 1), false);
    if (!target) return fail<TransferMap>(target.error());
    TransferMap m;
    m.online_ip = online->ip;
    m.online_ip6 = online->ip6;
    m.online_port = online->port;
    if (target->ip) m.target_ip = *target->ip;
    m.target_ip6 = target->ip6;
    m.target_port = target->port;
    // A named online address says the captured family; a bare port, the target's (widened
    // to both families by widen_bare_ports when -c gives a pool for the mapping).
    const bool v6 = online->ip6 || (!online->ip && target->ip6);
    m.online_family = v6 ? session::OnlineFamily::ipv6 : session::OnlineFamily::ipv4;
    return m;
}

}  // namespace

std::string transfer_loop_reason(const std::vector<TransferMap>& maps) {
    const auto q = [](const TransferMap& m) {
        const std::string text = m.to_string();
        return quoted(std::string_view(text));
    };
    for (const auto& m : maps) {
        if (online_is_target(m, m))
            return q(m) + " sends the copies to the online service itself (the target must be another server)";
    }
    for (const auto& m : maps) {
        for (const auto& o : maps) {
            if (online_is_target(o, m))
                return "the target of " + q(m) + " is the online service of " + q(o) + ": its copies would be copied again";
        }
    }
    return {};
}

Result<std::vector<TransferMap>> parse_transfer_list(std::string_view text) {
    using R = std::vector<TransferMap>;
    R out;
    for (auto item : split_commas(text)) {
        if (item.empty()) return fail<R>("empty map in the list; expected [ONLINE_IP:]PORT-TARGET_IP:PORT");
        auto m = parse_transfer(item);
        if (!m) return fail<R>(m.error());
        if (std::find(out.begin(), out.end(), *m) != out.end()) continue;  // merged
        for (const auto& o : out)
            if (same_online(o, *m))
                return fail<R>("ambiguous: " + m->to_string().substr(0, m->to_string().find('-')) +
                               " is mapped to both " + target_text(o) + " and " + target_text(*m));
        out.push_back(*m);
        if (out.size() > kMaxTransferMaps)
            return fail<R>("more than " + std::to_string(kMaxTransferMaps) + " maps");
    }
    if (auto why = transfer_loop_reason(out); !why.empty()) return fail<R>(why);
    return out;
}

void widen_bare_ports(std::vector<TransferMap>& maps, bool pool4, bool pool6) {
    const auto bare = [](const TransferMap& m) { return !m.online_ip && !m.online_ip6; };
    for (TransferMap& m : maps) {
        if (!bare(m) || !(m.target_is_ipv6() ? pool6 : pool4)) continue;
        const bool other_claimed = std::any_of(maps.begin(), maps.end(), [&](const TransferMap& o) {
            return &o != &m && bare(o) && o.online_port == m.online_port && o.target_is_ipv6() != m.target_is_ipv6();
        });
        if (!other_claimed) m.online_family = session::OnlineFamily::both;
    }
}

Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view text) {
    using R = std::vector<Endpoint>;
    R out;
    for (auto item : split_commas(text)) {
        if (item.empty()) return fail<R>("empty item in the list; expected IP[:PORT]");
        auto hp = parse_host_port(item, true);
        if (!hp) return fail<R>(hp.error());
        Endpoint e{hp->ip, hp->port};
        if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
        if (out.size() > kMaxIntercepts)
            return fail<R>("more than " + std::to_string(kMaxIntercepts) + " intercepts");
    }
    return out;
}

Result<std::vector<std::uint16_t>> parse_vlan_ids(std::string_view text) {
    using R = std::vector<std::uint16_t>;
    const auto items = split_commas(text);
    if (items.size() > 2) return fail<R>("at most two VLAN IDs (outer,inner)");
    R out;
    for (auto item : items) {
        auto v = parse_uint(item, 1, kMaxVlanId);
        if (!v) return fail<R>("bad VLAN ID " + quoted(item) + ": " + v.error());
        out.push_back(static_cast<std::uint16_t>(*v));
    }
    return out;
}

namespace {

// What a path that is not a regular file is, for the error line.
std::string not_regular_reason(mode_t mode) {
    if (S_ISDIR(mode)) return "is a directory";
    if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file";
    if (S_ISSOCK(mode)) return "is a socket, not a regular file";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a regular file";
    return "is not a regular file";
}

}  // namespace

Result<std::string> read_file_head(const std::string& path, std::size_t max_bytes) {
    using R = std::string;
    if (path.empty()) return fail<R>("empty file name");
    // stat() first: a FIFO, device or socket is refused before anything opens it.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return fail<R>(errno == ENOENT ? std::string("no such file") : std::string("cannot be read: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail<R>(not_regular_reason(st.st_mode));
    // O_NONBLOCK: should the path have been replaced by a FIFO since, open() returns at
    // once instead of waiting for a writer; fstat() then tells what was opened.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return fail<R>(std::string("cannot be read: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::fstat(fd, &st) != 0) return fail<R>(std::string("cannot be read: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail<R>(not_regular_reason(st.st_mode));
    std::string bytes(max_bytes, '\0');
    std::size_t got = 0;
    while (got < max_bytes) {
        const ssize_t n = ::read(fd, bytes.data() + got, max_bytes - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail<R>(std::string("cannot be read: ") + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    return bytes;
}

Result<bool> check_readable_file(const std::string& path) {
    auto head = read_file_head(path, 1);
    if (!head) return fail<bool>(head.error());
    return true;
}

Result<bool> check_capture_file(const std::string& path) {
    auto head = read_file_head(path, 4);
    if (!head && is_network_interface(path))  // tcpcopy's -i took a device
        return fail<bool>("no such file, but a network interface: -i replays a capture file; to copy live from " +
                          path + ", give EAL --vdev net_af_packet0,iface=" + path + " (docs/deploy.md)");
    if (!head) return fail<bool>(head.error());
    if (head->size() < 4) return fail<bool>("too short to be a pcap or pcapng file");
    const auto m = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>((*head)[i])); };
    const std::uint32_t be = (m(0) << 24) | (m(1) << 16) | (m(2) << 8) | m(3);
    switch (be) {
        case 0xa1b2c3d4: case 0xd4c3b2a1:  // pcap, microseconds
        case 0xa1b23c4d: case 0x4d3cb2a1:  // pcap, nanoseconds
        case 0x0a0d0d0a:                   // pcapng section header block
            return true;
        default:
            return fail<bool>("not a pcap or pcapng file (unknown magic number)");
    }
}

Result<bool> check_key_file(const std::string& path) {
    // one byte more than allowed, to tell an oversized key from a full one
    auto key = read_file_head(path, kMaxKeyFileBytes + 1);
    if (!key) return fail<bool>(key.error());
    if (key->empty()) return fail<bool>("the key file is empty");
    if (key->size() > kMaxKeyFileBytes)
        return fail<bool>("the key file is larger than " + std::to_string(kMaxKeyFileBytes) + " bytes");
    return true;
}

Result<bool> check_writable_path(const std::string& path) {
    if (path.empty()) return fail<bool>("empty file name");
    std::error_code ec;
    const std::filesystem::path p(path);
    if (std::filesystem::is_directory(p, ec)) return fail<bool>("is a directory");
    const auto dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir, ec)) return fail<bool>("directory " + dir.string() + " does not exist");
    if (::access(dir.c_str(), W_OK | X_OK) != 0 && ::access(p.c_str(), W_OK) != 0)
        return fail<bool>("cannot write in " + dir.string());
    return true;
}

Result<std::string> parse_listen_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail<std::string>("expected IP:PORT (e.g. 127.0.0.1:9464)");
    auto ip = parse_ipv4(text.substr(0, colon));
    if (!ip) return fail<std::string>(ip.error());
    auto port = parse_port(text.substr(colon + 1));
    if (!port) return fail<std::string>(port.error());
    return ip->to_string() + ":" + std::to_string(port->value());
}

}  // namespace dpcopy::cli
