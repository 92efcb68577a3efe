#include "lib/rewrite/types.hpp"

#include <cstdio>

namespace dpcopy::net {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) noexcept {
    std::uint32_t value = 0;
    int octets = 0;
    std::size_t i = 0;
    while (octets < 4) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
        unsigned oct = 0;
        std::size_t digits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            oct = oct * 10 + static_cast<unsigned>(text[i] - '0');
            if (++digits > 3 || oct > 255) return std::nullopt;
            ++i;
        }
        value = (value << 8) | oct;
        ++octets;
        if (octets < 4) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != text.size()) return std::nullopt;
    return Ipv4Addr(value);
}

std::string Ipv4Addr::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", octet(0), octet(1), octet(2), octet(3));
    return buf;
}

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return buf;
}

}  // namespace dpcopy::net
