// PacketSocketDrops on sockets of our own: an AF_PACKET socket bound to the loopback
// interface, with a tiny receive buffer and never read, drops what we send over lo.
// Opening a packet socket needs CAP_NET_RAW: tools/test.sh runs as root; elsewhere the
// kernel part is reported as not run.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "lib/dpdk_io/packet_socket_drops.hpp"

using namespace dpcopy::io;

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { if (fd >= 0) close(fd); }
};

int packet_socket_on(unsigned ifindex) {
    const int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) return -1;
    const int tiny = 1;  // the kernel rounds it up to its minimum (a few KiB)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) { close(fd); return -1; }
    return fd;
}

void send_udp_over_loopback(int count) {
    Fd rx(socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof to;
    REQUIRE(bind(rx.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);  // port 0: any
    REQUIRE(getsockname(rx.fd, reinterpret_cast<sockaddr*>(&to), &len) == 0);
    Fd tx(socket(AF_INET, SOCK_DGRAM, 0));
    std::array<char, 1200> payload{};
    for (int i = 0; i < count; ++i)
        sendto(tx.fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

}  // namespace

TEST_CASE("af_packet_iface_arg finds the interface in a device's arguments") {
    CHECK(af_packet_iface_arg("iface=veth0") == "veth0");
    CHECK(af_packet_iface_arg("qpairs=2,iface=rx0,framecnt=4096") == "rx0");
    CHECK(af_packet_iface_arg("qpairs=2,blocksz=4096") == "");
    CHECK(af_packet_iface_arg("") == "");
    CHECK(af_packet_iface_arg("myiface=x,iface=y") == "y");
}

TEST_CASE("packet_sockets_bound_to finds nothing for no interface") {
    CHECK(packet_sockets_bound_to(0).empty());
    CHECK(packet_sockets_bound_to(0x7fffff00u).empty());
}

TEST_CASE("PacketSocketDrops counts what the kernel dropped on our packet sockets") {
    const unsigned lo = if_nametoindex("lo");
    REQUIRE(lo != 0);
    Fd packet(packet_socket_on(lo));
    if (packet.fd < 0) {
        WARN("no AF_PACKET socket (needs CAP_NET_RAW): kernel drop counting not tested");
        return;
    }
    Fd other_family(socket(AF_INET, SOCK_DGRAM, 0));
    const std::vector<int> found = packet_sockets_bound_to(lo);
    CHECK(std::count(found.begin(), found.end(), packet.fd) == 1);
    CHECK(std::count(found.begin(), found.end(), other_family.fd) == 0);

    PacketSocketDrops drops;
    CHECK(drops.sockets() == 0);
    CHECK(drops.read() == 0);
    drops.watch(found);
    CHECK(drops.sockets() == found.size());
    drops.read();  // whatever lo carried before
    const std::uint64_t before = drops.read();
    send_udp_over_loopback(400);  // ~500 KB into a receive buffer of a few KiB, never read
    const std::uint64_t after = drops.read();
    CHECK(after > before + 300);  // each datagram crosses lo once; most cannot be queued
    CHECK(drops.read() >= after);  // accumulated, not reset by reading
    drops.watch({});
    CHECK(drops.sockets() == 0);
    CHECK(drops.read() == 0);
}
