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

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <pcap/pcap.h>

#include "lib/dpdk_io/capture.hpp"
#include "tests/integration/ring_port.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

using namespace dpcopy;
using net::Ipv4Addr;
using net::MacAddr;
namespace tf = net::tcpflag;
using testing::RingPort;
using testing::requests_in_capture;

namespace {

std::string g_prefix;
std::string g_source_root = DPCOPY_SOURCE_ROOT;

const MacAddr kPeerMac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x01}};
const Ipv4Addr kOurIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kTargetIp = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kClientLo = Ipv4Addr::from_octets(198, 18, 0, 100);
const Ipv4Addr kClientHi = Ipv4Addr::from_octets(198, 18, 0, 140);
constexpr std::uint16_t kTargetPort = 8080;

using Frame = std::vector<std::uint8_t>;

// ---------------------------------------------------------------- the port

// ---------------------------------------------------------------- frame helpers
Frame arp_request(MacAddr from_mac, Ipv4Addr from_ip, Ipv4Addr who) {
    Frame f(64);
    f.resize(net::build_arp_request(f, from_mac, from_ip, who));
    return f;
}

Frame arp_reply(MacAddr from_mac, Ipv4Addr from_ip, MacAddr to_mac, Ipv4Addr to_ip) {
    net::L2Spec l2;
    l2.src = from_mac;
    l2.dst = to_mac;
    net::ArpPkt a;
    a.op = net::ArpPkt::op_reply;
    a.sha = from_mac;
    a.spa = from_ip;
    a.tha = to_mac;
    a.tpa = to_ip;
    Frame f(64);
    f.resize(net::build_arp(f, l2, a));
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

// ---------------------------------------------------------------- the scripted target
// A tiny TCP server: SYN -> SYN-ACK; in-order data -> ACK + one response per complete
// request ("\r\n\r\n"-terminated); FIN -> FIN-ACK; out-of-order data -> duplicate ACK.
class Target {
public:
    Target(const RingPort& port, MacAddr dut_mac) : port_(port), dut_mac_(dut_mac) {}

    void start() {
        thread_ = std::thread([this] { loop(); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    ~Target() { stop(); }

    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> g(mu_);
        return requests_;
    }
    std::vector<Frame> host_frames() {  // ARP/ICMP dpcopy sent
        std::lock_guard<std::mutex> g(mu_);
        return host_frames_;
    }
    std::size_t connections() {
        std::lock_guard<std::mutex> g(mu_);
        return conns_.size();
    }
    bool answer_arp = true;
    std::function<void(std::size_t)> on_request;
    std::vector<Frame> send_on_first_syn;  // sent once the replay has started  // called with the number of requests so far

private:
    struct Conn {
        net::Seq snd_nxt, rcv_nxt;
        std::string buf;
        bool closed = false;
    };

    void send_tcp(const net::FlowKey& to_client, net::Seq seq, net::Seq ack, std::uint8_t flags,
                  const std::string& payload = {}) {
        net::L2Spec l2;
        l2.src = kPeerMac;
        l2.dst = dut_mac_;
        net::Ipv4Spec ip;
        ip.src = to_client.src_ip;
        ip.dst = to_client.dst_ip;
        net::TcpSpec t;
        t.src_port = to_client.src_port;
        t.dst_port = to_client.dst_port;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.window = 65535;
        if (flags & tf::syn) {
            t.options.mss = 1460;
        }
        t.payload = net::ConstBytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
        Frame f(2048);
        f.resize(net::build_tcp(f, l2, ip, t));
        if (!f.empty()) port_.send(f);
    }

    void on_tcp(const Frame& f, const net::PacketView& v) {
        const auto th = net::TcpHdr::read(net::ConstBytes(f).subspan(v.l4_off));
        const net::FlowKey back = v.key.reversed();
        std::lock_guard<std::mutex> g(mu_);
        if (th.has(tf::rst)) {
            conns_.erase(v.key.src_port.value() | (std::uint64_t{v.key.src_ip.value()} << 16));
            return;
        }
        const std::uint64_t id = v.key.src_port.value() | (std::uint64_t{v.key.src_ip.value()} << 16);
        if (th.has(tf::syn)) {
            for (const Frame& h : send_on_first_syn) port_.send(h);
            send_on_first_syn.clear();
            Conn c;
            c.snd_nxt = net::Seq(0x10000000u + static_cast<std::uint32_t>(conns_.size()) * 0x100000u);
            c.rcv_nxt = th.seq + 1;
            send_tcp(back, c.snd_nxt, c.rcv_nxt, tf::syn | tf::ack);
            c.snd_nxt += 1;
            conns_[id] = c;
            return;
        }
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        Conn& c = it->second;
        const auto payload = v.payload(f);
        if (!payload.empty() || th.has(tf::fin)) {
            if (th.seq != c.rcv_nxt) {  // duplicate or out of order: ACK what we have
                send_tcp(back, c.snd_nxt, c.rcv_nxt, tf::ack);
                return;
            }
            c.buf.append(reinterpret_cast<const char*>(payload.data()), payload.size());
            c.rcv_nxt += static_cast<std::uint32_t>(payload.size());
            std::size_t end;
            std::string response;
            while ((end = c.buf.find("\r\n\r\n")) != std::string::npos) {
                requests_.push_back(c.buf.substr(0, end + 4));
                c.buf.erase(0, end + 4);
                response += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            }
            if (th.has(tf::fin)) c.rcv_nxt += 1;
            if (!response.empty()) {
                send_tcp(back, c.snd_nxt, c.rcv_nxt, tf::ack | tf::psh, response);
                c.snd_nxt += static_cast<std::uint32_t>(response.size());
            } else if (!th.has(tf::fin)) {
                send_tcp(back, c.snd_nxt, c.rcv_nxt, tf::ack);
            }
            if (th.has(tf::fin) && !c.closed) {
                send_tcp(back, c.snd_nxt, c.rcv_nxt, tf::fin | tf::ack);
                c.snd_nxt += 1;
                c.closed = true;
            }
            if (on_request && !response.empty()) on_request(requests_.size());
        }
    }

    void loop() {
        while (!stop_) {
            const auto frames = port_.receive();
            if (frames.empty()) {
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                continue;
            }
            for (const Frame& f : frames) {
                net::PacketView v;
                if (net::parse_frame(f, v, net::LinkType::ethernet, true) != net::ParseError::ok) continue;
                if (v.l3 == net::L3Kind::arp || v.l4 == net::L4Kind::icmp) {
                    {
                        std::lock_guard<std::mutex> g(mu_);
                        host_frames_.push_back(f);
                    }
                    if (v.l3 == net::L3Kind::arp && answer_arp) {
                        const auto a = net::ArpPkt::read(net::ConstBytes(f).subspan(v.l3_off, net::ArpPkt::size));
                        if (a.op == net::ArpPkt::op_request && a.tpa == kTargetIp)
                            port_.send(arp_reply(kPeerMac, kTargetIp, a.sha, a.spa));
                    }
                    continue;
                }
                if (v.l4 == net::L4Kind::tcp && v.key.dst_ip == kTargetIp && v.key.dst_port.value() == kTargetPort)
                    on_tcp(f, v);
            }
        }
    }

    const RingPort& port_;
    MacAddr dut_mac_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::map<std::uint64_t, Conn> conns_;
    std::vector<std::string> requests_;
    std::vector<Frame> host_frames_;
};

// ---------------------------------------------------------------- expectations from the capture
// Complete requests ("\r\n\r\n"-terminated) the clients of a capture sent to port `port`.

std::string first_line(const std::string& r) { return r.substr(0, r.find("\r\n")); }

std::map<std::string, int> line_counts(const std::vector<std::string>& rs, int times = 1) {
    std::map<std::string, int> m;
    for (const auto& r : rs) m[first_line(r)] += times;
    return m;
}

io::DataplaneConfig replay_config(std::uint16_t port, const std::string& capture, double speed) {
    io::DataplaneConfig c;
    c.engine.transfers.push_back(session::TransferMap{std::nullopt, net::Port(80), kTargetIp, net::Port(kTargetPort)});
    for (auto a = kClientLo.value(); a <= kClientHi.value(); ++a) c.engine.clients.push_back(Ipv4Addr(a));
    c.engine.max_sessions = 1024;
    c.engine.max_queued_segments = 1u << 14;
    c.engine.max_queued_per_session = 1u << 12;
    c.engine.max_tuples = 1u << 16;
    c.clients = io::AddressSet({{kClientLo, kClientHi}});
    std::string err;
    c.capture = io::CaptureReader::open(capture, err);
    REQUIRE(c.capture);
    c.capture_path = capture;
    c.speed = speed;
    c.tx_port = port;
    c.ip = kOurIp;
    c.prefix = 24;
    c.stats_interval_s = 1;
    c.version = "test";
    return c;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

unsigned worker_lcores() {
    unsigned n = 0, lc;
    RTE_LCORE_FOREACH_WORKER(lc) { ++n; }
    return n ? n : 1;
}

const std::string kSample = g_source_root + "/config/samples/http.pcap";

}  // namespace

TEST_CASE("replay: the sample capture through net_ring reaches the scripted target, every request once") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    // net_ring's MAC is all zeroes: dpcopy then uses a locally administered one
    const MacAddr dut_mac = io::effective_mac(port.mac(), port.port);
    CHECK(dut_mac == MacAddr{{0x02, 0x64, 0x70, 0x63, 0x00, static_cast<std::uint8_t>(port.port)}});
    // Host duties, asked once the replay runs (after dpcopy resolved the target by ARP):
    // ARP for --ip and a fake client, ping --ip.
    target.send_on_first_syn = {arp_request(kPeerMac, kTargetIp, kOurIp),
                                arp_request(kPeerMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 120)),
                                arp_request(kPeerMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 99)),  // nobody's
                                icmp_echo(kPeerMac, dut_mac, kTargetIp, kOurIp)};
    target.start();

    const std::string report = "/tmp/" + g_prefix + "-report.json";
    auto cfg = replay_config(port.port, kSample, 0.0);
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);

    const auto expected = requests_in_capture(kSample, 80);
    REQUIRE(expected.size() == 33);
    const auto got = target.requests();
    CHECK(got.size() == expected.size());
    CHECK(line_counts(got) == line_counts(expected));
    // request bodies arrive byte for byte (the Host header is the online one: dpcopy copies payloads)
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) ++full_expected[r];
    for (auto& r : got) ++full_got[r];
    CHECK(full_got == full_expected);

    // host duties
    int arp_requests = 0, arp_replies_ip = 0, arp_replies_client = 0, arp_replies_other = 0, echo_replies = 0;
    for (const Frame& f : target.host_frames()) {
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

    const std::string json = slurp(report);
    CHECK(json.find("\"end\": \"input done\"") != std::string::npos);
    CHECK(json.find("\"sessions\": {\"active\": 0, \"created\": 13, \"ended\": 13}") != std::string::npos);
    CHECK(json.find("\"arp_replies_sent\": 2") != std::string::npos);
    CHECK(json.find("\"icmp_echo_replies\": 1") != std::string::npos);
    CHECK(json.find("\"fed_frames\": 170") != std::string::npos);
    std::filesystem::remove(report);
}

