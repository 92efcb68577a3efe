#include "lib/dpdk_io/log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace dpcopy::io {

std::string log_stamp(std::uint64_t wall_ns) {
    const std::time_t secs = static_cast<std::time_t>(wall_ns / 1'000'000'000ULL);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    const std::size_t n = std::strftime(buf, sizeof buf, "[%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03uZ] ", static_cast<unsigned>(wall_ns / 1'000'000ULL % 1000));
    return buf;
}

void write_log(std::FILE* f, const std::optional<std::string>& path, std::string_view text) {
    if (f == nullptr) return;
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    std::string out;
    if (path) {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        const std::string stamp = log_stamp(static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
                                            static_cast<std::uint64_t>(ts.tv_nsec));
        std::size_t at = 0;
        while (at <= text.size()) {
            std::size_t nl = text.find('\n', at);
            if (nl == std::string_view::npos) nl = text.size();
            out += stamp;
            out.append(text.substr(at, nl - at));
            out += '\n';
            at = nl + 1;
        }
    } else {
        out.assign(text);
        out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), f);
    std::fflush(f);
}

bool reopen_log(std::FILE* f, const std::optional<std::string>& path, std::string& err) {
    if (!path || f == nullptr) return true;
    // The new file is opened first and put under the stream's descriptor (dup2): on failure
    // the stream keeps writing to the old file rather than to a closed one.
    const int fd = ::open(path->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd < 0) {
        err = "cannot reopen the log file " + *path + ": " + std::strerror(errno);
        return false;
    }
    std::fflush(f);
    const bool ok = ::dup2(fd, ::fileno(f)) >= 0;
    if (!ok) err = "cannot reopen the log file " + *path + ": " + std::strerror(errno);
    ::close(fd);
    return ok;
}

}  // namespace dpcopy::io
