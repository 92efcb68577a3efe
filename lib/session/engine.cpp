// The session engine: entry points, bursts, the Engine API (see engine_impl.hpp).
#include "lib/session/engine_impl.hpp"

namespace dpcopy::session::detail {

EngineImpl::EngineImpl(const EngineConfig& cfg, FrameSink& sink)
    : cfg_(cfg),
      sink_(sink),
      sessions_(cfg.max_sessions),
      by_orig_(cfg.max_sessions),
      by_xlat_(cfg.max_sessions),
      wheel_(cfg.max_sessions),
      pieces_(cfg.max_queued_segments),
      blocks_(cfg.max_queued_segments),
      segmented_(sink.segmented()),
      share_blocks_(cfg.multiply > 1 || segmented_),
      queue_(pieces_, blocks_, cfg.max_queued_per_session, share_blocks_),
      // shed flows may outnumber the admitted ones many times: at least 65,536 slots
      shed_(cfg.admission_high_water_pct ? std::max<std::size_t>(cfg.max_sessions, std::size_t{1} << 16) : 0),
      recently_closed_(cfg.max_sessions),
      time_wait_(cfg.max_sessions),
      tx_frame_(16384 + 256),
      logins_(cfg_.mysql_users, cfg.max_sessions) {
    free_ids_.reserve(cfg.max_sessions);
    for (std::uint32_t i = cfg.max_sessions; i > 0; --i) free_ids_.push_back(i - 1);
    l2_.src = cfg.local_mac;
    l2_.dst = cfg.next_hop_mac;
    l2_.vlan_count = cfg.vlan_count;
    l2_.vlans = cfg.vlans;
    quiet_policy_.min_ns = cfg.quiet_min;
    quiet_policy_.max_ns = std::max(cfg.quiet_max, cfg.quiet_min);
    max_payload_ = static_cast<std::uint16_t>(cfg.mtu - 40);
    fabricated_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(1460, cfg.mtu - 40));
    max_payload6_ = static_cast<std::uint16_t>(cfg.mtu - 60);
    fabricated_mss6_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(1440, cfg.mtu - 60));
    for (const TransferMap& t : cfg.transfers) {
        if (t.matches_ipv4()) transfers4_.push_back(t);
        if (t.matches_ipv6()) {
            transfers6_.push_back(t);
            captured_families_ = net::IpFamilies::ipv4_and_ipv6;
        }
        if (t.target_is_ipv6()) target_families_ = net::IpFamilies::ipv4_and_ipv6;
    }
    if (captured_families_ != net::IpFamilies::ipv4 || target_families_ != net::IpFamilies::ipv4)
        addrs6_ = BigArray<SessionAddrs6>(cfg.max_sessions);
}

inline bool EngineImpl::init(std::string& err) {
    TupleConfig tc;
    tc.clients = cfg_.clients;
    tc.instance = cfg_.instance;
    tc.instance_count = cfg_.instance_count;
    tc.worker_index = cfg_.worker_index;
    tc.worker_count = cfg_.worker_count;
    tc.time_wait_ns = cfg_.time_wait;
    tc.max_tuples = cfg_.max_tuples;
    if (!tuples_.init(tc, err)) return false;
    if (target_families_ == net::IpFamilies::ipv4) return true;
    tc.clients.clear();
    tc.clients6 = cfg_.clients6;
    return tuples6_.init(tc, err);
}

// Entry points: the work, then the deferred block releases (flush_unrefs).
inline void EngineImpl::on_captured(ConstBytes frame, net::LinkType link, Nanos now) {
    capture_clock_ = now;
    captured_one(frame, link, now);
    flush_unrefs();
}

inline void EngineImpl::on_target(ConstBytes frame, Nanos now) {
    target_one(frame, now);
    flush_unrefs();
}

inline void EngineImpl::captured_one(ConstBytes frame, net::LinkType link, Nanos now) {
    Parsed p;
    p.pe = parse_for(frame, p.v, link, captured_families_);
    captured_parsed(frame, p, now);
}