TEST_CASE("replay at --speed 1 with -n 2 and --loop 2: four times the requests") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.start();
    auto cfg = replay_config(port.port, kSample, 1.0);
    cfg.engine.multiply = 2;
    cfg.loop = 2;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(target.requests()) == line_counts(expected, 4));
}

// A capture of keep-alive sessions whose requests are 3,500 bytes (3 captured segments each),
// written with libpcap: what zero-copy amplification chains.
std::string write_large_request_capture(const std::string& path, std::uint32_t sessions, std::uint32_t requests) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    REQUIRE(dead);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d);
    std::uint64_t t_us = 1'000'000;
    auto put = [&](net::FlowKey k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, const std::string& payload) {
        net::L2Spec l2;
        l2.src = MacAddr{{2, 0, 0, 0, 0, 0x11}};
        l2.dst = MacAddr{{2, 0, 0, 0, 0, 0x22}};
        net::Ipv4Spec ip;
        ip.src = k.src_ip;
        ip.dst = k.dst_ip;
        net::TcpSpec t;
        t.src_port = k.src_port;
        t.dst_port = k.dst_port;
        t.seq = net::Seq(seq);
        t.ack = net::Seq(ack);
        t.flags = flags;
        if (flags & tf::syn) t.options.mss = 1460;
        t.payload = net::ConstBytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
        Frame f(2048);
        f.resize(net::build_tcp(f, l2, ip, t));
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
            while (req.size() < 3500 - 4) req += static_cast<char>('a' + (req.size() * 7 + s + r) % 26);
            req += "\r\n\r\n";
            for (std::size_t off = 0; off < req.size(); off += 1448) {
                const std::string seg = req.substr(off, 1448);
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
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.start();
    constexpr std::uint32_t kSessions = 5, kRequests = 2, kReplicas = 3;
    const std::string cap = write_large_request_capture("/tmp/" + g_prefix + "-large.pcap", kSessions, kRequests);
    const std::string report = "/tmp/" + g_prefix + "-zc.json";
    auto cfg = replay_config(port.port, cap, 0.0);
    cfg.engine.multiply = kReplicas;
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    const auto expected = requests_in_capture(cap, 80);
    REQUIRE(expected.size() == kSessions * kRequests);
    // every replica's request byte for byte
    std::map<std::string, int> full_expected, full_got;
    for (auto& r : expected) full_expected[r] += kReplicas;
    for (auto& r : target.requests()) ++full_got[r];
    CHECK(full_got == full_expected);
    const std::string json = slurp(report);
    INFO(json);
    auto counter = [&](const std::string& name) -> long {
        const auto at = json.find("\"" + name + "\": ");
        if (at == std::string::npos) return -1;
        return std::stol(json.substr(at + name.size() + 4));
    };
    // 3 captured segments per request, each stored in one block: copied into an mbuf once,
    // whatever the replicas; each replica sends a request in 3 data segments (however the
    // captured ones arrived: 1448-byte pieces, a 1460-byte MSS), each a chain (more if the
    // loaded machine made some retransmit)
    const long segments = kSessions * kRequests * 3;
    CHECK(counter("tx_payload_blocks") == segments);
    CHECK(counter("tx_chained") >= segments * kReplicas);
    CHECK(counter("tx_chained") < segments * kReplicas * 2);
    CHECK(counter("tx_chain_fallback") == 0);
    CHECK(port.chained.load() == static_cast<std::uint64_t>(counter("tx_chained")));
    CHECK(counter("drops_total") == 0);
    std::filesystem::remove(report);
    std::filesystem::remove(cap);
}

TEST_CASE("zero-copy -n 3 on the sample: small payloads are copied whole (no chains)") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.start();
    const std::string report = "/tmp/" + g_prefix + "-zcs.json";
    auto cfg = replay_config(port.port, kSample, 0.0);
    cfg.engine.multiply = 3;
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(target.requests()) == line_counts(expected, 3));
    const std::string json = slurp(report);
    INFO(json);
    CHECK(json.find("\"tx_chained\": 0,") != std::string::npos);  // the sample's requests are < 256 bytes
    CHECK(port.chained.load() == 0);
    std::filesystem::remove(report);
}

