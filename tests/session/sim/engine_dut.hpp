// The session engine as the harness's device under test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lib/session/engine.hpp"
#include "tests/session/sim/harness.hpp"

namespace dpcopy::sim {

// A config matching the harness defaults: online server 192.168.10.10:80 -> model
// target 172.16.0.2:8080, `fake_clients` fake client addresses from 10.99.0.1.
session::EngineConfig default_engine_config(std::uint32_t fake_clients = 4);

class EngineDut : public Dut, private session::FrameSink, private session::ExchangeObserver {
public:
    EngineDut(const session::EngineConfig& cfg, Sink& sink);
    bool ok() const { return engine_ != nullptr; }
    const std::string& error() const { return err_; }
    session::Engine& engine() { return *engine_; }

    void on_captured(net::ConstBytes frame, Nanos now) override { engine_->on_captured(frame, net::LinkType::ethernet, now); }
    void on_target(net::ConstBytes frame, Nanos now) override { engine_->on_target(frame, now); }
    void advance(Nanos now) override { engine_->advance(now); }
    void finish_input(Nanos now) override { engine_->finish_input(now); }
    bool idle() const override { return engine_->idle(); }
    std::string describe() const override;

    const std::vector<session::ExchangeRecord>& exchanges() const { return exchanges_; }

private:
    void emit(net::ConstBytes frame) override { sink_.emit(frame); }
    void on_exchange(const session::ExchangeRecord& r) override { exchanges_.push_back(r); }

    Sink& sink_;
    std::string err_;
    std::unique_ptr<session::Engine> engine_;
    std::vector<session::ExchangeRecord> exchanges_;
};

}  // namespace dpcopy::sim
