// CopyOptions -> the data plane's configuration. Pure (no DPDK), unit-tested in
// tests/dpdk_io_pure.
#pragma once

#include "apps/copy/options.hpp"
#include "lib/dpdk_io/dataplane.hpp"

namespace dpcopy::cli {

// Everything but the capture reader and the log stream, which main opens.
io::DataplaneConfig dataplane_config(const CopyOptions& opt);

}  // namespace dpcopy::cli
