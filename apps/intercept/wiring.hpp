// InterceptOptions -> InterceptCore's configuration (address, control port, payload,
// --allow as address ranges, the --key-file key). Pure (no DPDK); tests/control.
#pragma once

#include <optional>
#include <string>

#include "apps/intercept/options.hpp"
#include "lib/control/control_intercept.hpp"

namespace dpcopy::cli {

// nullopt and err (one line, no program name) when the key file cannot be read.
std::optional<io::InterceptConfig> intercept_core_config(const InterceptOptions& opt, std::string& err);

}  // namespace dpcopy::cli
