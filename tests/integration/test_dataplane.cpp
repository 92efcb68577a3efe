// In-process integration tests of lib/dpdk_io's data plane on a net_ring port made with
// rte_eth_from_rings: this test plays the target on the other end of the rings (a small
// scripted TCP server that answers ARP, SYN, requests and FIN), while run_dataplane()
// replays a capture on the main lcore (and its workers).
//
//   test_dataplane [EAL options] -- [Catch2 options]
// One EAL per process: meson runs one test case per process, each with its own
// --file-prefix, whose /var/run/dpdk directory is removed at exit.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <rte_thash.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <pcap/pcap.h>

#include "lib/dpdk_io/capture.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/integration/dp_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;
using net::Ipv4Addr;
using net::MacAddr;
namespace tf = net::tcpflag;

namespace {

// ---------------------------------------------------------------- frame helpers
Frame arp_request(MacAddr from_mac, Ipv4Addr from_ip, Ipv4Addr who) {
    Frame f(64);
    f.resize(net::build_arp_request(f, from_mac, from_ip, who));
    return f;
}

Frame icmp_echo(MacAddr src_mac, MacAddr dst_mac, Ipv4Addr src, Ipv4Addr dst) {
    Frame f(14 + 20 + 12);
    net::EthHdr e{dst_mac, src_mac, net::ethertype::ipv4};
    e.write(f);
    const std::uint8_t ip[20] = {0x45, 0, 0, 32, 0, 9, 0, 0, 64, 1, 0, 0};
    std::memcpy(f.data() + 14, ip, 20);
    for (int i = 0; i < 4; ++i) f[static_cast<std::size_t>(26 + i)] = src.octet(i);
    for (int i = 0; i < 4; ++i) f[static_cast<std::size_t>(30 + i)] = dst.octet(i);
    const std::uint8_t icmp[12] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    std::memcpy(f.data() + 34, icmp, 12);
    auto csum = [&](std::size_t off, std::size_t len) {
        std::uint32_t s = 0;
        for (std::size_t i = 0; i < len; i += 2) s += static_cast<std::uint32_t>((f[off + i] << 8) | f[off + i + 1]);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        return static_cast<std::uint16_t>(~s);
    };
    net::store_be16(f.data() + 24, csum(14, 20));
    net::store_be16(f.data() + 36, csum(34, 12));
    return f;
}

// ---------------------------------------------------------------- expectations from the capture
// Requests compared by their first line, each counted `times` times.

std::string first_line(const std::string& r) { return r.substr(0, r.find("\r\n")); }

std::map<std::string, int> line_counts(const std::vector<std::string>& rs, int times = 1) {
    std::map<std::string, int> m;
    for (const auto& r : rs) m[first_line(r)] += times;
    return m;
}

}  // namespace

