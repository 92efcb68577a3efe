// Translated-tuple allocator: fake client (address, port) pairs for the sessions of one
// worker, collision-free, quarantined for TIME_WAIT after use, spread over the pool.
//
// Port space (ports 1024..65535) is partitioned:
//   * by instance (-f): with instance_count == 0 (default) instance 0 owns 1024..33279 and
//     instance k >= 1 owns the 512 ports 33280+(k-1)*512 .. +511, so ANY set of -f values
//     0..63 is disjoint without telling the instances about each other; with
//     instance_count == N the space is split evenly into N slices.
//   * by worker: inside its slice, worker w uses the ports p with p % worker_count == w;
//     owner_of() (engine.hpp) is exactly that rule.
// Addresses: with a -c pool, tuples are enumerated address-major (consecutive allocations
// go to different addresses, then the next port), so the whole pool is used. Without -c
// the original client address is kept and the quarantine is tracked per (hash(address) % 64,
// port), which is conservative (two addresses in one bucket never share a port at once).
//
// IPv6 (issue #18): an allocator may instead draw its addresses from an IPv6 prefix
// (clients6, e.g. a /64): address slot i is the prefix's host id i + 1, computed, never
// expanded into a list; as many slots as max_tuples allows (host id 0, the subnet-router
// anycast address, is never used). An engine has one allocator per target family.
//
// A tuple is free when it is not live and either never used or released >= time_wait ago.
// The cursor walks tuples in a fixed cyclic order, so the tuple offered next is always the
// one released longest ago: reuse distance is maximal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/rewrite/types.hpp"
#include "lib/session/big_array.hpp"

namespace dpcopy::session {

struct TupleConfig {
    std::vector<net::Ipv4Addr> clients;  // empty: keep the original client address
    std::optional<net::Ipv6Prefix> clients6;  // an IPv6 pool (clients is then empty)
    std::uint32_t instance = 0;
    std::uint32_t instance_count = 0;    // 0: fixed partition (see above)
    std::uint32_t worker_index = 0;
    std::uint32_t worker_count = 1;
    std::uint64_t time_wait_ns = 60'000'000'000ULL;
    std::uint64_t max_tuples = std::uint64_t{1} << 22;  // bound on tracked tuples (4 bytes each)
};

class TupleAllocator {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr std::uint32_t kKeepSlots = 64;
    static constexpr std::uint32_t kMaxProbes = 4096;

    struct Tuple {
        net::Ipv4Addr ip;
        net::Port port;
        std::uint32_t index = kNone;  // pass back to release()
    };

    // Port slice [lo, hi) of an instance. False (and err) when the instance is out of range.
    static bool instance_ports(std::uint32_t instance, std::uint32_t instance_count, std::uint32_t& lo,
                               std::uint32_t& hi, std::string& err);

    bool init(const TupleConfig& cfg, std::string& err);

    // A free tuple for a session of `original_client` at time `now` (ns), or nullopt. Without
    // a pool, `original_client` only picks the quarantine bucket (an IPv6 client's fold6).
    // With an IPv6 pool, the tuple's ip is empty: address6(index) is its address.
    std::optional<Tuple> allocate(net::Ipv4Addr original_client, std::uint64_t now) noexcept;
    // The session that held `index` ended at `now`: quarantined for time_wait.
    void release(std::uint32_t index, std::uint64_t now) noexcept;

    // True when (ip, port) is a tuple this allocator may hand out (port in our slice and
    // worker share, ip in the pool or any ip without a pool).
    bool owns(net::Ipv4Addr ip, net::Port port) const noexcept;
    // The same for an IPv6 address: in the IPv6 pool's slots, or any address without a pool.
    bool owns6(const net::Ipv6Addr& ip, net::Port port) const noexcept;
    // The IPv6 pool's address of tuple `index` (pool6() only).
    net::Ipv6Addr address6(std::uint32_t index) const noexcept;
    bool pool6() const noexcept { return clients6_.has_value(); }
    bool keeps_address() const noexcept { return keep_; }

    std::uint64_t capacity() const noexcept { return std::uint64_t{slots_} * ports_; }
    std::uint32_t ports_per_address() const noexcept { return ports_; }
    std::uint32_t address_slots() const noexcept { return slots_; }
    std::uint32_t live() const noexcept { return live_; }
    std::uint32_t port_lo() const noexcept { return lo_; }
    std::uint32_t port_hi() const noexcept { return hi_; }
    std::size_t memory_bytes() const noexcept { return capacity() * sizeof(std::uint32_t); }

private:
    static constexpr std::uint32_t kLive = 0xffffffffu;
    static constexpr std::uint32_t kNever = 0;
    bool is_free(std::uint32_t stamp, std::uint32_t now_ms) const noexcept;
    bool port_ours(net::Port port) const noexcept;
    static std::uint32_t ms_of(std::uint64_t now) noexcept;

    std::vector<net::Ipv4Addr> clients_;
    std::vector<net::Ipv4Addr> sorted_;  // for owns()
    std::optional<net::Ipv6Prefix> clients6_;
    std::uint32_t slots_ = 0;        // address slots (pool addresses used, or kKeepSlots)
    std::uint32_t ports_ = 0;        // ports of this worker in the instance slice
    std::uint32_t first_port_ = 0;   // first port of this worker
    std::uint32_t step_ = 1;         // worker_count
    std::uint32_t lo_ = 0, hi_ = 0;
    std::uint32_t worker_ = 0;
    std::uint32_t tw_ms_ = 60000;
    bool keep_ = false;
    std::uint64_t cursor_ = 0;                      // pool mode
    std::vector<std::uint32_t> keep_cursor_;        // keep mode, per slot
    BigArray<std::uint32_t> stamp_;        // index = port_idx * slots_ + slot
    std::uint32_t live_ = 0;
};

}  // namespace dpcopy::session
