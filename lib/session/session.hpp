// Per-session state of the engine (one per (original 4-tuple, replica)). Kept within
// 256 bytes; queued captured data lives in the worker's PiecePool, timer links in the
// TimerWheel, index entries in the FlatIndex tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/rewrite/types.hpp"
#include "lib/session/capture_queue.hpp"

namespace dpcopy::session {

using net::Seq;

// The session's connection to the target. Each state is entered by one transition of the
// engine (engine_impl.hpp, "state transitions": do_syn_sent, do_mid_stream_syn_sent,
// do_established, do_fin_received, do_fin_sent, do_detached, do_closed).
enum class State : std::uint8_t {
    free = 0,
    syn_sent,             // our SYN (the client's captured one, or a reconnect's) is out, waiting for the SYN-ACK
    mid_stream_syn_sent,  // our fabricated SYN for a session captured mid-stream is out, waiting for the
                          // SYN-ACK; an earlier captured segment may still move the stream's start (rebase)
    established,          // connected to the target
    close_wait,           // connected, the target's FIN received (we may still send)
    fin_wait,             // our FIN is out: waiting for its ACK and the target's FIN
    closing,              // both FINs are out: waiting for our FIN's ACK
    detached,             // no connection: waiting for a request boundary in the capture to reconnect
};

// The captured client stream's hole, if any (at capture.contiguous_end).
enum class CaptureGap : std::uint8_t {
    none = 0,  // contiguous up to the queue's end
    open,      // a hole, waiting to be filled until deadlines.gap_at
    expired,   // a hole not filled in time (or no more input will come): resync may skip it
};

// Independent facts about a session (its states are State and CaptureGap).
namespace sflag {
inline constexpr std::uint16_t client_syn = 1u << 0;         // the client's SYN was captured
inline constexpr std::uint16_t syn_window_scale = 1u << 1;   // our SYN carried window scale
inline constexpr std::uint16_t syn_timestamps = 1u << 2;     // our SYN carried timestamps
inline constexpr std::uint16_t timestamps = 1u << 3;         // timestamps negotiated with the target
inline constexpr std::uint16_t online_base_known = 1u << 4;  // capture.online_base is set
inline constexpr std::uint16_t client_rst = 1u << 5;         // the client's RST was captured
inline constexpr std::uint16_t client_fin = 1u << 6;         // the client's FIN was captured (queued)
inline constexpr std::uint16_t input_done = 1u << 7;         // no more captured frames will come
inline constexpr std::uint16_t superseded = 1u << 8;         // chain detached from the original-key index
inline constexpr std::uint16_t rtt_timing = 1u << 9;         // an RTT sample is being timed (target.rtt_seq, deadlines.rtt_start)
inline constexpr std::uint16_t online_fin = 1u << 10;        // the online server's FIN was captured
inline constexpr std::uint16_t exchange_open = 1u << 11;     // an exchange record is open (Session::exchange)
inline constexpr std::uint16_t request_held = 1u << 12;      // the next request is held by pacing (counted)
inline constexpr std::uint16_t window_blocked = 1u << 13;    // counted window block (until progress)
inline constexpr std::uint16_t hole_skipped = 1u << 14;      // resync already skipped a capture hole
inline constexpr std::uint16_t online_data_seen = 1u << 15;  // capture.online_data_ack/online_data_seq are set
}  // namespace sflag

// Who the session is: the captured connection it copies, its replica, its tuple toward the target.
struct SessionIdentity {
    net::FlowKey original{};    // captured client -> online server
    net::FlowKey translated{};  // fake client -> target (what we send)
    std::uint32_t tuple = 0xffffffffu;  // TupleAllocator index of translated's client side
    std::uint32_t next_replica = 0xffffffffu, prev_replica = 0xffffffffu;  // replicas of one original
    std::uint16_t replica = 0;
    // family:: bits (ipv6_keys.hpp): an IPv6 tuple's addresses are fold6() values, the full
    // ones are in the engine's SessionAddrs6 of this slot. Fits the struct's padding.
    std::uint8_t family = 0;
};

// The captured client stream and the online server's stream.
struct CaptureSide {
    Seq contiguous_end;        // end of the contiguous captured client stream (incl. its FIN)
    Seq online_base;           // online server's first data byte (need = ack - online_base)
    Seq online_end;            // online server's data end seen in the capture
    Seq online_data_ack;       // ack field of the online server's latest captured data (client bytes it had)
    Seq online_data_seq;       // first online server data byte sent with that ack
    std::uint32_t rtt_us = 0;  // captured RTT (online SYN-ACK -> client ACK)
    std::uint64_t synack_time = 0;       // capture time of the online SYN-ACK (0 once rtt_us is measured)
    std::uint64_t online_last_data = 0;  // capture time of the online server's last data
};

// The connection to the target: sequence space, window, timestamps, RTT/RTO, our SYN's options.
struct TargetSide {
    Seq isn;  // our ISN on this connection: the client's captured ISN, or one before the first byte we send
    Seq snd_una, snd_nxt, snd_max;
    Seq rcv_nxt;
    std::uint32_t window = 0;          // target's receive window, scaled
    std::uint32_t received_bytes = 0;  // target response bytes received on this connection
    std::uint32_t released_need = 0;   // highest need_of() released on this connection
    std::uint32_t ts_recent = 0;       // target's last TSval (we echo it)
    std::uint32_t ts_offset = 0;       // our TSval = now_ms + ts_offset
    std::uint32_t srtt_us = 0, rttvar_us = 0, rto_us = 0;
    Seq rtt_seq;                       // the byte whose ACK ends the RTT sample being timed
    std::uint16_t syn_mss = 0;         // our SYN's MSS: the captured SYN's (0: none)
    std::uint16_t mss = 536;           // payload bytes per segment toward the target
    std::uint16_t ip_id = 0;           // IP id of our next frame
    std::uint8_t window_scale = 0;     // the target's
    std::uint8_t syn_window_scale = 0; // our SYN's: the captured SYN's
    std::uint8_t dupacks = 0;
    std::uint8_t syn_retries = 0;
    std::uint8_t backoff = 0;          // RTO backoff exponent
};

// The exchange record in progress: the latest request released, and the answers to it.
struct ExchangeInProgress {
    std::uint64_t request_time = 0;      // capture time of the request's first segment
    std::uint64_t sent_time = 0;         // when we sent its first byte
    std::uint64_t target_last_data = 0;  // when the target's latest in-order data came
    std::uint32_t request_bytes = 0;
    std::uint32_t online_received = 0;   // need_of() the request: online bytes the client had
    std::uint32_t target_bytes_at_release = 0;  // target.received_bytes when the request went
    // The online answer bytes still missing from the target when the latest request went as a
    // guess (released after a quiet time): the target's next bytes complete that answer before
    // they count as an answer to the latest request (engine_impl.hpp target_answer()).
    std::uint32_t answer_owed = 0;
};

// The session's deadlines (0: off; the timer wheel holds the earliest, schedule_deadline())
// and the times they count from.
struct Deadlines {
    std::uint64_t last_activity = 0;  // the idle timeout counts from here
    std::uint64_t rto_at = 0;         // retransmission / persist timer
    std::uint64_t wait_at = 0;        // pacing quiet / close linger
    std::uint64_t gap_at = 0;         // capture gap (CaptureGap::open until then)
    std::uint64_t quiet_from = 0;     // last progress from the target (observed clock, engine_impl.hpp advance_observed_clock())
    std::uint64_t rtt_start = 0;      // when the segment of the RTT sample being timed went
};

// Per session, 256 bytes at most. The first 64 bytes hold what a frame's lookup and
// dispatch touch: identity (index compares), state, flags, the queue's ends.
struct Session {
    SessionIdentity identity;
    State state = State::free;
    CaptureGap capture_gap = CaptureGap::none;
    std::uint16_t flags = 0;  // sflag::
    PieceList queue;          // queued captured client data (capture_queue.hpp)
    TargetSide target;
    CaptureSide capture;
    ExchangeInProgress exchange;
    Deadlines deadlines;
};

static_assert(sizeof(Session) <= 256, "per-session state must stay within 256 bytes");
static_assert(offsetof(Session, queue) + sizeof(PieceList) <= 64, "lookup and dispatch fields in the first line");

}  // namespace dpcopy::session
