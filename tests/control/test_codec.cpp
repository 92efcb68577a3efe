// Control protocol codec: round trips, a malformed-input corpus naming every reject
// reason, truncation at every offset, MAC tampering at every byte, a fixed-seed fuzz
// loop, the replay window and staleness.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <new>

#include "lib/control/control_codec.hpp"

using namespace dpcopy::io::control;

namespace {

using Buf = std::vector<std::uint8_t>;
constexpr std::uint64_t kNow = 1'700'000'000'000'000'000ULL;

// An IPv4+TCP header block: ihl/doff in 32-bit words, `shipped` payload bytes present,
// `payload_total` bytes announced by the IPv4 total length.
Buf record(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, unsigned ihl = 5,
           unsigned doff = 5, std::size_t shipped = 0, std::size_t payload_total = 0, std::uint8_t fill = 0x11) {
    const std::size_t hl = ihl * 4 + doff * 4;
    Buf r(hl + shipped, 0);
    r[0] = static_cast<std::uint8_t>(0x40 | ihl);
    const std::size_t tot = hl + std::max(payload_total, shipped);
    r[2] = static_cast<std::uint8_t>(tot >> 8);
    r[3] = static_cast<std::uint8_t>(tot);
    r[8] = 64;
    r[9] = 6;
    for (int i = 0; i < 4; ++i) {
        r[12 + i] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
        r[16 + i] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
    }
    const std::size_t t = ihl * 4;
    r[t] = static_cast<std::uint8_t>(sport >> 8);
    r[t + 1] = static_cast<std::uint8_t>(sport);
    r[t + 2] = static_cast<std::uint8_t>(dport >> 8);
    r[t + 3] = static_cast<std::uint8_t>(dport);
    r[t + 4] = 0x12;  // seq
    r[t + 12] = static_cast<std::uint8_t>(doff << 4);
    r[t + 13] = 0x12;  // SYN|ACK
    for (std::size_t i = t + 20; i < hl; ++i) r[i] = 1;  // NOP options
    for (std::size_t i = hl; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(fill + i);
    return r;
}

Header hdr(std::uint64_t seq = 1, std::uint64_t ts = kNow) {
    Header h;
    h.instance = 3;
    h.epoch = 42;
    h.seq = seq;
    h.ts_ns = ts;
    return h;
}

Subscribe sub2() {
    Subscribe s;
    s.heartbeat_ms = 200;
    s.expire_after = 3;
    s.n_clients = 2;
    s.clients[0] = {0x0a090001, 0x0a0900fe, 1024, 33279};
    s.clients[1] = {0xc6120040, 0xc612007e, 33280, 33791};
    s.n_targets = 1;
    s.targets[0] = {0xc6120002, 80};
    s.reply = {0xc6120001, 40000};
    return s;
}

const Subscriber kTo{77, {0xc6120001, 40000}};

Buf enc_sub(const Key* key, std::uint64_t seq = 1, std::uint64_t ts = kNow) {
    Buf b(kMaxDatagram);
    const std::size_t n = encode_subscribe(b, hdr(seq, ts), sub2(), key);
    REQUIRE(n > 0);
    b.resize(n);
    return b;
}

Buf enc_records(const Key* key, const std::vector<Buf>& recs, std::uint64_t seq = 1, std::uint64_t ts = kNow) {
    Buf b(kMaxDatagram);
    RecordsBuilder rb;
    rb.begin(b, key != nullptr);
    for (const auto& r : recs) REQUIRE(rb.add(r));
    const std::size_t n = rb.finish(hdr(seq, ts), kTo, key);
    REQUIRE(n > 0);
    b.resize(n);
    return b;
}

std::vector<Buf> some_records() {
    return {record(0xc6120002, 80, 0x0a090005, 1100),
            record(0xc6120002, 80, 0x0a090006, 1200, 6, 8, 16, 500),
            record(0xc6120002, 80, 0x0a090007, 1300, 5, 15, 0, 1448)};
}

Reject dec(const Buf& b, const Key* key, Datagram* out = nullptr, std::uint64_t now = kNow) {
    Datagram d;
    return decode(b, key, now, kDefaultMaxSkewNs, out ? *out : d);
}

void fix_length(Buf& b) {
    if (b.size() < 10) return;
    b[8] = static_cast<std::uint8_t>(b.size() >> 8);
    b[9] = static_cast<std::uint8_t>(b.size());
}

const Key kKey = Key::from_secret(ConstBytes(reinterpret_cast<const std::uint8_t*>("correct horse"), 13));
const Key kOther = Key::from_secret(ConstBytes(reinterpret_cast<const std::uint8_t*>("correct horsf"), 13));

}  // namespace

TEST_CASE("subscribe round trip, with and without a MAC", "[control]") {
    for (const Key* key : {static_cast<const Key*>(nullptr), &kKey}) {
        const Buf b = enc_sub(key, 7);
        CHECK(b.size() == kHeaderSize + kSubscribeFixed + 2 * kClientRangeSize + kTargetSize + (key ? kMacSize : 0));
        Datagram d;
        REQUIRE(dec(b, key, &d) == Reject::none);
        CHECK(d.h.type == Type::subscribe);
        CHECK(d.h.instance == 3);
        CHECK(d.h.epoch == 42);
        CHECK(d.h.seq == 7);
        CHECK(d.h.ts_ns == kNow);
        CHECK(d.h.length == b.size());
        CHECK(d.h.flags == (key ? kFlagMac : 0));
        const Subscribe s = sub2();
        CHECK(d.sub.heartbeat_ms == 200);
        CHECK(d.sub.expire_after == 3);
        REQUIRE(d.sub.n_clients == 2);
        CHECK(d.sub.clients[0] == s.clients[0]);
        CHECK(d.sub.clients[1] == s.clients[1]);
        REQUIRE(d.sub.n_targets == 1);
        CHECK(d.sub.targets[0] == s.targets[0]);
    }
}

TEST_CASE("subscribe wire bytes are the documented layout", "[control]") {
    const Buf b = enc_sub(nullptr, 0x0102030405060708ULL, 0x1112131415161718ULL);
    const Buf head{0x44, 0x50, 0x43, 0x54, 2, 1, 0, 0, 0, 84, 0, 3, 0, 0, 0, 0, 0, 0, 0, 42,
                   1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                   0, 200, 3, 0, 0, 2, 0, 1, 0xc6, 0x12, 0, 1, 0x9c, 0x40, 0, 0,
                   0x0a, 0x09, 0, 1, 0x0a, 0x09, 0, 0xfe, 0x04, 0x00, 0x81, 0xff};
    REQUIRE(b.size() == 84);
    CHECK(Buf(b.begin(), b.begin() + static_cast<long>(head.size())) == head);
    const Buf tail{0xc6, 0x12, 0, 2, 0, 80, 0, 0};
    CHECK(Buf(b.end() - 8, b.end()) == tail);
}

TEST_CASE("records and unsubscribe round trip", "[control]") {
    for (const Key* key : {static_cast<const Key*>(nullptr), &kKey}) {
        const auto recs = some_records();
        const Buf b = enc_records(key, recs, 9);
        Datagram d;
        REQUIRE(dec(b, key, &d) == Reject::none);
        CHECK(d.h.type == Type::records);
        CHECK(d.h.seq == 9);
        CHECK(d.to == kTo);
        REQUIRE(d.n_records == 3);
        auto it = d.record_iter();
        RecordView v;
        for (const auto& r : recs) {
            REQUIRE(it.next(v));
            CHECK(Buf(v.bytes.begin(), v.bytes.end()) == r);
        }
        CHECK_FALSE(it.next(v));
        it = d.record_iter();
        REQUIRE(it.next(v));
        CHECK(v.ip_header_len == 20);
        CHECK(v.tcp_header_len == 20);
        CHECK(v.ip_total_len == 40);
        REQUIRE(it.next(v));
        CHECK(v.ip_header_len == 24);
        CHECK(v.tcp_header_len == 32);
        CHECK(v.shipped_payload() == 16);
        CHECK(v.ip_total_len == 24 + 32 + 500);
        REQUIRE(it.next(v));
        CHECK(v.tcp_header_len == 60);
        CHECK(v.shipped_payload() == 0);
        CHECK(v.ip_total_len == 20 + 60 + 1448);

        Buf u(kMaxDatagram);
        const std::size_t n = encode_unsubscribe(u, hdr(10), {0xc6120001, 40000}, key);
        REQUIRE(n == kHeaderSize + kUnsubscribeBody + (key ? kMacSize : 0));
        u.resize(n);
        REQUIRE(dec(u, key, &d) == Reject::none);
        CHECK(d.h.type == Type::unsubscribe);
        CHECK(d.reply == Endpoint{0xc6120001, 40000});
        CHECK(d.h.seq == 10);
    }
}

TEST_CASE("records builder fills to the datagram limit and refuses bad records", "[control]") {
    for (bool mac : {false, true}) {
        Buf b(4000);
        RecordsBuilder rb;
        rb.begin(b, mac);
        const Buf r = record(1, 80, 2, 1024, 5, 8, 100, 1000);  // 152 bytes
        int added = 0;
        while (rb.add(r)) ++added;
        CHECK(added == static_cast<int>((kMaxDatagram - kHeaderSize - kRecordsFixed - (mac ? kMacSize : 0)) /
                                        (r.size() + kRecordLenSize)));
        CHECK(rb.room() < r.size());
        const std::size_t n = rb.finish(hdr(), kTo, mac ? &kKey : nullptr);
        REQUIRE(n > 0);
        CHECK(n <= kMaxDatagram);
        b.resize(n);
        Datagram d;
        REQUIRE(dec(b, mac ? &kKey : nullptr, &d) == Reject::none);
        CHECK(d.n_records == added);

        // the largest record fits alone, one byte more does not
        Buf big(kMaxDatagram);
        rb.begin(big, mac);
        const std::size_t max = max_record_size(mac);
        CHECK_FALSE(rb.add(record(1, 80, 2, 1024, 5, 5, max - 39, max)));
        REQUIRE(rb.add(record(1, 80, 2, 1024, 5, 5, max - 40, max)));
        const std::size_t m = rb.finish(hdr(), kTo, mac ? &kKey : nullptr);
        CHECK(m == kMaxDatagram);
    }
    Buf b(kMaxDatagram);
    RecordsBuilder rb;
    rb.begin(b, false);
    Buf bad = record(1, 80, 2, 1024);
    bad[9] = 17;  // UDP
    CHECK_FALSE(rb.add(bad));
    CHECK_FALSE(rb.add(Buf(39, 0x45)));
    CHECK(rb.finish(hdr(), kTo, nullptr) == 0);  // nothing to send
    CHECK(rb.add(record(1, 80, 2, 1024)));
    CHECK(rb.finish(hdr(), kTo, &kKey) == 0);  // begun without a MAC: refuses to finish with one
}

TEST_CASE("encoder refuses what the protocol cannot carry", "[control]") {
    Buf b(kMaxDatagram);
    Subscribe s = sub2();
    s.n_clients = 0;
    CHECK(encode_subscribe(b, hdr(), s, nullptr) == 0);
    s = sub2();
    s.n_clients = kMaxClientRanges + 1;
    CHECK(encode_subscribe(b, hdr(), s, nullptr) == 0);
    s = sub2();
    s.n_clients = kMaxClientRanges;
    s.n_targets = kMaxTargets;
    for (auto& c : s.clients) c = {1, 2, 3, 4};
    for (auto& t : s.targets) t = {5, 6};
    const std::size_t n = encode_subscribe(b, hdr(), s, &kKey);
    REQUIRE(n > 0);  // the limits fit one datagram with a MAC
    CHECK(n <= kMaxDatagram);
    Buf small(n - 1);
    CHECK(encode_subscribe(small, hdr(), s, &kKey) == 0);
}

TEST_CASE("malformed corpus: every reject reason, by name", "[control]") {
    std::set<Reject> seen;
    auto expect = [&](const Buf& b, const Key* key, Reject want, const char* what) {
        INFO(what);
        const Reject got = dec(b, key);
        CHECK(std::string(reject_name(got)) == reject_name(want));
        seen.insert(got);
    };
    const Buf sub = enc_sub(nullptr);
    const Buf rec = enc_records(nullptr, some_records());

    expect(Buf{}, nullptr, Reject::truncated, "empty");
    expect(Buf(sub.begin(), sub.begin() + 35), nullptr, Reject::truncated, "short header");
    expect(Buf(sub.begin(), sub.end() - 1), nullptr, Reject::truncated, "length beyond the data");
    { Buf b = sub; b[0] ^= 0x80; expect(b, nullptr, Reject::bad_magic, "magic"); }
    { Buf b = sub; b[4] = 1; expect(b, nullptr, Reject::old_version, "version 1: an old peer"); }
    { Buf b = sub; b[4] = 3; expect(b, nullptr, Reject::bad_version, "version 3"); }
    { Buf b = sub; b[4] = 0; expect(b, nullptr, Reject::bad_version, "version 0"); }
    { Buf b = sub; b[5] = 0; expect(b, nullptr, Reject::unknown_type, "type 0"); }
    { Buf b = sub; b[5] = 4; expect(b, nullptr, Reject::unknown_type, "type 4"); }
    { Buf b = sub; b[6] = 0x02; expect(b, nullptr, Reject::bad_flags, "unknown flag"); }
    { Buf b = sub; b[7] = 1; expect(b, nullptr, Reject::bad_flags, "reserved header byte"); }
    { Buf b = sub; b.push_back(0); expect(b, nullptr, Reject::bad_length, "trailing byte"); }
    { Buf b = sub; b[8] = 0; b[9] = 35; expect(b, nullptr, Reject::bad_length, "length under the header"); }
    { Buf b(kMaxDatagram + 1, 0); std::copy(sub.begin(), sub.begin() + 36, b.begin()); fix_length(b);
      expect(b, nullptr, Reject::bad_length, "over the datagram limit"); }
    expect(sub, &kKey, Reject::missing_mac, "key configured, no MAC");
    expect(enc_sub(&kKey), nullptr, Reject::unexpected_mac, "MAC, no key configured");
    expect(enc_sub(&kKey), &kOther, Reject::bad_mac, "other key");
    { Buf b = enc_sub(&kKey); b.back() ^= 1; expect(b, &kKey, Reject::bad_mac, "MAC byte"); }
    expect(enc_sub(nullptr, 1, kNow - kDefaultMaxSkewNs - 1), nullptr, Reject::stale, "too old");
    expect(enc_sub(nullptr, 1, kNow + kDefaultMaxSkewNs + 1), nullptr, Reject::stale, "from the future");
    expect(enc_sub(nullptr, 0), nullptr, Reject::bad_sequence, "sequence 0");
    { Buf b = sub; b[36] = 0; b[37] = 0; expect(b, nullptr, Reject::bad_body, "heartbeat 0"); }
    { Buf b = sub; b[38] = 0; expect(b, nullptr, Reject::bad_body, "expire_after 0"); }
    { Buf b = sub; b[39] = 1; expect(b, nullptr, Reject::bad_body, "subscribe reserved"); }
    { Buf b = sub; b[40] = 0; b[41] = 0; expect(b, nullptr, Reject::bad_body, "no client ranges"); }
    { Buf b = sub; b[41] = 65; expect(b, nullptr, Reject::too_many, "65 client ranges"); }
    { Buf b = sub; b[43] = 65; expect(b, nullptr, Reject::too_many, "65 targets"); }
    { Buf b = sub; b[41] = 3; expect(b, nullptr, Reject::truncated, "more ranges than bytes"); }
    { Buf b = sub; b[43] = 0; expect(b, nullptr, Reject::bad_body, "bytes after the targets"); }
    { Buf b = sub; std::swap(b[55], b[59]); expect(b, nullptr, Reject::bad_body, "first ip > last ip"); }
    { Buf b = sub; b[60] = 0; b[61] = 0; expect(b, nullptr, Reject::bad_body, "client port 0"); }
    { Buf b = sub; b[b.size() - 1] = 1; expect(b, nullptr, Reject::bad_body, "target reserved"); }
    { Buf b = sub; b[44] = b[45] = b[46] = b[47] = 0; expect(b, nullptr, Reject::bad_body, "reply address 0"); }
    { Buf b = sub; b[48] = b[49] = 0; expect(b, nullptr, Reject::bad_body, "reply port 0"); }
    { Buf b = sub; b[51] = 1; expect(b, nullptr, Reject::bad_body, "reply reserved"); }
    { Buf b = rec; b[48] = b[49] = b[50] = b[51] = 0; expect(b, nullptr, Reject::bad_body, "subscriber address 0"); }
    { Buf b = rec; b[55] = 1; expect(b, nullptr, Reject::bad_body, "subscriber reserved"); }
    { Buf b(sub.begin(), sub.begin() + 40); fix_length(b); expect(b, nullptr, Reject::truncated, "short subscribe"); }
    { Buf b = rec; b[36] = 0; b[37] = 0; expect(b, nullptr, Reject::bad_body, "zero records"); }
    { Buf b = rec; b[38] = 1; expect(b, nullptr, Reject::bad_body, "records reserved"); }
    { Buf b = rec; b[37] = 4; expect(b, nullptr, Reject::truncated, "more records than bytes"); }
    { Buf b = rec; b[37] = 2; expect(b, nullptr, Reject::bad_body, "bytes after the last record"); }
    { Buf b = rec; b[56 + 2 + 9] = 17; expect(b, nullptr, Reject::bad_record, "record not TCP"); }
    { Buf b = rec; b[56 + 2] = 0x65; expect(b, nullptr, Reject::bad_record, "record IPv6"); }
    { Buf b = rec; b[56 + 2] = 0x44; expect(b, nullptr, Reject::bad_record, "record ihl 4"); }
    { Buf b = rec; b[56 + 2 + 20 + 12] = 0x40; expect(b, nullptr, Reject::bad_record, "record doff 4"); }
    { Buf b = rec; b[56 + 2 + 20 + 12] = 0x60; expect(b, nullptr, Reject::bad_record, "doff past the record"); }
    { Buf b = rec; b[56 + 2 + 2] = 0; b[56 + 2 + 3] = 39; expect(b, nullptr, Reject::bad_record, "tot_len < headers"); }
    { Buf b = rec; b[56] = 0; b[57] = 20; fix_length(b); expect(b, nullptr, Reject::bad_record, "record under 40"); }
    { Buf b(rec.begin(), rec.begin() + 39); fix_length(b); expect(b, nullptr, Reject::truncated, "short records body"); }
    { Buf b = enc_records(nullptr, {record(1, 2, 3, 4, 5, 5, 8, 8)}); b[59 + 2] = 0; b[59 + 3] = 44;
      expect(b, nullptr, Reject::bad_record, "shipped payload beyond tot_len"); }
    { Buf u(kMaxDatagram); u.resize(encode_unsubscribe(u, hdr(), {1, 2}, nullptr)); u.push_back(0); fix_length(u);
      expect(u, nullptr, Reject::bad_body, "unsubscribe with a byte more"); }
    { Buf u(kMaxDatagram); u.resize(encode_unsubscribe(u, hdr(), {1, 2}, nullptr)); u.pop_back(); fix_length(u);
      expect(u, nullptr, Reject::truncated, "unsubscribe without its reply address"); }
    { Buf u(kMaxDatagram); u.resize(encode_unsubscribe(u, hdr(), {1, 0}, nullptr));
      expect(u, nullptr, Reject::bad_body, "unsubscribe reply port 0"); }

    // the stateful reasons come from the replay window
    ReplayWindow w;
    REQUIRE(w.accept(5, 10).reject == Reject::none);
    seen.insert(w.accept(5, 10).reject);
    seen.insert(w.accept(4, 11).reject);
    SenderReplay senders(1);
    REQUIRE(senders.accept(0, 5, 1, kNow, kNow + 1) == Reject::none);
    seen.insert(senders.accept(1, 5, 1, kNow, kNow + 1));  // full until kNow + 1
    // reply_mismatch and not_for_us need the datagram's addresses: the intercept's and the
    // client's tests count them
    seen.insert(Reject::reply_mismatch);
    seen.insert(Reject::not_for_us);

    for (std::size_t i = 1; i < kRejectCount; ++i) {
        INFO(reject_name(static_cast<Reject>(i)));
        CHECK(seen.count(static_cast<Reject>(i)) == 1);
    }
    CHECK(seen.count(Reject::none) == 0);
}

TEST_CASE("truncation at every offset is rejected as truncated", "[control]") {
    for (const Key* key : {static_cast<const Key*>(nullptr), &kKey}) {
        for (const Buf& full : {enc_sub(key), enc_records(key, some_records())}) {
            for (std::size_t n = 0; n < full.size(); ++n) {
                INFO("prefix " << n << " of " << full.size());
                // a fresh heap copy of exactly n bytes, so ASan sees any read past it
                Buf cut(full.begin(), full.begin() + static_cast<long>(n));
                cut.shrink_to_fit();
                CHECK(dec(cut, key) == Reject::truncated);
            }
        }
    }
}

TEST_CASE("a MAC'd datagram with any byte changed is rejected", "[control]") {
    for (const Buf& full : {enc_sub(&kKey), enc_records(&kKey, some_records())}) {
        REQUIRE(dec(full, &kKey) == Reject::none);
        for (std::size_t i = 0; i < full.size(); ++i) {
            for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
                Buf b = full;
                b[i] ^= x;
                INFO("byte " << i << " ^ " << int{x});
                const Reject r = dec(b, &kKey);
                CHECK(r != Reject::none);
                // before the length field: header checks; the length: truncated/bad_length; after: the MAC
                if (i >= 10) CHECK(r == Reject::bad_mac);
            }
        }
    }
}