TEST_CASE("replay: the sample capture through net_ring reaches the scripted target, every request once") {
    Replay<> fx(kSample);
    // net_ring's MAC is all zeroes: dpcopy then uses a locally administered one
    const MacAddr dut_mac = io::effective_mac(fx.port.mac(), fx.port.port);
    CHECK(dut_mac == MacAddr{{0x02, 0x64, 0x70, 0x63, 0x00, static_cast<std::uint8_t>(fx.port.port)}});
    // Host duties, asked once the replay runs (after dpcopy resolved the target by ARP):
    // ARP for --ip and a fake client, ping --ip.
    fx.target.send_on_first_syn = {arp_request(kPeerMac, kTargetIp, kOurIp),
                                   arp_request(kPeerMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 120)),
                                   arp_request(kPeerMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 99)),  // nobody's
                                   icmp_echo(kPeerMac, dut_mac, kTargetIp, kOurIp)};
    fx.report_to("report");
    fx.run_ok();

    const auto expected = requests_in_capture(kSample, 80);
    REQUIRE(expected.size() == 33);
    const auto got = fx.target.requests();
    CHECK(got.size() == expected.size());
    CHECK(line_counts(got) == line_counts(expected));
    // request bodies arrive byte for byte (the Host header is the online one: dpcopy copies payloads)
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) ++full_expected[r];
    for (auto& r : got) ++full_got[r];
    CHECK(full_got == full_expected);

    // host duties
    int arp_requests = 0, arp_replies_ip = 0, arp_replies_client = 0, arp_replies_other = 0, echo_replies = 0;
    for (const Frame& f : fx.target.host_frames()) {
        net::PacketView v;
        REQUIRE(net::parse_frame(f, v, net::LinkType::ethernet, true) == net::ParseError::ok);
        if (v.l3 == net::L3Kind::arp) {
            const auto a = net::ArpPkt::read(net::ConstBytes(f).subspan(v.l3_off, net::ArpPkt::size));
            if (a.op == net::ArpPkt::op_request) {
                CHECK(a.tpa == kTargetIp);
                CHECK(a.spa == kOurIp);
                CHECK(a.sha == dut_mac);
                ++arp_requests;
            } else {
                CHECK(a.sha == dut_mac);
                CHECK(a.tha == kPeerMac);
                if (a.spa == kOurIp) ++arp_replies_ip;
                else if (a.spa == Ipv4Addr::from_octets(198, 18, 0, 120)) ++arp_replies_client;
                else ++arp_replies_other;
            }
        } else if (v.l4 == net::L4Kind::icmp) {
            CHECK(v.key.src_ip == kOurIp);
            CHECK(v.key.dst_ip == kTargetIp);
            CHECK(f[v.l4_off] == 0);  // echo reply
            ++echo_replies;
        }
    }
    CHECK(arp_requests >= 1);
    CHECK(arp_replies_ip == 1);
    CHECK(arp_replies_client == 1);
    CHECK(arp_replies_other == 0);
    CHECK(echo_replies == 1);

    const std::string json = fx.report_json();
    CHECK(json.find("\"end\": \"input done\"") != std::string::npos);
    CHECK(json.find("\"end_reason\": \"input_finished\"") != std::string::npos);
    CHECK(json.find("\"sessions\": {\"active\": 0, \"created\": 13, \"ended\": 13}") != std::string::npos);
    CHECK(json.find("\"arp_replies_sent\": 2") != std::string::npos);
    CHECK(json.find("\"icmp_echo_replies\": 1") != std::string::npos);
    CHECK(json.find("\"fed_frames\": 170") != std::string::npos);
}

TEST_CASE("replay at --speed 1 with -n 2 and --loop 2: four times the requests") {
    Replay<> fx(kSample, 1.0);
    fx.cfg.engine.multiply = 2;
    fx.cfg.loop = 2;
    fx.run_ok();
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(fx.target.requests()) == line_counts(expected, 4));
}

// An io counter of the report (its "io" object), or -1 when absent.
long long report_counter(const std::string& json, const std::string& name) {
    const std::string key = "\"" + name + "\": ";
    const std::size_t at = json.find(key);
    return at == std::string::npos ? -1 : std::stoll(json.substr(at + key.size()));
}

// The idle policy (lib/dpdk_io/idle_policy.hpp): at --speed 1 the capture's gaps leave the
// main lcore (the feeder, and worker 0 with -l 0) or the workers with nothing to do. They
// sleep (counted), and the replay still delivers every request once.
TEST_CASE("idle policy: a replay at --speed 1 sleeps in the capture's gaps and loses nothing") {
    Replay<> fx(kSample, 1.0);
    fx.report_to("report");
    fx.run_ok();
    CHECK(line_counts(fx.target.requests()) == line_counts(requests_in_capture(kSample, 80)));
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(report_counter(json, "lost_total") == 0);
    CHECK(report_counter(json, "idle_sleeps") > 0);
    // busy time: the iterations that moved frames, a small part of a mostly idle replay
    const std::size_t at = json.find("\"duration_s\": ");
    REQUIRE(at != std::string::npos);
    const double duration_ns = std::stod(json.substr(at + 14)) * 1e9;
    CHECK(report_counter(json, "busy_ns") > 0);
    CHECK(static_cast<double>(report_counter(json, "busy_ns")) < duration_ns / 2);
}

