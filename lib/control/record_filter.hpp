// Which records from an intercept dpcopy lets reach its engine: a response must come from
// one of its -x targets (address and port) and go to a fake client it owns (the -c pool's
// addresses, or any address without -c, and its -f instance's port slice). Anything else
// is what no genuine intercept sends for this dpcopy (its subscription says the same), so a
// forged or misrouted record is refused and counted before it could make the engine answer
// (an RST toward an arbitrary address). Pure: no DPDK, no allocation per check.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace dpcopy::io {

enum class RecordVerdict : std::uint8_t { ok, not_target, not_client };

struct RecordFilter {
    struct Target {
        std::uint32_t ip = 0;
        std::uint16_t port = 0;  // 0: any port of that address
    };
    std::vector<Target> targets;                                 // empty: no record passes...
    bool any_target = false;                                     // ... unless any source is allowed
    std::vector<std::pair<std::uint32_t, std::uint32_t>> clients;  // [first, last]; empty: any address
    std::uint16_t port_lo = 1, port_hi = 65535;                  // the instance's fake client ports

    // src = the response's source (a target), dst = its destination (a fake client); host order.
    RecordVerdict check(std::uint32_t src_ip, std::uint16_t src_port, std::uint32_t dst_ip,
                        std::uint16_t dst_port) const noexcept {
        bool target = any_target;
        for (const Target& t : target ? std::span<const Target>{} : std::span<const Target>(targets))
            if (t.ip == src_ip && (t.port == 0 || t.port == src_port)) {
                target = true;
                break;
            }
        if (!target) return RecordVerdict::not_target;
        if (dst_port < port_lo || dst_port > port_hi) return RecordVerdict::not_client;
        if (clients.empty()) return RecordVerdict::ok;
        for (const auto& [first, last] : clients)
            if (dst_ip >= first && dst_ip <= last) return RecordVerdict::ok;
        return RecordVerdict::not_client;
    }
};

}  // namespace dpcopy::io
