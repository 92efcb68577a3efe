// The session engine as the harness's device under test.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/session/engine.hpp"
#include "tests/session/sim/harness.hpp"

namespace dpcopy::sim {

// A config matching the harness defaults: online server 192.168.10.10:80 -> model
// target 172.16.0.2:8080, `fake_clients` fake client addresses from 10.99.0.1.
session::EngineConfig default_engine_config(std::uint32_t fake_clients = 4);

// `segmented`: the DUT is a zero-copy sink (FrameSink::segmented): data segments come as
// headers plus payload slices, which it assembles into the frame the harness gets, while it
// checks the slice contract: a slice lies within its block, a block's bytes never change
// while the engine holds it, and no slice names a block the engine released.
class EngineDut : public Dut, private session::FrameSink, private session::ExchangeObserver {
public:
    EngineDut(const session::EngineConfig& cfg, Sink& sink, bool segmented = false);
    bool ok() const { return engine_ != nullptr; }
    const std::string& error() const { return err_; }
    session::Engine& engine() { return *engine_; }

    void on_captured(net::ConstBytes frame, Nanos now) override { engine_->on_captured(frame, net::LinkType::ethernet, now); }
    void on_target(net::ConstBytes frame, Nanos now) override { engine_->on_target(frame, now); }
    void advance(Nanos now) override { engine_->advance(now); }
    void finish_input(Nanos now) override { engine_->finish_input(now); }
    bool idle() const override { return engine_->idle(); }
    bool can_take(net::ConstBytes frame) override { return engine_->can_accept(frame, net::LinkType::ethernet); }
    std::string describe() const override;

    const std::vector<session::ExchangeRecord>& exchanges() const { return exchanges_; }
    // Another observer that gets every hook as well (e.g. a compare::Comparator).
    void observe_also(session::ExchangeObserver* o) { also_ = o; }
    // segmented mode: violations of the slice contract (empty when none), and counts
    const std::vector<std::string>& slice_errors() const { return slice_errors_; }
    std::uint64_t segments() const { return segments_; }
    std::uint64_t released() const { return released_; }
    std::size_t blocks_held() const { return blocks_.size(); }

private:
    void emit(net::ConstBytes frame) override { sink_.emit(frame); }
    bool segmented() const override { return segmented_; }
    void emit_segment(net::ConstBytes headers, std::span<const session::PayloadSlice> payload) override;
    void payload_released(std::uint32_t block, std::uint32_t gen) override;
    void slice_error(std::string e) {
        if (slice_errors_.size() < 20) slice_errors_.push_back(std::move(e));
    }
    void on_exchange(const session::ExchangeRecord& r) override {
        exchanges_.push_back(r);
        if (also_) also_->on_exchange(r);
    }
    void on_session_start(std::uint32_t slot, std::uint16_t replica) override {
        if (also_) also_->on_session_start(slot, replica);
    }
    void on_online_data(std::uint32_t slot, std::uint32_t off, net::ConstBytes p, Nanos t) override {
        if (also_) also_->on_online_data(slot, off, p, t);
    }
    void on_client_data(std::uint32_t slot, std::uint32_t off) override {
        if (also_) also_->on_client_data(slot, off);
    }
    void on_request(std::uint32_t slot, net::ConstBytes head, Nanos now) override {
        if (also_) also_->on_request(slot, head, now);
    }
    void on_target_data(std::uint32_t slot, std::uint32_t off, net::ConstBytes p, Nanos now) override {
        if (also_) also_->on_target_data(slot, off, p, now);
    }
    session::ExchangeObserver* also_ = nullptr;

    Sink& sink_;
    std::string err_;
    std::unique_ptr<session::Engine> engine_;
    std::vector<session::ExchangeRecord> exchanges_;
    bool segmented_ = false;
    struct Block {
        std::uint32_t gen = 0;
        std::vector<std::uint8_t> bytes;  // content when first seen
    };
    std::map<std::uint32_t, Block> blocks_;  // blocks seen in slices and not yet released
    std::map<std::uint32_t, std::uint32_t> released_gen_;  // last released generation per block
    std::vector<std::string> slice_errors_;
    std::vector<std::uint8_t> frame_;
    std::uint64_t segments_ = 0, released_ = 0;
};

}  // namespace dpcopy::sim
