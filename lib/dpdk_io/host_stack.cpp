#include "lib/dpdk_io/host_stack.hpp"

#include <algorithm>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"

namespace dpcopy::io {

AddressSet::AddressSet(std::vector<Range> ranges) {
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
    for (const Range& r : ranges) {
        if (r.last < r.first) continue;
        if (!ranges_.empty() && std::uint64_t{r.first.value()} <= std::uint64_t{ranges_.back().last.value()} + 1) {
            ranges_.back().last = std::max(ranges_.back().last, r.last);
        } else {
            ranges_.push_back(r);
        }
    }
}

bool AddressSet::contains(net::Ipv4Addr a) const noexcept {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), a,
                               [](net::Ipv4Addr x, const Range& r) { return x < r.first; });
    if (it == ranges_.begin()) return false;
    --it;
    return a <= it->last;
}

HostStack::HostStack(HostConfig cfg) : cfg_(std::move(cfg)) {
    for (net::Ipv4Addr ip : cfg_.next_hops) {
        if (std::none_of(hops_.begin(), hops_.end(), [&](const Hop& h) { return h.ip == ip; })) {
            Hop h;
            h.ip = ip;
            hops_.push_back(h);
        }
    }
    for (const net::Ipv6Addr& ip : cfg_.next_hops6)
        if (std::none_of(hops6_.begin(), hops6_.end(), [&](const Hop6& h) { return h.ip == ip; }))
            hops6_.push_back(Hop6{ip, std::nullopt, 0, 0});
}

bool HostStack::on_link(net::Ipv4Addr a) const noexcept {
    if (!cfg_.ip) return false;
    if (cfg_.prefix == 0) return true;
    const std::uint32_t mask = cfg_.prefix >= 32 ? 0xffffffffu : ~((std::uint32_t{1} << (32 - cfg_.prefix)) - 1);
    return (a.value() & mask) == (cfg_.ip->value() & mask);
}

bool HostStack::answers_for(net::Ipv4Addr ip) const noexcept {
    if (!cfg_.ip) return false;
    if (ip == *cfg_.ip) return true;
    if (!on_link(ip) || !cfg_.clients.contains(ip)) return false;
    // never claim a next hop's address
    return std::none_of(hops_.begin(), hops_.end(), [&](const Hop& h) { return h.ip == ip; });
}

bool HostStack::on_frame(net::ConstBytes frame, const net::PacketView& request, std::uint64_t /*now*/,
                         session::FrameSink& out) {
    // Replies go with the request's tags, or with --vlan's exactly (TPIDs included).
    net::PacketView v = request;
    if (cfg_.vlan_count) {
        v.vlan_count = cfg_.vlan_count;
        v.vlans = cfg_.vlans;
    }
    if (v.l3 == net::L3Kind::arp) {
        const net::ArpPkt a = net::ArpPkt::read(frame.subspan(v.l3_off, net::ArpPkt::size));
        bool used = false;
        // Learn the next hop from its requests and replies (RFC 826: update an entry we want).
        for (Hop& h : hops_) {
            if (h.ip == a.spa && !a.sha.is_zero() && a.sha != net::MacAddr::broadcast()) {
                if (!h.mac || *h.mac != a.sha) {
                    h.mac = a.sha;
                    ++generation_;
                    ++ctr_[IoCounter::arp_resolved];
                }
                used = true;
            }
        }
        if (a.op == net::ArpPkt::op_request && answers_for(a.tpa)) {
            const std::size_t n = net::build_arp_reply(buf_, frame, v, cfg_.mac, a.tpa);
            if (n) {
                out.emit(net::ConstBytes(buf_.data(), n));
                ++ctr_[IoCounter::arp_replies_sent];
                return true;
            }
        }
        if (!used) ++ctr_[IoCounter::arp_ignored];
        return true;
    }
    if (v.l3 == net::L3Kind::ipv4 && v.l4 == net::L4Kind::icmp) {
        if (cfg_.ip && v.key.dst_ip == *cfg_.ip) {
            const std::size_t n = net::build_icmp_echo_reply(buf_, frame, v, cfg_.mac);
            if (n) {
                out.emit(net::ConstBytes(buf_.data(), n));
                ++ctr_[IoCounter::icmp_echo_replies];
                return true;
            }
        }
        ++ctr_[IoCounter::icmp_ignored];
        return true;
    }
    if (v.l3 == net::L3Kind::ipv6 && v.l4 == net::L4Kind::icmpv6) return on_icmpv6(frame, v, out);
    return false;
}

void HostStack::poll(std::uint64_t now, session::FrameSink& out) {
    for (Hop& h : hops_) {
        if (h.mac || now < h.next_try) continue;
        if (cfg_.arp_max_tries && h.tries >= cfg_.arp_max_tries) continue;
        const std::size_t n = build_arp_request(h.ip);
        if (n) {
            out.emit(net::ConstBytes(buf_.data(), n));
            ++ctr_[IoCounter::arp_requests_sent];
        }
        ++h.tries;
        h.next_try = now + cfg_.arp_retry_ns;
    }
    poll6(now, out);
}

