// StreamParser's binary and RESP protocols: Redis RESP (2 and the common RESP3 types),
// PostgreSQL backend messages, MySQL/MariaDB packets.
#include <cstdio>
#include <string_view>

#include "lib/compare/stream_parser.hpp"

namespace dpcopy::compare {

namespace {

// "-12" / "345" after the type byte; false if not a number or out of range.
bool parse_resp_length(const char* s, std::size_t n, std::int64_t& v) noexcept {
    std::size_t i = 0;
    bool negative = false;
    if (i < n && s[i] == '-') negative = true, ++i;
    if (i == n || n - i > 10) return false;
    std::int64_t x = 0;
    for (; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        x = x * 10 + (s[i] - '0');
    }
    v = negative ? -x : x;
    return true;
}

bool is_pg_backend_type(std::uint8_t t) noexcept {
    static constexpr std::string_view kTypes = "123ACDEGHIKNRSTVWZcdnstv";
    return kTypes.find(static_cast<char>(t)) != std::string_view::npos;
}

Status status_of(std::string_view s) noexcept {
    Status st;
    st.assign(s);
    return st;
}

// The fixed statuses, built once: a Status built on the stack byte by byte and then copied
// whole stalls the copy's loads on the stores (store forwarding), once per response.
const Status kStatusOk = status_of("ok");
const Status kStatusNil = status_of("nil");
const Status kStatusError = status_of("error");

// Server-chosen text (a RESP error prefix, a SQLSTATE) as printable ASCII, so that the
// report's JSON is always valid UTF-8.
Status printable_status_of(std::string_view s) noexcept {
    Status st;
    for (char c : s) st.push((c >= 0x20 && c < 0x7f) ? c : '.');
    return st;
}

}  // namespace

// ---- Redis RESP ----

std::size_t StreamParser::step_resp(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    std::size_t used = 0;
    if (state_ == State::resp_bulk) {
        used = skip(n);
        if (remaining_ == 0) resp_element_done();
        return used;
    }
    const Line r = take_line(p, n, used);
    if (r == Line::bad) lose_sync();
    if (r != Line::done) return used;
    resp_line_done(out);
    line_len_ = 0;
    line_cut_ = false;
    return used;
}

void StreamParser::resp_line_done(ResponseFifo& out) noexcept {
    if (line_len_ == 0) {
        lose_sync();
        return;
    }
    const char type = line_[0];
    const bool top = resp_top_;
    resp_top_ = false;
    std::int64_t count = 0;
    switch (type) {
        case '+': case ':': case ',': case '#': case '(':
            if (top) emit(out, status_of(std::string_view(&type, 1)));
            resp_element_done();
            return;
        case '_':
            if (top) emit(out, kStatusNil);
            resp_element_done();
            return;
        case '-': {  // the error's prefix: "-ERR", "-WRONGTYPE"
            std::size_t end = 1;
            while (end < line_len_ && line_[end] != ' ') ++end;
            if (top) emit(out, printable_status_of(std::string_view(line_, end)));
            resp_element_done();
            return;
        }
        case '$': case '!': case '=':
            if (line_cut_ || !parse_resp_length(line_ + 1, line_len_ - 1u, count) || count > (512 << 20)) break;
            if (count < 0) {
                if (top) emit(out, kStatusNil);
                resp_element_done();
            } else {
                if (top) emit(out, status_of(std::string_view(&type, 1)));
                remaining_ = static_cast<std::uint64_t>(count) + 2;  // and its CRLF
                state_ = State::resp_bulk;
            }
            return;
        case '*': case '~': case '>': case '%':
            if (line_cut_ || !parse_resp_length(line_ + 1, line_len_ - 1u, count) || count > (1 << 30)) break;
            if (count < 0) {
                if (top) emit(out, kStatusNil);
                resp_element_done();
                return;
            }
            if (top) emit(out, status_of(std::string_view(&type, 1)));
            if (type == '%') count *= 2;  // a map: keys and values
            if (count == 0) {
                resp_element_done();
            } else {
                resp_pending_ += static_cast<std::uint64_t>(count) - 1;
                state_ = State::resp_line;
            }
            return;
        default: break;  // '|' attributes and anything else: not framed
    }
    lose_sync();
}

void StreamParser::resp_element_done() noexcept {
    if (resp_pending_ == 0) {
        state_ = State::response_start;
        return;
    }
    --resp_pending_;
    state_ = State::resp_line;
}

// ---- PostgreSQL ----

std::size_t StreamParser::step_pg(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    std::size_t used = 0;
    switch (state_) {
        case State::pg_header:
            while (used < n && line_len_ < 5) line_[line_len_++] = static_cast<char>(p[used++]);
            if (line_len_ == 5) pg_header_done(out);
            return used;
        case State::pg_skip:
            used = skip(n);
            if (remaining_ == 0) pg_message_done(out);
            return used;
        case State::pg_error_code:  // ErrorResponse: field type byte, 0 ends the fields
            --remaining_;
            pg_field_ = p[0];
            line_len_ = 0;
            if (pg_field_ == 0) state_ = State::pg_skip;
            else state_ = State::pg_error_value;
            if (remaining_ == 0) pg_message_done(out);
            return 1;
        case State::pg_error_value:
            while (used < n && remaining_ > 0) {
                const char c = static_cast<char>(p[used++]);
                --remaining_;
                if (c == '\0') {
                    if (pg_field_ == 'C' && !emitted_) emit(out, printable_status_of(std::string_view(line_, line_len_)));
                    state_ = State::pg_error_code;
                    break;
                }
                if (pg_field_ == 'C' && line_len_ < kLineCap) line_[line_len_++] = c;
            }
            if (remaining_ == 0) pg_message_done(out);
            return used;
        default: lose_sync(); return 0;
    }
}

void StreamParser::pg_header_done(ResponseFifo& out) noexcept {
    const auto* h = reinterpret_cast<const std::uint8_t*>(line_);
    const std::uint32_t len = (std::uint32_t{h[1]} << 24) | (std::uint32_t{h[2]} << 16) | (std::uint32_t{h[3]} << 8) | h[4];
    if (!is_pg_backend_type(h[0]) || len < 4 || len > (1u << 30)) {
        lose_sync();
        return;
    }
    pg_type_ = h[0];
    remaining_ = len - 4;
    line_len_ = 0;
    if (pg_type_ == 'Z' && !emitted_) emit(out, kStatusOk);
    if (pg_type_ == 'E' && !emitted_ && remaining_ > 0) {
        state_ = State::pg_error_code;
    } else if (remaining_ > 0) {
        state_ = State::pg_skip;
    } else {
        pg_message_done(out);
    }
}

void StreamParser::pg_message_done(ResponseFifo& out) noexcept {
    if (pg_type_ == 'E' && !emitted_) emit(out, kStatusError);  // no SQLSTATE field
    line_len_ = 0;
    state_ = pg_type_ == 'Z' ? State::response_start : State::pg_header;
}

// ---- MySQL / MariaDB ----

std::size_t StreamParser::step_mysql(const std::uint8_t* p, std::size_t n, ResponseFifo& out) noexcept {
    std::size_t used = 0;
    if (state_ == State::mysql_header) {
        if (line_len_ == 0) packet_start_ = pos_;
        while (used < n && line_len_ < 4) line_[line_len_++] = static_cast<char>(p[used++]);
        if (line_len_ == 4) mysql_header_done();
        return used;
    }
    if (state_ != State::mysql_payload) {
        lose_sync();
        return 0;
    }
    // The first packet of a response: its first 3 payload bytes say OK, ERR + code, or rows.
    const std::size_t want = 4 + (packet_len_ < 3 ? packet_len_ : 3);
    if (mysql_first_ && !emitted_) {
        while (used < n && line_len_ < want) line_[line_len_++] = static_cast<char>(p[used++]);
        remaining_ -= used;
        if (line_len_ == want) mysql_status(out);
    } else {
        used = skip(n);
    }
    if (remaining_ == 0) state_ = State::mysql_header, line_len_ = 0, mysql_first_ = false;
    return used;
}

void StreamParser::mysql_header_done() noexcept {
    const auto* h = reinterpret_cast<const std::uint8_t*>(line_);
    const std::uint32_t len = std::uint32_t{h[0]} | (std::uint32_t{h[1]} << 8) | (std::uint32_t{h[2]} << 16);
    const std::uint8_t seq = h[3];
    if (len == 0) {  // never a response's packet; zeros past a dpintercept prefix
        lose_sync();
        return;
    }
    // A new response begins after an anchor, or where the sequence numbers restart.
    const bool new_response = mysql_first_ || seq != static_cast<std::uint8_t>(mysql_seq_ + 1);
    if (new_response) start_ = packet_start_, emitted_ = false;
    mysql_first_ = new_response;
    mysql_seq_ = seq;
    packet_len_ = len;
    remaining_ = len;
    state_ = State::mysql_payload;
}

void StreamParser::mysql_status(ResponseFifo& out) noexcept {
    const auto* b = reinterpret_cast<const std::uint8_t*>(line_ + 4);
    if (b[0] != 0xff) {
        emit(out, kStatusOk);  // OK, a result set's column count, an auth step
        return;
    }
    char text[16];
    if (packet_len_ >= 3) {
        std::snprintf(text, sizeof text, "ERR %u", unsigned{b[1]} | (unsigned{b[2]} << 8));
    } else {
        std::snprintf(text, sizeof text, "ERR");
    }
    emit(out, status_of(text));
}

}  // namespace dpcopy::compare
