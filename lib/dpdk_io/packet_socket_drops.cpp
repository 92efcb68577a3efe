#include "lib/dpdk_io/packet_socket_drops.hpp"

#include <dirent.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace dpcopy::io {

namespace {

bool bound_packet_socket(int fd, unsigned ifindex) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    int domain = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET) return false;
    sockaddr_ll addr{};
    len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    return addr.sll_family == AF_PACKET && addr.sll_ifindex > 0 &&
           static_cast<unsigned>(addr.sll_ifindex) == ifindex;
}

}  // namespace

std::vector<int> packet_sockets_bound_to(unsigned ifindex) {
    std::vector<int> fds;
    if (ifindex == 0) return fds;
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return fds;
    const int own = dirfd(dir);
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == own) continue;
        if (bound_packet_socket(static_cast<int>(fd), ifindex)) fds.push_back(static_cast<int>(fd));
    }
    closedir(dir);
    return fds;
}

std::string_view af_packet_iface_arg(std::string_view devargs) noexcept {
    constexpr std::string_view key = "iface=";
    std::size_t at = 0;
    while (at < devargs.size()) {
        std::size_t comma = devargs.find(',', at);
        if (comma == std::string_view::npos) comma = devargs.size();
        const std::string_view kv = devargs.substr(at, comma - at);
        if (kv.substr(0, key.size()) == key) return kv.substr(key.size());
        at = comma + 1;
    }
    return {};
}

void PacketSocketDrops::watch(std::span<const int> fds) noexcept {
    count_.store(0, std::memory_order_release);
    const std::size_t n = std::min(fds.size(), kMaxSockets);
    for (std::size_t i = 0; i < n; ++i) fds_[i].store(fds[i], std::memory_order_relaxed);
    total_.store(0, std::memory_order_relaxed);
    count_.store(n, std::memory_order_release);
}

std::uint64_t PacketSocketDrops::read() noexcept {
    std::uint64_t fresh = 0;
    const std::size_t n = sockets();
    for (std::size_t i = 0; i < n; ++i) {
        tpacket_stats st{};  // the PMD's rings are TPACKET_V2: tp_packets, tp_drops
        socklen_t len = sizeof st;
        const int fd = fds_[i].load(std::memory_order_relaxed);
        if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) fresh += st.tp_drops;
    }
    return total_.fetch_add(fresh, std::memory_order_relaxed) + fresh;
}

}  // namespace dpcopy::io
