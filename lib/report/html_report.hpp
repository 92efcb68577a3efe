// lib/report: the --html-report renderer. One self-contained HTML file, readable offline, from
// the --report JSON object (its "compare" object: docs/compare.md) and the --stats-file lines:
// headline figures, latency CDFs online vs target, the status comparison table, rates and
// loss over time, the top diverging endpoints with samples. No DPDK, no file access: the
// caller reads the inputs and owns the stream.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpcopy::report {

// Writes the report to `out`. `report` is the whole --report object (null or missing fields
// are shown as "not in this report"); `intervals` are the --stats-file lines, oldest first
// (more than kMaxIntervalsEmbedded are thinned evenly, keeping the first and the last).
// Strings from the inputs are data, never markup: the page puts them in the DOM as text.
// False with a one-line `err` when `report` is neither an object nor null, an interval is not
// an object, or the stream fails.
bool render_html_report(const nlohmann::json& report, const std::vector<nlohmann::json>& intervals,
                        std::ostream& out, std::string& err);

// The most status intervals one report holds (a day at 1 s is 86,400 lines).
inline constexpr std::size_t kMaxIntervalsEmbedded = 2000;

// The data block the page reads: {"report": ..., "intervals": [...]} as JSON text safe inside
// <script type="application/json">: '<', '>' and '&' as \u003c, \u003e, \u0026 (so no "</script"
// or "<!--" can appear), invalid UTF-8 replaced by U+FFFD. Exposed for the unit tests.
std::string embedded_data_json(const nlohmann::json& report, const std::vector<nlohmann::json>& intervals);

}  // namespace dpcopy::report
