// Discrete-event harness: replays a generated capture through a device under test
// (the session engine, or a reference client used to test the harness itself) and
// the model target, over a virtual clock, with a seeded fault plan on the links in
// both directions; then checks, per session, that the target's application received
// exactly the captured client byte stream, in order, and that every connection ended.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/rewrite/bytes.hpp"
#include "tests/session/sim/conversation.hpp"
#include "tests/session/sim/model_target.hpp"

namespace dpcopy::sim {

// Where the device under test sends its frames.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void emit(net::ConstBytes frame) = 0;
};

// The device under test: the same shape as session::Engine.
class Dut {
public:
    virtual ~Dut() = default;
    virtual void on_captured(net::ConstBytes frame, Nanos now) = 0;
    virtual void on_target(net::ConstBytes frame, Nanos now) = 0;
    virtual void advance(Nanos now) = 0;
    virtual void finish_input(Nanos now) = 0;
    virtual bool idle() const = 0;
    virtual std::string describe() const { return {}; }  // counters etc., printed on failure
    // Offline back-pressure (SimConfig::backpressure): may the DUT take this captured frame now?
    virtual bool can_take(net::ConstBytes frame) {
        (void)frame;
        return true;
    }
};

// Faults on one direction of the link between the DUT and the model target.
struct FaultPlan {
    double drop = 0;                 // per frame
    double dup = 0;                  // per frame: delivered twice
    double reorder = 0;              // per frame: held back by up to reorder_max
    Nanos reorder_max = 3 * kMsec;
    std::uint32_t max_consecutive_drops = 2;  // per connection: bounded loss, so a session can always progress
    bool drop_rst = false;
    std::uint32_t drop_first_syns = 0;  // the first N SYNs (or SYN-ACKs) of each connection are lost           // RSTs are never dropped by default (a lost RST leaves a half-open connection nobody can close)
};

struct SimConfig {
    std::uint64_t seed = 1;               // fault plan and model randomness
    ModelParams model;
    FaultPlan to_target, to_engine;
    Nanos link_delay = 100 * kUs;          // one way, DUT <-> target
    double time_scale = 1.0;               // capture time -> virtual time
    Nanos start_offset = 1 * kMsec;
    Nanos bound_after_capture = 120 * kSecond;  // the run must end this long after the last captured frame
    Nanos tick = 1 * kMsec;                // advance() at least this often
    std::uint32_t multiply = 1;            // replicas per session the DUT makes
    bool sampled = false;                  // percent < 100: a session may be skipped entirely
    std::function<std::string(std::uint32_t sid)> label;  // extra text for a failing session (e.g. its seed)
    // A DUT worker that does not always run (descheduled on a busy CPU, as dpdk_io's poll loop
    // can be): in every dut_stall_period it gets no call at all for the first dut_stall_time;
    // frames for it wait in its receive queue meanwhile. When it runs it polls like dpdk_io's
    // worker: at most dut_rx_burst queued target frames per poll, then advance(), one poll per
    // dut_poll_time while frames wait. All 0: frames are delivered as they arrive (default).
    Nanos dut_stall_period = 0, dut_stall_time = 0;
    std::uint32_t dut_rx_burst = 0;
    Nanos dut_poll_time = 20 * kUs;
    // Offline back-pressure, as dpdk_io's capture gate: a captured frame the DUT cannot take
    // (Dut::can_take) waits, with every frame after it, and is offered again at the next tick;
    // the replay lags (SimResult::max_lag) instead of the DUT dropping.
    bool backpressure = false;
};

struct SessionOutcome {
    std::uint32_t connections = 0;   // model connections that carried its data
    std::uint32_t delivered = 0;     // distinct requests delivered
    bool disrupted = false;
};

struct SimResult {
    std::vector<std::string> failures;  // empty: pass
    std::set<std::uint32_t> chosen;     // sids that reached the target
    std::map<std::uint32_t, SessionOutcome> sessions;
    bool finished = false;              // ended before the bound
    Nanos end_time = 0;
    std::uint64_t frames_to_target = 0, frames_to_engine = 0, dropped = 0;
    std::uint64_t model_connections = 0;
    Nanos max_lag = 0;                  // the latest a captured frame was handed to the DUT
    std::string report() const;         // failures, one per line (at most 20)
    bool ok() const { return failures.empty(); }
};

class Harness : private Sink {
public:
    Harness(const Capture& cap, SimConfig cfg);
    Sink& sink() { return *this; }
    SimResult run(Dut& dut);
    const ModelTarget& model() const { return model_; }

private:
    struct Tap {
        std::uint32_t irs = 0;
        std::uint8_t hdr[kReqHeader] = {};
        std::uint32_t hdr_mask = 0;    // bit i: hdr[i] known
        std::uint64_t max_end = 0;     // highest relative stream offset emitted
        bool engine_rst = false;
        bool have_ts = false;
        std::uint32_t last_tsval = 0;
    };

    void emit(net::ConstBytes frame) override;
    void flush(Nanos now);
    void schedule(std::vector<std::uint8_t>&& frame, bool to_model, Nanos now);
    void tap(net::ConstBytes frame);
    void verify(Dut& dut, SimResult& res);
    void trace_frame(net::ConstBytes frame, bool to_model, Nanos now, const char* tag = nullptr) const;

    const Capture& cap_;
    SimConfig cfg_;
    Rng rng_;
    ModelTarget model_;
    std::vector<std::vector<std::uint8_t>> from_dut_, from_model_;
    std::deque<std::vector<std::uint8_t>> dut_inbox_;  // target frames waiting for the DUT's next poll
    // (time, order) -> (to_model, frame)
    std::map<std::pair<Nanos, std::uint64_t>, std::pair<bool, std::vector<std::uint8_t>>> queue_;
    std::uint64_t order_ = 0;
    std::map<std::pair<std::uint64_t, std::uint32_t>, Tap> taps_;  // (client ip:port, irs)
    std::map<std::uint64_t, std::uint32_t> current_irs_;          // client ip:port -> irs of its last SYN
    std::map<std::pair<std::uint64_t, bool>, std::uint32_t> consecutive_drops_, syns_dropped_;
    std::vector<std::string> tap_failures_;
    bool trace_ = false;
    std::uint64_t frames_to_target_ = 0, frames_to_engine_ = 0, dropped_ = 0;
};

// Checks that `data` (one connection's bytes) parses into intact requests of the
// expected session; returns "" or a description of the first difference.
std::string check_requests(const std::vector<std::uint8_t>& data, const ExpectedSession& exp,
                           std::vector<std::uint32_t>& indices, std::uint64_t& partial_bytes);

}  // namespace dpcopy::sim