TEST_CASE("idle policy: --idle-sleep 0 (--busy-poll) never sleeps and loses nothing") {
    Replay<> fx(kSample, 1.0);
    fx.cfg.idle_sleep_us = 0;
    fx.report_to("report");
    fx.run_ok();
    CHECK(line_counts(fx.target.requests()) == line_counts(requests_in_capture(kSample, 80)));
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(report_counter(json, "lost_total") == 0);
    CHECK(report_counter(json, "idle_sleeps") == 0);
}

// A capture of keep-alive sessions whose requests are `request_bytes` long (3,500: 3
// captured segments each, what zero-copy amplification chains), cut into segments of at
// most `segment_bytes` of payload (over 1,460: GRO/TSO super-segments), written with libpcap.
std::string write_large_request_capture(const std::string& path, std::uint32_t sessions, std::uint32_t requests,
                                        std::size_t request_bytes = 3500, std::size_t segment_bytes = 1448) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    REQUIRE(dead);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d);
    std::uint64_t t_us = 1'000'000;
    auto put = [&](net::FlowKey k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, const std::string& payload) {
        const Frame f = tcp_segment(MacAddr{{2, 0, 0, 0, 0, 0x11}}, MacAddr{{2, 0, 0, 0, 0, 0x22}}, k, net::Seq(seq),
                                    net::Seq(ack), flags, payload, 65535);
        REQUIRE(!f.empty());
        pcap_pkthdr h{};
        t_us += 200;
        h.ts.tv_sec = static_cast<time_t>(t_us / 1'000'000);
        h.ts.tv_usec = static_cast<suseconds_t>(t_us % 1'000'000);
        h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
    };
    const Ipv4Addr client = Ipv4Addr::from_octets(10, 1, 0, 5), server = Ipv4Addr::from_octets(10, 2, 0, 9);
    for (std::uint32_t s = 0; s < sessions; ++s) {
        const net::FlowKey c2s{client, server, net::Port(static_cast<std::uint16_t>(40000 + s)), net::Port(80)};
        const net::FlowKey s2c = c2s.reversed();
        std::uint32_t cs = 1000 + s * 77777, ss = 500000 + s * 3333;
        put(c2s, cs, 0, tf::syn, {});
        put(s2c, ss, cs + 1, tf::syn | tf::ack, {});
        ++cs;
        ++ss;
        put(c2s, cs, ss, tf::ack, {});
        for (std::uint32_t r = 0; r < requests; ++r) {
            std::string req = "GET /large/" + std::to_string(s) + "/" + std::to_string(r) + " HTTP/1.1\r\nX-Pad: ";
            while (req.size() < request_bytes - 4) req += static_cast<char>('a' + (req.size() * 7 + s + r) % 26);
            req += "\r\n\r\n";
            for (std::size_t off = 0; off < req.size(); off += segment_bytes) {
                const std::string seg = req.substr(off, segment_bytes);
                put(c2s, cs, ss, tf::ack | tf::psh, seg);
                cs += static_cast<std::uint32_t>(seg.size());
            }
            const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            put(s2c, ss, cs, tf::ack | tf::psh, resp);
            ss += static_cast<std::uint32_t>(resp.size());
        }
        put(c2s, cs, ss, tf::fin | tf::ack, {});
        put(s2c, ss, cs + 1, tf::fin | tf::ack, {});
        put(c2s, cs + 1, ss + 1, tf::ack, {});
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return path;
}

