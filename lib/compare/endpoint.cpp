// Protocol detection and endpoint naming (endpoint.hpp).
#include "lib/compare/endpoint.hpp"

#include <cstdio>

namespace dpcopy::compare {

namespace {

constexpr std::uint32_t kPgProtocol3 = 196608;
constexpr std::uint32_t kPgSslRequest = 80877103;
constexpr std::uint32_t kPgGssRequest = 80877104;
constexpr std::uint32_t kPgCancel = 80877102;

std::uint32_t be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t le24(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16);
}
bool is_upper(std::uint8_t c) noexcept { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char printable(std::uint8_t c) noexcept { return (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.'; }

// Where a description goes: the caller's storage (a RequestDescription, or the comparator's
// slot, written in place).
struct Described {
    EndpointName& endpoint;
    RequestLine& line;
    bool head = false;
};

std::string_view as_text(HeadBytes b) noexcept { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Startup-phase PostgreSQL messages have no type byte: length, then a code.
bool is_pg_untyped(HeadBytes h) noexcept {
    if (h.size() < 8) return false;
    const std::uint32_t len = be32(h.data()), code = be32(h.data() + 4);
    return len >= 8 && len <= 10000 &&
           (code == kPgProtocol3 || code == kPgSslRequest || code == kPgGssRequest || code == kPgCancel);
}

bool is_pg_typed(HeadBytes h) noexcept {
    if (h.size() < 5 || (h[0] != 'Q' && h[0] != 'P')) return false;
    const std::uint32_t len = be32(h.data() + 1);
    return len >= 4 && len < (1u << 30);
}

bool is_mysql_request(HeadBytes h) noexcept {
    if (h.size() < 5) return false;
    const std::uint32_t len = le24(h.data());
    if (len == 0 || h.size() > len + 4) return false;
    if (h[3] == 0) return h[4] >= 0x01 && h[4] <= 0x1f;  // a command
    return h[3] == 1 && len >= 32;                         // the login (handshake response)
}

bool is_http_request(HeadBytes h) noexcept {
    std::size_t i = 0;
    while (i < h.size() && i < 12 && is_upper(h[i])) ++i;
    if (i < 3 || i + 2 > h.size() || h[i] != ' ') return false;
    const std::string_view rest = as_text(h.subspan(i + 1));
    return rest[0] == '/' || rest[0] == '*' || rest.starts_with("http://") || rest.starts_with("https://");
}

bool is_id_segment(std::string_view s) noexcept {
    if (s.empty()) return false;
    bool digits = true, hex = true;
    for (char c : s) digits = digits && is_digit(c), hex = hex && is_hex(c);
    if (digits || (hex && s.size() >= 8)) return true;
    if (s.size() != 36) return false;  // UUID: 8-4-4-4-12
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

void describe_http(HeadBytes head, Described& out) noexcept {
    const std::string_view text = as_text(head);
    const std::size_t sp = text.find(' ');
    const std::string_view method = text.substr(0, sp);
    out.head = method == "HEAD";
    out.endpoint.append(method);
    out.endpoint.push(' ');
    std::size_t end = sp + 1;
    while (end < text.size() && text[end] != ' ' && text[end] != '\r' && text[end] != '\n') ++end;
    append_collapsed_path(text.substr(sp + 1, end - sp - 1), out.endpoint);
    for (std::size_t i = 0; i < text.size() && text[i] != '\r' && text[i] != '\n'; ++i)
        out.line.push(printable(head[i]));
}

// RESP request: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n...": the bulk strings, in order.
void describe_redis(HeadBytes head, Described& out) noexcept {
    const std::string_view text = as_text(head);
    std::size_t i = text.find('\n');
    bool first = true;
    while (i != std::string_view::npos && i + 1 < text.size() && text[i + 1] == '$') {
        const std::size_t eol = text.find('\n', i + 1);
        if (eol == std::string_view::npos) break;
        std::size_t len = 0;
        for (std::size_t k = i + 2; k < eol && is_digit(text[k]); ++k) len = len * 10 + static_cast<std::size_t>(text[k] - '0');
        const std::string_view arg = text.substr(eol + 1, len);  // may be cut by the head's end
        if (!first) out.line.push(' ');
        for (char c : arg) out.line.push(first ? upper(printable(static_cast<std::uint8_t>(c))) : printable(static_cast<std::uint8_t>(c)));
        if (first) {
            for (std::size_t k = 0; k < arg.size() && k < 24; ++k) out.endpoint.push(upper(printable(static_cast<std::uint8_t>(arg[k]))));
        }
        first = false;
        if (eol + 1 + len + 2 > text.size()) break;
        i = eol + 1 + len + 1;  // the '\n' ending the argument
    }
    if (out.endpoint.empty()) out.endpoint.assign("other");
}

void copy_sql(std::string_view sql, RequestLine& line) noexcept {
    for (char c : sql) {
        if (c == '\0') break;
        const char p = printable(static_cast<std::uint8_t>(c));
        line.push(p == '.' && (c == '\n' || c == '\r' || c == '\t') ? ' ' : p);
    }
}

void describe_pg(HeadBytes head, Described& out) noexcept {
    if (is_pg_untyped(head)) {
        const std::uint32_t code = be32(head.data() + 4);
        out.endpoint.assign(code == kPgProtocol3 ? "STARTUP" : code == kPgSslRequest ? "SSL REQUEST"
                                                            : code == kPgGssRequest ? "GSS REQUEST" : "CANCEL");
        out.line = RequestLine{};
        out.line.append(out.endpoint.view());
        return;
    }
    const std::string_view body = head.size() > 5 ? as_text(head.subspan(5)) : std::string_view{};
    const char type = head.empty() ? '\0' : static_cast<char>(head[0]);
    if (type == 'Q' || type == 'P') {
        // Parse: statement name, then the query text.
        const std::string_view sql = type == 'Q' ? body : body.substr(body.find('\0') == std::string_view::npos ? body.size() : body.find('\0') + 1);
        if (append_sql_keyword(sql, out.endpoint)) {
            copy_sql(sql, out.line);
            return;
        }
    }
    static constexpr struct { char type; const char* name; } kNames[] = {
        {'Q', "QUERY"}, {'P', "PARSE"}, {'B', "BIND"}, {'E', "EXECUTE"}, {'D', "DESCRIBE"},
        {'S', "SYNC"}, {'H', "FLUSH"}, {'C', "CLOSE"}, {'X', "TERMINATE"}, {'F', "FUNCTION CALL"},
        {'p', "AUTH"}, {'d', "COPY DATA"}, {'c', "COPY DONE"}, {'f', "COPY FAIL"},
    };
    out.endpoint.clear();
    for (const auto& n : kNames)
        if (n.type == type) out.endpoint.assign(n.name);
    if (out.endpoint.empty()) out.endpoint.assign("other");
    out.line.assign(out.endpoint.view());
}

void describe_mysql(HeadBytes head, Described& out) noexcept {
    if (head.size() < 5 || head[3] != 0) {
        out.endpoint.assign("LOGIN");
        out.line.assign("LOGIN");
        return;
    }
    const std::uint8_t cmd = head[4];
    if (cmd == 0x03) {  // COM_QUERY: the SQL text follows
        const std::string_view sql = as_text(head.subspan(5));
        if (append_sql_keyword(sql, out.endpoint)) {
            copy_sql(sql, out.line);
            return;
        }
    }
    static constexpr const char* kCommands[0x20] = {
        "SLEEP", "QUIT", "INIT_DB", "QUERY", "FIELD_LIST", "CREATE_DB", "DROP_DB", "REFRESH",
        "SHUTDOWN", "STATISTICS", "PROCESS_INFO", "CONNECT", "PROCESS_KILL", "DEBUG", "PING", "TIME",
        "DELAYED_INSERT", "CHANGE_USER", "BINLOG_DUMP", "TABLE_DUMP", "CONNECT_OUT", "REGISTER_SLAVE", "STMT_PREPARE", "STMT_EXECUTE",
        "STMT_SEND_LONG_DATA", "STMT_CLOSE", "STMT_RESET", "SET_OPTION", "STMT_FETCH", "DAEMON", "BINLOG_DUMP_GTID", "RESET_CONNECTION",
    };
    out.endpoint.clear();
    out.endpoint.assign(cmd < 0x20 ? kCommands[cmd] : "other");
    out.line.assign(out.endpoint.view());
    if (cmd == 0x16) {  // STMT_PREPARE carries the statement's text
        out.line.push(' ');
        copy_sql(as_text(head.subspan(5)), out.line);
    }
}

}  // namespace

Protocol detect_request_protocol(HeadBytes head) noexcept {
    if (head.size() >= 2 && head[0] == '*' && is_digit(static_cast<char>(head[1]))) return Protocol::redis;
    if (is_http_request(head)) return Protocol::http;
    if (is_pg_untyped(head) || is_pg_typed(head)) return Protocol::postgresql;
    if (is_mysql_request(head)) return Protocol::mysql;
    return Protocol::other;
}

Protocol detect_response_protocol(HeadBytes first) noexcept {
    const std::string_view text = as_text(first);
    if (text.size() >= 5 && text.starts_with("HTTP/")) return Protocol::http;
    if (first.size() >= 5) {
        const std::uint32_t len = le24(first.data());
        if (first[3] == 0 && (first[4] == 0x0a || first[4] == 0xff) && len >= 1 && len < (1u << 16)) return Protocol::mysql;
        const std::uint32_t pg_len = be32(first.data() + 1);
        if ((first[0] == 'R' || first[0] == 'E') && pg_len >= 4 && pg_len < (1u << 16)) return Protocol::postgresql;
    }
    const std::size_t eol = text.find("\r\n");
    if (eol != std::string_view::npos && eol >= 1 && text.find('\0') > eol &&
        std::string_view("+-:$*_%~>").find(text[0]) != std::string_view::npos) {
        return Protocol::redis;
    }
    return Protocol::unknown;
}

bool is_pg_encryption_answer(HeadBytes first) noexcept {
    return first.size() == 1 && (first[0] == 'N' || first[0] == 'S' || first[0] == 'G');
}

bool can_begin_answer(Protocol proto, HeadBytes first) noexcept {
    const std::string_view text = as_text(first);
    switch (proto) {
        case Protocol::http: return text.size() < 5 || text.starts_with("HTTP/");
        case Protocol::redis: return text.empty() || std::string_view("+-:$*_%~>,#!=(|").find(text[0]) != std::string_view::npos;
        case Protocol::mysql:
            // a packet header: an answer follows its request's sequence number (a command's
            // is 1, the login's 2); only the greeting (or a refusal to connect) has 0
            if (first.size() < 5) return true;
            if (le24(first.data()) == 0) return false;
            return first[3] != 0 || first[4] == 0x0a || first[4] == 0xff;
        case Protocol::postgresql:
            if (is_pg_encryption_answer(first)) return true;
            if (first.size() < 5) return true;
            // a backend message: its type, then a length that counts itself
            return std::string_view("123ACDEGHIKNRSTVWZcdnstv").find(text[0]) != std::string_view::npos &&
                   be32(first.data() + 1) >= 4;
        default: return true;
    }
}

bool describe_request(Protocol proto, HeadBytes head, EndpointName& endpoint, RequestLine& line) noexcept {
    endpoint.clear();
    line.clear();
    Described out{endpoint, line};
    switch (proto) {
        case Protocol::http:
            if (is_http_request(head)) return describe_http(head, out), out.head;
            break;
        case Protocol::redis:
            if (!head.empty() && head[0] == '*') return describe_redis(head, out), out.head;
            break;
        case Protocol::postgresql: return describe_pg(head, out), out.head;
        case Protocol::mysql: return describe_mysql(head, out), out.head;
        default: break;
    }
    out.endpoint.assign("other");
    for (std::size_t i = 0; i < head.size() && head[i] != '\r' && head[i] != '\n'; ++i) out.line.push(printable(head[i]));
    return false;
}

void describe_request(Protocol proto, HeadBytes head, RequestDescription& out) noexcept {
    out = RequestDescription{};
    out.head = describe_request(proto, head, out.endpoint, out.line);
}

void append_collapsed_path(std::string_view target, EndpointName& out) noexcept {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.starts_with(scheme)) {  // absolute form: drop scheme and host
            const std::size_t slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    const std::size_t query = target.find_first_of("?#");
    if (query != std::string_view::npos) target = target.substr(0, query);
    std::size_t i = 0;
    while (i < target.size()) {
        if (target[i] == '/') {
            out.push('/');
            ++i;
            continue;
        }
        std::size_t end = target.find('/', i);
        if (end == std::string_view::npos) end = target.size();
        const std::string_view seg = target.substr(i, end - i);
        if (is_id_segment(seg)) {
            out.append("{id}");
        } else {
            for (char c : seg) out.push(printable(static_cast<std::uint8_t>(c)));
        }
        i = end;
    }
}

bool append_sql_keyword(std::string_view sql, EndpointName& out) noexcept {
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ';') {
            ++i;
        } else if (sql.substr(i).starts_with("--")) {
            const std::size_t eol = sql.find('\n', i);
            i = eol == std::string_view::npos ? sql.size() : eol + 1;
        } else if (sql.substr(i).starts_with("/*")) {
            const std::size_t end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? sql.size() : end + 2;
        } else {
            break;
        }
    }
    std::size_t n = 0;
    for (; i < sql.size() && n < 24; ++i, ++n) {
        const char c = sql[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) break;
        out.push(upper(c));
    }
    return n > 0;
}

}  // namespace dpcopy::compare
