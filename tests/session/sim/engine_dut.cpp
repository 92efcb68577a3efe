#include "tests/session/sim/engine_dut.hpp"

#include <algorithm>
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

EngineDut::EngineDut(const session::EngineConfig& cfg, Sink& sink, bool segmented) : sink_(sink), segmented_(segmented) {
    engine_ = session::Engine::create(cfg, *this, err_);
    if (engine_) engine_->set_observer(this);
}

void EngineDut::emit_segment(net::ConstBytes headers, std::span<const session::PayloadSlice> payload) {
    ++segments_;
    frame_.assign(headers.begin(), headers.end());
    for (const session::PayloadSlice& sl : payload) {
        const std::string id = "block " + std::to_string(sl.block) + " gen " + std::to_string(sl.gen);
        if (sl.bytes.empty()) slice_error(id + ": empty slice");
        if (sl.block_data == nullptr || std::size_t{sl.offset} + sl.bytes.size() > sl.block_len ||
            sl.bytes.data() != sl.block_data + sl.offset)
            slice_error(id + ": slice outside its block");
        const auto rel = released_gen_.find(sl.block);
        if (rel != released_gen_.end() && rel->second == sl.gen) slice_error(id + ": used after payload_released");
        auto it = blocks_.find(sl.block);
        if (it != blocks_.end() && it->second.gen != sl.gen) {
            slice_error(id + ": new generation while generation " + std::to_string(it->second.gen) + " was not released");
            blocks_.erase(it);
            it = blocks_.end();
        }
        if (it == blocks_.end() && sl.block_data)
            it = blocks_.emplace(sl.block, Block{sl.gen, std::vector<std::uint8_t>(sl.block_data, sl.block_data + sl.block_len)})
                     .first;
        if (it != blocks_.end() && sl.block_data &&
            (it->second.bytes.size() != sl.block_len || !std::equal(it->second.bytes.begin(), it->second.bytes.end(), sl.block_data)))
            slice_error(id + ": block content changed while held");
        frame_.insert(frame_.end(), sl.bytes.begin(), sl.bytes.end());
    }
    sink_.emit(net::ConstBytes(frame_.data(), frame_.size()));
}

void EngineDut::payload_released(std::uint32_t block, std::uint32_t gen) {
    ++released_;
    const auto rel = released_gen_.find(block);
    if (rel != released_gen_.end() && rel->second == gen) slice_error("block " + std::to_string(block) + " gen " + std::to_string(gen) + " released twice");
    released_gen_[block] = gen;
    const auto it = blocks_.find(block);
    if (it != blocks_.end()) {
        if (it->second.gen != gen) slice_error("block " + std::to_string(block) + ": released generation " + std::to_string(gen) + " is not the one in use");
        blocks_.erase(it);
    }
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