TEST_CASE("zero-copy -n 3: replicas' frames are header mbufs chained to one shared copy of each payload") {
    constexpr std::uint32_t kSessions = 5, kRequests = 2, kReplicas = 3;
    const std::string cap = write_large_request_capture("/tmp/" + g_prefix + "-large.pcap", kSessions, kRequests);
    Replay<> fx(cap);
    fx.cfg.engine.multiply = kReplicas;
    fx.report_to("zc");
    fx.run_ok();
    const auto expected = requests_in_capture(cap, 80);
    REQUIRE(expected.size() == kSessions * kRequests);
    // every replica's request byte for byte
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) full_expected[r] += kReplicas;
    for (auto& r : fx.target.requests()) ++full_got[r];
    CHECK(full_got == full_expected);
    const std::string json = fx.report_json();
    INFO(json);
    auto counter = [&](const std::string& name) -> long {
        const auto at = json.find("\"" + name + "\": ");
        if (at == std::string::npos) return -1;
        return std::stol(json.substr(at + name.size() + 4));
    };
    // 3 captured segments per request, each stored in one block: copied into an mbuf once,
    // whatever the replicas; each replica sends a request in 3 data segments (however the
    // captured ones arrived: 1448-byte pieces, a 1460-byte MSS), each a chain. A loaded
    // machine may make some session retransmit (every retransmitted segment is a chain too,
    // and the target's late duplicate ACKs may meet an ended session: filtered, not lost).
    const long segments = kSessions * kRequests * 3;
    const long retransmissions = counter("retransmits_rto") + counter("retransmits_fast");
    REQUIRE(retransmissions >= 0);
    CHECK(counter("tx_payload_blocks") == segments);
    if (retransmissions == 0)
        CHECK(counter("tx_chained") == segments * kReplicas);
    else
        CHECK(counter("tx_chained") > segments * kReplicas);
    CHECK(counter("tx_chained") <= segments * kReplicas * (1 + retransmissions));
    CHECK(counter("tx_chain_fallback") == 0);
    CHECK(fx.port.chained.load() == static_cast<std::uint64_t>(counter("tx_chained")));
    CHECK(counter("lost_total") == 0);
    std::filesystem::remove(cap);
}

TEST_CASE("zero-copy -n 3 on the sample: small payloads are copied whole (no chains)") {
    Replay<> fx(kSample);
    fx.cfg.engine.multiply = 3;
    fx.report_to("zcs");
    fx.run_ok();
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(fx.target.requests()) == line_counts(expected, 3));
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"tx_chained\": 0,") != std::string::npos);  // the sample's requests are < 256 bytes
    CHECK(fx.port.chained.load() == 0);
}

// GRO/TSO super-segments and jumbo captures: frames over one mbuf's data room are copied
// into a chain whose head holds the whole length, so the engine parses them whole.
TEST_CASE("replay: captured GRO frames of 2108 and 3000 bytes reach the target whole") {
    // 7,946-byte requests cut at 2,946 bytes of payload: frames of 3,000, 3,000 and 2,108 bytes
    const std::string cap = write_large_request_capture("/tmp/" + g_prefix + "-gro.pcap", 3, 2, 7946, 2946);
    Replay<> fx(cap);
    fx.report_to("gro");
    fx.run_ok();
    const auto expected = requests_in_capture(cap, 80);
    REQUIRE(expected.size() == 6);
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) ++full_expected[r];
    for (auto& r : fx.target.requests()) ++full_got[r];
    CHECK(full_got == full_expected);
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"drop_captured_parse\": 0,") != std::string::npos);
    const auto pc = json.find("\"parse_captured\": {");
    REQUIRE(pc != std::string::npos);
    const std::string parse_captured = json.substr(pc, json.find('}', pc) - pc);
    CHECK(parse_captured.find("\"bad_total_length\": 0,") != std::string::npos);
    CHECK(json.find("\"lost_total\": 0,") != std::string::npos);
    CHECK(json.find("\"data_bytes_sent\": " + std::to_string(6 * 7946) + ",") != std::string::npos);
    std::filesystem::remove(cap);
}

