// Status line, summary and report JSON (its layout; its header and sections: test_report.cpp);
// the sequence-locked snapshot.
#include <catch2/catch.hpp>

#include <thread>

#include "lib/dpdk_io/published.hpp"
#include "lib/dpdk_io/run_stats.hpp"

using namespace dpcopy;
using io::IoCounter;
using session::Counter;

namespace {
io::RunSnapshot sample() {
    io::RunSnapshot s;
    s.elapsed_ns = 3'000'000'000ULL;
    s.workers = 2;
    s.active_sessions = 12;
    s.session[Counter::sessions_created] = 16;
    s.session[Counter::end_closed] = 4;
    s.session[Counter::data_segments_sent] = 40;
    s.session[Counter::data_bytes_sent] = 4000;
    s.session[Counter::target_frames] = 320;
    s.session[Counter::retransmits_rto] = 1;
    s.session[Counter::drop_target_unknown] = 2;
    s.session.parse_target[static_cast<std::size_t>(net::ParseError::truncated_tcp)] = 5;
    s.io[IoCounter::drop_rx_not_ours] = 1;
    s.io[IoCounter::fed_frames] = 300;
    s.io[IoCounter::tx_frames] = 290;
    s.ports.push_back(io::PortStats{0, 10, 20, 30, 40, 0, 0, 0, 0});
    return s;
}

io::ReportInfo report_info(std::string mode, std::string input, std::string end) {
    io::ReportInfo i;
    i.run.program = "dpcopy";
    i.run.version = "0.1.0";
    i.run.host = "rig";
    i.mode = std::move(mode);
    i.input = std::move(input);
    i.end = std::move(end);
    return i;
}
}  // namespace

TEST_CASE("status line") {
    io::RunSnapshot prev;
    prev.elapsed_ns = 2'000'000'000ULL;
    prev.session[Counter::sessions_created] = 10;
    prev.io[IoCounter::fed_frames] = 180;
    prev.io[IoCounter::tx_frames] = 190;
    CHECK(io::status_line(sample(), prev) ==
          "dpcopy: 3.0s sessions 12 active +6 new 4 ended | requests 40 sent (4000 B) | responses 320 | rtx 1 | "
          "lost 0 | filtered 3 (drop_target_unknown 2, drop_rx_not_ours 1) | in 120/s out 100/s");
    CHECK(io::drop_totals(sample()).lost == 0);
    CHECK(io::drop_totals(sample()).filtered == 3);
    // losses are told apart from what is filtered by design, at most three reasons each
    io::RunSnapshot s = sample();
    s.session[Counter::drop_queue_full_worker] = 7;
    s.session[Counter::create_table_full] = 1;
    s.session[Counter::drop_resync_segments] = 2;
    s.session[Counter::drop_resync_bytes] = 900;  // bytes: in no total
    s.io[IoCounter::drop_handoff_full] = 1;
    const std::string line = io::status_line(s, prev);
    CHECK(line.find(" | lost 11 (drop_queue_full_worker 7, drop_resync_segments 2, create_table_full 1, ...) | "
                    "filtered 3 (drop_target_unknown 2, drop_rx_not_ours 1) | ") != std::string::npos);
    const io::DropTotals t = io::drop_totals(s);
    CHECK(t.lost == 11);
    CHECK(t.filtered == 3);
}

