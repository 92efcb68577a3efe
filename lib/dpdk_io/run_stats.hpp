// What a run has done so far, and the three ways it is shown: the status line
// (--stats-interval), the final summary, and the --report JSON. Pure (no DPDK), so
// the formats are unit-tested. See docs/operations.md for the fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "lib/dpdk_io/io_counters.hpp"
#include "lib/session/counters.hpp"

namespace dpcopy::io {

struct PortStats {
    std::uint16_t port = 0;
    std::uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0;
    std::uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
};

// dpcopy's side of the control protocol (-s): filled from ControlClientCounters by
// io::control_snapshot (lib/dpdk_io/control_client.hpp). Plain numbers and names here,
// so this file does not depend on the codec.
struct ControlSnapshot {
    std::uint64_t subscribes_sent = 0, unsubscribes_sent = 0;
    std::uint64_t subscribe_no_mac = 0;      // heartbeats delayed: the intercept's next hop unresolved
    std::uint64_t datagrams_rx = 0;          // to our control port
    std::uint64_t accepted = 0;              // RECORDS datagrams that passed every check
    std::uint64_t records = 0;               // records handed to the engine
    std::uint64_t datagrams_lost = 0;        // sequence gaps
    std::uint64_t intercept_restarts = 0;    // a new intercept epoch after the first
    std::uint64_t resubscribed = 0;          // the same intercept took us as a new subscription (ours expired)
    std::uint64_t from_strangers = 0;        // datagrams from a source that is not an -s intercept
    std::uint64_t wrong_type = 0;            // valid, but not RECORDS or for another instance
    std::vector<std::pair<std::string, std::uint64_t>> rejects;  // every reason, the protocol's order
    std::uint64_t rejected() const noexcept {
        std::uint64_t n = 0;
        for (const auto& r : rejects) n += r.second;
        return n;
    }
};

struct RunSnapshot {
    std::uint64_t elapsed_ns = 0;      // since the data plane started
    std::uint32_t workers = 0;
    std::uint64_t active_sessions = 0;
    session::Counters session;         // summed over the workers
    IoCounters io;                     // summed over the workers and the feeder
    std::vector<PortStats> ports;
    std::optional<ControlSnapshot> control;  // with -s only
};

// Sum of a snapshot's drop counters (session and io counters whose names start with
// "drop_", plus sessions not created for lack of room).
std::uint64_t total_drops(const RunSnapshot& s) noexcept;

// One line, no newline:
// "dpcopy: 3.0s sessions 12 active +4 new 2 ended | sent 350 (data 40) | target 320 | rtx 1 |
//  drops 3 (drop_target_unknown 2, drop_rx_not_ours 1) | in 120/s out 116/s"
// With a control section: "... | control records 300 lost 0 restarts 0 rejected 2" before " | in".
std::string status_line(const RunSnapshot& cur, const RunSnapshot& prev);

// The final summary: several lines, each ending with a newline. `end` says why the run
// ended ("input done", "interrupted", ...). With a control section, one line
// "  control: N subscribes sent, N datagrams received (N accepted), N records, N datagrams lost,
//  N intercept restarts, N resubscribed, N rejected (bad_mac 3, replayed 2), N from strangers".
std::string summary_text(const RunSnapshot& s, std::string_view end);

struct ReportInfo {
    std::string version;
    std::string mode;        // "offline" or "live"
    std::string input;       // capture file, or "port N"
    std::string end;         // why the run ended
    int exit_status = 0;
};

// The --report document: one JSON object (see docs/operations.md), ending with a newline.
std::string report_json(const RunSnapshot& s, const ReportInfo& info);

// JSON string literal with escapes (quotes included).
std::string json_quote(std::string_view text);

}  // namespace dpcopy::io
