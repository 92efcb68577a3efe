// dpintercept's subscription table and record batching; see control_intercept.hpp and
// docs/control-protocol.md.
#include "lib/control/control_intercept.hpp"

#include <algorithm>
#include <cstring>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"

namespace dpcopy::io {

namespace ctl = control;

InterceptCore::InterceptCore(InterceptConfig cfg) : cfg_(std::move(cfg)), replay_(cfg_.max_senders) {
    if (cfg_.key) key_ = &*cfg_.key;
    next_epoch_ = cfg_.epoch;
}

std::size_t InterceptCore::subscriptions() const noexcept {
    std::size_t n = 0;
    for (const auto& s : subs_) n += s->used ? 1 : 0;
    return n;
}

InterceptCore::Sub* InterceptCore::find(net::Ipv4Addr ip, net::Port port, std::uint16_t instance) noexcept {
    for (auto& s : subs_)
        if (s->used && s->ip == ip && s->port == port && s->instance == instance) return s.get();
    return nullptr;
}

InterceptCore::Sub* InterceptCore::allocate() noexcept {
    for (auto& s : subs_)
        if (!s->used) return s.get();
    if (subs_.size() >= cfg_.max_subscriptions) return nullptr;
    subs_.push_back(std::make_unique<Sub>());  // control path only (a new subscriber)
    return subs_.back().get();
}

std::size_t InterceptCore::from_source(net::Ipv4Addr ip) const noexcept {
    std::size_t n = 0;
    for (const auto& s : subs_) n += s->used && s->ip == ip ? 1 : 0;
    return n;
}

ctl::Reject InterceptCore::admit(const ctl::Datagram& d, const net::PacketView& v, Sub* s, std::uint64_t now) noexcept {
    // The reply address is inside the MAC: a SUBSCRIBE replayed from another address or port
    // names the genuine subscriber's, not the sender's.
    if (d.reply != ctl::Endpoint{v.key.src_ip.value(), v.key.src_port.value()}) return ctl::Reject::reply_mismatch;
    if (s && d.h.epoch < s->peer_epoch) return ctl::Reject::old_epoch;
    // Keep the sender's replay state past the subscription's expiry and then 2 x the skew
    // limit: any copy of an accepted datagram is `stale` by then.
    std::uint64_t keep = ~std::uint64_t{0};
    if (cfg_.max_skew_ns != 0) {
        const std::uint64_t life = d.h.type == ctl::Type::subscribe
                                       ? std::uint64_t{d.sub.heartbeat_ms} * 1'000'000ULL * d.sub.expire_after
                                       : 0;
        keep = now + life + 2 * cfg_.max_skew_ns;
    }
    return replay_.accept(d.h.instance, d.h.epoch, d.h.seq, now, keep);
}

void InterceptCore::on_control(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now,
                               session::FrameSink& out) {
    ++ctr_[InterceptCounter::control_rx];
    const net::Ipv4Addr src = v.key.src_ip;
    if (!cfg_.allow.empty() && !cfg_.allow.contains(src)) {
        ++ctr_[InterceptCounter::control_not_allowed];
        return;
    }
    ctl::Datagram d;
    ctl::Reject r = ctl::decode(v.payload(frame), key_, now, cfg_.max_skew_ns, d);
    if (r != ctl::Reject::none) {
        ctr_.rejects.add(r);
        return;
    }
    if (d.h.type == ctl::Type::records) {
        ++ctr_[InterceptCounter::control_wrong_direction];
        return;
    }
    Sub* s = find(src, v.key.src_port, d.h.instance);
    r = admit(d, v, s, now);
    ctr_.rejects.add(r);
    if (r != ctl::Reject::none) return;
    if (d.h.type == ctl::Type::unsubscribe) {
        if (s) {
            flush(*s, now, out);
            s->used = false;
            ++ctr_[InterceptCounter::unsubscribes];
        }
        return;
    }
    subscribe(d, frame, v, s, now, out);
}

void InterceptCore::subscribe(const ctl::Datagram& d, net::ConstBytes frame, const net::PacketView& v, Sub* s,
                              std::uint64_t now, session::FrameSink& out) {
    ++ctr_[InterceptCounter::subscribes];
    if (s && d.h.epoch > s->peer_epoch) {
        // the subscriber restarted on the same address and port: a new RECORDS stream for it
        flush(*s, now, out);
        s->peer_epoch = d.h.epoch;
        s->seq = 0;
        s->epoch = next_epoch_++;
    }
    if (!s) {
        if (from_source(v.key.src_ip) >= cfg_.max_per_source) {
            ++ctr_[InterceptCounter::subscriptions_source_full];
            return;
        }
        s = allocate();
        if (!s) {
            ++ctr_[InterceptCounter::subscriptions_full];
            return;
        }
        s->used = true;
        s->ip = v.key.src_ip;
        s->port = v.key.src_port;
        s->instance = d.h.instance;
        s->peer_epoch = d.h.epoch;
        s->seq = 0;
        s->epoch = next_epoch_++;
        s->builder.begin(s->buf, key_ != nullptr);
        ++ctr_[InterceptCounter::subscriptions_new];
    }
    s->mac = net::EthHdr::read(frame).src;
    s->sub = d.sub;
    s->expires = now + std::uint64_t{d.sub.heartbeat_ms} * 1'000'000ULL * d.sub.expire_after;
}

bool InterceptCore::on_response(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now,
                                session::FrameSink& out) {
    ++ctr_[InterceptCounter::responses];
    const auto& k = v.key;
    Sub* owner = nullptr;
    for (auto& s : subs_) {
        if (s->used && s->sub.matches(k.src_ip.value(), k.src_port.value(), k.dst_ip.value(), k.dst_port.value())) {
            owner = s.get();
            break;
        }
    }
    if (!owner) {
        ++ctr_[InterceptCounter::no_subscriber];
        return false;
    }
    const std::size_t headers = std::size_t{v.payload_off} - v.l3_off;
    std::size_t payload = std::min<std::size_t>(cfg_.payload_bytes, v.payload_len);
    const std::size_t max = ctl::max_record_size(key_ != nullptr);
    if (headers + payload > max) {
        payload = max > headers ? max - headers : 0;
        ++ctr_[InterceptCounter::payload_cut];
    }
    const auto rec = frame.subspan(v.l3_off, headers + payload);
    if (!owner->builder.add(rec)) {
        flush(*owner, now, out);
        ++ctr_[InterceptCounter::flush_size];
        if (!owner->builder.add(rec)) {
            ++ctr_[InterceptCounter::drop_build];
            return false;
        }
    }
    if (owner->builder.count() == 1) owner->first_record = now;
    ++ctr_[InterceptCounter::records];
    // size-driven flush: a full batch goes now rather than waiting for the timer
    if (owner->builder.room() < ctl::kMinRecord) {
        flush(*owner, now, out);
        ++ctr_[InterceptCounter::flush_size];
    }
    return true;
}

void InterceptCore::flush(Sub& s, std::uint64_t now, session::FrameSink& out) {
    if (s.builder.empty()) return;
    ctl::Header h;
    h.instance = s.instance;
    h.epoch = s.epoch;
    h.seq = ++s.seq;
    h.ts_ns = now;
    const ctl::Subscriber to{s.peer_epoch, {s.ip.value(), s.port.value()}};
    const std::size_t n = s.builder.finish(h, to, key_);
    s.builder.begin(s.buf, key_ != nullptr);
    if (n == 0) {
        ++ctr_[InterceptCounter::drop_build];
        return;
    }
    net::L2Spec l2{cfg_.mac, s.mac, 0, {}};
    net::Ipv4Spec ip{cfg_.ip, s.ip};
    const std::size_t len = net::build_udp(frame_, l2, ip, cfg_.control_port, s.port,
                                           net::ConstBytes(s.buf.data(), n));
    if (len == 0) {
        ++ctr_[InterceptCounter::drop_build];
        return;
    }
    ++ctr_[InterceptCounter::datagrams];
    out.emit(net::ConstBytes(frame_.data(), len));
}

void InterceptCore::poll(std::uint64_t now, session::FrameSink& out, bool input_drained) {
    for (auto& s : subs_) {
        if (!s->used) continue;
        if (!s->builder.empty() && now - s->first_record >= cfg_.flush_ns) {
            flush(*s, now, out);
            ++ctr_[InterceptCounter::flush_time];
        } else if (!s->builder.empty() && input_drained) {
            flush(*s, now, out);
            ++ctr_[InterceptCounter::flush_idle];
        }
        if (now >= s->expires) {
            flush(*s, now, out);
            s->used = false;
            ++ctr_[InterceptCounter::subscriptions_expired];
        }
    }
}

void InterceptCore::flush_all(std::uint64_t now, session::FrameSink& out) {
    for (auto& s : subs_) {
        if (s->used && !s->builder.empty()) {
            flush(*s, now, out);
            ++ctr_[InterceptCounter::flush_final];
        }
    }
}

}  // namespace dpcopy::io