TEST_CASE("drop classes") {
    // every drop counter is in a class; what is filtered names real drop counters only
    std::size_t filtered = 0, lost = 0;
    auto classify = [&](std::string_view name) {
        if (!name.starts_with("drop_") && !name.starts_with("create_")) return;
        switch (io::drop_class(name)) {
            case io::DropClass::filtered: ++filtered; break;
            case io::DropClass::lost: ++lost; break;
            case io::DropClass::bytes: CHECK(name == "drop_resync_bytes"); break;
        }
    };
    for (std::size_t i = 0; i < session::counter_count; ++i) classify(session::counter_names[i]);
    for (std::size_t i = 0; i < io::io_counter_count; ++i) classify(io::io_counter_names[i]);
    CHECK(filtered == io::filtered_drop_counters().size());  // no misspelt name in the list
    CHECK(lost >= 10);
    // what a user must see as loss, and what -r, -x and the capture's own duplicates leave out
    for (std::string_view n : {"drop_queue_full_session", "drop_queue_full_worker", "drop_resync_segments",
                               "create_table_full", "create_no_tuple", "drop_captured_parse", "drop_handoff_full",
                               "drop_live_before_next_hop", "drop_tx_full", "drop_no_mbuf", "drop_too_big"})
        CHECK(io::drop_class(n) == io::DropClass::lost);
    for (std::string_view n : {"drop_captured_not_sampled", "drop_captured_no_transfer", "drop_captured_duplicate",
                               "drop_target_unknown", "drop_rx_not_ours"})
        CHECK(io::drop_class(n) == io::DropClass::filtered);
    CHECK(io::drop_class("drop_some_future_reason") == io::DropClass::lost);  // never hidden
    // the capture reader's skips; mirrored frames before the next hop is known, by service
    CHECK(io::drop_class("drop_file_bad_link_header") == io::DropClass::lost);
    CHECK(io::drop_class("drop_file_not_ip") == io::DropClass::filtered);
    CHECK(io::drop_class("drop_live_before_next_hop_other") == io::DropClass::filtered);
    CHECK(io::drop_class("drop_capture_filter") == io::DropClass::filtered);  // -F leaves them out by design
    // decapsulation: other mirror sessions and other encapsulations are left out by design;
    // cut, malformed, fragmented or unsupported outer headers may hide a frame the copy needed
    CHECK(io::drop_class("mirror_reject_not_selected") == io::DropClass::filtered);
    CHECK(io::drop_class("mirror_reject_not_encapsulated") == io::DropClass::filtered);
    for (std::string_view n : {"mirror_reject_truncated_outer", "mirror_reject_outer_fragment", "mirror_reject_outer_ipv6",
                               "mirror_reject_unknown_gre_proto", "drop_decap_chain"})
        CHECK(io::drop_class(n) == io::DropClass::lost);
    // the mirror port's own drops
    for (std::string_view n : {"port_rx_missed", "port_rx_nombuf", "port_rx_errors"})
        CHECK(io::drop_class(n) == io::DropClass::lost);
    // captured frames the parser rejected for what they are: filtered, under a name made of
    // a real parse reason
    REQUIRE(io::filtered_captured_parse_names().size() >= 2);
    for (std::string_view n : io::filtered_captured_parse_names()) {
        CAPTURE(n);
        CHECK(io::drop_class(n) == io::DropClass::filtered);
        REQUIRE(n.starts_with("parse_captured_"));
        bool reason = false;
        for (std::size_t e = 1; e < net::parse_error_count; ++e) {
            if (n.substr(15) != net::to_string(static_cast<net::ParseError>(e))) continue;
            reason = true;
            CHECK(io::captured_parse_filtered(static_cast<net::ParseError>(e)));
        }
        CHECK(reason);
    }
    CHECK(io::captured_parse_filtered(net::ParseError::not_ipv4));
    CHECK(io::captured_parse_filtered(net::ParseError::ipv6_not_supported));
    CHECK(io::captured_parse_filtered(net::ParseError::unsupported_l4));
    for (auto e : {net::ParseError::truncated_ip, net::ParseError::bad_total_length, net::ParseError::truncated_tcp,
                   net::ParseError::ip_fragment, net::ParseError::truncated_l2})
        CHECK_FALSE(io::captured_parse_filtered(e));
}

// IPv6 and other protocols on the mirror reach the engine, which counts them under
// drop_captured_parse with their reason: that part is filtered, the rest lost.
TEST_CASE("captured frames the parser rejected: other protocols are filtered, the rest lost") {
    io::RunSnapshot s = sample();  // filtered 3 already: drop_target_unknown 2, drop_rx_not_ours 1
    auto& pc = s.session.parse_captured;
    pc[static_cast<std::size_t>(net::ParseError::not_ipv4)] = 6;
    pc[static_cast<std::size_t>(net::ParseError::unsupported_l4)] = 1;
    pc[static_cast<std::size_t>(net::ParseError::truncated_tcp)] = 3;
    s.session[Counter::drop_captured_parse] = 10;
    const io::DropTotals t = io::drop_totals(s);
    CHECK(t.lost == 3);
    CHECK(t.filtered == 3 + 7);
    io::RunSnapshot prev;
    prev.elapsed_ns = 2'000'000'000ULL;
    CHECK(io::status_line(s, prev).find(" | lost 3 (drop_captured_parse 3) | filtered 10 (parse_captured_not_ipv4 6, "
                                        "drop_target_unknown 2, parse_captured_unsupported_l4 1, ...) | ") !=
          std::string::npos);
    const std::string sum = io::summary_text(s, "input done");
    CHECK(sum.find("  lost: drop_captured_parse 3\n") != std::string::npos);
    CHECK(sum.find("  filtered: parse_captured_not_ipv4 6, drop_target_unknown 2, parse_captured_unsupported_l4 1, "
                   "drop_rx_not_ours 1\n") != std::string::npos);
    const std::string j = io::report_json(s, report_info("live", "port 1", "interrupted"));
    CHECK(j.find("\"lost_total\": 3,") != std::string::npos);
    CHECK(j.find("\"filtered_total\": 10,") != std::string::npos);
    CHECK(j.find("\"lost\": {\"drop_captured_parse\": 3},") != std::string::npos);
    CHECK(j.find("\"filtered\": {\"parse_captured_not_ipv4\": 6, \"drop_target_unknown\": 2, "
                 "\"parse_captured_unsupported_l4\": 1, \"drop_rx_not_ours\": 1},") != std::string::npos);
    CHECK(j.find("\"drop_captured_parse\": 10,") != std::string::npos);  // the engine's counter, whole
    // only other protocols: nothing lost
    pc[static_cast<std::size_t>(net::ParseError::truncated_tcp)] = 0;
    s.session[Counter::drop_captured_parse] = 7;
    CHECK(io::drop_totals(s).lost == 0);
    CHECK(io::summary_text(s, "input done").find("  lost: none\n") != std::string::npos);
}