inline void EngineImpl::captured_parsed(ConstBytes frame, const Parsed& p, Nanos now) {
    if (!admit_frame(p, kCapturedIntake, now)) return;
    const net::PacketView& v = p.v;
    if (v.l3 == net::L3Kind::ipv6) {
        captured_ipv6(frame, p, now);
        return;
    }
    const net::FlowKey& k = v.key;
    for (const TransferMap& t : transfers4_) {
        if (k.dst_port == t.online_port && (!t.online_ip || *t.online_ip == k.dst_ip)) {
            ++ctr_[Counter::captured_client_frames];
            client_frame(frame, v, hash_of(p, true), t, nullptr, now);
            return;
        }
    }
    for (const TransferMap& t : transfers4_) {
        if (k.src_port == t.online_port && (!t.online_ip || *t.online_ip == k.src_ip)) {
            ++ctr_[Counter::captured_server_frames];
            server_frame(frame, v, hash_of(p, false), nullptr, now);
            return;
        }
    }
    ++ctr_[Counter::drop_captured_no_transfer];
}

inline void EngineImpl::target_one(ConstBytes frame, Nanos now) {
    Parsed p;
    p.pe = parse_for(frame, p.v, net::LinkType::ethernet, target_families_);
    target_parsed(frame, p, now);
}

void EngineImpl::target_parsed(ConstBytes frame, const Parsed& p, Nanos now) {
    if (!admit_frame(p, kTargetIntake, now)) return;
    const net::PacketView& v = p.v;
    if (v.l3 == net::L3Kind::ipv6) [[unlikely]] {
        target_ipv6(frame, p, now);
        return;
    }
    const net::FlowKey xk = v.key.reversed();  // fake client -> target
    const std::uint64_t h = hash_of(p, false);
    const std::uint32_t id = by_xlat_.find(h, [&](std::uint32_t i) {
        const SessionIdentity& si = sessions_[i].identity;
        return si.translated == xk && !(si.family & family::translated6);
    });
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    if (id == kNone) {
        ++ctr_[Counter::drop_target_unknown];
        if (th.has(tf::rst)) return;
        if (time_wait_ack(frame, xk, h, v, th, now)) return;
        if (tuples_.owns(xk.src_ip, xk.src_port) && is_target(xk.dst_ip, xk.dst_port)) reset_unknown(frame, v, th, now);
        return;
    }
    target_segment(id, frame, v, th, now);
}

// An IPv6 target frame (its key holds the folds of its addresses): matched by the full ones.
// Out of line (noinline, not `inline`), like captured_ipv6: IPv4's path stays as compact as before.
void EngineImpl::target_ipv6(ConstBytes frame, const Parsed& p, Nanos now) {
    const net::PacketView& v = p.v;
    const net::FlowKey xk = v.key.reversed();  // fake client -> target
    const std::uint64_t h = hash_of(p, false);
    const Addr6Pair a6{v.dst6(frame), v.src6(frame)};
    const std::uint32_t id = by_xlat_.find(h, [&](std::uint32_t i) { return translated_is(i, xk, &a6); });
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    if (id == kNone) {
        ++ctr_[Counter::drop_target_unknown];
        if (th.has(tf::rst)) return;
        if (time_wait_ack(frame, xk, h, v, th, now)) return;
        if (tuples6_.owns6(a6.src, xk.src_port) && is_target6(a6.dst, xk.dst_port)) reset_unknown(frame, v, th, now);
        return;
    }
    target_segment(id, frame, v, th, now);
}

// Pass 1 for one frame: parse it and hash its flow as the table it belongs to is keyed:
// a captured frame toward an online port by its own key, any other (captured from the
// server, or from the target, whose tuple is the translated one reversed) reversed.
// `given`: the caller's parse of f (used when its l3 is set).
inline bool EngineImpl::parse_and_hash(ConstBytes f, net::LinkType link, net::IpFamilies families, Parsed& p,
                                       const net::PacketView* given) const noexcept {
    if (given && given->l3 != net::L3Kind::none) {
        p.v = *given;
        p.pe = net::ParseError::ok;
        if (p.v.l3 == net::L3Kind::ipv6) {
            if (families == net::IpFamilies::ipv4) p.pe = net::ParseError::ipv6_not_supported;
            fold_view_key(f, p.v);
        }
    } else {
        p.pe = parse_for(f, p.v, link, families);
    }
    p.hashed = p.pe == net::ParseError::ok && p.v.l4 == net::L4Kind::tcp;
    if (!p.hashed) return false;
    const net::FlowKey& k = p.v.key;
    p.to_server = std::any_of(cfg_.transfers.begin(), cfg_.transfers.end(),
                              [&](const TransferMap& t) { return k.dst_port == t.online_port; });
    p.h = key_hash(p.to_server ? k : k.reversed(), p.v.l3 == net::L3Kind::ipv6);
    return true;
}

