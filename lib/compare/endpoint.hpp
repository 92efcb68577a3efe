// Which protocol a session speaks (from its first request, or its server's first bytes) and
// what an endpoint is called (docs/compare.md): HTTP "METHOD /path" with the query dropped and
// numeric, hex (8+ digits) and UUID segments as {id}; the Redis command; the first SQL keyword
// (PostgreSQL simple Query or Parse, MySQL COM_QUERY) or a name for the message or command;
// "other" for anything else. Bounded outputs, no allocation: called on the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/compare/fixed_text.hpp"

namespace dpcopy::compare {

using HeadBytes = std::span<const std::uint8_t>;

// From a request's first bytes; Protocol::other when none is recognised.
Protocol detect_request_protocol(HeadBytes head) noexcept;
// From the first bytes a server sent (server-first protocols, or answers captured before the
// request's release); Protocol::unknown when none is recognised.
Protocol detect_response_protocol(HeadBytes first) noexcept;
// A server stream's first segment is one byte 'N', 'S' or 'G': PostgreSQL's answer to an
// SSLRequest or a GSSENCRequest (too short to decide on alone: a guess).
bool is_pg_encryption_answer(HeadBytes first) noexcept;
// Whether a server stream's first bytes can begin an answer in `proto`, the protocol a
// request's first bytes suggested: false refutes the request's detection (a private binary
// protocol whose first bytes happen to look like a MySQL or PostgreSQL message). Too few
// bytes to judge: true.
bool can_begin_answer(Protocol proto, HeadBytes first) noexcept;

struct RequestDescription {
    EndpointName endpoint;
    RequestLine line;    // the first line or command, printable ASCII
    bool head = false;   // an HTTP HEAD request: its answer has no body
};

// Describes the request `head` of a session speaking `proto`.
void describe_request(Protocol proto, HeadBytes head, RequestDescription& out) noexcept;
// The same into the caller's storage (the comparator's slot: no copy); true for a HEAD request.
bool describe_request(Protocol proto, HeadBytes head, EndpointName& endpoint, RequestLine& line) noexcept;

// Helpers, exposed for the tests.
// "/users/17/orders?x=1" -> "/users/{id}/orders" (appended to `out`).
void append_collapsed_path(std::string_view target, EndpointName& out) noexcept;
// The first keyword of an SQL text, uppercased ("select 1" -> "SELECT"); false if none.
bool append_sql_keyword(std::string_view sql, EndpointName& out) noexcept;

}  // namespace dpcopy::compare
