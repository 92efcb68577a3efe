// Test support shared by the in-process DPDK tests (tests/integration, tests/control):
// their main() (EAL options, "--", Catch2 options; one EAL per process whose --file-prefix
// directory is removed at exit), the addresses of the rig, the replay configuration,
// the scripted TCP target on the far end of a RingPort, and one run of the data plane
// against it (Replay).
#pragma once

#include <catch2/catch.hpp>

#include <rte_eal.h>
#include <rte_lcore.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "lib/dpdk_io/capture.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/common/arp.hpp"
#include "tests/integration/ring_port.hpp"

namespace dpcopy::testing {

inline std::string g_prefix;  // EAL's --file-prefix, set by eal_main

// The main() of a test: `test [EAL options] -- [Catch2 options]`. 2 without a
// --file-prefix, 77 (skipped) when EAL does not start, else Catch2's status.
inline int eal_main(int argc, char** argv, const char* name) {
    std::vector<char*> eal, catch_args;
    int i = 0;
    for (; i < argc && std::string(argv[i]) != "--"; ++i) eal.push_back(argv[i]);
    catch_args.push_back(argv[0]);
    for (++i; i < argc; ++i) catch_args.push_back(argv[i]);
    for (std::size_t k = 0; k + 1 < eal.size(); ++k) {
        if (std::string(eal[k]) == "--file-prefix") g_prefix = eal[k + 1];
    }
    if (g_prefix.empty()) {
        std::fprintf(stderr, "%s: give EAL a --file-prefix\n", name);
        return 2;
    }
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "%s: EAL did not start; skipped\n", name);
        std::filesystem::remove_all("/var/run/dpdk/" + g_prefix);
        return 77;
    }
    const int rc = Catch::Session().run(static_cast<int>(catch_args.size()), catch_args.data());
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
    return rc;
}

// ---------------------------------------------------------------- the rig's addresses
inline const MacAddr kPeerMac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x01}};  // the scripted target's
inline const net::Ipv4Addr kOurIp = net::Ipv4Addr::from_octets(198, 18, 0, 1);  // dpcopy's --ip
inline const net::Ipv4Addr kTargetIp = net::Ipv4Addr::from_octets(198, 18, 0, 2);
inline const net::Ipv4Addr kClientLo = net::Ipv4Addr::from_octets(198, 18, 0, 100);
inline const net::Ipv4Addr kClientHi = net::Ipv4Addr::from_octets(198, 18, 0, 140);
inline constexpr std::uint16_t kTargetPort = 8080;
#ifdef DPCOPY_SOURCE_ROOT
inline const std::string kSample = std::string(DPCOPY_SOURCE_ROOT) + "/config/samples/http.pcap";
#endif

// A TCP segment of the flow `k` from MAC `src` to `dst` (MSS 1460 on a SYN); empty if it
// does not fit `room` bytes.
inline Frame tcp_segment(MacAddr src, MacAddr dst, const net::FlowKey& k, net::Seq seq, net::Seq ack,
                         std::uint8_t flags, const std::string& payload, std::size_t room = 2048) {
    net::TcpSpec t;
    t.src_port = k.src_port;
    t.dst_port = k.dst_port;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    if (flags & net::tcpflag::syn) t.options.mss = 1460;
    t.payload = net::ConstBytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
    Frame f(room);
    f.resize(net::build_tcp(f, net::L2Spec{src, dst, 0, {}}, net::Ipv4Spec{k.src_ip, k.dst_ip}, t));
    return f;
}

