#include "lib/dpdk_io/run_stats.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

namespace dpcopy::io {

namespace {

bool is_drop_name(std::string_view n) noexcept {
    return n.starts_with("drop_") || n.starts_with("create_");
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::uint64_t delta(std::uint64_t a, std::uint64_t b) noexcept { return a >= b ? a - b : 0; }

double rate(std::uint64_t n, std::uint64_t ns) noexcept {
    return ns == 0 ? 0.0 : static_cast<double>(n) * 1e9 / static_cast<double>(ns);
}

// Drop counters of frames that are not part of a copy by design (run_stats.hpp, DropClass).
constexpr std::string_view kFiltered[] = {
    "drop_captured_not_tcp",     "drop_captured_no_transfer", "drop_captured_not_sampled",
    "drop_captured_no_session",  "drop_captured_mid_stream",  "drop_captured_duplicate_syn",
    "drop_captured_duplicate",   "drop_captured_after_close", "drop_server_frame_early",
    "drop_target_parse",         "drop_target_not_tcp",       "drop_target_unknown",
    "drop_target_bad_ack",       "drop_rx_parse",             "drop_rx_not_ours",           "drop_rx_vlan",
    "drop_file_not_ip",        "drop_live_before_next_hop_other", "drop_capture_filter",
};
// Mirrored frames refused by the decapsulation by design: another mirror session than
// vni=/session= select, not the encapsulation --mirror-encap names. Its other reject
// reasons (cut, malformed, fragmented, unsupported outer headers) are lost.
constexpr std::string_view kFilteredMirror[] = {"mirror_reject_not_selected", "mirror_reject_not_encapsulated"};

// Parse reasons of captured frames that are not TCP by what they are (another network
// protocol, IPv6 until its sessions exist (issue #18), ARP, UDP, ICMP, an IPv4 protocol the parser does not read): filtered like
// drop_captured_not_tcp, under these names. The rest of drop_captured_parse (cut or
// malformed Ethernet, IPv4 or TCP headers, fragments) may hide a frame the copy needed: lost.
struct FilteredParse {
    net::ParseError reason;
    std::string_view name;
};
constexpr FilteredParse kFilteredCapturedParse[] = {
    {net::ParseError::not_ipv4, "parse_captured_not_ipv4"},
    {net::ParseError::ipv6_not_supported, "parse_captured_ipv6_not_supported"},
    {net::ParseError::truncated_arp, "parse_captured_truncated_arp"},
    {net::ParseError::bad_arp, "parse_captured_bad_arp"},
    {net::ParseError::truncated_udp, "parse_captured_truncated_udp"},
    {net::ParseError::bad_udp_length, "parse_captured_bad_udp_length"},
    {net::ParseError::truncated_icmp, "parse_captured_truncated_icmp"},
    {net::ParseError::unsupported_l4, "parse_captured_unsupported_l4"},
};
constexpr auto kFilteredParseNames = [] {
    std::array<std::string_view, std::size(kFilteredCapturedParse)> names{};
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = kFilteredCapturedParse[i].name;
    return names;
}();

std::uint64_t captured_parse(const RunSnapshot& s, net::ParseError e) noexcept {
    return s.session.parse_captured[static_cast<std::size_t>(e)];
}

// Every drop of the snapshot with its class, in a fixed order: the engine's counters (with
// the filtered parse reasons taken out of drop_captured_parse and listed on their own), the
// adapter's, then what the mirror ports dropped themselves.
struct Drop {
    std::string_view name;
    std::uint64_t value;
    DropClass cls;
};
std::vector<Drop> classified_drops(const RunSnapshot& s) {
    std::vector<Drop> d;
    auto add = [&d](std::string_view name, std::uint64_t v) { d.push_back(Drop{name, v, drop_class(name)}); };
    std::uint64_t parse_filtered = 0;
    for (const FilteredParse& f : kFilteredCapturedParse) parse_filtered += captured_parse(s, f.reason);
    for (std::size_t i = 0; i < session::counter_count; ++i) {
        const std::string_view name = session::counter_names[i];
        if (!is_drop_name(name)) continue;
        add(name, name == "drop_captured_parse" ? delta(s.session.v[i], parse_filtered) : s.session.v[i]);
    }
    for (const FilteredParse& f : kFilteredCapturedParse) add(f.name, captured_parse(s, f.reason));
    for (std::size_t i = 0; i < io_counter_count; ++i)
        if (is_drop_name(io_counter_names[i])) add(io_counter_names[i], s.io.v[i]);
    for (std::size_t i = 0; i < mirror::decap_counter_count; ++i)
        if (mirror::is_reject(static_cast<mirror::DecapCounter>(i)))
            add(mirror::decap_counter_qualified_names[i], s.mirror_decap.v[i]);
    const MirrorPortDrops p = mirror_port_drops(s);
    add("port_rx_missed", p.missed);
    add("port_rx_nombuf", p.nombuf);
    add("port_rx_errors", p.errors);
    add("port_rx_kernel_drops", p.kernel);
    return d;
}

using Reasons = std::vector<std::pair<std::string_view, std::uint64_t>>;

// Nonzero drops of one class, largest first.
Reasons drops_by_reason(const RunSnapshot& s, DropClass cls) {
    Reasons d;
    for (const Drop& x : classified_drops(s))
        if (x.value && x.cls == cls) d.emplace_back(x.name, x.value);
    std::stable_sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return d;
}

std::string reasons_text(const Reasons& d, std::size_t most) {
    std::string r;
    for (std::size_t i = 0; i < d.size() && i < most; ++i)
        r += (i ? ", " : "") + std::string(d[i].first) + " " + std::to_string(d[i].second);
    if (d.size() > most) r += ", ...";
    return r;
}

using session::Counter;

std::string control_rejects_text(const ControlSnapshot& c) {
    std::string r;
    for (const auto& [name, v] : c.rejects)
        if (v) r += (r.empty() ? " (" : ", ") + name + " " + std::to_string(v);
    return r.empty() ? r : r + ")";
}

}  // namespace

std::span<const std::string_view> filtered_drop_counters() noexcept { return kFiltered; }
std::span<const std::string_view> filtered_captured_parse_names() noexcept { return kFilteredParseNames; }

DropClass drop_class(std::string_view counter) noexcept {
    if (counter == "drop_resync_bytes") return DropClass::bytes;
    for (std::string_view f : kFiltered)
        if (counter == f) return DropClass::filtered;
    for (std::string_view f : kFilteredParseNames)
        if (counter == f) return DropClass::filtered;
    for (std::string_view f : kFilteredMirror)
        if (counter == f) return DropClass::filtered;
    return DropClass::lost;
}

bool captured_parse_filtered(net::ParseError e) noexcept {
    for (const FilteredParse& f : kFilteredCapturedParse)
        if (f.reason == e) return true;
    return false;
}

MirrorPortDrops mirror_port_drops(const RunSnapshot& s) noexcept {
    MirrorPortDrops d;
    for (const PortStats& p : s.ports) {
        if (!p.mirror) continue;
        d.missed += p.imissed;
        d.nombuf += p.rx_nombuf;
        d.errors += p.ierrors;
        d.kernel += p.kernel_drops;
    }
    return d;
}

void for_each_drop(const RunSnapshot& s, const std::function<void(std::string_view, std::uint64_t, DropClass)>& f) {
    for (const Drop& x : classified_drops(s)) f(x.name, x.value, x.cls);
}

DropTotals drop_totals(const RunSnapshot& s) {
    DropTotals t;
    for (const Drop& x : classified_drops(s)) {
        switch (x.cls) {
            case DropClass::lost: t.lost += x.value; break;
            case DropClass::filtered: t.filtered += x.value; break;
            case DropClass::bytes: break;
        }
    }
    return t;
}

double InputProgress::fraction() const noexcept {
    if (file_bytes == 0 || passes == 0) return 0;
    const double done = static_cast<double>(pass) * static_cast<double>(file_bytes) +
                        static_cast<double>(std::min(done_bytes, file_bytes));
    return std::min(1.0, done / (static_cast<double>(passes) * static_cast<double>(file_bytes)));
}

namespace {

// " file 42% (1.2 of 2.9 MB), 4s left |" (pass 2/3 with --loop; kB under 1 MB); the time
// left once 1 % is read. The position is the reader's, ahead of the replay by its stdio
// buffer (a few kB): coarse on small files only.
std::string progress_text(const InputProgress& in, std::uint64_t elapsed_ns) {
    const double f = in.fraction();
    std::string s = " file " + fmt("%.0f%%", f * 100);
    if (in.passes > 1) s += " pass " + std::to_string(in.pass + 1) + "/" + std::to_string(in.passes);
    const bool mb = in.file_bytes >= 1'000'000;  // else kB
    const double unit = mb ? 1e6 : 1e3;
    s += " (" + fmt("%.1f", static_cast<double>(std::min(in.done_bytes, in.file_bytes)) / unit) + " of " +
         fmt("%.1f", static_cast<double>(in.file_bytes) / unit) + (mb ? " MB)" : " kB)");
    if (f >= 0.01 && f < 1) s += ", " + fmt("%.0fs", static_cast<double>(elapsed_ns) / 1e9 * (1 - f) / f) + " left";
    if (in.paced) s += ", lag " + fmt("%.1fs", static_cast<double>(in.lag_ns) / 1e9);
    return s + " |";
}

}  // namespace

std::string status_line(const RunSnapshot& cur, const RunSnapshot& prev) {
    const auto& c = cur.session;
    const auto& p = prev.session;
    const std::uint64_t dt = delta(cur.elapsed_ns, prev.elapsed_ns);
    std::string s = "dpcopy: " + fmt("%.1fs", static_cast<double>(cur.elapsed_ns) / 1e9);
    if (cur.input) s += progress_text(*cur.input, cur.elapsed_ns);
    s += " sessions " + std::to_string(cur.active_sessions) + " active +" +
         std::to_string(delta(c[Counter::sessions_created], p[Counter::sessions_created])) + " new " +
         std::to_string(delta(c.ended(), p.ended())) + " ended";
    s += " | requests " + std::to_string(c[Counter::data_segments_sent]) + " sent (" +
         std::to_string(c[Counter::data_bytes_sent]) + " B)";
    s += " | responses " + std::to_string(c[Counter::target_frames]);
    s += " | rtx " + std::to_string(c[Counter::retransmits_rto] + c[Counter::retransmits_fast] +
                                    c[Counter::syn_retransmits]);
    const DropTotals totals = drop_totals(cur);
    const Reasons lost = drops_by_reason(cur, DropClass::lost);
    const Reasons filtered = drops_by_reason(cur, DropClass::filtered);
    s += " | lost " + std::to_string(totals.lost);
    if (!lost.empty()) s += " (" + reasons_text(lost, 3) + ")";
    s += " | filtered " + std::to_string(totals.filtered);
    if (!filtered.empty()) s += " (" + reasons_text(filtered, 3) + ")";
    if (const std::uint64_t shed = c[Counter::shed_sessions]) s += " | shed " + std::to_string(shed) + " sessions";
    if (cur.control) {
        const ControlSnapshot& k = *cur.control;
        s += " | control records " + std::to_string(k.records) + " lost " + std::to_string(k.datagrams_lost) +
             " restarts " + std::to_string(k.intercept_restarts) + " rejected " +
             std::to_string(k.rejected() + k.from_strangers);
    }
    const std::uint64_t in_now = cur.io[IoCounter::rx_frames] + cur.io[IoCounter::fed_frames];
    const std::uint64_t in_prev = prev.io[IoCounter::rx_frames] + prev.io[IoCounter::fed_frames];
    s += " | in " + fmt("%.0f", rate(delta(in_now, in_prev), dt)) + "/s out " +
         fmt("%.0f", rate(delta(cur.io[IoCounter::tx_frames], prev.io[IoCounter::tx_frames]), dt)) + "/s";
    return s;
}

namespace {
// "name N, name N" for the nonzero counters among `names`.
std::string nonzero_text(const session::Counters& c, std::initializer_list<Counter> names) {
    std::string r;
    for (Counter k : names) {
        if (!c[k]) continue;
        r += (r.empty() ? "" : ", ") + std::string(session::to_string(k)) + " " + std::to_string(c[k]);
    }
    return r;
}

// The summary's lines on requests rather than frames: requests lost to capture holes and to
// the target's resets, the pacing's guesses, sessions picked up without their start.
std::string request_loss_lines(const session::Counters& c) {
    std::string t;
    const std::uint64_t holes = c[Counter::requests_lost_capture_hole], cut = c[Counter::requests_lost_resync];
    if (holes || cut) {
        t += "  requests lost: " + std::to_string(holes + cut) + " (" + std::to_string(holes) + " to capture holes, " +
             std::to_string(c[Counter::capture_hole_bytes]) + " client bytes never captured; " + std::to_string(cut) +
             " cut by the target's close or reset)\n";
    }
    const std::string guesses = nonzero_text(c, {Counter::requests_released_quiet, Counter::requests_released_unanswered,
                                                 Counter::close_unanswered, Counter::resync_restart_unseen_answer});
    if (!guesses.empty()) t += "  guesses: " + guesses + "\n";
    if (c[Counter::mysql_greetings]) {
        t += "  mysql logins: " + std::to_string(c[Counter::mysql_greetings]) + " greetings; " +
             nonzero_text(c, {Counter::mysql_logins_rewritten, Counter::mysql_logins_kept, Counter::mysql_logins_not_rewritten,
                              Counter::mysql_logins_ok, Counter::mysql_logins_failed, Counter::mysql_logins_auth_switch}) +
             "\n";
    }
    if (c[Counter::sessions_mid_stream]) {
        t += "  mid-stream: " + std::to_string(c[Counter::sessions_mid_stream]) +
             " sessions without their start (opened before the capture began, or the mirror lost it)\n";
    }
    return t;
}
}  // namespace

std::string summary_text(const RunSnapshot& s, std::string_view end) {
    const auto& c = s.session;
    std::string t = "dpcopy: summary after " + fmt("%.3f", static_cast<double>(s.elapsed_ns) / 1e9) + " s (" +
                    std::string(end) + "), " + std::to_string(s.workers) + " worker" + (s.workers == 1 ? "" : "s") + "\n";
    t += "  sessions: " + std::to_string(c[Counter::sessions_created]) + " created, " +
         std::to_string(c[Counter::handshakes]) + " handshakes, " + std::to_string(c.ended()) + " ended, " +
         std::to_string(s.active_sessions) + " still active\n";
    std::string outcomes;
    for (auto i = static_cast<std::size_t>(session::first_outcome); i <= static_cast<std::size_t>(session::last_outcome); ++i) {
        if (!c.v[i]) continue;
        if (!outcomes.empty()) outcomes += ", ";
        outcomes += std::string(session::counter_names[i]) + " " + std::to_string(c.v[i]);
    }
    if (!outcomes.empty()) t += "  outcomes: " + outcomes + "\n";
    t += "  requests: " + std::to_string(c[Counter::data_segments_sent]) + " data segments (" +
         std::to_string(c[Counter::data_bytes_sent]) + " bytes) sent, " + std::to_string(c[Counter::target_frames]) +
         " response frames from the target, " + std::to_string(c[Counter::exchanges]) + " exchanges\n";
    t += "  retransmissions: " + std::to_string(c[Counter::syn_retransmits]) + " SYN, " +
         std::to_string(c[Counter::retransmits_rto]) + " timeout, " + std::to_string(c[Counter::retransmits_fast]) +
         " fast\n";
    t += "  frames: " + std::to_string(s.io[IoCounter::fed_frames]) + " from the capture, " +
         std::to_string(s.io[IoCounter::rx_frames]) + " received, " + std::to_string(s.io[IoCounter::tx_frames]) +
         " sent (" + std::to_string(s.io[IoCounter::tx_bytes]) + " bytes)\n";
    if (const std::uint64_t g = s.io[IoCounter::capture_gaps_shortened])
        t += "  capture gaps shortened to --max-gap: " + std::to_string(g) + "\n";
    const Reasons lost = drops_by_reason(s, DropClass::lost);
    const Reasons filtered = drops_by_reason(s, DropClass::filtered);
    const std::uint64_t resync_bytes = c[Counter::drop_resync_bytes];
    t += "  lost: " + (lost.empty() ? std::string("none") : reasons_text(lost, lost.size()));
    if (resync_bytes) t += " (" + std::to_string(resync_bytes) + " captured bytes skipped by resync)";
    t += "\n";
    t += "  filtered: " + (filtered.empty() ? std::string("none") : reasons_text(filtered, filtered.size())) + "\n";
    if (c[Counter::shed_sessions] || c[Counter::shed_frames]) {
        t += "  shed (admission control, not lost): " + std::to_string(c[Counter::shed_sessions]) + " sessions, " +
             std::to_string(c[Counter::shed_requests]) + " requests, " + std::to_string(c[Counter::shed_frames]) +
             " captured frames\n";
    }
    if (s.input && s.input->paced) {
        t += "  replay lag behind the capture: " + fmt("%.3f", static_cast<double>(s.input->max_lag_ns) / 1e9) +
             " s at most, " + fmt("%.3f", static_cast<double>(s.input->lag_ns) / 1e9) + " s at the end\n";
    }
    t += request_loss_lines(c);
    if (s.control) {
        const ControlSnapshot& k = *s.control;
        t += "  control: " + std::to_string(k.subscribes_sent) + " subscribes sent, " + std::to_string(k.datagrams_rx) +
             " datagrams received (" + std::to_string(k.accepted) + " accepted), " + std::to_string(k.records) +
             " records, " + std::to_string(k.datagrams_lost) + " datagrams lost, " +
             std::to_string(k.intercept_restarts) + " intercept restarts, " + std::to_string(k.resubscribed) +
             " resubscribed, " + std::to_string(k.rejected()) +
             " rejected" + control_rejects_text(k) + ", " + std::to_string(k.from_strangers) + " from strangers, " +
             std::to_string(k.records_not_target) + " records not from a target, " +
             std::to_string(k.records_not_client) + " records not to a fake client\n";
    }
    for (const PortStats& p : s.ports) {
        t += "  port " + std::to_string(p.port) + (p.mirror ? " (mirror)" : "") + ": rx " + std::to_string(p.ipackets) + " tx " +
             std::to_string(p.opackets) + " missed " + std::to_string(p.imissed) + " rx_nombuf " +
             std::to_string(p.rx_nombuf) +
             (p.kernel_sockets ? " kernel_drops " + std::to_string(p.kernel_drops) : std::string()) + " errors " +
             std::to_string(p.ierrors) + "/" + std::to_string(p.oerrors) + "\n";
    }
    return t;
}

namespace {

ReportJson reasons_object(const Reasons& d) {
    ReportJson o = ReportJson::object();
    for (const auto& [name, v] : d) o[std::string(name)] = v;
    return o;
}

ReportJson ports_array(const std::vector<PortStats>& ports) {
    ReportJson a = ReportJson::array();
    for (const PortStats& p : ports) {
        ReportJson o;
        o["port"] = p.port;
        o["mirror"] = p.mirror;
        o["ipackets"] = p.ipackets;
        o["opackets"] = p.opackets;
        o["ibytes"] = p.ibytes;
        o["obytes"] = p.obytes;
        o["imissed"] = p.imissed;
        o["ierrors"] = p.ierrors;
        o["oerrors"] = p.oerrors;
        o["rx_nombuf"] = p.rx_nombuf;
        o["kernel_drops"] = p.kernel_drops;
        o["kernel_sockets"] = p.kernel_sockets;
        a.push_back(std::move(o));
    }
    return a;
}

ReportJson control_object(const ControlSnapshot& k) {
    ReportJson c;
    const std::pair<const char*, std::uint64_t> fields[] = {
        {"subscribes_sent", k.subscribes_sent}, {"unsubscribes_sent", k.unsubscribes_sent},
        {"subscribe_no_mac", k.subscribe_no_mac}, {"datagrams_rx", k.datagrams_rx}, {"accepted", k.accepted},
        {"records", k.records}, {"datagrams_lost", k.datagrams_lost},
        {"intercept_restarts", k.intercept_restarts}, {"resubscribed", k.resubscribed},
        {"from_strangers", k.from_strangers},
        {"wrong_type", k.wrong_type}, {"records_not_target", k.records_not_target},
        {"records_not_client", k.records_not_client}, {"rejected", k.rejected()}};
    for (const auto& [name, v] : fields) c[name] = v;
    ReportJson r = ReportJson::object();
    for (const auto& [name, v] : k.rejects) r[name] = v;
    c["rejects"] = std::move(r);
    return c;
}

}  // namespace

ReportJson report_document(const RunSnapshot& s, const ReportInfo& info) {
    ReportJson o = report_header(info.run);
    o["mode"] = info.mode;
    o["input"] = info.input;
    o["end"] = info.end;
    o["exit_status"] = info.exit_status;
    o["elapsed_s"] = static_cast<double>(s.elapsed_ns) / 1e9;
    o["workers"] = s.workers;
    o["sessions"] = {{"active", s.active_sessions},
                     {"created", s.session[session::Counter::sessions_created]},
                     {"ended", s.session.ended()}};
    const DropTotals totals = drop_totals(s);
    o["drops_total"] = totals.lost + totals.filtered;
    o["lost_total"] = totals.lost;
    o["filtered_total"] = totals.filtered;
    o["shed"] = {{"sessions", s.session[Counter::shed_sessions]},
                 {"requests", s.session[Counter::shed_requests]},
                 {"frames", s.session[Counter::shed_frames]}};
    if (s.input) {
        o["replay"] = {{"paced", s.input->paced},
                       {"lag_s", static_cast<double>(s.input->lag_ns) / 1e9},
                       {"max_lag_s", static_cast<double>(s.input->max_lag_ns) / 1e9}};
    }
    ReportJson sess = ReportJson::object(), pc = ReportJson::object(), pt = ReportJson::object();
    s.session.for_each([&](std::string_view group, std::string_view name, std::uint64_t v) {
        (group == "session" ? sess : group == "parse_captured" ? pc : pt)[std::string(name)] = v;
    });
    o["session"] = std::move(sess);
    o["parse_captured"] = std::move(pc);
    o["parse_target"] = std::move(pt);
    o["io"] = counters_object(io_counter_names, s.io.v);
    o["mirror"] = counters_object(mirror::decap_counter_names, s.mirror_decap.v);
    // after the counters, so a reader taking a name's first occurrence gets the counter
    o["lost"] = reasons_object(drops_by_reason(s, DropClass::lost));
    o["filtered"] = reasons_object(drops_by_reason(s, DropClass::filtered));
    if (s.control) o["control"] = control_object(*s.control);
    o["ports"] = ports_array(s.ports);
    return o;
}

std::string report_json(const RunSnapshot& s, const ReportInfo& info) {
    return report_text(report_document(s, info));
}

}  // namespace dpcopy::io
