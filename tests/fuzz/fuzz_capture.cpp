// libFuzzer harness of the offline capture reader (lib/dpdk_io/capture: libpcap's pcap and
// pcapng readers plus dpcopy's link-layer normalisation). The input is the whole file, handed
// over as an in-memory file (memfd, opened by its /proc/self/fd path). Every frame read is
// parsed as dpcopy would; the reader must end (end or error, within the file's size in
// frames), its counters must agree with what it returned, and rewind() must read the same
// frames again.
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "lib/dpdk_io/capture.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace dpcopy;

struct Pass {
    io::ReadStatus last = io::ReadStatus::end;
    std::vector<std::size_t> sizes;
    std::uint64_t sum = 0;  // of every byte read and timestamp, to compare the two passes
};

Pass read_all(io::CaptureReader& r, std::size_t file_size) {
    Pass p;
    io::CaptureFrame f;
    for (;;) {
        const io::ReadStatus s = r.next(f);
        if (s != io::ReadStatus::frame) {
            p.last = s;
            FUZZ_CHECK(s == io::ReadStatus::end || !r.err().empty());
            return p;
        }
        // Every record takes at least a 16-byte header in the file.
        FUZZ_CHECK(p.sizes.size() * 16 <= file_size);
        FUZZ_CHECK(f.data.size() <= file_size);
        p.sizes.push_back(f.data.size());
        p.sum += f.ts_ns + f.wire_len;
        for (std::uint8_t b : f.data) p.sum = p.sum * 31 + b;
        net::PacketView v;
        if (net::parse_frame(f.data, v, f.link) == net::ParseError::ok && v.l3 == net::L3Kind::ipv4)
            FUZZ_CHECK(v.frame_len() <= f.data.size());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const int fd = memfd_create("fuzz_capture", 0);
    FUZZ_CHECK(fd >= 0);
    std::size_t off = 0;
    while (off < size) {
        const ssize_t n = write(fd, data + off, size - off);
        FUZZ_CHECK(n > 0);
        off += static_cast<std::size_t>(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    if (!r) {
        FUZZ_CHECK(!err.empty() && err.find('\n') == std::string::npos);
    } else {
        const Pass a = read_all(*r, size);
        const io::CaptureStats st = r->stats();
        FUZZ_CHECK(st.frames == a.sizes.size() + st.not_ip + st.bad_link_header);
        FUZZ_CHECK(st.truncated <= st.frames);
        if (r->rewind()) {
            const Pass b = read_all(*r, size);
            FUZZ_CHECK(b.last == a.last && b.sizes == a.sizes && b.sum == a.sum);
        }
    }
    close(fd);
    return 0;
}
