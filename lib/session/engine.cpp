// The session engine (see engine.hpp for the contract, docs/PERFORMANCE.md for figures).
//
// One EngineImpl per worker. Sessions live in a fixed slab; two FlatIndex tables find them
// by original 4-tuple (head of the replica chain) and by translated tuple; one TimerWheel
// entry per session holds its earliest deadline; captured client data waits in the
// worker's PiecePool until the target acknowledges it. Every frame sent is built from
// scratch by net::build_tcp (our options, our checksums).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/big_array.hpp"
#include "lib/session/engine.hpp"
#include "lib/session/flat_index.hpp"
#include "lib/session/mysql_login.hpp"
#include "lib/session/policy.hpp"
#include "lib/session/rto.hpp"
#include "lib/session/seg_pool.hpp"
#include "lib/session/session.hpp"
#include "lib/session/timer_wheel.hpp"
#include "lib/session/tuple_alloc.hpp"

namespace dpcopy::session {

std::uint32_t owner_of(const net::FlowKey& translated_client_to_target, std::uint32_t worker_count) noexcept {
    if (worker_count <= 1) return 0;
    return translated_client_to_target.src_port.value() % worker_count;
}

namespace {

constexpr std::uint32_t kNone = 0xffffffffu;
constexpr std::size_t kSessionPrefetchBytes = sizeof(Session);

namespace tf = net::tcpflag;

inline std::uint32_t seq_dist(Seq to, Seq from) noexcept {  // to - from, clamped at 0
    const std::int32_t d = to - from;
    return d > 0 ? static_cast<std::uint32_t>(d) : 0u;
}

static_assert(BlockPool::kBlockBytes == kPayloadBlockBytes);
// Target response bytes of a connection within which a MySQL greeting and login answer are looked for.
constexpr std::uint32_t kLoginWindow = 4096;

class EngineImpl final : public Engine {
public:
    EngineImpl(const EngineConfig& cfg, FrameSink& sink)
        : cfg_(cfg),
          sink_(sink),
          sessions_(cfg.max_sessions),
          by_orig_(cfg.max_sessions),
          by_xlat_(cfg.max_sessions),
          wheel_(cfg.max_sessions),
          pool_(cfg.max_queued_segments),
          blocks_(cfg.max_queued_segments),
          segmented_(sink.segmented()),
          share_blocks_(cfg.multiply > 1 || segmented_),
          closed_(std::bit_ceil(std::max<std::uint32_t>(cfg.max_sessions, 64)), ClosedEntry{}),
          time_wait_(std::bit_ceil(std::max<std::uint32_t>(cfg.max_sessions, 256)), TimeWaitEntry{}),
          tx_(16384 + 256),
          logins_(cfg_.mysql_users, cfg.max_sessions) {
        free_.reserve(cfg.max_sessions);
        for (std::uint32_t i = cfg.max_sessions; i > 0; --i) free_.push_back(i - 1);
        l2_.src = cfg.local_mac;
        l2_.dst = cfg.next_hop_mac;
        l2_.vlan_count = cfg.vlan_count;
        l2_.vlans = cfg.vlans;
        quiet_.min_ns = cfg.quiet_min;
        quiet_.max_ns = std::max(cfg.quiet_max, cfg.quiet_min);
        max_payload_ = static_cast<std::uint16_t>(cfg.mtu - 40);
        fabricated_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(1460, cfg.mtu - 40));
    }

    bool init(std::string& err) {
        TupleConfig tc;
        tc.clients = cfg_.clients;
        tc.instance = cfg_.instance;
        tc.instance_count = cfg_.instance_count;
        tc.worker_index = cfg_.worker_index;
        tc.worker_count = cfg_.worker_count;
        tc.time_wait_ns = cfg_.time_wait;
        tc.max_tuples = cfg_.max_tuples;
        return tuples_.init(tc, err);
    }

    // ---------------------------------------------------------------- Engine API
    // Entry points: the work, then the deferred block releases (flush_unrefs).
    void on_captured(ConstBytes frame, net::LinkType link, Nanos now) override {
        captured_one(frame, link, now);
        flush_unrefs();
    }
    void on_target(ConstBytes frame, Nanos now) override {
        target_one(frame, now);
        flush_unrefs();
    }

    // A frame's parse and flow hash, computed once: by the burst paths for the whole burst
    // (the hash also prefetches the index), or by the single-frame entry points.
    struct Parsed {
        net::PacketView v;
        net::ParseError pe = net::ParseError::ok;
        bool hashed = false;     // h is valid
        bool to_server = false;  // h hashes v.key (else v.key.reversed())
        std::uint64_t h = 0;
    };

    void captured_one(ConstBytes frame, net::LinkType link, Nanos now) {
        Parsed p;
        p.pe = net::parse_frame(frame, p.v, link);
        captured_parsed(frame, p, now);
    }

    // The hash of `k` (to_server) or of its reverse, reusing the burst's when it is that one.
    static std::uint64_t hash_of(const Parsed& p, bool to_server) noexcept {
        if (p.hashed && p.to_server == to_server) return p.h;
        return net::hash_flow(to_server ? p.v.key : p.v.key.reversed());
    }

    // Counts a frame of one direction in (`frames`) and, when it is not a parsed TCP segment,
    // its drop; true when it goes on.
    struct Intake {
        Counter frames, parse, not_tcp;
        std::array<std::uint64_t, net::parse_error_count> Counters::*by_reason;
    };
    static constexpr Intake kCapturedIntake{Counter::captured_frames, Counter::drop_captured_parse,
                                            Counter::drop_captured_not_tcp, &Counters::parse_captured};
    static constexpr Intake kTargetIntake{Counter::target_frames, Counter::drop_target_parse,
                                          Counter::drop_target_not_tcp, &Counters::parse_target};
    bool take(const Parsed& p, const Intake& in, Nanos now) noexcept {
        observe(now);
        ++ctr_[in.frames];
        if (p.pe != net::ParseError::ok) {
            ++ctr_[in.parse];
            ++(ctr_.*in.by_reason)[static_cast<std::size_t>(p.pe)];
            return false;
        }
        if (p.v.l4 != net::L4Kind::tcp) {
            ++ctr_[in.not_tcp];
            return false;
        }
        return true;
    }

    void captured_parsed(ConstBytes frame, const Parsed& p, Nanos now) {
        if (!take(p, kCapturedIntake, now)) return;
        const net::PacketView& v = p.v;
        const net::FlowKey& k = v.key;
        for (std::size_t i = 0; i < cfg_.transfers.size(); ++i) {
            const TransferMap& t = cfg_.transfers[i];
            if (k.dst_port == t.online_port && (!t.online_ip || *t.online_ip == k.dst_ip)) {
                ++ctr_[Counter::captured_client_frames];
                client_frame(frame, v, hash_of(p, true), t, now);
                return;
            }
        }
        for (const TransferMap& t : cfg_.transfers) {
            if (k.src_port == t.online_port && (!t.online_ip || *t.online_ip == k.src_ip)) {
                ++ctr_[Counter::captured_server_frames];
                server_frame(frame, v, hash_of(p, false), now);
                return;
            }
        }
        ++ctr_[Counter::drop_captured_no_transfer];
    }

    void target_one(ConstBytes frame, Nanos now) {
        Parsed p;
        p.pe = net::parse_frame(frame, p.v, net::LinkType::ethernet);
        target_parsed(frame, p, now);
    }

    void target_parsed(ConstBytes frame, const Parsed& p, Nanos now) {
        if (!take(p, kTargetIntake, now)) return;
        const net::PacketView& v = p.v;
        const net::FlowKey xk = v.key.reversed();  // fake client -> target
        const std::uint64_t h = hash_of(p, false);
        const std::uint32_t id = by_xlat_.find(h, [&](std::uint32_t i) { return sessions_[i].xlat == xk; });
        const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
        if (id == kNone) {
            ++ctr_[Counter::drop_target_unknown];
            if (th.has(tf::rst)) return;
            if (time_wait_ack(xk, h, v, th, now)) return;
            if (tuples_.owns(xk.src_ip, xk.src_port) && is_target(xk.dst_ip, xk.dst_port)) reset_unknown(v, th, now);
            return;
        }
        target_segment(id, frame, v, th, now);
    }

    // Bursts: pass 1 parses every frame once and hashes its flow (prefetching the index
    // slot), pass 2 prefetches the sessions and what they will touch, pass 3 processes.
    static constexpr std::size_t kBurst = 32;

    // Pass 1 for one frame: parse it and hash its flow as the table it belongs to is keyed:
    // a captured frame toward an online port by its own key, any other (captured from the
    // server, or from the target, whose tuple is the translated one reversed) reversed.
    // `given`: the caller's parse of f (used when its l3 is set).
    bool parse_and_hash(ConstBytes f, net::LinkType link, Parsed& p, const net::PacketView* given = nullptr) const noexcept {
        if (given && given->l3 != net::L3Kind::none) {
            p.v = *given;
            p.pe = net::ParseError::ok;
        } else {
            p.pe = net::parse_frame(f, p.v, link);
        }
        p.hashed = p.pe == net::ParseError::ok && p.v.l4 == net::L4Kind::tcp;
        if (!p.hashed) return false;
        const net::FlowKey& k = p.v.key;
        p.to_server = std::any_of(cfg_.transfers.begin(), cfg_.transfers.end(),
                                  [&](const TransferMap& t) { return k.dst_port == t.online_port; });
        p.h = net::hash_flow(p.to_server ? k : k.reversed());
        return true;
    }

    void on_captured_burst(std::span<const ConstBytes> frames, net::LinkType link, Nanos now) override {
        std::array<Parsed, kBurst> parsed;
        for (std::size_t base = 0; base < frames.size(); base += kBurst) {
            const std::size_t n = std::min(kBurst, frames.size() - base);
            for (std::size_t i = 0; i < n; ++i) {
                Parsed& p = parsed[i];
                if (!parse_and_hash(frames[base + i], link, p)) continue;
                by_orig_.prefetch(p.h);
            }
            // (in packet order: each packet's session lines, then the piece it will fill)
            for (std::size_t i = 0; i < n; ++i) {
                if (parsed[i].hashed) prefetch_session(by_orig_.peek(parsed[i].h));
                pool_.prefetch_next(static_cast<std::uint32_t>(i));
                blocks_.prefetch_next(static_cast<std::uint32_t>(i), share_blocks_);
            }
            for (std::size_t i = 0; i < n; ++i) captured_parsed(frames[base + i], parsed[i], now);
            flush_unrefs();
        }
    }

