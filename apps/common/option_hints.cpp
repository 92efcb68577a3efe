#include "apps/common/option_hints.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>

namespace dpcopy::cli {

namespace {

struct LetterHint {
    char letter;
    std::string_view program;  // the program lacking it ("" both)
    std::string_view text;
};

// tcpcopy's and intercept's letters with no dpcopy/dpintercept option of that letter.
constexpr std::string_view kService =
    "PROG stays in the foreground; run it as a systemd service (config/PROG.service, "
    "config/PROG@.service; docs/deploy.md)";
constexpr std::array kTcpcopyLetters{
    LetterHint{'d', "", "tcpcopy's -d (daemon): "},
    LetterHint{'P', "", "tcpcopy's -P (pid file): "},
    LetterHint{'T', "dpcopy", "tcpcopy's -T (replay N times) is --loop N"},
    LetterHint{'I', "dpcopy", "tcpcopy's -I (gap threshold) is --max-gap MS"},
    LetterHint{'o', "dpcopy", "tcpcopy's -o (output device) is a DPDK port: --vdev or -a in the EAL options, then --tx-port N"},
    LetterHint{'m', "", "tcpcopy's -m (memory limit): PROG's memory is fixed at start (EAL's -m or --socket-mem)"},
    LetterHint{'B', "dpcopy", "tcpcopy's -B (pcap buffer): the mirror port's ring (net_af_packet's framecnt, docs/deploy.md)"},
    LetterHint{'p', "dpintercept", "intercept's -p (listen port) is --control-port"},
    LetterHint{'i', "dpintercept", "intercept's -i (devices) is a DPDK port: --vdev net_af_packet0,iface=DEV in the EAL options (docs/deploy.md)"},
};

std::string with_prog(std::string_view text, std::string_view prog) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 4) == "PROG") {
            out += prog;
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap) {
    const std::size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
    if (diff > cap) return cap + 1;
    // Damerau-Levenshtein (optimal string alignment) over three rows.
    std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return std::min(prev[b.size()], cap + 1);
}

std::string unknown_option_hint(std::string_view prog, std::string_view option,
                                 const std::vector<std::string>& known) {
    if (option.size() == 2 && option[0] == '-' && option[1] != '-') {
        for (const LetterHint& h : kTcpcopyLetters)
            if (h.letter == option[1] && (h.program.empty() || h.program == prog)) {
                const bool service = h.letter == 'd' || h.letter == 'P';
                return "; " + with_prog(std::string(h.text) + (service ? std::string(kService) : ""), prog);
            }
        return {};
    }
    std::string_view name = option;
    while (!name.empty() && name.front() == '-') name.remove_prefix(1);
    if (name.size() < 3) return {};
    // the closest long name, if close enough to be a typo (or the start of one)
    const std::size_t cap = name.size() <= 5 ? 1 : 2;
    std::string best;
    std::size_t best_d = cap + 1;
    for (const std::string& k : known) {
        std::size_t d = edit_distance(name, k, cap);
        if (d > cap && k.size() > name.size() && k.compare(0, name.size(), name) == 0) d = cap;  // a prefix
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    if (best.empty()) return {};
    const bool from_file = !option.empty() && option.front() != '-';
    return "; did you mean " + (from_file ? best : "--" + best) + "?";
}

bool is_network_interface(const std::string& name) {
    if (name.empty() || name.size() > 15 || name.find('/') != std::string::npos || name == "." || name == "..")
        return false;
    struct stat st {};
    return ::stat(("/sys/class/net/" + name).c_str(), &st) == 0;
}

}  // namespace dpcopy::cli
