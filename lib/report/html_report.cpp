#include "lib/report/html_report.hpp"

#include <string_view>

#include "lib/report/report_assets.hpp"

namespace dpcopy::report {
namespace {

// No network fetch of any kind (default-src 'none'); the page's own inline script and style run.
constexpr std::string_view kHead =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>dpcopy comparison report</title>\n<style>\n";

// The containers report.js fills; each chart gets data-points="N" once drawn.
constexpr std::string_view kBody =
    "</style>\n</head>\n<body>\n"
    "<h1>dpcopy: target compared with production</h1>\n"
    "<noscript><p class=\"empty\">This report draws its charts with JavaScript: enable it "
    "to see them.</p></noscript>\n"
    "<section id=\"headline\"><h2>Headline</h2></section>\n"
    "<section id=\"latency\"><h2>Latency, online vs target (CDF)</h2>\n"
    "<h3>All endpoints</h3><div id=\"cdf-overall\" class=\"chart\"></div>\n"
    "<div id=\"cdf-endpoints\" class=\"small-multiples\"></div></section>\n"
    "<section id=\"statuses\"><h2>Status pairs (online &#8594; target)</h2>\n"
    "<div id=\"status-pairs\"></div></section>\n"
    "<section id=\"over-time\"><h2>Over time</h2>\n"
    "<div class=\"small-multiples\"><div><h3>Rates</h3><div id=\"rates-chart\" class=\"chart\"></div></div>\n"
    "<div><h3>Loss and differing statuses</h3><div id=\"loss-chart\" class=\"chart\"></div></div></div>"
    "</section>\n"
    "<section id=\"diverging\"><h2>Top diverging endpoints</h2>\n"
    "<div id=\"diverging-endpoints\"></div></section>\n"
    "<script type=\"application/json\" id=\"report-data\">";

constexpr std::string_view kScripts1 = "</script>\n<script id=\"chart-library\">\n";
constexpr std::string_view kScripts2 = "\n</script>\n<script id=\"report-script\">\n";
constexpr std::string_view kTail = "\n</script>\n</body>\n</html>\n";

// Evenly spaced picks, the first and the last included.
nlohmann::json thinned_intervals(const std::vector<nlohmann::json>& intervals) {
    nlohmann::json out = nlohmann::json::array();
    const std::size_t n = intervals.size();
    if (n <= kMaxIntervalsEmbedded) {
        for (const auto& line : intervals) out.push_back(line);
        return out;
    }
    for (std::size_t i = 0; i < kMaxIntervalsEmbedded; ++i)
        out.push_back(intervals[i * (n - 1) / (kMaxIntervalsEmbedded - 1)]);
    return out;
}

// JSON text that cannot end its <script> element or open a comment there: every '<', '>'
// and '&' (which JSON allows only inside strings) as a \u escape.
std::string script_safe(const std::string& json_text) {
    std::string out;
    out.reserve(json_text.size() + json_text.size() / 16);
    for (char c : json_text) {
        switch (c) {
            case '<': out += "\\u003c"; break;
            case '>': out += "\\u003e"; break;
            case '&': out += "\\u0026"; break;
            default: out += c;
        }
    }
    return out;
}

bool check_inputs(const nlohmann::json& report, const std::vector<nlohmann::json>& intervals,
                  std::string& err) {
    if (!report.is_object() && !report.is_null()) {
        err = std::string("html report: the report is a JSON ") + report.type_name() + ", not an object";
        return false;
    }
    for (std::size_t i = 0; i < intervals.size(); ++i) {
        if (!intervals[i].is_object()) {
            err = "html report: status interval " + std::to_string(i + 1) + " is a JSON " +
                  intervals[i].type_name() + ", not an object";
            return false;
        }
    }
    return true;
}

}  // namespace

std::string embedded_data_json(const nlohmann::json& report, const std::vector<nlohmann::json>& intervals) {
    nlohmann::json data = {{"report", report.is_null() ? nlohmann::json::object() : report},
                           {"intervals", thinned_intervals(intervals)}};
    return script_safe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool render_html_report(const nlohmann::json& report, const std::vector<nlohmann::json>& intervals,
                        std::ostream& out, std::string& err) {
    if (!check_inputs(report, intervals, err)) return false;
    const std::string data = embedded_data_json(report, intervals);
    out << kHead << assets::report_css << kBody << data << kScripts1 << assets::d3_js << kScripts2
        << assets::report_js << kTail;
    out.flush();
    if (!out) {
        err = "html report: could not write the report";
        return false;
    }
    return true;
}

}  // namespace dpcopy::report
