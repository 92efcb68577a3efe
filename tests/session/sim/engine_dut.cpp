#include "tests/session/sim/engine_dut.hpp"

#include <string_view>

namespace dpcopy::sim {

session::EngineConfig default_engine_config(std::uint32_t fake_clients) {
    session::EngineConfig cfg;
    session::TransferMap tm;
    tm.online_ip = net::Ipv4Addr::from_octets(192, 168, 10, 10);
    tm.online_port = net::Port(80);
    tm.target_ip = net::Ipv4Addr::from_octets(172, 16, 0, 2);
    tm.target_port = net::Port(8080);
    cfg.transfers.push_back(tm);
    for (std::uint32_t i = 0; i < fake_clients; ++i)
        cfg.clients.push_back(net::Ipv4Addr(net::Ipv4Addr::from_octets(10, 99, 0, 1).value() + i));
    cfg.local_mac = mac_of(0x7a000001u);
    cfg.next_hop_mac = mac_of(0x7a000002u);
    cfg.max_sessions = 4096;
    cfg.max_queued_segments = 1u << 14;
    return cfg;
}

EngineDut::EngineDut(const session::EngineConfig& cfg, Sink& sink) : sink_(sink) {
    engine_ = session::Engine::create(cfg, *this, err_);
    if (engine_) engine_->set_observer(this);
}

std::string EngineDut::describe() const {
    if (!engine_) return "engine not created: " + err_;
    std::string s = "active_sessions=" + std::to_string(engine_->active_sessions());
    engine_->counters().for_each([&](std::string_view group, std::string_view name, std::uint64_t v) {
        if (v == 0) return;
        s += " ";
        if (group != "session") s += std::string(group) + ".";
        s += std::string(name) + "=" + std::to_string(v);
    });
    return s;
}

}  // namespace dpcopy::sim
