#include "lib/dpdk_io/capture.hpp"

#include <pcap/pcap.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dpcopy::io {
namespace {

constexpr std::uint16_t kEthIpv4 = 0x0800;
constexpr std::uint16_t kEthIpv6 = 0x86dd;
constexpr std::uint32_t kAfInet = 2;  // AF_INET in DLT_NULL / DLT_LOOP headers

bool is_ip_ethertype(std::uint16_t type) { return type == kEthIpv4 || type == kEthIpv6; }

// A DLT_NULL / DLT_LOOP address family: AF_INET (2 everywhere), or AF_INET6, whose value
// is the capturing system's: 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
// The IPv6 header's version nibble is checked again by the parser.
bool is_ip_family(std::uint32_t family) {
    return family == kAfInet || family == 10 || family == 24 || family == 28 || family == 30;
}

pcap_t* handle(void* p) { return static_cast<pcap_t*>(p); }

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

// Opens `path` for reading only when it is a regular file: O_NONBLOCK so that a FIFO
// without a writer cannot block open() forever (libpcap's own fopen() would), then
// fstat() on what was opened. Returns the stream, or nullptr with `err` set.
std::FILE* open_regular(const std::string& path, std::string& err, std::uint64_t& size) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err = std::strerror(errno);
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = S_ISFIFO(st.st_mode) ? "is a FIFO (named pipe), not a regular file" : "is not a regular file";
        ::close(fd);
        return nullptr;
    }
    size = static_cast<std::uint64_t>(st.st_size);
    // reads of a regular file never block: O_NONBLOCK is cleared only to be plain
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::FILE* f = ::fdopen(fd, "rb");
    if (f == nullptr) {
        err = std::strerror(errno);
        ::close(fd);
    }
    return f;
}

}  // namespace

struct CaptureReader::Filter {
    bpf_program prog{};
    ~Filter() { pcap_freecode(&prog); }
};

