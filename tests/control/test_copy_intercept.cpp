// dpcopy -s end to end in one process: run_dataplane replays config/samples/http.pcap
// on net_ring; on the other end a scripted TCP target answers, and its responses are
// NOT sent back to dpcopy's port: an InterceptCore (dpintercept's logic) takes them,
// serves dpcopy's SUBSCRIBE heartbeats, and returns RECORDS datagrams. Every request
// of the capture must reach the target exactly once, as in the local-mode test.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/dpdk_io/capture.hpp"
#include "tests/integration/ring_port.hpp"
#include "lib/dpdk_io/control_intercept.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

using namespace dpcopy;
using net::Ipv4Addr;
using net::MacAddr;
namespace tf = net::tcpflag;
using testing::RingPort;
using testing::requests_in_capture;
using Frame = std::vector<std::uint8_t>;

namespace {

std::string g_prefix;
const std::string kSample = std::string(DPCOPY_SOURCE_ROOT) + "/config/samples/http.pcap";
const MacAddr kPeerMac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x01}};
const MacAddr kIcMac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x03}};
const Ipv4Addr kOurIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kTargetIp = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kIcIp = Ipv4Addr::from_octets(198, 18, 0, 3);
const Ipv4Addr kClientLo = Ipv4Addr::from_octets(198, 18, 0, 100);
const Ipv4Addr kClientHi = Ipv4Addr::from_octets(198, 18, 0, 140);
constexpr std::uint16_t kTargetPort = 8080;

std::uint64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}


Frame arp_reply(MacAddr from_mac, Ipv4Addr from_ip, MacAddr to_mac, Ipv4Addr to_ip) {
    net::ArpPkt a;
    a.op = net::ArpPkt::op_reply;
    a.sha = from_mac;
    a.spa = from_ip;
    a.tha = to_mac;
    a.tpa = to_ip;
    Frame f(64);
    f.resize(net::build_arp(f, net::L2Spec{from_mac, to_mac, 0, {}}, a));
    return f;
}

