// A minimal, independent TCP client used as a device under test to check the harness
// and the model target themselves (before and besides the engine): it ignores the
// captured frames except as a start signal and sends every expected session's stream
// to the model target over a real TCP connection (window, retransmission, FIN). Its
// defect knobs make the harness's negative self-checks possible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/session/sim/harness.hpp"

namespace dpcopy::sim {

struct RefClientParams {
    net::Ipv4Addr client_base = net::Ipv4Addr::from_octets(10, 200, 0, 0);
    net::Ipv4Addr target_ip = net::Ipv4Addr::from_octets(172, 16, 0, 2);
    net::Port target_port{8080};
    net::MacAddr mac = mac_of(0x7a000001u);
    net::MacAddr target_mac = mac_of(0x7a000002u);
    std::uint32_t mss = 1460;
    std::uint32_t replicas = 1;
    // Defects (for negative self-checks).
    std::int64_t corrupt_offset = -1;  // flip the byte at this offset of the first session's stream
    bool skip_fin = false;             // never close: leaves half-open connections
    bool bad_checksum = false;         // corrupt the TCP checksum of the first data segment
    bool skip_request = false;         // leave out the second request of the first session
    bool oversize = false;             // ignore the MTU/MSS: send 3000-byte segments
};

class RefClient : public Dut {
public:
    RefClient(const Capture& cap, RefClientParams p, Sink& sink);
    ~RefClient() override;
    void on_captured(net::ConstBytes frame, Nanos now) override;
    void on_target(net::ConstBytes frame, Nanos now) override;
    void advance(Nanos now) override;
    void finish_input(Nanos now) override;
    bool idle() const override;
    std::string describe() const override;

private:
    struct Conn;
    void open(std::size_t session, std::uint64_t from, Nanos now);
    void send(Conn& c, std::uint8_t flags, std::uint64_t off, std::uint32_t len, Nanos now);
    void output(Conn& c, Nanos now);

    const Capture& cap_;
    RefClientParams p_;
    Sink& sink_;
    std::vector<std::vector<std::uint8_t>> streams_;
    std::vector<std::unique_ptr<Conn>> conns_;
    bool started_ = false;
    std::uint32_t next_port_ = 1024;
    std::uint32_t reconnects_ = 0;
    bool bad_checksum_done_ = false;
};

}  // namespace dpcopy::sim