// A Linux cooked capture (SLL) whose records the reader skips: the adapter counts them
// under their reasons, a short link header as lost and another protocol as filtered.
TEST_CASE("replay: records the capture reader skips are counted by reason in the report and summary") {
    const std::string cap = "/tmp/" + g_prefix + "-skips.pcap";
    {
        pcap_t* dead = pcap_open_dead(DLT_LINUX_SLL, 65535);
        REQUIRE(dead);
        pcap_dumper_t* d = pcap_dump_open(dead, cap.c_str());
        REQUIRE(d);
        Frame udp(128);  // an IPv4 UDP datagram (the engine filters it: not TCP)
        udp.resize(net::build_udp(udp, net::L2Spec{}, net::Ipv4Spec{Ipv4Addr::from_octets(10, 1, 0, 5), Ipv4Addr::from_octets(10, 2, 0, 9)},
                                  net::Port(5353), net::Port(53), net::ConstBytes()));
        REQUIRE(udp.size() == 14 + 28);
        Frame sll_v4(16, 0), sll_arp(16, 0);
        sll_v4[14] = 0x08;
        sll_arp[14] = 0x08;
        sll_arp[15] = 0x06;
        Frame v4 = sll_v4, arp = sll_arp;
        v4.insert(v4.end(), udp.begin() + 14, udp.end());
        arp.resize(16 + 28, 0);
        const Frame short_header(sll_v4.begin(), sll_v4.begin() + 10);
        std::uint32_t t = 1;
        for (const Frame* f : std::initializer_list<const Frame*>{&short_header, &v4, &arp}) {
            pcap_pkthdr h{};
            h.ts.tv_sec = t++;
            h.caplen = h.len = static_cast<bpf_u_int32>(f->size());
            pcap_dump(reinterpret_cast<u_char*>(d), &h, f->data());
        }
        pcap_dump_close(d);
        pcap_close(dead);
    }
    Replay<> fx(cap);
    const std::string log_path = "/tmp/" + g_prefix + "-skips.log";
    std::FILE* log_file = std::fopen(log_path.c_str(), "w");
    REQUIRE(log_file);
    fx.cfg.log = log_file;
    fx.report_to("skips");
    fx.run_ok();
    std::fclose(log_file);
    const std::string json = fx.report_json(), log = slurp(log_path);
    INFO(json);
    INFO(log);
    CHECK(json.find("\"file_frames\": 3,") != std::string::npos);
    CHECK(json.find("\"fed_frames\": 1,") != std::string::npos);
    CHECK(json.find("\"drop_file_not_ip\": 1,") != std::string::npos);
    CHECK(json.find("\"drop_file_bad_link_header\": 1,") != std::string::npos);
    CHECK(json.find("\"lost_total\": 1,") != std::string::npos);
    CHECK(json.find("\"filtered_total\": 2,") != std::string::npos);  // and the UDP datagram
    CHECK(log.find("  lost: drop_file_bad_link_header 1\n") != std::string::npos);
    CHECK(log.find("  filtered: drop_captured_not_tcp 1, drop_file_not_ip 1\n") != std::string::npos);
    std::filesystem::remove(cap);
    std::filesystem::remove(log_path);
}

// Offline back-pressure (issue #16): the worker takes a frame only when its engine has room
// for it, holding the others back (capture_held; with the default mbuf pool it holds the
// sample's 170 frames without making the feeder wait).
TEST_CASE("replay with a tiny segment queue: the feeder waits instead of making the worker drop") {
    Replay<> fx(kSample);
    fx.cfg.engine.max_queued_segments = 24;  // the sample's 13 sessions queue more than that at once
    fx.cfg.engine.max_queued_per_session = 24;
    fx.report_to("queue");
    fx.run_ok();
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(fx.target.requests()) == line_counts(expected));
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"drop_queue_full_worker\": 0") != std::string::npos);
    CHECK(json.find("\"drop_queue_full_session\": 0") != std::string::npos);
    CHECK(json.find("\"capture_held\": 0,") == std::string::npos);  // it did wait
}

TEST_CASE("ARP: without an answer from the next hop the run fails after the retries, status 1") {
    Replay<> fx(kSample);
    fx.target.answer_arp = false;
    fx.cfg.arp_max_tries = 2;
    const int status = fx.run();
    CHECK(status == 1);
    CHECK(fx.err == "no ARP reply from the next hop 198.18.0.2 after 2 requests on port " +
                        std::to_string(fx.port.port) + " (net_ring)");
    int requests = 0;
    for (const Frame& f : fx.target.host_frames()) requests += f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06;
    CHECK(requests == 2);
    CHECK(fx.target.connections() == 0);  // nothing was replayed
}

