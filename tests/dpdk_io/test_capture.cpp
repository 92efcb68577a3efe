// CaptureReader: every supported link type, pcap and pcapng, truncated records,
// corrupt and missing files. Files are written by the test itself (libpcap for
// pcap, a minimal block writer for pcapng) into a temporary directory.
#include <catch2/catch.hpp>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lib/dpdk_io/capture.hpp"
#include "lib/rewrite/parse.hpp"

using namespace dpcopy;

namespace {

// A minimal IPv4/TCP SYN, 40 bytes (checksums irrelevant for the reader).
std::vector<std::uint8_t> ipv4_syn() {
    return {0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
            198, 18, 0, 1, 198, 18, 0, 2,
            0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
}
std::vector<std::uint8_t> eth(std::uint16_t type, const std::vector<std::uint8_t>& l3) {
    std::vector<std::uint8_t> f = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
                                   static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type)};
    f.insert(f.end(), l3.begin(), l3.end());
    return f;
}
std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

struct TempDir {
    std::filesystem::path p;
    TempDir() {
        char tmpl[] = "/tmp/dpcopy-capture-XXXXXX";
        p = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(p); }
    std::string file(const char* name) const { return (p / name).string(); }
};

struct Rec {
    std::vector<std::uint8_t> bytes;
    std::uint32_t wire_len;  // 0: same as bytes
    std::uint64_t ts_ns;
};

void write_pcap(const std::string& path, int dlt, const std::vector<Rec>& recs) {
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
    REQUIRE(dead != nullptr);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d != nullptr);
    for (const auto& r : recs) {
        pcap_pkthdr h{};
        h.ts.tv_sec = static_cast<time_t>(r.ts_ns / 1'000'000'000ULL);
        h.ts.tv_usec = static_cast<suseconds_t>(r.ts_ns % 1'000'000'000ULL);
        h.caplen = static_cast<bpf_u_int32>(r.bytes.size());
        h.len = r.wire_len ? r.wire_len : h.caplen;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, r.bytes.data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));  // little endian
}
void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x));
    v.push_back(static_cast<std::uint8_t>(x >> 8));
}

// pcapng: SHB, one IDB (if_tsresol = 9 -> ns), one EPB per record.
void write_pcapng(const std::string& path, std::uint16_t linktype, const std::vector<Rec>& recs) {
    std::vector<std::uint8_t> f;
    put32(f, 0x0A0D0D0A); put32(f, 28); put32(f, 0x1A2B3C4D); put16(f, 1); put16(f, 0);
    put32(f, 0xffffffff); put32(f, 0xffffffff); put32(f, 28);
    // IDB with option if_tsresol(9) = 9, then opt_endofopt
    put32(f, 1); put32(f, 32); put16(f, linktype); put16(f, 0); put32(f, 65535);
    put16(f, 9); put16(f, 1); f.push_back(9); f.push_back(0); f.push_back(0); f.push_back(0);
    put16(f, 0); put16(f, 0);
    put32(f, 32);
    for (const auto& r : recs) {
        const std::uint32_t padded = static_cast<std::uint32_t>((r.bytes.size() + 3) & ~std::size_t{3});
        const std::uint32_t len = 32 + padded;
        put32(f, 6); put32(f, len); put32(f, 0);
        put32(f, static_cast<std::uint32_t>(r.ts_ns >> 32)); put32(f, static_cast<std::uint32_t>(r.ts_ns));
        put32(f, static_cast<std::uint32_t>(r.bytes.size()));
        put32(f, r.wire_len ? r.wire_len : static_cast<std::uint32_t>(r.bytes.size()));
        f.insert(f.end(), r.bytes.begin(), r.bytes.end());
        f.resize(f.size() + (padded - r.bytes.size()), 0);
        put32(f, len);
    }
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
}

