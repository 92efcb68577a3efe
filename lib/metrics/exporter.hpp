// --metrics ADDR:PORT: a Prometheus endpoint (GET /metrics, text format) served by
// prometheus-cpp's exposer from its own thread, off the data path. Each scrape calls
// `collect`, which reads the counters the workers already publish (a snapshot), so the
// workers do nothing for it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lib/metrics/metric_set.hpp"

namespace dpcopy::metrics {

class Exporter {
public:
    using Collect = std::function<MetricSet()>;

    // Listens on `bind` ("10.0.0.1:9464", "[::1]:9464", "0.0.0.0:0" for any free port).
    // nullptr with `err` set (one line) when it cannot.
    static std::unique_ptr<Exporter> start(const std::string& bind, Collect collect, std::string& err);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    int port() const;  // the port it listens on (the one chosen for port 0)

private:
    struct Impl;
    explicit Exporter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dpcopy::metrics
