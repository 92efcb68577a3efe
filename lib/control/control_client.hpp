// dpcopy's side of the control protocol, without DPDK: SUBSCRIBE heartbeats to every
// -s intercept (and UNSUBSCRIBE at exit), and RECORDS datagrams turned back into the
// Ethernet frames the session engine expects (the record's IPv4+TCP headers, the
// shipped payload, zero bytes up to the IPv4 total length: the engine uses payload
// lengths, not the bytes). Counts sequence gaps and intercept restarts. Time in ns
// since the Unix epoch (the protocol's timestamps).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "lib/control/control_codec.hpp"
#include "lib/control/record_filter.hpp"
#include "lib/counters/counter_set.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io {

struct ControlClientConfig {
    net::MacAddr mac;
    net::Ipv4Addr ip;
    net::Port control_port{control::kDefaultPort};
    struct Intercept {
        net::Ipv4Addr ip;
        net::Port port{control::kDefaultPort};
    };
    std::vector<Intercept> intercepts;
    std::uint8_t vlan_count = 0;             // --vlan: tags on the datagrams (outer first)
    std::array<net::VlanTag, 2> vlans{};
    std::optional<control::Key> key;
    std::uint16_t instance = 0;
    control::Subscribe sub;                  // what we own; heartbeat_ms / expire_after inside
    std::uint64_t max_skew_ns = control::kDefaultMaxSkewNs;
    std::uint64_t epoch = 0;                 // our start time (ns since the Unix epoch)
    // Records the engine may see (-x targets, -c pool x port slice). nullopt: derived from
    // `sub` (its client ranges and targets; no targets in it: any source).
    std::optional<RecordFilter> filter;
};

// X(name, description); the report, telemetry and metrics show them under the names of
// ControlSnapshot (control_snapshot() below maps them).
#define DPCOPY_CONTROL_CLIENT_COUNTERS(X)                                                             \
    X(subscribes_sent, "SUBSCRIBE/heartbeats sent")                                                    \
    X(unsubscribes_sent, "UNSUBSCRIBEs sent")                                                          \
    X(subscribe_no_mac, "heartbeats delayed: the intercept's next hop was not resolved")               \
    X(datagrams_rx, "datagrams to our control port")                                                   \
    X(not_from_intercept, "datagrams to our control port from another source")                         \
    X(wrong_type, "valid datagrams that are not RECORDS, or for another instance")                     \
    X(records, "records handed to the engine")                                                         \
    X(records_not_target, "records refused: the source is not a -x target")                            \
    X(records_not_client, "records refused: the destination is not one of our fake clients")           \
    X(seq_gaps, "RECORDS datagrams lost (sequence gaps)")                                              \
    X(intercept_restarts, "a new intercept epoch after the first (its start time)")                    \
    X(resubscribed, "a new RECORDS stream of the same intercept: it had expired our subscription "     \
                    "(epoch advanced by less than 1 s)")

DPCOPY_DEFINE_COUNTERS(ControlClientCounter, control_client_counter_count, control_client_counter_names,
                       control_client_counter_descriptions, DPCOPY_CONTROL_CLIENT_COUNTERS)

struct ControlClientCounters : counters::CounterSet<ControlClientCounter, control_client_counter_count> {
    control::RejectCounters rejects;         // control datagrams dropped, by reason
};

// The counters as the report and the summary show them (RunSnapshot::control):
// dataplane.cpp sets `s.control = control_snapshot(control_->counters());`.
ControlSnapshot control_snapshot(const ControlClientCounters& c);

// Builds the ControlClientConfig's subscription: fake client address ranges x the
// instance's port slice [port_lo, port_hi], and the targets. More than 64 address
// ranges are covered by one range from the lowest to the highest (documented).
control::Subscribe make_subscription(const std::vector<std::pair<net::Ipv4Addr, net::Ipv4Addr>>& clients,
                                     std::uint16_t port_lo, std::uint16_t port_hi,
                                     const std::vector<std::pair<net::Ipv4Addr, net::Port>>& targets);

class ControlClient {
public:
    // resolve: next-hop MAC toward an intercept (nullopt while unknown).
    using Resolver = std::function<std::optional<net::MacAddr>(net::Ipv4Addr)>;
    ControlClient(ControlClientConfig cfg, Resolver resolve);

    // Sends a SUBSCRIBE to every intercept when its heartbeat is due (at once the first time;
    // at every call while the intercept's MAC is unknown, so the first goes out in the same poll
    // as the ARP answer, before the replay starts).
    void poll(std::uint64_t now, session::FrameSink& out);
    // UNSUBSCRIBE to every intercept (at exit).
    void stop(std::uint64_t now, session::FrameSink& out);
    // A UDP datagram to our ip:control_port? (`v` parsed)
    bool is_control(const net::PacketView& v) const noexcept;
    // Validates a control datagram; each record becomes a frame emitted into `records`.
    void on_datagram(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now, session::FrameSink& records);

    const ControlClientCounters& counters() const noexcept { return ctr_; }

private:
    struct Peer {
        ControlClientConfig::Intercept ep;
        control::ReplayWindow window;
        bool seen = false;
        std::uint64_t next_due = 0;  // next SUBSCRIBE
        bool no_mac = false;         // the last attempt found no MAC (counted once per streak)
    };
    bool send(Peer& p, control::Type type, std::uint64_t now, session::FrameSink& out);

    void deliver(const control::Datagram& d, net::ConstBytes frame, session::FrameSink& records);

    ControlClientConfig cfg_;
    RecordFilter filter_;
    Resolver resolve_;
    const control::Key* key_ = nullptr;
    std::vector<Peer> peers_;
    std::uint64_t seq_ = 0;
    ControlClientCounters ctr_;
    std::vector<std::uint8_t> frame_ = std::vector<std::uint8_t>(14 + 65535);
    std::array<std::uint8_t, control::kMaxDatagram> dgram_{};
    std::array<std::uint8_t, 14 + 20 + 8 + control::kMaxDatagram> out_{};
};

}  // namespace dpcopy::io
