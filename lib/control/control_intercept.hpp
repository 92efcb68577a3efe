// dpintercept's logic, without DPDK: subscriptions (SUBSCRIBE/heartbeat/UNSUBSCRIBE,
// expiry), routing each captured response to the subscription that owns its fake
// client, batching records per subscription (flush on size or after flush_ns), and
// building the RECORDS UDP frames. Frames in as spans, frames out through a FrameSink,
// time passed in (ns since the Unix epoch: the protocol's timestamps).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "lib/control/control_codec.hpp"
#include "lib/counters/counter_set.hpp"
#include "lib/dpdk_io/host_stack.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io {

struct InterceptConfig {
    net::MacAddr mac;
    net::Ipv4Addr ip;
    net::Port control_port{control::kDefaultPort};
    AddressSet allow;                        // empty: any source (only with a key)
    std::optional<control::Key> key;
    std::uint32_t payload_bytes = 0;
    std::uint64_t flush_ns = 1'000'000;      // a batch waits at most this long
    std::uint64_t max_skew_ns = control::kDefaultMaxSkewNs;
    std::uint64_t epoch = 0;                 // our start time (ns since the Unix epoch)
    std::size_t max_subscriptions = 256;
    std::size_t max_per_source = 8;          // subscriptions per source IP address
    std::size_t max_senders = 1024;          // replay state kept per (instance, sender epoch)
};

// X(name, description); the names are the fields of the report's "intercept" object.
#define DPCOPY_INTERCEPT_COUNTERS(X)                                                                  \
    X(control_rx, "datagrams to our control port")                                                    \
    X(control_not_allowed, "control datagrams from a source outside --allow")                          \
    X(control_wrong_direction, "RECORDS datagrams sent to us")                                         \
    X(subscribes, "accepted SUBSCRIBE/heartbeats")                                                     \
    X(subscriptions_new, "subscriptions taken")                                                        \
    X(subscriptions_expired, "subscriptions expired (no heartbeat)")                                   \
    X(unsubscribes, "accepted UNSUBSCRIBEs")                                                           \
    X(subscriptions_full, "new subscriptions refused: table full")                                     \
    X(subscriptions_source_full, "new subscriptions refused: max_per_source from that address")        \
    X(responses, "captured TCP responses offered (after -F)")                                          \
    X(no_subscriber, "captured TCP responses that no subscription claimed")                            \
    X(records, "records queued")                                                                       \
    X(payload_cut, "records whose payload was cut to fit a datagram")                                  \
    X(datagrams, "RECORDS datagrams sent")                                                             \
    X(flush_size, "batches sent: datagram full")                                                       \
    X(flush_time, "batches sent: flush_ns elapsed")                                                    \
    X(flush_idle, "batches sent: no more input waiting")                                               \
    X(flush_final, "batches sent at exit")                                                             \
    X(drop_build, "frames that could not be built (never expected)")

DPCOPY_DEFINE_COUNTERS(InterceptCounter, intercept_counter_count, intercept_counter_names,
                       intercept_counter_descriptions, DPCOPY_INTERCEPT_COUNTERS)

struct InterceptCounters : counters::CounterSet<InterceptCounter, intercept_counter_count> {
    control::RejectCounters rejects;         // control datagrams dropped, by reason
};

class InterceptCore {
public:
    explicit InterceptCore(InterceptConfig cfg);

    // A UDP datagram to our ip:control_port (the caller checked that with `v`).
    void on_control(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now, session::FrameSink& out);
    // A TCP response that passed -F. Returns true when a subscription took it.
    bool on_response(net::ConstBytes frame, const net::PacketView& v, std::uint64_t now, session::FrameSink& out);
    // Flushes batches older than flush_ns, or every batch when `input_drained` (the caller's
    // poll found no more input waiting: holding the records would only delay dpcopy, its
    // next request and its latency figures; under a steady input they go in full batches);
    // expires subscriptions.
    void poll(std::uint64_t now, session::FrameSink& out, bool input_drained = false);
    // Sends every pending batch (at exit).
    void flush_all(std::uint64_t now, session::FrameSink& out);

    std::size_t subscriptions() const noexcept;
    const InterceptCounters& counters() const noexcept { return ctr_; }
    const InterceptConfig& config() const noexcept { return cfg_; }

private:
    struct Sub {
        bool used = false;
        net::Ipv4Addr ip;
        net::Port port;
        std::uint16_t instance = 0;
        std::uint64_t peer_epoch = 0;        // the subscriber's epoch (its start time)
        net::MacAddr mac;                    // next hop: the SUBSCRIBE frame's source MAC
        control::Subscribe sub;
        std::uint64_t expires = 0;
        std::uint64_t epoch = 0;             // the epoch of our RECORDS stream toward it
        std::uint64_t seq = 0;               // our RECORDS sequence toward it
        std::uint64_t first_record = 0;      // time of the oldest record in the batch
        control::RecordsBuilder builder;
        std::array<std::uint8_t, control::kMaxDatagram> buf{};
    };
    Sub* find(net::Ipv4Addr ip, net::Port port, std::uint16_t instance) noexcept;
    Sub* allocate() noexcept;
    std::size_t from_source(net::Ipv4Addr ip) const noexcept;
    // Checks what a SUBSCRIBE/UNSUBSCRIBE may do before any state changes; Reject::none when it may.
    control::Reject admit(const control::Datagram& d, const net::PacketView& v, Sub* s, std::uint64_t now) noexcept;
    void subscribe(const control::Datagram& d, net::ConstBytes frame, const net::PacketView& v, Sub* s,
                   std::uint64_t now, session::FrameSink& out);
    void flush(Sub& s, std::uint64_t now, session::FrameSink& out);

    InterceptConfig cfg_;
    const control::Key* key_ = nullptr;
    std::vector<std::unique_ptr<Sub>> subs_;
    // Replay state per (instance, sender epoch): outlives UNSUBSCRIBE and expiry by 2 x the
    // skew limit, so neither lets a captured SUBSCRIBE in again (docs/control-protocol.md).
    control::SenderReplay replay_;
    InterceptCounters ctr_;
    // Each new subscription is a new RECORDS stream with a new, larger epoch: the first is
    // cfg_.epoch (our start time), the next ones +1, +2, ... so a subscriber whose
    // subscription expired and was taken again starts a fresh replay window rather than
    // seeing sequences from 1 under an epoch it already follows (all "replayed").
    std::uint64_t next_epoch_ = 0;
    std::array<std::uint8_t, 2048> frame_{};
    std::array<std::uint8_t, control::kMaxDatagram> rec_{};
};

}  // namespace dpcopy::io
