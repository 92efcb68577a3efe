// What a run has done so far, and the three ways it is shown: the status line
// (--stats-interval), the final summary, and the --report JSON. Pure (no DPDK), so
// the formats are unit-tested. See docs/operations.md for the fields, docs/reports.md for
// the report.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "lib/dpdk_io/io_counters.hpp"
#include "lib/mirror/decap.hpp"
#include "lib/dpdk_io/report.hpp"
#include "lib/session/counters.hpp"

namespace dpcopy::io {

struct PortStats {
    std::uint16_t port = 0;
    std::uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0;
    std::uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
    bool mirror = false;  // live mode: the port dpcopy copies from (what it drops is lost)
    // net_af_packet: what the kernel dropped on the port's packet sockets (their RX rings
    // were full), read with PACKET_STATISTICS (packet_socket_drops.hpp); no ethdev counter
    // has it. kernel_sockets is 0 for other drivers.
    std::uint64_t kernel_drops = 0;
    std::uint32_t kernel_sockets = 0;
};

// dpcopy's side of the control protocol (-s): filled from ControlClientCounters by
// io::control_snapshot (lib/control/control_client.hpp). Plain numbers and names here,
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
    std::uint64_t records_not_target = 0;    // records refused: source not a -x target
    std::uint64_t records_not_client = 0;    // records refused: destination not one of our fake clients
    std::vector<std::pair<std::string, std::uint64_t>> rejects;  // every reason, the protocol's order
    std::uint64_t rejected() const noexcept {
        std::uint64_t n = 0;
        for (const auto& r : rejects) n += r.second;
        return n;
    }
};

// Offline: how far the replay is through the capture (--loop counts passes).
struct InputProgress {
    std::uint64_t file_bytes = 0;   // the capture's size
    std::uint64_t done_bytes = 0;   // read so far in this pass
    std::uint32_t pass = 0;         // 0-based
    std::uint32_t passes = 1;       // --loop
    // The replay's lag behind the capture's clock (--speed > 0, `paced`): how late the frame
    // the feeder had in hand was when a worker took it, plus how long the latest request
    // waited in its engine (now, and the most so far). A target slower than the capture makes
    // the replay lag instead of dropping (docs/operations.md, "Overload").
    bool paced = false;
    std::uint64_t lag_ns = 0;
    std::uint64_t max_lag_ns = 0;
    // Fraction of the whole replay read, 0..1.
    double fraction() const noexcept;
};

struct RunSnapshot {
    std::uint64_t elapsed_ns = 0;      // since the data plane started
    std::uint32_t workers = 0;
    std::uint64_t active_sessions = 0;
    session::Counters session;         // summed over the workers
    IoCounters io;                     // summed over the workers and the feeder
    mirror::DecapCounters mirror_decap;  // live, --mirror-encap: by encapsulation and reject reason
    std::vector<PortStats> ports;
    std::optional<ControlSnapshot> control;  // with -s only
    std::optional<InputProgress> input;      // offline only
};