// Replays `capture` from the clients kClientLo..kClientHi, port 80 moved to the target's
// kTargetPort, out of `port` (report every second; no report file).
inline io::DataplaneConfig replay_config(std::uint16_t port, const std::string& capture, double speed) {
    io::DataplaneConfig c;
    c.engine.transfers.push_back(session::TransferMap{std::nullopt, net::Port(80), kTargetIp, net::Port(kTargetPort)});
    for (auto a = kClientLo.value(); a <= kClientHi.value(); ++a) c.engine.clients.push_back(net::Ipv4Addr(a));
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

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline unsigned worker_lcores() {
    unsigned n = 0, lc;
    RTE_LCORE_FOREACH_WORKER(lc) { ++n; }
    return n ? n : 1;
}

// ---------------------------------------------------------------- the scripted target
// A tiny TCP server (kTargetIp:kTargetPort, MAC kPeerMac) on the far end of a RingPort,
// polled by its own thread: SYN -> SYN-ACK; in-order data -> ACK + one response per
// complete request ("\r\n\r\n"-terminated); FIN -> FIN-ACK; out-of-order data -> duplicate
// ACK. It keeps the ARP/ICMP frames dpcopy sent and answers ARP for kTargetIp (and for
// the addresses a derived rig adds to arp_owners_). Its TCP frames go to `to_mac` through
// emit_tcp(), which a derived rig may send elsewhere; on_other() sees the frames that are
// neither host frames nor the target's TCP, and poll() runs after every round. The hooks
// run on the target's thread, with mu_ held; a derived rig calls stop() in its destructor.
class ScriptedTarget {
public:
    ScriptedTarget(const RingPort& port, MacAddr to_mac) : port_(port), to_mac_(to_mac) {}
    explicit ScriptedTarget(const RingPort& port) : ScriptedTarget(port, port.mac()) {}
    virtual ~ScriptedTarget() { stop(); }

    void start() {  // once; a second call is a no-op
        if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

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
    std::function<void(std::size_t)> on_request;  // called with the number of requests so far
    std::vector<Frame> send_on_first_syn;          // sent once the replay has started

protected:
    virtual void emit_tcp(const Frame& f) { port_.send(f); }
    virtual void on_other(const Frame&, const net::PacketView&) {}
    virtual void poll() {}

    const RingPort& port_;
    std::mutex mu_;
    std::vector<std::pair<net::Ipv4Addr, MacAddr>> arp_owners_{{kTargetIp, kPeerMac}};

private:
    struct Conn {
        net::Seq snd_nxt, rcv_nxt;
        std::string buf;
        bool closed = false;
    };

    void send_tcp(const net::FlowKey& to_client, net::Seq seq, net::Seq ack, std::uint8_t flags,
                  const std::string& payload = {}) {
        const Frame f = tcp_segment(kPeerMac, to_mac_, to_client, seq, ack, flags, payload);
        if (!f.empty()) emit_tcp(f);
    }

    void on_tcp(const Frame& f, const net::PacketView& v) {
        namespace tf = net::tcpflag;
        const auto th = net::TcpHdr::read(net::ConstBytes(f).subspan(v.l4_off));
        const net::FlowKey back = v.key.reversed();
        const std::uint64_t id = v.key.src_port.value() | (std::uint64_t{v.key.src_ip.value()} << 16);
        if (th.has(tf::rst)) {
            conns_.erase(id);
            return;
        }
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
        if (payload.empty() && !th.has(tf::fin)) return;
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

    void on_frame(const Frame& f) {
        net::PacketView v;
        if (net::parse_frame(f, v, net::LinkType::ethernet, true) != net::ParseError::ok) return;
        if (v.l3 == net::L3Kind::arp || v.l4 == net::L4Kind::icmp) {
            host_frames_.push_back(f);
            if (v.l3 != net::L3Kind::arp || !answer_arp) return;
            const auto a = net::ArpPkt::read(net::ConstBytes(f).subspan(v.l3_off, net::ArpPkt::size));
            for (const auto& [ip, mac] : arp_owners_)
                if (a.op == net::ArpPkt::op_request && a.tpa == ip) port_.send(arp_reply(mac, ip, a.sha, a.spa));
            return;
        }
        if (v.l4 == net::L4Kind::tcp && v.key.dst_ip == kTargetIp && v.key.dst_port.value() == kTargetPort)
            on_tcp(f, v);
        else
            on_other(f, v);
    }

    void loop() {
        while (!stop_) {
            const auto frames = port_.receive();
            {
                std::lock_guard<std::mutex> g(mu_);
                for (const Frame& f : frames) on_frame(f);
                poll();
            }
            if (frames.empty()) std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

    MacAddr to_mac_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::map<std::uint64_t, Conn> conns_;
    std::vector<std::string> requests_;
    std::vector<Frame> host_frames_;
};

// ---------------------------------------------------------------- one run of the data plane
// A RingPort, a scripted target `Rig` on its far end (constructed from the port), and the
// configuration replaying `capture` out of the port, for the test to adjust before run().
template <class Rig = ScriptedTarget>
struct Replay {
    RingPort port;
    Rig target{port};
    io::DataplaneConfig cfg;
    std::string report;  // the report file, if report_to() named one: removed at the end
    std::string err;

    explicit Replay(const std::string& capture, double speed = 0.0, unsigned tx_queues = worker_lcores(),
                    unsigned tx_ring_size = 4096)
        : port(tx_queues, tx_ring_size), cfg(replay_config(port.port, capture, speed)) {}
    ~Replay() {
        target.stop();
        std::error_code ec;
        if (!report.empty()) std::filesystem::remove(report, ec);
    }
    void report_to(const std::string& name) {  // /tmp/<file prefix>-<name>.json
        report = "/tmp/" + g_prefix + "-" + name + ".json";
        cfg.report_file = report;
    }
    std::string report_json() const { return slurp(report); }

    // Starts the target (unless the test did), runs the data plane, stops the target.
    int run() {
        target.start();
        const int status = io::run_dataplane(std::move(cfg), err);
        target.stop();
        return status;
    }
    // run(), which must succeed.
    void run_ok() {
        const int status = run();
        INFO(err);
        REQUIRE(status == 0);
    }
};

}  // namespace dpcopy::testing
