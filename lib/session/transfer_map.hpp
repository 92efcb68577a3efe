// One -x map: captured traffic to [ONLINE_IP:]PORT is copied to TARGET_IP:PORT. The one
// type of both the engine's configuration and the option parser (apps/common).
#pragma once

#include <optional>
#include <string>

#include "lib/rewrite/types.hpp"

namespace dpcopy::session {

struct TransferMap {
    std::optional<net::Ipv4Addr> online_ip;  // empty: any address
    net::Port online_port;
    net::Ipv4Addr target_ip;
    net::Port target_port;

    // [ONLINE_IP:]PORT-TARGET_IP:PORT, as -x takes it.
    std::string to_string() const {
        std::string s;
        if (online_ip) s = online_ip->to_string() + ":";
        return s + std::to_string(online_port.value()) + "-" + target_ip.to_string() + ":" +
               std::to_string(target_port.value());
    }
    bool operator==(const TransferMap&) const = default;
};

}  // namespace dpcopy::session
