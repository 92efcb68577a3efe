// The report's static parts, embedded at build time by embed_assets.py (meson.build): the
// chart library (Debian's libjs-d3), the script that draws the report and its style sheet.
#pragma once

#include <string_view>

namespace dpcopy::report::assets {

extern const std::string_view d3_js;      // /usr/share/javascript/d3/d3.min.js
extern const std::string_view report_js;  // lib/report/report.js
extern const std::string_view report_css; // lib/report/report.css

}  // namespace dpcopy::report::assets
