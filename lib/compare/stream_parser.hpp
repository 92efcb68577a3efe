// One direction's answer stream (the online server's or the target's) in one session slot:
// a streaming, per-protocol parser that finds where each response starts and reads its
// status, fed bytes at stream offsets (in order, or with repeats, overlaps and holes), and
// the FIFO of (start offset, status) it fills. Fixed size, no allocation: one pair per slot.
//
// Framing per protocol (docs/compare.md): HTTP/1.x by Content-Length, chunked encoding or no
// body (1xx, 204, 304, HEAD), else until the next anchor; RESP by its types (nested
// aggregates); PostgreSQL messages up to ReadyForQuery; MySQL packets, a new response at a
// sequence-number break; anything else: one response per anchor. Text a parser cannot read
// (a NUL in an HTTP header or RESP line, an impossible length) desynchronises it until the
// next anchor: what the client's next request (online) or the next release (target) says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/compare/fixed_text.hpp"

namespace dpcopy::compare {

// The (start offset, status) entries of every FIFO of a worker: one pool, so that a session
// whose capture runs far ahead of its replay (offline at --speed 0: many answers parsed before
// their requests are released) holds as many as it needs, and the bound is per worker.
class ResponsePool {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    struct Node {
        std::uint32_t start = 0;
        std::uint32_t next = kNone;
        Status status;
    };
    explicit ResponsePool(std::uint32_t capacity);
    std::uint32_t alloc() noexcept;  // kNone when every node is in use
    void free(std::uint32_t id) noexcept;
    Node& operator[](std::uint32_t id) noexcept { return nodes_[id]; }
    const Node& operator[](std::uint32_t id) const noexcept { return nodes_[id]; }
    std::size_t memory_bytes() const noexcept { return nodes_.capacity() * sizeof(Node); }

private:
    std::vector<Node> nodes_;
    std::uint32_t free_ = kNone;
};

// (start offset, status) of the responses a parser recognised, oldest first, in nodes of the
// worker's ResponsePool. A response that finds the pool empty is lost (counted): its
// exchange's status is unknown.
class ResponseFifo {
public:
    void attach(ResponsePool& pool) noexcept { pool_ = &pool; }
    void clear() noexcept;
    void push(std::uint32_t start, const Status& st) noexcept;
    // The statuses of the responses that started in [begin, begin + bytes), joined by ','; drops
    // them and older ones. False (status unknown) if none did, or if one was lost to a full pool.
    // `first_start`, when given, gets the offset of the first of them.
    bool take(std::uint32_t begin, std::uint32_t bytes, JoinedStatus& out, std::uint32_t* first_start = nullptr) noexcept;
    std::size_t size() const noexcept { return count_; }
    std::uint64_t overflows() const noexcept { return overflows_; }
    struct Entry {
        std::uint32_t start = 0;
        Status status;
    };
    Entry at(std::size_t i) const noexcept;  // i < size(); walks the list (tests, diagnostics)

private:
    void pop() noexcept;
    ResponsePool* pool_ = nullptr;
    std::uint32_t head_ = ResponsePool::kNone, tail_ = ResponsePool::kNone;
    std::uint32_t count_ = 0;
    std::uint32_t overflows_ = 0;  // responses dropped because the pool was empty
    std::uint32_t lost_start_ = 0; // start of the first response dropped since the last take()
    bool lost_ = false;
};

class StreamParser {
public:
    enum class State : std::uint8_t {
        response_start,  // the next byte begins a response
        desync,          // framing lost: skip to the next anchor
        until_anchor,    // a response with no framing (close-delimited HTTP, other protocols)
        http_status_line, http_headers, http_body, http_chunk_size, http_chunk_data, http_chunk_end,
        http_trailers,
        resp_line, resp_bulk,
        pg_header, pg_skip, pg_error_code, pg_error_value,
        mysql_header, mysql_payload,
        other_collect,
    };

