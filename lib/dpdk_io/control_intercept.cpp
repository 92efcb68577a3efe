// dpintercept's subscription table and record batching; see control_intercept.hpp and
// docs/control-protocol.md.
#include "lib/dpdk_io/control_intercept.hpp"

#include <algorithm>
#include <cstring>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"

namespace dpcopy::io {

namespace ctl = control;

InterceptCore::InterceptCore(InterceptConfig cfg) : cfg_(std::move(cfg)) {
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

void InterceptCore::on_control(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now,
                               session::FrameSink& out) {
    ++ctr_.control_rx;
    const net::Ipv4Addr src = v.key.src_ip;
    if (!cfg_.allow.empty() && !cfg_.allow.contains(src)) {
        ++ctr_.control_not_allowed;
        return;
    }
    ctl::Datagram d;
    const ctl::Reject r = ctl::decode(v.payload(frame), key_, now, cfg_.max_skew_ns, d);
    if (r != ctl::Reject::none) {
        ctr_.rejects.add(r);
        return;
    }
    if (d.h.type == ctl::Type::records) {
        ++ctr_.control_wrong_direction;
        return;
    }
    Sub* s = find(src, v.key.src_port, d.h.instance);
    if (s) {
        const auto w = s->window.accept(d.h.epoch, d.h.seq);
        if (w.reject != ctl::Reject::none) {
            ctr_.rejects.add(w.reject);
            return;
        }
    }
    ctr_.rejects.add(ctl::Reject::none);
    if (d.h.type == ctl::Type::unsubscribe) {
        if (s) {
            flush(*s, now, out);
            s->used = false;
            ++ctr_.unsubscribes;
        }
        return;
    }
    ++ctr_.subscribes;
    if (!s) {
        s = allocate();
        if (!s) {
            ++ctr_.subscriptions_full;
            return;
        }
        s->used = true;
        s->ip = src;
        s->port = v.key.src_port;
        s->instance = d.h.instance;
        s->window.reset();
        s->window.accept(d.h.epoch, d.h.seq);
        s->seq = 0;
        s->epoch = next_epoch_++;
        s->builder.begin(s->buf, key_ != nullptr);
        ++ctr_.subscriptions_new;
    }
    s->mac = net::EthHdr::read(frame).src;
    s->sub = d.sub;
    s->expires = now + std::uint64_t{d.sub.heartbeat_ms} * 1'000'000ULL * d.sub.expire_after;
}

bool InterceptCore::on_response(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now,
                                session::FrameSink& out) {
    ++ctr_.responses;
    const auto& k = v.key;
    Sub* owner = nullptr;
    for (auto& s : subs_) {
        if (s->used && s->sub.matches(k.src_ip.value(), k.src_port.value(), k.dst_ip.value(), k.dst_port.value())) {
            owner = s.get();
            break;
        }
    }
    if (!owner) {
        ++ctr_.no_subscriber;
        return false;
    }
    const std::size_t headers = std::size_t{v.payload_off} - v.l3_off;
    std::size_t payload = std::min<std::size_t>(cfg_.payload_bytes, v.payload_len);
    const std::size_t max = ctl::max_record_size(key_ != nullptr);
    if (headers + payload > max) {
        payload = max > headers ? max - headers : 0;
        ++ctr_.payload_cut;
    }
    const auto rec = frame.subspan(v.l3_off, headers + payload);
    if (!owner->builder.add(rec)) {
        flush(*owner, now, out);
        ++ctr_.flush_size;
        if (!owner->builder.add(rec)) {
            ++ctr_.drop_build;
            return false;
        }
    }
    if (owner->builder.count() == 1) owner->first_record = now;
    ++ctr_.records;
    // size-driven flush: a full batch goes now rather than waiting for the timer
    if (owner->builder.room() < ctl::kMinRecord) {
        flush(*owner, now, out);
        ++ctr_.flush_size;
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
    const std::size_t n = s.builder.finish(h, key_);
    s.builder.begin(s.buf, key_ != nullptr);
    if (n == 0) {
        ++ctr_.drop_build;
        return;
    }
    net::L2Spec l2{cfg_.mac, s.mac, 0, {}};
    net::Ipv4Spec ip{cfg_.ip, s.ip};
    const std::size_t len = net::build_udp(frame_, l2, ip, cfg_.control_port, s.port,
                                           net::ConstBytes(s.buf.data(), n));
    if (len == 0) {
        ++ctr_.drop_build;
        return;
    }
    ++ctr_.datagrams;
    out.emit(net::ConstBytes(frame_.data(), len));
}

void InterceptCore::poll(std::uint64_t now, session::FrameSink& out) {
    for (auto& s : subs_) {
        if (!s->used) continue;
        if (!s->builder.empty() && now - s->first_record >= cfg_.flush_ns) {
            flush(*s, now, out);
            ++ctr_.flush_time;
        }
        if (now >= s->expires) {
            flush(*s, now, out);
            s->used = false;
            ++ctr_.subscriptions_expired;
        }
    }
}

void InterceptCore::flush_all(std::uint64_t now, session::FrameSink& out) {
    for (auto& s : subs_) {
        if (s->used && !s->builder.empty()) {
            flush(*s, now, out);
            ++ctr_.flush_final;
        }
    }
}

}  // namespace dpcopy::io