inline void EngineImpl::on_captured_burst(std::span<const ConstBytes> frames, net::LinkType link, Nanos now) {
    on_captured_burst(frames, {}, link, now);
}

// capture_times (a capture file's timestamps) or, when empty, `now` is each frame's
// capture_clock_: what the online server's latency is measured on.
inline void EngineImpl::on_captured_burst(std::span<const ConstBytes> frames, std::span<const Nanos> capture_times,
                                          net::LinkType link, Nanos now) {
    std::array<Parsed, kBurst> parsed;
    for (std::size_t base = 0; base < frames.size(); base += kBurst) {
        const std::size_t n = std::min(kBurst, frames.size() - base);
        for (std::size_t i = 0; i < n; ++i) {
            Parsed& p = parsed[i];
            if (!parse_and_hash(frames[base + i], link, captured_families_, p)) continue;
            by_orig_.prefetch(p.h);
        }
        // (in packet order: each packet's session lines, then the piece it will fill)
        for (std::size_t i = 0; i < n; ++i) {
            if (parsed[i].hashed) prefetch_session(by_orig_.peek(parsed[i].h));
            pieces_.prefetch_next(static_cast<std::uint32_t>(i));
            blocks_.prefetch_next(static_cast<std::uint32_t>(i), share_blocks_);
        }
        for (std::size_t i = 0; i < n; ++i) {
            capture_clock_ = capture_times.empty() ? now : capture_times[base + i];
            captured_parsed(frames[base + i], parsed[i], now);
        }
        flush_unrefs();
    }
}

inline void EngineImpl::on_target_burst(std::span<const ConstBytes> frames, Nanos now) {
    on_target_burst(frames, {}, now);
}

inline void EngineImpl::on_target_burst(std::span<const ConstBytes> frames, std::span<const net::PacketView> views, Nanos now) {
    std::array<Parsed, kBurst> parsed;
    for (std::size_t base = 0; base < frames.size(); base += kBurst) {
        const std::size_t n = std::min(kBurst, frames.size() - base);
        for (std::size_t i = 0; i < n; ++i) {
            Parsed& p = parsed[i];
            const net::PacketView* given = views.empty() ? nullptr : &views[base + i];
            if (!parse_and_hash(frames[base + i], net::LinkType::ethernet, target_families_, p, given)) continue;
            by_xlat_.prefetch(p.h);
        }
        std::array<std::uint32_t, kBurst> ids{};
        for (std::size_t i = 0; i < n; ++i) {
            ids[i] = parsed[i].hashed ? by_xlat_.peek(parsed[i].h) : kNone;
            prefetch_session(ids[i]);
        }
        // the queued pieces an ACK will free (the session lines are on their way)
        for (std::size_t i = 0; i < n; ++i) {
            if (ids[i] != kNone) pieces_.prefetch(sessions_[ids[i]].queue.head);
        }
        for (std::size_t i = 0; i < n; ++i) target_parsed(frames[base + i], parsed[i], now);
        flush_unrefs();
    }
}

inline void EngineImpl::advance(Nanos now) {
    advance_observed_clock(now);
    wheel_.advance(
        now, [&](std::uint32_t id) { on_timer(id, now); }, [&](std::uint32_t id) { prefetch_session_lines(id); });
    flush_unrefs();
}

inline void EngineImpl::finish_input(Nanos now) {
    advance_observed_clock(now);
    for (std::uint32_t id = 0; id < static_cast<std::uint32_t>(sessions_.size()); ++id) {
        Session& s = sessions_[id];
        if (s.state == State::free) continue;
        s.flags |= sflag::input_done;
        if (s.capture_gap != CaptureGap::none) {  // nothing can fill it any more
            expire_gap(s);
            s.deadlines.gap_at = 0;
        }
        advance_and_schedule(id, now);
    }
    flush_unrefs();
}

inline std::size_t EngineImpl::memory_bytes() const {
    return sessions_.size() * sizeof(Session) + (by_orig_.slot_count() + by_xlat_.slot_count()) * 8 +
           std::size_t{wheel_.capacity()} * TimerWheel::bytes_per_id() + pieces_.memory_bytes() + blocks_.memory_bytes() + tuples_.memory_bytes() + tuples6_.memory_bytes() + addrs6_.size() * sizeof(SessionAddrs6) +
           free_ids_.capacity() * 4 + recently_closed_.memory_bytes() + time_wait_.memory_bytes() + shed_.memory_bytes();
}