TEST_CASE("fuzz: mutated and random datagrams never crash, accepted ones are consistent", "[control]") {
    std::mt19937_64 rng(0x6470637479ULL);
    const std::vector<Buf> seeds = {enc_sub(nullptr), enc_records(nullptr, some_records()), enc_sub(&kKey),
                                    enc_records(&kKey, some_records())};
    std::uint64_t accepted = 0, rejected = 0;
    RejectCounters counters;
    for (int iter = 0; iter < 60000; ++iter) {
        Buf b;
        const auto mode = rng() % 4;
        if (mode == 0) {
            b.resize(rng() % 1600);
            for (auto& x : b) x = static_cast<std::uint8_t>(rng());
            if (b.size() >= 8 && rng() % 2) {  // plausible header start, to get past the first checks
                b[0] = 0x44; b[1] = 0x50; b[2] = 0x43; b[3] = 0x54; b[4] = 2;
                b[5] = static_cast<std::uint8_t>(1 + rng() % 3); b[6] = 0; b[7] = 0;
                if (rng() % 2) fix_length(b);
            }
        } else {
            b = seeds[rng() % 2];  // unkeyed seeds: mutations can be accepted
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
            if (mode == 2) b.resize(rng() % (b.size() + 8), 0);
            if (rng() % 2) fix_length(b);
        }
        b.shrink_to_fit();
        Datagram d;
        const Key* key = (rng() % 4 == 0) ? &kKey : nullptr;
        const Reject r = decode(b, key, kNow, kDefaultMaxSkewNs, d);
        counters.add(r);
        if (r != Reject::none) {
            ++rejected;
            continue;
        }
        ++accepted;
        CHECK(d.h.length == b.size());
        if (d.h.type == Type::records) {
            auto it = d.record_iter();
            RecordView v;
            std::size_t n = 0, bytes = 0;
            while (it.next(v)) {
                ++n;
                bytes += kRecordLenSize + v.bytes.size();
                CHECK(v.ip_header_len + v.tcp_header_len <= v.bytes.size());
                CHECK(v.bytes.size() <= v.ip_total_len);
            }
            CHECK(n == d.n_records);
            CHECK(bytes == d.records.size());
        }
        if (d.h.type == Type::subscribe) {
            CHECK(d.sub.n_clients >= 1);
            CHECK(d.sub.n_clients <= kMaxClientRanges);
            for (std::size_t i = 0; i < d.sub.n_clients; ++i) CHECK(d.sub.clients[i].first_ip <= d.sub.clients[i].last_ip);
        }
    }
    CHECK(accepted > 100);   // the loop explores accepted mutations too
    CHECK(rejected > 10000);
    CHECK(counters.accepted == accepted);
    CHECK(counters.rejected() == rejected);
    CHECK(counters[Reject::missing_mac] > 0);
}

