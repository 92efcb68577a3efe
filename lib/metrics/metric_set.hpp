// A set of metric samples as a program exposes them: plain values, so the code that turns
// a program's counters into samples is pure and unit-tested, and only exporter.cpp knows
// the Prometheus library.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dpcopy::metrics {

enum class Kind { counter, gauge };

struct Sample {
    std::string name;   // a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total
    std::string help;
    Kind kind = Kind::counter;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

using MetricSet = std::vector<Sample>;

// True for a valid metric or label name (label names without ':').
bool valid_metric_name(const std::string& name) noexcept;
bool valid_label_name(const std::string& name) noexcept;

}  // namespace dpcopy::metrics
