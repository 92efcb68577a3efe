#include "apps/intercept/wiring.hpp"

#include <utility>
#include <vector>

namespace dpcopy::cli {

std::optional<io::InterceptConfig> intercept_core_config(const InterceptOptions& opt, std::string& err) {
    io::InterceptConfig c;
    c.ip = opt.ip.ip;
    c.control_port = opt.control_port;
    c.payload_bytes = opt.payload_bytes;
    std::vector<io::AddressSet::Range> allow;
    for (const auto& n : opt.allow) {
        const std::uint32_t host = n.prefix >= 32 ? 0 : ~std::uint32_t{0} >> n.prefix;
        allow.push_back({n.network, net::Ipv4Addr(n.network.value() | host)});
    }
    c.allow = io::AddressSet(std::move(allow));
    if (opt.key_file) {
        auto key = io::control::Key::from_file(*opt.key_file, err);
        if (!key) return std::nullopt;
        c.key = *key;
    }
    return c;
}

}  // namespace dpcopy::cli