// Live mode: what the mirror port dropped before dpcopy saw it is lost; the TX port's
// counters (and any port offline) stay in the port lines only.
TEST_CASE("live: the mirror port's own drops are lost, by the port") {
    io::RunSnapshot s = sample();  // port 0: the TX port
    s.ports[0].imissed = 100;
    s.ports[0].rx_nombuf = 100;
    CHECK(io::drop_totals(s).lost == 0);
    io::PortStats mirror{1, 5000, 0, 0, 0, 5, 1, 0, 2, true};
    s.ports.push_back(mirror);
    const io::MirrorPortDrops d = io::mirror_port_drops(s);
    CHECK(d.missed == 5);
    CHECK(d.nombuf == 2);
    CHECK(d.errors == 1);
    CHECK(io::drop_totals(s).lost == 8);
    CHECK(io::drop_totals(s).filtered == 3);
    io::RunSnapshot prev;
    prev.elapsed_ns = 2'000'000'000ULL;
    CHECK(io::status_line(s, prev).find(" | lost 8 (port_rx_missed 5, port_rx_nombuf 2, port_rx_errors 1) | ") !=
          std::string::npos);
    const std::string sum = io::summary_text(s, "interrupted");
    CHECK(sum.find("  lost: port_rx_missed 5, port_rx_nombuf 2, port_rx_errors 1\n") != std::string::npos);
    CHECK(sum.find("  port 0: rx 10 tx 20 missed 100 rx_nombuf 100 errors 0/0\n") != std::string::npos);
    CHECK(sum.find("  port 1 (mirror): rx 5000 tx 0 missed 5 rx_nombuf 2 errors 1/0\n") != std::string::npos);
    const std::string j = io::report_json(s, report_info("live", "port 1", "interrupted"));
    CHECK(j.find("\"lost_total\": 8,") != std::string::npos);
    CHECK(j.find("\"lost\": {\"port_rx_missed\": 5, \"port_rx_nombuf\": 2, \"port_rx_errors\": 1},") !=
          std::string::npos);
    CHECK(j.find("{\"port\": 1, \"mirror\": true, \"ipackets\": 5000,") != std::string::npos);
    CHECK(j.find("{\"port\": 0, \"mirror\": false, ") != std::string::npos);
}

// net_af_packet: the kernel's drops on the mirror port's packet sockets are lost too; the
// port line shows them only for a port that has packet sockets.
TEST_CASE("live: the kernel's drops on the mirror's packet sockets are lost") {
    io::RunSnapshot s = sample();
    io::PortStats mirror{1, 5000, 0, 0, 0, 0, 0, 0, 0, true, 7, 2};
    s.ports.push_back(mirror);
    s.ports[0].kernel_drops = 50;  // the TX port's: not the mirror's
    CHECK(io::mirror_port_drops(s).kernel == 7);
    CHECK(io::drop_totals(s).lost == 7);
    CHECK(io::drop_class("port_rx_kernel_drops") == io::DropClass::lost);
    const std::string sum = io::summary_text(s, "interrupted");
    CHECK(sum.find("  lost: port_rx_kernel_drops 7\n") != std::string::npos);
    CHECK(sum.find("  port 1 (mirror): rx 5000 tx 0 missed 0 rx_nombuf 0 kernel_drops 7 errors 0/0\n") !=
          std::string::npos);
    CHECK(sum.find("  port 0: rx 10 tx 20 missed 0 rx_nombuf 0 errors 0/0\n") != std::string::npos);
    const std::string j = io::report_json(s, report_info("live", "port 1", "interrupted"));
    CHECK(j.find("\"lost\": {\"port_rx_kernel_drops\": 7},") != std::string::npos);
    CHECK(j.find("\"kernel_drops\": 7, \"kernel_sockets\": 2}") != std::string::npos);
}