// The scripted target of tests/integration (SYN -> SYN-ACK, one response per complete
// request, FIN -> FIN-ACK), whose responses go to an InterceptCore instead of dpcopy.
class Rig : public session::FrameSink {
public:
    explicit Rig(const RingPort& p) : port_(p) {
        io::InterceptConfig c;
        c.mac = kIcMac;
        c.ip = kIcIp;
        c.allow = io::AddressSet({{kOurIp, kOurIp}});
        c.epoch = wall_ns();
        core_ = std::make_unique<io::InterceptCore>(c);
    }
    void emit(net::ConstBytes f) override { port_.send(f); }  // the intercept's frames
    void start() { thread_ = std::thread([this] { loop(); }); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    ~Rig() override { stop(); }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> g(mu_);
        return requests_;
    }
    io::InterceptCounters counters() {
        std::lock_guard<std::mutex> g(mu_);
        return core_->counters();
    }
    std::uint64_t direct_to_copy = 0;  // responses that reached dpcopy any other way: none

private:
    struct Conn {
        net::Seq snd_nxt, rcv_nxt;
        std::string buf;
        bool closed = false;
    };
    void send_tcp(const net::FlowKey& to_client, net::Seq seq, net::Seq ack, std::uint8_t flags,
                  const std::string& payload = {}) {
        net::TcpSpec t;
        t.src_port = to_client.src_port;
        t.dst_port = to_client.dst_port;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        if (flags & tf::syn) t.options.mss = 1460;
        t.payload = net::ConstBytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
        Frame f(2048);
        f.resize(net::build_tcp(f, net::L2Spec{kPeerMac, kIcMac, 0, {}},
                                net::Ipv4Spec{to_client.src_ip, to_client.dst_ip}, t));
        net::PacketView v;
        if (f.empty() || net::parse_frame(f, v) != net::ParseError::ok) return;
        core_->on_response(f, v, wall_ns(), *this);  // routed to the assistant, captured there
    }
    void on_tcp(const Frame& f, const net::PacketView& v) {
        const auto th = net::TcpHdr::read(net::ConstBytes(f).subspan(v.l4_off));
        const net::FlowKey back = v.key.reversed();
        const std::uint64_t id = v.key.src_port.value() | (std::uint64_t{v.key.src_ip.value()} << 16);
        if (th.has(tf::rst)) {
            conns_.erase(id);
            return;
        }
        if (th.has(tf::syn)) {
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
        if (th.seq != c.rcv_nxt) {
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
    }
    void loop() {
        while (!stop_) {
            const auto frames = port_.receive();
            std::lock_guard<std::mutex> g(mu_);
            for (const Frame& f : frames) {
                net::PacketView v;
                if (net::parse_frame(f, v, net::LinkType::ethernet, true) != net::ParseError::ok) continue;
                if (v.l3 == net::L3Kind::arp) {
                    const auto a = net::ArpPkt::read(net::ConstBytes(f).subspan(v.l3_off, net::ArpPkt::size));
                    if (a.op == net::ArpPkt::op_request && a.tpa == kTargetIp)
                        port_.send(arp_reply(kPeerMac, kTargetIp, a.sha, a.spa));
                    if (a.op == net::ArpPkt::op_request && a.tpa == kIcIp)
                        port_.send(arp_reply(kIcMac, kIcIp, a.sha, a.spa));
                    continue;
                }
                if (v.l4 == net::L4Kind::udp && v.key.dst_ip == kIcIp) core_->on_control(f, v, wall_ns(), *this);
                if (v.l4 == net::L4Kind::tcp && v.key.dst_ip == kTargetIp && v.key.dst_port.value() == kTargetPort)
                    on_tcp(f, v);
            }
            core_->poll(wall_ns(), *this);
            if (frames.empty()) {
                mu_.unlock();
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                mu_.lock();
            }
        }
    }

    const RingPort& port_;
    std::unique_ptr<io::InterceptCore> core_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::map<std::uint64_t, Conn> conns_;
    std::vector<std::string> requests_;
};


}  // namespace

TEST_CASE("dpcopy -s: the sample capture replayed with responses through the intercept, every request once") {
    RingPort port(1);
    Rig rig(port);
    rig.start();
    io::DataplaneConfig c;
    c.engine.transfers.push_back(session::TransferMap{std::nullopt, net::Port(80), kTargetIp, net::Port(kTargetPort)});
    for (auto a = kClientLo.value(); a <= kClientHi.value(); ++a) c.engine.clients.push_back(Ipv4Addr(a));
    c.engine.max_sessions = 1024;
    c.engine.max_queued_segments = 1u << 14;
    c.engine.max_queued_per_session = 1u << 12;
    c.engine.max_tuples = 1u << 16;
    c.clients = io::AddressSet({{kClientLo, kClientHi}});
    std::string err;
    c.capture = io::CaptureReader::open(kSample, err);
    REQUIRE(c.capture);
    c.capture_path = kSample;
    c.speed = 0.0;
    c.tx_port = port.port;
    c.ip = kOurIp;
    c.prefix = 24;
    c.stats_interval_s = 0;
    c.version = "test";
    c.intercepts = {{kIcIp, net::Port(io::control::kDefaultPort)}};
    const int status = io::run_dataplane(std::move(c), err);
    rig.stop();
    INFO(err);
    REQUIRE(status == 0);
    const auto expected = requests_in_capture(kSample, 80);
    REQUIRE(expected.size() == 33);
    const auto got = rig.requests();
    std::map<std::string, int> e, g;
    for (auto& r : expected) ++e[r];
    for (auto& r : got) ++g[r];
    CHECK(g == e);
    const auto ic = rig.counters();
    CHECK(ic.subscriptions_new == 1);
    CHECK(ic.records > 33);            // handshakes, data and FINs all went through records
    CHECK(ic.no_subscriber == 0);
    CHECK(ic.unsubscribes == 1);       // dpcopy said goodbye at exit
    CHECK(ic.rejects.rejected() == 0);
}

int main(int argc, char** argv) {
    std::vector<char*> eal, catch_args;
    int i = 0;
    for (; i < argc && std::string(argv[i]) != "--"; ++i) eal.push_back(argv[i]);
    catch_args.push_back(argv[0]);
    for (++i; i < argc; ++i) catch_args.push_back(argv[i]);
    for (std::size_t k = 0; k + 1 < eal.size(); ++k)
        if (std::string(eal[k]) == "--file-prefix") g_prefix = eal[k + 1];
    if (g_prefix.empty()) return 2;
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::filesystem::remove_all("/var/run/dpdk/" + g_prefix);
        return 77;
    }
    const int rc = Catch::Session().run(static_cast<int>(catch_args.size()), catch_args.data());
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
    return rc;
}
