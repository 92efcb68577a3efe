// Control protocol codec; wire layout in docs/control-protocol.md.
#include "lib/control/control_codec.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "lib/rewrite/bytes.hpp"

namespace dpcopy::io::control {
namespace {

// Wire fields: lib/rewrite's byte-order helpers, 64-bit ones made of two 32-bit halves.
using net::load_be16;
using net::load_be32;
using net::store_be16;
using net::store_be32;

std::uint64_t ld64(const std::uint8_t* p) noexcept {
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
void st64(std::uint8_t* p, std::uint64_t v) noexcept {
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}

constexpr char kKdfContext[] = "dpcopy control protocol v2";

void write_header(std::uint8_t* p, const Header& h, std::size_t total, bool mac) noexcept {
    store_be32(p, kMagic);
    p[4] = kVersion;
    p[5] = static_cast<std::uint8_t>(h.type);
    p[6] = mac ? kFlagMac : 0;
    p[7] = 0;
    store_be16(p + 8, static_cast<std::uint16_t>(total));
    store_be16(p + 10, h.instance);
    st64(p + 12, h.epoch);
    st64(p + 20, h.seq);
    st64(p + 28, h.ts_ns);
}

// Appends the MAC over [0, body_end) at body_end.
void seal(std::uint8_t* p, std::size_t body_end, const Key& key) noexcept {
    crypto_auth(p + body_end, p, body_end, key.bytes().data());
}

std::size_t finish_datagram(Bytes out, const Header& h, std::size_t body_end, const Key* key) noexcept {
    const std::size_t total = body_end + (key ? kMacSize : 0);
    if (total > out.size() || total > kMaxDatagram) return 0;
    write_header(out.data(), h, total, key != nullptr);
    if (key) seal(out.data(), body_end, *key);
    return total;
}

void st_endpoint(std::uint8_t* p, Endpoint e) noexcept {
    store_be32(p, e.ip);
    store_be16(p + 4, e.port);
    store_be16(p + 6, 0);
}
// An endpoint field: ip and port non-zero, reserved 0.
bool ld_endpoint(const std::uint8_t* p, Endpoint& e) noexcept {
    e = Endpoint{load_be32(p), load_be16(p + 4)};
    return e.ip != 0 && e.port != 0 && load_be16(p + 6) == 0;
}

bool valid_type(std::uint8_t t) noexcept {
    return t == static_cast<std::uint8_t>(Type::subscribe) || t == static_cast<std::uint8_t>(Type::records) ||
           t == static_cast<std::uint8_t>(Type::unsubscribe);
}

Reject decode_subscribe(ConstBytes body, Subscribe& s) noexcept {
    if (body.size() < kSubscribeFixed) return Reject::truncated;
    const std::uint8_t* p = body.data();
    s.heartbeat_ms = load_be16(p);
    s.expire_after = p[2];
    if (p[3] != 0) return Reject::bad_body;
    const std::uint16_t nc = load_be16(p + 4);
    const std::uint16_t nt = load_be16(p + 6);
    if (!ld_endpoint(p + 8, s.reply)) return Reject::bad_body;
    if (s.heartbeat_ms == 0 || s.heartbeat_ms > 60000 || s.expire_after == 0) return Reject::bad_body;
    if (nc == 0) return Reject::bad_body;
    if (nc > kMaxClientRanges || nt > kMaxTargets) return Reject::too_many;
    const std::size_t need = kSubscribeFixed + nc * kClientRangeSize + nt * kTargetSize;
    if (body.size() < need) return Reject::truncated;
    if (body.size() > need) return Reject::bad_body;
    p += kSubscribeFixed;
    for (std::size_t i = 0; i < nc; ++i, p += kClientRangeSize) {
        ClientRange c{load_be32(p), load_be32(p + 4), load_be16(p + 8), load_be16(p + 10)};
        if (c.first_ip > c.last_ip || c.first_port > c.last_port || c.first_port == 0 || c.first_ip == 0)
            return Reject::bad_body;
        s.clients[i] = c;
    }
    for (std::size_t i = 0; i < nt; ++i, p += kTargetSize) {
        Target t{load_be32(p), load_be16(p + 4)};
        if (load_be16(p + 6) != 0 || t.ip == 0) return Reject::bad_body;
        s.targets[i] = t;
    }
    s.n_clients = nc;
    s.n_targets = nt;
    return Reject::none;
}

Reject decode_records(ConstBytes body, Datagram& out) noexcept {
    if (body.size() < kRecordsFixed) return Reject::truncated;
    const std::uint16_t n = load_be16(body.data());
    if (load_be16(body.data() + 2) != 0 || n == 0) return Reject::bad_body;
    out.to.epoch = ld64(body.data() + 4);
    if (!ld_endpoint(body.data() + 12, out.to.ep)) return Reject::bad_body;
    ConstBytes rest = body.subspan(kRecordsFixed);
    for (std::uint16_t i = 0; i < n; ++i) {
        if (rest.size() < kRecordLenSize) return Reject::truncated;
        const std::size_t len = load_be16(rest.data());
        if (rest.size() - kRecordLenSize < len) return Reject::truncated;
        if (Reject r = check_record(rest.subspan(kRecordLenSize, len), nullptr); r != Reject::none) return r;
        rest = rest.subspan(kRecordLenSize + len);
    }
    if (!rest.empty()) return Reject::bad_body;
    out.n_records = n;
    out.records = body.subspan(kRecordsFixed);
    return Reject::none;
}

}  // namespace

const char* reject_name(Reject r) noexcept {
    switch (r) {
    case Reject::none: return "accepted";
    case Reject::truncated: return "truncated";
    case Reject::bad_magic: return "bad_magic";
    case Reject::bad_version: return "bad_version";
    case Reject::unknown_type: return "unknown_type";
    case Reject::bad_flags: return "bad_flags";
    case Reject::bad_length: return "bad_length";
    case Reject::missing_mac: return "missing_mac";
    case Reject::unexpected_mac: return "unexpected_mac";
    case Reject::bad_mac: return "bad_mac";
    case Reject::stale: return "stale";
    case Reject::bad_body: return "bad_body";
    case Reject::bad_record: return "bad_record";
    case Reject::too_many: return "too_many";
    case Reject::replayed: return "replayed";
    case Reject::old_epoch: return "old_epoch";
    case Reject::bad_sequence: return "bad_sequence";
    case Reject::old_version: return "old_version";
    case Reject::reply_mismatch: return "reply_mismatch";
    case Reject::not_for_us: return "not_for_us";
    case Reject::replay_full: return "replay_full";
    case Reject::count_: break;
    }
    return "?";
}

Key Key::from_secret(ConstBytes file_contents) noexcept {
    if (sodium_init() < 0) std::abort();  // cannot happen after the first success; no RNG is needed here
    Key k;
    crypto_generichash(k.k_.data(), k.k_.size(), file_contents.data(), file_contents.size(),
                       reinterpret_cast<const unsigned char*>(kKdfContext), sizeof kKdfContext - 1);
    return k;
}

Key& Key::operator=(const Key& o) noexcept {
    if (this != &o) k_ = o.k_;
    return *this;
}

Key::~Key() { sodium_memzero(k_.data(), k_.size()); }

namespace {
// The key file's checks: a regular file, ours, private. "" when it passes.
std::string key_file_problem(const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (st.st_uid != ::geteuid())
        return "is owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " +
               std::to_string(::geteuid()) + ")";
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string("is readable or writable by group or others (mode ") + mode + "; chmod 600 it)";
    }
    return {};
}
}  // namespace

std::optional<Key> Key::from_file(const std::string& path, std::string& err) {
    // O_NONBLOCK: a FIFO cannot block the open; O_NOFOLLOW: no symlink to another's file
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err = "cannot read key file " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        err = "cannot read key file " + path + ": " + std::strerror(errno);
        ::close(fd);
        return std::nullopt;
    }
    if (std::string why = key_file_problem(st); !why.empty()) {
        err = "key file " + path + " " + why;
        ::close(fd);
        return std::nullopt;
    }
    std::array<std::uint8_t, 4097> buf{};
    std::size_t n = 0;
    bool failed = false;
    while (n < buf.size()) {
        const ssize_t r = ::read(fd, buf.data() + n, buf.size() - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) failed = true;
        if (r <= 0) break;
        n += static_cast<std::size_t>(r);
    }
    ::close(fd);
    std::optional<Key> k;
    if (failed || n == 0 || n > 4096) err = "key file " + path + " must hold 1..4096 bytes";
    else k = from_secret(ConstBytes(buf.data(), n));
    sodium_memzero(buf.data(), buf.size());
    return k;
}

