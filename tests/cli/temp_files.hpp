// A temporary directory with the files the option tests need; removed at exit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>

namespace cli_test {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/dpcopy-cli-test-XXXXXX";
        if (!mkdtemp(tmpl)) std::abort();
        dir_ = tmpl;
        write("in.pcap", std::string("\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8));
        write("in.pcapng", std::string("\x0a\x0d\x0d\x0a", 4));
        write("notpcap.txt", "GET / HTTP/1.1\r\n");
        write("key", "0123456789abcdef0123456789abcdef");
        write("emptykey", "");
        // a FIFO without a writer: opening it for reading would block forever
        if (::mkfifo(path("fifo").c_str(), 0600) != 0) std::abort();
        std::filesystem::create_directory(path("dir"));
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string write(const std::string& name, const std::string& bytes) const {
        std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
        return path(name);
    }

private:
    std::string dir_;
};

inline const TempDir& temp() {
    static TempDir dir;
    return dir;
}

}  // namespace cli_test
