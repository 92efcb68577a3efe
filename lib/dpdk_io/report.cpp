#include "lib/dpdk_io/report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace dpcopy::io {

std::string_view to_string(EndReason r) noexcept {
    switch (r) {
        case EndReason::input_finished: return "input_finished";
        case EndReason::signal: return "signal";
        case EndReason::duration: return "duration";
        case EndReason::error: return "error";
    }
    return "error";
}

std::string iso8601_utc(ReportClock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    const long frac = static_cast<long>(ms - static_cast<long long>(secs) * 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[64];
    std::snprintf(out, sizeof out, "%s.%03ldZ", date, frac);
    return out;
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "";
    return name;
}

namespace {
std::string hide_secret(std::string_view value) {
    const auto colon = value.find(':');
    return colon == std::string_view::npos ? "***" : std::string(value.substr(0, colon + 1)) + "***";
}
}  // namespace

std::vector<std::string> command_line(int argc, char* const* argv, std::span<const std::string_view> secret_options) {
    std::vector<std::string> v;
    bool hide_next = false;
    for (int i = 0; i < argc && argv[i]; ++i) {
        const std::string_view a = argv[i];
        if (hide_next) {
            v.push_back(hide_secret(a));
            hide_next = false;
            continue;
        }
        std::string arg(a);
        for (std::string_view secret : secret_options) {
            if (a == secret) hide_next = true;
            else if (a.size() > secret.size() && a.starts_with(secret) && a[secret.size()] == '=')
                arg = std::string(secret) + "=" + hide_secret(a.substr(secret.size() + 1));
        }
        v.push_back(std::move(arg));
    }
    return v;
}

ReportJson report_header(const RunHeader& h) {
    ReportJson j = ReportJson::object();
    j["program"] = h.program;
    j["version"] = h.version;
    j["start_time"] = iso8601_utc(h.start);
    j["end_time"] = iso8601_utc(h.end);
    const auto d = std::chrono::duration_cast<std::chrono::microseconds>(h.end - h.start).count();
    j["duration_s"] = static_cast<double>(d > 0 ? d : 0) / 1e6;
    j["host"] = h.host.empty() ? host_name() : h.host;
    j["options"] = h.options;
    j["end_reason"] = std::string(to_string(h.end_reason));
    return j;
}

void add_report_section(ReportJson& report, std::string_view name, ReportJson section) {
    report[std::string(name)] = std::move(section);
}

ReportJson counters_object(std::span<const std::string_view> names, std::span<const std::uint64_t> values) {
    ReportJson o = ReportJson::object();
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) o[std::string(names[i])] = values[i];
    return o;
}

namespace {

std::string scalar(const ReportJson& v) {
    return v.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

// Compact with ", " and ": " (nlohmann's compact form has no spaces).
void compact(const ReportJson& v, std::string& out) {
    if (v.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& [key, value] : v.items()) {
            if (!first) out += ", ";
            first = false;
            out += scalar(ReportJson(key));
            out += ": ";
            compact(value, out);
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            compact(v[i], out);
        }
        out += ']';
    } else {
        out += scalar(v);
    }
}

}  // namespace

std::string report_text(const ReportJson& report) {
    if (!report.is_object() || report.empty()) {
        std::string s;
        compact(report, s);
        return s + "\n";
    }
    std::string s = "{\n";
    std::size_t left = report.size();
    for (const auto& [key, value] : report.items()) {
        s += "  " + scalar(ReportJson(key)) + ": ";
        compact(value, s);
        s += --left ? ",\n" : "\n";
    }
    return s + "}\n";
}

bool write_report(const std::string& path, const ReportJson& report, std::string& err) {
    const std::string doc = report_text(report);
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
        err = "cannot write the report " + path + ": " + std::strerror(errno);
        return false;
    }
    const bool written = std::fwrite(doc.data(), 1, doc.size(), f) == doc.size();
    const int saved = errno;
    if (std::fclose(f) != 0 || !written) {
        err = "cannot write the report " + path + ": " + std::strerror(written ? errno : saved);
        return false;
    }
    return true;
}

}  // namespace dpcopy::io
