// fuzz_engine's configuration (small tables so they fill) and the invariants it checks after
// every event; see fuzz_engine.cpp.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"
#include "lib/session/engine.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace dpcopy_fuzz {

using namespace dpcopy;
using namespace dpcopy::session;
using net::FlowKey;

inline const Ipv4Addr kClients[2] = {Ipv4Addr::from_octets(10, 0, 0, 1), Ipv4Addr::from_octets(10, 0, 0, 2)};
inline const Ipv4Addr kOnline[2] = {Ipv4Addr::from_octets(192, 168, 1, 10), Ipv4Addr::from_octets(192, 168, 1, 11)};
inline const Port kOnlinePorts[2] = {Port(80), Port(3306)};
inline const Ipv4Addr kTargets[2] = {Ipv4Addr::from_octets(192, 168, 2, 20), Ipv4Addr::from_octets(192, 168, 2, 21)};
inline const Port kTargetPorts[2] = {Port(8080), Port(3306)};
inline const Ipv4Addr kFakes[2] = {Ipv4Addr::from_octets(10, 9, 0, 1), Ipv4Addr::from_octets(10, 9, 0, 2)};
inline const MacAddr kLocalMac{{2, 0, 0, 0, 0, 1}};
inline const MacAddr kNextHopMac{{2, 0, 0, 0, 0, 2}};

struct Setup {
    EngineConfig cfg;
    bool segmented = false;
};

// Byte 0 of the input: bits 0-1 -n 1..3, 2 -W, 3 -O, 4 segmented sink, 5 one VLAN tag,
// 6 -r 50, 7 keep the original client addresses (no -c).
inline Setup make_setup(std::uint8_t c0) {
    Setup s;
    EngineConfig& c = s.cfg;
    c.transfers.push_back(TransferMap{std::nullopt, kOnlinePorts[0], kTargets[0], kTargetPorts[0]});
    c.transfers.push_back(TransferMap{kOnline[1], kOnlinePorts[1], kTargets[1], kTargetPorts[1]});
    if ((c0 & 0x80) == 0) c.clients = {kFakes[0], kFakes[1]};
    c.multiply = 1 + (c0 & 3) % 3;
    c.no_wait = (c0 & 4) != 0;
    c.full_sessions_only = (c0 & 8) != 0;
    s.segmented = (c0 & 16) != 0;
    if (c0 & 32) {
        c.vlan_count = 1;
        c.vlans[0] = net::VlanTag{net::ethertype::vlan, 100};
    }
    c.percent = (c0 & 64) ? 50.0 : 100.0;
    c.local_mac = kLocalMac;
    c.next_hop_mac = kNextHopMac;
    c.max_sessions = 4;
    c.max_queued_segments = 16;
    c.max_queued_per_session = 6;
    c.max_tuples = 64;
    c.session_timeout = 5 * kSec;
    c.time_wait = 1 * kSec;
    c.close_linger = 1 * kSec;
    c.syn_retries = 2;
    c.max_retransmits = 3;
    c.unanswered_limit = 1 * kSec;
    return s;
}

// Keeps every emitted frame (segmented sends reassembled) until the checker takes them.
struct Sink : FrameSink {
    bool seg = false;
    std::vector<std::vector<std::uint8_t>> frames;
    std::uint64_t total = 0;
    bool segmented() const override { return seg; }
    void emit(ConstBytes f) override {
        frames.emplace_back(f.begin(), f.end());
        ++total;
    }
    void emit_segment(ConstBytes headers, std::span<const PayloadSlice> payload) override {
        std::vector<std::uint8_t> f(headers.begin(), headers.end());
        for (const PayloadSlice& s : payload) {
            FUZZ_CHECK(s.block_data != nullptr && s.block_len <= kPayloadBlockBytes);
            FUZZ_CHECK(s.bytes.data() == s.block_data + s.offset);
            FUZZ_CHECK(std::size_t{s.offset} + s.bytes.size() <= s.block_len);
            f.insert(f.end(), s.bytes.begin(), s.bytes.end());
        }
        frames.push_back(std::move(f));
        ++total;
    }
};

// What the engine sent on one translated tuple (fake client -> target), for the driver.
struct Tuple {
    FlowKey key;          // fake client -> target, as emitted
    std::uint32_t syn_seq = 0;
    std::uint32_t next = 0;  // highest sequence end the engine sent
    bool has_syn = false;
};

struct Checker {
    Setup setup;
    Sink sink;
    Engine* engine = nullptr;
    Counters prev{};
    std::uint64_t captured = 0, target = 0;
    std::set<std::pair<std::uint32_t, std::uint16_t>> junk_sources;  // of raw target frames
    std::set<std::uint32_t> raw_clients;  // sources of raw captured frames (kept without -c)
    std::vector<Tuple> tuples;                                      // most recent first, at most 16

    explicit Checker(const Setup& s) : setup(s) { sink.seg = s.segmented; }

