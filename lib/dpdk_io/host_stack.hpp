// Host duties on the TX port, since the kernel never sees dpcopy's port: answer ARP
// for --ip and for fake client addresses inside its prefix, resolve the next hop (the
// targets, or --gateway) by ARP with retries, answer ICMP echo for --ip. The same over
// IPv6 (issue #18, host_stack6.cpp): NDP for the IPv6 --ip and the fake clients of the IPv6
// pool inside its prefix (duplicate address detection of those answered too), IPv6 next
// hops resolved by neighbour solicitation with retries, ICMPv6 echo for the IPv6 --ip. And
// the classifier that sorts received frames into host / target / captured / dropped.
// Pure (no DPDK): frames in as spans, frames out through a FrameSink, time passed in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/dpdk_io/io_counters.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/ipv6_headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io {

// A set of IPv4 addresses kept as sorted, disjoint inclusive ranges.
class AddressSet {
public:
    struct Range {
        net::Ipv4Addr first;
        net::Ipv4Addr last;
    };
    AddressSet() = default;
    explicit AddressSet(std::vector<Range> ranges);  // any order, overlaps merged
    bool contains(net::Ipv4Addr a) const noexcept;
    bool empty() const noexcept { return ranges_.empty(); }
    const std::vector<Range>& ranges() const noexcept { return ranges_; }

private:
    std::vector<Range> ranges_;
};

struct HostConfig {
    net::MacAddr mac;                       // the port's MAC
    std::optional<net::Ipv4Addr> ip;        // --ip; none: ARP probes from 0.0.0.0 and no ICMP
    std::uint8_t prefix = 32;               // --ip's prefix length
    std::vector<net::Ipv4Addr> next_hops;   // to resolve: --gateway, or every distinct target
    AddressSet clients;                     // fake clients (-c): ARP answered inside the prefix
    std::uint64_t arp_retry_ns = 1'000'000'000;
    std::uint32_t arp_max_tries = 0;        // requests per next hop before giving up (0: no limit)
    // --vlan: the tags put on every frame sent (outer first); 0: ARP requests go untagged and
    // replies keep the request's tags.
    std::uint8_t vlan_count = 0;
    std::array<net::VlanTag, 2> vlans{};
    // --- IPv6 (the same duties over NDP and ICMPv6; arp_retry_ns and arp_max_tries apply) ---
    std::optional<net::Ipv6Addr> ip6;        // the IPv6 --ip; none: solicitations from :: and no echo
    std::uint8_t prefix6 = 128;
    std::vector<net::Ipv6Addr> next_hops6;   // the IPv6 --gateway, or every distinct IPv6 target
    std::optional<net::Ipv6Prefix> clients6; // fake IPv6 clients: NDP answered inside --ip's prefix
};

class HostStack {
public:
    explicit HostStack(HostConfig cfg);

    // A parsed received frame: true when it was an ARP or ICMP frame (answered, learnt
    // from or ignored, each counted); false when it is not the host's business.
    bool on_frame(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now, session::FrameSink& out);
    // Sends ARP requests for next hops not resolved yet (the first at once, then every
    // arp_retry_ns, at most arp_max_tries).
    void poll(std::uint64_t now, session::FrameSink& out);

    bool resolved() const noexcept;                  // every next hop (both families) has a MAC
    std::optional<net::MacAddr> mac_of(net::Ipv4Addr ip) const noexcept;
    std::optional<net::MacAddr> mac_of(const net::Ipv6Addr& ip) const noexcept;
    // The engine's next hop: the first IPv4 one, else the first IPv6 one; its text and MAC.
    std::string first_hop() const;
    std::optional<net::MacAddr> first_hop_mac() const noexcept;
    // The first next hop still unresolved, and how many requests it has had.
    std::optional<net::Ipv4Addr> unresolved() const noexcept;
    std::uint32_t tries(net::Ipv4Addr ip) const noexcept;
    std::uint32_t tries(const net::Ipv6Addr& ip) const noexcept;
    // Incremented each time a next-hop MAC is learnt or changes.
    std::uint32_t generation() const noexcept { return generation_; }

