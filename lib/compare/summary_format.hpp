// Number formats of the summary line and the report (off the data path).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace dpcopy::compare {

// 14998 -> "14,998"
inline std::string with_thousands(std::uint64_t v) {
    std::string digits = std::to_string(v), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

// `v` rounded to `sig` significant digits (0 stays 0).
inline double round_significant(double v, int sig) {
    if (v == 0.0 || !std::isfinite(v)) return 0.0;
    const double scale = std::pow(10.0, sig - 1 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
    return std::round(v * scale) / scale;
}

// Milliseconds with two significant digits, never in exponent form: 0.41, 2.1, 37, 1234.
inline std::string format_ms(double ms) {
    if (ms <= 0.0) return "0";
    char buf[48];
    if (ms >= 10.0) {
        std::snprintf(buf, sizeof buf, "%.0f", ms);
        return buf;
    }
    const double rounded = round_significant(ms, 2);
    const int magnitude = static_cast<int>(std::floor(std::log10(rounded)));
    std::snprintf(buf, sizeof buf, "%.*f", magnitude >= 1 ? 0 : 1 - magnitude, rounded);
    return buf;
}

// same / compared in percent with one decimal, "100.0" only when every status is the same.
inline std::string same_percent(std::uint64_t same, std::uint64_t compared) {
    double pct = compared ? 100.0 * static_cast<double>(same) / static_cast<double>(compared) : 0.0;
    pct = std::round(pct * 10.0) / 10.0;
    if (same < compared && pct > 99.9) pct = 99.9;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", pct);
    return buf;
}

}  // namespace dpcopy::compare
