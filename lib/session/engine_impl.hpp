// EngineImpl: the session engine's one class (internal to lib/session; see engine.hpp for
// the contract, docs/PERFORMANCE.md for figures).
//
// One EngineImpl per worker. Sessions live in a fixed slab; two FlatIndex tables find them
// by original 4-tuple (head of the replica chain) and by translated tuple; one TimerWheel
// entry per session holds its earliest deadline; captured client data waits in the
// worker's PiecePool (the CaptureQueue) until the target acknowledges it. Every frame sent is built from
// scratch by net::build_tcp_headers in emit_frame (our options, our checksums).
//
// The member functions are defined by seam: engine.cpp (entry points, bursts),
// engine_capture.cpp (captured frames), engine_queue.cpp (the capture queue),
// engine_send.cpp (sending, closing, resync, exchange records), engine_target.cpp (target
// frames), engine_lifecycle.cpp (tuples, session life cycle), engine_timers.cpp (timers),
// engine_close.cpp (recently closed sessions, TIME_WAIT). Helpers of the per-packet path
// stay inline here.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/big_array.hpp"
#include "lib/session/capture_queue.hpp"
#include "lib/session/close_memory.hpp"
#include "lib/session/engine.hpp"
#include "lib/session/flat_index.hpp"
#include "lib/session/ipv6_keys.hpp"
#include "lib/session/mysql_login.hpp"
#include "lib/session/overload.hpp"
#include "lib/session/policy.hpp"
#include "lib/session/rto.hpp"
#include "lib/session/seg_pool.hpp"
#include "lib/session/session.hpp"
#include "lib/session/timer_wheel.hpp"
#include "lib/session/tuple_alloc.hpp"

// EngineImpl keeps internal linkage and its member functions are defined `inline`, as when
// they were defined in the class in one file: the engine_*.cpp seams are compiled as one unit
// (lib/session/meson.build: unity=on), so GCC inlines the per-packet path across them as
// before (without, bench_engine lost 5-10% at 1000 sessions). A seam file alone does not link.
namespace dpcopy::session::detail {
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
    EngineImpl(const EngineConfig& cfg, FrameSink& sink);

    bool init(std::string& err);

    // ---------------------------------------------------------------- Engine API
    void on_captured(ConstBytes frame, net::LinkType link, Nanos now) override;
    void on_target(ConstBytes frame, Nanos now) override;

    // A frame's parse and flow hash, computed once: by the burst paths for the whole burst
    // (the hash also prefetches the index), or by the single-frame entry points.
    struct Parsed {
        net::PacketView v;
        net::ParseError pe = net::ParseError::ok;
        bool hashed = false;     // h is valid
        bool to_server = false;  // h hashes v.key (else v.key.reversed())
        std::uint64_t h = 0;
    };

    void captured_one(ConstBytes frame, net::LinkType link, Nanos now);