bool Subscribe::matches(std::uint32_t src_ip, std::uint16_t src_port, std::uint32_t dst_ip,
                        std::uint16_t dst_port) const noexcept {
    bool client = false;
    for (std::size_t i = 0; i < n_clients && !client; ++i) client = clients[i].contains(dst_ip, dst_port);
    if (!client) return false;
    if (n_targets == 0) return true;
    for (std::size_t i = 0; i < n_targets; ++i)
        if (targets[i].ip == src_ip && (targets[i].port == 0 || targets[i].port == src_port)) return true;
    return false;
}

Reject check_record(ConstBytes rec, RecordView* out) noexcept {
    if (rec.size() < kMinRecord) return Reject::bad_record;
    const std::uint8_t* p = rec.data();
    if ((p[0] >> 4) != 4) return Reject::bad_record;
    const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
    if (ihl < 20 || p[9] != 6 || rec.size() < ihl + 20) return Reject::bad_record;
    const std::size_t doff = (std::size_t{p[ihl + 12]} >> 4) * 4;
    if (doff < 20 || rec.size() < ihl + doff) return Reject::bad_record;
    const std::uint16_t tot = load_be16(p + 2);
    if (tot < ihl + doff || rec.size() > tot) return Reject::bad_record;
    if (out) *out = RecordView{rec, ihl, doff, tot};
    return Reject::none;
}

