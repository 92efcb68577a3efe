// StreamParser: positions, anchors, the response FIFO, HTTP/1.x and the "other" protocol.
// RESP, PostgreSQL and MySQL are in proto_parsers.cpp.
#include "lib/compare/stream_parser.hpp"

#include <cstdio>

namespace dpcopy::compare {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(const char* s, std::size_t n, std::string_view prefix) noexcept {
    if (n < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != prefix[i]) return false;
    return true;
}

bool contains_nocase(const char* s, std::size_t n, std::string_view word) noexcept {
    for (std::size_t i = 0; i + word.size() <= n; ++i)
        if (starts_with_nocase(s + i, n - i, word)) return true;
    return false;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// ---- ResponseFifo ----

ResponsePool::ResponsePool(std::uint32_t capacity) : nodes_(capacity) {
    for (std::uint32_t k = capacity; k-- > 0;) {
        nodes_[k].next = free_;
        free_ = k;
    }
}

// The next node to hand out is prefetched: it was freed a while ago (the free list is a
// stack), and the next push writes it.
std::uint32_t ResponsePool::alloc() noexcept {
    const std::uint32_t id = free_;
    if (id != kNone) {
        free_ = nodes_[id].next, nodes_[id].next = kNone;
        if (free_ != kNone) __builtin_prefetch(&nodes_[free_], 1);
    }
    return id;
}

void ResponsePool::free(std::uint32_t id) noexcept {
    nodes_[id].next = free_;
    free_ = id;
}

void ResponseFifo::pop() noexcept {
    const std::uint32_t id = head_;
    head_ = (*pool_)[id].next;
    if (head_ == ResponsePool::kNone) tail_ = ResponsePool::kNone;
    pool_->free(id);
    --count_;
}

ResponseFifo::Entry ResponseFifo::at(std::size_t i) const noexcept {
    std::uint32_t id = head_;
    while (i-- > 0) id = (*pool_)[id].next;
    return Entry{(*pool_)[id].start, (*pool_)[id].status};
}

void ResponseFifo::clear() noexcept {
    while (count_ > 0) pop();
    lost_ = false;
}

void ResponseFifo::push(std::uint32_t start, const Status& st) noexcept {
    const std::uint32_t id = pool_ ? pool_->alloc() : ResponsePool::kNone;
    if (id == ResponsePool::kNone) {
        ++overflows_;
        if (!lost_) lost_start_ = start, lost_ = true;
        return;
    }
    ResponsePool::Node& n = (*pool_)[id];
    n.start = start;
    n.status = st;
    if (tail_ == ResponsePool::kNone) head_ = id;
    else (*pool_)[tail_].next = id;
    tail_ = id;
    ++count_;
}

bool ResponseFifo::take(std::uint32_t begin, std::uint32_t bytes, JoinedStatus& out, std::uint32_t* first_start) noexcept {
    out.clear();
    bool any = false, cut = false;
    while (count_ > 0) {
        const ResponsePool::Node& e = (*pool_)[head_];
        const std::uint32_t rel = e.start - begin;  // modulo 2^32
        if (static_cast<std::int32_t>(rel) >= 0 && rel >= bytes) break;  // a later exchange's
        if (static_cast<std::int32_t>(rel) >= 0) {  // in [begin, begin + bytes)
            if (!any && first_start) *first_start = e.start;
            if (any) cut = cut || !out.push(',');
            cut = cut || !out.append(e.status.view());
            any = true;
        }
        pop();
    }
    if (cut) {
        out.len = static_cast<std::uint8_t>(out.len < JoinedStatus::kMax ? out.len : JoinedStatus::kMax - 1);
        out.push('+');
    }
    bool lost_here = false;
    if (lost_) {
        const std::uint32_t rel = lost_start_ - begin;
        if (static_cast<std::int32_t>(rel) < 0 || rel < bytes) lost_here = true, lost_ = false;
    }
    if (lost_here) out.clear();
    return any && !lost_here;
}

// ---- StreamParser: positions and anchors ----

void StreamParser::reset() noexcept {
    const std::uint32_t desyncs = desyncs_;
    *this = StreamParser{};
    desyncs_ = desyncs;
}

void StreamParser::lose_sync() noexcept {
    if (state_ != State::desync) ++desyncs_;
    state_ = State::desync;
    line_len_ = 0;
}

void StreamParser::emit(ResponseFifo& out, const Status& st) noexcept {
    out.push(start_, st);
    emitted_ = true;
}

void StreamParser::client_anchor(std::uint32_t offset) noexcept {
    const auto ahead = static_cast<std::int32_t>(offset - pos_);
    if (ahead > 0) {
        anchor_ = offset, anchor_pending_ = true;  // bytes the capture has not shown yet
    } else if (ahead == 0 && state_ != State::response_start) {
        anchor_ = offset, anchor_pending_ = true;  // taken at the next byte
    }
}

void StreamParser::anchor_here() noexcept {
    // MySQL responses have no end marker the parser tracks: at a packet boundary, the
    // previous one is over.
    const bool mysql_boundary = state_ == State::mysql_header && line_len_ == 0;
    if (state_ == State::desync || state_ == State::until_anchor || state_ == State::other_collect || mysql_boundary) {
        anchor_ = pos_, anchor_pending_ = true;
    }
}

void StreamParser::flush(ResponseFifo& out) noexcept {
    // PostgreSQL: a lone 'N' or 'S' (or 'G') is the whole answer to SSLRequest (GSSENCRequest).
    if (state_ == State::pg_header && line_len_ == 1 && pos_ - start_ == 1 && !emitted_ &&
        (line_[0] == 'N' || line_[0] == 'S' || line_[0] == 'G')) {
        Status st;
        st.assign(std::string_view(line_, 1));
        emit(out, st);
        state_ = State::response_start;
        return;
    }
    if (state_ != State::other_collect || line_len_ == 0) return;
    char text[12];
    std::snprintf(text, sizeof text, "#%08x", fnv1a32(reinterpret_cast<const std::uint8_t*>(line_), line_len_));
    Status st;
    st.assign(text);
    emit(out, st);
    state_ = State::until_anchor;
}

void StreamParser::feed(Protocol proto, std::uint32_t offset, const std::uint8_t* data, std::size_t len,
                        ResponseFifo& out) noexcept {
    if (len == 0) return;
    const auto ahead = static_cast<std::int32_t>(offset - pos_);
    if (ahead > 0) {  // a hole: what was missed cannot be framed
        lose_sync();
        pos_ = offset;
    } else if (ahead < 0) {  // bytes already parsed
        const auto repeated = static_cast<std::size_t>(-static_cast<std::int64_t>(ahead));
        if (repeated >= len) return;
        data += repeated;
        len -= repeated;
    }
    while (len > 0) {
        std::size_t n = len;
        if (anchor_pending_) {
            const auto to_anchor = static_cast<std::int32_t>(anchor_ - pos_);
            if (to_anchor <= 0) {
                anchor_pending_ = false;
                if (to_anchor == 0) {
                    flush(out);
                    state_ = State::response_start;
                }
                continue;
            }
            if (static_cast<std::size_t>(to_anchor) < n) n = static_cast<std::size_t>(to_anchor);
        }
        consume(proto, data, n, out);
        data += n;
        len -= n;
    }
}

std::size_t StreamParser::consume(Protocol proto, const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    std::size_t done = 0;
    while (done < n) {
        std::size_t used = 0;
        switch (state_) {
            case State::response_start: begin_response(proto); continue;
            case State::desync:
            case State::until_anchor: used = n - done; break;
            default:
                switch (proto) {
                    case Protocol::http: used = step_http(p + done, n - done, out); break;
                    case Protocol::redis: used = step_resp(p + done, n - done, out); break;
                    case Protocol::postgresql: used = step_pg(p + done, n - done, out); break;
                    case Protocol::mysql: used = step_mysql(p + done, n - done, out); break;
                    default: used = step_other(p + done, n - done, out); break;
                }
        }
        done += used;
        pos_ += static_cast<std::uint32_t>(used);
    }
    return done;
}

void StreamParser::begin_response(Protocol proto) noexcept {
    start_ = pos_;
    emitted_ = false;
    line_len_ = 0;
    line_cut_ = false;
    remaining_ = 0;
    this_is_head_ = false;
    if (head_pending_ && static_cast<std::int32_t>(pos_ - head_at_) >= 0) this_is_head_ = true, head_pending_ = false;
    switch (proto) {
        case Protocol::http: state_ = State::http_status_line; break;
        case Protocol::redis: state_ = State::resp_line, resp_pending_ = 0, resp_top_ = true; break;
        case Protocol::postgresql: state_ = State::pg_header; break;
        case Protocol::mysql: state_ = State::mysql_header, mysql_first_ = true; break;
        default: state_ = State::other_collect; break;
    }
}

StreamParser::Line StreamParser::take_line(const std::uint8_t* p, std::size_t n, std::size_t& used) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        const char c = static_cast<char>(p[i]);
        if (c == '\0') {
            used = i + 1;
            return Line::bad;
        }
        if (c == '\n') {
            used = i + 1;
            if (line_len_ > 0 && line_[line_len_ - 1] == '\r') --line_len_;
            return Line::done;
        }
        if (line_len_ < kLineCap) {
            line_[line_len_++] = c;
        } else {
            line_cut_ = true;
        }
    }
    used = n;
    return Line::more;
}