TEST_CASE("replay with a tiny segment queue: the feeder waits instead of making the worker drop") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.start();
    const std::string report = "/tmp/" + g_prefix + "-queue.json";
    auto cfg = replay_config(port.port, kSample, 0.0);
    cfg.engine.max_queued_segments = 24;  // the sample's 13 sessions queue more than that at once
    cfg.engine.max_queued_per_session = 24;
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(line_counts(target.requests()) == line_counts(expected));
    const std::string json = slurp(report);
    INFO(json);
    CHECK(json.find("\"drop_queue_full_worker\": 0") != std::string::npos);
    CHECK(json.find("\"feed_waits\": 0,") == std::string::npos);  // it did wait
    std::filesystem::remove(report);
}

TEST_CASE("ARP: without an answer from the next hop the run fails after the retries, status 1") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.answer_arp = false;
    target.start();
    auto cfg = replay_config(port.port, kSample, 0.0);
    cfg.arp_max_tries = 2;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    CHECK(status == 1);
    CHECK(err == "no ARP reply from the next hop 198.18.0.2 after 2 requests on port " + std::to_string(port.port) +
                     " (net_ring)");
    int requests = 0;
    for (const Frame& f : target.host_frames()) requests += f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06;
    CHECK(requests == 2);
    CHECK(target.connections() == 0);  // nothing was replayed
}

