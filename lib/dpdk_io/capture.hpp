// Offline source: reads pcap and pcapng files with libpcap and hands out frames
// normalised to what the parser understands (Ethernet II or raw IPv4), with
// nanosecond timestamps. No DPDK here: it is unit-tested under ASan.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lib/mirror/decap.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/parse.hpp"

struct pcap_pkthdr;  // <pcap/pcap.h>, only in capture.cpp

namespace dpcopy::io {

struct CaptureFrame {
    std::uint64_t ts_ns = 0;        // capture timestamp, ns since the epoch
    net::LinkType link = net::LinkType::ethernet;
    net::ConstBytes data;           // valid until the next call to next()
    std::uint32_t wire_len = 0;     // length on the wire (>= data.size() + stripped header)
    bool truncated = false;         // snap length cut the frame
};

struct CaptureStats {
    std::uint64_t frames = 0;         // records read
    std::uint64_t truncated = 0;      // records shorter than on the wire
    std::uint64_t not_ip = 0;         // cooked/loopback records of another protocol (skipped)
    std::uint64_t bad_link_header = 0;// records too short for their link-layer header (skipped)
    std::uint64_t filtered = 0;       // records the -F filter rejected (skipped)
    mirror::DecapCounters decap;      // --mirror-encap with -i: Ethernet records by outcome
};

enum class ReadStatus : std::uint8_t { frame, end, error };

class CaptureReader {
public:
    // Opens FILE (pcap or pcapng). On failure returns nullptr and sets `err` to one line.
    static std::unique_ptr<CaptureReader> open(const std::string& path, std::string& err);
    ~CaptureReader();
    CaptureReader(const CaptureReader&) = delete;
    CaptureReader& operator=(const CaptureReader&) = delete;

    // Next frame. `error` means the file is corrupt past this point: err() says why.
    ReadStatus next(CaptureFrame& out);
    // -F: from now on, records the libpcap expression does not match are skipped (counted,
    // stats().filtered). Compiled for the file's link type, as tcpdump -r would; false with
    // `err` set ("invalid value 'EXPR' for option --filter: <libpcap's message>").
    bool set_filter(const std::string& expr, std::string& err);
    bool has_filter() const noexcept { return filter_ != nullptr; }
    // --mirror-encap with -i (a capture of a remote mirror's port): each Ethernet record is
    // decapsulated before -F sees it (the filter runs on the inner frame, as live); refused
    // records are skipped, counted in stats().decap by reason. Mode none (the default
    // offline): records are read as they are and not counted there.
    void set_decap(const mirror::DecapConfig& cfg) noexcept { decap_ = cfg; }
    // Starts again from the first record (for --loop). False with err() set on failure.
    bool rewind();

    // How far the reader is into the file (bytes, within the stream's read-ahead buffer)
    // and the file's size: the offline status line's progress.
    std::uint64_t position() const noexcept;
    std::uint64_t size_bytes() const noexcept { return size_; }

    int datalink() const noexcept { return dlt_; }
    const char* datalink_name() const noexcept;
    const CaptureStats& stats() const noexcept { return stats_; }
    const std::string& err() const noexcept { return err_; }

    // True when the link type is one dpcopy understands.
    static bool supported_datalink(int dlt) noexcept;

private:
    CaptureReader() = default;
    bool open_handle(std::string& err);
    bool passes_filter(const ::pcap_pkthdr& hdr, net::ConstBytes data, std::uint32_t outer_len) const;

    std::string path_;
    void* pcap_ = nullptr;  // pcap_t*, kept opaque so users of this header need no pcap.h
    struct Filter;
    std::unique_ptr<Filter> filter_;  // -F (bpf_program), kept over rewind()
    mirror::DecapConfig decap_ = no_decap();
    static mirror::DecapConfig no_decap() noexcept {
        mirror::DecapConfig c;
        c.mode = mirror::EncapMode::none;
        return c;
    }
    int dlt_ = 0;
    std::uint64_t size_ = 0;
    CaptureStats stats_;
    std::string err_;
};

}  // namespace dpcopy::io