bool RecordIter::next(RecordView& out) noexcept {
    if (left_ == 0 || rest_.size() < kRecordLenSize) return false;
    const std::size_t len = load_be16(rest_.data());
    if (rest_.size() - kRecordLenSize < len) return false;
    if (check_record(rest_.subspan(kRecordLenSize, len), &out) != Reject::none) return false;
    rest_ = rest_.subspan(kRecordLenSize + len);
    --left_;
    return true;
}

Reject decode(ConstBytes d, const Key* key, std::uint64_t now_ns, std::uint64_t max_skew_ns,
              Datagram& out) noexcept {
    if (d.size() < kHeaderSize) return Reject::truncated;
    const std::uint8_t* p = d.data();
    if (load_be32(p) != kMagic) return Reject::bad_magic;
    if (p[4] == kOldVersion) return Reject::old_version;
    if (p[4] != kVersion) return Reject::bad_version;
    if (!valid_type(p[5])) return Reject::unknown_type;
    if ((p[6] & ~kFlagMac) != 0 || p[7] != 0) return Reject::bad_flags;
    const bool has_mac = (p[6] & kFlagMac) != 0;
    const std::size_t len = load_be16(p + 8);
    if (len > d.size()) return Reject::truncated;
    if (len < d.size() || len > kMaxDatagram || len < kHeaderSize + (has_mac ? kMacSize : 0))
        return Reject::bad_length;
    if (has_mac && !key) return Reject::unexpected_mac;
    if (!has_mac && key) return Reject::missing_mac;
    const std::size_t body_end = len - (has_mac ? kMacSize : 0);
    if (has_mac && crypto_auth_verify(p + body_end, p, body_end, key->bytes().data()) != 0)
        return Reject::bad_mac;

    Header& h = out.h;
    h.type = static_cast<Type>(p[5]);
    h.flags = p[6];
    h.length = static_cast<std::uint16_t>(len);
    h.instance = load_be16(p + 10);
    h.epoch = ld64(p + 12);
    h.seq = ld64(p + 20);
    h.ts_ns = ld64(p + 28);
    if (h.seq == 0) return Reject::bad_sequence;
    if (max_skew_ns != 0) {
        const std::uint64_t diff = h.ts_ns > now_ns ? h.ts_ns - now_ns : now_ns - h.ts_ns;
        if (diff > max_skew_ns) return Reject::stale;
    }
    const ConstBytes body = d.subspan(kHeaderSize, body_end - kHeaderSize);
    out.n_records = 0;
    out.records = {};
    out.reply = {};
    out.to = {};
    switch (h.type) {
    case Type::subscribe: {
        const Reject r = decode_subscribe(body, out.sub);
        out.reply = out.sub.reply;
        return r;
    }
    case Type::records: return decode_records(body, out);
    case Type::unsubscribe:
        if (body.size() < kUnsubscribeBody) return Reject::truncated;
        if (body.size() > kUnsubscribeBody) return Reject::bad_body;
        return ld_endpoint(body.data(), out.reply) ? Reject::none : Reject::bad_body;
    }
    return Reject::unknown_type;
}

ReplayWindow::Result ReplayWindow::accept(std::uint64_t epoch, std::uint64_t seq) noexcept {
    Result r;
    if (!started_ || epoch > epoch_) {
        started_ = true;
        epoch_ = epoch;
        top_ = seq;
        bits_ = 1;
        r.new_epoch = true;
        return r;
    }
    if (epoch < epoch_) {
        r.reject = Reject::old_epoch;
        return r;
    }
    if (seq > top_) {
        const std::uint64_t shift = seq - top_;
        r.gap = shift - 1;
        bits_ = shift >= 64 ? 1 : (bits_ << shift) | 1;
        top_ = seq;
        return r;
    }
    const std::uint64_t back = top_ - seq;
    if (back >= 64 || (bits_ >> back) & 1u) {
        r.reject = Reject::replayed;
        return r;
    }
    bits_ |= std::uint64_t{1} << back;  // a late (reordered) datagram: fills a gap counted before
    return r;
}