void expect_tcp_syn(const io::CaptureFrame& fr) {
    net::PacketView v;
    REQUIRE(net::parse_frame(fr.data, v, fr.link) == net::ParseError::ok);
    CHECK(v.l4 == net::L4Kind::tcp);
    CHECK(v.key.src_ip == net::Ipv4Addr::from_octets(198, 18, 0, 1));
    CHECK(v.key.dst_port == net::Port(80));
}

}  // namespace

TEST_CASE("capture: every supported link type yields a parseable frame", "[capture]") {
    TempDir dir;
    const auto ip = ipv4_syn();
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x08;
    std::vector<std::uint8_t> sll2(20, 0);
    sll2[0] = 0x08;
    std::vector<std::uint8_t> null_hdr = {2, 0, 0, 0};  // AF_INET, little-endian host order
    std::vector<std::uint8_t> loop_hdr = {0, 0, 0, 2};  // AF_INET, network order
    struct Case { int dlt; std::vector<std::uint8_t> frame; net::LinkType link; };
    const std::vector<Case> cases = {
        {DLT_EN10MB, eth(0x0800, ip), net::LinkType::ethernet},
        {DLT_EN10MB, concat({2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00}, ip), net::LinkType::ethernet},
        {DLT_LINUX_SLL, concat(sll, ip), net::LinkType::raw_ipv4},
        {276 /* LINUX_SLL2 */, concat(sll2, ip), net::LinkType::raw_ipv4},
        {DLT_RAW, ip, net::LinkType::raw_ipv4},
        {DLT_NULL, concat(null_hdr, ip), net::LinkType::raw_ipv4},
        {DLT_LOOP, concat(loop_hdr, ip), net::LinkType::raw_ipv4},
    };
    int i = 0;
    for (const auto& c : cases) {
        CAPTURE(c.dlt, i);
        const std::string path = dir.file(("c" + std::to_string(i++) + ".pcap").c_str());
        write_pcap(path, c.dlt, {{c.frame, 0, 1'700'000'000'123'456'789ULL}, {c.frame, 0, 1'700'000'001'000'000'001ULL}});
        std::string err;
        auto r = io::CaptureReader::open(path, err);
        REQUIRE(r);
        CHECK(err.empty());
        io::CaptureFrame fr;
        REQUIRE(r->next(fr) == io::ReadStatus::frame);
        CHECK(fr.link == c.link);
        CHECK(fr.ts_ns == 1'700'000'000'123'456'789ULL);
        CHECK_FALSE(fr.truncated);
        expect_tcp_syn(fr);
        REQUIRE(r->next(fr) == io::ReadStatus::frame);
        CHECK(fr.ts_ns == 1'700'000'001'000'000'001ULL);
        CHECK(r->next(fr) == io::ReadStatus::end);
        CHECK(r->stats().frames == 2);
        // --loop: rewind and read again
        REQUIRE(r->rewind());
        REQUIRE(r->next(fr) == io::ReadStatus::frame);
        expect_tcp_syn(fr);
    }
}