std::size_t StreamParser::skip(std::size_t n) noexcept {
    const std::size_t k = remaining_ < n ? static_cast<std::size_t>(remaining_) : n;
    remaining_ -= k;
    return k;
}

// ---- HTTP/1.x ----

std::size_t StreamParser::step_http(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    std::size_t used = 0;
    if (state_ == State::http_body || state_ == State::http_chunk_data) {
        used = skip(n);
        if (remaining_ == 0) state_ = state_ == State::http_body ? State::response_start : State::http_chunk_end;
        return used;
    }
    const Line r = take_line(p, n, used);
    if (state_ == State::http_status_line) {
        static constexpr std::string_view kPrefix = "HTTP/";
        for (std::size_t i = 0; i < line_len_ && i < kPrefix.size(); ++i) {
            if (line_[i] != kPrefix[i]) {
                lose_sync();
                return used;
            }
        }
    }
    if (r == Line::bad) lose_sync();
    if (r != Line::done) return used;
    switch (state_) {
        case State::http_status_line: http_status_done(out); break;
        case State::http_headers: http_header_done(); break;
        case State::http_chunk_size: http_chunk_size_done(); break;
        case State::http_chunk_end:
            if (line_len_ != 0) lose_sync();
            else state_ = State::http_chunk_size;
            break;
        case State::http_trailers:
            if (line_len_ == 0 && !line_cut_) state_ = State::response_start;
            break;
        default: break;
    }
    line_len_ = 0;
    line_cut_ = false;
    return used;
}

