// One -x map: captured traffic to [ONLINE_IP:]PORT is copied to TARGET_IP:PORT. The one
// type of both the engine's configuration and the option parser (apps/common).
//
// IPv6 (issue #18): an entry matches captured frames of the family(ies) online_family names
// (IPv4 only by default, as before IPv6 existed); online_ip6 names an IPv6 online address.
// target_ip6, when set, makes the target IPv6 (target_ip is then unused). The families of the
// two sides may differ: the engine copies an IPv6 service onto an IPv4 target and the reverse.
#pragma once

#include <optional>
#include <string>

#include "lib/rewrite/types.hpp"

namespace dpcopy::session {

enum class OnlineFamily : std::uint8_t { ipv4, ipv6, both };

struct TransferMap {
    std::optional<net::Ipv4Addr> online_ip;  // empty: any address
    net::Port online_port;
    net::Ipv4Addr target_ip;
    net::Port target_port;
    // --- IPv6 ---
    OnlineFamily online_family = OnlineFamily::ipv4;  // which captured frames the entry matches
    std::optional<net::Ipv6Addr> online_ip6{};  // with online_family ipv6: its address (empty: any)
    std::optional<net::Ipv6Addr> target_ip6{};  // an IPv6 target

    bool matches_ipv4() const noexcept { return online_family != OnlineFamily::ipv6; }
    bool matches_ipv6() const noexcept { return online_family != OnlineFamily::ipv4; }
    bool target_is_ipv6() const noexcept { return target_ip6.has_value(); }

    // [ONLINE_IP:]PORT-TARGET_IP:PORT, as -x takes it (IPv6 addresses in brackets).
    std::string to_string() const {
        std::string s;
        if (online_ip) s = online_ip->to_string() + ":";
        if (online_ip6) s = "[" + online_ip6->to_string() + "]:";
        const std::string target = target_ip6 ? "[" + target_ip6->to_string() + "]" : target_ip.to_string();
        return s + std::to_string(online_port.value()) + "-" + target + ":" + std::to_string(target_port.value());
    }
    bool operator==(const TransferMap&) const = default;
};

}  // namespace dpcopy::session
