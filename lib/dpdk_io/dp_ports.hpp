// Port setup for the data plane (internal to lib/dpdk_io).
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dpcopy::io::dp {

constexpr std::uint16_t kMaxRxQueues = 8;
constexpr std::uint16_t kRxDesc = 1024;
constexpr std::uint16_t kTxDesc = 1024;

// The symmetric Toeplitz key (0x6d5a repeated, Woo & Park): a TCP/IPv4 flow and its
// reverse hash alike, so RSS puts both directions of a mirrored conversation on one
// queue. 52 bytes, the longest key a PMD asks for; ports take its first hash_key_size.
const std::uint8_t* symmetric_rss_key() noexcept;
constexpr std::uint8_t kRssKeyMax = 52;

struct PortSetup {
    std::uint16_t id = 0;
    std::uint16_t rxq = kMaxRxQueues;  // capped by the port
    std::uint16_t txq = 1;
    bool promiscuous = false;
    std::uint32_t mtu = 1500;
    bool txq_as_rxq = false;  // as many TX queues as RX (some PMDs, net_tap, insist); unused ones idle
    bool rss_rx = false;  // out: RSS with the symmetric key over TCP/IPv4 is on (rxq > 1)
};

std::string port_name(std::uint16_t port);  // "port 1 (net_af_packet)"

// Configures and starts a port from its capabilities; `note` gets a one-line
// description for the log, `rxq_out` the number of RX queues set up.
bool setup_port(PortSetup& ps, rte_mempool* pool, std::string& err, std::string& note, std::uint16_t& rxq_out);

void stop_port(std::uint16_t id);

// A net_af_packet port's kernel sockets (one per queue pair), for their drop statistics
// (packet_socket_drops.hpp); empty for any other driver.
std::vector<int> af_packet_sockets(std::uint16_t port);

}  // namespace dpcopy::io::dp