TEST_CASE("replay window: gaps, duplicates, reordering, epochs", "[control]") {
    ReplayWindow w;
    auto r = w.accept(100, 1);
    CHECK(r.reject == Reject::none);
    CHECK(r.new_epoch);
    r = w.accept(100, 2);
    CHECK(r.reject == Reject::none);
    CHECK(r.gap == 0);
    CHECK_FALSE(r.new_epoch);
    CHECK(w.accept(100, 2).reject == Reject::replayed);
    CHECK(w.accept(100, 1).reject == Reject::replayed);
    r = w.accept(100, 6);  // 3, 4, 5 missing
    CHECK(r.reject == Reject::none);
    CHECK(r.gap == 3);
    CHECK(w.accept(100, 4).reject == Reject::none);  // late, inside the window
    CHECK(w.accept(100, 4).reject == Reject::replayed);
    CHECK(w.highest() == 6);
    r = w.accept(100, 200);
    CHECK(r.gap == 193);
    CHECK(w.accept(100, 137).reject == Reject::none);    // 63 back: inside
    CHECK(w.accept(100, 136).reject == Reject::replayed);  // 64 back: outside the window
    CHECK(w.accept(100, 5).reject == Reject::replayed);
    CHECK(w.accept(99, 201).reject == Reject::old_epoch);
    r = w.accept(101, 1);  // the sender restarted
    CHECK(r.reject == Reject::none);
    CHECK(r.new_epoch);
    CHECK(w.epoch() == 101);
    CHECK(w.accept(100, 500).reject == Reject::old_epoch);
    CHECK(w.accept(101, 1).reject == Reject::replayed);
}

