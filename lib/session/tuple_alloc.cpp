#include "lib/session/tuple_alloc.hpp"

#include <algorithm>

namespace dpcopy::session {

bool TupleAllocator::instance_ports(std::uint32_t instance, std::uint32_t instance_count, std::uint32_t& lo,
                                    std::uint32_t& hi, std::string& err) {
    constexpr std::uint32_t kFirst = 1024, kEnd = 65536;
    if (instance_count > 64) {
        err = "instance count must be 0..64";
        return false;
    }
    if (instance_count == 0) {
        if (instance > 63) {
            err = "instance (-f) must be 0..63";
            return false;
        }
        constexpr std::uint32_t kHalf = 33280, kSlice = 512;
        if (instance == 0) {
            lo = kFirst;
            hi = kHalf;
        } else {
            lo = kHalf + (instance - 1) * kSlice;
            hi = lo + kSlice;
        }
        return true;
    }
    if (instance >= instance_count) {
        err = "instance (-f) must be below the instance count";
        return false;
    }
    const std::uint32_t size = (kEnd - kFirst) / instance_count;
    lo = kFirst + instance * size;
    hi = lo + size;
    return true;
}

bool TupleAllocator::init(const TupleConfig& cfg, std::string& err) {
    if (cfg.worker_count == 0 || cfg.worker_index >= cfg.worker_count) {
        err = "worker index must be below the worker count";
        return false;
    }
    if (!instance_ports(cfg.instance, cfg.instance_count, lo_, hi_, err)) return false;
    step_ = cfg.worker_count;
    worker_ = cfg.worker_index;
    first_port_ = lo_ + ((worker_ + step_ - lo_ % step_) % step_);
    ports_ = first_port_ < hi_ ? (hi_ - 1 - first_port_) / step_ + 1 : 0;
    if (ports_ == 0) {
        err = "no source port left for this worker (too many workers for the instance's port slice)";
        return false;
    }
    const std::uint64_t tw_ms = cfg.time_wait_ns / 1'000'000ULL;
    tw_ms_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(tw_ms, 0x7fffffffULL));
    clients_ = cfg.clients;
    sorted_ = clients_;
    std::sort(sorted_.begin(), sorted_.end());
    clients6_ = cfg.clients6;
    if (clients6_ && !clients_.empty()) {
        err = "a tuple pool is IPv4 or IPv6, not both";
        return false;
    }
    if (clients6_ && clients6_->len() > 126) {
        err = "an IPv6 client pool needs a prefix of /126 or shorter";
        return false;
    }
    keep_ = clients_.empty() && !clients6_;
    const std::uint64_t max_slots = std::max<std::uint64_t>(1, cfg.max_tuples / ports_);
    if (clients6_) {
        // host ids 1 .. 2^(128-len) - 1 (at most max_slots of them)
        const unsigned host_bits = 128u - clients6_->len();
        const std::uint64_t hosts = host_bits >= 32 ? std::uint64_t{0xffffffffu} : (std::uint64_t{1} << host_bits) - 1;
        slots_ = static_cast<std::uint32_t>(std::min(hosts, max_slots));
    } else if (keep_) {
        slots_ = kKeepSlots;
        keep_cursor_.assign(kKeepSlots, 0);
    } else {
        slots_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(clients_.size(), max_slots));
    }
    const std::uint64_t n = capacity();
    stamp_ = BigArray<std::uint32_t>(n, kNever);
    cursor_ = 0;
    live_ = 0;
    return true;
}

std::uint32_t TupleAllocator::ms_of(std::uint64_t now) noexcept {
    return static_cast<std::uint32_t>(now / 1'000'000ULL);
}

bool TupleAllocator::is_free(std::uint32_t stamp, std::uint32_t now_ms) const noexcept {
    if (stamp == kNever) return true;
    if (stamp == kLive) return false;
    return now_ms - stamp >= tw_ms_;  // modular: right while the gap is < 24 days
}

