// The dpcopy <-> dpintercept control protocol (docs/control-protocol.md), version 2:
// encoder, validating decoder, replay window, key derivation and MAC. Pure C++ over
// byte spans plus libsodium; no DPDK, so the sanitizer build tests it.
//
// The decoder never trusts a length: every field is checked against the bytes actually
// received, and every rejection has a named reason (Reject) that callers count.
// Decoding allocates nothing; a decoded datagram refers into the caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dpcopy::io::control {

using Bytes = std::span<std::uint8_t>;
using ConstBytes = std::span<const std::uint8_t>;

inline constexpr std::uint32_t kMagic = 0x44504354;  // "DPCT"
inline constexpr std::uint8_t kVersion = 2;
inline constexpr std::uint8_t kOldVersion = 1;          // refused as old_version (not bad_version)
inline constexpr std::size_t kHeaderSize = 36;
inline constexpr std::size_t kMacSize = 32;            // crypto_auth_BYTES (HMAC-SHA-512-256)
inline constexpr std::size_t kMaxDatagram = 1472;      // one 1500-byte IPv4 packet, no fragments
inline constexpr std::size_t kMaxClientRanges = 64;
inline constexpr std::size_t kMaxTargets = 64;
inline constexpr std::size_t kSubscribeFixed = 16;     // heartbeat_ms, expire_after, rsv, n_clients, n_targets, reply
inline constexpr std::size_t kEndpointSize = 8;        // ip (4), port (2), reserved (2)
inline constexpr std::size_t kUnsubscribeBody = kEndpointSize;  // the reply address
inline constexpr std::size_t kClientRangeSize = 12;
inline constexpr std::size_t kTargetSize = 8;
inline constexpr std::size_t kRecordsFixed = 20;       // count, reserved, subscriber epoch, subscriber endpoint
inline constexpr std::size_t kRecordLenSize = 2;
inline constexpr std::size_t kMinRecord = 40;          // IPv4 (20) + TCP (20)
inline constexpr std::uint8_t kFlagMac = 0x01;
inline constexpr std::uint64_t kDefaultMaxSkewNs = 5'000'000'000ULL;  // staleness bound, both ways
inline constexpr std::uint16_t kDefaultPort = 36524;

enum class Type : std::uint8_t { subscribe = 1, records = 2, unsubscribe = 3 };

// Why a datagram was dropped. Order is stable (it is the report's order).
enum class Reject : std::uint8_t {
    none = 0,
    truncated,       // shorter than the fixed header, or a body shorter than it announces
    bad_magic,
    bad_version,
    unknown_type,
    bad_flags,       // unknown flag bits or a non-zero reserved byte in the header
    bad_length,      // header length != bytes received, or over kMaxDatagram
    missing_mac,     // a key is configured and the datagram carries no MAC
    unexpected_mac,  // no key is configured and the datagram carries a MAC
    bad_mac,         // MAC verification failed
    stale,           // timestamp further than the skew bound from our clock
    bad_body,        // body fields inconsistent (counts, ranges, trailing bytes, reserved)
    bad_record,      // a record that is not an IPv4+TCP header block
    too_many,        // more client ranges / targets than the limits
    replayed,        // sequence already seen, or older than the window
    old_epoch,       // sender epoch older than the one we follow
    bad_sequence,    // sequence number 0 (sequences start at 1)
    // version 2
    old_version,     // a version 1 peer (upgrade it)
    reply_mismatch,  // SUBSCRIBE/UNSUBSCRIBE: the MAC'd reply address is not the datagram's source
    not_for_us,      // RECORDS bound to another subscriber (epoch or address), e.g. another dpcopy's
    replay_full,     // no room to keep one more sender's replay state (intercept)
    count_
};
inline constexpr std::size_t kRejectCount = static_cast<std::size_t>(Reject::count_);
const char* reject_name(Reject r) noexcept;

struct RejectCounters {
    std::array<std::uint64_t, kRejectCount> by_reason{};
    std::uint64_t accepted = 0;
    void add(Reject r) noexcept {
        if (r == Reject::none) ++accepted;
        else ++by_reason[static_cast<std::size_t>(r)];
    }
    std::uint64_t operator[](Reject r) const noexcept { return by_reason[static_cast<std::size_t>(r)]; }
    std::uint64_t rejected() const noexcept {
        std::uint64_t n = 0;
        for (auto v : by_reason) n += v;
        return n;
    }
};