TEST_CASE("SIGINT in the middle of a replay: sessions drain, the report is written, status 0") {
    Replay<> fx(kSample, 0.05);  // 20x slower: still feeding at the signal
    fx.target.on_request = [](std::size_t n) {
        if (n == 5) std::raise(SIGINT);
    };
    fx.report_to("sigint");
    fx.run_ok();
    const std::string json = fx.report_json();
    CHECK(json.find("\"end\": \"interrupted\"") != std::string::npos);
    CHECK(json.find("\"end_reason\": \"signal\"") != std::string::npos);
    CHECK(json.find("\"active\": 0,") != std::string::npos);  // every session ended
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(fx.target.requests().size() >= 5);
    CHECK(fx.target.requests().size() < expected.size());
}

// Live mode: a second net_ring port plays the mirror. The test feeds it the sample
// capture (both directions of the online conversations) once dpcopy has resolved the
// target; one frame sent before that is dropped and counted. SIGINT ends the run.
TEST_CASE("live: mirrored frames on their own port reach the scripted target, every request once") {
    Replay<> fx(kSample);
    RingPort mirror(1);
    auto& target = fx.target;
    target.start();  // before the feeder, which waits for dpcopy's first host frame
    std::vector<Frame> frames;
    {
        std::string err;
        auto cap = io::CaptureReader::open(kSample, err);
        REQUIRE(cap);
        io::CaptureFrame f;
        while (cap->next(f) == io::ReadStatus::frame) frames.emplace_back(f.data.begin(), f.data.end());
    }
    REQUIRE(frames.size() == 170);
    const auto expected = requests_in_capture(kSample, 80);
    // Before the next hop is known: dropped, counted; lost when of the -x service (the SYN
    // to port 80), filtered otherwise (IPv6, UDP). IPv6 later reaches the engine: filtered.
    Frame ipv6(14 + 40, 0x60);
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    Frame udp(128);
    udp.resize(net::build_udp(udp, net::L2Spec{}, net::Ipv4Spec{Ipv4Addr::from_octets(10, 1, 0, 5), Ipv4Addr::from_octets(10, 2, 0, 9)},
                              net::Port(5353), net::Port(53), net::ConstBytes()));
    mirror.send(frames[0]);
    mirror.send(ipv6);
    mirror.send(udp);
    std::atomic<bool> done{false};
    std::thread feeder([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (target.host_frames().empty() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the ARP reply is learnt
        for (const Frame& f : frames) mirror.send(f);
        mirror.send(ipv6);
        while (target.requests().size() < expected.size() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the closes through
        done = true;
        std::raise(SIGINT);
    });
    fx.cfg.capture.reset();  // live
    fx.cfg.rx_port = mirror.port;
    fx.report_to("live");
    const int status = fx.run();
    feeder.join();
    INFO(fx.err);
    REQUIRE(status == 0);
    CHECK(done);
    REQUIRE(expected.size() == 33);
    CHECK(line_counts(target.requests()) == line_counts(expected));
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"mode\": \"live\"") != std::string::npos);
    CHECK(json.find("\"end\": \"interrupted\"") != std::string::npos);
    CHECK(json.find("\"drop_live_before_next_hop\": 1,") != std::string::npos);
    CHECK(json.find("\"drop_live_before_next_hop_other\": 2,") != std::string::npos);
    CHECK(json.find("\"rx_captured\": 171") != std::string::npos);
    const auto lost = json.find("\"lost\": {"), filtered = json.find("\"filtered\": {");
    REQUIRE(lost != std::string::npos);
    REQUIRE(filtered != std::string::npos);
    const std::string lost_reasons = json.substr(lost, json.find('}', lost) - lost);
    const std::string filtered_reasons = json.substr(filtered, json.find('}', filtered) - filtered);
    CHECK(lost_reasons.find("\"drop_live_before_next_hop\": 1") != std::string::npos);
    CHECK(lost_reasons.find("drop_captured_parse") == std::string::npos);
    CHECK(filtered_reasons.find("\"parse_captured_ipv6_not_supported\": 1") != std::string::npos);
    CHECK(filtered_reasons.find("\"drop_live_before_next_hop_other\": 2") != std::string::npos);
    CHECK(json.find("{\"port\": " + std::to_string(mirror.port) + ", \"mirror\": true,") != std::string::npos);
    CHECK(json.find("{\"port\": " + std::to_string(fx.port.port) + ", \"mirror\": false,") != std::string::npos);
    CHECK(json.find("\"created\": 13") != std::string::npos);
}

