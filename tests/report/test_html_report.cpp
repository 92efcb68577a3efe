// The --html-report renderer (lib/report): the data block survives hostile strings intact and
// cannot end its <script> element, empty and malformed inputs, the size of the page, thinning.
// Whether the page draws its charts is tests/report/check_html_report.sh's job (Chromium).
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/report/html_report.hpp"
#include "lib/report/report_assets.hpp"

using dpcopy::report::render_html_report;
using nlohmann::json;

namespace {

std::string render(const json& report, const std::vector<json>& intervals = {}) {
    std::ostringstream out;
    std::string err;
    REQUIRE(render_html_report(report, intervals, out, err));
    CHECK(err.empty());
    return out.str();
}

// The text of <script type="application/json" id="report-data"> up to the first "</script".
json embedded_data(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"report-data\">";
    const auto begin = html.find(open);
    REQUIRE(begin != std::string::npos);
    const auto start = begin + open.size();
    const auto end = html.find("</script", start);
    REQUIRE(end != std::string::npos);
    return json::parse(html.substr(start, end - start));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

const std::string kScriptClose = "</script><script>document.body.dataset.pwned=1</script>";
const std::string kImg = "<img src=x onerror=\"document.body.dataset.pwned=1\">";

json hostile_report() {
    json sample = {{"endpoint", kImg}, {"request", kScriptClose}, {"online_status", "<!--"},
                   {"target_status", "]]>&amp;"}};
    json endpoint = {{"endpoint", kScriptClose + kImg}, {"exchanges", 3}, {"different_status", 3},
                     {"samples", json::array({sample})}};
    return {{"input", kImg},
            {"compare", {{"exchanges", 3}, {"statuses", json::array({{{"online", kScriptClose}, {"target", kImg}, {"count", 3}}})},
                         {"endpoints", json::array({endpoint})}}}};
}

}  // namespace

TEST_CASE("hostile strings stay data: the data block round-trips and cannot close its script", "[report]") {
    const json report = hostile_report();
    const std::vector<json> intervals = {{{"t", 1.0}, {"time", kScriptClose}}};
    const std::string html = render(report, intervals);
    const json data = embedded_data(html);
    CHECK(data.at("report") == report);
    CHECK(data.at("intervals") == json(intervals));
    // Only the page's own three scripts close: data, chart library, report script.
    CHECK(occurrences(html, "</script") == 3);
    CHECK(html.find("<img") == std::string::npos);
    CHECK(html.find("<!--") == std::string::npos);
    CHECK(html.find("pwned") != std::string::npos);  // present, as escaped data
    const std::string block = dpcopy::report::embedded_data_json(report, intervals);
    CHECK(block.find_first_of("<>&") == std::string::npos);
}

TEST_CASE("the page puts data in the DOM as text only", "[report]") {
    // report.js must not hand data to an HTML parser.
    const std::string js(dpcopy::report::assets::report_js);
    CHECK(js.find("innerHTML") == std::string::npos);
    CHECK(js.find(".html(") == std::string::npos);
    CHECK(js.find("insertAdjacentHTML") == std::string::npos);
    CHECK(js.find("document.write") == std::string::npos);
}

TEST_CASE("empty inputs render a page that says so", "[report]") {
    for (const json& report : {json(nullptr), json::object(), json{{"compare", nullptr}}}) {
        const std::string html = render(report);
        const json data = embedded_data(html);
        CHECK(data.at("report").is_object());
        CHECK(data.at("intervals") == json::array());
        for (const char* id : {"headline", "cdf-overall", "status-pairs", "rates-chart", "loss-chart",
                               "diverging-endpoints"})
            CHECK(html.find(std::string("id=\"") + id + "\"") != std::string::npos);
    }
}

TEST_CASE("malformed inputs are errors, not exceptions", "[report]") {
    std::ostringstream out;
    std::string err;
    CHECK_FALSE(render_html_report(json::array(), {}, out, err));
    CHECK(err.find("array") != std::string::npos);
    err.clear();
    CHECK_FALSE(render_html_report(json::object(), {json::object(), json(3)}, out, err));
    CHECK(err.find("interval 2") != std::string::npos);
    // Invalid UTF-8 from a capture is replaced, not thrown.
    err.clear();
    const json bad_utf8 = {{"compare", {{"endpoints", json::array({{{"endpoint", std::string("GET /\xff\xfe")}}})}}}};
    CHECK(render_html_report(bad_utf8, {}, out, err));
    CHECK(out.str().find("GET /\xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);  // U+FFFD twice
}

TEST_CASE("a failed stream is reported", "[report]") {
    std::ostringstream out;
    out.setstate(std::ios::badbit);
    std::string err;
    CHECK_FALSE(render_html_report(json::object(), {}, out, err));
    CHECK_FALSE(err.empty());
}

TEST_CASE("size: the embedded library and script plus the data, little else; nothing fetched", "[report]") {
    const json report = hostile_report();
    const std::string html = render(report);
    const std::size_t assets = dpcopy::report::assets::d3_js.size() + dpcopy::report::assets::report_js.size() +
                               dpcopy::report::assets::report_css.size();
    const std::size_t data = dpcopy::report::embedded_data_json(report, {}).size();
    CHECK(dpcopy::report::assets::d3_js.size() > 100000);  // the real d3, not a stub
    CHECK(html.size() >= assets + data);
    CHECK(html.size() < assets + data + 4096);
    CHECK(html.find("<script src") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("default-src 'none'") != std::string::npos);
}

TEST_CASE("long runs are thinned to the most intervals a report holds, ends kept", "[report]") {
    std::vector<json> intervals;
    for (int i = 0; i < 5000; ++i) intervals.push_back({{"t", i + 1.0}});
    const json data = json::parse(dpcopy::report::embedded_data_json(json::object(), intervals));
    const auto& kept = data.at("intervals");
    REQUIRE(kept.size() == dpcopy::report::kMaxIntervalsEmbedded);
    CHECK(kept.front().at("t") == 1.0);
    CHECK(kept.back().at("t") == 5000.0);
    for (std::size_t i = 1; i < kept.size(); ++i) CHECK(kept[i].at("t").get<double>() > kept[i - 1].at("t").get<double>());
}