TEST_CASE("summary: requests lost, the pacing's guesses and mid-stream sessions, each on its line") {
    io::RunSnapshot s = sample();
    const std::string none = io::summary_text(s, "input done");
    CHECK(none.find("requests lost") == std::string::npos);
    CHECK(none.find("guesses") == std::string::npos);
    CHECK(none.find("mid-stream") == std::string::npos);
    s.session[Counter::requests_lost_capture_hole] = 2;
    s.session[Counter::capture_hole_bytes] = 396;
    s.session[Counter::requests_lost_resync] = 1;
    s.session[Counter::requests_released_quiet] = 7;
    s.session[Counter::resync_restart_unseen_answer] = 1;
    s.session[Counter::sessions_mid_stream] = 3;
    const std::string t = io::summary_text(s, "input done");
    CHECK(t.find("  requests lost: 3 (2 to capture holes, 396 client bytes never captured; 1 cut by the target's "
                 "close or reset)\n") != std::string::npos);
    CHECK(t.find("  guesses: requests_released_quiet 7, resync_restart_unseen_answer 1\n") != std::string::npos);
    CHECK(t.find("  mid-stream: 3 sessions without their start") != std::string::npos);
}

TEST_CASE("summary") {
    const std::string t = io::summary_text(sample(), "input done");
    CHECK(t.starts_with("dpcopy: summary after 3.000 s (input done), 2 workers\n"));
    CHECK(t.find("  sessions: 16 created, 0 handshakes, 4 ended, 12 still active\n") != std::string::npos);
    CHECK(t.find("  outcomes: end_closed 4\n") != std::string::npos);
    CHECK(t.find("  lost: none\n") != std::string::npos);
    CHECK(t.find("  filtered: drop_target_unknown 2, drop_rx_not_ours 1\n") != std::string::npos);
    io::RunSnapshot l = sample();
    l.session[Counter::drop_queue_full_session] = 4;
    l.session[Counter::drop_resync_bytes] = 1200;
    CHECK(io::summary_text(l, "input done").find("  lost: drop_queue_full_session 4 (1200 captured bytes skipped by resync)\n") !=
          std::string::npos);
    CHECK(t.find("  port 0: rx 10 tx 20") != std::string::npos);
    io::RunSnapshot empty;
    CHECK(io::summary_text(empty, "interrupted").find("  lost: none\n  filtered: none\n") != std::string::npos);
}

TEST_CASE("report JSON") {
    const io::ReportInfo info = report_info("offline", "/tmp/a \"b\".pcap", "input done");
    const std::string j = io::report_json(sample(), info);
    CHECK(j.find("\"input\": \"/tmp/a \\\"b\\\".pcap\",") != std::string::npos);
    CHECK(j.find("\"sessions\": {\"active\": 12, \"created\": 16, \"ended\": 4},") != std::string::npos);
    CHECK(j.find("\"drop_target_unknown\": 2") != std::string::npos);
    CHECK(j.find("\"truncated_tcp\": 5") != std::string::npos);
    CHECK(j.find("\"ports\": [{\"port\": 0, \"mirror\": false, \"ipackets\": 10, \"opackets\": 20") != std::string::npos);
    CHECK(j.find("\"lost\": {},") != std::string::npos);
    CHECK(j.find("\"filtered\": {\"drop_target_unknown\": 2, \"drop_rx_not_ours\": 1},") != std::string::npos);
    CHECK(j.find("\"drops_total\": 3,") != std::string::npos);
    CHECK(j.find("\"lost_total\": 0,") != std::string::npos);
    CHECK(j.find("\"filtered_total\": 3,") != std::string::npos);
    CHECK(j.back() == '\n');
    // balanced braces and brackets (a cheap well-formedness check)
    int depth = 0;
    bool in_str = false;
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (j[i] == '\\') { ++i; continue; }
        if (j[i] == '"') in_str = !in_str;
        if (in_str) continue;
        if (j[i] == '{' || j[i] == '[') ++depth;
        if (j[i] == '}' || j[i] == ']') --depth;
        REQUIRE(depth >= 0);
    }
    CHECK(depth == 0);
}

