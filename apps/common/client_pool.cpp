#include "apps/common/client_pool.hpp"

#include "apps/common/values.hpp"

#include <algorithm>

namespace dpcopy::cli {

namespace {

Result<Ipv4Range> parse_item(std::string_view item) {
    std::string quoted("'");  // (built stepwise: g++ 12 -O3 warns -Wrestrict on "'" + string)
    quoted.append(item).append("'");
    if (item.empty()) return fail<Ipv4Range>("empty item in the list");
    if (item.size() > 2 && (item.ends_with(".x") || item.ends_with(".X"))) {
        const auto base = std::string(item.substr(0, item.size() - 1)) + "0";
        if (!net::Ipv4Addr::parse(base)) return fail<Ipv4Range>(quoted + " is not A.B.C.x");
        auto ip = parse_host_ipv4(std::string(item.substr(0, item.size() - 1)) + "1");
        if (!ip) return fail<Ipv4Range>(ip.error());
        const std::uint32_t net = ip->value() & 0xffffff00u;
        return Ipv4Range{net::Ipv4Addr(net | 1), net::Ipv4Addr(net | 254)};
    }
    if (item.find('/') != std::string_view::npos) {
        auto c = parse_cidr(item);
        if (!c) return fail<Ipv4Range>(c.error());
        if (c->prefix < 8)
            return fail<Ipv4Range>(quoted + " is larger than a /8 (at most 16M client addresses)");
        const std::uint32_t first = c->network.value();
        const std::uint32_t last = first | (c->prefix == 32 ? 0u : (~std::uint32_t{0} >> c->prefix));
        Ipv4Range r{c->network, net::Ipv4Addr(last)};
        if (c->prefix < 31) r = Ipv4Range{net::Ipv4Addr(first + 1), net::Ipv4Addr(last - 1)};
        if (auto a = parse_host_ipv4(r.first.to_string()); !a) return fail<Ipv4Range>(a.error());
        if (auto a = parse_host_ipv4(r.last.to_string()); !a) return fail<Ipv4Range>(a.error());
        return r;
    }
    auto ip = parse_host_ipv4(item);
    if (!ip) return fail<Ipv4Range>(ip.error());
    return Ipv4Range{*ip, *ip};
}

}  // namespace

Result<ClientPool> ClientPool::parse(std::string_view list, std::span<const net::Ipv4Addr> exclude) {
    std::vector<Ipv4Range> items;
    for (auto item : split_commas(list)) {
        auto r = parse_item(item);
        if (!r) return fail<ClientPool>(r.error());
        items.push_back(*r);
    }
    std::sort(items.begin(), items.end(),
              [](const Ipv4Range& a, const Ipv4Range& b) { return a.first < b.first; });
    // Merge overlapping and adjacent ranges.
    std::vector<Ipv4Range> merged;
    for (const auto& r : items) {
        if (!merged.empty() && std::uint64_t{r.first.value()} <= std::uint64_t{merged.back().last.value()} + 1) {
            if (merged.back().last < r.last) merged.back().last = r.last;
        } else {
            merged.push_back(r);
        }
    }
    std::uint64_t total = 0;
    for (const auto& r : merged) total += r.size();
    if (total > kMaxClientAddresses)
        return fail<ClientPool>("the list holds " + std::to_string(total) + " addresses; the maximum is " +
                                std::to_string(kMaxClientAddresses));
    // Cut the excluded addresses out.
    std::vector<net::Ipv4Addr> ex(exclude.begin(), exclude.end());
    std::sort(ex.begin(), ex.end());
    ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
    ClientPool pool;
    for (auto r : merged) {
        bool alive = true;
        for (const auto x : ex) {
            if (x < r.first || r.last < x) continue;
            ++pool.excluded_;
            if (r.first == x && r.last == x) { alive = false; break; }
            if (r.first == x) { r.first = net::Ipv4Addr(x.value() + 1); continue; }
            if (r.last == x) { r.last = net::Ipv4Addr(x.value() - 1); continue; }
            pool.ranges_.push_back(Ipv4Range{r.first, net::Ipv4Addr(x.value() - 1)});
            r.first = net::Ipv4Addr(x.value() + 1);
        }
        if (alive) pool.ranges_.push_back(r);
    }
    for (const auto& r : pool.ranges_) {
        pool.starts_.push_back(pool.size_);
        pool.size_ += r.size();
    }
    if (pool.size_ == 0)
        return fail<ClientPool>("no address left: every address of the list is a target address");
    return pool;
}

net::Ipv4Addr ClientPool::at(std::uint64_t i) const noexcept {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
    const auto k = static_cast<std::size_t>(it - starts_.begin()) - 1;
    return net::Ipv4Addr(static_cast<std::uint32_t>(ranges_[k].first.value() + (i - starts_[k])));
}

bool ClientPool::contains(net::Ipv4Addr ip) const noexcept {
    const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                                     [](net::Ipv4Addr a, const Ipv4Range& r) { return a < r.first; });
    if (it == ranges_.begin()) return false;
    return !(std::prev(it)->last < ip);
}

}  // namespace dpcopy::cli