bool CaptureReader::set_filter(const std::string& expr, std::string& err) {
    auto f = std::make_unique<Filter>();
    if (pcap_compile(handle(pcap_), &f->prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        err = "invalid value '" + expr + "' for option --filter: " + pcap_geterr(handle(pcap_)) + " (capture '" +
              path_ + "', link type " + datalink_name() + ")";
        return false;
    }
    filter_ = std::move(f);
    return true;
}

// -F on a record, or on the inner frame a decapsulated record holds (outer_len > 0; Ethernet
// like the record, so the filter compiled for the file's link type applies).
bool CaptureReader::passes_filter(const pcap_pkthdr& hdr, net::ConstBytes data, std::uint32_t outer_len) const {
    if (outer_len == 0) return pcap_offline_filter(&filter_->prog, &hdr, data.data()) != 0;
    pcap_pkthdr inner = hdr;
    inner.caplen = static_cast<bpf_u_int32>(data.size());
    inner.len = hdr.len - std::min(hdr.len, outer_len);
    return pcap_offline_filter(&filter_->prog, &inner, data.data()) != 0;
}

bool CaptureReader::supported_datalink(int dlt) noexcept {
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

std::unique_ptr<CaptureReader> CaptureReader::open(const std::string& path, std::string& err) {
    std::unique_ptr<CaptureReader> r(new CaptureReader());
    r->path_ = path;
    if (!r->open_handle(err)) return nullptr;
    return r;
}

bool CaptureReader::open_handle(std::string& err) {
    char ebuf[PCAP_ERRBUF_SIZE] = {};
    std::string why;
    std::FILE* f = open_regular(path_, why, size_);
    if (f == nullptr) {
        err = "cannot read capture '" + path_ + "': " + why;
        return false;
    }
    pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (p == nullptr) {  // libpcap closes the stream only once it has opened a handle
        std::fclose(f);
        err = "cannot read capture '" + path_ + "': " + ebuf;
        return false;
    }
    const int dlt = pcap_datalink(p);
    if (!supported_datalink(dlt)) {
        const char* name = pcap_datalink_val_to_name(dlt);
        err = "capture '" + path_ + "' has link type " + (name ? name : std::to_string(dlt)) +
              "; supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, NULL, LOOP";
        pcap_close(p);
        return false;
    }
    pcap_ = p;
    dlt_ = dlt;
    return true;
}

CaptureReader::~CaptureReader() {
    if (pcap_ != nullptr) pcap_close(handle(pcap_));
}

const char* CaptureReader::datalink_name() const noexcept {
    const char* n = pcap_datalink_val_to_name(dlt_);
    return n ? n : "?";
}

std::uint64_t CaptureReader::position() const noexcept {
    if (pcap_ == nullptr) return 0;
    std::FILE* f = pcap_file(handle(pcap_));
    const long at = f != nullptr ? std::ftell(f) : -1;
    return at < 0 ? 0 : std::min(static_cast<std::uint64_t>(at), size_);
}

bool CaptureReader::rewind() {
    if (pcap_ != nullptr) {
        pcap_close(handle(pcap_));
        pcap_ = nullptr;
    }
    return open_handle(err_);
}

ReadStatus CaptureReader::next(CaptureFrame& out) {
    for (;;) {
        pcap_pkthdr* hdr = nullptr;
        const u_char* bytes = nullptr;
        const int rc = pcap_next_ex(handle(pcap_), &hdr, &bytes);
        if (rc == PCAP_ERROR_BREAK) return ReadStatus::end;
        if (rc != 1) {
            err_ = "capture '" + path_ + "' is corrupt after " + std::to_string(stats_.frames) +
                   " records: " + pcap_geterr(handle(pcap_));
            return ReadStatus::error;
        }
        ++stats_.frames;
        net::ConstBytes data(bytes, hdr->caplen);
        std::uint32_t outer_len = 0;  // --mirror-encap: the outer headers cut off
        if (decap_.mode != mirror::EncapMode::none && dlt_ == DLT_EN10MB) {
            const mirror::Decapsulated d = mirror::decapsulate(data, decap_);
            ++stats_.decap[d.outcome];
            if (!d.ok()) continue;
            data = d.inner(data);
            outer_len = d.inner_off;
        }
        if (filter_ && !passes_filter(*hdr, data, outer_len)) {
            ++stats_.filtered;
            continue;
        }
        // A pcap record's seconds are an unsigned 32-bit field (up to 2106) that libpcap
        // sign-extends into tv_sec: read past 2038 as what they are, not as before 1970
        // (pcapng timestamps are 64-bit and never negative here).
        const std::uint64_t sec = hdr->ts.tv_sec < 0 ? std::uint64_t{static_cast<std::uint32_t>(hdr->ts.tv_sec)}
                                                     : static_cast<std::uint64_t>(hdr->ts.tv_sec);
        out.ts_ns = sec * 1'000'000'000ULL +
                    static_cast<std::uint64_t>(hdr->ts.tv_usec);  // tv_usec holds ns at NANO precision
        out.wire_len = hdr->len - std::min(hdr->len, outer_len);
        out.truncated = hdr->caplen < hdr->len;
        if (out.truncated) ++stats_.truncated;

        std::size_t strip = 0;
        bool ip = true;  // IPv4 or IPv6 (a cooked or loopback header names the protocol)
        switch (dlt_) {
        case DLT_EN10MB:
            out.link = net::LinkType::ethernet;
            break;
        case DLT_RAW:
        case DLT_IPV4:
            out.link = net::LinkType::raw_ipv4;
            break;
        case DLT_LINUX_SLL:  // 16 bytes; protocol at 14
            strip = 16;
            if (data.size() >= strip) ip = is_ip_ethertype(net::load_be16(data, 14));
            out.link = net::LinkType::raw_ipv4;
            break;
        case DLT_LINUX_SLL2:  // 20 bytes; protocol at 0
            strip = 20;
            if (data.size() >= strip) ip = is_ip_ethertype(net::load_be16(data, 0));
            out.link = net::LinkType::raw_ipv4;
            break;
        case DLT_NULL:
        case DLT_LOOP: {  // 4-byte address family: host order (NULL) or network order (LOOP)
            strip = 4;
            if (data.size() >= strip) {
                std::uint32_t fam_host = 0;
                std::memcpy(&fam_host, data.data(), 4);
                const std::uint32_t fam_net = net::load_be32(data, 0);
                ip = dlt_ == DLT_LOOP ? is_ip_family(fam_net) : (is_ip_family(fam_host) || is_ip_family(fam_net));
            }
            out.link = net::LinkType::raw_ipv4;
            break;
        }
        default:
            break;
        }
        if (data.size() < strip) {
            ++stats_.bad_link_header;
            continue;
        }
        if (!ip) {
            ++stats_.not_ip;
            continue;
        }
        out.data = data.subspan(strip);
        return ReadStatus::frame;
    }
}

}  // namespace dpcopy::io
