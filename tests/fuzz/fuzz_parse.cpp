// libFuzzer harness of the frame parser (lib/rewrite/parse, headers) and of the in-place
// rewrites that trust its view (lib/rewrite/rewrite). Every input is parsed as Ethernet and
// as raw IP, with and without other L4 protocols, IPv4 only and with IPv6 (issue #18). The
// two family settings agree on everything but IPv6 (ipv6_not_supported when not asked for).
// On a frame the parser accepts:
//  - the view stays inside the frame (offsets ordered, payload within the IP total length);
//  - a TCP option area passes TcpOptions::valid/read, and what write() re-encodes reads back
//    to the same values;
//  - on a TCP frame, checksums filled, then every rewrite (addresses, ports, seq, ack, flags,
//    window, option add/remove) keeps the frame parseable with both checksums right; on an
//    IPv6 TCP frame the same for the IPv6 rewrites (addresses, hop limit, L4 fields);
//  - on ICMPv6, read_ndp and the echo-reply/advertisement builders stay in bounds and what
//    they build parses with a right checksum.
#include <cstdio>
#include <cstring>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/checksum.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/ipv6_headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace dpcopy::net;

void check_view(ConstBytes f, const PacketView& v) {
    FUZZ_CHECK(v.vlan_count <= 2);
    FUZZ_CHECK(v.l3 != L3Kind::none);
    if (v.l3 == L3Kind::arp) return;
    const std::size_t ip_min = v.l3 == L3Kind::ipv6 ? 40 : 20;
    FUZZ_CHECK(v.frame_len() <= f.size());
    FUZZ_CHECK(v.ip_total_len >= ip_min);
    FUZZ_CHECK(v.l3_off + ip_min <= v.l4_off);
    FUZZ_CHECK(v.l4_off <= v.frame_len());
    if (v.l4 == L4Kind::none) return;
    FUZZ_CHECK(v.l4_off <= v.payload_off);
    FUZZ_CHECK(std::size_t{v.payload_off} + v.payload_len <= v.frame_len());
    if (v.l4 != L4Kind::tcp) return;
    FUZZ_CHECK(v.payload_off - v.l4_off >= 20 && v.payload_off - v.l4_off <= 60);
    const ConstBytes opts = v.tcp_options(f);
    FUZZ_CHECK(TcpOptions::valid(opts));
    const auto o = TcpOptions::read(opts);
    FUZZ_CHECK(o.has_value());
    std::uint8_t buf[64];
    const std::size_t n = o->write(Bytes(buf, sizeof buf));
    if (n == 0) return;  // canonical form over 40 bytes
    FUZZ_CHECK(n % 4 == 0 && n <= 40);
    const auto back = TcpOptions::read(ConstBytes(buf, n));
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->mss == o->mss && back->wscale == o->wscale && back->sack_permitted == o->sack_permitted);
    FUZZ_CHECK(back->ts.has_value() == o->ts.has_value());
    if (o->ts) FUZZ_CHECK(back->ts->val == o->ts->val && back->ts->ecr == o->ts->ecr);
    FUZZ_CHECK(back->sack_count == o->sack_count && back->unknown_count == o->unknown_count);
    FUZZ_CHECK(std::memcmp(back->unknown.data(), o->unknown.data(), o->unknown_len) == 0);
}

// The frame `buf[0, len)` parses as TCP with both checksums right and the same payload.
// `after` names the rewrite just done, for the report.
PacketView reparse_ok(const std::vector<std::uint8_t>& buf, std::size_t len, ConstBytes payload, const char* after) {
    PacketView v;
    const ConstBytes f(buf.data(), len);
    if (const ParseError e = parse_frame(f, v, LinkType::ethernet, false, IpFamilies::ipv4_and_ipv6); e != ParseError::ok) {
        std::fprintf(stderr, "after %s: %s\n", after, to_string(e));
        FUZZ_CHECK(e == ParseError::ok);
    }
    FUZZ_CHECK(v.l4 == L4Kind::tcp);
    check_view(f, v);
    const bool ip_ok = v.l3 == L3Kind::ipv6 || ipv4_checksum_ok(f, v);
    if (!ip_ok || !l4_checksum_ok(f, v)) std::fprintf(stderr, "after %s: bad checksum\n", after);
    FUZZ_CHECK(ip_ok);
    FUZZ_CHECK(l4_checksum_ok(f, v));
    const ConstBytes p = v.payload(f);
    FUZZ_CHECK(p.size() == payload.size() && std::equal(p.begin(), p.end(), payload.begin()));
    return v;
}