std::optional<TupleAllocator::Tuple> TupleAllocator::allocate(net::Ipv4Addr original_client,
                                                              std::uint64_t now) noexcept {
    const std::uint32_t now_ms = ms_of(now);
    if (keep_) {
        const auto slot = static_cast<std::uint32_t>(net::mix64(original_client.value()) % kKeepSlots);
        std::uint32_t& cur = keep_cursor_[slot];
        const std::uint32_t probes = std::min(ports_, kMaxProbes);
        for (std::uint32_t i = 0; i < probes; ++i) {
            const std::uint32_t pidx = cur;
            cur = cur + 1 == ports_ ? 0 : cur + 1;
            const std::uint32_t idx = pidx * slots_ + slot;
            if (!is_free(stamp_[idx], now_ms)) continue;
            stamp_[idx] = kLive;
            ++live_;
            return Tuple{original_client, net::Port(static_cast<std::uint16_t>(first_port_ + pidx * step_)), idx};
        }
        return std::nullopt;
    }
    const std::uint64_t n = capacity();
    const std::uint64_t probes = std::min<std::uint64_t>(n, kMaxProbes);
    for (std::uint64_t i = 0; i < probes; ++i) {
        const std::uint64_t t = cursor_;
        cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
        if (!is_free(stamp_[t], now_ms)) continue;
        stamp_[t] = kLive;
        ++live_;
        const auto slot = static_cast<std::uint32_t>(t % slots_);
        const auto pidx = static_cast<std::uint32_t>(t / slots_);
        const net::Port port(static_cast<std::uint16_t>(first_port_ + pidx * step_));
        if (clients6_) return Tuple{net::Ipv4Addr{}, port, static_cast<std::uint32_t>(t)};
        // spread the used slots over the whole pool when it is larger than max_tuples allows
        const std::uint64_t addr = std::uint64_t{slot} * clients_.size() / slots_;
        return Tuple{clients_[addr], port, static_cast<std::uint32_t>(t)};
    }
    return std::nullopt;
}

void TupleAllocator::release(std::uint32_t index, std::uint64_t now) noexcept {
    if (index >= capacity() || stamp_[index] != kLive) return;
    std::uint32_t ms = ms_of(now);
    if (ms == kNever || ms == kLive) ms = 1;
    stamp_[index] = ms;
    --live_;
}

bool TupleAllocator::port_ours(net::Port port) const noexcept {
    const std::uint32_t p = port.value();
    return p >= lo_ && p < hi_ && p % step_ == worker_ % step_;
}

bool TupleAllocator::owns(net::Ipv4Addr ip, net::Port port) const noexcept {
    if (!port_ours(port) || clients6_) return false;
    if (keep_) return true;
    return std::binary_search(sorted_.begin(), sorted_.end(), ip);
}

// Host id (low 32 bits of the address, the prefix's bits above them) of each slot: slot + 1.
net::Ipv6Addr TupleAllocator::address6(std::uint32_t index) const noexcept {
    auto b = clients6_ ? clients6_->addr().bytes() : net::Ipv6Addr::Bytes16{};
    const std::uint32_t host = index % (slots_ ? slots_ : 1) + 1;
    for (int i = 0; i < 4; ++i) b[static_cast<std::size_t>(15 - i)] |= static_cast<std::uint8_t>(host >> (8 * i));
    return net::Ipv6Addr(b);
}

bool TupleAllocator::owns6(const net::Ipv6Addr& ip, net::Port port) const noexcept {
    if (!port_ours(port)) return false;
    if (keep_) return true;
    if (!clients6_ || !clients6_->contains(ip)) return false;
    std::uint32_t host = 0;  // the low 32 bits less the prefix's bits there
    for (std::size_t i = 12; i < 16; ++i)
        host = (host << 8) | static_cast<std::uint8_t>(ip.bytes()[i] ^ clients6_->addr().bytes()[i]);
    return host >= 1 && host <= slots_ && address6(host - 1) == ip;
}

}  // namespace dpcopy::session