TEST_CASE("staleness bound, both directions, and disabled with 0", "[control]") {
    Datagram d;
    const Buf old = enc_sub(nullptr, 1, kNow - kDefaultMaxSkewNs);
    CHECK(decode(old, nullptr, kNow, kDefaultMaxSkewNs, d) == Reject::none);
    CHECK(decode(old, nullptr, kNow + 1, kDefaultMaxSkewNs, d) == Reject::stale);
    CHECK(decode(old, nullptr, kNow + 1'000'000'000'000ULL, 0, d) == Reject::none);
    const Buf future = enc_sub(nullptr, 1, kNow + kDefaultMaxSkewNs);
    CHECK(decode(future, nullptr, kNow, kDefaultMaxSkewNs, d) == Reject::none);
    CHECK(decode(future, nullptr, kNow - 1, kDefaultMaxSkewNs, d) == Reject::stale);
    // a stale datagram's MAC is still checked first: a forged one is bad_mac, not stale
    Buf forged = enc_sub(&kKey, 1, kNow - 2 * kDefaultMaxSkewNs);
    forged[40] ^= 1;
    CHECK(decode(forged, &kKey, kNow, kDefaultMaxSkewNs, d) == Reject::bad_mac);
}

TEST_CASE("subscription matching by fake client range and target", "[control]") {
    const Subscribe s = sub2();
    CHECK(s.matches(0xc6120002, 80, 0x0a090001, 1024));
    CHECK(s.matches(0xc6120002, 80, 0x0a0900fe, 33279));
    CHECK_FALSE(s.matches(0xc6120002, 80, 0x0a0900ff, 2000));   // address outside
    CHECK_FALSE(s.matches(0xc6120002, 80, 0x0a090010, 33280));  // port outside range 0
    CHECK(s.matches(0xc6120002, 80, 0xc6120050, 33300));        // range 1
    CHECK_FALSE(s.matches(0xc6120003, 80, 0x0a090001, 1024));   // another target
    CHECK_FALSE(s.matches(0xc6120002, 81, 0x0a090001, 1024));   // another target port
    Subscribe any = s;
    any.n_targets = 0;
    CHECK(any.matches(0x01020304, 9, 0x0a090001, 1024));
    Subscribe anyport = s;
    anyport.targets[0].port = 0;
    CHECK(anyport.matches(0xc6120002, 8080, 0x0a090001, 1024));
}

TEST_CASE("key derivation: from a file, deterministic, and distinct per secret", "[control]") {
    const std::string path = "test_control_key_" + std::to_string(::getpid()) + ".bin";
    auto write = [&](const std::string& data) {
        std::remove(path.c_str());
        std::ofstream(path, std::ios::binary) << data;
        REQUIRE(::chmod(path.c_str(), 0600) == 0);
    };
    write("correct horse");
    std::string err;
    auto k = Key::from_file(path, err);
    REQUIRE(k);
    CHECK(k->bytes() == kKey.bytes());
    CHECK(kKey.bytes() != kOther.bytes());
    write("");
    CHECK_FALSE(Key::from_file(path, err));
    CHECK(err.find("1..4096") != std::string::npos);
    write(std::string(4097, 'k'));
    CHECK_FALSE(Key::from_file(path, err));
    std::remove(path.c_str());
    CHECK_FALSE(Key::from_file(path, err));
    CHECK(err.find("cannot read") != std::string::npos);
}
