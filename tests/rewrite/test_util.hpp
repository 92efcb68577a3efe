// Shared helpers for the lib/rewrite tests: capture loading and a random frame composer.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/checksum.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"

namespace rwtest {

using Frame = std::vector<std::uint8_t>;

inline std::string data_path(const std::string& name) {
    const char* env = std::getenv("DPCOPY_TEST_DATA");
    return std::string(env ? env : DPCOPY_TEST_DATA) + "/" + name;
}

// All frames of a capture file, or an empty vector (and `error` set) when it cannot be read.
inline std::vector<Frame> read_pcap(const std::string& name, std::string* error = nullptr) {
    std::vector<Frame> frames;
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(data_path(name).c_str(), errbuf);
    if (!p) {
        if (error) *error = errbuf;
        return frames;
    }
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    while (pcap_next_ex(p, &h, &d) == 1) frames.emplace_back(d, d + h->caplen);
    pcap_close(p);
    return frames;
}

inline dpcopy::net::ConstBytes cb(const Frame& f) { return {f.data(), f.size()}; }
inline dpcopy::net::Bytes mb(Frame& f) { return {f.data(), f.size()}; }

// Composes a frame field by field (independently of build.hpp), with checksums left zero.
struct Composer {
    std::vector<dpcopy::net::VlanTag> vlans;
    Frame ip_options;  // multiple of 4, <= 40
    std::uint8_t proto = dpcopy::net::ipproto::tcp;
    Frame l4;          // L4 header (incl. options) + payload
    std::uint32_t src = 0xc6120001, dst = 0xc6120002;
    std::uint16_t frag = 0x4000;

    Frame make() const {
        Frame f;
        auto put16 = [&](std::uint16_t v) { f.push_back(std::uint8_t(v >> 8)); f.push_back(std::uint8_t(v)); };
        for (int i = 0; i < 6; ++i) f.push_back(std::uint8_t(0x02 + i));
        for (int i = 0; i < 6; ++i) f.push_back(std::uint8_t(0x10 + i));
        for (const auto& t : vlans) { put16(t.tpid); put16(t.tci); }
        put16(dpcopy::net::ethertype::ipv4);
        const std::size_t ihl = 20 + ip_options.size();
        f.push_back(std::uint8_t(0x40 | (ihl / 4)));
        f.push_back(0);
        put16(std::uint16_t(ihl + l4.size()));
        put16(0x1234);
        put16(frag);
        f.push_back(64);
        f.push_back(proto);
        put16(0);
        put16(std::uint16_t(src >> 16)); put16(std::uint16_t(src));
        put16(std::uint16_t(dst >> 16)); put16(std::uint16_t(dst));
        f.insert(f.end(), ip_options.begin(), ip_options.end());
        f.insert(f.end(), l4.begin(), l4.end());
        return f;
    }
};

// Minimal TCP header bytes (checksum 0) followed by `opts` (multiple of 4) and `payload`.
inline Frame tcp_bytes(const Frame& opts, const Frame& payload, std::uint8_t flags = 0x18) {
    Frame t(20, 0);
    t[0] = 0x30; t[1] = 0x39;      // 12345
    t[2] = 0x00; t[3] = 0x50;      // 80
    t[4] = 1; t[5] = 2; t[6] = 3; t[7] = 4;
    t[8] = 5; t[9] = 6; t[10] = 7; t[11] = 8;
    t[12] = std::uint8_t(((20 + opts.size()) / 4) << 4);
    t[13] = flags;
    t[14] = 0xff; t[15] = 0x00;
    t.insert(t.end(), opts.begin(), opts.end());
    t.insert(t.end(), payload.begin(), payload.end());
    return t;
}

inline Frame udp_bytes(const Frame& payload) {
    Frame u(8, 0);
    u[0] = 0x13; u[1] = 0x88; u[2] = 0x00; u[3] = 0x35;
    u[4] = std::uint8_t((8 + payload.size()) >> 8);
    u[5] = std::uint8_t(8 + payload.size());
    u.insert(u.end(), payload.begin(), payload.end());
    return u;
}

inline Frame icmp_bytes(const Frame& payload) {
    Frame u{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01};
    u.insert(u.end(), payload.begin(), payload.end());
    return u;
}

// Fills IPv4 and L4 checksums by full computation; returns the parse result.
inline dpcopy::net::ParseError finish(Frame& f, dpcopy::net::PacketView& v) {
    const auto e = dpcopy::net::parse_frame(cb(f), v);
    if (e == dpcopy::net::ParseError::ok && v.l3 == dpcopy::net::L3Kind::ipv4) {
        dpcopy::net::fill_ipv4_checksum(mb(f), v);
        dpcopy::net::fill_l4_checksum(mb(f), v);
    }
    return e;
}

// A canonical valid TCP frame used by several tests (MSS, SACK-perm, TS, WS; 5-byte payload).
inline Frame sample_tcp_frame() {
    Composer c;
    c.l4 = tcp_bytes({2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7}, {'h', 'e', 'l', 'l', 'o'}, 0x02);
    Frame f = c.make();
    dpcopy::net::PacketView v;
    finish(f, v);
    return f;
}

}  // namespace rwtest
