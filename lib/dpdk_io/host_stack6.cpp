// HostStack's IPv6 duties (issue #18): NDP answers and resolution, ICMPv6 echo.
#include "lib/dpdk_io/host_stack.hpp"

#include <algorithm>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/rewrite.hpp"

namespace dpcopy::io {

bool HostStack::answers_for(const net::Ipv6Addr& ip) const noexcept {
    if (!cfg_.ip6) return false;
    if (ip == *cfg_.ip6) return true;
    if (!cfg_.clients6 || !cfg_.clients6->contains(ip)) return false;
    if (!net::Ipv6Prefix(*cfg_.ip6, cfg_.prefix6).contains(ip)) return false;
    // never claim a next hop's address
    return std::none_of(hops6_.begin(), hops6_.end(), [&](const Hop6& h) { return h.ip == ip; });
}

// An ICMPv6 frame (v.l4 == icmpv6): NDP, an echo request for the IPv6 --ip, or ignored.
bool HostStack::on_icmpv6(net::ConstBytes frame, const net::PacketView& v, session::FrameSink& out) {
    if (v.l4_off >= frame.size()) {
        ++ctr_[IoCounter::icmp6_ignored];
        return true;
    }
    const std::uint8_t type = frame[v.l4_off];
    if (type == net::icmp6type::neighbor_solicitation || type == net::icmp6type::neighbor_advertisement) {
        const auto m = net::read_ndp(frame, v);
        if (m && net::l4_checksum_ok(frame, v)) on_ndp(frame, v, *m, out);
        else ++ctr_[IoCounter::ndp_ignored];
        return true;
    }
    if (type == net::icmp6type::echo_request && cfg_.ip6 && v.dst6(frame) == *cfg_.ip6 &&
        net::l4_checksum_ok(frame, v)) {
        const std::size_t n = net::build_icmpv6_echo_reply(buf_, frame, v, cfg_.mac);
        if (n) {
            out.emit(net::ConstBytes(buf_.data(), n));
            ++ctr_[IoCounter::icmp6_echo_replies];
            return true;
        }
    }
    ++ctr_[IoCounter::icmp6_ignored];
    return true;
}

// Learns `mac` for a next hop at `ip` (RFC 4861 §7.2.5: update an entry we have).
void HostStack::learn6(const net::Ipv6Addr& ip, const net::MacAddr& mac, bool& used) noexcept {
    if (mac.is_zero() || (mac.b[0] & 1)) return;  // never a multicast or zero MAC
    for (Hop6& h : hops6_) {
        if (h.ip != ip) continue;
        if (!h.mac || *h.mac != mac) {
            h.mac = mac;
            ++generation_;
            ++ctr_[IoCounter::ndp_resolved];
        }
        used = true;
    }
}

// A valid solicitation or advertisement (read_ndp, checksum checked).
void HostStack::on_ndp(net::ConstBytes frame, const net::PacketView& v, const net::NdpMessage& m,
                       session::FrameSink& out) {
    bool used = false;
    if (m.type == net::icmp6type::neighbor_advertisement) {
        // Without the target link-layer option (allowed when solicited by unicast), the sender's MAC.
        net::MacAddr from;
        std::copy_n(frame.begin() + 6, 6, from.b.begin());
        learn6(m.target, m.target_ll.value_or(from), used);
        if (!used) ++ctr_[IoCounter::ndp_ignored];
        return;
    }
    const net::Ipv6Addr asker = v.src6(frame);
    if (!asker.is_unspecified() && m.source_ll) learn6(asker, *m.source_ll, used);
    if (answers_for(m.target)) {
        // (v carries --vlan's tags when there are any: on_frame put them there)
        const std::size_t n = net::build_neighbor_advertisement(buf_, frame, v, cfg_.mac, m.target);
        if (n) {
            out.emit(net::ConstBytes(buf_.data(), n));
            ++ctr_[IoCounter::ndp_advertisements_sent];
            return;
        }
    }
    if (!used) ++ctr_[IoCounter::ndp_ignored];
}

void HostStack::poll6(std::uint64_t now, session::FrameSink& out) {
    for (Hop6& h : hops6_) {
        if (h.mac || now < h.next_try) continue;
        if (cfg_.arp_max_tries && h.tries >= cfg_.arp_max_tries) continue;
        const std::size_t n = build_solicitation(h.ip);
        if (n) {
            out.emit(net::ConstBytes(buf_.data(), n));
            ++ctr_[IoCounter::ndp_solicitations_sent];
        }
        ++h.tries;
        h.next_try = now + cfg_.arp_retry_ns;
    }
}

// To the target's solicited-node group, from the IPv6 --ip (with our link-layer address) or
// from :: without one (RFC 4861 §7.2.2), with --vlan's tags.
std::size_t HostStack::build_solicitation(const net::Ipv6Addr& target) noexcept {
    const net::Ipv6Addr group = target.solicited_node();
    net::L2Spec l2;
    l2.src = cfg_.mac;
    l2.dst = net::ipv6_multicast_mac(group);
    l2.vlan_count = cfg_.vlan_count;
    l2.vlans = cfg_.vlans;
    net::NdpMessage m;
    m.type = net::icmp6type::neighbor_solicitation;
    m.target = target;
    if (cfg_.ip6) m.source_ll = cfg_.mac;
    return net::build_ndp(buf_, l2, cfg_.ip6.value_or(net::Ipv6Addr{}), group, m);
}

std::optional<net::MacAddr> HostStack::mac_of(const net::Ipv6Addr& ip) const noexcept {
    for (const Hop6& h : hops6_)
        if (h.ip == ip) return h.mac;
    return std::nullopt;
}

std::uint32_t HostStack::tries(const net::Ipv6Addr& ip) const noexcept {
    for (const Hop6& h : hops6_)
        if (h.ip == ip) return h.tries;
    return 0;
}

std::string HostStack::first_hop() const {
    if (!hops_.empty()) return hops_.front().ip.to_string();
    if (!hops6_.empty()) return hops6_.front().ip.to_string();
    return "(none)";
}

std::optional<net::MacAddr> HostStack::first_hop_mac() const noexcept {
    if (!hops_.empty()) return hops_.front().mac;
    if (!hops6_.empty()) return hops6_.front().mac;
    return std::nullopt;
}

}  // namespace dpcopy::io