    void on_target_burst(std::span<const ConstBytes> frames, Nanos now) override {
        on_target_burst(frames, {}, now);
    }
    void on_target_burst(std::span<const ConstBytes> frames, std::span<const net::PacketView> views, Nanos now) override {
        std::array<Parsed, kBurst> parsed;
        for (std::size_t base = 0; base < frames.size(); base += kBurst) {
            const std::size_t n = std::min(kBurst, frames.size() - base);
            for (std::size_t i = 0; i < n; ++i) {
                Parsed& p = parsed[i];
                const net::PacketView* given = views.empty() ? nullptr : &views[base + i];
                if (!parse_and_hash(frames[base + i], net::LinkType::ethernet, p, given)) continue;
                by_xlat_.prefetch(p.h);
            }
            std::array<std::uint32_t, kBurst> ids{};
            for (std::size_t i = 0; i < n; ++i) {
                ids[i] = parsed[i].hashed ? by_xlat_.peek(parsed[i].h) : kNone;
                prefetch_session(ids[i]);
            }
            // the queued pieces an ACK will free (the session lines are on their way)
            for (std::size_t i = 0; i < n; ++i) {
                if (ids[i] != kNone) pool_.prefetch(sessions_[ids[i]].q_head);
            }
            for (std::size_t i = 0; i < n; ++i) target_parsed(frames[base + i], parsed[i], now);
            flush_unrefs();
        }
    }

    void advance(Nanos now) override {
        observe(now);
        now_ = now;
        wheel_.advance(
            now, [&](std::uint32_t id) { on_timer(id, now); },
            [&](std::uint32_t id) {
                const auto* p = reinterpret_cast<const char*>(&sessions_[id]);
                for (std::size_t off = 0; off < kSessionPrefetchBytes; off += 64) __builtin_prefetch(p + off, 1);
            });
        flush_unrefs();
    }

    void finish_input(Nanos now) override {
        observe(now);
        for (std::uint32_t id = 0; id < static_cast<std::uint32_t>(sessions_.size()); ++id) {
            Session& s = sessions_[id];
            if (s.state == State::free) continue;
            s.flags |= sflag::input_done;
            if (s.flags & sflag::gap) {  // nothing can fill it any more
                s.flags |= sflag::gap_expired;
                s.gap_at = 0;
            }
            kick(id, now);
        }
        flush_unrefs();
    }

    bool idle() const override { return active_ == 0; }
    void set_next_hop_mac(MacAddr mac) override { l2_.dst = mac; }
    void set_observer(ExchangeObserver* obs) override { observer_ = obs; }
    const Counters& counters() const override { return ctr_; }
    std::size_t active_sessions() const override { return active_; }
    std::size_t queued_segments() const override { return pool_.in_use(); }
    std::size_t payload_blocks() const override { return blocks_.in_use(); }
    std::size_t memory_bytes() const override {
        return sessions_.size() * sizeof(Session) + (by_orig_.slot_count() + by_xlat_.slot_count()) * 8 +
               std::size_t{wheel_.capacity()} * TimerWheel::bytes_per_id() + pool_.memory_bytes() + blocks_.memory_bytes() + tuples_.memory_bytes() +
               free_.capacity() * 4 + closed_.size() * sizeof(ClosedEntry) + time_wait_.size() * sizeof(TimeWaitEntry);
    }

private:
    // ---------------------------------------------------------------- helpers
    void prefetch_session(std::uint32_t id) const noexcept {
        if (id == kNone) return;
        const auto* p = reinterpret_cast<const char*>(&sessions_[id]);
        for (std::size_t off = 0; off < kSessionPrefetchBytes; off += 64) __builtin_prefetch(p + off, 1);
        wheel_.prefetch(id);
        const Session& s = sessions_[id];
        (void)s;
    }

    std::uint32_t id_of(const Session& s) const noexcept { return static_cast<std::uint32_t>(&s - sessions_.data()); }
    bool connected(const Session& s) const noexcept {
        return s.state == State::syn_sent || s.state == State::established || s.state == State::fin_sent;
    }
    std::uint32_t tsval(const Session& s, Nanos now) const noexcept {
        return static_cast<std::uint32_t>(now / kMs) + s.ts_off;
    }
    Nanos rto_ns(const Session& s) const noexcept { return Rto::timeout_ns(s.rto_us, s.backoff); }
    // Target response bytes since the latest request was released (since the connection
    // opened, before the first).
    std::uint32_t target_bytes_since_release(const Session& s) const noexcept { return s.tgt_bytes - s.ex_tgt0; }
    // The target's answer to what it was last sent: its bytes since the latest request went,
    // less what it still owed of the answer before (a request released after a quiet time,
    // while a long answer paused: the rest of that answer is not this request's; closing on
    // it would make the target abort the answer it is still writing and drop the request).
    std::uint32_t target_answer(const Session& s) const noexcept {
        const std::uint32_t since = target_bytes_since_release(s);
        return since > s.answer_owed ? since - s.answer_owed : 0u;
    }
    Nanos quiet(const Session& s) const noexcept {
        return quiet_time(std::uint64_t{s.cap_rtt_us} * 1000, std::uint64_t{s.srtt_us} * 1000, quiet_);
    }
    // Before the client's FIN/RST: an early close makes the target abort the response it is
    // writing, a late one costs nothing, so the floor is longer than for a request.
    Nanos close_quiet(const Session& s) const noexcept {
        return target_bytes_since_release(s) == 0 ? cfg_.unanswered_limit : std::max(quiet(s), cfg_.close_quiet);
    }
    // Quiet time is measured on the observed clock `watch_` (see observe()); quiet_ref is a
    // watch_ value. Returns the engine-clock deadline at which `quiet` will have elapsed if the
    // engine keeps running.
    Nanos quiet_deadline(const Session& s, Nanos quiet_ns, Nanos now) const noexcept {
        const Nanos end = s.quiet_ref + quiet_ns;
        return end > watch_ ? now + (end - watch_) : now;
    }
    // The observed clock: time passes for quiet-time purposes only while the engine is called.
    // A gap longer than stall_gap between two calls (the worker was descheduled or busy
    // elsewhere) counts as stall_gap: frames the target sent meanwhile may still be waiting
    // in the receive queues, so its silence during the gap is unknown (EB-6).
    void observe(Nanos now) noexcept {
        if (now > last_call_) {
            watch_ += std::min<Nanos>(now - last_call_, cfg_.stall_gap);
            last_call_ = now;
        }
    }
    std::uint32_t online_rel_end(const Session& s) const noexcept {
        if (!(s.flags & sflag::base_known)) return 0;
        return seq_dist(s.online_end, s.online_base);
    }
    // R of a queued piece: online response bytes the client had received when it sent it.
    std::uint32_t need_of(const Session& s, const Piece& p) const noexcept {
        if (!(p.flags & Piece::kAck) || !(s.flags & sflag::base_known)) return s.released;
        std::uint32_t r = seq_dist(p.ack, s.online_base);
        if (s.flags & sflag::srv_fin) r = std::min(r, online_rel_end(s));  // the server's FIN is no data
        return r;
    }

    // A data segment from queued payload: headers built over the slices (no payload copy
    // in the engine); a segmented sink gets the headers and the slices, any other sink the
    // frame assembled in tx_.
    void emit_data(Session& s, Seq seq, std::span<const PayloadSlice> slices, Nanos now) {
        net::TcpSpec t = tcp_spec(s, tf::ack | tf::psh, seq, {}, now, false);
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < slices.size(); ++i) {
            parts_[i] = slices[i].bytes;
            bytes += slices[i].bytes.size();
        }
        net::Ipv4Spec ip;
        ip.src = s.xlat.src_ip;
        ip.dst = s.xlat.dst_ip;
        ip.id = s.ip_id++;
        const std::size_t h = net::build_tcp_headers(net::Bytes(tx_.data(), tx_.size()), l2_, ip, t,
                                                     std::span<const ConstBytes>(parts_.data(), slices.size()));
        if (h == 0 || h + bytes > tx_.size()) return;
        ++ctr_[Counter::emitted_frames];
        ctr_[Counter::emitted_bytes] += h + bytes;
        if (segmented_) {
            sink_.emit_segment(ConstBytes(tx_.data(), h), slices);
            return;
        }
        std::size_t at = h;
        for (const PayloadSlice& sl : slices) {
            std::memcpy(tx_.data() + at, sl.bytes.data(), sl.bytes.size());
            at += sl.bytes.size();
        }
        sink_.emit(ConstBytes(tx_.data(), at));
    }
    net::TcpSpec tcp_spec(Session& s, std::uint8_t flags, Seq seq, ConstBytes payload, Nanos now, bool syn) {
        net::TcpSpec t;
        t.src_port = s.xlat.src_port;
        t.dst_port = s.xlat.dst_port;
        t.seq = seq;
        t.ack = (flags & tf::ack) ? s.rcv_nxt : Seq(0);
        t.flags = flags;
        t.window = 65535;
        t.payload = payload;
        if (syn) {
            if (s.syn_mss) t.options.mss = s.syn_mss;
            if (s.flags & sflag::syn_ws) t.options.wscale = s.syn_wscale;
            if (s.flags & sflag::syn_ts) t.options.ts = net::TcpTimestamp{tsval(s, now), 0};
        } else if ((s.flags & sflag::ts_on) && !(flags & tf::rst)) {
            t.options.ts = net::TcpTimestamp{tsval(s, now), s.ts_recent};
        }
        return t;
    }
    void emit(Session& s, std::uint8_t flags, Seq seq, ConstBytes payload, Nanos now, bool syn = false) {
        const net::TcpSpec t = tcp_spec(s, flags, seq, payload, now, syn);
        net::Ipv4Spec ip;
        ip.src = s.xlat.src_ip;
        ip.dst = s.xlat.dst_ip;
        ip.id = s.ip_id++;
        const std::size_t n = net::build_tcp(net::Bytes(tx_.data(), tx_.size()), l2_, ip, t);
        if (n == 0) return;
        ++ctr_[Counter::emitted_frames];
        ctr_[Counter::emitted_bytes] += n;
        sink_.emit(ConstBytes(tx_.data(), n));
    }
    void send_ack(Session& s, Nanos now) {
        ++ctr_[Counter::acks_sent];
        emit(s, tf::ack, s.snd_nxt, {}, now);
    }
    void send_rst(Session& s, Nanos now) {
        ++ctr_[Counter::rst_sent];
        emit(s, tf::rst | tf::ack, s.snd_max, {}, now);
    }
    void send_syn(Session& s, Nanos now) {
        ++ctr_[Counter::syn_sent];
        emit(s, tf::syn, s.isn, {}, now, true);
        if (s.syn_retries == 0) {
            s.rtt_time = now;
            s.flags |= sflag::rtt_timing;
        } else {
            s.flags &= ~sflag::rtt_timing;
        }
        s.rto_at = now + Rto::timeout_ns(s.rto_us, s.syn_retries);
    }
    bool is_target(Ipv4Addr ip, Port port) const noexcept {
        for (const TransferMap& t : cfg_.transfers)
            if (t.target_ip == ip && t.target_port == port) return true;
        return false;
    }
    // RSTs for target frames of no live session: at most kUnknownRstBurst in a row, refilled
    // at kUnknownRstPerSec (an RST storm from the target, or forged frames, is not answered
    // one for one).
    static constexpr std::uint32_t kUnknownRstBurst = 64;
    static constexpr std::uint32_t kUnknownRstPerSec = 1000;
    bool take_unknown_rst_token(Nanos now) noexcept {
        const Nanos step = kSec / kUnknownRstPerSec;
        if (now > rst_refill_at_) {
            const Nanos earned = (now - rst_refill_at_) / step;
            rst_tokens_ = static_cast<std::uint32_t>(std::min<Nanos>(kUnknownRstBurst, rst_tokens_ + earned));
            rst_refill_at_ += earned * step;
            if (rst_tokens_ == kUnknownRstBurst) rst_refill_at_ = now;
        }
        if (rst_tokens_ == 0) return false;
        --rst_tokens_;
        return true;
    }
    void reset_unknown(const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
        // RFC 793 reset generation for a segment of no live session (e.g. the target still
        // holds a connection we already ended): it frees the target's state.
        if (!take_unknown_rst_token(now)) {
            ++ctr_[Counter::target_unknown_rst_limited];
            return;
        }
        net::TcpSpec t;
        t.src_port = v.key.dst_port;
        t.dst_port = v.key.src_port;
        if (th.has(tf::ack)) {
            t.seq = th.ack;
            t.flags = tf::rst;
        } else {
            t.seq = Seq(0);
            t.ack = th.seq + v.payload_len + (th.has(tf::syn) ? 1u : 0u) + (th.has(tf::fin) ? 1u : 0u);
            t.flags = tf::rst | tf::ack;
        }
        t.window = 0;
        net::Ipv4Spec ip;
        ip.src = v.key.dst_ip;
        ip.dst = v.key.src_ip;
        const std::size_t n = net::build_tcp(net::Bytes(tx_.data(), tx_.size()), l2_, ip, t);
        if (n == 0) return;
        ++ctr_[Counter::target_unknown_rst_sent];
        ++ctr_[Counter::emitted_frames];
        ctr_[Counter::emitted_bytes] += n;
        sink_.emit(ConstBytes(tx_.data(), n));
    }