// Drops (session and io counters whose names start with "drop_" or "create_", the parse
// reasons below, the mirror port's own drops) fall in two classes, so a reader can tell a
// loss from what dpcopy is meant to leave out:
// - lost: something the copy should have carried did not (a captured client frame queued
//   nowhere, a session not created, a frame that never left): session queue or pool full,
//   resync skips, table or tuples exhausted, hand-off/TX/mbuf shortages, unreadable
//   captured frames, mirrored frames of a -x service before the next hop was known, and in
//   live mode what the mirror port itself dropped (port_rx_missed, port_rx_nombuf,
//   port_rx_errors, port_rx_kernel_drops). Any drop counter not listed as filtered is lost (a new reason is never
//   hidden).
// - filtered: frames that are not part of a copy by design: not TCP (including the
//   captured frames the parser rejected for being another protocol, ARP, UDP or ICMP:
//   parse_captured_not_ipv4, ... taken out of drop_captured_parse), no -x transfer, not
//   chosen by -r, refused by -O, the capture's own duplicates and retransmissions, stray
//   ACK/FIN/RST of sessions already ended, target frames of ended sessions or beyond what we
//   sent, frames for other hosts, mirrored frames of no -x service before the next hop was
//   known, capture records of another protocol.
// drop_resync_bytes counts bytes, not frames: in neither total (shown with the lost ones).
enum class DropClass { lost, filtered, bytes };
DropClass drop_class(std::string_view counter) noexcept;
// The counter names classified as filtered, and the filtered parse reasons of captured
// frames under their names (parse_captured_<reason>), for tests and documentation.
std::span<const std::string_view> filtered_drop_counters() noexcept;
std::span<const std::string_view> filtered_captured_parse_names() noexcept;
// True when the parser rejected a captured frame for what it is (another protocol, ARP,
// UDP, ICMP), not for a cut or malformed header that may hide a TCP frame: filtered.
bool captured_parse_filtered(net::ParseError e) noexcept;
// What the mirror ports (PortStats::mirror) dropped before dpcopy saw it, summed: the
// NIC's missed frames (imissed: its RX queues were full), frames without an mbuf
// (rx_nombuf), bad frames (ierrors) and, for net_af_packet, the kernel's drops on the
// port's packet sockets.
struct MirrorPortDrops {
    std::uint64_t missed = 0, nombuf = 0, errors = 0, kernel = 0;
};
MirrorPortDrops mirror_port_drops(const RunSnapshot& s) noexcept;
struct DropTotals {
    std::uint64_t lost = 0;
    std::uint64_t filtered = 0;
};
// Both classes summed over the snapshot; drops_total = lost + filtered.
DropTotals drop_totals(const RunSnapshot& s);
// Every drop reason of the snapshot with its value (zeros included) and class, in a fixed
// order: what the lost/filtered lines and totals are made of (the metrics export them).
void for_each_drop(const RunSnapshot& s, const std::function<void(std::string_view, std::uint64_t, DropClass)>& f);

// One line, no newline:
// "dpcopy: 3.0s sessions 12 active +4 new 2 ended | requests 40 sent (4000 B) | responses 320 |
//  rtx 1 | lost 0 | filtered 3 (drop_target_unknown 2, drop_rx_not_ours 1) | in 120/s out 116/s"
// (at most three reasons of each class, largest first).
// With a control section: "... | control records 300 lost 0 restarts 0 rejected 2" before " | in".
// Offline, first: "dpcopy: 3.0s file 42% (1.2 of 2.9 MB), 4s left | sessions ..." (the time
// left from the average pace so far; the pass "2/3" too with --loop).
std::string status_line(const RunSnapshot& cur, const RunSnapshot& prev);

// The final summary: several lines, each ending with a newline. `end` says why the run
// ended ("input done", "interrupted", ...). With a control section, one line
// "  control: N subscribes sent, N datagrams received (N accepted), N records, N datagrams lost,
//  N intercept restarts, N resubscribed, N rejected (bad_mac 3, replayed 2), N from strangers".
std::string summary_text(const RunSnapshot& s, std::string_view end);

// What dpcopy's report says besides the snapshot: the run header (docs/reports.md) and
// the run's mode, input and end.
struct ReportInfo {
    RunHeader run;           // program "dpcopy", version, times, host, options, end_reason
    std::string mode;        // "offline" or "live"
    std::string input;       // capture file, or "port N"
    std::string end;         // why the run ended, as the summary says it ("input done", ...)
    int exit_status = 0;
};

// The --report document (docs/reports.md) as JSON, before it is written: the run header,
// then dpcopy's sections. More sections: add_report_section (report.hpp).
ReportJson report_document(const RunSnapshot& s, const ReportInfo& info);
// report_text(report_document(s, info)): one JSON object, ending with a newline.
std::string report_json(const RunSnapshot& s, const ReportInfo& info);

}  // namespace dpcopy::io