// A pcap record's seconds are unsigned 32 bits: a record 136 years after 1970 (issue #13's
// "timestamp 136 years ahead") is 4294967295 s, not -1 s (libpcap sign-extends tv_sec).
TEST_CASE("capture: pcap seconds past 2^31 are read unsigned", "[capture]") {
    TempDir dir;
    const std::string path = dir.file("late.pcap");
    write_pcap(path, DLT_EN10MB, {{eth(0x0800, ipv4_syn()), 0, 1'000'000'000ULL},
                                  {eth(0x0800, ipv4_syn()), 0, 4'294'967'295ULL * 1'000'000'000ULL + 5},
                                  {eth(0x0800, ipv4_syn()), 0, 2'147'483'648ULL * 1'000'000'000ULL}});
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    REQUIRE(r);
    io::CaptureFrame fr;
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(fr.ts_ns == 1'000'000'000ULL);
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(fr.ts_ns == 4'294'967'295ULL * 1'000'000'000ULL + 5);
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(fr.ts_ns == 2'147'483'648ULL * 1'000'000'000ULL);
}

TEST_CASE("capture: pcapng with nanosecond resolution", "[capture]") {
    TempDir dir;
    const std::string path = dir.file("a.pcapng");
    write_pcapng(path, 1, {{eth(0x0800, ipv4_syn()), 0, 1'700'000'000'000'000'007ULL}});
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    REQUIRE(r);
    io::CaptureFrame fr;
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(fr.ts_ns == 1'700'000'000'000'000'007ULL);
    expect_tcp_syn(fr);
    CHECK(r->next(fr) == io::ReadStatus::end);
}

TEST_CASE("capture: truncated records, other protocols and short link headers are counted", "[capture]") {
    TempDir dir;
    const std::string path = dir.file("t.pcap");
    auto syn = eth(0x0800, ipv4_syn());
    std::vector<std::uint8_t> cut(syn.begin(), syn.begin() + 30);
    write_pcap(path, DLT_EN10MB, {{cut, static_cast<std::uint32_t>(syn.size()), 1}, {syn, 0, 2}});
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    REQUIRE(r);
    io::CaptureFrame fr;
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(fr.truncated);
    CHECK(fr.wire_len == syn.size());
    net::PacketView v;
    CHECK(net::parse_frame(fr.data, v, fr.link) != net::ParseError::ok);
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK_FALSE(fr.truncated);
    CHECK(r->stats().truncated == 1);

    const std::string path2 = dir.file("sll.pcap");
    std::vector<std::uint8_t> sll_arp(16, 0);
    sll_arp[14] = 0x08;
    sll_arp[15] = 0x06;
    write_pcap(path2, DLT_LINUX_SLL, {{concat(sll_arp, std::vector<std::uint8_t>(28, 0)), 0, 1}, {{1, 2, 3}, 0, 2}});
    auto r2 = io::CaptureReader::open(path2, err);
    REQUIRE(r2);
    CHECK(r2->next(fr) == io::ReadStatus::end);
    CHECK(r2->stats().not_ip == 1);
    CHECK(r2->stats().bad_link_header == 1);
}

// IPv6 in cooked and loopback captures is handed on (the engine decides what it copies, as
// for Ethernet captures); the link headers name it by ethertype (SLL, SLL2) or by the
// capturing system's AF_INET6 (NULL: host order, LOOP: network order).
TEST_CASE("capture: IPv6 records of cooked and loopback captures are read, other protocols skipped", "[capture]") {
    TempDir dir;
    const std::vector<std::uint8_t> v6(40, 0x60);  // version 6 (the rest does not matter here)
    auto family = [](std::uint32_t af, bool network_order) {
        std::vector<std::uint8_t> h(4);
        for (int i = 0; i < 4; ++i) h[static_cast<std::size_t>(network_order ? 3 - i : i)] = static_cast<std::uint8_t>(af >> (8 * i));
        return h;
    };
    std::vector<std::uint8_t> sll(16, 0), sll2(20, 0);
    sll[14] = 0x86, sll[15] = 0xdd;
    sll2[0] = 0x86, sll2[1] = 0xdd;
    struct Case {
        const char* name;
        int dlt;
        std::vector<std::uint8_t> v6_header, other_header;
    };
    const Case cases[] = {
        {"SLL", DLT_LINUX_SLL, sll, std::vector<std::uint8_t>(16, 0)},
        {"SLL2", DLT_LINUX_SLL2, sll2, std::vector<std::uint8_t>(20, 0)},
        {"NULL, Linux AF_INET6 10", DLT_NULL, family(10, false), family(99, false)},
        {"NULL, macOS AF_INET6 30", DLT_NULL, family(30, false), family(7, false)},
        {"LOOP, OpenBSD AF_INET6 24", DLT_LOOP, family(24, true), family(99, true)},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string path = dir.file(("v6_" + std::to_string(&c - cases) + ".pcap").c_str());
        write_pcap(path, c.dlt, {{concat(c.other_header, v6), 0, 1}, {concat(c.v6_header, v6), 0, 2}});
        std::string err;
        auto r = io::CaptureReader::open(path, err);
        REQUIRE(r);
        io::CaptureFrame fr;
        REQUIRE(r->next(fr) == io::ReadStatus::frame);
        CHECK(fr.ts_ns == 2);
        CHECK(fr.link == net::LinkType::raw_ipv4);
        REQUIRE(fr.data.size() == v6.size());
        CHECK(fr.data[0] >> 4 == 6);
        CHECK(r->next(fr) == io::ReadStatus::end);
        CHECK(r->stats().not_ip == 1);
    }
}

// The adapter publishes these counts as io counters (file_frames, drop_file_not_ip,
// drop_file_bad_link_header): they hold every record the reader skipped, every pass.
TEST_CASE("capture: every skipped record is counted under its reason, over every pass", "[capture]") {
    TempDir dir;
    const std::string path = dir.file("skips.pcap");
    std::vector<std::uint8_t> sll_v4(16, 0), sll_arp(16, 0);
    sll_v4[14] = 0x08;
    sll_arp[14] = 0x08;
    sll_arp[15] = 0x06;
    // a short link header (10 of SLL's 16 bytes), an IPv4 SYN, an ARP record
    write_pcap(path, DLT_LINUX_SLL, {{std::vector<std::uint8_t>(sll_v4.begin(), sll_v4.begin() + 10), 0, 1},
                                     {concat(sll_v4, ipv4_syn()), 0, 2},
                                     {concat(sll_arp, std::vector<std::uint8_t>(28, 0)), 0, 3}});
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    REQUIRE(r);
    for (std::uint64_t pass = 1; pass <= 2; ++pass) {
        CAPTURE(pass);
        io::CaptureFrame fr;
        REQUIRE(r->next(fr) == io::ReadStatus::frame);
        CHECK(fr.ts_ns == 2);
        expect_tcp_syn(fr);
        CHECK(r->next(fr) == io::ReadStatus::end);
        CHECK(r->stats().frames == 3 * pass);
        CHECK(r->stats().bad_link_header == pass);
        CHECK(r->stats().not_ip == pass);
        CHECK(r->stats().truncated == 0);
        REQUIRE(r->rewind());
    }
}

// -F offline: compiled for the file's link type (as tcpdump -r does), the records it does not
// match skipped and counted (the adapter's drop_capture_filter), over every pass.
TEST_CASE("capture: -F skips the records it does not match, counted, for the file's link type", "[capture]") {
    TempDir dir;
    auto syn_to = [](std::uint8_t port) {  // the SYN toward port 80 or `port`
        auto l3 = ipv4_syn();
        l3[23] = port;
        return l3;
    };
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x08;
    for (int dlt : {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL}) {
        CAPTURE(dlt);
        auto frame = [&](std::uint8_t port) {
            return dlt == DLT_EN10MB ? eth(0x0800, syn_to(port)) : dlt == DLT_RAW ? syn_to(port) : concat(sll, syn_to(port));
        };
        const std::string path = dir.file(("f" + std::to_string(dlt) + ".pcap").c_str());
        write_pcap(path, dlt, {{frame(81), 0, 1}, {frame(80), 0, 2}, {frame(81), 0, 3}, {frame(80), 0, 4}});
        std::string err;
        auto r = io::CaptureReader::open(path, err);
        REQUIRE(r);
        CHECK_FALSE(r->has_filter());
        REQUIRE(r->set_filter("tcp dst port 80 and host 198.18.0.2", err));
        CHECK(r->has_filter());
        for (std::uint64_t pass = 1; pass <= 2; ++pass) {
            CAPTURE(pass);
            io::CaptureFrame fr;
            REQUIRE(r->next(fr) == io::ReadStatus::frame);
            CHECK(fr.ts_ns == 2);
            expect_tcp_syn(fr);
            REQUIRE(r->next(fr) == io::ReadStatus::frame);
            CHECK(fr.ts_ns == 4);
            CHECK(r->next(fr) == io::ReadStatus::end);
            CHECK(r->stats().frames == 4 * pass);
            CHECK(r->stats().filtered == 2 * pass);
            REQUIRE(r->rewind());
        }
        // an expression that does not compile, or not for this link type: libpcap's message
        auto r2 = io::CaptureReader::open(path, err);
        REQUIRE(r2);
        CHECK_FALSE(r2->set_filter("tcp and", err));
        CHECK(err.starts_with("invalid value 'tcp and' for option --filter: "));
        CHECK(err.find('\n') == std::string::npos);
        err.clear();
        const bool ether = r2->set_filter("ether host 02:00:00:00:00:01", err);
        if (dlt == DLT_EN10MB) CHECK(ether);
        if (dlt == DLT_RAW) {  // raw IPv4 has no Ethernet header
            CHECK_FALSE(ether);
            CHECK(err.find("for option --filter: ") != std::string::npos);
        }
    }
}

TEST_CASE("capture: missing, unsupported and corrupt files give one-line errors", "[capture]") {
    TempDir dir;
    std::string err;
    CHECK_FALSE(io::CaptureReader::open(dir.file("nope.pcap"), err));
    CHECK(err.find("nope.pcap") != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);

    const std::string garbage = dir.file("garbage.pcap");
    std::ofstream(garbage) << "this is not a capture file at all, just text\n";
    err.clear();
    CHECK_FALSE(io::CaptureReader::open(garbage, err));
    CHECK_FALSE(err.empty());

    const std::string wrong = dir.file("wrong.pcap");
    write_pcap(wrong, 105 /* IEEE802_11 */, {{{1, 2, 3}, 0, 1}});
    err.clear();
    CHECK_FALSE(io::CaptureReader::open(wrong, err));
    CHECK(err.find("link type") != std::string::npos);

    // A record header that promises more bytes than the file has.
    const std::string cut = dir.file("cut.pcap");
    write_pcap(cut, DLT_EN10MB, {{eth(0x0800, ipv4_syn()), 0, 1}, {eth(0x0800, ipv4_syn()), 0, 2}});
    std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 10);
    auto r = io::CaptureReader::open(cut, err);
    REQUIRE(r);
    io::CaptureFrame fr;
    REQUIRE(r->next(fr) == io::ReadStatus::frame);
    CHECK(r->next(fr) == io::ReadStatus::error);
    CHECK(r->err().find("corrupt") != std::string::npos);
}

// A FIFO without a writer would block a plain open() (libpcap's fopen) forever: the
// reader refuses anything but a regular file at once (a regression hangs until meson's
// timeout, which fails the test).
TEST_CASE("capture: a FIFO or a directory is refused without blocking", "[capture]") {
    TempDir dir;
    const std::string fifo = dir.file("fifo.pcap");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string err;
    CHECK_FALSE(io::CaptureReader::open(fifo, err));
    CHECK(err.find("fifo.pcap") != std::string::npos);
    CHECK(err.find("not a regular file") != std::string::npos);
    err.clear();
    CHECK_FALSE(io::CaptureReader::open(dir.p.string(), err));
    CHECK(err.find("not a regular file") != std::string::npos);
}

// --mirror-encap with -i: the reader takes the inner frame out of each Ethernet record
// before -F (which then sees the inner frame, as live). The captures are tests/data/mirror's:
// the kernel's VXLAN (vxlan_http.pcap) and scapy's GENEVE and ERSPAN II around the same
// inner frames.
namespace {
std::string mirror_capture(const char* name) { return std::string(DPCOPY_SOURCE_ROOT) + "/tests/data/mirror/" + name; }

std::vector<std::vector<std::uint8_t>> read_all(io::CaptureReader& r, std::vector<std::uint64_t>* ts = nullptr) {
    std::vector<std::vector<std::uint8_t>> out;
    io::CaptureFrame f;
    while (r.next(f) == io::ReadStatus::frame) {
        out.emplace_back(f.data.begin(), f.data.end());
        if (ts) ts->push_back(f.ts_ns);
    }
    return out;
}
mirror::DecapConfig decap_mode(mirror::EncapMode m) {
    mirror::DecapConfig c;
    c.mode = m;
    return c;
}
}  // namespace

TEST_CASE("capture: --mirror-encap decapsulates each record, the kernel's VXLAN and scapy's GENEVE alike", "[capture]") {
    std::string err;
    auto vx = io::CaptureReader::open(mirror_capture("vxlan_http.pcap"), err);
    auto ge = io::CaptureReader::open(mirror_capture("geneve.pcap"), err);
    REQUIRE(vx);
    REQUIRE(ge);
    const auto outer = read_all(*ge);  // mode none by default: read as they are
    CHECK(ge->stats().decap[mirror::DecapCounter::decap_geneve] == 0);
    REQUIRE(ge->rewind());
    vx->set_decap(decap_mode(mirror::EncapMode::auto_detect));
    ge->set_decap(decap_mode(mirror::EncapMode::geneve));
    std::vector<std::uint64_t> ts;
    const auto inner_vx = read_all(*vx), inner_ge = read_all(*ge, &ts);
    REQUIRE(inner_vx.size() == 10);
    CHECK(inner_ge == inner_vx);
    CHECK(vx->stats().decap[mirror::DecapCounter::decap_vxlan] == 10);
    CHECK(ge->stats().decap[mirror::DecapCounter::decap_geneve] == 10);
    REQUIRE(outer.size() == 10);
    for (std::size_t i = 0; i < outer.size(); ++i) CHECK(outer[i].size() == inner_ge[i].size() + 50);  // 14 + 20 + 8 + 8
    for (const auto& f : inner_ge) {
        net::PacketView v;
        REQUIRE(net::parse_frame(f, v) == net::ParseError::ok);
        CHECK(v.l4 == net::L4Kind::tcp);
    }
}

TEST_CASE("capture: --mirror-encap selects a session and -F runs on the inner frame", "[capture]") {
    std::string err;
    auto r = io::CaptureReader::open(mirror_capture("erspan2_two_sessions.pcap"), err);
    REQUIRE(r);
    mirror::DecapConfig c = decap_mode(mirror::EncapMode::erspan);
    c.select_session = true;
    c.session = 200;
    r->set_decap(c);
    REQUIRE(r->set_filter("tcp port 8080 and host 198.19.42.1", err));  // no outer frame is TCP
    const auto got = read_all(*r);
    CHECK(r->stats().frames == 10);
    CHECK(r->stats().decap[mirror::DecapCounter::decap_erspan2] == 5);
    CHECK(r->stats().decap[mirror::DecapCounter::reject_not_selected] == 5);
    CHECK(got.size() == 5);
    CHECK(r->stats().filtered == 0);
    for (const auto& f : got) {
        net::PacketView v;
        REQUIRE(net::parse_frame(f, v) == net::ParseError::ok);
        CHECK(v.l4 == net::L4Kind::tcp);
    }
    // without decapsulation the same filter matches no record: every outer frame is GRE
    auto plain = io::CaptureReader::open(mirror_capture("erspan2_two_sessions.pcap"), err);
    REQUIRE(plain);
    REQUIRE(plain->set_filter("tcp port 8080 and host 198.19.42.1", err));
    CHECK(read_all(*plain).empty());
    CHECK(plain->stats().filtered == 10);
}