    // ---------------------------------------------------------------- exchange records
    void emit_record(Session& s, std::uint32_t online_bytes, Nanos online_time) {
        ++ctr_[Counter::exchanges];
        if (!observer_) return;
        ExchangeRecord r;
        r.original = s.orig;
        r.replica = s.replica;
        r.request_bytes = s.ex_req_bytes;
        r.online_response_bytes = online_bytes;
        r.online_response_time = online_time;
        r.target_response_bytes = target_answer(s);
        r.target_response_time = s.last_tgt_data > s.ex_sent ? s.last_tgt_data - s.ex_sent : 0;
        observer_->on_exchange(r);
    }
    void start_exchange(Session& s, const Piece& p, std::uint32_t need, Nanos now) {
        if (s.flags & sflag::exchange) {
            emit_record(s, need > s.ex_R ? need - s.ex_R : 0, p.srv_time > s.ex_start ? p.srv_time - s.ex_start : 0);
        }
        s.flags |= sflag::exchange;
        s.ex_start = p.cap_time;
        s.ex_R = need;
        s.ex_sent = now;
        s.ex_tgt0 = s.tgt_bytes;
        s.ex_req_bytes = 0;
    }
    void finish_exchange(Session& s) {
        if (!(s.flags & sflag::exchange)) return;
        const std::uint32_t end = online_rel_end(s);
        emit_record(s, end > s.ex_R ? end - s.ex_R : 0, s.online_last > s.ex_start ? s.online_last - s.ex_start : 0);
        s.flags &= ~sflag::exchange;
    }

    // ---------------------------------------------------------------- tuples, life cycle
    void bind_tuple(Session& s, const TupleAllocator::Tuple& t) {
        s.tuple = t.index;
        s.xlat.src_ip = t.ip;
        s.xlat.src_port = t.port;
        by_xlat_.insert(net::hash_flow(s.xlat), id_of(s));
    }
    void release_tuple(Session& s, Nanos now) {
        if (s.tuple == kNone) return;
        by_xlat_.erase(net::hash_flow(s.xlat), id_of(s));
        tuples_.release(s.tuple, now);
        s.tuple = kNone;
    }
    void pop_head(Session& s) {
        const std::uint32_t id = s.q_head;
        s.q_head = pool_[id].next;
        if (s.q_head == kNone) s.q_tail = kNone;
        if (s.q_send == id) s.q_send = kNone;
        const std::uint32_t b = pool_[id].block;
        if (b != kNone) {
            if (pool_[id].flags & Piece::kOwnBlock) blocks_.free_private(b);
            else defer_unref(b);
        }
        pool_.free(id);
        --s.q_count;
    }
    // A freed piece's block reference is dropped at the end of the entry point (or burst),
    // with its meta record prefetched meanwhile: at 1M sessions that line is a cache miss
    // that would otherwise stall right behind the piece's own. Until then the block keeps
    // its reference, so it cannot be handed out again.
    void defer_unref(std::uint32_t b) noexcept {
        if (n_unref_ == unref_.size()) flush_unrefs();
        blocks_.prefetch_meta(b);
        unref_[n_unref_++] = b;
    }
    void flush_unrefs() {
        for (std::size_t i = 0; i < n_unref_; ++i) {
            const std::uint32_t b = unref_[i];
            if (blocks_.unref(b) && segmented_) sink_.payload_released(b, blocks_.gen(b));
        }
        n_unref_ = 0;
    }
    void end(Session& s, Counter outcome, Nanos now) {
        const std::uint32_t id = id_of(s);
        finish_exchange(s);
        remember_closed(s, now);
        release_tuple(s, now);
        // unlink from the replica chain (and the original-key index when it is the head)
        if (s.prev_rep != kNone) {
            sessions_[s.prev_rep].next_rep = s.next_rep;
        } else if (!(s.flags & sflag::superseded)) {
            const std::uint64_t h = net::hash_flow(s.orig);
            if (s.next_rep != kNone) {
                by_orig_.replace(h, id, s.next_rep);
            } else {
                by_orig_.erase(h, id);
            }
        }
        if (s.next_rep != kNone) sessions_[s.next_rep].prev_rep = s.prev_rep;
        while (s.q_head != kNone) pop_head(s);
        wheel_.cancel(id);
        s.state = State::free;
        free_.push_back(id);
        --active_;
        ++ctr_[outcome];
    }
    // The connection is about to end inside a request: bytes of it are unacknowledged, or its
    // first bytes went out and the rest is still queued. resync() does not replay it.
    bool request_cut(Session& s) {
        if (!connected(s)) return false;
        if (s.snd_una != s.snd_max) return true;
        const std::uint32_t id = locate(s);
        if (id == kNone || s.ex_req_bytes == 0) return false;
        const Piece& p = pool_[id];
        return p.len > 0 && p.seq <= s.snd_nxt && (s.flags & sflag::exchange) && need_of(s, p) <= s.released;
    }
    // Drops the connection to the target; the session waits for the next request boundary.
    void detach(Session& s, Counter why, bool rst, Nanos now) {
        if (rst && connected(s)) send_rst(s, now);
        ++ctr_[why];
        if (request_cut(s)) ++ctr_[Counter::requests_lost_resync];
        finish_exchange(s);
        release_tuple(s, now);
        s.state = State::detached;
        s.rto_at = 0;
        s.wait_at = 0;
        s.flags &= ~(sflag::tgt_fin | sflag::ts_on | sflag::rtt_timing | sflag::held | sflag::win_blocked);
        s.dupacks = 0;
        s.backoff = 0;
        // bytes the target acknowledged are done; what was in flight is the request at risk
        s.snd_nxt = s.snd_una;
        s.q_send = kNone;
    }
    // A new translated tuple for a session that opens a new connection to the target; without
    // one the session ends (end_no_tuple) and this returns false.
    bool rebind(Session& s, Nanos now) {
        const auto t = tuples_.allocate(s.orig.src_ip, now);
        if (!t) {
            end(s, Counter::end_no_tuple, now);
            return false;
        }
        bind_tuple(s, *t);
        return true;
    }
    void reconnect(Session& s, const Piece& p, Nanos now) {
        if (!rebind(s, now)) return;
        ++ctr_[Counter::reconnects];
        s.isn = p.seq - 1;
        if (p.flags & Piece::kAck) {
            s.online_base = p.ack;  // this request needs nothing from the new connection
            s.flags |= sflag::base_known;
            if (seq_dist(s.online_end, s.online_base) == 0) s.online_end = s.online_base;
        }
        s.released = 0;
        s.tgt_bytes = 0;
        s.ex_tgt0 = 0;
        s.answer_owed = 0;
        s.flags &= ~(sflag::syn_ws | sflag::syn_ts | sflag::exchange | sflag::resync_jumped | sflag::mid_open);
        s.flags |= sflag::fabricated;
        s.syn_mss = fabricated_mss_;
        s.snd_una = s.isn;
        s.snd_nxt = s.snd_max = s.isn + 1;
        s.rcv_nxt = Seq(0);
        s.syn_retries = 0;
        s.backoff = 0;
        s.dupacks = 0;
        s.state = State::syn_sent;
        s.quiet_ref = watch_;
        send_syn(s, now);
    }

    // Session creation: one per replica, chained; the head is indexed by original key.
    std::uint32_t create_chain(const net::FlowKey& orig, const TransferMap& xfer, Nanos now) {
        std::uint32_t head = kNone, last = kNone;
        for (std::uint32_t r = 0; r < cfg_.multiply; ++r) {
            if (free_.empty()) {
                ++ctr_[Counter::create_table_full];
                break;
            }
            const auto t = tuples_.allocate(orig.src_ip, now);
            if (!t) {
                ++ctr_[Counter::create_no_tuple];
                break;
            }
            const std::uint32_t id = free_.back();
            free_.pop_back();
            Session& s = sessions_[id];
            s = Session{};
            s.orig = orig;
            s.replica = static_cast<std::uint16_t>(r);
            s.state = State::syn_sent;
            s.xlat.dst_ip = xfer.target_ip;
            s.xlat.dst_port = xfer.target_port;
            bind_tuple(s, *t);
            s.last_activity = now;
            s.quiet_ref = watch_;
            s.ip_id = static_cast<std::uint16_t>(net::mix64(orig.src_port.value() + (std::uint64_t{r} << 16)));
            s.prev_rep = last;
            if (last != kNone) {
                sessions_[last].next_rep = id;
            } else {
                head = id;
            }
            last = id;
            ++active_;
            ++ctr_[Counter::sessions_created];
        }
        if (head != kNone) by_orig_.insert(net::hash_flow(orig), head);
        return head;
    }
    void supersede_chain(std::uint32_t head, Nanos now) {
        by_orig_.erase(net::hash_flow(sessions_[head].orig), head);
        for (std::uint32_t id = head; id != kNone;) {
            Session& s = sessions_[id];
            const std::uint32_t nx = s.next_rep;
            s.flags |= sflag::superseded | sflag::input_done;
            if (s.flags & sflag::gap) s.flags |= sflag::gap_expired;
            ++ctr_[Counter::sessions_superseded];
            kick(id, now);
            id = nx;
        }
    }