TEST_CASE("Published: a reader never sees a torn snapshot") {
    struct Pair {
        std::uint64_t a, b;
    };
    io::Published<Pair> pub;
    std::atomic<bool> enough{false};
    std::atomic<std::uint64_t> written{0};
    std::thread writer([&] {
        std::uint64_t i = 1;
        for (; !enough.load() && i < 100'000'000; ++i) pub.publish(Pair{i, ~i});
        written = i - 1;
    });
    std::uint64_t reads = 0, last = 0;
    for (int spins = 0; reads < 2000 && spins < 50'000'000; ++spins) {
        Pair p{};
        if (pub.read(p) && p.a != 0) {
            REQUIRE(p.b == ~p.a);
            REQUIRE(p.a >= last);
            last = p.a;
            ++reads;
        }
    }
    enough = true;
    writer.join();
    Pair p{};
    REQUIRE(pub.read(p));
    CHECK(p.a == written.load());
    CHECK(p.b == ~p.a);
    CHECK(reads == 2000);
}

TEST_CASE("control section (-s): status line, summary, report") {
    io::RunSnapshot s = sample();
    const std::string without = io::report_json(s, report_info("offline", "a.pcap", "input done"));
    CHECK(without.find("\"control\"") == std::string::npos);  // absent without -s
    CHECK(io::summary_text(s, "input done").find("control:") == std::string::npos);

    io::ControlSnapshot c;
    c.subscribes_sent = 7;
    c.unsubscribes_sent = 1;
    c.datagrams_rx = 45;
    c.accepted = 38;
    c.records = 300;
    c.datagrams_lost = 4;
    c.intercept_restarts = 1;
    c.resubscribed = 3;
    c.from_strangers = 2;
    c.records_not_target = 2;
    c.records_not_client = 1;
    c.rejects = {{"truncated", 0}, {"bad_mac", 3}, {"replayed", 2}};
    s.control = c;
    CHECK(s.control->rejected() == 5);

    io::RunSnapshot prev;
    prev.elapsed_ns = 2'000'000'000ULL;
    CHECK(io::status_line(s, prev).find(" | control records 300 lost 4 restarts 1 rejected 7 | in ") !=
          std::string::npos);
    CHECK(io::summary_text(s, "input done")
              .find("  control: 7 subscribes sent, 45 datagrams received (38 accepted), 300 records, 4 datagrams "
                    "lost, 1 intercept restarts, 3 resubscribed, 5 rejected (bad_mac 3, replayed 2), 2 from "
                    "strangers, 2 records not from a target, 1 records not to a fake client\n") !=
          std::string::npos);
    const std::string j = io::report_json(s, report_info("offline", "a.pcap", "input done"));
    CHECK(j.find("\"control\": {\"subscribes_sent\": 7, \"unsubscribes_sent\": 1, \"subscribe_no_mac\": 0, "
                 "\"datagrams_rx\": 45, \"accepted\": 38, \"records\": 300, \"datagrams_lost\": 4, "
                 "\"intercept_restarts\": 1, \"resubscribed\": 3, \"from_strangers\": 2, \"wrong_type\": 0, "
                 "\"records_not_target\": 2, \"records_not_client\": 1, \"rejected\": 5, "
                 "\"rejects\": {\"truncated\": 0, \"bad_mac\": 3, \"replayed\": 2}},\n") != std::string::npos);
    CHECK(j.find("\"ports\": [") > j.find("\"control\""));
    int depth = 0;
    bool in_str = false;
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (j[i] == '\\') { ++i; continue; }
        if (j[i] == '"') in_str = !in_str;
        if (in_str) continue;
        if (j[i] == '{' || j[i] == '[') ++depth;
        if (j[i] == '}' || j[i] == ']') --depth;
        REQUIRE(depth >= 0);
    }
    CHECK(depth == 0);
}