// Shared secret: 32 bytes derived from the --key-file contents with BLAKE2b
// (crypto_generichash keyed with a fixed context string), used as the HMAC-SHA-512-256 key.
// The key is wiped (sodium_memzero) whenever a Key is destroyed or overwritten.
class Key {
public:
    Key() = default;
    Key(const Key&) = default;
    Key& operator=(const Key& o) noexcept;
    ~Key();
    static Key from_secret(ConstBytes file_contents) noexcept;
    // Reads the file: a regular file (no symlink), owned by the effective user, with no
    // permission for group or others, of 1..4096 bytes. nullopt and a one-line err otherwise.
    static std::optional<Key> from_file(const std::string& path, std::string& err);
    const std::array<std::uint8_t, 32>& bytes() const noexcept { return k_; }

private:
    std::array<std::uint8_t, 32> k_{};
};

struct Header {
    Type type = Type::subscribe;
    std::uint8_t flags = 0;
    std::uint16_t length = 0;      // whole datagram, MAC included
    std::uint16_t instance = 0;    // dpcopy -f of the subscriber (both directions)
    std::uint64_t epoch = 0;       // sender's start time (ns since the Unix epoch): a restart is a new epoch
    std::uint64_t seq = 0;         // per stream, from 1
    std::uint64_t ts_ns = 0;       // sender's clock at send (ns since the Unix epoch)
};

// Fake client addresses [first_ip, last_ip] x ports [first_port, last_port] (host order).
struct ClientRange {
    std::uint32_t first_ip = 0, last_ip = 0;
    std::uint16_t first_port = 0, last_port = 0;
    bool contains(std::uint32_t ip, std::uint16_t port) const noexcept {
        return ip >= first_ip && ip <= last_ip && port >= first_port && port <= last_port;
    }
    bool operator==(const ClientRange&) const = default;
};
struct Target {
    std::uint32_t ip = 0;
    std::uint16_t port = 0;  // 0: any port
    bool operator==(const Target&) const = default;
};

// An IPv4 address and UDP port (host order).
struct Endpoint {
    std::uint32_t ip = 0;
    std::uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
};

// Whom a RECORDS datagram is for: the subscriber's epoch (its SUBSCRIBE's) and reply address.
struct Subscriber {
    std::uint64_t epoch = 0;
    Endpoint ep;
    bool operator==(const Subscriber&) const = default;
};

struct Subscribe {
    Endpoint reply;                 // where RECORDS go: must be the SUBSCRIBE datagram's source
    std::uint16_t heartbeat_ms = 1000;
    std::uint8_t expire_after = 3;  // missed heartbeats before the intercept drops the subscription
    std::uint16_t n_clients = 0;
    std::uint16_t n_targets = 0;    // 0: responses from any source
    std::array<ClientRange, kMaxClientRanges> clients{};
    std::array<Target, kMaxTargets> targets{};
    // Does a response (src = target, dst = fake client) belong to this subscription?
    bool matches(std::uint32_t src_ip, std::uint16_t src_port, std::uint32_t dst_ip,
                 std::uint16_t dst_port) const noexcept;
};

// One record: IPv4 header + TCP header (with options) + shipped payload prefix.
struct RecordView {
    ConstBytes bytes;              // starts at the IPv4 header
    std::size_t ip_header_len = 0;
    std::size_t tcp_header_len = 0;
    std::uint16_t ip_total_len = 0;  // from the IPv4 header: the response's real size
    std::size_t shipped_payload() const noexcept { return bytes.size() - ip_header_len - tcp_header_len; }
};

// Validates one record's bytes (used by decode and by the intercept before shipping).
Reject check_record(ConstBytes rec, RecordView* out) noexcept;

// Iterates the records of a validated RECORDS body.
class RecordIter {
public:
    RecordIter() = default;
    explicit RecordIter(ConstBytes records, std::uint16_t count) noexcept : rest_(records), left_(count) {}
    bool next(RecordView& out) noexcept;

private:
    ConstBytes rest_;
    std::uint16_t left_ = 0;
};

