// Which worker gets a frame. Captured frames: a symmetric hash of the original
// 4-tuple, so both directions of one online conversation reach the same worker.
// Target responses: session::owner_of() of the translated tuple. DPDK-free.
#pragma once

#include <cstdint>

#include "lib/rewrite/types.hpp"

namespace dpcopy::io {

// Same value for k and k.reversed().
constexpr std::uint64_t symmetric_flow_hash(const net::FlowKey& k) noexcept {
    const std::uint64_t a = (std::uint64_t{k.src_ip.value()} << 16) | k.src_port.value();
    const std::uint64_t b = (std::uint64_t{k.dst_ip.value()} << 16) | k.dst_port.value();
    const std::uint64_t lo = a < b ? a : b;
    const std::uint64_t hi = a < b ? b : a;
    return net::mix64(lo * 0x9e3779b97f4a7c15ULL ^ net::mix64(hi + 0x6470636f7079ULL));
}

constexpr std::uint32_t shard_of(const net::FlowKey& k, std::uint32_t workers) noexcept {
    if (workers <= 1) return 0;
    return static_cast<std::uint32_t>(symmetric_flow_hash(k) % workers);
}

}  // namespace dpcopy::io
