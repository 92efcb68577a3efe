// What the kernel dropped on the AF_PACKET sockets behind a net_af_packet port.
//
// DPDK 22.11's af_packet PMD never reads PACKET_STATISTICS, so frames the kernel dropped
// because the PMD's RX ring was full appear in no ethdev counter (imissed stays 0). This
// finds the process's AF_PACKET sockets bound to the port's interface and reads their
// statistics. Reading resets the kernel's counters, so one PacketSocketDrops owns the
// sockets' figures and accumulates them; every reader (status line, summary, telemetry)
// goes through it. Off the data path: system calls, called at most every few ms.
// DPDK-free (plain Linux), so the unit tests open packet sockets of their own.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dpcopy::io {

// The descriptors of this process's AF_PACKET sockets bound to interface `ifindex`
// (from /proc/self/fd; sockets of other families or interfaces are left out).
std::vector<int> packet_sockets_bound_to(unsigned ifindex);

// The interface named by an af_packet device's arguments ("iface=veth0,qpairs=2" →
// "veth0"), or empty.
std::string_view af_packet_iface_arg(std::string_view devargs) noexcept;

// One per mirror port. A plain object of static lifetime is fine: watch() arms it at the
// start of a run and again with no sockets at its end, so a reader on another thread
// (telemetry) never follows a dangling pointer.
class PacketSocketDrops {
public:
    static constexpr std::size_t kMaxSockets = 64;  // af_packet's qpairs are at most 16

    // Watches these sockets from now on (the first kMaxSockets), the total back to 0.
    void watch(std::span<const int> fds) noexcept;
    std::size_t sockets() const noexcept { return count_.load(std::memory_order_acquire); }
    // Reads (and so resets) every watched socket's drop count and returns the total since
    // watch(). Safe from several threads: each read's increment is added once.
    std::uint64_t read() noexcept;

private:
    std::array<std::atomic<int>, kMaxSockets> fds_{};
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> total_{0};
};

}  // namespace dpcopy::io