    bool answers_for(net::Ipv4Addr ip) const noexcept;  // --ip, or a fake client inside its prefix
    bool answers_for(const net::Ipv6Addr& ip) const noexcept;  // the same over IPv6
    const IoCounters& counters() const noexcept { return ctr_; }
    const HostConfig& config() const noexcept { return cfg_; }

private:
    struct Hop {
        net::Ipv4Addr ip;
        std::optional<net::MacAddr> mac;
        std::uint32_t tries = 0;
        std::uint64_t next_try = 0;
    };
    struct Hop6 {
        net::Ipv6Addr ip;
        std::optional<net::MacAddr> mac;
        std::uint32_t tries = 0;
        std::uint64_t next_try = 0;
    };
    bool on_link(net::Ipv4Addr a) const noexcept;
    std::size_t build_arp_request(net::Ipv4Addr target) noexcept;  // into buf_, with --vlan's tags
    // host_stack6.cpp
    bool on_icmpv6(net::ConstBytes frame, const net::PacketView& v, session::FrameSink& out);
    void on_ndp(net::ConstBytes frame, const net::PacketView& v, const net::NdpMessage& m, session::FrameSink& out);
    void learn6(const net::Ipv6Addr& ip, const net::MacAddr& mac, bool& used) noexcept;
    void poll6(std::uint64_t now, session::FrameSink& out);
    std::size_t build_solicitation(const net::Ipv6Addr& target) noexcept;  // into buf_, --vlan's tags

    HostConfig cfg_;
    std::vector<Hop> hops_;
    std::vector<Hop6> hops6_;
    std::uint32_t generation_ = 0;
    IoCounters ctr_;
    std::array<std::uint8_t, 2048> buf_{};
};

// --vlan: whether a parsed frame carries exactly `tags` (outer first). The VIDs are compared,
// not the TPIDs (a port may hand back an outer 802.1ad tag it stripped as 0x8100: the kernel's
// packet sockets under net_af_packet do) nor the priority bits (the sender's).
bool carries_tags(const net::PacketView& v, std::span<const net::VlanTag> tags) noexcept;

// What a received frame is for.
enum class RxKind : std::uint8_t {
    host,          // ARP, ICMP, ICMPv6 (NDP, echo): HostStack
    target,        // TCP from a target ip:port (-x) to a fake client: Engine::on_target of owner_of()
    captured,      // live mode: anything else goes to Engine::on_captured (it counts what it ignores)
    drop_parse,    // the parser rejected it
    drop_not_ours, // offline mode: not for us
    drop_vlan,     // --vlan: untagged, or tags other than dpcopy's (not on a port shared with the mirror)
};

struct TargetEndpoint {
    net::Ipv4Addr ip;
    net::Port port;
    std::optional<net::Ipv6Addr> ip6{};  // an IPv6 target (ip unused), issue #18
};

// Live mode: whether a frame parsed as TCP belongs to a -x service, to or from a
// transfer's online port (and address, when the transfer names one): the engine's rule for
// client and server frames. What is dropped before the next hop is known is lost when it
// does, filtered otherwise.
bool of_transfer_service(const net::PacketView& v, std::span<const session::TransferMap> transfers) noexcept;

class RxClassifier {
public:
    // clients empty: any destination address counts as a fake client (-c not given).
    // tags (--vlan, outer first): only frames carrying them are the host's or the target's;
    // the others are drop_vlan, or captured when the mirror shares the port (live).
    // IPv6 (issue #18): with an IPv6 target, frames are parsed in both families and IPv6 TCP
    // from that target to a fake client (in clients6, or any address without it) is `target`;
    // without one IPv6 is refused by its ethertype as before.
    // ipv6_host (an IPv6 --ip): IPv6 is parsed for its NDP and ICMPv6 even without an IPv6 target.
    // ICMPv6 (NDP, echo) goes to the host stack as ICMP does.
    RxClassifier(std::vector<TargetEndpoint> targets, AddressSet clients, bool live,
                 std::vector<net::VlanTag> tags = {}, std::optional<net::Ipv6Prefix> clients6 = {},
                 bool ipv6_host = false);
    // Parses `frame` into `v` and classifies it.
    RxKind classify(net::ConstBytes frame, net::PacketView& v) const noexcept;

private:
    std::vector<TargetEndpoint> targets_;
    AddressSet clients_;
    bool live_;
    std::vector<net::VlanTag> tags_;
    std::optional<net::Ipv6Prefix> clients6_;
    net::IpFamilies families_ = net::IpFamilies::ipv4;
    bool ipv6_target(net::ConstBytes frame, const net::PacketView& v) const noexcept;
};

}  // namespace dpcopy::io
