#include "tests/session/sim/harness.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "lib/rewrite/parse.hpp"

namespace dpcopy::sim {

namespace {

constexpr Nanos kInf = std::numeric_limits<Nanos>::max();

std::uint64_t endpoint(net::Ipv4Addr ip, net::Port port) {
    return (std::uint64_t{ip.value()} << 16) | port.value();
}

std::string endpoint_str(std::uint64_t e) {
    return net::Ipv4Addr(static_cast<std::uint32_t>(e >> 16)).to_string() + ":" + std::to_string(e & 0xffff);
}

std::string hex(std::uint8_t b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", b);
    return buf;
}

}  // namespace

std::string SimResult::report() const {
    std::ostringstream os;
    std::size_t n = 0;
    for (const auto& f : failures) {
        if (++n > 20) {
            os << "... and " << failures.size() - 20 << " more\n";
            break;
        }
        os << f << "\n";
    }
    return os.str();
}

std::string check_requests(const std::vector<std::uint8_t>& data, const ExpectedSession& exp,
                           std::vector<std::uint32_t>& indices, std::uint64_t& partial_bytes) {
    indices.clear();
    partial_bytes = 0;
    std::size_t off = 0;
    while (off < data.size()) {
        const std::size_t rem = data.size() - off;
        if (rem < kReqHeader) {
            partial_bytes = rem;
            return {};
        }
        const std::uint32_t len = net::load_be32(data.data() + off);
        const std::uint32_t sid = net::load_be32(data.data() + off + 4);
        const std::uint32_t idx = net::load_be32(data.data() + off + 8);
        std::ostringstream os;
        if (sid != exp.sid || idx < exp.first_idx || idx - exp.first_idx >= exp.requests()) {
            os << "at connection offset " << off << ": not a request header of this session (len " << len << ", sid "
               << sid << ", idx " << idx << ")";
            return os.str();
        }
        const std::size_t r = idx - exp.first_idx;
        if (len != exp.req_len[r]) {
            os << "at connection offset " << off << ": request " << idx << " has length " << len << ", expected "
               << exp.req_len[r];
            return os.str();
        }
        const std::size_t n = std::min<std::size_t>(len, rem);
        const std::uint8_t* want = exp.stream.data() + exp.req_offset[r];
        for (std::size_t j = 0; j < n; ++j) {
            if (data[off + j] != want[j]) {
                os << "at connection offset " << off + j << " (request " << idx << " byte " << j << "): expected "
                   << hex(want[j]) << ", got " << hex(data[off + j]);
                return os.str();
            }
        }
        if (n < len) {
            partial_bytes = n;
            return {};
        }
        indices.push_back(idx);
        off += len;
    }
    return {};
}

Harness::Harness(const Capture& cap, SimConfig cfg)
    : cap_(cap), cfg_(std::move(cfg)), rng_(cfg_.seed ^ 0xfa017ULL),
      model_(cfg_.model, cfg_.seed, [this](std::vector<std::uint8_t>&& f) { from_model_.push_back(std::move(f)); }) {
    // SIM_TRACE=<seed>: print every frame delivered in that seed's run.
    if (const char* t = std::getenv("SIM_TRACE"); t && std::strtoull(t, nullptr, 10) == cfg_.seed) trace_ = true;
}

void Harness::emit(net::ConstBytes frame) { from_dut_.emplace_back(frame.begin(), frame.end()); }

void Harness::tap(net::ConstBytes frame) {
    net::PacketView v;
    if (net::parse_frame(frame, v) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) return;
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    const std::uint64_t ep = endpoint(v.key.src_ip, v.key.src_port);
    if (th.has(net::tcpflag::syn)) {
        current_irs_[ep] = th.seq.value();
        taps_[{ep, th.seq.value()}].irs = th.seq.value();
        return;
    }
    auto ci = current_irs_.find(ep);
    if (ci == current_irs_.end()) return;
    Tap& t = taps_[{ep, ci->second}];
    t.irs = ci->second;
    // Our TCP timestamps must be monotonic per connection (a real target drops older ones: PAWS).
    if (const auto opts = net::TcpOptions::read(v.tcp_options(frame)); opts && opts->ts && !th.has(net::tcpflag::rst)) {
        if (t.have_ts && net::Seq(opts->ts->val) < net::Seq(t.last_tsval) && tap_failures_.size() < 20)
            tap_failures_.push_back("DUT's TSval went backwards on " + endpoint_str(ep) + ": " +
                                    std::to_string(opts->ts->val) + " after " + std::to_string(t.last_tsval));
        t.have_ts = true;
        t.last_tsval = opts->ts->val;
    }
    if (th.has(net::tcpflag::rst)) t.engine_rst = true;
    const net::ConstBytes pl = v.payload(frame);
    if (pl.empty()) return;
    const std::int64_t rel = static_cast<std::int64_t>(th.seq - net::Seq(t.irs + 1));
    const std::int64_t end = rel + static_cast<std::int64_t>(pl.size());
    if (end > 0) t.max_end = std::max<std::uint64_t>(t.max_end, static_cast<std::uint64_t>(end));
    for (std::int64_t i = std::max<std::int64_t>(rel, 0); i < std::min<std::int64_t>(end, kReqHeader); ++i) {
        t.hdr[i] = pl[static_cast<std::size_t>(i - rel)];
        t.hdr_mask |= 1u << i;
    }
}

void Harness::trace_frame(net::ConstBytes frame, bool to_model, Nanos now, const char* tag) const {
    net::PacketView v;
    if (net::parse_frame(frame, v) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) {
        std::fprintf(stderr, "%12.6f %s non-TCP frame\n", static_cast<double>(now) / 1e9, to_model ? "->T" : "<-T");
        return;
    }
    const net::TcpHdr th = net::TcpHdr::read(frame.subspan(v.l4_off));
    std::string fl;
    if (th.has(net::tcpflag::syn)) fl += 'S';
    if (th.has(net::tcpflag::fin)) fl += 'F';
    if (th.has(net::tcpflag::rst)) fl += 'R';
    if (th.has(net::tcpflag::psh)) fl += 'P';
    if (th.has(net::tcpflag::ack)) fl += '.';
    const std::uint64_t ep = to_model ? endpoint(v.key.src_ip, v.key.src_port) : endpoint(v.key.dst_ip, v.key.dst_port);
    std::fprintf(stderr, "%12.6f %s %-21s %-4s seq=%u ack=%u len=%u win=%u\n", static_cast<double>(now) / 1e9,
                 tag ? tag : to_model ? "->T" : "<-T", endpoint_str(ep).c_str(), fl.c_str(), th.seq.value(), th.ack.value(),
                 static_cast<unsigned>(v.payload_len), static_cast<unsigned>(th.window));
}

void Harness::schedule(std::vector<std::uint8_t>&& frame, bool to_model, Nanos now) {
    const FaultPlan& fp = to_model ? cfg_.to_target : cfg_.to_engine;
    net::PacketView v;
    bool rst = false, syn = false;
    std::uint64_t conn = 0;
    if (net::parse_frame(frame, v) == net::ParseError::ok && v.l4 == net::L4Kind::tcp) {
        const net::TcpHdr th = net::TcpHdr::read(net::ConstBytes(frame).subspan(v.l4_off));
        rst = th.has(net::tcpflag::rst);
        syn = th.has(net::tcpflag::syn);
        conn = to_model ? endpoint(v.key.src_ip, v.key.src_port) : endpoint(v.key.dst_ip, v.key.dst_port);
    }
    if (syn && fp.drop_first_syns) {
        auto& n = syns_dropped_[{conn, to_model}];
        if (n < fp.drop_first_syns) {
            ++n;
            ++dropped_;
            return;
        }
    }
    auto& consec = consecutive_drops_[{conn, to_model}];
    if ((!rst || fp.drop_rst) && consec < fp.max_consecutive_drops && rng_.chance(fp.drop)) {
        ++consec;
        ++dropped_;
        if (trace_) trace_frame(frame, to_model, now, to_model ? "X>T" : "X<T");
        return;
    }
    consec = 0;
    Nanos at = now + cfg_.link_delay;
    if (rng_.chance(fp.reorder)) at += rng_.range(1, fp.reorder_max);
    if (rng_.chance(fp.dup)) {
        std::vector<std::uint8_t> copy = frame;
        queue_.emplace(std::make_pair(at + rng_.range(0, fp.reorder_max), order_++), std::make_pair(to_model, std::move(copy)));
    }
    queue_.emplace(std::make_pair(at, order_++), std::make_pair(to_model, std::move(frame)));
}

void Harness::flush(Nanos now) {
    while (!from_dut_.empty() || !from_model_.empty()) {
        auto a = std::move(from_dut_);
        from_dut_.clear();
        for (auto& f : a) {
            ++frames_to_target_;
            tap(f);
            schedule(std::move(f), true, now);
        }
        auto b = std::move(from_model_);
        from_model_.clear();
        for (auto& f : b) {
            ++frames_to_engine_;
            schedule(std::move(f), false, now);
        }
    }
}

SimResult Harness::run(Dut& dut) {
    SimResult res;
    const auto& frames = cap_.frames;
    auto cap_time = [&](std::size_t i) {
        return cfg_.start_offset + static_cast<Nanos>(static_cast<double>(frames[i].t) * cfg_.time_scale);
    };
    const Nanos last_cap = frames.empty() ? cfg_.start_offset : cap_time(frames.size() - 1);
    const Nanos bound = last_cap + cfg_.bound_after_capture;
    std::size_t next = 0;
    bool finished_input = false;
    Nanos now = 0, next_tick = 0;
    std::uint64_t stuck = 0;
    // Worker emulation (SimConfig::dut_*): off unless configured.
    const bool polled = cfg_.dut_rx_burst != 0 || (cfg_.dut_stall_period != 0 && cfg_.dut_stall_time != 0);
    auto stalled = [&](Nanos at) {
        return cfg_.dut_stall_period != 0 && at % cfg_.dut_stall_period < cfg_.dut_stall_time;
    };
    auto stall_end = [&](Nanos at) { return at - at % cfg_.dut_stall_period + cfg_.dut_stall_time; };
    Nanos next_poll = 0;
    bool held = false;  // backpressure: frames[next] waits for room in the DUT
    for (;;) {
        // while the DUT is stalled, what is for it waits until the stall ends
        const Nanos dut_from = polled && stalled(now) ? stall_end(now) : 0;
        Nanos t = next_tick;
        if (next < frames.size() && !held) t = std::min(t, std::max(cap_time(next), dut_from));
        if (!queue_.empty()) t = std::min(t, queue_.begin()->first.first);
        t = std::min(t, model_.next_timer());
        if (polled && !dut_inbox_.empty()) t = std::min(t, std::max({next_poll, now, dut_from}));
        if (!finished_input && next == frames.size()) t = std::max(now, dut_from);
        if (t > bound) break;
        if (t <= now) {
            if (++stuck > 100000) {
                res.failures.push_back("seed=" + std::to_string(cfg_.seed) + " harness: no progress at t=" + std::to_string(now) +
                                       " (model timer " + std::to_string(model_.next_timer()) + ", queue " +
                                       std::to_string(queue_.size()) + ")");
                break;
            }
        } else {
            stuck = 0;
        }
        now = std::max(now, t);
        const bool dut_off = polled && stalled(now);
        while (!dut_off && next < frames.size() && cap_time(next) <= now) {
            held = cfg_.backpressure && !dut.can_take(frames[next].bytes);
            if (held) break;
            res.max_lag = std::max(res.max_lag, now - cap_time(next));
            if (trace_) trace_frame(frames[next].bytes, true, now, "CAP");
            dut.on_captured(frames[next].bytes, now);
            ++next;
            flush(now);
        }
        if (!dut_off && !finished_input && next == frames.size()) {
            dut.finish_input(now);
            finished_input = true;
            flush(now);
        }
        while (!queue_.empty() && queue_.begin()->first.first <= now) {
            auto node = queue_.extract(queue_.begin());
            if (trace_) trace_frame(node.mapped().second, node.mapped().first, now);
            if (node.mapped().first) model_.on_frame(node.mapped().second, now);
            else if (polled) dut_inbox_.push_back(std::move(node.mapped().second));
            else dut.on_target(node.mapped().second, now);
            flush(now);
        }
        model_.advance(now);
        flush(now);
        if (!polled) {
            dut.advance(now);
            flush(now);
        } else if (!dut_off && now >= next_poll) {
            // one poll of the worker: a burst of its receive queue, then its timers
            const std::size_t n = cfg_.dut_rx_burst ? std::min<std::size_t>(cfg_.dut_rx_burst, dut_inbox_.size()) : dut_inbox_.size();
            for (std::size_t i = 0; i < n; ++i) {
                auto f = std::move(dut_inbox_.front());
                dut_inbox_.pop_front();
                dut.on_target(f, now);
                flush(now);
            }
            dut.advance(now);
            flush(now);
            next_poll = dut_inbox_.empty() ? now : now + cfg_.dut_poll_time;
        }
        if (now >= next_tick) next_tick = (now / cfg_.tick + 1) * cfg_.tick;
        if (finished_input && queue_.empty() && dut_inbox_.empty() && dut.idle() && model_.live_connections() == 0) {
            res.finished = true;
            break;
        }
    }
    res.end_time = now;
    verify(dut, res);
    return res;
}

void Harness::verify(Dut& dut, SimResult& res) {
    res.frames_to_target = frames_to_target_;
    res.frames_to_engine = frames_to_engine_;
    res.dropped = dropped_;
    res.model_connections = model_.records().size();
    const std::string seed = "seed=" + std::to_string(cfg_.seed) + " ";
    auto label = [&](std::uint32_t sid) {
        std::string s = "sid=" + std::to_string(sid);
        if (cfg_.label) s += " (" + cfg_.label(sid) + ")";
        return s;
    };
    for (const auto& f : model_.failures()) res.failures.push_back(seed + f);
    for (const auto& f : tap_failures_) res.failures.push_back(seed + f);
    if (!res.finished) {
        std::string m = seed + "run did not end within the virtual-time bound (DUT idle: " +
                        (dut.idle() ? "yes" : "no") + ", frames in flight: " + std::to_string(queue_.size()) + ")";
        const std::string d = dut.describe();
        if (!d.empty()) m += "; DUT: " + d;
        res.failures.push_back(m);
    }
    for (const auto& o : model_.open_connections())
        res.failures.push_back(seed + "half-open connection left at the target: " + o);

    std::map<std::uint32_t, const ExpectedSession*> by_sid;
    for (const auto& s : cap_.sessions) by_sid[s.sid] = &s;

    // Attribute each model connection to a session: by its first request header, or by
    // the header the DUT emitted on it when nothing reached the application.
    std::map<std::uint32_t, std::vector<const ConnRecord*>> conns;
    for (const ConnRecord& r : model_.records()) {
        const Tap* tp = nullptr;
        auto ti = taps_.find({endpoint(r.tuple.src_ip, r.tuple.src_port), r.irs});
        if (ti != taps_.end()) tp = &ti->second;
        std::uint32_t sid = 0;
        if (r.data.size() >= kReqHeader) {
            sid = net::load_be32(r.data.data() + 4);
        } else if (tp && (tp->hdr_mask & 0xff0) == 0xff0) {
            sid = net::load_be32(tp->hdr + 4);
        } else {
            if (!r.data.empty() && r.end == ConnEnd::fin)
                res.failures.push_back(seed + "connection " + endpoint_str(endpoint(r.tuple.src_ip, r.tuple.src_port)) +
                                       " closed by FIN with only " + std::to_string(r.data.size()) + " bytes");
            continue;
        }
        if (!by_sid.count(sid)) {
            res.failures.push_back(seed + "connection " + endpoint_str(endpoint(r.tuple.src_ip, r.tuple.src_port)) +
                                   " carries bytes of no known session (sid field " + std::to_string(sid) + ")");
            continue;
        }
        conns[sid].push_back(&r);
    }

    for (const ExpectedSession& exp : cap_.sessions) {
        const auto ci = conns.find(exp.sid);
        std::vector<const ConnRecord*> cs;
        if (ci != conns.end()) cs = ci->second;
        std::vector<const ConnRecord*> with_data;
        for (const ConnRecord* r : cs)
            if (!r->data.empty()) with_data.push_back(r);
        SessionOutcome& out = res.sessions[exp.sid];
        out.connections = static_cast<std::uint32_t>(with_data.size());
        if (!with_data.empty()) res.chosen.insert(exp.sid);
        bool all_may_lose = std::all_of(exp.may_lose.begin(), exp.may_lose.end(), [](bool b) { return b; });
        if (exp.stream.empty()) continue;
        if (with_data.empty()) {
            if (cfg_.sampled || all_may_lose) continue;
            res.failures.push_back(seed + label(exp.sid) + ": nothing of its " + std::to_string(exp.stream.size()) +
                                   " bytes reached the target");
            continue;
        }
        bool disrupted = exp.has_gap;
        for (const ConnRecord* r : cs) disrupted = disrupted || r->fault_injected;
        out.disrupted = disrupted;
        auto conn_name = [&](const ConnRecord* r) {
            return endpoint_str(endpoint(r->tuple.src_ip, r->tuple.src_port)) + " (isn " + std::to_string(r->irs) + ", ended " +
                   to_string(r->end) + ")";
        };
        if (!disrupted) {
            // Strict: every replica is one connection carrying exactly the stream.
            if (with_data.size() != cfg_.multiply) {
                res.failures.push_back(seed + label(exp.sid) + ": " + std::to_string(with_data.size()) +
                                       " connections carried its data, expected " + std::to_string(cfg_.multiply));
            }
            for (const ConnRecord* r : with_data) {
                const auto& d = r->data;
                std::size_t i = 0;
                const std::size_t n = std::min(d.size(), exp.stream.size());
                while (i < n && d[i] == exp.stream[i]) ++i;
                if (i < n || d.size() != exp.stream.size()) {
                    std::ostringstream os;
                    os << seed << label(exp.sid) << " connection " << conn_name(r) << ": ";
                    if (i < n) {
                        const std::size_t rq = exp.request_at(i);
                        os << "stream differs at offset " << i << " (request " << exp.first_idx + rq << " byte "
                           << i - exp.req_offset[rq] << "): expected " << hex(exp.stream[i]) << ", got " << hex(d[i]);
                    } else if (d.size() < exp.stream.size()) {
                        const std::size_t rq = exp.request_at(i);
                        os << "stream ends at offset " << d.size() << " of " << exp.stream.size() << " (inside request "
                           << exp.first_idx + rq << ")";
                    } else {
                        os << "stream has " << d.size() - exp.stream.size() << " extra bytes after its "
                           << exp.stream.size() << " bytes (first extra " << hex(d[exp.stream.size()]) << ")";
                    }
                    res.failures.push_back(os.str());
                }
                const bool end_ok = exp.close == CloseKind::fin   ? r->end == ConnEnd::fin
                                    : exp.close == CloseKind::rst ? r->end == ConnEnd::rst_in
                                                                  : (r->end == ConnEnd::fin || r->end == ConnEnd::rst_in);
                if (!end_ok)
                    res.failures.push_back(seed + label(exp.sid) + " connection " + conn_name(r) + ": the captured close was " +
                                           (exp.close == CloseKind::fin ? "FIN" : exp.close == CloseKind::rst ? "RST" : "none"));
            }
            out.delivered = static_cast<std::uint32_t>(exp.requests());
            continue;
        }
        // Disrupted (capture gap, or the target reset/closed mid-session): every request intact and
        // in order; a request repeats only across a reconnection; a request may be missing only if
        // the capture lost part of it (up to the next detectable boundary) or it was in flight when
        // a connection was reset.
        if (cfg_.multiply != 1) {
            res.failures.push_back(seed + label(exp.sid) + ": harness limitation: disruption with multiply > 1");
            continue;
        }
        std::vector<bool> got(exp.requests(), false), tolerated = exp.may_lose;
        std::int64_t prev_first = -1;
        std::string summary;
        for (const ConnRecord* r : cs) {
            std::vector<std::uint32_t> idx;
            std::uint64_t partial = 0;
            const std::string err = check_requests(r->data, exp, idx, partial);
            {
                auto ti = taps_.find({endpoint(r->tuple.src_ip, r->tuple.src_port), r->irs});
                summary += "\n    " + conn_name(r) + " at " + std::to_string(r->opened / kUs) + "us: requests ";
                summary += idx.empty() ? std::string("none") : std::to_string(idx.front()) + ".." + std::to_string(idx.back());
                summary += ", " + std::to_string(r->data.size()) + " bytes received, " +
                           (ti != taps_.end() ? std::to_string(ti->second.max_end) : std::string("?")) + " emitted" +
                           (r->fault_injected ? ", target fault" : "");
            }
            if (!err.empty()) {
                res.failures.push_back(seed + label(exp.sid) + " connection " + conn_name(r) + ": " + err);
                continue;
            }
            for (std::size_t k = 1; k < idx.size(); ++k)
                if (idx[k] != idx[k - 1] + 1)
                    res.failures.push_back(seed + label(exp.sid) + " connection " + conn_name(r) + ": request " +
                                           std::to_string(idx[k]) + " follows request " + std::to_string(idx[k - 1]));
            if (!idx.empty()) {
                if (static_cast<std::int64_t>(idx.front()) < prev_first)
                    res.failures.push_back(seed + label(exp.sid) + " connection " + conn_name(r) + " starts at request " +
                                           std::to_string(idx.front()) + ", before the previous connection's first request");
                prev_first = idx.front();
            }
            for (std::uint32_t i : idx) got[i - exp.first_idx] = true;
            const bool reset = r->end == ConnEnd::rst_in || r->end == ConnEnd::rst_out || r->end == ConnEnd::aborted;
            if (partial && !reset)
                res.failures.push_back(seed + label(exp.sid) + " connection " + conn_name(r) + ": ends inside a request (" +
                                       std::to_string(partial) + " bytes of it)");
            // In-flight tolerance: what the DUT had emitted on this connection beyond what the
            // application received, when the target disrupted it (or the DUT reset it after a capture gap).
            const bool legit = r->fault_injected || (exp.has_gap && r->end == ConnEnd::rst_in);
            if (!legit) continue;
            auto ti = taps_.find({endpoint(r->tuple.src_ip, r->tuple.src_port), r->irs});
            if (ti == taps_.end() || (ti->second.hdr_mask & 0xfff) != 0xfff) continue;
            const Tap& tp = ti->second;
            const std::uint32_t idx0 = net::load_be32(tp.hdr + 8);
            if (idx0 < exp.first_idx || idx0 - exp.first_idx >= exp.requests()) continue;
            const std::uint64_t base = exp.req_offset[idx0 - exp.first_idx];
            const std::uint64_t lo = base + r->data.size();
            const std::uint64_t hi = base + tp.max_end;
            // The DUT resumes at the first request boundary it can see (boundary[]) at or
            // after what the target acknowledged: requests before it may be skipped too.
            const std::size_t q0 = exp.request_at(lo);
            for (std::size_t q = q0; q < exp.requests(); ++q) {
                const bool mid = q == q0 && exp.req_offset[q] < lo;  // partly received
                if (!mid && exp.req_offset[q] >= hi) {
                    if (exp.boundary[q]) break;
                }
                tolerated[q] = true;
            }
        }
        std::uint32_t delivered = 0;
        for (std::size_t q = 0; q < exp.requests(); ++q) {
            if (got[q]) {
                ++delivered;
                continue;
            }
            if (tolerated[q]) continue;
            res.failures.push_back(seed + label(exp.sid) + ": request " + std::to_string(exp.first_idx + q) + " of " +
                                   std::to_string(exp.first_idx + exp.requests()) + " never reached the target (" +
                                   std::to_string(cs.size()) + " connections; capture gap: " + (exp.has_gap ? "yes" : "no") + "):" + summary);
            break;
        }
        out.delivered = delivered;
    }
    if (!res.failures.empty()) {
        const std::string d = dut.describe();
        if (!d.empty()) res.failures.push_back(seed + "DUT: " + d);
    }
}

}  // namespace dpcopy::sim
