// dpcopy's counters as Prometheus samples (--metrics): the run snapshot the status line and
// the report are made from, under stable names (docs/operations.md, "Prometheus"). Pure.
#pragma once

#include "lib/dpdk_io/run_stats.hpp"
#include "lib/metrics/metric_set.hpp"

namespace dpcopy::io {

// dpcopy_<counter>_total for every session, parse and io counter; dpcopy_lost_total and
// dpcopy_filtered_total by reason; gauges for sessions, workers, elapsed time; per-port
// counters labelled port= and role= (mirror, tx, port); the control ring's with -s.
metrics::MetricSet run_metrics(const RunSnapshot& s);

}  // namespace dpcopy::io
