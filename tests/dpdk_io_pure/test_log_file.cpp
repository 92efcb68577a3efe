// -l FILE: stamped lines, and SIGHUP's reopen after a logrotate-style rename.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <unistd.h>

#include "lib/dpdk_io/log_file.hpp"

using namespace dpcopy::io;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/dpcopy-log-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

}  // namespace

TEST_CASE("log_stamp: UTC to the millisecond") {
    CHECK(log_stamp(0) == "[1970-01-01T00:00:00.000Z] ");
    CHECK(log_stamp(1'796'541'001'123'456'789ULL) == "[2026-12-06T07:10:01.123Z] ");
}

TEST_CASE("write_log: a file gets every line stamped, stderr-like streams none") {
    TempDir d;
    const std::string path = d.path + "/dpcopy.log";
    std::FILE* f = std::fopen(path.c_str(), "a");
    REQUIRE(f);
    write_log(f, path, "dpcopy: one");
    write_log(f, path, "dpcopy: summary\n  lost: none\n");  // several lines, a final newline
    write_log(f, std::nullopt, "plain");                     // no path: as it is
    std::fclose(f);
    const std::string text = slurp(path);
    const std::regex stamped(R"(^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] dpcopy: one\n)"
                             R"(\[[^\]]+\] dpcopy: summary\n\[[^\]]+\]   lost: none\nplain\n$)");
    CHECK(std::regex_match(text, stamped));
}

TEST_CASE("reopen_log: after a rename, the next lines go to a new file of the same name") {
    TempDir d;
    const std::string path = d.path + "/dpcopy.log";
    std::FILE* f = std::fopen(path.c_str(), "a");
    REQUIRE(f);
    write_log(f, path, "before");
    REQUIRE(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
    write_log(f, path, "still the old file");  // until SIGHUP
    std::string err;
    REQUIRE(reopen_log(f, path, err));
    write_log(f, path, "after");
    std::fclose(f);
    const std::string old_text = slurp(path + ".1");
    const std::string new_text = slurp(path);
    CHECK(old_text.find("before") != std::string::npos);
    CHECK(old_text.find("still the old file") != std::string::npos);
    CHECK(old_text.find("after") == std::string::npos);
    CHECK(new_text.find("after") != std::string::npos);
    CHECK(new_text.find("before") == std::string::npos);
}

TEST_CASE("reopen_log: a path it cannot open keeps the old file, with one error line") {
    TempDir d;
    const std::string path = d.path + "/dpcopy.log";
    std::FILE* f = std::fopen(path.c_str(), "a");
    REQUIRE(f);
    std::string err;
    const std::optional<std::string> bad = d.path + "/no-such-dir/dpcopy.log";
    CHECK(!reopen_log(f, bad, err));
    CHECK(err.find("cannot reopen the log file " + *bad) == 0);
    write_log(f, path, "kept");
    std::fclose(f);
    CHECK(slurp(path).find("kept") != std::string::npos);
    CHECK(reopen_log(stderr, std::nullopt, err));  // no -l: nothing to do
}
