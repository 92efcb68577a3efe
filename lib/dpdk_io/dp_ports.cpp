// Port setup for the data plane (dp_ports.hpp).
#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/dpdk_io/packet_socket_drops.hpp"

#include <net/if.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

namespace dpcopy::io::dp {

const std::uint8_t* symmetric_rss_key() noexcept {
    static const auto key = [] {
        std::array<std::uint8_t, kRssKeyMax> k{};
        for (std::size_t i = 0; i < k.size(); i += 2) k[i] = 0x6d, k[i + 1] = 0x5a;
        return k;
    }();
    return key.data();
}

std::string port_name(std::uint16_t port) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0 || !info.driver_name) return "port " + std::to_string(port);
    return "port " + std::to_string(port) + " (" + info.driver_name + ")";
}

// Configures and starts a port from its capabilities. RX: the queues asked for, up to
// what the port offers (af_packet's qpairs fan frames out over all of them, net_pcap and
// net_ring have one queue per file/ring), RSS with the symmetric key when there are
// several and the port hashes TCP/IPv4; TX: one per worker.
namespace {

// The port's configuration: RSS over rxq queues (symmetric key) when the port hashes TCP,
// multi-segment TX and scattered RX when offered, the MTU when asked and possible.
rte_eth_conf port_conf(PortSetup& ps, const rte_eth_dev_info& info, std::uint16_t rxq, bool& mtu_set) {
    rte_eth_conf conf{};
    conf.rxmode.mq_mode = rxq > 1 ? RTE_ETH_MQ_RX_RSS : RTE_ETH_MQ_RX_NONE;
    ps.rss_rx = false;
    if (rxq > 1) {
        // symmetric Toeplitz key; hash only what the port can hash (a port that does not
        // say its key size gets the common 40 bytes, never its own default key)
        conf.rx_adv_conf.rss_conf.rss_key = const_cast<std::uint8_t*>(symmetric_rss_key());
        conf.rx_adv_conf.rss_conf.rss_key_len =
            info.hash_key_size ? std::min<std::uint8_t>(info.hash_key_size, kRssKeyMax) : std::uint8_t{40};
        conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
        if (conf.rx_adv_conf.rss_conf.rss_hf == 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
        ps.rss_rx = (conf.rx_adv_conf.rss_conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
    }
    // No checksum offload is asked for: the engine and the host stack emit frames with
    // correct checksums (software), which works on every PMD. Multi-segment TX only when
    // offered (large frames are chained otherwise; the PMD must accept chains).
    conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    mtu_set = false;
    if (ps.mtu > 1500 && info.max_mtu >= ps.mtu) {
        conf.rxmode.mtu = ps.mtu;
        mtu_set = true;
    }
    return conf;
}

// The RX queues (mbufs from pool) and TX queues on the port's NUMA socket.
bool setup_queues(const PortSetup& ps, const rte_eth_dev_info& info, const rte_eth_conf& conf, rte_mempool* pool,
                  std::uint16_t rxq, std::uint16_t& nrxd, std::uint16_t& ntxd, std::string& err) {
    int rc = 0;
    rte_eth_dev_adjust_nb_rx_tx_desc(ps.id, &nrxd, &ntxd);
    const int socket = rte_eth_dev_socket_id(ps.id);
    const unsigned sock = socket < 0 ? static_cast<unsigned>(SOCKET_ID_ANY) : static_cast<unsigned>(socket);
    for (std::uint16_t q = 0; q < rxq; ++q) {
        rc = rte_eth_rx_queue_setup(ps.id, q, nrxd, sock, nullptr, pool);
        if (rc != 0) {
            err = port_name(ps.id) + ": rx queue setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (std::uint16_t q = 0; q < ps.txq; ++q) {
        rc = rte_eth_tx_queue_setup(ps.id, q, ntxd, sock, &txconf);
        if (rc != 0) {
            err = port_name(ps.id) + ": tx queue setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    return true;
}

}  // namespace

bool setup_port(PortSetup& ps, rte_mempool* pool, std::string& err, std::string& note, std::uint16_t& rxq_out) {
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(ps.id, &info);
    if (rc != 0) {
        err = "port " + std::to_string(ps.id) + ": cannot read its capabilities: " + rte_strerror(-rc);
        return false;
    }
    const std::uint16_t rxq = std::min<std::uint16_t>(ps.rxq, std::max<std::uint16_t>(info.max_rx_queues, 1));
    rxq_out = rxq;
    if (ps.txq_as_rxq) ps.txq = std::min<std::uint16_t>(rxq, std::max<std::uint16_t>(info.max_tx_queues, 1));
    bool mtu_set = false;
    const rte_eth_conf conf = port_conf(ps, info, rxq, mtu_set);
    rc = rte_eth_dev_configure(ps.id, rxq, ps.txq, &conf);
    if (rc != 0) {
        err = port_name(ps.id) + ": configure failed (" + std::to_string(rxq) + " rx, " + std::to_string(ps.txq) +
              " tx queues): " + rte_strerror(-rc);
        return false;
    }
    std::uint16_t nrxd = kRxDesc, ntxd = kTxDesc;
    if (!setup_queues(ps, info, conf, pool, rxq, nrxd, ntxd, err)) return false;
    rc = rte_eth_dev_start(ps.id);
    if (rc != 0) {
        err = port_name(ps.id) + ": start failed: " + rte_strerror(-rc);
        return false;
    }
    std::string promisc = "off";
    if (ps.promiscuous) {
        rc = rte_eth_promiscuous_enable(ps.id);
        promisc = rc == 0 ? "on" : std::string("unavailable (") + rte_strerror(-rc) + ")";
    }
    rte_ether_addr mac{};
    rte_eth_macaddr_get(ps.id, &mac);
    char macs[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(macs, sizeof macs, &mac);
    char offl[64];
    std::snprintf(offl, sizeof offl, "0x%llx", static_cast<unsigned long long>(info.tx_offload_capa));
    note = port_name(ps.id) + ": mac " + macs + ", " + std::to_string(rxq) + " rx / " + std::to_string(ps.txq) +
           " tx queues, " + std::to_string(nrxd) + "/" + std::to_string(ntxd) + " descriptors, tx offload capa " +
           offl + " (checksums in software), mtu " + (mtu_set ? std::to_string(ps.mtu) : std::string("default")) +
           ", promiscuous " + promisc + (ps.rss_rx ? ", RSS (symmetric key)" : "");
    return true;
}

void stop_port(std::uint16_t id) {
    rte_eth_dev_stop(id);
    rte_eth_dev_close(id);
}

std::vector<int> af_packet_sockets(std::uint16_t port) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0 || info.driver_name == nullptr) return {};
    if (std::string_view(info.driver_name).find("af_packet") == std::string_view::npos) return {};
    unsigned ifindex = info.if_index;
    if (ifindex == 0 && info.device != nullptr) {  // the PMD did not say: its iface= argument
        const rte_devargs* args = rte_dev_devargs(info.device);
        if (args != nullptr && args->args != nullptr)
            ifindex = if_nametoindex(std::string(af_packet_iface_arg(args->args)).c_str());
    }
    return packet_sockets_bound_to(ifindex);
}

}  // namespace dpcopy::io::dp
