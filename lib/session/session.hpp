// Per-session state of the engine (one per (original 4-tuple, replica)). Kept within
// 256 bytes; queued captured data lives in the worker's PiecePool, timer links in the
// TimerWheel, index entries in the FlatIndex tables.
#pragma once

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

// The captured client stream's hole, if any (at captured_contig_end).
enum class CaptureGap : std::uint8_t {
    none = 0,  // contiguous up to the queue's end
    open,      // a hole, waiting to be filled until gap_at
    expired,   // a hole not filled in time (or no more input will come): resync may skip it
};

// Independent facts about a session (its states are State and CaptureGap).
namespace sflag {
inline constexpr std::uint16_t cap_syn = 1u << 0;        // the client's SYN was captured
inline constexpr std::uint16_t syn_ws = 1u << 1;         // our SYN carried window scale
inline constexpr std::uint16_t syn_ts = 1u << 2;         // our SYN carried timestamps
inline constexpr std::uint16_t ts_on = 1u << 3;          // timestamps negotiated with the target
inline constexpr std::uint16_t base_known = 1u << 4;     // online_base is set
inline constexpr std::uint16_t cap_rst = 1u << 5;        // the client's RST was captured
inline constexpr std::uint16_t cap_fin = 1u << 6;        // the client's FIN was captured (queued)
inline constexpr std::uint16_t input_done = 1u << 7;     // no more captured frames will come
inline constexpr std::uint16_t superseded = 1u << 8;     // chain detached from the original-key index
inline constexpr std::uint16_t rtt_timing = 1u << 9;     // an RTT sample is being timed (rtt_seq/rtt_time)
inline constexpr std::uint16_t srv_fin = 1u << 10;       // the online server's FIN was captured
inline constexpr std::uint16_t exchange = 1u << 11;      // an exchange record is open
inline constexpr std::uint16_t held = 1u << 12;          // the next request is held by pacing (counted)
inline constexpr std::uint16_t win_blocked = 1u << 13;   // counted window block (until progress)
inline constexpr std::uint16_t resync_jumped = 1u << 14; // resync already skipped a capture hole
inline constexpr std::uint16_t srv_data_seen = 1u << 15; // srv_data_ack/srv_data_seq are set
}  // namespace sflag

struct Session {
    // identity
    net::FlowKey orig{};   // captured client -> online server
    net::FlowKey xlat{};   // fake client -> target (what we send)
    std::uint32_t tuple = 0xffffffffu;
    std::uint32_t next_rep = 0xffffffffu, prev_rep = 0xffffffffu;  // replicas of one original
    std::uint16_t replica = 0;
    State state = State::free;
    CaptureGap capture_gap = CaptureGap::none;
    std::uint16_t flags = 0;  // sflag::
    std::uint8_t dupacks = 0;
    PieceList queue;  // queued captured client data (capture_queue.hpp)
    std::uint16_t ip_id = 0;
    std::uint8_t tgt_wscale = 0;
    std::uint8_t syn_wscale = 0;
    std::uint8_t syn_retries = 0;
    std::uint8_t backoff = 0;
    // captured client stream / online server stream
    Seq isn;          // client ISN of the current connection (captured or fabricated)
    Seq captured_contig_end;      // end of the contiguous captured client stream
    Seq online_base;  // online server's first data byte (need = ack - online_base)
    Seq online_end;   // online server's data end seen in the capture
    Seq srv_data_ack; // ack field of the online server's latest captured data (client bytes it had)
    Seq srv_data_seq; // first online server data byte sent with that ack
    // toward the target
    Seq snd_una, snd_nxt, snd_max;
    Seq rcv_nxt;
    std::uint32_t tgt_wnd = 0;     // target's receive window, scaled
    std::uint32_t tgt_bytes = 0;   // target response bytes received on this connection
    std::uint32_t released_need = 0;  // highest need_of() released on this connection
    std::uint32_t ts_recent = 0;   // target's last TSval (we echo it)
    std::uint32_t ts_off = 0;      // our TSval = now_ms + ts_off
    std::uint16_t syn_mss = 0;     // captured SYN's MSS (0: none)
    std::uint16_t snd_mss = 536;   // payload bytes per segment toward the target
    std::uint32_t srtt_us = 0, rttvar_us = 0, rto_us = 0;
    Seq rtt_seq;
    std::uint32_t cap_rtt_us = 0;  // captured RTT (SYN-ACK -> client ACK)
    std::uint64_t rtt_time = 0;
    std::uint64_t last_activity = 0;
    std::uint64_t rto_at = 0;      // retransmission / persist timer (0: off)
    std::uint64_t wait_at = 0;     // pacing quiet / close linger (0: off)
    std::uint64_t gap_at = 0;      // capture gap deadline (0: off)
    std::uint64_t quiet_ref = 0;   // last progress from the target (observed clock, engine_impl.hpp advance_observed_clock())
    std::uint64_t cap_mark = 0;    // capture time of the online SYN-ACK (0 once cap_rtt_us is measured)
    // exchange record in progress
    std::uint64_t ex_start = 0;    // capture time of the request's first segment
    std::uint64_t ex_sent = 0;     // when we sent its first byte
    std::uint64_t last_tgt_data = 0;
    std::uint64_t online_last = 0; // capture time of the online server's last data
    std::uint32_t ex_req_bytes = 0;
    std::uint32_t ex_online_received = 0;          // need_of() the request: online bytes the client had
    std::uint32_t ex_target_bytes_at_release = 0;  // tgt_bytes when the request went
    // The online answer bytes still missing from the target when the latest request went as a
    // guess (released after a quiet time): the target's next bytes complete that answer before
    // they count as an answer to the latest request (engine_impl.hpp target_answer()).
    std::uint32_t answer_owed = 0;
};

static_assert(sizeof(Session) <= 256, "per-session state must stay within 256 bytes");

}  // namespace dpcopy::session
