// Conversation generator for the session simulation tests.
//
// Synthesizes what a mirror port next to the ONLINE server would capture for a set
// of scripted TCP sessions (both directions, Ethernet/IPv4/TCP with realistic options
// and correct checksums), and returns, per session, the exact client byte stream the
// target must receive.
//
// Request format (so the target model's application finds request boundaries the way
// a real server does, and so misordering or corruption is detected byte for byte):
//   [0..4)  total request length in bytes, big endian (>= kReqHeader)
//   [4..8)  session id (sid), big endian
//   [8..12) request index within the session, big endian
//   [12..)  request_byte(sid, idx, j) for j = 12.. (deterministic pseudo-random)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::sim {

using Nanos = std::uint64_t;
inline constexpr Nanos kUs = 1'000;
inline constexpr Nanos kMsec = 1'000'000;
inline constexpr Nanos kSecond = 1'000'000'000;

// Small deterministic PRNG (splitmix64): identical streams on every platform.
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(next() >> 32); }
    // Uniform in [lo, hi] (inclusive).
    std::uint64_t range(std::uint64_t lo, std::uint64_t hi) noexcept {
        if (hi <= lo) return lo;
        return lo + next() % (hi - lo + 1);
    }
    bool chance(double p) noexcept {
        if (p <= 0) return false;
        if (p >= 1) return true;
        return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0) < p;
    }
};

inline constexpr std::uint32_t kReqHeader = 12;

std::uint8_t request_byte(std::uint32_t sid, std::uint32_t idx, std::uint32_t j) noexcept;
// Appends a complete request (header + payload) of `len` bytes (len >= kReqHeader).
void append_request(std::vector<std::uint8_t>& out, std::uint32_t sid, std::uint32_t idx, std::uint32_t len);

struct Exchange {
    std::uint32_t request_bytes = 100;   // whole request, header included (>= kReqHeader)
    std::uint32_t response_bytes = 200;  // the ONLINE server's response (0: none)
    Nanos think = 1 * kMsec;             // client think time before this request (after the previous response)
    Nanos rtt = 1 * kMsec;               // capture point <-> client round trip
    Nanos server_time = 200 * kUs;       // online server's processing time
    std::uint16_t http_status = 0;       // > 0: the online response is an HTTP/1.1 response of this status
};

// Appends an HTTP/1.1 response of status `status` that is exactly `size` bytes long (at
// least http_response_min_size()): status line, Content-Length, filler body.
void append_http_response(std::vector<std::uint8_t>& out, std::uint16_t status, std::uint32_t size);
inline constexpr std::uint32_t kHttpResponseMinSize = 48;

enum class CloseKind : std::uint8_t { fin, rst, none };

struct SessionScript {
    net::Ipv4Addr client_ip = net::Ipv4Addr::from_octets(10, 1, 0, 1);
    net::Port client_port{40000};
    net::Ipv4Addr server_ip = net::Ipv4Addr::from_octets(192, 168, 10, 10);
    net::Port server_port{80};
    Nanos start = 0;
    std::vector<Exchange> exchanges;
    std::uint32_t pipeline = 1;         // requests sent back to back before waiting for the responses
    std::uint32_t greeting_bytes = 0;   // server-first protocol: server greeting before the first request
    std::uint32_t client_mss = 1460;    // client segment size on the wire
    std::uint32_t server_mss = 1460;
    std::uint32_t gro_bytes = 0;        // > 0: client data captured in segments of up to this many bytes (GRO)
    std::uint32_t window_segments = 44; // segments in flight per RTT (uploads/downloads are window-limited)
    std::uint32_t mid_stream_from = 0;  // > 0: the capture starts just before request #k (no handshake seen)
    CloseKind close = CloseKind::fin;
    // Capture defects, as probabilities per client data segment (never on the SYN or FIN).
    double loss = 0;       // lost by the mirror: a permanent gap in the captured client stream
    double dup = 0;        // captured twice
    double retrans = 0;    // the client retransmitted it (spurious): captured again later
    double late = 0;       // lost before the server and retransmitted: captured late, after later segments
    std::uint64_t seed = 1;
};

struct ExpectedSession {
    std::uint32_t sid = 0;
    net::FlowKey original{};               // client -> online server
    Nanos start = 0;
    std::vector<std::uint8_t> stream;      // the client bytes the target must receive (from first_idx on)
    std::uint32_t first_idx = 0;           // index of the request at stream[0]
    std::vector<std::uint32_t> req_offset; // offset in `stream` of request first_idx + i
    std::vector<std::uint32_t> req_len;
    std::vector<bool> may_lose;            // request first_idx + i may be lost (capture gap before the next detectable boundary)
    // Request first_idx + i starts where the engine can see a request boundary: its first
    // segment acknowledges online server data that the previous client segment did not.
    std::vector<bool> boundary;
    bool has_gap = false;                  // the captured client stream has a permanent gap
    bool captured = true;                  // at least one client frame of the session is in the capture
    CloseKind close = CloseKind::fin;
    std::uint32_t greeting_bytes = 0;

    std::size_t requests() const noexcept { return req_offset.size(); }
    // Request (relative index) containing stream offset `off`, or requests() if past the end.
    std::size_t request_at(std::uint64_t off) const noexcept;
};

struct CapFrame {
    Nanos t = 0;
    std::vector<std::uint8_t> bytes;
};

struct Capture {
    std::vector<CapFrame> frames;          // sorted by t
    std::vector<ExpectedSession> sessions; // sessions[i] for scripts[i]; sid = sid_base + i
};

net::MacAddr mac_of(std::uint32_t n);

// Generates the capture for `scripts`. Session ids are sid_base + index.
Capture generate(const std::vector<SessionScript>& scripts, std::uint32_t sid_base = 1);

// Convenience: a script with `n` keep-alive exchanges of the given sizes.
SessionScript simple_session(std::uint32_t n, std::uint32_t req, std::uint32_t resp, Nanos start,
                             std::uint32_t client_host, std::uint16_t client_port);

}  // namespace dpcopy::sim