// ---------------------------------------------------------------- -F: one of two services
// The sample's frames (service port 80) and, after each, its twin of a second service on
// port 81 (the port rewritten, the TCP checksum adjusted): two services dpcopy copies
// (-x 80 and -x 81 toward the target), of which -F keeps one.
struct TwoServices {
    std::vector<Frame> frames;
    std::vector<std::uint64_t> ts_ns;
};
TwoServices two_services() {
    TwoServices t;
    std::string err;
    auto cap = io::CaptureReader::open(kSample, err);
    REQUIRE(cap);
    io::CaptureFrame f;
    while (cap->next(f) == io::ReadStatus::frame) {
        Frame a(f.data.begin(), f.data.end()), b = a;
        net::PacketView v;
        REQUIRE(net::parse_frame(b, v, net::LinkType::ethernet, true) == net::ParseError::ok);
        REQUIRE(v.l4 == net::L4Kind::tcp);
        const std::size_t port_off = v.l4_off + (v.key.dst_port == net::Port(80) ? 2 : 0);
        REQUIRE(net::load_be16(b, port_off) == 80);
        net::store_be16(b.data() + port_off, 81);
        // RFC 1624: HC' = ~(~HC + ~m + m')
        std::uint32_t sum = static_cast<std::uint16_t>(~net::load_be16(b, v.l4_off + 16)) + (0xffffu - 80u) + 81u;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        net::store_be16(b.data() + v.l4_off + 16, static_cast<std::uint16_t>(~sum));
        for (Frame* x : {&a, &b}) {
            t.frames.push_back(*x);
            t.ts_ns.push_back(f.ts_ns);
        }
    }
    REQUIRE(t.frames.size() == 2 * 170);
    return t;
}
std::string write_two_services(const TwoServices& t) {
    const std::string path = "/tmp/" + g_prefix + "-two-services.pcap";
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    REQUIRE(dead);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d);
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
        pcap_pkthdr h{};
        h.ts.tv_sec = static_cast<time_t>(t.ts_ns[i] / 1'000'000'000ULL);
        h.ts.tv_usec = static_cast<suseconds_t>(t.ts_ns[i] % 1'000'000'000ULL);
        h.caplen = h.len = static_cast<bpf_u_int32>(t.frames[i].size());
        pcap_dump(reinterpret_cast<u_char*>(d), &h, t.frames[i].data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return path;
}
void add_second_service(io::DataplaneConfig& c) {
    c.engine.transfers.push_back(session::TransferMap{std::nullopt, net::Port(81), kTargetIp, net::Port(kTargetPort)});
}
// The report's "filtered" object.
std::string filtered_reasons(const std::string& json) {
    const auto at = json.find("\"filtered\": {");
    return at == std::string::npos ? "" : json.substr(at, json.find('}', at) - at);
}

TEST_CASE("filter -F offline: only the sessions of the service the filter keeps are copied, the rest counted filtered") {
    const std::string cap = write_two_services(two_services());
    const auto expected = requests_in_capture(cap, 81);
    REQUIRE(expected.size() == 33);
    REQUIRE(requests_in_capture(cap, 80).size() == 33);  // copied too without -F (both are -x services)
    Replay<> fx(cap);
    add_second_service(fx.cfg);
    fx.cfg.filter = "host 198.18.0.2 and tcp port 81";
    fx.report_to("filter-offline");
    fx.run_ok();
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) ++full_expected[r];
    for (auto& r : fx.target.requests()) ++full_got[r];
    CHECK(full_got == full_expected);
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"file_frames\": 340,") != std::string::npos);
    CHECK(json.find("\"fed_frames\": 170,") != std::string::npos);
    CHECK(json.find("\"drop_capture_filter\": 170,") != std::string::npos);
    CHECK(filtered_reasons(json).find("\"drop_capture_filter\": 170") != std::string::npos);
    CHECK(json.find("\"lost_total\": 0,") != std::string::npos);
    CHECK(json.find("\"created\": 13") != std::string::npos);
    std::filesystem::remove(cap);
}