void check_rewrites(ConstBytes frame, PacketView v, dpcopy_fuzz::Input& in) {
    std::vector<std::uint8_t> buf(frame.begin(), frame.end());
    buf.resize(frame.size() + 64);  // tailroom for add_tcp_option
    std::size_t len = frame.size();
    Bytes f(buf.data(), len);
    fill_ipv4_checksum(f, v);
    fill_l4_checksum(f, v);
    const ConstBytes pl = v.payload(ConstBytes(frame));
    const std::vector<std::uint8_t> payload(pl.begin(), pl.end());
    reparse_ok(buf, len, payload, "fill checksums");
    set_ip_src(f, v, Ipv4Addr(in.u32()));
    set_ip_dst(f, v, Ipv4Addr(in.u32()));
    set_src_port(f, v, Port(in.u16()));
    set_dst_port(f, v, Port(in.u16()));
    set_seq(f, v, Seq(in.u32()));
    set_ack(f, v, Seq(in.u32()));
    set_tcp_flags(f, v, in.u8());
    set_window(f, v, in.u16());
    set_ttl(f, v, in.u8());
    set_ip_id(f, v, in.u16());
    v = reparse_ok(buf, len, payload, "header rewrites");
    set_mss(f, v, in.u16());
    set_timestamp(f, v, in.u32(), in.u32());
    v = reparse_ok(buf, len, payload, "set_mss, set_timestamp");
    remove_tcp_option(f, v, in.u8());
    v = reparse_ok(buf, len, payload, "remove_tcp_option");
    const std::uint8_t ts_opt[10] = {8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    // An option of a kind the parser does not interpret (a known kind must have its length).
    const std::uint8_t kind = static_cast<std::uint8_t>(9 + in.u8() % 240);
    const std::uint8_t olen = static_cast<std::uint8_t>(2 + in.u8() % 39);
    std::uint8_t opt[40] = {};
    opt[0] = kind;
    opt[1] = olen;
    for (const ConstBytes o : {ConstBytes(ts_opt, sizeof ts_opt), ConstBytes(opt, olen)}) {
        const std::size_t before = len;
        if (add_tcp_option(Bytes(buf.data(), buf.size()), len, v, o)) {
            FUZZ_CHECK(len >= before);
            v = reparse_ok(buf, len, payload, "add_tcp_option");
        } else {
            FUZZ_CHECK(len == before);
        }
    }
}

void check_rewrites6(ConstBytes frame, PacketView v, dpcopy_fuzz::Input& in) {
    std::vector<std::uint8_t> buf(frame.begin(), frame.end());
    const std::size_t len = frame.size();
    Bytes f(buf.data(), len);
    fill_l4_checksum(f, v);
    const ConstBytes pl = v.payload(ConstBytes(frame));
    const std::vector<std::uint8_t> payload(pl.begin(), pl.end());
    reparse_ok(buf, len, payload, "fill checksum (IPv6)");
    Ipv6Addr::Bytes16 a{}, b{};
    for (auto& x : a) x = in.u8();
    for (auto& x : b) x = in.u8();
    set_ip6_src(f, v, Ipv6Addr(a));
    set_ip6_dst(f, v, Ipv6Addr(b));
    set_hop_limit(f, v, in.u8());
    set_src_port(f, v, Port(in.u16()));
    set_dst_port(f, v, Port(in.u16()));
    set_seq(f, v, Seq(in.u32()));
    set_ack(f, v, Seq(in.u32()));
    set_window(f, v, in.u16());
    v = reparse_ok(buf, len, payload, "IPv6 header rewrites");
    FUZZ_CHECK(v.src6(f) == Ipv6Addr(a) && v.dst6(f) == Ipv6Addr(b));
    set_mss(f, v, in.u16());
    remove_tcp_option(f, v, in.u8());
    reparse_ok(buf, len, payload, "IPv6 option rewrites");
}

// The ICMPv6 readers and builders on any parsed ICMPv6 frame: in bounds, and what they build
// parses with a right checksum.
void check_icmpv6(ConstBytes frame, const PacketView& v) {
    (void)read_ndp(frame, v);
    std::vector<std::uint8_t> out(frame.size() + 64);
    const MacAddr mac{{2, 0, 0, 0, 0, 9}};
    std::size_t n = build_icmpv6_echo_reply(Bytes(out.data(), out.size()), frame, v, mac);
    if (n == 0) n = build_neighbor_advertisement(Bytes(out.data(), out.size()), frame, v, mac, v.dst6(frame));
    if (n == 0) {
        const auto m = read_ndp(frame, v);
        if (m && m->type == icmp6type::neighbor_solicitation)
            n = build_neighbor_advertisement(Bytes(out.data(), out.size()), frame, v, mac, m->target);
    }
    if (n == 0) return;
    PacketView w;
    const ConstBytes built(out.data(), n);
    FUZZ_CHECK(parse_frame(built, w, LinkType::ethernet, false, IpFamilies::ipv4_and_ipv6) == ParseError::ok);
    FUZZ_CHECK(w.l4 == L4Kind::icmpv6 && l4_checksum_ok(built, w));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ConstBytes frame(data, size);
    for (const LinkType link : {LinkType::ethernet, LinkType::raw_ipv4}) {
        for (const bool other : {false, true}) {
            PacketView v4, v;
            const ParseError e4 = parse_frame(frame, v4, link, other);
            const ParseError e = parse_frame(frame, v, link, other, IpFamilies::ipv4_and_ipv6);
            if (e4 != ParseError::ipv6_not_supported) {  // not IPv6: both settings read it alike
                FUZZ_CHECK(e4 == e);
                FUZZ_CHECK(v4.l3 == v.l3 && v4.l4 == v.l4 && v4.l4_off == v.l4_off && v4.payload_len == v.payload_len);
            } else {
                FUZZ_CHECK(v4.l3 == L3Kind::none && (e != ParseError::ok || v.l3 == L3Kind::ipv6));
            }
            if (e != ParseError::ok) continue;
            check_view(frame, v);
            if (v.l3 == L3Kind::ipv6) {
                FUZZ_CHECK(e4 == ParseError::ipv6_not_supported);
                if (link == LinkType::ethernet && v.l4 == L4Kind::icmpv6) check_icmpv6(frame, v);
                if (link == LinkType::ethernet && !other && v.l4 == L4Kind::tcp) {
                    const std::size_t n = v.frame_len();
                    dpcopy_fuzz::Input in(n < size ? data + n : data, n < size ? size - n : size);
                    check_rewrites6(frame.first(n), v, in);
                }
                continue;
            }
            if (link == LinkType::ethernet && !other && v.l4 == L4Kind::tcp) {
                // Rewrite values come from the bytes after the frame, or its own first bytes.
                const std::size_t n = v.frame_len();
                dpcopy_fuzz::Input in(n < size ? data + n : data, n < size ? size - n : size);
                check_rewrites(frame.first(v.frame_len()), v, in);
            }
        }
    }
    return 0;
}
