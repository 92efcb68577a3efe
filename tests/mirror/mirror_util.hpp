// Shared by the lib/mirror tests: the fixtures of tests/data/mirror and their layout.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/mirror/decap.hpp"

namespace mirrortest {

using Frame = std::vector<std::uint8_t>;

inline std::string data_path(const std::string& name) {
    const char* env = std::getenv("DPCOPY_TEST_DATA");
    return std::string(env ? env : DPCOPY_TEST_DATA) + "/" + name;
}

// Every frame of a capture under tests/data (empty when it cannot be read).
inline std::vector<Frame> read_pcap(const std::string& name) {
    std::vector<Frame> frames;
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(data_path(name).c_str(), errbuf);
    if (!p) return frames;
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    while (pcap_next_ex(p, &h, &d) == 1) frames.emplace_back(d, d + h->caplen);
    pcap_close(p);
    return frames;
}

inline dpcopy::net::ConstBytes cb(const Frame& f) { return {f.data(), f.size()}; }

// A fixture of scapy- or kernel-encapsulated frames whose inner frames are those of
// vxlan_http.pcap, with where its headers sit (the same in every frame of the file).
struct Fixture {
    const char* file;
    dpcopy::mirror::DecapCounter outcome;
    std::size_t ip_off;     // outer IPv4
    std::size_t l4_off;     // outer UDP or GRE
    std::size_t inner_off;  // inner Ethernet
    bool udp;
};

// Offsets written out from the formats (RFC 7348, 8926, 2784/2890, ERSPAN drafts), not
// from lib/mirror: Ethernet 14 (+4 per tag), IPv4 20, UDP 8, VXLAN/GENEVE 8 (+ options),
// GRE 4 (+4 per C, K, S), ERSPAN II 8, III 12 (+8 subheader).
inline const std::vector<Fixture>& fixtures() {
    using C = dpcopy::mirror::DecapCounter;
    static const std::vector<Fixture> all{
        {"mirror/vxlan_http.pcap", C::decap_vxlan, 14, 34, 50, true},
        {"mirror/geneve.pcap", C::decap_geneve, 14, 34, 50, true},
        {"mirror/geneve_options.pcap", C::decap_geneve, 14, 34, 70, true},
        {"mirror/erspan1.pcap", C::decap_erspan1, 14, 34, 38, false},
        {"mirror/erspan2.pcap", C::decap_erspan2, 14, 34, 50, false},
        {"mirror/erspan2_two_sessions.pcap", C::decap_erspan2, 18, 38, 54, false},
        {"mirror/erspan3.pcap", C::decap_erspan3, 14, 34, 54, false},
        {"mirror/erspan3_subheader.pcap", C::decap_erspan3, 14, 34, 62, false},
        {"mirror/gretap.pcap", C::decap_gretap, 14, 34, 38, false},
        {"mirror/gretap_key_seq_csum.pcap", C::decap_gretap, 22, 42, 58, false},
    };
    return all;
}

// The inner frames every fixture carries: those the kernel put into VXLAN.
inline std::vector<Frame> kernel_inner_frames() {
    std::vector<Frame> inner;
    for (const Frame& f : read_pcap("mirror/vxlan_http.pcap")) inner.emplace_back(f.begin() + 50, f.end());
    return inner;
}

}  // namespace mirrortest
