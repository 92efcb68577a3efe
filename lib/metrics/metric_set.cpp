#include "lib/metrics/metric_set.hpp"

namespace dpcopy::metrics {

bool valid_metric_name(const std::string& name) noexcept {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool valid_label_name(const std::string& name) noexcept {
    return valid_metric_name(name) && name.find(':') == std::string::npos;
}

}  // namespace dpcopy::metrics