    // The hash of `k` (to_server) or of its reverse, reusing the burst's when it is that one.
    static std::uint64_t hash_of(const Parsed& p, bool to_server) noexcept {
        if (p.hashed && p.to_server == to_server) return p.h;
        return key_hash(to_server ? p.v.key : p.v.key.reversed(), p.v.l3 == net::L3Kind::ipv6);
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
    bool admit_frame(const Parsed& p, const Intake& in, Nanos now) noexcept {
        advance_observed_clock(now);
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

    void captured_parsed(ConstBytes frame, const Parsed& p, Nanos now);

    void target_one(ConstBytes frame, Nanos now);

    [[gnu::noinline]] void target_parsed(ConstBytes frame, const Parsed& p, Nanos now);  // (out of line as GCC chose before IPv6)
    [[gnu::noinline]] void target_ipv6(ConstBytes frame, const Parsed& p, Nanos now);

    // Bursts: pass 1 parses every frame once and hashes its flow (prefetching the index
    // slot), pass 2 prefetches the sessions and what they will touch, pass 3 processes.
    static constexpr std::size_t kBurst = 32;

    bool parse_and_hash(ConstBytes f, net::LinkType link, net::IpFamilies families, Parsed& p,
                        const net::PacketView* given = nullptr) const noexcept;
    // parse_frame with the families this engine reads (IPv6 only when a -x entry is IPv6 on
    // that side), an IPv6 key folded (ipv6_keys.hpp).
    static net::ParseError parse_for(ConstBytes f, net::PacketView& v, net::LinkType link, net::IpFamilies families) noexcept {
        const net::ParseError pe = net::parse_frame(f, v, link, false, families);
        if (pe == net::ParseError::ok) fold_view_key(f, v);
        return pe;
    }

    void on_captured_burst(std::span<const ConstBytes> frames, net::LinkType link, Nanos now) override;
    void on_captured_burst(std::span<const ConstBytes> frames, std::span<const Nanos> capture_times, net::LinkType link,
                           Nanos now) override;

    void on_target_burst(std::span<const ConstBytes> frames, Nanos now) override;
    void on_target_burst(std::span<const ConstBytes> frames, std::span<const net::PacketView> views, Nanos now) override;

    void advance(Nanos now) override;

    void finish_input(Nanos now) override;

    bool idle() const override { return active_ == 0; }
    void set_next_hop_mac(MacAddr mac) override { l2_.dst = mac; }
    void set_observer(ExchangeObserver* obs) override {
        observer_ = obs;
        observer_slots_ = obs ? obs->slot_memory() : ExchangeObserver::SlotMemory{};
    }
    const Counters& counters() const override { return ctr_; }
    std::size_t active_sessions() const override { return active_; }
    std::size_t queued_segments() const override { return pieces_.in_use(); }
    std::size_t payload_blocks() const override { return blocks_.in_use(); }
    CaptureHeadroom capture_headroom() const override {
        return {pieces_.available(), blocks_.available(), free_ids_.size()};
    }
    CaptureCost capture_cost(ConstBytes frame, net::LinkType link) const override;
    Nanos request_delay() const override { return request_delay_; }
    CaptureCost capture_cost_bound(std::size_t frame_bytes) const override {
        return session::capture_cost(frame_bytes, cfg_.multiply, share_blocks_, true);
    }
    std::size_t memory_bytes() const override;

private:
    // ---------------------------------------------------------------- helpers
    void prefetch_session_lines(std::uint32_t id) const noexcept {
        const auto* p = reinterpret_cast<const char*>(&sessions_[id]);
        for (std::size_t off = 0; off < kSessionPrefetchBytes; off += 64) __builtin_prefetch(p + off, 1);
    }
    void prefetch_session(std::uint32_t id) const noexcept {
        if (id == kNone) return;
        prefetch_session_lines(id);
        wheel_.prefetch(id);
        if (addrs6_.size() != 0) __builtin_prefetch(&addrs6_[id]);
        if (id < observer_slots_.count) {  // the observer's state for this slot (the comparator's)
            const auto* p = static_cast<const char*>(observer_slots_.base) + std::size_t{id} * observer_slots_.stride;
            for (std::size_t off = 0; off < observer_slots_.bytes; off += 64) __builtin_prefetch(p + off, 1);
        }
    }

    std::uint32_t id_of(const Session& s) const noexcept { return static_cast<std::uint32_t>(&s - sessions_.data()); }
    // A connection to the target exists (from our SYN on).
    static bool connected(const Session& s) noexcept { return s.state != State::free && s.state != State::detached; }
    static bool awaiting_syn_ack(const Session& s) noexcept {
        return s.state == State::syn_sent || s.state == State::mid_stream_syn_sent;
    }
    // Connected and our FIN not sent: data may go.
    static bool sending(const Session& s) noexcept { return s.state == State::established || s.state == State::close_wait; }
    static bool our_fin_sent(const Session& s) noexcept { return s.state == State::fin_wait || s.state == State::closing; }
    static bool target_fin_received(const Session& s) noexcept {
        return s.state == State::close_wait || s.state == State::closing;
    }
    std::uint32_t tsval(const Session& s, Nanos now) const noexcept {
        return static_cast<std::uint32_t>(now / kMs) + s.target.ts_offset;
    }
    Nanos rto_ns(const Session& s) const noexcept { return Rto::timeout_ns(s.target.rto_us, s.target.backoff); }
    // Target response bytes since the latest request was released (since the connection
    // opened, before the first).
    std::uint32_t target_bytes_since_release(const Session& s) const noexcept { return s.target.received_bytes - s.exchange.target_bytes_at_release; }
    // The target's answer to what it was last sent: its bytes since the latest request went,
    // less what it still owed of the answer before (a request released after a quiet time,
    // while a long answer paused: the rest of that answer is not this request's; closing on
    // it would make the target abort the answer it is still writing and drop the request).
    std::uint32_t target_answer(const Session& s) const noexcept {
        const std::uint32_t since = target_bytes_since_release(s);
        return since > s.exchange.answer_owed ? since - s.exchange.answer_owed : 0u;
    }
    Nanos quiet(const Session& s) const noexcept {
        return quiet_time(std::uint64_t{s.capture.rtt_us} * 1000, std::uint64_t{s.target.srtt_us} * 1000, quiet_policy_);
    }
    // Before the client's FIN/RST: an early close makes the target abort the response it is
    // writing, a late one costs nothing, so the floor is longer than for a request.
    Nanos close_quiet(const Session& s) const noexcept {
        return target_bytes_since_release(s) == 0 ? cfg_.unanswered_limit : std::max(quiet(s), cfg_.close_quiet);
    }
    // Quiet time is measured on the observed clock `observed_clock_` (see
    // advance_observed_clock()); deadlines.quiet_from is an observed_clock_ value. Returns the engine-clock
    // deadline at which `quiet` will have elapsed if the engine keeps running.
    Nanos quiet_deadline(const Session& s, Nanos quiet_ns, Nanos now) const noexcept {
        const Nanos end = s.deadlines.quiet_from + quiet_ns;
        return end > observed_clock_ ? now + (end - observed_clock_) : now;
    }
    // The observed clock: time passes for quiet-time purposes only while the engine is called.
    // A gap longer than stall_gap between two calls (the worker was descheduled or busy
    // elsewhere) counts as stall_gap: frames the target sent meanwhile may still be waiting
    // in the receive queues, so its silence during the gap is unknown (EB-6).
    void advance_observed_clock(Nanos now) noexcept {
        if (now > last_call_) {
            observed_clock_ += std::min<Nanos>(now - last_call_, cfg_.stall_gap);
            last_call_ = now;
        }
    }
    std::uint32_t online_rel_end(const Session& s) const noexcept {
        if (!(s.flags & sflag::online_base_known)) return 0;
        return seq_dist(s.capture.online_end, s.capture.online_base);
    }
    // Need of a queued piece: online response bytes the client had received when it sent it.
    std::uint32_t need_of(const Session& s, const Piece& p) const noexcept {
        if (!(p.flags & Piece::kAck) || !(s.flags & sflag::online_base_known)) return s.target.released_need;
        std::uint32_t r = seq_dist(p.ack, s.capture.online_base);
        if (s.flags & sflag::online_fin) r = std::min(r, online_rel_end(s));  // the server's FIN is no data
        return r;
    }

    template <class IpSpec>
    bool emit_frame(const IpSpec& ip, const net::TcpSpec& t, std::span<const PayloadSlice> slices = {});
    // A frame of the session's connection to the target, in the target's family.
    bool emit_to_target(Session& s, const net::TcpSpec& t, std::uint16_t ip_id, std::span<const PayloadSlice> slices = {});
    // A frame answering target frame (frame, v) of no session: addresses swapped, its family.
    bool emit_reply(ConstBytes frame, const net::PacketView& v, const net::TcpSpec& t);
    net::TcpSpec tcp_spec(Session& s, std::uint8_t flags, Seq seq, Nanos now, bool syn);
    void emit_session_segment(Session& s, std::uint8_t flags, Seq seq, Nanos now, std::span<const PayloadSlice> slices = {},
                              bool syn = false);
    void send_ack(Session& s, Nanos now);
    void send_rst(Session& s, Nanos now);
    void send_syn(Session& s, Nanos now);
    bool is_target(Ipv4Addr ip, Port port) const noexcept {
        for (const TransferMap& t : cfg_.transfers)
            if (!t.target_ip6 && t.target_ip == ip && t.target_port == port) return true;
        return false;
    }
    bool is_target6(const net::Ipv6Addr& ip, Port port) const noexcept {
        for (const TransferMap& t : cfg_.transfers)
            if (t.target_ip6 && *t.target_ip6 == ip && t.target_port == port) return true;
        return false;
    }
    // ---------------------------------------------------------------- families (ipv6_keys.hpp)
    // Session i has original key k and, for an IPv6 one, the addresses a6 (nullptr: IPv4).
    bool original_is(std::uint32_t i, const net::FlowKey& k, const Addr6Pair* a6) const noexcept {
        const SessionIdentity& id = sessions_[i].identity;
        if (!(id.original == k)) return false;
        if (!(id.family & family::original6)) return a6 == nullptr;
        return a6 && addrs6_[i].original_src == a6->src && addrs6_[i].original_dst == a6->dst;
    }
    bool translated_is(std::uint32_t i, const net::FlowKey& k, const Addr6Pair* a6) const noexcept {
        const SessionIdentity& id = sessions_[i].identity;
        if (!(id.translated == k)) return false;
        if (!(id.family & family::translated6)) return a6 == nullptr;
        return a6 && addrs6_[i].translated_src == a6->src && addrs6_[i].translated_dst == a6->dst;
    }
    static std::uint64_t original_hash(const Session& s) noexcept {
        return key_hash(s.identity.original, s.identity.family & family::original6);
    }
    static std::uint64_t translated_hash(const Session& s) noexcept {
        return key_hash(s.identity.translated, s.identity.family & family::translated6);
    }
    TupleAllocator& tuples_of(const Session& s) noexcept {
        return (s.identity.family & family::translated6) ? tuples6_ : tuples_;
    }
    // Payload bytes per segment toward the session's target (-M less the IP and TCP headers).
    std::uint16_t max_payload(const Session& s) const noexcept {
        return (s.identity.family & family::translated6) ? max_payload6_ : max_payload_;
    }
    std::uint16_t fabricated_mss(const Session& s) const noexcept {
        return (s.identity.family & family::translated6) ? fabricated_mss6_ : fabricated_mss_;
    }
    // The captured SYN's MSS toward the target: adjusted by the headers' difference when the
    // families differ (IPv6's header is 20 bytes longer), within what -M allows.
    std::uint16_t syn_mss_toward_target(const Session& s, std::uint16_t captured) const noexcept {
        const bool o6 = s.identity.family & family::original6, x6 = s.identity.family & family::translated6;
        std::uint32_t m = captured;
        if (o6 && !x6) m += 20;
        if (!o6 && x6) m = m > 20 ? m - 20 : 1;
        return static_cast<std::uint16_t>(std::min<std::uint32_t>(m, max_payload(s)));
    }
    // RSTs for target frames of no live session: at most kUnknownRstBurst in a row, refilled
    // at kUnknownRstPerSec (an RST storm from the target, or forged frames, is not answered
    // one for one).
    static constexpr std::uint32_t kUnknownRstBurst = 64;
    static constexpr std::uint32_t kUnknownRstPerSec = 1000;
    bool take_unknown_rst_token(Nanos now) noexcept;
    void reset_unknown(ConstBytes frame, const net::PacketView& v, const net::TcpHdr& th, Nanos now);

    // ---------------------------------------------------------------- exchange records
    void emit_record(Session& s, std::uint32_t online_bytes, Nanos online_time);
    void start_exchange(Session& s, const Piece& p, std::uint32_t need, Nanos now);
    void finish_exchange(Session& s);

    // ---------------------------------------------------------------- state transitions
    // The only places that set Session::state (in the manner of Seastar's tcp do_established,
    // do_reset, do_closed); do_reset (engine_target.cpp) picks do_closed or do_detached.
    void do_syn_sent(Session& s, Nanos now);              // free/detached -> syn_sent (engine_lifecycle.cpp)
    void do_mid_stream_syn_sent(Session& s, Nanos now);   // free -> mid_stream_syn_sent (engine_lifecycle.cpp)
    void do_established(Session& s, const net::TcpHdr& th, const std::optional<net::TcpOptions>& opts,
                        Nanos now);                       // the SYN-ACK (engine_target.cpp)
    void do_fin_received(Session& s, Nanos now);          // established -> close_wait, fin_wait -> closing
    void do_fin_sent(Session& s, Nanos now);              // established -> fin_wait, close_wait -> closing
    void do_detached(Session& s, Counter why, bool rst, Nanos now);  // connected -> detached
    void do_closed(Session& s, Counter outcome, Nanos now);          // any -> free: the session ends
    // The capture gap (CaptureGap): opened and filled by refresh_gap, expired here.
    static void expire_gap(Session& s) noexcept {
        if (s.capture_gap != CaptureGap::none) s.capture_gap = CaptureGap::expired;
    }

    // ---------------------------------------------------------------- tuples, life cycle
    void bind_tuple(Session& s, const TupleAllocator::Tuple& t);
    void release_tuple(Session& s, Nanos now);
    // The block references of the pieces freed meanwhile are dropped at the end of each entry
    // point (or burst): a segmented sink learns which blocks are free again.
    void flush_unrefs() {
        queue_.release_blocks([&](std::uint32_t b) {
            if (segmented_) sink_.payload_released(b, blocks_.gen(b));
        });
    }
    bool request_cut(Session& s);
    bool rebind(Session& s, Nanos now);
    void reconnect(Session& s, const Piece& p, Nanos now);

    // Live admission control: false when the new session `orig` is shed (counted; the flow is
    // remembered so that its later frames are shed too).
    bool admit(std::uint64_t h, bool data, const net::TcpHdr& th, Nanos now);
    // A captured client frame of a shed flow: counted, nothing else.
    void shed_frame(std::uint64_t h, bool data, const net::TcpHdr& th) {
        ++ctr_[Counter::shed_frames];
        if (data && shed_.new_request(h, th.ack.value())) ctr_[Counter::shed_requests] += cfg_.multiply;
    }
    std::uint32_t create_chain(const net::FlowKey& orig, const TransferMap& xfer, const Addr6Pair* a6, Nanos now);
    void supersede_chain(std::uint32_t head, Nanos now);

    // ---------------------------------------------------------------- captured frames
    void client_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, const TransferMap& xfer,
                      const Addr6Pair* a6, Nanos now);
    [[gnu::noinline]] void captured_ipv6(ConstBytes frame, const Parsed& p, Nanos now);

    void open_from_syn(Session& s, const net::TcpHdr& th, const net::TcpOptions& o, Nanos now);
    void open_mid_stream(Session& s, Seq first_seq, Nanos now);

    void rebase_mid_stream(Session& s, Seq first_seq, Nanos now);

    void server_frame(ConstBytes frame, const net::PacketView& v, std::uint64_t h, const Addr6Pair* a6, Nanos now);

    void client_segment(std::uint32_t id, const net::TcpHdr& th, ConstBytes payload, Nanos now);

    // ---------------------------------------------------------------- the queue
    // (engine_queue.cpp; the pieces themselves: capture_queue.hpp)
    void enqueue(Session& s, Seq seq, ConstBytes payload, Seq ack, bool has_ack, bool fin, Nanos now, std::uint8_t start = 0);
    void refresh_gap(Session& s, Nanos now);
    void drop_acked(Session& s) { queue_.drop_acked(s.queue, s.target.snd_una); }
    // First piece holding data at or after snd_nxt (or the FIN not yet sent).
    std::uint32_t first_unsent_piece(Session& s) { return queue_.first_unsent(s.queue, s.target.snd_nxt); }
    bool has_unsent_payload(const Session& s) const { return queue_.has_data_after(s.queue, s.target.snd_max); }

    // ---------------------------------------------------------------- sending
    void advance_and_schedule(std::uint32_t id, Nanos now);
    void schedule_deadline(std::uint32_t id) {
        const Session& s = sessions_[id];
        Nanos at = s.deadlines.last_activity + cfg_.session_timeout;
        if (s.deadlines.rto_at) at = std::min(at, s.deadlines.rto_at);
        if (s.deadlines.wait_at) at = std::min(at, s.deadlines.wait_at);
        if (s.deadlines.gap_at) at = std::min(at, s.deadlines.gap_at);
        wheel_.schedule_if_earlier(id, at);
    }

    bool advance_session(Session& s, Nanos now);

    std::uint32_t send_queued_data(Session& s, Nanos now, std::uint32_t max_segments);
    bool release_request(Session& s, const Piece& p, std::uint32_t need, Nanos now);

    bool answer_pending(Session& s, std::uint32_t need, Nanos now);

    void rewrite_login(Session& s, std::uint32_t first);

    bool try_close(Session& s, Nanos now);

    void resync(Session& s, Nanos now);

    // ---------------------------------------------------------------- target frames
    void target_segment(std::uint32_t id, ConstBytes frame, const net::PacketView& v, const net::TcpHdr& th, Nanos now);

    void syn_sent_segment(Session& s, const net::TcpHdr& th, const std::optional<net::TcpOptions>& opts, Nanos now);

    void connected_segment(Session& s, const net::TcpHdr& th, std::optional<net::TcpTimestamp> ts, ConstBytes payload,
                           Nanos now);

    void reset_stale_connection(Session& s, const net::TcpHdr& th, Nanos now);
    bool take_target_ack(Session& s, const net::TcpHdr& th, std::uint16_t len, Nanos now);
    void take_target_data(Session& s, Seq seq, ConstBytes payload, Nanos now);
    void close_when_both_fins_acked(Session& s, bool need_ack, Nanos now);
    void fast_retransmit(Session& s, Nanos now);

    void do_reset(Session& s, Nanos now);

    // ---------------------------------------------------------------- timers
    void on_timer(std::uint32_t id, Nanos now);

    void on_rto(Session& s, Nanos now);

    // Close memories (close_memory.hpp): a late captured segment of a session that already
    // closed must not open a mid-stream one; a retransmitted FIN of the target after our FIN
    // exchange is re-acknowledged instead of being reset.
    void remember_closed(const Session& s, Nanos now);
    bool recently_closed(const net::FlowKey& orig, bool v6, Seq seq, Nanos now) const;
    void remember_time_wait(const Session& s, Nanos now);
    bool time_wait_ack(ConstBytes frame, const net::FlowKey& xk, std::uint64_t h, const net::PacketView& v, const net::TcpHdr& th,
                       Nanos now);

    EngineConfig cfg_;
    FrameSink& sink_;
    // The captured frame being processed: its time in the capture (a file's timestamp, or
    // `now` live). Only the online server's latency is measured on it (Piece::request_time,
    // CaptureSide::online_last_data); timers run on `now`.
    Nanos capture_clock_ = 0;
    ExchangeObserver* observer_ = nullptr;
    ExchangeObserver::SlotMemory observer_slots_;  // prefetched with a session's lines
    Counters ctr_;
    BigArray<Session> sessions_;
    std::vector<std::uint32_t> free_ids_;
    FlatIndex by_orig_;
    FlatIndex by_xlat_;
    TimerWheel wheel_;
    PiecePool pieces_;
    BlockPool blocks_;
    bool segmented_ = false;
    bool share_blocks_ = false;  // -n > 1 or a zero-copy sink: refcounted blocks, else private ones
    CaptureQueue queue_;         // over pieces_ and blocks_
    static constexpr std::size_t kMaxSlices = 64;
    std::array<PayloadSlice, kMaxSlices> slices_{};
    std::array<ConstBytes, kMaxSlices> slice_bytes_{};  // slices_' bytes, for build_tcp_headers
    ShedFlows shed_;             // live admission control: flows shed whole (overload.hpp)
    RecentlyClosed recently_closed_;
    TimeWaitTable time_wait_;
    TupleAllocator tuples_;
    // IPv6 (ipv6_keys.hpp): per session slot, the full addresses of its IPv6 tuples (empty
    // unless a -x entry is IPv6 on either side); the IPv6 targets' tuples; which families each
    // direction parses; the -x entries matching each captured family.
    BigArray<SessionAddrs6> addrs6_;
    TupleAllocator tuples6_;
    net::IpFamilies captured_families_ = net::IpFamilies::ipv4;
    net::IpFamilies target_families_ = net::IpFamilies::ipv4;
    std::vector<TransferMap> transfers4_, transfers6_;
    net::L2Spec l2_;
    QuietPolicy quiet_policy_;
    std::vector<std::uint8_t> tx_frame_;
    MysqlLogins logins_;
    std::array<std::uint8_t, 8192> login_copy_{};  // a session's login, rewritten before it goes
    std::size_t active_ = 0;
    Nanos request_delay_ = 0;  // request_delay()
    std::uint32_t rst_tokens_ = kUnknownRstBurst;  // take_unknown_rst_token()
    Nanos rst_refill_at_ = 0;
    Nanos observed_clock_ = 0;  // advance_observed_clock()
    Nanos last_call_ = 0;       // engine clock of the latest call
    std::uint16_t max_payload_ = 1460;
    std::uint16_t fabricated_mss_ = 1460;
    std::uint16_t max_payload6_ = 1440;
    std::uint16_t fabricated_mss6_ = 1440;
};

}  // namespace
}  // namespace dpcopy::session::detail
