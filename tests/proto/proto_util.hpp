// Helpers for tests/proto: MySQL packet builders, and the TCP byte streams of a recorded
// login (tests/proto/data, read with libpcap and lib/rewrite's parser).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/proto/mysql_auth.hpp"
#include "lib/rewrite/parse.hpp"

namespace ptest {

namespace my = dpcopy::proto::mysql;
using Buf = std::vector<std::uint8_t>;

inline my::ConstBytes cb(const Buf& b) { return my::ConstBytes(b.data(), b.size()); }
inline my::Bytes mb(Buf& b) { return my::Bytes(b.data(), b.size()); }
inline my::ConstBytes sv(std::string_view s) {
    return my::ConstBytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline std::string str(my::ConstBytes b) { return std::string(b.begin(), b.end()); }
inline Buf bytes_of(std::string_view s) { return Buf(s.begin(), s.end()); }

inline void put_le(Buf& b, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) b.push_back(i < 8 ? static_cast<std::uint8_t>(v >> (8 * i)) : std::uint8_t{0});
}
inline void put(Buf& b, std::string_view s, bool nul = true) {
    b.insert(b.end(), s.begin(), s.end());
    if (nul) b.push_back(0);
}
inline void put(Buf& b, const Buf& s) { b.insert(b.end(), s.begin(), s.end()); }

inline Buf packet(std::uint8_t seq, const Buf& payload) {
    Buf p;
    put_le(p, payload.size(), 3);
    p.push_back(seq);
    put(p, payload);
    return p;
}

inline Buf scramble20(std::uint8_t first = 0x21) {
    Buf s;
    for (std::uint8_t i = 0; i < 20; ++i) s.push_back(static_cast<std::uint8_t>(first + i * 3));
    return s;
}

struct GreetingSpec {
    std::string version = "8.0.36";
    std::uint32_t conn_id = 0x01020304;
    Buf scramble = scramble20();
    std::uint32_t caps = 0x81FFF7DF;  // MySQL 8-like: protocol 41, secure conn, plugin auth, client_mysql
    std::uint8_t charset = 255;
    std::uint16_t status = 2;
    std::uint8_t auth_len = 21;
    std::uint32_t mariadb_caps = 0;
    std::string plugin = "caching_sha2_password";
    bool plugin_nul = true;
    bool short_form = false;  // payload ends after the lower capability flags (pre-4.1)
};

inline Buf greeting_payload(const GreetingSpec& g) {
    Buf p{10};
    put(p, g.version);
    put_le(p, g.conn_id, 4);
    p.insert(p.end(), g.scramble.begin(), g.scramble.begin() + 8);
    p.push_back(0);
    put_le(p, g.caps & 0xFFFF, 2);
    if (g.short_form) return p;
    p.push_back(g.charset);
    put_le(p, g.status, 2);
    put_le(p, g.caps >> 16, 2);
    p.push_back(g.auth_len);
    put_le(p, 0, 6);
    put_le(p, g.mariadb_caps, 4);
    if (g.caps & my::cap::secure_connection) {
        p.insert(p.end(), g.scramble.begin() + 8, g.scramble.end());
        p.push_back(0);
    }
    if (g.caps & my::cap::plugin_auth) put(p, g.plugin, g.plugin_nul);
    return p;
}
inline Buf greeting(const GreetingSpec& g = {}) { return packet(0, greeting_payload(g)); }

struct LoginSpec {
    std::uint32_t caps = 0x003FA28D;  // protocol 41, secure conn, plugin auth, attrs, lenenc, db, client_mysql
    std::uint32_t max_packet = 0x01000000;
    std::uint8_t charset = 45;
    std::uint32_t mariadb_caps = 0;
    std::string user = "alice";
    Buf auth = Buf(20, 0xAB);
    std::string database = "shop";
    std::string plugin = "mysql_native_password";
    bool trailing_nul = true;  // on the last of database / plugin
    Buf attrs;                 // raw bytes after the plugin name
    std::uint8_t seq = 1;
};

inline Buf login_payload(const LoginSpec& l) {
    Buf p;
    put_le(p, l.caps, 4);
    put_le(p, l.max_packet, 4);
    p.push_back(l.charset);
    put_le(p, 0, 19);
    put_le(p, l.mariadb_caps, 4);
    put(p, l.user);
    if (l.caps & my::cap::plugin_auth_lenenc) {
        if (l.auth.size() < 251) {
            p.push_back(static_cast<std::uint8_t>(l.auth.size()));
        } else {
            p.push_back(0xFC);
            put_le(p, l.auth.size(), 2);
        }
        put(p, l.auth);
    } else if (l.caps & my::cap::secure_connection) {
        p.push_back(static_cast<std::uint8_t>(l.auth.size()));
        put(p, l.auth);
    } else {
        put(p, l.auth);
        p.push_back(0);
    }
    const bool db = (l.caps & my::cap::connect_with_db) != 0;
    const bool plugin = (l.caps & my::cap::plugin_auth) != 0;
    if (db) put(p, l.database, plugin || l.trailing_nul);
    if (plugin) put(p, l.plugin, l.trailing_nul);
    put(p, l.attrs);
    return p;
}
inline Buf login(const LoginSpec& l = {}) { return packet(l.seq, login_payload(l)); }

// ---- recorded captures ----

struct Streams {
    Buf c2s;  // client -> server bytes
    Buf s2c;  // server -> client bytes
    std::string error;
};

// The two directions of the one TCP connection in tests/proto/data/NAME; the server is the
// side that sends first (the greeting). Segments must follow each other without gaps or
// repeats (loopback captures have none): anything else is reported in `error`.
inline Streams read_streams(const std::string& name) {
    Streams s;
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    const std::string path = std::string(DPCOPY_PROTO_TEST_DATA) + "/" + name;
    pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
    if (p == nullptr) {
        s.error = errbuf;
        return s;
    }
    pcap_pkthdr* h = nullptr;
    const std::uint8_t* d = nullptr;
    std::uint16_t server = 0;
    std::uint32_t next[2] = {0, 0};
    bool started[2] = {false, false};
    while (pcap_next_ex(p, &h, &d) == 1) {
        dpcopy::net::PacketView v;
        const my::ConstBytes frame(d, h->caplen);
        if (dpcopy::net::parse_frame(frame, v) != dpcopy::net::ParseError::ok || v.l4 != dpcopy::net::L4Kind::tcp ||
            v.payload_len == 0)
            continue;
        if (server == 0) server = v.key.src_port.value();
        const int dir = v.key.src_port.value() == server ? 1 : 0;
        const std::uint32_t seq = dpcopy::net::load_be32(frame, std::size_t{v.l4_off} + 4);
        if (started[dir] && seq != next[dir]) s.error = "gap or retransmission in " + name;
        started[dir] = true;
        next[dir] = seq + v.payload_len;
        const my::ConstBytes pl = v.payload(frame);
        Buf& out = dir == 1 ? s.s2c : s.c2s;
        out.insert(out.end(), pl.begin(), pl.end());
    }
    pcap_close(p);
    if (s.c2s.empty() || s.s2c.empty()) s.error = "no data in both directions in " + name;
    return s;
}

// The packets one after the other in a stream.
inline std::vector<Buf> packets(const Buf& stream) {
    std::vector<Buf> out;
    std::size_t off = 0;
    while (off + 4 <= stream.size()) {
        const std::size_t n = stream[off] | (std::size_t{stream[off + 1]} << 8) | (std::size_t{stream[off + 2]} << 16);
        if (off + 4 + n > stream.size()) break;
        out.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(off),
                         stream.begin() + static_cast<std::ptrdiff_t>(off + 4 + n));
        off += 4 + n;
    }
    return out;
}

}  // namespace ptest
