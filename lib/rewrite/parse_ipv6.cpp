// IPv6 step of the parser: fixed header, extension-header chain, then the shared L4 step.
#include "lib/rewrite/ipv6_headers.hpp"
#include "lib/rewrite/parse_l4.hpp"

namespace dpcopy::net::detail {

namespace {

constexpr int max_extension_headers = 8;

}  // namespace

ParseError parse_ipv6(ConstBytes frame, std::size_t off, PacketView& out, bool accept_other_l4) noexcept {
    const std::size_t avail = frame.size() - off;
    if (avail < Ipv6Hdr::size) return ParseError::truncated_ipv6;
    if ((frame[off] >> 4) != 6) return ParseError::bad_ip_version;
    const std::size_t payload = load_be16(frame, off + 4);
    if (payload > avail - Ipv6Hdr::size) return ParseError::bad_ipv6_payload_length;
    out.l3 = L3Kind::ipv6;
    out.ip_total_len = static_cast<std::uint16_t>(Ipv6Hdr::size + payload);

    // Walk the chain inside the payload length: `at` is the next header's start, `end` the
    // payload's end, `next` the type of the header at `at`.
    const std::size_t end = off + Ipv6Hdr::size + payload;
    std::size_t at = off + Ipv6Hdr::size;
    std::uint8_t next = frame[off + 6];
    for (int count = 0;; ++count) {
        if (next == ipv6ext::fragment) return ParseError::ipv6_fragment;
        if (!ipv6ext::is_skippable(next)) break;
        if (next == ipv6ext::hop_by_hop && count != 0) return ParseError::bad_ipv6_ext;
        if (count == max_extension_headers) return ParseError::bad_ipv6_ext;
        if (end - at < 8) return ParseError::truncated_ipv6_ext;
        const std::size_t len = (std::size_t{frame[at + 1]} + 1) * 8;
        if (len > end - at) return ParseError::truncated_ipv6_ext;
        next = frame[at];
        at += len;
    }
    out.ip_proto = next;
    out.l4_off = static_cast<std::uint16_t>(at);
    return parse_l4(frame, at, end - at, next, out, accept_other_l4, true);
}

}  // namespace dpcopy::net::detail
