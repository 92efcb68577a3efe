// Ipv6Addr, Ipv6Prefix and Ipv6Endpoint: text forms (RFC 4291 §2.2 in, RFC 5952 out).
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One group of 1-4 hex digits at text[i]; advances i. -1 when there is none or more than 4.
long hex_group(std::string_view text, std::size_t& i) noexcept {
    long v = 0;
    std::size_t digits = 0;
    while (i < text.size() && hex_digit(text[i]) >= 0) {
        if (++digits > 4) return -1;
        v = v * 16 + hex_digit(text[i]);
        ++i;
    }
    return digits == 0 ? -1 : v;
}

// Groups separated by ':' up to the end of `text` or a "::"; a dotted quad may end the list
// (it counts as two groups). Returns the number of groups, -1 when malformed.
int read_groups(std::string_view text, std::array<std::uint16_t, 8>& g, int max_groups) noexcept {
    int n = 0;
    std::size_t i = 0;
    if (text.empty()) return 0;
    while (true) {
        const std::size_t start = i;
        const std::size_t dot = text.find('.', start);
        const std::size_t colon = text.find(':', start);
        if (dot != std::string_view::npos && colon == std::string_view::npos) {  // the IPv4 tail
            const auto v4 = Ipv4Addr::parse(text.substr(start));
            if (!v4 || n + 2 > max_groups) return -1;
            g[static_cast<std::size_t>(n++)] = static_cast<std::uint16_t>(v4->value() >> 16);
            g[static_cast<std::size_t>(n++)] = static_cast<std::uint16_t>(v4->value());
            return n;
        }
        const long v = hex_group(text, i);
        if (v < 0 || n + 1 > max_groups) return -1;
        g[static_cast<std::size_t>(n++)] = static_cast<std::uint16_t>(v);
        if (i == text.size()) return n;
        if (text[i] != ':' || i + 1 == text.size()) return -1;
        ++i;
    }
}

}  // namespace

Ipv6Addr Ipv6Addr::load(const std::uint8_t* p) noexcept {
    Bytes16 b;
    std::memcpy(b.data(), p, 16);
    return Ipv6Addr(b);
}

void Ipv6Addr::store(std::uint8_t* p) const noexcept { std::memcpy(p, b_.data(), 16); }

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view text) noexcept {
    if (text.size() > 45) return std::nullopt;  // the longest form (ffff:...:255.255.255.255)
    std::array<std::uint16_t, 8> head{}, tail{};
    int nh = 0, nt = 0;
    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        nh = read_groups(text, head, 8);
        if (nh != 8) return std::nullopt;
    } else {
        if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
        const std::string_view left = text.substr(0, gap), right = text.substr(gap + 2);
        if (left.find('.') != std::string_view::npos) return std::nullopt;  // dotted quad only at the end
        nh = read_groups(left, head, 7);
        if (nh < 0) return std::nullopt;
        nt = read_groups(right, tail, 7 - nh);
        if (nt < 0) return std::nullopt;  // "::" stands for at least one zero group
    }
    Bytes16 b{};
    for (int k = 0; k < nh; ++k) {
        b[static_cast<std::size_t>(2 * k)] = static_cast<std::uint8_t>(head[static_cast<std::size_t>(k)] >> 8);
        b[static_cast<std::size_t>(2 * k + 1)] = static_cast<std::uint8_t>(head[static_cast<std::size_t>(k)]);
    }
    for (int k = 0; k < nt; ++k) {
        const std::size_t at = static_cast<std::size_t>(2 * (8 - nt + k));
        b[at] = static_cast<std::uint8_t>(tail[static_cast<std::size_t>(k)] >> 8);
        b[at + 1] = static_cast<std::uint8_t>(tail[static_cast<std::size_t>(k)]);
    }
    return Ipv6Addr(b);
}

std::string Ipv6Addr::to_string() const {
    const bool mapped = std::all_of(b_.begin(), b_.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
                        b_[10] == 0xff && b_[11] == 0xff;
    const int groups = mapped ? 6 : 8;
    int best = -1, best_len = 1;  // runs of one zero group are not compressed (RFC 5952 §4.2.2)
    for (int i = 0; i < groups;) {
        if (group(i) != 0) { ++i; continue; }
        int j = i;
        while (j < groups && group(j) == 0) ++j;
        if (j - i > best_len) { best = i; best_len = j - i; }
        i = j;
    }
    std::string out;
    char buf[8];
    for (int i = 0; i < groups; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        std::snprintf(buf, sizeof buf, "%x", group(i));
        out += buf;
    }
    if (mapped) {
        if (out.back() != ':') out += ':';
        out += Ipv4Addr::from_octets(b_[12], b_[13], b_[14], b_[15]).to_string();
    }
    return out;
}

Ipv6Addr Ipv6Addr::solicited_node() const noexcept {
    Bytes16 b{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, b_[13], b_[14], b_[15]};
    return Ipv6Addr(b);
}

Ipv6Prefix::Ipv6Prefix(Ipv6Addr addr, std::uint8_t len) noexcept : len_(std::min<std::uint8_t>(len, 128)) {
    auto b = addr.bytes();
    for (std::size_t i = 0; i < 16; ++i) {
        const int keep = std::clamp(int{len_} - static_cast<int>(8 * i), 0, 8);
        b[i] = static_cast<std::uint8_t>(b[i] & static_cast<std::uint8_t>(0xff00U >> keep));
    }
    addr_ = Ipv6Addr(b);
}

std::optional<Ipv6Prefix> Ipv6Prefix::parse(std::string_view text) noexcept {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto a = Ipv6Addr::parse(text.substr(0, slash));
    const std::string_view digits = text.substr(slash + 1);
    if (!a || digits.empty() || digits.size() > 3) return std::nullopt;
    unsigned len = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > 128) return std::nullopt;
    return Ipv6Prefix(*a, static_cast<std::uint8_t>(len));
}

std::optional<Ipv6Prefix> Ipv6Prefix::parse_strict(std::string_view text) noexcept {
    const auto p = parse(text);
    if (!p || *Ipv6Addr::parse(text.substr(0, text.find('/'))) != p->addr()) return std::nullopt;
    return p;
}

std::string Ipv6Prefix::to_string() const { return addr_.to_string() + "/" + std::to_string(len_); }

bool Ipv6Prefix::contains(const Ipv6Addr& a) const noexcept { return Ipv6Prefix(a, len_).addr_ == addr_; }

std::optional<Ipv6Endpoint> Ipv6Endpoint::parse(std::string_view text) noexcept {
    if (text.size() < 4 || text.front() != '[') return std::nullopt;
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    const auto a = Ipv6Addr::parse(text.substr(1, close - 1));
    const std::string_view digits = text.substr(close + 2);
    if (!a || digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned port = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port > 0xffff) return std::nullopt;
    return Ipv6Endpoint{*a, Port(static_cast<std::uint16_t>(port))};
}

std::string Ipv6Endpoint::to_string() const { return "[" + addr.to_string() + "]:" + std::to_string(port.value()); }

}  // namespace dpcopy::net