// The most a captured frame may take (overload.hpp): a client segment of a -x transfer queues
// its payload for every replica, and opens the replicas' sessions when it is a SYN or data of
// a flow with no session yet. Server frames and anything else take nothing.
inline CaptureCost EngineImpl::capture_cost(ConstBytes frame, net::LinkType link) const {
    net::PacketView v;
    if (parse_for(frame, v, link, captured_families_) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) return {};
    const net::FlowKey& k = v.key;
    const bool v6 = v.l3 == net::L3Kind::ipv6;
    Addr6Pair a6;
    if (v6) a6 = Addr6Pair{v.src6(frame), v.dst6(frame)};
    for (const TransferMap& t : v6 ? transfers6_ : transfers4_) {
        if (k.dst_port != t.online_port) continue;
        if (v6 ? (t.online_ip6 && *t.online_ip6 != a6.dst) : (t.online_ip && *t.online_ip != k.dst_ip)) continue;
        const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
        bool opens = th.has(tf::syn) && !th.has(tf::ack);
        const Addr6Pair* ap = v6 ? &a6 : nullptr;
        if (!opens && v.payload_len > 0)
            opens = by_orig_.find(key_hash(k, v6), [&](std::uint32_t i) { return original_is(i, k, ap); }) == kNone;
        return session::capture_cost(v.payload_len, cfg_.multiply, share_blocks_, opens);
    }
    return {};
}

}  // namespace dpcopy::session::detail

namespace dpcopy::session {

std::uint32_t owner_of(const net::FlowKey& translated_client_to_target, std::uint32_t worker_count) noexcept {
    if (worker_count <= 1) return 0;
    return translated_client_to_target.src_port.value() % worker_count;
}

using detail::EngineImpl;

// The -x entries' families against the pools: a session whose target is of another family
// than its capture cannot keep its client's address, it needs a pool of the target's family.
static bool check_families(const EngineConfig& cfg, std::string& err) {
    for (const TransferMap& t : cfg.transfers) {
        if ((t.online_ip6 && t.online_family != OnlineFamily::ipv6) || (t.online_ip && t.online_family == OnlineFamily::ipv6)) {
            err = "transfer " + t.to_string() + ": its online address is not of the family it matches";
            return false;
        }
        if (t.matches_ipv6() && !t.target_is_ipv6() && cfg.clients.empty()) {
            err = "transfer " + t.to_string() + ": an IPv6 capture copied to an IPv4 target needs an IPv4 client pool (-c)";
            return false;
        }
        if (t.matches_ipv4() && t.target_is_ipv6() && !cfg.clients6) {
            err = "transfer " + t.to_string() + ": an IPv4 capture copied to an IPv6 target needs an IPv6 client pool (-c PREFIX)";
            return false;
        }
    }
    return true;
}

std::unique_ptr<Engine> Engine::create(const EngineConfig& cfg, FrameSink& sink, std::string& err) {
    if (cfg.transfers.empty()) {
        err = "no transfer (-x) given";
        return nullptr;
    }
    if (cfg.multiply < 1 || cfg.multiply > 1000) {
        err = "multiply (-n) must be 1..1000";
        return nullptr;
    }
    if (!(cfg.percent >= 0.0 && cfg.percent <= 100.0)) {
        err = "percent (-r) must be 0..100";
        return nullptr;
    }
    if (cfg.mtu < 576 || cfg.mtu > 9216) {
        err = "mtu must be 576..9216";
        return nullptr;
    }
    if (cfg.worker_count == 0 || cfg.worker_index >= cfg.worker_count) {
        err = "worker index must be below the worker count";
        return nullptr;
    }
    if (cfg.max_sessions == 0 || cfg.max_sessions >= 0x7fffffffu) {
        err = "max sessions must be 1..2^31-1";
        return nullptr;
    }
    if (cfg.max_queued_segments == 0 || cfg.max_queued_segments >= 0x7fffffffu || cfg.max_queued_per_session == 0) {
        err = "segment queue bounds must be positive";
        return nullptr;
    }
    if (cfg.stall_gap == 0) {
        err = "stall gap must be positive";
        return nullptr;
    }
    if (cfg.session_timeout == 0) {
        err = "session timeout must be positive";
        return nullptr;
    }
    if (cfg.vlan_count > 2) {
        err = "at most two VLAN tags";
        return nullptr;
    }
    if (!check_families(cfg, err)) return nullptr;
    auto e = std::make_unique<EngineImpl>(cfg, sink);
    if (!e->init(err)) return nullptr;
    return e;
}

}  // namespace dpcopy::session
