// Property: every incremental rewrite leaves the frame byte-identical to one whose IPv4 and
// L4 checksums were recomputed in full, over 100,000 random frames (VLAN tags, IP options,
// TCP options at every alignment, odd payload lengths, UDP with and without checksum, ICMP)
// and random sequences of rewrites including option removal and addition.
// Seed: DPCOPY_SEED overrides the fixed default; every failure prints seed and frame number.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>

#include "tests/rewrite/test_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

using Rng = std::mt19937_64;

std::uint8_t byte(Rng& r) { return static_cast<std::uint8_t>(r()); }
std::size_t below(Rng& r, std::size_t n) { return static_cast<std::size_t>(r() % n); }

Frame random_bytes(Rng& r, std::size_t n) {
    Frame f(n);
    for (auto& b : f) b = byte(r);
    return f;
}

Frame random_ip_options(Rng& r) {
    Frame o;
    const std::size_t target = 4 * below(r, 11);  // 0..40
    while (o.size() < target) {
        const std::size_t room = target - o.size();
        if (room < 3 || below(r, 4) == 0) {
            o.push_back(below(r, 3) == 0 && room == 1 ? 0 : 1);  // NOP (or a final EOL)
            continue;
        }
        const std::size_t len = 3 + below(r, std::min<std::size_t>(room - 2, 12));
        o.push_back(below(r, 2) ? 7 : static_cast<std::uint8_t>(0x44 + below(r, 20)));  // RR or other
        o.push_back(static_cast<std::uint8_t>(len));
        for (std::size_t i = 2; i < len; ++i) o.push_back(byte(r));
    }
    return o;
}

Frame random_tcp_options(Rng& r) {
    Frame o;
    const int n = static_cast<int>(below(r, 7));
    for (int k = 0; k < n; ++k) {
        Frame opt;
        switch (below(r, 8)) {
            case 0: opt = {2, 4, byte(r), byte(r)}; break;
            case 1: opt = {3, 3, static_cast<std::uint8_t>(below(r, 15))}; break;
            case 2: opt = {4, 2}; break;
            case 3: {
                opt = {8, 10};
                auto b = random_bytes(r, 8);
                opt.insert(opt.end(), b.begin(), b.end());
                break;
            }
            case 4: {
                const std::size_t blocks = 1 + below(r, 3);
                opt = {5, static_cast<std::uint8_t>(2 + 8 * blocks)};
                auto b = random_bytes(r, 8 * blocks);
                opt.insert(opt.end(), b.begin(), b.end());
                break;
            }
            case 5: {
                const std::size_t len = 2 + below(r, 7);
                opt = {static_cast<std::uint8_t>(30 + below(r, 200)), static_cast<std::uint8_t>(len)};
                auto b = random_bytes(r, len - 2);
                opt.insert(opt.end(), b.begin(), b.end());
                break;
            }
            default: opt = {1}; break;
        }
        if (o.size() + opt.size() > 40) break;
        o.insert(o.end(), opt.begin(), opt.end());
    }
    while (o.size() % 4 != 0) o.push_back(below(r, 2) ? 0 : 1);
    return o;
}

struct Subject {
    Frame buf;  // frame + tailroom
    std::size_t len = 0;
    PacketView v;
    bool udp_no_checksum = false;
    Bytes frame() { return Bytes(buf.data(), len); }
};

Subject random_subject(Rng& r) {
    Composer c;
    const std::size_t tags = below(r, 3);
    for (std::size_t i = 0; i < tags; ++i)
        c.vlans.push_back(VlanTag{i == 0 && tags == 2 ? ethertype::qinq : ethertype::vlan, static_cast<std::uint16_t>(r())});
    if (below(r, 3) == 0) c.ip_options = random_ip_options(r);
    c.src = static_cast<std::uint32_t>(r());
    c.dst = static_cast<std::uint32_t>(r());
    c.frag = below(r, 2) ? Ipv4Hdr::flag_df : 0;
    const Frame payload = random_bytes(r, below(r, 4) == 0 ? below(r, 4) : below(r, 300));
    const std::size_t kind = below(r, 10);
    bool no_csum = false;
    if (kind < 7) {
        c.proto = ipproto::tcp;
        c.l4 = tcp_bytes(random_tcp_options(r), payload, byte(r));
        for (int i : {4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 18, 19}) c.l4[static_cast<std::size_t>(i)] = byte(r);
    } else if (kind < 9) {
        c.proto = ipproto::udp;
        c.l4 = udp_bytes(payload);
        no_csum = below(r, 5) == 0;
    } else {
        c.proto = ipproto::icmp;
        c.l4 = icmp_bytes(payload);
    }
    Subject s;
    s.buf = c.make();
    s.len = s.buf.size();
    if (below(r, 8) == 0) s.buf.resize(s.len + below(r, 8), 0);  // Ethernet trailer
    s.len = s.buf.size();
    s.buf.resize(s.len + 48);
    REQUIRE(parse_frame(s.frame(), s.v) == ParseError::ok);
    fill_ipv4_checksum(s.frame(), s.v);
    if (!no_csum) fill_l4_checksum(s.frame(), s.v);
    s.udp_no_checksum = no_csum;
    return s;
}