TEST_CASE("offline: the status line shows the position in the capture and the time left") {
    io::RunSnapshot s = sample();
    io::RunSnapshot prev;
    s.elapsed_ns = 3'000'000'000ULL;
    s.input = io::InputProgress{2'900'000, 1'160'000, 0, 1};  // 40 % in 3 s: 4.5 s left
    CHECK(s.input->fraction() == Approx(0.4));
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s file 40% (1.2 of 2.9 MB), 4s left | sessions ") == 0);
    s.input = io::InputProgress{1'000'000, 500'000, 1, 4};  // pass 2 of 4, half way: 37.5 %
    CHECK(s.input->fraction() == Approx(0.375));
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s file 38% pass 2/4 (0.5 of 1.0 MB), 5s left | ") == 0);
    s.input = io::InputProgress{1'000'000, 1'000'000, 0, 1};  // all read: no estimate
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s file 100% (1.0 of 1.0 MB) | sessions ") == 0);
    s.input = io::InputProgress{24'300, 12'150, 0, 1};  // under 1 MB: kB
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s file 50% (12.2 of 24.3 kB), 3s left | ") == 0);
    s.input = io::InputProgress{0, 0, 0, 1};  // an empty file
    CHECK(s.input->fraction() == 0);
    s.input.reset();  // live
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s sessions ") == 0);
}

TEST_CASE("overload: the replay's lag in the status line, the summary and the report; shed sessions apart from lost") {
    io::RunSnapshot s = sample();
    io::RunSnapshot prev;
    s.elapsed_ns = 3'000'000'000ULL;
    io::InputProgress in{2'900'000, 1'160'000, 0, 1};
    in.paced = true;
    in.lag_ns = 1'250'000'000ULL;
    in.max_lag_ns = 2'500'000'000ULL;
    s.input = in;
    CHECK(io::status_line(s, prev).find("dpcopy: 3.0s file 40% (1.2 of 2.9 MB), 4s left, lag 1.2s | sessions ") == 0);
    CHECK(io::summary_text(s, "input done").find("  replay lag behind the capture: 2.500 s at most, 1.250 s at the end\n") !=
          std::string::npos);
    std::string j = io::report_json(s, report_info("offline", "a.pcap", "input done"));
    CHECK(j.find("\"replay\": {\"paced\": true, \"lag_s\": 1.25, \"max_lag_s\": 2.5}") != std::string::npos);
    // --speed 0: no clock to lag behind
    s.input->paced = false;
    CHECK(io::status_line(s, prev).find("lag") == std::string::npos);
    CHECK(io::summary_text(s, "input done").find("replay lag") == std::string::npos);
    // live: shed sessions are their own outcome, neither lost nor filtered
    s.input.reset();
    const io::DropTotals before = io::drop_totals(s);
    s.session.v[static_cast<std::size_t>(session::Counter::shed_sessions)] = 4;
    s.session.v[static_cast<std::size_t>(session::Counter::shed_requests)] = 9;
    s.session.v[static_cast<std::size_t>(session::Counter::shed_frames)] = 30;
    CHECK(io::drop_totals(s).lost == before.lost);
    CHECK(io::drop_totals(s).filtered == before.filtered);
    CHECK(io::status_line(s, prev).find(" | shed 4 sessions | ") != std::string::npos);
    CHECK(io::summary_text(s, "interrupted").find("  shed (admission control, not lost): 4 sessions, 9 requests, 30 captured frames\n") !=
          std::string::npos);
    j = io::report_json(s, report_info("live", "port 1", "interrupted"));
    CHECK(j.find("\"shed\": {\"sessions\": 4, \"requests\": 9, \"frames\": 30}") != std::string::npos);
    CHECK(j.find("\"replay\"") == std::string::npos);
}

// --mirror-encap: the decapsulation's counters in the report, and its rejects among the
// drops by class (other sessions filtered, unreadable outer headers lost).
TEST_CASE("mirror decapsulation counters: report section, drops by class") {
    io::RunSnapshot s;
    s.elapsed_ns = 1'000'000'000ULL;
    s.mirror_decap[mirror::DecapCounter::decap_vxlan] = 40;
    s.mirror_decap[mirror::DecapCounter::reject_not_selected] = 7;
    s.mirror_decap[mirror::DecapCounter::reject_outer_fragment] = 2;
    CHECK(io::drop_totals(s).lost == 2);
    CHECK(io::drop_totals(s).filtered == 7);
    const std::string j = io::report_json(s, report_info("live", "port 1", "interrupted"));
    CHECK(j.find("\"mirror\": {\"plain\": 0, \"decap_vxlan\": 40, ") != std::string::npos);
    CHECK(j.find("\"lost\": {\"mirror_reject_outer_fragment\": 2},") != std::string::npos);
    CHECK(j.find("\"filtered\": {\"mirror_reject_not_selected\": 7},") != std::string::npos);
    CHECK(io::summary_text(s, "interrupted").find("mirror_reject_outer_fragment 2") != std::string::npos);
}