    bool is_target(Ipv4Addr ip, Port port) const {
        for (const auto& t : setup.cfg.transfers)
            if (t.target_ip == ip && t.target_port == port) return true;
        return false;
    }
    bool is_client_src(Ipv4Addr ip) const {
        const auto& fakes = setup.cfg.clients;
        if (!fakes.empty()) return std::find(fakes.begin(), fakes.end(), ip) != fakes.end();
        return ip == kClients[0] || ip == kClients[1] || raw_clients.count(ip.value()) != 0;
    }

    void learn(const FlowKey& k, const net::TcpHdr& h, std::size_t payload) {
        auto it = std::find_if(tuples.begin(), tuples.end(), [&](const Tuple& t) { return t.key == k; });
        if (it == tuples.end()) {
            if (tuples.size() == 16) tuples.pop_back();
            tuples.insert(tuples.begin(), Tuple{k, 0, 0, false});
            it = tuples.begin();
        }
        const bool syn = h.has(net::tcpflag::syn), fin = h.has(net::tcpflag::fin);
        if (syn) it->has_syn = true, it->syn_seq = h.seq.value(), it->next = h.seq.value() + 1;
        const std::uint32_t end = h.seq.value() + static_cast<std::uint32_t>(payload) + (syn ? 1 : 0) + (fin ? 1 : 0);
        if (static_cast<std::int32_t>(end - it->next) > 0) it->next = end;
    }

    void check_frame(const std::vector<std::uint8_t>& fr) {
        const ConstBytes f(fr.data(), fr.size());
        net::PacketView v;
        FUZZ_CHECK(net::parse_frame(f, v) == net::ParseError::ok);
        FUZZ_CHECK(v.l4 == net::L4Kind::tcp);
        FUZZ_CHECK(net::ipv4_checksum_ok(f, v) && net::l4_checksum_ok(f, v));
        FUZZ_CHECK(v.ip_total_len <= setup.cfg.mtu);
        FUZZ_CHECK(std::memcmp(fr.data(), kNextHopMac.b.data(), 6) == 0);
        FUZZ_CHECK(std::memcmp(fr.data() + 6, kLocalMac.b.data(), 6) == 0);
        FUZZ_CHECK(v.vlan_count == setup.cfg.vlan_count);
        if (v.vlan_count == 1) FUZZ_CHECK(v.vlans[0].vid() == setup.cfg.vlans[0].vid());
        const net::TcpHdr h = net::TcpHdr::read(f.subspan(v.l4_off));
        if (junk_sources.count({v.key.dst_ip.value(), v.key.dst_port.value()}) && h.has(net::tcpflag::rst)) return;
        if (!is_target(v.key.dst_ip, v.key.dst_port) || !is_client_src(v.key.src_ip))
            std::fprintf(stderr, "emitted %s:%u -> %s:%u flags 0x%02x seq %u ack %u len %u\n",
                         v.key.src_ip.to_string().c_str(), v.key.src_port.value(), v.key.dst_ip.to_string().c_str(),
                         v.key.dst_port.value(), h.flags, h.seq.value(), h.ack.value(), v.payload_len);
        FUZZ_CHECK(is_target(v.key.dst_ip, v.key.dst_port));
        FUZZ_CHECK(is_client_src(v.key.src_ip));
        learn(v.key, h, v.payload_len);
    }

    void check() {
        const Counters& c = engine->counters();
        for (std::size_t i = 0; i < counter_count; ++i) FUZZ_CHECK(c.v[i] >= prev.v[i]);
        for (std::size_t i = 0; i < net::parse_error_count; ++i)
            FUZZ_CHECK(c.parse_captured[i] >= prev.parse_captured[i] && c.parse_target[i] >= prev.parse_target[i]);
        prev = c;
        FUZZ_CHECK(c[Counter::captured_frames] == captured);
        FUZZ_CHECK(c[Counter::target_frames] == target);
        FUZZ_CHECK(c[Counter::emitted_frames] == sink.total);
        std::uint64_t pc = 0, pt = 0;
        for (std::size_t i = 1; i < net::parse_error_count; ++i) pc += c.parse_captured[i], pt += c.parse_target[i];
        FUZZ_CHECK(pc == c[Counter::drop_captured_parse] && pt == c[Counter::drop_target_parse]);
        const std::size_t active = engine->active_sessions();
        FUZZ_CHECK(active <= setup.cfg.max_sessions);
        FUZZ_CHECK(c[Counter::sessions_created] >= c.ended());
        FUZZ_CHECK(c[Counter::sessions_created] - c.ended() == active);
        FUZZ_CHECK(engine->queued_segments() <= setup.cfg.max_queued_segments);
        FUZZ_CHECK(engine->payload_blocks() <= setup.cfg.max_queued_segments);
        for (const auto& f : sink.frames) check_frame(f);
        sink.frames.clear();
    }

    void check_idle() {
        FUZZ_CHECK(engine->idle());
        FUZZ_CHECK(engine->active_sessions() == 0);
        FUZZ_CHECK(engine->counters()[Counter::sessions_created] == engine->counters().ended());
        FUZZ_CHECK(engine->queued_segments() == 0);
        FUZZ_CHECK(engine->payload_blocks() == 0);
    }
};

}  // namespace dpcopy_fuzz
