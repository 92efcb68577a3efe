// The -c fake client address pool: A.B.C.D, A.B.C.x (.1-.254), CIDR
// (network and broadcast excluded below /31), comma lists. Stored as sorted,
// disjoint ranges so a /8 costs a few bytes; at(i) gives the i-th address.
#pragma once

#include "apps/common/result.hpp"
#include "lib/rewrite/types.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dpcopy::cli {

struct Ipv4Range {
    net::Ipv4Addr first;
    net::Ipv4Addr last;  // inclusive
    std::uint64_t size() const noexcept { return std::uint64_t{last.value()} - first.value() + 1; }
    bool operator==(const Ipv4Range&) const = default;
};

inline constexpr std::uint64_t kMaxClientAddresses = std::uint64_t{1} << 24;  // 16M: a whole /8 fits

class ClientPool {
public:
    // Parse LIST and remove every address in `exclude` (tcpcopy drops the
    // target addresses from -c). Duplicates and overlaps are merged; the order
    // of the result is ascending, whatever the order of the list.
    static Result<ClientPool> parse(std::string_view list, std::span<const net::Ipv4Addr> exclude = {});

    std::uint64_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    net::Ipv4Addr at(std::uint64_t i) const noexcept;  // i < size()
    bool contains(net::Ipv4Addr ip) const noexcept;
    const std::vector<Ipv4Range>& ranges() const noexcept { return ranges_; }
    // How many addresses of the list were removed because they were excluded.
    std::uint64_t excluded() const noexcept { return excluded_; }

private:
    std::vector<Ipv4Range> ranges_;
    std::vector<std::uint64_t> starts_;  // index of ranges_[k].first in the pool
    std::uint64_t size_ = 0;
    std::uint64_t excluded_ = 0;
};

}  // namespace dpcopy::cli