void StreamParser::http_status_done(ResponseFifo& out) noexcept {
    // "HTTP/1.1 200 OK": the code is the three digits after the first space.
    std::size_t sp = 0;
    while (sp < line_len_ && line_[sp] != ' ') ++sp;
    if (sp + 4 > line_len_ || (sp + 4 < line_len_ && line_[sp + 4] != ' ')) {
        lose_sync();
        return;
    }
    unsigned code = 0;
    for (std::size_t i = sp + 1; i < sp + 4; ++i) {
        if (line_[i] < '0' || line_[i] > '9') {
            lose_sync();
            return;
        }
        code = code * 10 + static_cast<unsigned>(line_[i] - '0');
    }
    Status st;
    st.assign(std::string_view(line_ + sp + 1, 3));
    emit(out, st);
    http_code_ = static_cast<std::uint16_t>(code);
    http_chunked_ = http_has_length_ = false;
    remaining_ = 0;
    state_ = State::http_headers;
}

void StreamParser::http_header_done() noexcept {
    if (line_len_ == 0 && !line_cut_) {  // end of the header block: where does the body end?
        const unsigned code = http_code_;
        if (code >= 100 && code < 200 && code != 101) state_ = State::response_start;  // interim
        else if (code == 101) state_ = State::until_anchor;
        else if (this_is_head_ || code == 204 || code == 304) state_ = State::response_start;
        else if (http_chunked_) state_ = State::http_chunk_size;
        else if (http_has_length_) state_ = remaining_ > 0 ? State::http_body : State::response_start;
        else state_ = State::until_anchor;
        return;
    }
    static constexpr std::string_view kLength = "content-length:";
    static constexpr std::string_view kEncoding = "transfer-encoding:";
    if (starts_with_nocase(line_, line_len_, kLength)) {
        std::size_t i = kLength.size();
        while (i < line_len_ && (line_[i] == ' ' || line_[i] == '\t')) ++i;
        std::uint64_t v = 0;
        std::size_t digits = 0;
        for (; i < line_len_ && line_[i] >= '0' && line_[i] <= '9' && digits < 18; ++i, ++digits)
            v = v * 10 + static_cast<std::uint64_t>(line_[i] - '0');
        if (digits > 0) remaining_ = v, http_has_length_ = true;
    } else if (starts_with_nocase(line_, line_len_, kEncoding)) {
        if (contains_nocase(line_ + kEncoding.size(), line_len_ - kEncoding.size(), "chunked")) http_chunked_ = true;
    }
}

void StreamParser::http_chunk_size_done() noexcept {
    // "1a;name=value": hex digits, then optional extensions.
    std::uint64_t size = 0;
    std::size_t i = 0;
    for (; i < line_len_ && hex_value(line_[i]) >= 0; ++i) {
        if (i >= 15) {
            lose_sync();
            return;
        }
        size = size * 16 + static_cast<std::uint64_t>(hex_value(line_[i]));
    }
    if (i == 0 || (i < line_len_ && line_[i] != ';' && line_[i] != ' ' && line_[i] != '\t')) {
        lose_sync();
        return;
    }
    if (size == 0) {
        state_ = State::http_trailers;
    } else {
        remaining_ = size;
        state_ = State::http_chunk_data;
    }
}

// ---- anything else: the hash of a response's first 16 bytes ----

std::size_t StreamParser::step_other(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    static constexpr std::size_t kHashed = 16;
    std::size_t used = 0;
    while (used < n && line_len_ < kHashed) line_[line_len_++] = static_cast<char>(p[used++]);
    if (line_len_ == kHashed) flush(out);
    return used;
}

}  // namespace dpcopy::compare