// Applies one random rewrite; returns its name.
const char* random_rewrite(Rng& r, Subject& s) {
    const bool tcp = s.v.l4 == L4Kind::tcp;
    switch (below(r, tcp ? 14 : 6)) {
        case 0: set_ip_src(s.frame(), s.v, Ipv4Addr(static_cast<std::uint32_t>(r()))); return "set_ip_src";
        case 1: set_ip_dst(s.frame(), s.v, Ipv4Addr(static_cast<std::uint32_t>(r()))); return "set_ip_dst";
        case 2: set_ttl(s.frame(), s.v, byte(r)); return "set_ttl";
        case 3: set_ip_id(s.frame(), s.v, static_cast<std::uint16_t>(r())); return "set_ip_id";
        case 4: set_src_port(s.frame(), s.v, Port(static_cast<std::uint16_t>(r()))); return "set_src_port";
        case 5: set_dst_port(s.frame(), s.v, Port(static_cast<std::uint16_t>(r()))); return "set_dst_port";
        case 6: set_seq(s.frame(), s.v, Seq(static_cast<std::uint32_t>(r()))); return "set_seq";
        case 7: set_ack(s.frame(), s.v, Seq(static_cast<std::uint32_t>(r()))); return "set_ack";
        case 8: set_tcp_flags(s.frame(), s.v, byte(r)); return "set_tcp_flags";
        case 9: set_window(s.frame(), s.v, static_cast<std::uint16_t>(r())); return "set_window";
        case 10:
            set_timestamp(s.frame(), s.v, static_cast<std::uint32_t>(r()), static_cast<std::uint32_t>(r()));
            return "set_timestamp";
        case 11: set_mss(s.frame(), s.v, static_cast<std::uint16_t>(r())); return "set_mss";
        case 12: {
            static constexpr std::uint8_t kinds[] = {2, 3, 4, 5, 8, 30, 99};
            remove_tcp_option(s.frame(), s.v, kinds[below(r, 7)]);
            return "remove_tcp_option";
        }
        default: {
            Frame opt;
            switch (below(r, 5)) {
                case 0: opt = {3, 3, 7}; break;
                case 1: opt = {4, 2}; break;
                case 2: opt = {2, 4, byte(r), byte(r)}; break;
                case 3: opt = {8, 10, byte(r), byte(r), byte(r), byte(r), byte(r), byte(r), byte(r), byte(r)}; break;
                default: opt = {77, 5, byte(r), byte(r), byte(r)}; break;
            }
            add_tcp_option(Bytes(s.buf.data(), s.buf.size()), s.len, s.v, opt);
            return "add_tcp_option";
        }
    }
}

}  // namespace

TEST_CASE("property: incremental checksum updates equal full recomputation", "[property]") {
    std::uint64_t seed = 0x5eed0fdc0b1eULL;
    if (const char* e = std::getenv("DPCOPY_SEED")) seed = std::strtoull(e, nullptr, 0);
    Rng master(seed);
    constexpr int frames = 100000;
    std::size_t compared = 0, failures = 0, adds = 0, tagged = 0, with_ip_opts = 0, odd = 0;
    for (int i = 0; i < frames && failures < 5; ++i) {
        const std::uint64_t frame_seed = master();
        Rng r(frame_seed);
        Subject s = random_subject(r);
        tagged += s.v.vlan_count > 0;
        with_ip_opts += s.v.l4_off - s.v.l3_off > 20;
        odd += s.v.payload_len % 2;
        const int steps = 1 + static_cast<int>(below(r, 8));
        std::ostringstream trail;
        for (int k = 0; k < steps; ++k) {
            const std::size_t before = s.len;
            trail << random_rewrite(r, s) << ' ';
            adds += s.len != before;
            Frame full(s.buf.begin(), s.buf.begin() + static_cast<std::ptrdiff_t>(s.len));
            fill_ipv4_checksum(mb(full), s.v);
            if (!s.udp_no_checksum) fill_l4_checksum(mb(full), s.v);
            const Frame got(s.buf.begin(), s.buf.begin() + static_cast<std::ptrdiff_t>(s.len));
            const bool ok = full == got && ipv4_checksum_ok(cb(got), s.v) && l4_checksum_ok(cb(got), s.v);
            PacketView reparsed;
            const bool parses = parse_frame(cb(got), reparsed) == ParseError::ok && reparsed.payload_off == s.v.payload_off &&
                                reparsed.ip_total_len == s.v.ip_total_len && reparsed.key == s.v.key;
            ++compared;
            if (!ok || !parses) {
                ++failures;
                FAIL_CHECK("seed " << seed << " frame " << i << " (frame seed " << frame_seed << ") after: " << trail.str()
                                   << (ok ? "" : " checksum mismatch") << (parses ? "" : " view out of date"));
                break;
            }
        }
    }
    CAPTURE(seed, compared, adds, tagged, with_ip_opts, odd);
    CHECK(failures == 0);
    CHECK(compared >= 100000);
    CHECK(adds > 1000);
    CHECK(tagged > 10000);
    CHECK(with_ip_opts > 10000);
    CHECK(odd > 10000);
}
