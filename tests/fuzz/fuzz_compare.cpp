// libFuzzer entry point for lib/compare: the hooks an engine calls (session starts, both
// servers' bytes at any offsets, client offsets, requests, exchange records), driven by the
// input through a small CompareQueue (so that it fills, wraps and marks slots) into a
// Comparator, then merged, reported and diff-logged. The bytes are captured traffic and the
// target's answers: outside input for every protocol parser (HTTP, RESP, PostgreSQL, MySQL,
// other) and the endpoint namer. Checks: no sanitizer report, the totals add up, every
// delivered exchange counted once. Built and run like every harness (docs/fuzzing.md).
//
// Input: a list of operations, each an opcode byte then its arguments:
//   0 S R       on_session_start(slot S % 4, replica R)
//   1 S O L ... on_online_data(slot, offset O (byte, scaled), L payload bytes)
//   2 S O       on_client_data(slot, offset)
//   3 S L ...   on_request(slot, L head bytes)
//   4 S O L ... on_target_data(slot, offset, L payload bytes)
//   5 S A B C D on_exchange(slot; A, B: online begin/bytes; C, D: target begin/bytes; scaled)
//   6           drain the queue into the comparator
//   7 X         publish the queue
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lib/compare/comparator.hpp"
#include "lib/compare/compare_queue.hpp"

using namespace dpcopy;

namespace {

struct Input {
    const std::uint8_t* p;
    std::size_t n;
    bool take(std::uint8_t& b) {
        if (n == 0) return false;
        b = *p++, --n;
        return true;
    }
    session::ConstBytes take_bytes(std::size_t len) {
        len = std::min(len, n);
        session::ConstBytes b{p, len};
        p += len, n -= len;
        return b;
    }
};

constexpr std::uint32_t kSlots = 4;

// Offsets near the stream's position mostly, sometimes far (holes, repeats, wrap-around).
std::uint32_t offset_of(std::uint8_t b, std::uint32_t& pos) {
    if (b < 0xc0) return pos;                    // in order
    if (b < 0xe0) return pos - (b & 0x1f);       // a repeat
    if (b < 0xfe) return pos + (b & 0x1f);       // a hole
    return b == 0xfe ? 0xfffffff0u : 0;          // near the wrap, or back at the start
}

bool run(const std::uint8_t* data, std::size_t size) {
    std::string err;
    compare::CompareConfig cfg;
    cfg.max_sessions = kSlots;
    cfg.max_endpoints = 8;
    cfg.max_diffs = 4;
    cfg.max_pending_statuses = 64;
    auto cmp = compare::Comparator::create(cfg, err);
    auto q = compare::CompareQueue::create(compare::CompareQueue::kMinRingBytes, kSlots, err);
    if (!cmp || !q) return false;
    Input in{data, size};
    std::uint32_t online_pos[kSlots] = {}, target_pos[kSlots] = {};
    std::uint64_t exchanges_sent = 0;
    session::Nanos now = 1'000'000;
    std::uint8_t op = 0, s = 0, a = 0, b = 0, c = 0, d = 0;
    while (in.take(op)) {
        now += 1000;
        switch (op % 8) {
            case 0:
                if (!in.take(s) || !in.take(a)) break;
                online_pos[s % kSlots] = target_pos[s % kSlots] = 0;
                q->on_session_start(s % kSlots, a);
                break;
            case 1:
            case 4: {
                if (!in.take(s) || !in.take(a) || !in.take(b)) break;
                std::uint32_t& pos = (op % 8 == 1 ? online_pos : target_pos)[s % kSlots];
                const std::uint32_t off = offset_of(a, pos);
                const session::ConstBytes payload = in.take_bytes(b);
                if (op % 8 == 1) q->on_online_data(s % kSlots, off, payload, now);
                else q->on_target_data(s % kSlots, off, payload, now);
                pos = off + static_cast<std::uint32_t>(payload.size());
                break;
            }
            case 2:
                if (!in.take(s) || !in.take(a)) break;
                q->on_client_data(s % kSlots, offset_of(a, online_pos[s % kSlots]));
                break;
            case 3:
                if (!in.take(s) || !in.take(a)) break;
                q->on_request(s % kSlots, in.take_bytes(a), now);
                break;
            case 5: {
                if (!in.take(s) || !in.take(a) || !in.take(b) || !in.take(c) || !in.take(d)) break;
                session::ExchangeRecord r{};
                r.slot = s % kSlots;
                r.replica = s >> 2;
                r.online_begin = online_pos[r.slot] - a;
                r.online_response_bytes = b * 3u;
                r.online_response_time = b * 1000u;
                r.target_begin = target_pos[r.slot] - c;
                r.target_response_bytes = d * 3u;
                r.target_received = d * 3u + (c & 7);
                r.target_response_time = d * 997u;
                q->on_exchange(r);
                ++exchanges_sent;
                break;
            }
            case 6:
                q->publish();
                q->drain(*cmp, 1u << 20);
                break;
            default:
                q->publish();
                break;
        }
    }
    q->publish();
    while (q->drain(*cmp, 1u << 20) > 0) {
    }
    const compare::CompareTotals& t = cmp->totals();
    const compare::QueueCounts qc = q->counts();
    // every exchange either reached the comparator or was counted as not compared
    if (t.exchanges + qc.not_compared != exchanges_sent) return false;
    if (t.compared + t.unknown_status != t.exchanges) return false;
    if (t.same_status + t.different_status != t.compared || t.length_mismatch > t.same_status) return false;
    compare::CompareSummary sum;
    sum.merge(*cmp);
    const auto j = sum.to_json();
    if (j.at("exchanges").get<std::uint64_t>() != t.exchanges) return false;
    (void)sum.summary_line();
    std::ostringstream diffs;
    sum.write_diff_log(diffs);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!run(data, size)) std::abort();
    return 0;
}