struct Datagram {
    Header h;
    Subscribe sub;              // type subscribe
    Endpoint reply;             // types subscribe (= sub.reply) and unsubscribe
    Subscriber to;              // type records: the subscriber it is bound to
    std::uint16_t n_records = 0;  // type records
    ConstBytes records;          // type records: the record area (validated)
    RecordIter record_iter() const noexcept { return RecordIter(records, n_records); }
};

// Stateless checks: header, length, MAC, staleness, body. now_ns = our clock.
// key == nullptr: the datagram must carry no MAC. max_skew_ns == 0 disables staleness.
Reject decode(ConstBytes dgram, const Key* key, std::uint64_t now_ns, std::uint64_t max_skew_ns,
              Datagram& out) noexcept;

// Per-stream sequence state: the newest epoch, a 64-datagram window below the highest
// sequence seen (RFC 4303 §3.4.3 style). Call accept() only after decode() said none.
class ReplayWindow {
public:
    struct Result {
        Reject reject = Reject::none;
        std::uint64_t gap = 0;      // sequences skipped by this datagram (lost or reordered)
        bool new_epoch = false;     // the sender restarted (or this is the first datagram)
    };
    Result accept(std::uint64_t epoch, std::uint64_t seq) noexcept;
    std::uint64_t epoch() const noexcept { return epoch_; }
    std::uint64_t highest() const noexcept { return top_; }
    void reset() noexcept { *this = ReplayWindow{}; }

private:
    std::uint64_t epoch_ = 0;
    std::uint64_t top_ = 0;
    std::uint64_t bits_ = 0;   // bit i: top_ - i seen
    bool started_ = false;
};

// Replay state of the intercept's senders: one ReplayWindow per (instance, sender epoch),
// kept until `keep_until` (the caller extends it on every accepted datagram: past the
// subscription's expiry plus 2 x the skew limit), so a SUBSCRIBE replayed after
// UNSUBSCRIBE or expiry is still `replayed`, and one older than that is `stale`. At most
// `cap` entries; an entry past its keep_until is reused (UINT64_MAX: kept for ever).
class SenderReplay {
public:
    explicit SenderReplay(std::size_t cap) : cap_(cap) {}
    // none, replayed / old sequences, or replay_full (no entry free for a new sender).
    Reject accept(std::uint16_t instance, std::uint64_t epoch, std::uint64_t seq, std::uint64_t now,
                  std::uint64_t keep_until) noexcept;
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::uint16_t instance = 0;
        std::uint64_t epoch = 0;
        std::uint64_t keep_until = 0;
        ReplayWindow window;
    };
    std::size_t cap_;
    std::vector<Entry> entries_;  // grows on the control path only, up to cap_
};

// ---- Encoding. Functions return the datagram size, or 0 if `out` is too small or the
// input exceeds the protocol's limits. The MAC is added when key != nullptr.

std::size_t encode_subscribe(Bytes out, const Header& h, const Subscribe& s, const Key* key) noexcept;
std::size_t encode_unsubscribe(Bytes out, const Header& h, Endpoint reply, const Key* key) noexcept;

// Builds a RECORDS datagram in place: begin(), add() records while they fit, finish().
class RecordsBuilder {
public:
    // `out` is kept until finish(); at most kMaxDatagram bytes of it are used.
    void begin(Bytes out, bool with_mac) noexcept;
    // Largest record add() accepts right now.
    std::size_t room() const noexcept;
    // Copies ip_hdr_and_more (already truncated by the caller) as one record. False when it does
    // not fit (flush first) or is not a valid record.
    bool add(ConstBytes record) noexcept;
    std::uint16_t count() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    std::size_t size_so_far() const noexcept { return used_; }
    // Writes the header (type records, length, flags), the subscriber it is for and the MAC;
    // returns the datagram size.
    std::size_t finish(Header h, const Subscriber& to, const Key* key) noexcept;

private:
    Bytes out_;
    std::size_t limit_ = 0;
    std::size_t used_ = 0;
    std::uint16_t count_ = 0;
    bool mac_ = false;
};

// Largest record (header block + payload) that fits in one datagram alone.
constexpr std::size_t max_record_size(bool with_mac) noexcept {
    return kMaxDatagram - kHeaderSize - kRecordsFixed - kRecordLenSize - (with_mac ? kMacSize : 0);
}

}  // namespace dpcopy::io::control