    // A new connection: the stream starts at offset 0 with a response.
    void reset() noexcept;
    // Stream bytes at `offset` for protocol `proto` (not unknown). Repeated bytes are skipped,
    // a hole desynchronises until the next anchor. Recognised responses go into `out`.
    void feed(Protocol proto, std::uint32_t offset, const std::uint8_t* data, std::size_t len, ResponseFifo& out) noexcept;
    // The online client sent data having received `offset` bytes: a response begins there if
    // the stream has not got that far yet (bytes missed or still to come), or if it is exactly
    // there and not already at a response's start (lost, reading until an anchor, or inside a
    // framed answer the client evidently considered finished: an unrecognised HEAD answer).
    // Behind the stream (a pipelining client): nothing.
    void client_anchor(std::uint32_t offset) noexcept;
    // The target: a request was released; if the parser is lost, reads until an anchor, or
    // is between two MySQL packets, its next bytes begin a response.
    void anchor_here() noexcept;
    // The next response starting at or after `offset` answers a HEAD request (no body).
    void expect_head(std::uint32_t offset) noexcept { head_at_ = offset, head_pending_ = true; }
    // The exchange is over (or an anchor is reached): a response that has not said its status
    // yet but is complete enough gets it now: "other" shorter than 16 bytes (the hash of what
    // there is), PostgreSQL's one-byte answer to SSLRequest ("N" or "S").
    void flush(ResponseFifo& out) noexcept;
    // The same, only if that response started in [begin, begin + bytes) (an exchange's range).
    void flush_within(std::uint32_t begin, std::uint32_t bytes, ResponseFifo& out) noexcept {
        if (start_ - begin < bytes) flush(out);
    }
    // Forgets the framing (the protocol was decided late): lost until the next anchor.
    void forget_framing() noexcept { lose_sync(); }

    // Whether bytes at `offset` would begin a response: the stream is at a response's start
    // there, or an anchor is.
    bool response_begins_at(std::uint32_t offset) const noexcept {
        return (anchor_pending_ && anchor_ == offset) || (state_ == State::response_start && pos_ == offset);
    }
    std::uint32_t position() const noexcept { return pos_; }
    State state() const noexcept { return state_; }
    bool synchronised() const noexcept { return state_ != State::desync; }
    std::uint32_t desyncs() const noexcept { return desyncs_; }

private:
    static constexpr std::size_t kLineCap = 40;
    enum class Line : std::uint8_t { more, done, bad };

    std::size_t consume(Protocol proto, const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;
    void begin_response(Protocol proto) noexcept;
    void lose_sync() noexcept;
    void emit(ResponseFifo& out, const Status& st) noexcept;
    // Accumulates a CRLF/LF-terminated text line into line_ (excess characters dropped).
    Line take_line(const std::uint8_t* p, std::size_t n, std::size_t& used) noexcept;
    std::size_t skip(std::size_t n) noexcept;  // min(n, remaining_), counted down

    std::size_t step_http(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;
    void http_status_done(ResponseFifo& out) noexcept;
    void http_header_done() noexcept;
    void http_chunk_size_done() noexcept;
    std::size_t step_resp(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;
    void resp_line_done(ResponseFifo& out) noexcept;
    void resp_element_done() noexcept;
    std::size_t step_pg(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;
    void pg_header_done(ResponseFifo& out) noexcept;
    void pg_message_done(ResponseFifo& out) noexcept;
    std::size_t step_mysql(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;
    void mysql_header_done() noexcept;
    void mysql_status(ResponseFifo& out) noexcept;
    std::size_t step_other(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept;

    std::uint64_t remaining_ = 0;  // body, chunk, bulk, message or packet bytes left
    std::uint32_t desyncs_ = 0;
    std::uint32_t pos_ = 0;        // the next stream offset expected
    std::uint32_t start_ = 0;      // the current response's first byte
    std::uint32_t anchor_ = 0;     // a response begins here (when anchor_pending_)
    std::uint32_t head_at_ = 0;
    std::uint32_t packet_start_ = 0;  // MySQL: the packet being read began here
    std::uint32_t packet_len_ = 0;    // MySQL: its payload length
    // RESP: values still to read after the current one, whatever their nesting (an
    // aggregate of n adds n - 1: itself replaced by its elements); no depth limit
    std::uint64_t resp_pending_ = 0;
    State state_ = State::response_start;
    std::uint8_t line_len_ = 0;    // characters kept in line_
    bool resp_top_ = true;        // RESP: the next value is the response's first (its status)
    std::uint8_t mysql_seq_ = 0;   // sequence number of the last packet
    std::uint8_t pg_type_ = 0;     // PostgreSQL: the message being read
    std::uint8_t pg_field_ = 0;    // PostgreSQL: ErrorResponse field being read
    std::uint16_t http_code_ = 0;
    // flags in one byte (a comparator slot holds two parsers: docs/PERFORMANCE.md, issue #15)
    bool anchor_pending_ : 1 = false;
    bool head_pending_ : 1 = false;
    bool this_is_head_ : 1 = false;    // the current HTTP response answers a HEAD
    bool emitted_ : 1 = false;         // the current response's status is in the FIFO
    bool line_cut_ : 1 = false;        // the current line was longer than line_
    bool http_chunked_ : 1 = false;
    bool http_has_length_ : 1 = false;
    bool mysql_first_ : 1 = false;     // the packet being read begins a response
    char line_[kLineCap] = {};
};

}  // namespace dpcopy::compare
