// The offline feeder (dp_feeder.hpp).
#include "lib/dpdk_io/dp_feeder.hpp"

#include <rte_ring.h>

#include "lib/dpdk_io/shard.hpp"

namespace dpcopy::io::dp {

constexpr std::uint64_t kPassWaitNs = 10'000'000'000ULL;  // --loop: wait for a pass's sessions

// The reader's counts (every pass): records read, records cut by the snap length, and the
// records it skipped, by reason (counted drops: the report's lost and filtered).
void OfflineFeeder::count_reader_records() noexcept {
    const CaptureStats& st = cfg_.capture->stats();
    feed_ctr_[IoCounter::file_frames] = st.frames;
    feed_ctr_[IoCounter::file_truncated] = st.truncated;
    feed_ctr_[IoCounter::drop_file_not_ip] = st.not_ip;
    feed_ctr_[IoCounter::drop_file_bad_link_header] = st.bad_link_header;
    feed_ctr_[IoCounter::drop_capture_filter] = st.filtered;
}

// Gaps the pacer shortened to --max-gap: counted, and the first one told in one line (a
// timestamp far ahead, e.g. a clock that jumped, would otherwise stall the replay silently).
void OfflineFeeder::count_shortened_gaps() {
    std::uint64_t& n = feed_ctr_[IoCounter::capture_gaps_shortened];
    if (n == pacer_->gaps_shortened()) return;
    if (n == 0) {
        char gap[64];
        std::snprintf(gap, sizeof gap, "%.3f s", static_cast<double>(pacer_->first_shortened_gap()) / 1e9);
        log("dpcopy: warning: capture record " + std::to_string(cfg_.capture->stats().frames) + " comes " + gap +
            " after the one before; gaps over --max-gap (" + std::to_string(*cfg_.max_gap_ns / 1'000'000) +
            " ms) are shortened to it (counted as capture_gaps_shortened)");
    }
    n = pacer_->gaps_shortened();
}

// The end of a pass over the capture: --loop starts the next one once this pass's sessions
// have ended (at most kPassWaitNs), or its frames would look like duplicates. `done` when
// every pass was fed, or when the file cannot be read again (status 2).
OfflineFeeder::PassEnd OfflineFeeder::end_of_pass(std::uint64_t now, int& status, std::string& err) {
    ++passes_done_;
    ++feed_ctr_[IoCounter::file_passes];
    if (passes_done_ >= cfg_.loop) return PassEnd::done;
    if (!pass_wait_until_) pass_wait_until_ = now + kPassWaitNs;
    if (now < pass_wait_until_ && !all_inactive()) {
        --passes_done_;
        --feed_ctr_[IoCounter::file_passes];
        if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
        waiting_ = true;
        at_pass_end_ = true;
        return PassEnd::wait;
    }
    pass_wait_until_ = 0;
    at_pass_end_ = false;
    if (!cfg_.capture->rewind()) {
        status = 2;
        err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
        return PassEnd::done;
    }
    pacer_->new_pass();
    return PassEnd::next_pass;
}

bool OfflineFeeder::feed_some(std::uint64_t now, int& status, std::string& err) {
    const auto nw = static_cast<std::uint32_t>(workers_.size());
    for (int i = 0; i < kBurst; ++i) {
        if (!pending_) {
            CaptureFrame f;
            const ReadStatus rs = at_pass_end_ ? ReadStatus::end : cfg_.capture->next(f);
            count_reader_records();
            if (rs == ReadStatus::error) {
                status = 2;
                err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
                return false;
            }
            if (rs == ReadStatus::end) {
                const PassEnd e = end_of_pass(now, status, err);
                if (e == PassEnd::done) return false;
                if (e == PassEnd::wait) return true;
                continue;
            }
            rte_mbuf* m = frame_to_mbuf(pool_, f.data);
            if (!m) {
                ++feed_ctr_[IoCounter::drop_no_mbuf];
                continue;
            }
            set_frame_tag(m, f.link == net::LinkType::raw_ipv4 ? FrameTag::captured_raw_ipv4 : FrameTag::captured_ethernet);
            set_capture_time(m, f.ts_ns);
            net::PacketView v;
            std::uint32_t owner = 0;
            if (nw > 1 && net::parse_frame(f.data, v, f.link, true) == net::ParseError::ok &&
                (v.l4 == net::L4Kind::tcp || v.l4 == net::L4Kind::udp)) {
                owner = shard_of(v.key, nw);
            }
            pending_ = m;
            pending_worker_ = owner;
            pending_due_ = pacer_->due(f.ts_ns, now);
            count_shortened_gaps();
        }
        note_lag(now);
        if (pending_due_ > now) return true;  // not due yet
        // (a worker that has no room for more takes nothing from its ring, which fills: the
        // feeder waits here and the replay lags; see dp_capture_gate.hpp)
        if (rte_ring_sp_enqueue(workers_[pending_worker_]->from_main, pending_) != 0) {
            if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
            waiting_ = true;
            return true;
        }
        waiting_ = false;
        pending_ = nullptr;
        ++feed_ctr_[IoCounter::fed_frames];
    }
    return true;
}

}  // namespace dpcopy::io::dp
