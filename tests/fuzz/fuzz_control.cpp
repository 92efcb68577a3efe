// libFuzzer harness of the control codec (lib/control/control_codec): decode() of every
// input without a key and with one, and checks that use the public API only, so that the
// harness follows the protocol when it changes:
//  - a datagram decoded without a key re-encodes (encode_subscribe / encode_unsubscribe /
//    RecordsBuilder) to the very same bytes: the decoder accepts canonical datagrams only;
//  - the same datagram re-encoded with the key decodes with that key to the same header and
//    body, and is rejected without it (unexpected_mac) and with another key (bad_mac);
//  - records iterate exactly n_records times, inside the datagram;
//  - ReplayWindow, fed (epoch, seq) pairs read from the input, agrees with a plain model.
#include <set>
#include <vector>

#include "lib/control/control_codec.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

namespace c = dpcopy::io::control;

const c::Key& key() {
    static const std::uint8_t secret[] = "dpcopy fuzz key";
    static const c::Key k = c::Key::from_secret(c::ConstBytes(secret, sizeof secret - 1));
    return k;
}
const c::Key& other_key() {
    static const std::uint8_t secret[] = "another key";
    static const c::Key k = c::Key::from_secret(c::ConstBytes(secret, sizeof secret - 1));
    return k;
}

// Re-encodes a decoded datagram; 0 when the encoder refuses it.
std::size_t encode(const c::Datagram& d, const c::Key* k, std::vector<std::uint8_t>& out) {
    out.assign(c::kMaxDatagram, 0);
    const c::Bytes b(out.data(), out.size());
    switch (d.h.type) {
    case c::Type::subscribe: return c::encode_subscribe(b, d.h, d.sub, k);
    case c::Type::unsubscribe: return c::encode_unsubscribe(b, d.h, d.reply, k);
    case c::Type::records: {
        c::RecordsBuilder rb;
        rb.begin(b, k != nullptr);
        auto it = d.record_iter();
        c::RecordView r;
        while (it.next(r)) FUZZ_CHECK(rb.add(r.bytes));
        return rb.finish(d.h, d.to, k);
    }
    }
    return 0;
}

void check_records(const c::Datagram& d, c::ConstBytes dgram) {
    auto it = d.record_iter();
    c::RecordView r;
    std::size_t n = 0;
    while (it.next(r)) {
        ++n;
        FUZZ_CHECK(r.bytes.data() >= dgram.data() && r.bytes.data() + r.bytes.size() <= dgram.data() + dgram.size());
        FUZZ_CHECK(r.ip_header_len + r.tcp_header_len <= r.bytes.size());
        FUZZ_CHECK(r.bytes.size() >= c::kMinRecord);
        FUZZ_CHECK(c::check_record(r.bytes, nullptr) == c::Reject::none);
    }
    FUZZ_CHECK(n == d.n_records);
}

void same_body(const c::Datagram& a, const c::Datagram& b) {
    FUZZ_CHECK(a.h.type == b.h.type && a.h.instance == b.h.instance && a.h.epoch == b.h.epoch);
    FUZZ_CHECK(a.h.seq == b.h.seq && a.h.ts_ns == b.h.ts_ns);
    if (a.h.type == c::Type::subscribe) {
        FUZZ_CHECK(a.sub.heartbeat_ms == b.sub.heartbeat_ms && a.sub.expire_after == b.sub.expire_after);
        FUZZ_CHECK(a.sub.n_clients == b.sub.n_clients && a.sub.n_targets == b.sub.n_targets);
        for (std::size_t i = 0; i < a.sub.n_clients; ++i) FUZZ_CHECK(a.sub.clients[i] == b.sub.clients[i]);
        for (std::size_t i = 0; i < a.sub.n_targets; ++i) FUZZ_CHECK(a.sub.targets[i] == b.sub.targets[i]);
    }
    if (a.h.type == c::Type::records) {
        FUZZ_CHECK(a.n_records == b.n_records && a.records.size() == b.records.size());
        FUZZ_CHECK(std::equal(a.records.begin(), a.records.end(), b.records.begin()));
    }
}

void check_accepted(const c::Datagram& d, c::ConstBytes in) {
    FUZZ_CHECK(d.h.length == in.size() && in.size() <= c::kMaxDatagram && d.h.seq != 0);
    if (d.h.type == c::Type::subscribe)
        FUZZ_CHECK(d.sub.n_clients <= c::kMaxClientRanges && d.sub.n_targets <= c::kMaxTargets);
    check_records(d, in);
    std::vector<std::uint8_t> plain, sealed;
    const std::size_t n = encode(d, nullptr, plain);
    FUZZ_CHECK(n == in.size() && std::equal(in.begin(), in.end(), plain.begin()));
    const std::size_t m = encode(d, &key(), sealed);
    if (m == 0) {
        FUZZ_CHECK(in.size() + c::kMacSize > c::kMaxDatagram);  // no room for the MAC
        return;
    }
    const c::ConstBytes s(sealed.data(), m);
    c::Datagram back;
    FUZZ_CHECK(c::decode(s, &key(), 0, 0, back) == c::Reject::none);
    same_body(d, back);
    FUZZ_CHECK(c::decode(s, nullptr, 0, 0, back) == c::Reject::unexpected_mac);
    FUZZ_CHECK(c::decode(s, &other_key(), 0, 0, back) == c::Reject::bad_mac);
}

// The replay window against a model that keeps every sequence seen in the current epoch.
void check_replay(dpcopy_fuzz::Input in) {
    c::ReplayWindow w;
    std::set<std::uint64_t> seen;
    std::uint64_t epoch = 0, top = 0;
    bool started = false;
    while (in.left() >= 3) {
        const std::uint64_t e = in.u8() % 4;
        const std::uint64_t s = 1 + in.u16() % 300;
        const auto r = w.accept(e, s);
        if (!started || e > epoch) {
            FUZZ_CHECK(r.reject == c::Reject::none && r.new_epoch);
            started = true, epoch = e, top = s, seen = {s};
        } else if (e < epoch) {
            FUZZ_CHECK(r.reject == c::Reject::old_epoch);
        } else if (s > top) {
            FUZZ_CHECK(r.reject == c::Reject::none && !r.new_epoch && r.gap == s - top - 1);
            top = s, seen.insert(s);
        } else if (top - s >= 64 || seen.count(s)) {
            FUZZ_CHECK(r.reject == c::Reject::replayed);
        } else {
            FUZZ_CHECK(r.reject == c::Reject::none && !r.new_epoch && r.gap == 0);
            seen.insert(s);
        }
        FUZZ_CHECK(w.epoch() == epoch && w.highest() == top);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const c::ConstBytes in(data, size);
    c::Datagram d;
    const c::Reject plain = c::decode(in, nullptr, 0, 0, d);
    if (plain == c::Reject::none) check_accepted(d, in);
    c::Datagram dk;
    const c::Reject keyed = c::decode(in, &key(), 0, 0, dk);
    // A random MAC essentially never verifies; when it does, the body rules are the same.
    if (keyed == c::Reject::none) check_records(dk, in);
    // Staleness: a timestamp this far from `now` is always stale when the rest is fine.
    if (plain == c::Reject::none) {
        const std::uint64_t now = d.h.ts_ns > (1ULL << 63) ? 0 : ~0ULL;
        FUZZ_CHECK(c::decode(in, nullptr, now, c::kDefaultMaxSkewNs, d) == c::Reject::stale);
    }
    check_replay(dpcopy_fuzz::Input(data, size));
    return 0;
}
