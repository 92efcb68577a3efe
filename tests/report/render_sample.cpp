// render_sample REPORT_JSON INTERVALS_JSONL OUT_HTML: renders an --html-report from a --report
// JSON file and a --stats-file (one JSON object per line; "-" for none), for the Chromium check
// (check_html_report.sh) and for looking at the page by hand.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/report/html_report.hpp"

namespace {

bool read_report(const std::string& path, nlohmann::json& report, std::string& err) {
    std::ifstream in(path);
    if (!in) { err = "cannot open " + path; return false; }
    report = nlohmann::json::parse(in, nullptr, false);
    if (report.is_discarded()) { err = path + ": not JSON"; return false; }
    return true;
}

bool read_intervals(const std::string& path, std::vector<nlohmann::json>& intervals, std::string& err) {
    if (path == "-") return true;
    std::ifstream in(path);
    if (!in) { err = "cannot open " + path; return false; }
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) { err = path + ":" + std::to_string(n) + ": not JSON"; return false; }
        intervals.push_back(std::move(j));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: render_sample REPORT_JSON INTERVALS_JSONL|- OUT_HTML\n";
        return 2;
    }
    nlohmann::json report;
    std::vector<nlohmann::json> intervals;
    std::string err;
    if (!read_report(argv[1], report, err) || !read_intervals(argv[2], intervals, err)) {
        std::cerr << "render_sample: " << err << "\n";
        return 1;
    }
    std::ofstream out(argv[3], std::ios::binary);
    if (!out) {
        std::cerr << "render_sample: cannot write " << argv[3] << "\n";
        return 1;
    }
    if (!dpcopy::report::render_html_report(report, intervals, out, err)) {
        std::cerr << "render_sample: " << err << "\n";
        return 1;
    }
    std::cout << argv[3] << "\n";
    return 0;
}
