// A small but real TCP server model standing in for the test server.
//
// It consumes the frames the engine emits (checking MACs, IPv4 and TCP checksums,
// MTU, MSS and receive-window discipline; every violation is recorded as a failure)
// and answers with its own ISN, window (with scaling, small windows, a zero window
// for a while), MSS, response delays and response sizes. Its TCP: handshake, in-order
// delivery, out-of-order buffering or dropping, cumulative and duplicate ACKs, delayed
// ACKs, retransmission of its own data on timeout with backoff, zero-window probing,
// FIN/RST, and a TIME_WAIT memory of ended connections (a SYN reusing a remembered
// 4-tuple with a not-higher sequence number is a collision, a failure).
//
// Its application parses requests by their length header (conversation.hpp), records
// every byte it receives per connection, and answers each complete request after a
// delay with a response whose size it picks itself. Faults it can inject by itself:
// an RST or a FIN (server-side close) right after a complete request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/types.hpp"
#include "tests/session/sim/conversation.hpp"

namespace dpcopy::sim {

struct ModelParams {
    net::Ipv4Addr ip = net::Ipv4Addr::from_octets(172, 16, 0, 2);
    net::Port port{8080};
    net::MacAddr mac = mac_of(0x7a000002u);       // our MAC (engine's next hop)
    net::MacAddr peer_mac = mac_of(0x7a000001u);  // the engine's MAC
    std::uint32_t mtu = 1500;                     // largest IP packet accepted
    std::uint16_t mss_min = 1460, mss_max = 1460; // advertised MSS, picked per connection
    std::uint32_t rcvbuf_min = 65535, rcvbuf_max = 65535;  // receive buffer, per connection
    std::uint8_t wscale_max = 7;                  // our window scale (when the peer offers one), per connection
    double ooo_buffer = 1.0;                      // probability that a connection buffers out-of-order data
    double zero_window = 0;                       // per request: the app stops reading for a while
    Nanos zero_window_time = 300 * kMsec;
    Nanos resp_delay_min = 0, resp_delay_max = 2 * kMsec;
    // Response size for (sid, idx, request length); default: random 0..4000.
    std::function<std::uint32_t(std::uint32_t sid, std::uint32_t idx, std::uint32_t len, Rng& rng)> response_size;
    // Response content: appends exactly `size` bytes for request (sid, idx); default: letters.
    std::function<void(std::uint32_t sid, std::uint32_t idx, std::uint32_t size, std::vector<std::uint8_t>& out)>
        response_content;
    // More delay before answering request (sid, idx); default none.
    std::function<Nanos(std::uint32_t sid, std::uint32_t idx)> extra_delay;
    std::uint32_t greeting_bytes = 0;             // server-first: greeting sent on accept
    double rst_after_request = 0;                 // per complete request: abort with RST (no response)
    double fin_after_request = 0;                 // per complete request: answer, then close (server-side FIN)
    Nanos delack = 40 * kMsec;
    Nanos rto_min = 200 * kMsec;
    std::uint32_t max_retries = 12;
    Nanos time_wait = 60 * kSecond;
    bool check_mss = true;                        // a segment larger than our advertised MSS is a failure
    // A client FIN that arrives while a response is still owed (pending, or not acknowledged by
    // the FIN's ack) or a request is unread is a failure: nginx then aborts the response it is
    // writing and drops pipelined requests. Only valid when our responses are the online ones'
    // size (a captured client sends its FIN after the last response).
    bool strict_close = false;
    std::uint32_t cwnd_bytes = 0;                 // > 0: a fixed congestion window (ack-clocked sending), bytes
};

enum class ConnEnd : std::uint8_t { open, fin, rst_in, rst_out, aborted, syn_timeout };
const char* to_string(ConnEnd e) noexcept;

// What the application saw on one connection.
struct ConnRecord {
    std::uint64_t id = 0;
    net::FlowKey tuple{};           // client -> us
    std::uint32_t irs = 0;          // client's ISN
    Nanos opened = 0, ended_at = 0;
    ConnEnd end = ConnEnd::open;
    bool established = false;
    bool fault_injected = false;    // we reset or closed it ourselves mid-session
    bool got_fin = false;           // the client's FIN arrived in order
    std::vector<std::uint8_t> data; // in-order bytes delivered to the application
    std::uint32_t requests = 0;     // complete requests parsed
    std::uint64_t response_bytes = 0;
};

class ModelTarget {
public:
    using Out = std::function<void(std::vector<std::uint8_t>&& frame)>;
    ModelTarget(ModelParams p, std::uint64_t seed, Out out);
    ~ModelTarget();

    void on_frame(net::ConstBytes frame, Nanos now);
    void advance(Nanos now);
    // Earliest pending timer, or UINT64_MAX.
    Nanos next_timer() const;

    std::size_t live_connections() const;  // not yet ended (SYN_RCVD .. LAST_ACK)
    const std::vector<ConnRecord>& records() const { return records_; }
    const std::vector<std::string>& failures() const { return failures_; }
    std::uint64_t collisions() const { return collisions_; }
    std::uint64_t frames_in() const { return frames_in_; }
    std::uint64_t stray_segments() const { return stray_; }
    std::uint64_t beyond_window() const { return beyond_window_; }
    std::uint64_t paws_drops() const { return paws_drops_; }
    // Describes connections still open.
    std::vector<std::string> open_connections() const;

private:
    struct Conn;
    void fail(std::string msg);
    void send(Conn& c, std::uint8_t flags, std::uint32_t seq, std::uint32_t len, Nanos now);
    void send_rst(const net::FlowKey& to_client, std::uint32_t seq, std::uint32_t ack, bool with_ack);
    void output(Conn& c, Nanos now);
    void ack_now(Conn& c, Nanos now);
    void app_read(Conn& c, Nanos now);
    void end(Conn& c, ConnEnd how, Nanos now);
    std::uint32_t rcv_wnd(const Conn& c) const;
    void segment(Conn& c, const net::TcpHdr& th, const net::TcpOptions& opts, net::ConstBytes payload, Nanos now);

    ModelParams p_;
    Rng rng_;
    Out out_;
    std::unordered_map<net::FlowKey, std::unique_ptr<Conn>> conns_;
    struct Remembered { Nanos until; std::uint32_t rcv_nxt; };
    std::unordered_map<net::FlowKey, Remembered> time_wait_;
    std::vector<ConnRecord> records_;
    std::vector<std::string> failures_;
    std::uint64_t collisions_ = 0, frames_in_ = 0, stray_ = 0, beyond_window_ = 0, paws_drops_ = 0;
    std::uint64_t next_id_ = 0;
    std::uint16_t ip_id_ = 1;
    std::uint32_t clock_base_;
    Nanos now_ = 0;
};

}  // namespace dpcopy::sim