TEST_CASE("filter -F live: the mirror's frames of the other service are counted filtered, the kept one is copied") {
    const TwoServices t = two_services();
    const std::string cap = write_two_services(t);
    const auto expected = requests_in_capture(cap, 80);
    REQUIRE(expected.size() == 33);
    std::filesystem::remove(cap);
    Replay<> fx(kSample);
    RingPort mirror(1);
    auto& target = fx.target;
    target.start();  // before the feeder, which waits for dpcopy's first host frame
    std::thread feeder([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (target.host_frames().empty() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the ARP reply is learnt
        for (const Frame& f : t.frames) mirror.send(f);
        while (target.requests().size() < expected.size() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the closes through
        std::raise(SIGINT);
    });
    fx.cfg.capture.reset();  // live
    fx.cfg.rx_port = mirror.port;
    add_second_service(fx.cfg);
    fx.cfg.filter = "tcp port 80";
    fx.report_to("filter-live");
    const int status = fx.run();
    feeder.join();
    INFO(fx.err);
    REQUIRE(status == 0);
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) ++full_expected[r];
    for (auto& r : target.requests()) ++full_got[r];
    CHECK(full_got == full_expected);
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(json.find("\"drop_capture_filter\": 170,") != std::string::npos);
    CHECK(filtered_reasons(json).find("\"drop_capture_filter\": 170") != std::string::npos);
    CHECK(json.find("\"rx_captured\": 170,") != std::string::npos);
    CHECK(json.find("\"created\": 13") != std::string::npos);
}

TEST_CASE("filter -F live: an expression libpcap cannot compile stops the run, status 2") {
    Replay<> fx(kSample);
    RingPort mirror(1);
    fx.cfg.capture.reset();
    fx.cfg.rx_port = mirror.port;
    fx.cfg.filter = "tcp and";
    CHECK(fx.run() == 2);
    CHECK(fx.err.starts_with("invalid value 'tcp and' for option --filter: "));
}

// The key dpcopy programs for RSS must hash a TCP/IPv4 flow and its reverse alike, or
// the two directions of a mirrored conversation would reach different workers.
TEST_CASE("RSS: the symmetric key hashes every flow and its reverse alike (a random key does not)") {
    const std::uint8_t* key = io::dp::symmetric_rss_key();
    std::uint8_t other[io::dp::kRssKeyMax];
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    auto next = [&x] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return static_cast<std::uint32_t>(x);
    };
    for (auto& b : other) b = static_cast<std::uint8_t>(next());
    int symmetric = 0, other_symmetric = 0;
    constexpr int kFlows = 10000;
    for (int i = 0; i < kFlows; ++i) {
        const std::uint32_t a = next(), b = next(), sp = next() & 0xffff, dp = next() & 0xffff;
        std::uint32_t fwd[3] = {a, b, (sp << 16) | dp}, rev[3] = {b, a, (dp << 16) | sp};
        symmetric += rte_softrss(fwd, 3, key) == rte_softrss(rev, 3, key);
        other_symmetric += rte_softrss(fwd, 3, other) == rte_softrss(rev, 3, other);
    }
    CHECK(symmetric == kFlows);
    CHECK(other_symmetric < kFlows / 100);
}

int main(int argc, char** argv) { return eal_main(argc, argv, "test_dataplane"); }