TEST_CASE("SIGINT in the middle of a replay: sessions drain, the report is written, status 0") {
    RingPort port(worker_lcores());
    Target target(port, port.mac());
    target.on_request = [](std::size_t n) {
        if (n == 5) std::raise(SIGINT);
    };
    target.start();
    const std::string report = "/tmp/" + g_prefix + "-sigint.json";
    auto cfg = replay_config(port.port, kSample, 0.05);  // 20x slower: still feeding at the signal
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    const std::string json = slurp(report);
    CHECK(json.find("\"end\": \"interrupted\"") != std::string::npos);
    CHECK(json.find("\"active\": 0,") != std::string::npos);  // every session ended
    const auto expected = requests_in_capture(kSample, 80);
    CHECK(target.requests().size() >= 5);
    CHECK(target.requests().size() < expected.size());
    std::filesystem::remove(report);
}

// Live mode: a second net_ring port plays the mirror. The test feeds it the sample
// capture (both directions of the online conversations) once dpcopy has resolved the
// target; one frame sent before that is dropped and counted. SIGINT ends the run.
TEST_CASE("live: mirrored frames on their own port reach the scripted target, every request once") {
    RingPort port(worker_lcores());
    RingPort mirror(1);
    Target target(port, port.mac());
    target.start();
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
    mirror.send(frames[0]);  // before the next hop is known: dropped, counted
    std::atomic<bool> done{false};
    std::thread feeder([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (target.host_frames().empty() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the ARP reply is learnt
        for (const Frame& f : frames) mirror.send(f);
        while (target.requests().size() < expected.size() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the closes through
        done = true;
        std::raise(SIGINT);
    });
    const std::string report = "/tmp/" + g_prefix + "-live.json";
    auto cfg = replay_config(port.port, kSample, 0.0);
    cfg.capture.reset();  // live
    cfg.rx_port = mirror.port;
    cfg.report_file = report;
    std::string err;
    const int status = io::run_dataplane(std::move(cfg), err);
    feeder.join();
    target.stop();
    INFO(err);
    REQUIRE(status == 0);
    CHECK(done);
    REQUIRE(expected.size() == 33);
    CHECK(line_counts(target.requests()) == line_counts(expected));
    const std::string json = slurp(report);
    INFO(json);
    CHECK(json.find("\"mode\": \"live\"") != std::string::npos);
    CHECK(json.find("\"end\": \"interrupted\"") != std::string::npos);
    CHECK(json.find("\"drop_live_before_next_hop\": 1") != std::string::npos);
    CHECK(json.find("\"rx_captured\": 170") != std::string::npos);
    CHECK(json.find("\"created\": 13") != std::string::npos);
    std::filesystem::remove(report);
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

int main(int argc, char** argv) {
    std::vector<char*> eal, catch_args;
    int i = 0;
    for (; i < argc && std::string(argv[i]) != "--"; ++i) eal.push_back(argv[i]);
    catch_args.push_back(argv[0]);
    for (++i; i < argc; ++i) catch_args.push_back(argv[i]);
    for (std::size_t k = 0; k + 1 < eal.size(); ++k) {
        if (std::string(eal[k]) == "--file-prefix") g_prefix = eal[k + 1];
    }
    if (g_prefix.empty()) {
        std::fprintf(stderr, "test_dataplane: give EAL a --file-prefix\n");
        return 2;
    }
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "test_dataplane: EAL did not start; skipped\n");
        std::filesystem::remove_all("/var/run/dpdk/" + g_prefix);
        return 77;
    }
    const int rc = Catch::Session().run(static_cast<int>(catch_args.size()), catch_args.data());
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
    return rc;
}