    // ---------------------------------------------------------------- captured frames
    void client_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, const TransferMap& xfer, Nanos now) {
        const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
        const net::FlowKey& orig = v.key;
        std::uint32_t head = by_orig_.find(h, [&](std::uint32_t i) { return sessions_[i].orig == orig; });
        const bool syn = th.has(tf::syn) && !th.has(tf::ack);
        if (head != kNone && syn) {
            const Session& hs = sessions_[head];
            if ((hs.flags & sflag::cap_syn) && hs.isn == th.seq) {
                ++ctr_[Counter::drop_captured_duplicate_syn];
                return;
            }
            supersede_chain(head, now);  // the client reused the port: a new connection
            head = kNone;
        }
        if (head == kNone) {
            if (th.has(tf::syn) && th.has(tf::ack)) {
                ++ctr_[Counter::drop_captured_no_session];
                return;
            }
            const bool data = v.payload_len > 0;
            if (!syn && !data) {
                ++ctr_[Counter::drop_captured_no_session];
                return;
            }
            if (!syn && recently_closed(orig, th.seq, now)) {
                ++ctr_[Counter::drop_captured_after_close];
                return;
            }
            if (!syn && cfg_.full_sessions_only) {
                ++ctr_[Counter::drop_captured_mid_stream];
                return;
            }
            if (!sampled(orig, cfg_.percent, cfg_.sample_seed)) {
                ++ctr_[Counter::drop_captured_not_sampled];
                return;
            }
            head = create_chain(orig, xfer, now);
            if (head == kNone) return;
            if (syn) {
                std::optional<net::TcpOptions> opts = net::TcpOptions::read(v.tcp_options(frame));
                for (std::uint32_t id = head; id != kNone; id = sessions_[id].next_rep) {
                    open_from_syn(sessions_[id], th, opts ? *opts : net::TcpOptions{}, now);
                    schedule(id);
                }
                return;
            }
            for (std::uint32_t id = head; id != kNone; id = sessions_[id].next_rep) {
                open_mid_stream(sessions_[id], th.seq, now);
            }
        }
        const ConstBytes payload = v.payload(frame);
        // the frame's payload is stored once, in blocks shared by every replica's pieces
        // (with one replica and a flat sink nothing is shared: private blocks, no meta)
        if (share_blocks_) stash_begin(payload);
        for (std::uint32_t id = head; id != kNone;) {
            const std::uint32_t nx = sessions_[id].next_rep;
            client_segment(id, th, payload, now);
            id = nx;
        }
        stash_.len = 0;
        stash_.base = nullptr;
    }

    void open_from_syn(Session& s, const net::TcpHdr& th, const net::TcpOptions& o, Nanos now) {
        s.flags |= sflag::cap_syn;
        s.isn = th.seq;
        s.cap_nxt = th.seq + 1;
        s.syn_mss = o.mss ? std::min<std::uint16_t>(*o.mss, max_payload_) : 0;
        if (o.wscale) {
            s.flags |= sflag::syn_ws;
            s.syn_wscale = std::min<std::uint8_t>(*o.wscale, 14);
        }
        if (o.ts) {
            s.flags |= sflag::syn_ts;
            s.syn_tsval = o.ts->val;
            s.ts_off = o.ts->val - static_cast<std::uint32_t>(now / kMs);
        }
        // SACK-permitted is not sent: we do not process SACK blocks.
        s.snd_una = s.isn;
        s.snd_nxt = s.snd_max = s.isn + 1;
        send_syn(s, now);
    }
    void open_mid_stream(Session& s, Seq first_seq, Nanos now) {
        ++ctr_[Counter::sessions_mid_stream];
        s.flags |= sflag::fabricated | sflag::mid_open;
        s.isn = first_seq - 1;
        s.cap_nxt = first_seq;
        s.syn_mss = fabricated_mss_;
        s.snd_una = s.isn;
        s.snd_nxt = s.snd_max = s.isn + 1;
        send_syn(s, now);
    }

    void rebase_mid_stream(Session& s, Seq first_seq, Nanos now) {
        send_rst(s, now);  // clears the target's half-open connection, if our SYN reached it
        release_tuple(s, now);
        if (!rebind(s, now)) return;
        ++ctr_[Counter::mid_stream_rebased];
        s.isn = first_seq - 1;
        s.cap_nxt = first_seq;
        s.snd_una = s.isn;
        s.snd_nxt = s.snd_max = s.isn + 1;
        s.syn_retries = 0;
        s.q_send = kNone;
        send_syn(s, now);
        if (s.q_head != kNone) extend_contig(s, s.q_head);
    }

    void server_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, Nanos now) {
        const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
        const net::FlowKey orig = v.key.reversed();
        const std::uint32_t head = by_orig_.find(h, [&](std::uint32_t i) { return sessions_[i].orig == orig; });
        if (head == kNone) {
            if (!sampled(orig, cfg_.percent, cfg_.sample_seed)) {
                ++ctr_[Counter::drop_captured_not_sampled];
            } else {
                ++ctr_[Counter::drop_captured_no_session];
            }
            return;
        }
        for (std::uint32_t id = head; id != kNone; id = sessions_[id].next_rep) {
            Session& s = sessions_[id];
            if (th.has(tf::syn)) {
                if (th.has(tf::ack) && !(s.flags & sflag::base_known)) {
                    s.online_base = s.online_end = th.seq + 1;
                    s.flags |= sflag::base_known;
                    s.cap_mark = now;
                }
                continue;
            }
            if (!(s.flags & sflag::base_known)) {
                ++ctr_[Counter::drop_server_frame_early];
                continue;
            }
            const Seq dend = th.seq + v.payload_len;
            if (v.payload_len > 0 && dend > s.online_end) {
                s.online_end = dend;
                s.online_last = now;
            }
            if (v.payload_len > 0 && th.has(tf::ack) &&
                (!(s.flags & sflag::srv_data_seen) || th.ack != s.srv_data_ack)) {
                s.srv_data_ack = th.ack;
                s.srv_data_seq = th.seq;
                s.flags |= sflag::srv_data_seen;
            }
            if (th.has(tf::fin)) s.flags |= sflag::srv_fin;
        }
    }

    void client_segment(std::uint32_t id, const net::TcpHdr& th, ConstBytes payload, Nanos now) {
        Session& s = sessions_[id];
        s.last_activity = now;
        if (th.has(tf::ack) && !(s.flags & sflag::base_known)) {
            s.online_base = s.online_end = th.ack;
            s.flags |= sflag::base_known;
        }
        if (th.has(tf::ack) && s.cap_mark != 0 && !(s.flags & sflag::cap_rtt_set)) {
            s.cap_rtt_us = static_cast<std::uint32_t>(std::min<Nanos>((now - s.cap_mark) / 1000, 0xffffffffULL));
            s.flags |= sflag::cap_rtt_set;
        }
        if (th.has(tf::rst)) {
            s.flags |= sflag::cap_rst;
            kick(id, now);
            return;
        }
        if (th.has(tf::syn)) return;
        if (payload.empty() && !th.has(tf::fin)) return;  // pure ACK: we make our own
        if ((s.flags & sflag::mid_open) && s.state == State::syn_sent && !payload.empty() && th.seq < s.isn + 1 &&
            (s.isn + 1) - th.seq < (1 << 24)) {
            // a mid-stream session whose handshake is still pending got an earlier segment
            // (reordered in the capture, e.g. the head of a GRO run): nothing was sent yet,
            // so start the connection there instead, on a fresh tuple
            rebase_mid_stream(s, th.seq, now);
            if (s.state == State::free) return;
        }
        // A segment starting exactly where the online server's latest response data said it
        // had received everything, and acknowledging that response, starts a request: even
        // after a capture hole right before it, it is a safe restart point.
        const bool proven = !payload.empty() && th.has(tf::ack) && (s.flags & sflag::srv_data_seen) &&
                            th.seq == s.srv_data_ack && th.ack > s.srv_data_seq;
        // A segment acknowledging online server data the capture never showed: the server
        // answered something we missed (a request lost with its answer). Right after a hole it
        // is taken as the next request's start (a guess, counted: resync_restart_unseen_answer).
        const bool unseen_answer = !payload.empty() && th.has(tf::ack) && (s.flags & sflag::base_known) &&
                                   th.ack > s.online_end;
        const std::uint8_t start = static_cast<std::uint8_t>((proven ? Piece::kBoundary : 0) |
                                                             (unseen_answer ? Piece::kUnseenAnswer : 0));
        enqueue(s, th.seq, payload, th.ack, th.has(tf::ack), th.has(tf::fin), now, start);
        kick(id, now);
    }

    // ---------------------------------------------------------------- the queue
    // Inserts [seq, seq+len) of `payload` (already trimmed to what is missing) after `prev`
    // (kNone: at the head). Returns the last piece inserted and sets `first`, or returns
    // kNone when there was no room (nothing inserted).
    // The captured frame being queued: its payload is copied into blocks at most once (block
    // k holds payload bytes [k * kBlockBytes, (k + 1) * kBlockBytes)), when a first piece of
    // any replica needs it; the other replicas' pieces reference the same block.
    static constexpr std::size_t kStashBlocks = 65536 / BlockPool::kBlockBytes + 1;
    struct Stash {
        const std::uint8_t* base = nullptr;
        std::size_t len = 0;
        std::array<std::uint32_t, kStashBlocks> blocks{};
    };
    void stash_begin(ConstBytes payload) noexcept {
        stash_.base = payload.data();
        stash_.len = std::min(payload.size(), kStashBlocks * std::size_t{BlockPool::kBlockBytes});
        const std::size_t n = (stash_.len + BlockPool::kBlockBytes - 1) / BlockPool::kBlockBytes;
        for (std::size_t i = 0; i < n; ++i) stash_.blocks[i] = kNone;
    }

    // Inserts [seq, seq+len) of `payload` (already trimmed to what is missing) after `prev`
    // (kNone: at the head). Returns the last piece inserted and sets `first`, or returns
    // kNone when there was no room (nothing inserted). Pieces are cut at the frame's block
    // boundaries, so each lies in one block.
    std::uint32_t insert_run(Session& s, std::uint32_t prev, Seq seq, ConstBytes payload, Seq ack, bool has_ack,
                             bool fin, Nanos now, std::uint32_t& first, std::uint8_t start = 0) {
        constexpr std::size_t B = BlockPool::kBlockBytes;
        const std::size_t len = payload.size();
        // where the bytes come from: the stashed frame (shared blocks) or, for bytes outside
        // it, private blocks
        const bool shared = len > 0 && stash_.base != nullptr && payload.data() >= stash_.base &&
                            payload.data() + len <= stash_.base + stash_.len;
        const std::uint8_t* base = shared ? stash_.base : payload.data();
        const std::size_t src_len = shared ? stash_.len : len;
        const std::size_t fo = shared ? static_cast<std::size_t>(payload.data() - stash_.base) : 0;
        const std::size_t pieces = len == 0 ? 1 : (fo + len - 1) / B - fo / B + 1;
        std::size_t new_blocks = 0;
        if (len > 0) {
            for (std::size_t bi = fo / B; bi <= (fo + len - 1) / B; ++bi) {
                if (!shared || stash_.blocks[bi] == kNone) ++new_blocks;
            }
        }
        if (s.q_count + pieces > cfg_.max_queued_per_session) {
            ++ctr_[Counter::drop_queue_full_session];
            return kNone;
        }
        if (pool_.available() < pieces || blocks_.available() < new_blocks) {
            ++ctr_[Counter::drop_queue_full_worker];
            return kNone;
        }
        std::uint32_t after = prev;
        std::size_t off = 0;
        for (std::size_t i = 0; i < pieces; ++i) {
            const std::uint32_t pid = pool_.alloc();
            if (i == 0) first = pid;
            Piece& p = pool_[pid];
            std::size_t n = 0;
            if (len > 0) {
                const std::size_t at = fo + off;  // position in `base`
                const std::size_t bi = at / B;
                n = std::min(len - off, (bi + 1) * B - at);
                std::uint32_t b = shared ? stash_.blocks[bi] : kNone;
                const std::size_t b0 = bi * B;
                const ConstBytes content(base + b0, std::min(src_len, b0 + B) - b0);
                if (!share_blocks_) {
                    b = blocks_.alloc_private(content);
                    p.flags = Piece::kOwnBlock;  // (the other flags are or-ed in below)
                } else {
                    if (b == kNone) {
                        b = blocks_.alloc(content);
                        if (shared) stash_.blocks[bi] = b;
                    }
                    blocks_.ref(b);
                }
                p.block = b;
                p.boff = static_cast<std::uint16_t>(at - bi * B);
            }
            p.seq = seq + static_cast<std::uint32_t>(off);
            p.ack = ack;
            p.len = static_cast<std::uint16_t>(n);
            p.flags = static_cast<std::uint8_t>(p.flags | (has_ack ? Piece::kAck : 0) | ((fin && i + 1 == pieces) ? Piece::kFin : 0) |
                                                (i == 0 ? start : 0));
            p.cap_time = now;
            p.srv_time = s.online_last;
            off += n;
            if (after == kNone) {
                p.next = s.q_head;
                s.q_head = pid;
            } else {
                p.next = pool_[after].next;
                pool_[after].next = pid;
            }
            if (p.next == kNone) s.q_tail = pid;
            ++s.q_count;
            after = pid;
        }
        return after;
    }

    // Data that lies before the client's FIN already queued (captured out of order): it fills a
    // hole in front of the FIN and is queued like any late segment.
    bool before_captured_fin(const Session& s, Seq seq, std::size_t len) const noexcept {
        if (len == 0 || s.q_tail == kNone || !pool_[s.q_tail].fin()) return false;
        return seq + static_cast<std::uint32_t>(len) <= pool_[s.q_tail].data_end();
    }
    // Queues a captured client segment: duplicates and retransmissions of what is already
    // queued or acknowledged are cut away, holes are kept in order (capture reordering).
    // `start`: Piece flags of the segment's first byte (kBoundary, kUnseenAnswer).
    void enqueue(Session& s, Seq seq, ConstBytes payload, Seq ack, bool has_ack, bool fin, Nanos now, std::uint8_t start = 0) {
        const Seq seq0 = seq;
        if ((s.flags & sflag::cap_fin) && !before_captured_fin(s, seq, payload.size())) {
            ++ctr_[payload.empty() && fin ? Counter::drop_captured_duplicate : Counter::drop_captured_after_close];
            return;
        }
        const Seq low = s.state == State::detached ? s.snd_nxt : s.snd_una;
        const Seq end = seq + static_cast<std::uint32_t>(payload.size());
        if (end < low || (end == low && !fin)) {
            ++ctr_[Counter::drop_captured_duplicate];
            return;
        }
        bool trimmed = false;
        if (seq < low) {
            payload = payload.subspan(static_cast<std::size_t>(low - seq));
            seq = low;
            trimmed = true;
        }
        // Cut [seq, end) against the queued pieces (sorted, disjoint); insert what is missing.
        std::uint32_t prev = kNone, first_new = kNone;
        std::uint32_t id = s.q_head;
        if (s.q_tail != kNone && pool_[s.q_tail].end() <= seq) {  // common case: append
            prev = s.q_tail;
            id = kNone;
        }
        Seq c = seq;
        bool dropped = false;
        while (id != kNone && c < end) {
            const Piece& p = pool_[id];
            if (p.end() <= c) {
                prev = id;
                id = p.next;
                continue;
            }
            if (p.seq > c) {
                const Seq stop = seq_min(end, p.seq);
                std::uint32_t first = kNone;
                const std::uint32_t last = insert_run(s, prev, c, payload.subspan(static_cast<std::size_t>(c - seq),
                                                                                  static_cast<std::size_t>(stop - c)),
                                                      ack, has_ack, false, now, first, c == seq0 ? start : std::uint8_t{0});
                if (last == kNone) {
                    dropped = true;
                    break;
                }
                if (first_new == kNone) first_new = first;
                prev = last;
                c = stop;
                continue;  // `id` is still the next existing piece
            }
            trimmed = true;  // p covers c
            c = seq_max(c, p.data_end());
            prev = id;
            id = p.next;
        }
        bool fin_placed = false;
        if (!dropped) {
            if (c < end) {
                std::uint32_t first = kNone;
                const std::uint32_t last = insert_run(s, prev, c, payload.subspan(static_cast<std::size_t>(c - seq)), ack,
                                                      has_ack, fin, now, first, c == seq0 ? start : std::uint8_t{0});
                if (last != kNone) {
                    if (first_new == kNone) first_new = first;
                    fin_placed = fin;
                }
            } else if (fin) {
                // all data present: the FIN goes on the piece ending at `end`, or alone after it.
                // Alone when its ack differs: a FIN sent after the last response acknowledges
                // that response, and that ack is what paces it (EB-6: merged into the last
                // request's piece, it took that request's need and went out right after it).
                if (prev != kNone && pool_[prev].data_end() == end && !pool_[prev].fin() &&
                    (pool_[prev].next == kNone || pool_[pool_[prev].next].seq > end) &&
                    (!has_ack || ((pool_[prev].flags & Piece::kAck) && pool_[prev].ack == ack))) {
                    pool_[prev].flags |= Piece::kFin;
                    fin_placed = true;
                    if (pool_[prev].seq <= s.cap_nxt) first_new = prev;
                } else {
                    std::uint32_t first = kNone;
                    if (insert_run(s, prev, end, {}, ack, has_ack, true, now, first) != kNone) {
                        first_new = first;
                        fin_placed = true;
                    }
                }
            }
        }
        if (trimmed) ++ctr_[first_new == kNone && !fin_placed ? Counter::drop_captured_duplicate : Counter::trim_captured_overlap];
        if (fin_placed) s.flags |= sflag::cap_fin;
        if (first_new != kNone) extend_contig(s, first_new);
        refresh_gap(s, now);
    }
    void extend_contig(Session& s, std::uint32_t from) {
        // from may start before cap_nxt (a late segment): walk while contiguous
        for (std::uint32_t id = from; id != kNone; id = pool_[id].next) {
            const Piece& p = pool_[id];
            if (p.seq > s.cap_nxt) break;
            if (p.end() > s.cap_nxt) s.cap_nxt = p.end();
        }
    }
    void refresh_gap(Session& s, Nanos now) {
        const bool gap = s.q_tail != kNone && pool_[s.q_tail].end() > s.cap_nxt;
        if (gap && !(s.flags & sflag::gap)) {
            s.flags |= sflag::gap;
            s.gap_at = now + cfg_.capture_gap_timeout;
            ++ctr_[Counter::capture_gaps];
            if (s.flags & sflag::input_done) s.gap_at = now;
        } else if (!gap && (s.flags & sflag::gap)) {
            s.flags &= ~(sflag::gap | sflag::gap_expired);
            s.gap_at = 0;
            ++ctr_[Counter::capture_gaps_filled];
        }
    }
    void drop_acked(Session& s) {
        while (s.q_head != kNone && pool_[s.q_head].end() <= s.snd_una) pop_head(s);
    }
    // First piece holding data at or after snd_nxt (or the FIN not yet sent).
    std::uint32_t locate(Session& s) {
        std::uint32_t id = s.q_send;
        if (id == kNone || pool_[id].seq > s.snd_nxt) id = s.q_head;
        while (id != kNone) {
            const Piece& p = pool_[id];
            if (p.data_end() > s.snd_nxt || (p.fin() && p.end() > s.snd_nxt)) break;
            id = p.next;
        }
        s.q_send = id;
        return id;
    }
    bool has_unsent_payload(const Session& s) const {
        return s.q_tail != kNone && pool_[s.q_tail].data_end() > s.snd_max;
    }

    // ---------------------------------------------------------------- sending
    void kick(std::uint32_t id, Nanos now) {
        Session& s = sessions_[id];
        pump(s, now);
        if (s.state != State::free) schedule(id);
    }
    void schedule(std::uint32_t id) {
        const Session& s = sessions_[id];
        Nanos at = s.last_activity + cfg_.session_timeout;
        if (s.rto_at) at = std::min(at, s.rto_at);
        if (s.wait_at) at = std::min(at, s.wait_at);
        if (s.gap_at) at = std::min(at, s.gap_at);
        wheel_.schedule_if_earlier(id, at);
    }

    // Moves the session forward as far as it can go now. Returns true if it sent a segment.
    bool pump(Session& s, Nanos now) {
        switch (s.state) {
            case State::detached:
                resync(s, now);
                return false;
            case State::established: {
                if ((s.flags & sflag::tgt_fin) && has_unsent_payload(s)) {
                    detach(s, Counter::reconnect_target_fin, true, now);
                    resync(s, now);
                    return true;
                }
                if ((s.flags & sflag::gap_expired) && s.snd_una == s.snd_max && s.snd_nxt == s.cap_nxt) {
                    const std::uint32_t after = locate(s);  // the first piece past the hole
                    const std::uint32_t need = after != kNone ? need_of(s, pool_[after]) : online_rel_end(s);
                    if (answer_pending(s, need, now)) return false;
                    detach(s, Counter::reconnect_capture_gap, true, now);
                    resync(s, now);
                    return true;
                }
                const bool sent = send_data(s, now, 0xffffffffu) > 0;
                if (s.state != State::established) return sent;
                return try_close(s, now) || sent;
            }
            default:
                return false;
        }
    }

    std::uint32_t send_data(Session& s, Nanos now, std::uint32_t max_segments) {
        std::uint32_t sent = 0;
        while (sent < max_segments) {
            const std::uint32_t id = locate(s);
            if (id == kNone) break;
            const Piece& p = pool_[id];
            if (p.seq > s.snd_nxt) break;             // capture gap
            if (p.data_end() <= s.snd_nxt) break;     // only the FIN is left
            const bool first_tx = s.snd_nxt >= s.snd_max;
            if (first_tx && p.seq == s.snd_nxt) {
                const std::uint32_t need = need_of(s, p);
                if (!(s.flags & sflag::exchange) || need > s.released) {  // a request starts here
                    PaceInput in;
                    in.online_answer = (need > s.released ? need - s.released : 0u);
                    in.target_answer = target_answer(s);
                    in.target_silent = target_bytes_since_release(s) == 0;
                    in.all_acked = s.snd_una == s.snd_max;
                    in.no_wait = cfg_.no_wait;
                    in.now = watch_;
                    in.quiet_since = s.quiet_ref;
                    in.quiet = quiet(s);
                    in.unanswered_limit = cfg_.unanswered_limit;
                    const Pace d = pace(in);
                    if (d == Pace::hold) {
                        if (!(s.flags & sflag::held)) {
                            s.flags |= sflag::held;
                            ++ctr_[Counter::requests_held];
                        }
                        const Nanos wait = in.target_silent ? in.unanswered_limit : in.quiet;
                        if (in.all_acked) s.wait_at = quiet_deadline(s, wait, now);
                        break;
                    }
                    // a held request released by the target's answer; every guess, held or not
                    if (d == Pace::release_bytes && (s.flags & sflag::held)) ++ctr_[Counter::requests_released_bytes];
                    if (d == Pace::release_quiet) ++ctr_[Counter::requests_released_quiet];
                    if (d == Pace::release_unanswered) ++ctr_[Counter::requests_released_unanswered];
                    s.flags &= ~sflag::held;
                    s.wait_at = 0;
                    // a guess: the rest of the previous answer may still come (counted from the
                    // bytes since the previous release, so owed bytes never pile up)
                    const std::uint32_t since = target_bytes_since_release(s);
                    const std::uint32_t owed =
                        d == Pace::release_quiet && in.online_answer > since ? in.online_answer - since : 0u;
                    start_exchange(s, p, need, now);
                    s.answer_owed = owed;
                    s.released = std::max(s.released, need);
                }
            }
            if (first_tx && p.seq == s.snd_nxt && s.snd_nxt == s.isn + 1 && logins_.login_next(id_of(s))) {
                rewrite_login(s, id);
            }
            const std::int64_t room = std::int64_t{s.tgt_wnd} - static_cast<std::int64_t>(s.snd_nxt - s.snd_una);
            std::int64_t limit = std::min<std::int64_t>(s.snd_mss, room);
            if (!first_tx) limit = std::min<std::int64_t>(limit, s.snd_max - s.snd_nxt);
            if (limit <= 0) {
                if (!(s.flags & sflag::win_blocked)) {
                    s.flags |= sflag::win_blocked;
                    ++ctr_[Counter::window_blocked];
                }
                if (s.snd_una == s.snd_max && s.rto_at == 0) s.rto_at = now + rto_ns(s);  // persist
                break;
            }
            // gather up to `limit` bytes over contiguous pieces of the same request
            std::size_t n = 0, parts = 0;
            Seq pos = s.snd_nxt;
            for (std::uint32_t q = id; q != kNone && static_cast<std::int64_t>(n) < limit && parts < kMaxSlices;) {
                const Piece& d = pool_[q];
                if (d.seq > pos) break;
                if (q != id && pos >= s.snd_max && d.seq == pos && need_of(s, d) > s.released) break;
                const std::uint32_t off = seq_dist(pos, d.seq);
                if (off >= d.len) break;
                const std::size_t take = std::min<std::size_t>(d.len - off, static_cast<std::size_t>(limit) - n);
                PayloadSlice& sl = slices_[parts++];
                const std::uint8_t* bd = blocks_.data(d.block);
                sl.offset = static_cast<std::uint16_t>(d.boff + off);
                sl.bytes = ConstBytes(bd + sl.offset, take);
                if (segmented_) {  // the block's meta record only for a zero-copy sink
                    sl.block = d.block;
                    sl.gen = blocks_.gen(d.block);
                    sl.block_data = bd;
                    sl.block_len = blocks_.len(d.block);
                }
                n += take;
                pos += static_cast<std::uint32_t>(take);
                if (off + take < d.len || d.fin()) break;
                q = d.next;
            }
            if (n == 0) break;
            emit_data(s, s.snd_nxt, std::span<const PayloadSlice>(slices_.data(), parts), now);
            if (first_tx) {
                ++ctr_[Counter::data_segments_sent];
                ctr_[Counter::data_bytes_sent] += n;
                s.ex_req_bytes += static_cast<std::uint32_t>(n);
                if (!(s.flags & sflag::rtt_timing)) {
                    s.flags |= sflag::rtt_timing;
                    s.rtt_seq = pos;
                    s.rtt_time = now;
                }
            }
            s.snd_nxt = pos;
            if (pos > s.snd_max) s.snd_max = pos;
            if (s.rto_at == 0) s.rto_at = now + rto_ns(s);
            ++sent;
        }
        return sent;
    }

    // Before the connection goes (the client's FIN or RST, or a reset at a capture hole): the
    // target's answer to the last request should be in, as far as the online server's answer
    // (up to `need`) says; closing or resetting early makes the target abort it (nginx 499).
    // True while it is worth waiting (wait_at set).
    bool answer_pending(Session& s, std::uint32_t need, Nanos now) {
        const std::uint32_t online = need > s.released ? need - s.released : 0u;
        if (cfg_.no_wait || target_answer(s) >= online) return false;
        const Nanos q = close_quiet(s);
        if (watch_ < s.quiet_ref + q) {
            s.wait_at = quiet_deadline(s, q, now);
            return true;
        }
        if (target_bytes_since_release(s) == 0) ++ctr_[Counter::close_unanswered];
        return false;
    }

    // The session's MySQL login is about to go (its first client bytes, after the target's
    // greeting): the auth response is rewritten for the target's scramble in this session's
    // own copy of the bytes: the pieces that change get new blocks, other replicas keep theirs.
    void rewrite_login(Session& s, std::uint32_t first) {
        std::size_t n = 0;
        for (std::uint32_t q = first; q != kNone; q = pool_[q].next) {
            const Piece& d = pool_[q];
            if (d.len == 0 || d.seq != s.snd_nxt + static_cast<std::uint32_t>(n) || n + d.len > login_.size()) break;
            std::memcpy(login_.data() + n, blocks_.data(d.block) + d.boff, d.len);
            n += d.len;
        }
        if (!logins_.rewrite(id_of(s), net::Bytes(login_.data(), n), ctr_)) return;
        std::size_t off = 0;
        for (std::uint32_t q = first; off < n; q = pool_[q].next) {
            Piece& d = pool_[q];
            const ConstBytes now_bytes(login_.data() + off, d.len);
            if (std::memcmp(now_bytes.data(), blocks_.data(d.block) + d.boff, d.len) != 0 && !replace_bytes(d, now_bytes)) {
                ++ctr_[Counter::mysql_logins_not_rewritten];  // no block free: sent as captured
            }
            off += d.len;
        }
    }
    // A piece's payload replaced by `bytes` (same length) in a block of its own.
    bool replace_bytes(Piece& d, ConstBytes bytes) {
        if (blocks_.available() == 0) return false;
        if (d.flags & Piece::kOwnBlock) {
            blocks_.free_private(d.block);
            d.block = blocks_.alloc_private(bytes);
        } else {
            const std::uint32_t old = d.block;
            d.block = blocks_.alloc(bytes);
            blocks_.ref(d.block);
            defer_unref(old);
        }
        d.boff = 0;
        return true;
    }

    // Replays the client's FIN/RST (or closes after finish_input) once all data is acknowledged.
    bool try_close(Session& s, Nanos now) {
        if (s.snd_nxt != s.snd_max) return false;
        const std::uint32_t id = locate(s);
        bool fin_pending = false;
        if (id != kNone) {
            const Piece& p = pool_[id];
            if (!(p.fin() && p.data_end() == s.snd_nxt)) return false;  // data (or a gap) first
            fin_pending = true;
        } else if (!(s.flags & (sflag::cap_rst | sflag::input_done))) {
            return false;
        }
        if (s.snd_una != s.snd_max) return false;
        const std::uint32_t need = fin_pending ? need_of(s, pool_[id]) : online_rel_end(s);
        if (answer_pending(s, need, now)) return false;
        s.wait_at = 0;
        finish_exchange(s);
        if ((s.flags & sflag::cap_rst) && !fin_pending) {
            send_rst(s, now);
            end(s, Counter::end_client_rst, now);
            return true;
        }
        ++ctr_[Counter::fin_sent];
        emit(s, tf::fin | tf::ack, s.snd_nxt, {}, now);
        s.snd_nxt += 1;
        s.snd_max = s.snd_nxt;
        s.state = State::fin_sent;
        s.rto_at = now + rto_ns(s);
        s.wait_at = now + cfg_.close_linger;
        return true;
    }

    // Detached: drop captured data up to the next request boundary, then reconnect there.
    void resync(Session& s, Nanos now) {
        for (;;) {
            if (s.q_head == kNone) {  // a captured RST ends the session once nothing is left to replay
                if (s.flags & (sflag::input_done | sflag::cap_rst)) end(s, Counter::end_detached, now);
                return;
            }
            const Piece& p = pool_[s.q_head];
            if (p.seq > s.snd_nxt) {  // a capture gap before the next piece
                if (!(s.flags & sflag::gap_expired) && now < p.cap_time + cfg_.capture_gap_timeout) return;
                // give up on the hole. The first piece after the connection's last data cannot
                // be proven to start a request (the hole may be its head); after that, a piece
                // whose ack advanced over the previous captured piece is a boundary.
                // the request holding the hole is lost (its head, if sent, was reset with the connection)
                ctr_[Counter::capture_hole_bytes] += seq_dist(p.seq, s.snd_nxt);
                ++ctr_[Counter::requests_lost_capture_hole];
                s.snd_nxt = p.seq;
                if (!(s.flags & sflag::resync_jumped)) s.released = std::max(s.released, need_of(s, p));
                s.flags |= sflag::resync_jumped;
                if (s.cap_nxt < s.snd_nxt) s.cap_nxt = s.snd_nxt;
                s.flags &= ~(sflag::gap | sflag::gap_expired);
                s.gap_at = 0;
                extend_contig(s, s.q_head);
                refresh_gap(s, now);
                // right after a hole only a proven request start (the online server had answered
                // every byte before it) is a restart point: the hole may hold its head
                const Piece& b = pool_[s.q_head];
                if ((b.flags & (Piece::kBoundary | Piece::kUnseenAnswer)) && b.len > 0) {
                    if (!(b.flags & Piece::kBoundary)) ++ctr_[Counter::resync_restart_unseen_answer];
                    reconnect(s, b, now);
                    return;
                }
            } else {
                const std::uint32_t need = need_of(s, p);
                if (p.len > 0 && p.seq == s.snd_nxt && need > s.released) {
                    reconnect(s, p, now);
                    return;
                }
            }
            const Piece& q = pool_[s.q_head];
            if (q.fin()) {
                end(s, Counter::end_detached, now);
                return;
            }
            s.released = std::max(s.released, need_of(s, q));
            if (q.data_end() > s.snd_nxt) s.snd_nxt = q.data_end();
            ++ctr_[Counter::drop_resync_segments];
            ctr_[Counter::drop_resync_bytes] += q.len;
            pop_head(s);
        }
    }

    // ---------------------------------------------------------------- target frames
    void target_segment(std::uint32_t id, ConstBytes frame, const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
        Session& s = sessions_[id];
        if (s.state == State::syn_sent) {
            std::optional<net::TcpOptions> opts;
            if (th.has(tf::syn)) opts = net::TcpOptions::read(v.tcp_options(frame));
            syn_sent_segment(s, th, opts, now);
        } else if (s.state == State::established || s.state == State::fin_sent) {
            // only the timestamp matters once connected (no full option parse per ACK)
            std::optional<net::TcpTimestamp> ts;
            if (s.flags & sflag::ts_on) ts = net::TcpOptions::read_timestamp(v.tcp_options(frame));
            // a connection's first answers (a MySQL greeting, the answer to its login) are
            // looked at before they move the session on
            if (v.payload_len > 0 && th.seq == s.rcv_nxt && s.tgt_bytes < kLoginWindow) {
                logins_.on_target_data(id, v.payload(frame), ctr_);
            }
            connected_segment(s, th, ts, v.payload_len, now);
        } else {
            ++ctr_[Counter::drop_target_unknown];
            return;
        }
        if (s.state != State::free) schedule(id);
    }

    void syn_sent_segment(Session& s, const net::TcpHdr& th, const std::optional<net::TcpOptions>& opts, Nanos now) {
        if (th.has(tf::rst)) {
            if (th.has(tf::ack) && th.ack == s.isn + 1) end(s, Counter::end_target_refused, now);
            return;
        }
        if (!th.has(tf::ack)) return;
        if (!th.has(tf::syn) || th.ack != s.isn + 1) {
            // a stale connection on this tuple answered (challenge ACK): reset it, our SYN
            // retransmission will then go through
            ++ctr_[Counter::target_challenge_rst];
            net::TcpSpec t;
            t.src_port = s.xlat.src_port;
            t.dst_port = s.xlat.dst_port;
            t.seq = th.ack;
            t.flags = tf::rst;
            t.window = 0;
            net::Ipv4Spec ip;
            ip.src = s.xlat.src_ip;
            ip.dst = s.xlat.dst_ip;
            const std::size_t n = net::build_tcp(net::Bytes(tx_.data(), tx_.size()), l2_, ip, t);
            if (n) {
                ++ctr_[Counter::emitted_frames];
                ctr_[Counter::emitted_bytes] += n;
                sink_.emit(ConstBytes(tx_.data(), n));
            }
            return;
        }
        // SYN-ACK
        ++ctr_[Counter::handshakes];
        logins_.reset(id_of(s));
        s.flags &= ~sflag::mid_open;
        s.rcv_nxt = th.seq + 1;
        s.tgt_bytes = 0;
        s.ex_tgt0 = 0;
        s.answer_owed = 0;
        s.snd_una = s.isn + 1;
        s.tgt_wscale = 0;
        std::uint16_t mss = 536;
        if (opts) {
            if (opts->mss) mss = *opts->mss;
            if ((s.flags & sflag::syn_ws) && opts->wscale) s.tgt_wscale = std::min<std::uint8_t>(*opts->wscale, 14);
            if ((s.flags & sflag::syn_ts) && opts->ts) {
                s.flags |= sflag::ts_on;
                s.ts_recent = opts->ts->val;
            }
        }
        s.tgt_wnd = th.window;  // never scaled in a SYN
        std::uint16_t m = std::min<std::uint16_t>(mss, max_payload_);
        if (s.flags & sflag::ts_on) m = static_cast<std::uint16_t>(m > 64 ? m - 12 : m);
        s.snd_mss = std::max<std::uint16_t>(m, 64);
        if ((s.flags & sflag::rtt_timing) && s.syn_retries == 0) {
            Rto::sample(s.srtt_us, s.rttvar_us, s.rto_us, static_cast<std::uint32_t>((now - s.rtt_time) / 1000));
        }
        s.flags &= ~sflag::rtt_timing;
        s.backoff = 0;
        s.rto_at = 0;
        s.state = State::established;
        s.quiet_ref = watch_;
        s.last_activity = now;
        drop_acked(s);
        if (!pump(s, now) && s.state == State::established) send_ack(s, now);
    }

    void connected_segment(Session& s, const net::TcpHdr& th, std::optional<net::TcpTimestamp> ts, std::uint16_t len,
                           Nanos now) {
        if (th.has(tf::rst)) {
            const std::int32_t off = th.seq - s.rcv_nxt;
            if (off < 0 || off > (1 << 24)) return;  // not in window: ignore
            target_reset(s, now);
            return;
        }
        if (th.has(tf::syn)) {  // SYN-ACK again: our ACK was lost
            send_ack(s, now);
            return;
        }
        bool need_ack = false;
        if (th.has(tf::ack)) {
            const std::uint32_t wnd = std::uint32_t{th.window} << s.tgt_wscale;
            if (th.ack > s.snd_max) {
                ++ctr_[Counter::drop_target_bad_ack];
                need_ack = true;
            } else if (th.ack > s.snd_una) {
                s.snd_una = th.ack;
                if (s.snd_nxt < s.snd_una) s.snd_nxt = s.snd_una;
                if ((s.flags & sflag::rtt_timing) && s.snd_una >= s.rtt_seq) {
                    Rto::sample(s.srtt_us, s.rttvar_us, s.rto_us, static_cast<std::uint32_t>((now - s.rtt_time) / 1000));
                    s.flags &= ~sflag::rtt_timing;
                }
                s.backoff = 0;
                s.dupacks = 0;
                s.quiet_ref = watch_;
                s.last_activity = now;
                s.flags &= ~sflag::win_blocked;
                s.rto_at = s.snd_una == s.snd_max ? 0 : now + rto_ns(s);
                drop_acked(s);
            } else if (th.ack == s.snd_una && len == 0 && !th.has(tf::fin) && s.snd_max > s.snd_una && wnd == s.tgt_wnd) {
                if (++s.dupacks == 3) fast_retransmit(s, now);
            }
            // window update only from a segment that is not older than what we know (RFC 9293
            // SND.WL2): a reordered old ACK must not reopen a window the target has since closed
            if (!(th.ack < s.snd_una)) {
                if (wnd > s.tgt_wnd) s.flags &= ~sflag::win_blocked;
                s.tgt_wnd = wnd;
            }
        }
        if (ts && (s.flags & sflag::ts_on) && static_cast<std::int32_t>(ts->val - s.ts_recent) >= 0) s.ts_recent = ts->val;
        if (len > 0) {
            need_ack = true;
            const Seq end = th.seq + len;
            if (th.seq <= s.rcv_nxt && end > s.rcv_nxt) {
                const std::uint32_t add = seq_dist(end, s.rcv_nxt);
                s.rcv_nxt = end;
                s.tgt_bytes += add;
                s.last_tgt_data = now;
                s.quiet_ref = watch_;
                s.last_activity = now;
            } else if (end <= s.rcv_nxt) {
                ++ctr_[Counter::target_duplicate_data];
            } else {
                ++ctr_[Counter::target_out_of_order];
            }
        }
        bool fin_now = false;
        if (th.has(tf::fin)) {
            need_ack = true;
            if (th.seq + len == s.rcv_nxt && !(s.flags & sflag::tgt_fin)) {
                s.rcv_nxt += 1;
                s.flags |= sflag::tgt_fin;
                s.last_activity = now;
                fin_now = true;
            }
        }
        (void)fin_now;
        if (s.state == State::fin_sent) {
            if (need_ack) send_ack(s, now);
            if ((s.flags & sflag::tgt_fin) && s.snd_una == s.snd_max) {
                remember_time_wait(s, now);
                end(s, (s.flags & sflag::cap_fin) ? Counter::end_closed : Counter::end_finished_input, now);
            }
            return;
        }
        const bool sent = pump(s, now);
        if (need_ack && !sent && s.state == State::established) send_ack(s, now);
    }

    void fast_retransmit(Session& s, Nanos now) {
        ++ctr_[Counter::retransmits_fast];
        const Seq save_nxt = s.snd_nxt;
        s.snd_nxt = s.snd_una;
        s.q_send = kNone;
        s.flags &= ~sflag::rtt_timing;
        send_data(s, now, 1);
        s.snd_nxt = seq_max(save_nxt, s.snd_nxt);
        s.q_send = kNone;
    }

    void target_reset(Session& s, Nanos now) {
        if (s.state == State::fin_sent) {
            end(s, s.snd_una == s.snd_max ? ((s.flags & sflag::cap_fin) ? Counter::end_closed : Counter::end_finished_input)
                                          : Counter::end_target_rst,
                now);
            return;
        }
        const bool left = has_unsent_payload(s) || s.snd_una != s.snd_max;
        if (!left && (s.flags & (sflag::cap_fin | sflag::cap_rst | sflag::input_done))) {
            end(s, Counter::end_target_rst, now);
            return;
        }
        detach(s, Counter::reconnect_target_rst, false, now);
        resync(s, now);
    }

    // ---------------------------------------------------------------- timers
    void on_timer(std::uint32_t id, Nanos now) {
        Session& s = sessions_[id];
        if (s.state == State::free) return;
        if (now >= s.last_activity + cfg_.session_timeout) {
            if (connected(s)) send_rst(s, now);
            end(s, Counter::end_idle_timeout, now);
            return;
        }
        if (s.gap_at && now >= s.gap_at) {
            s.gap_at = 0;
            s.flags |= sflag::gap_expired;
            pump(s, now);
            if (s.state == State::free) return;
        }
        if (s.rto_at && now >= s.rto_at) {
            on_rto(s, now);
            if (s.state == State::free) return;
        }
        if (s.wait_at && now >= s.wait_at) {
            s.wait_at = 0;
            if (s.state == State::fin_sent) {
                send_rst(s, now);
                end(s, Counter::end_close_linger, now);
                return;
            }
            pump(s, now);
            if (s.state == State::free) return;
        }
        schedule(id);
    }

    void on_rto(Session& s, Nanos now) {
        s.rto_at = 0;
        switch (s.state) {
            case State::syn_sent:
                if (s.syn_retries >= cfg_.syn_retries) {
                    send_rst(s, now);
                    end(s, Counter::end_syn_timeout, now);
                    return;
                }
                ++s.syn_retries;
                ++ctr_[Counter::syn_retransmits];
                send_syn(s, now);
                return;
            case State::established:
                if (s.snd_una == s.snd_max) {  // persist: zero window with data waiting
                    if (has_unsent_payload(s) && std::int64_t{s.tgt_wnd} <= static_cast<std::int64_t>(s.snd_nxt - s.snd_una)) {
                        ++ctr_[Counter::window_probes];
                        ++ctr_[Counter::acks_sent];
                        emit(s, tf::ack, s.snd_una - 1, {}, now);
                        if (s.backoff < 16) ++s.backoff;
                        s.rto_at = now + rto_ns(s);
                    }
                    return;
                }
                if (s.backoff >= cfg_.max_retransmits) {
                    send_rst(s, now);
                    end(s, Counter::end_retrans_timeout, now);
                    return;
                }
                ++s.backoff;
                ++ctr_[Counter::retransmits_rto];
                s.flags &= ~sflag::rtt_timing;
                s.dupacks = 0;
                s.snd_nxt = s.snd_una;
                s.q_send = kNone;
                send_data(s, now, 1);
                s.rto_at = now + rto_ns(s);
                return;
            case State::fin_sent:
                if (s.snd_una == s.snd_max) return;
                if (s.backoff >= cfg_.max_retransmits) {
                    send_rst(s, now);
                    end(s, Counter::end_retrans_timeout, now);
                    return;
                }
                ++s.backoff;
                ++ctr_[Counter::retransmits_rto];
                emit(s, tf::fin | tf::ack, s.snd_max - 1, {}, now);
                s.rto_at = now + rto_ns(s);
                return;
            default:
                return;
        }
    }

    // Recently closed original sessions (direct-mapped by original-key hash): a late
    // captured segment of a session that already closed must not open a mid-stream one.
    struct ClosedEntry {
        net::FlowKey orig{};
        Seq end;            // captured stream end (after the FIN)
        std::uint32_t ms = 0;
        bool used = false;
    };
    void remember_closed(const Session& s, Nanos now) {
        if (!(s.flags & (sflag::cap_fin | sflag::cap_rst)) || (s.flags & sflag::superseded)) return;
        ClosedEntry& c = closed_[net::hash_flow(s.orig) & (closed_.size() - 1)];
        c.orig = s.orig;
        c.end = s.cap_nxt;
        c.ms = static_cast<std::uint32_t>(now / kMs);
        c.used = true;
    }
    bool recently_closed(const net::FlowKey& orig, Seq seq, Nanos now) const {
        const ClosedEntry& c = closed_[net::hash_flow(orig) & (closed_.size() - 1)];
        if (!c.used || !(c.orig == orig)) return false;
        if (static_cast<std::uint32_t>(now / kMs) - c.ms > cfg_.time_wait / kMs) return false;
        return seq < c.end && c.end - seq < (1 << 30);
    }

    // TIME_WAIT records of translated tuples whose connection we closed by a FIN exchange
    // (direct-mapped by translated-tuple hash): a retransmitted FIN of the target (our final
    // ACK was lost) is re-acknowledged from the remembered sequence numbers (RFC 9293 §3.6)
    // instead of being reset. A record overwritten by a collision falls back to the RST.
    struct TimeWaitEntry {
        net::FlowKey xlat{};
        Seq snd;             // our sequence number after our FIN
        Seq rcv;             // after the target's FIN
        std::uint32_t ts_off = 0, ts_recent = 0;
        std::uint32_t ms = 0;
        std::uint8_t used = 0, ts_on = 0;
    };
    // 4-way buckets: a record is placed in a free, expired or same-tuple way, else over the oldest
    static constexpr std::size_t kTwWays = 4;
    TimeWaitEntry* time_wait_find(const net::FlowKey& xk, std::uint64_t h) {
        TimeWaitEntry* b = &time_wait_[(h & (time_wait_.size() - 1)) & ~(kTwWays - 1)];
        for (std::size_t w = 0; w < kTwWays; ++w)
            if (b[w].used && b[w].xlat == xk) return &b[w];
        return nullptr;
    }
    void remember_time_wait(const Session& s, Nanos now) {
        const std::uint32_t now_ms = static_cast<std::uint32_t>(now / kMs);
        TimeWaitEntry* b = &time_wait_[(net::hash_flow(s.xlat) & (time_wait_.size() - 1)) & ~(kTwWays - 1)];
        TimeWaitEntry* victim = &b[0];
        for (std::size_t w = 0; w < kTwWays; ++w) {
            if (!b[w].used || b[w].xlat == s.xlat || now_ms - b[w].ms > cfg_.time_wait / kMs) {
                victim = &b[w];
                break;
            }
            if (now_ms - b[w].ms > now_ms - victim->ms) victim = &b[w];
        }
        TimeWaitEntry& t = *victim;
        t.xlat = s.xlat;
        t.snd = s.snd_max;
        t.rcv = s.rcv_nxt;
        t.ts_off = s.ts_off;
        t.ts_recent = s.ts_recent;
        t.ms = static_cast<std::uint32_t>(now / kMs);
        t.used = 1;
        t.ts_on = (s.flags & sflag::ts_on) ? 1 : 0;
    }
    bool time_wait_ack(const net::FlowKey& xk, std::uint64_t h, const net::PacketView& v, const net::TcpHdr& th, Nanos now) {
        TimeWaitEntry* tp = time_wait_find(xk, h);
        if (!tp) return false;
        TimeWaitEntry& t = *tp;
        if (static_cast<std::uint32_t>(now / kMs) - t.ms > cfg_.time_wait / kMs) {
            t.used = 0;
            return false;
        }
        if (th.has(tf::syn)) return false;
        // only a retransmission of what we already acknowledged (the FIN, or data before it)
        const Seq end = th.seq + v.payload_len + (th.has(tf::fin) ? 1u : 0u);
        if (end > t.rcv) return false;
        if (v.payload_len == 0 && !th.has(tf::fin)) return true;  // an old duplicate ACK: ignored, no RST
        net::TcpSpec ts;
        ts.src_port = xk.src_port;
        ts.dst_port = xk.dst_port;
        ts.seq = t.snd;
        ts.ack = t.rcv;
        ts.flags = tf::ack;
        ts.window = 65535;
        if (t.ts_on) ts.options.ts = net::TcpTimestamp{static_cast<std::uint32_t>(now / kMs) + t.ts_off, t.ts_recent};
        net::Ipv4Spec ip;
        ip.src = xk.src_ip;
        ip.dst = xk.dst_ip;
        const std::size_t n = net::build_tcp(net::Bytes(tx_.data(), tx_.size()), l2_, ip, ts);
        if (n == 0) return true;
        ++ctr_[Counter::target_time_wait_acks];
        ++ctr_[Counter::acks_sent];
        ++ctr_[Counter::emitted_frames];
        ctr_[Counter::emitted_bytes] += n;
        sink_.emit(ConstBytes(tx_.data(), n));
        return true;
    }

    EngineConfig cfg_;
    FrameSink& sink_;
    ExchangeObserver* observer_ = nullptr;
    Counters ctr_;
    BigArray<Session> sessions_;
    std::vector<std::uint32_t> free_;
    FlatIndex by_orig_;
    FlatIndex by_xlat_;
    TimerWheel wheel_;
    PiecePool pool_;
    BlockPool blocks_;
    bool segmented_ = false;
    bool share_blocks_ = false;  // -n > 1 or a zero-copy sink: refcounted blocks, else private ones
    Stash stash_;
    static constexpr std::size_t kMaxSlices = 64;
    std::array<PayloadSlice, kMaxSlices> slices_{};
    std::array<ConstBytes, kMaxSlices> parts_{};  // slices_' bytes, for build_tcp_headers
    std::array<std::uint32_t, 64> unref_{};        // blocks to release (defer_unref)
    std::size_t n_unref_ = 0;
    BigArray<ClosedEntry> closed_;
    BigArray<TimeWaitEntry> time_wait_;
    TupleAllocator tuples_;
    net::L2Spec l2_;
    QuietPolicy quiet_;
    std::vector<std::uint8_t> tx_;
    MysqlLogins logins_;
    std::array<std::uint8_t, 8192> login_{};  // a session's login, rewritten before it goes
    std::size_t active_ = 0;
    Nanos now_ = 0;
    std::uint32_t rst_tokens_ = kUnknownRstBurst;  // take_unknown_rst_token()
    Nanos rst_refill_at_ = 0;
    Nanos watch_ = 0;      // observed clock (observe())
    Nanos last_call_ = 0;  // engine clock of the latest call
    std::uint16_t max_payload_ = 1460;
    std::uint16_t fabricated_mss_ = 1460;
};

}  // namespace

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
    auto e = std::make_unique<EngineImpl>(cfg, sink);
    if (!e->init(err)) return nullptr;
    return e;
}

}  // namespace dpcopy::session