std::size_t HostStack::build_arp_request(net::Ipv4Addr target) noexcept {
    net::L2Spec l2;
    l2.src = cfg_.mac;
    l2.dst = net::MacAddr::broadcast();
    l2.vlan_count = cfg_.vlan_count;
    l2.vlans = cfg_.vlans;
    net::ArpPkt a;
    a.op = net::ArpPkt::op_request;
    a.sha = cfg_.mac;
    a.spa = cfg_.ip.value_or(net::Ipv4Addr{});
    a.tpa = target;
    return net::build_arp(buf_, l2, a);
}

bool HostStack::resolved() const noexcept {
    return std::all_of(hops_.begin(), hops_.end(), [](const Hop& h) { return h.mac.has_value(); }) &&
           std::all_of(hops6_.begin(), hops6_.end(), [](const Hop6& h) { return h.mac.has_value(); });
}

std::optional<net::MacAddr> HostStack::mac_of(net::Ipv4Addr ip) const noexcept {
    for (const Hop& h : hops_)
        if (h.ip == ip) return h.mac;
    return std::nullopt;
}

std::optional<net::Ipv4Addr> HostStack::unresolved() const noexcept {
    for (const Hop& h : hops_)
        if (!h.mac) return h.ip;
    return std::nullopt;
}

std::uint32_t HostStack::tries(net::Ipv4Addr ip) const noexcept {
    for (const Hop& h : hops_)
        if (h.ip == ip) return h.tries;
    return 0;
}

bool of_transfer_service(const net::PacketView& v, std::span<const session::TransferMap> transfers) noexcept {
    if (v.l4 != net::L4Kind::tcp) return false;
    const net::FlowKey& k = v.key;
    for (const session::TransferMap& t : transfers) {
        if (k.dst_port == t.online_port && (!t.online_ip || *t.online_ip == k.dst_ip)) return true;
        if (k.src_port == t.online_port && (!t.online_ip || *t.online_ip == k.src_ip)) return true;
    }
    return false;
}

bool carries_tags(const net::PacketView& v, std::span<const net::VlanTag> tags) noexcept {
    if (v.vlan_count != tags.size()) return false;
    for (std::size_t i = 0; i < tags.size(); ++i)
        if (v.vlans[i].vid() != tags[i].vid()) return false;
    return true;
}

RxClassifier::RxClassifier(std::vector<TargetEndpoint> targets, AddressSet clients, bool live,
                           std::vector<net::VlanTag> tags, std::optional<net::Ipv6Prefix> clients6, bool ipv6_host)
    : targets_(std::move(targets)), clients_(std::move(clients)), live_(live), tags_(std::move(tags)), clients6_(clients6) {
    if (ipv6_host) families_ = net::IpFamilies::ipv4_and_ipv6;
    for (const TargetEndpoint& t : targets_)
        if (t.ip6) families_ = net::IpFamilies::ipv4_and_ipv6;
}

bool RxClassifier::ipv6_target(net::ConstBytes frame, const net::PacketView& v) const noexcept {
    const net::Ipv6Addr src = v.src6(frame);
    for (const TargetEndpoint& t : targets_) {
        if (t.ip6 && *t.ip6 == src && t.port == v.key.src_port) return !clients6_ || clients6_->contains(v.dst6(frame));
    }
    return false;
}

RxKind RxClassifier::classify(net::ConstBytes frame, net::PacketView& v) const noexcept {
    v = net::PacketView{};
    const net::ParseError e = net::parse_frame(frame, v, net::LinkType::ethernet, /*accept_other_l4=*/true, families_);
    // The tags are read before anything past them: a frame cut in its tags is a parse drop.
    const bool tags_read = e != net::ParseError::truncated_l2 && e != net::ParseError::truncated_vlan &&
                           e != net::ParseError::too_many_vlans;
    const bool ours = tags_.empty() || carries_tags(v, tags_);
    if (!ours && tags_read && !live_) return RxKind::drop_vlan;
    if (e != net::ParseError::ok) {
        if (e == net::ParseError::not_ipv4 || e == net::ParseError::ipv6_not_supported) return RxKind::drop_not_ours;
        return live_ ? RxKind::captured : RxKind::drop_parse;  // live: the engine counts it by reason
    }
    // A port shared with the mirror (live): frames without our tags are mirrored ones.
    if (!ours) return RxKind::captured;
    if (v.l3 == net::L3Kind::arp || v.l4 == net::L4Kind::icmp || v.l4 == net::L4Kind::icmpv6) return RxKind::host;
    if (v.l3 == net::L3Kind::ipv6) {
        if (v.l4 == net::L4Kind::tcp && ipv6_target(frame, v)) return RxKind::target;
        return live_ ? RxKind::captured : RxKind::drop_not_ours;
    }
    if (v.l4 == net::L4Kind::tcp) {
        for (const TargetEndpoint& t : targets_) {
            if (t.ip6) continue;
            if (t.ip == v.key.src_ip && t.port == v.key.src_port) {
                if (clients_.empty() || clients_.contains(v.key.dst_ip)) return RxKind::target;
                break;
            }
        }
    }
    return live_ ? RxKind::captured : RxKind::drop_not_ours;
}

}  // namespace dpcopy::io
