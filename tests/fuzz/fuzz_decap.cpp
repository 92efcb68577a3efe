// libFuzzer harness of the mirror decapsulation (lib/mirror/decap). The first two bytes
// choose the configuration (mode, ports, selectors), the rest is the received frame.
// Invariants, for every input:
//  - the inner frame lies inside the received one; a plain frame is the whole of it;
//  - a decapsulated inner frame holds at least an Ethernet header; every outcome is one
//    counter of the list;
//  - the answer depends on the bytes only (a second call gives the same), and extra bytes
//    after the frame (Ethernet padding) change no decapsulation of a whole outer datagram;
//  - mode none takes every frame plain; a selector rejects or keeps, it never changes the
//    inner frame the same configuration without it finds.
// The inner frame is then parsed (lib/rewrite/parse) as the RX path would.
#include <vector>

#include "lib/mirror/decap.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace dpcopy;
using namespace dpcopy::mirror;

DecapConfig config_from(std::uint8_t a, std::uint8_t b) {
    DecapConfig c;
    c.mode = static_cast<EncapMode>(a % 6);
    if ((a & 0x08) != 0) c.vxlan_udp_port = 8472;
    if ((a & 0x10) != 0) c.geneve_udp_port = 4789;  // both on one port: VXLAN wins
    c.select_vni = c.mode != EncapMode::none && (b & 0x01) != 0;
    c.vni = (b & 0x02) != 0 ? 42 : b >> 2;
    c.select_session = c.mode != EncapMode::none && (b & 0x80) != 0;
    c.session = (b >> 2) & 0x1f;
    return c;
}

bool same(const Decapsulated& x, const Decapsulated& y) {
    return x.outcome == y.outcome && x.inner_off == y.inner_off && x.inner_len == y.inner_len && x.tunnel_id == y.tunnel_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    dpcopy_fuzz::Input in(data, size);
    const DecapConfig cfg = config_from(in.u8(), in.u8());
    const auto rest = in.bytes(in.left());
    const std::vector<std::uint8_t> buf(rest.begin(), rest.end());  // exact size for ASan
    const net::ConstBytes frame(buf.data(), buf.size());

    const Decapsulated d = decapsulate(frame, cfg);
    FUZZ_CHECK(static_cast<std::size_t>(d.outcome) < decap_counter_count);
    FUZZ_CHECK(std::size_t{d.inner_off} + d.inner_len <= frame.size());
    if (d.outcome == DecapCounter::plain) FUZZ_CHECK(d.inner_off == 0 && d.inner_len == frame.size());
    if (d.ok() && d.outcome != DecapCounter::plain) FUZZ_CHECK(d.inner_len >= 14);
    if (cfg.mode == EncapMode::none) FUZZ_CHECK(d.outcome == DecapCounter::plain);
    FUZZ_CHECK(same(d, decapsulate(frame, cfg)));

    if (d.ok() && d.outcome != DecapCounter::plain) {
        std::vector<std::uint8_t> padded(buf);
        padded.insert(padded.end(), 32, 0);
        FUZZ_CHECK(same(d, decapsulate(net::ConstBytes(padded.data(), padded.size()), cfg)));
    }
    if (cfg.select_vni || cfg.select_session) {
        DecapConfig open = cfg;
        open.select_vni = open.select_session = false;
        const Decapsulated o = decapsulate(frame, open);
        if (d.ok()) FUZZ_CHECK(same(d, o));
        if (d.outcome == DecapCounter::reject_not_selected) FUZZ_CHECK(o.ok());
    }
    if (d.ok()) {
        net::PacketView v;
        (void)net::parse_frame(d.inner(frame), v);
    }
    return 0;
}