Reject SenderReplay::accept(std::uint16_t instance, std::uint64_t epoch, std::uint64_t seq, std::uint64_t now,
                            std::uint64_t keep_until) noexcept {
    Entry* e = nullptr;
    Entry* reusable = nullptr;
    for (auto& x : entries_) {
        if (x.instance == instance && x.epoch == epoch) e = &x;
        else if (!reusable && x.keep_until < now) reusable = &x;
    }
    if (!e) {
        if (reusable) e = reusable;
        else if (entries_.size() < cap_) e = &entries_.emplace_back();  // control path only
        else return Reject::replay_full;
        *e = Entry{instance, epoch, 0, {}};
    }
    const auto w = e->window.accept(epoch, seq);
    if (w.reject != Reject::none) return w.reject;
    e->keep_until = std::max(e->keep_until, keep_until);
    return Reject::none;
}

std::size_t encode_subscribe(Bytes out, const Header& h0, const Subscribe& s, const Key* key) noexcept {
    if (s.n_clients == 0 || s.n_clients > kMaxClientRanges || s.n_targets > kMaxTargets) return 0;
    const std::size_t body_end =
        kHeaderSize + kSubscribeFixed + s.n_clients * kClientRangeSize + s.n_targets * kTargetSize;
    if (body_end + (key ? kMacSize : 0) > out.size()) return 0;
    std::uint8_t* p = out.data() + kHeaderSize;
    store_be16(p, s.heartbeat_ms);
    p[2] = s.expire_after;
    p[3] = 0;
    store_be16(p + 4, s.n_clients);
    store_be16(p + 6, s.n_targets);
    st_endpoint(p + 8, s.reply);
    p += kSubscribeFixed;
    for (std::size_t i = 0; i < s.n_clients; ++i, p += kClientRangeSize) {
        store_be32(p, s.clients[i].first_ip);
        store_be32(p + 4, s.clients[i].last_ip);
        store_be16(p + 8, s.clients[i].first_port);
        store_be16(p + 10, s.clients[i].last_port);
    }
    for (std::size_t i = 0; i < s.n_targets; ++i, p += kTargetSize) {
        store_be32(p, s.targets[i].ip);
        store_be16(p + 4, s.targets[i].port);
        store_be16(p + 6, 0);
    }
    Header h = h0;
    h.type = Type::subscribe;
    return finish_datagram(out, h, body_end, key);
}

std::size_t encode_unsubscribe(Bytes out, const Header& h0, Endpoint reply, const Key* key) noexcept {
    if (out.size() < kHeaderSize + kUnsubscribeBody) return 0;
    st_endpoint(out.data() + kHeaderSize, reply);
    Header h = h0;
    h.type = Type::unsubscribe;
    return finish_datagram(out, h, kHeaderSize + kUnsubscribeBody, key);
}

void RecordsBuilder::begin(Bytes out, bool with_mac) noexcept {
    out_ = out;
    mac_ = with_mac;
    const std::size_t cap = out.size() < kMaxDatagram ? out.size() : kMaxDatagram;
    const std::size_t overhead = kHeaderSize + kRecordsFixed + (with_mac ? kMacSize : 0);
    limit_ = cap > overhead ? cap - (with_mac ? kMacSize : 0) : 0;  // body may grow up to limit_
    used_ = kHeaderSize + kRecordsFixed;
    count_ = 0;
}

std::size_t RecordsBuilder::room() const noexcept {
    if (limit_ < used_ + kRecordLenSize) return 0;
    return limit_ - used_ - kRecordLenSize;
}

bool RecordsBuilder::add(ConstBytes record) noexcept {
    if (count_ == 0xffff || record.size() > room()) return false;
    if (check_record(record, nullptr) != Reject::none) return false;
    store_be16(out_.data() + used_, static_cast<std::uint16_t>(record.size()));
    std::memcpy(out_.data() + used_ + kRecordLenSize, record.data(), record.size());
    used_ += kRecordLenSize + record.size();
    ++count_;
    return true;
}

std::size_t RecordsBuilder::finish(Header h, const Subscriber& to, const Key* key) noexcept {
    if (count_ == 0 || limit_ == 0 || (key != nullptr) != mac_) return 0;
    store_be16(out_.data() + kHeaderSize, count_);
    store_be16(out_.data() + kHeaderSize + 2, 0);
    st64(out_.data() + kHeaderSize + 4, to.epoch);
    st_endpoint(out_.data() + kHeaderSize + 12, to.ep);
    h.type = Type::records;
    const std::size_t n = finish_datagram(out_, h, used_, key);
    count_ = 0;
    used_ = kHeaderSize + kRecordsFixed;
    return n;
}

}  // namespace dpcopy::io::control
