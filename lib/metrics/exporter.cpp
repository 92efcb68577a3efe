#include "lib/metrics/exporter.hpp"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <exception>
#include <map>

namespace dpcopy::metrics {

namespace {

// prometheus-cpp asks a Collectable for its families at each scrape.
class SnapshotCollectable : public prometheus::Collectable {
public:
    explicit SnapshotCollectable(Exporter::Collect collect) : collect_(std::move(collect)) {}

    std::vector<prometheus::MetricFamily> Collect() const override {
        std::vector<prometheus::MetricFamily> families;
        std::map<std::string, std::size_t> index;  // family name -> position, in first-seen order
        for (const Sample& s : collect_()) {
            auto [it, fresh] = index.emplace(s.name, families.size());
            if (fresh) {
                prometheus::MetricFamily f;
                f.name = s.name;
                f.help = s.help;
                f.type = s.kind == Kind::counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
                families.push_back(std::move(f));
            }
            prometheus::ClientMetric m;
            for (const auto& [k, v] : s.labels) m.label.push_back({k, v});
            if (s.kind == Kind::counter) m.counter.value = s.value;
            else m.gauge.value = s.value;
            families[it->second].metric.push_back(std::move(m));
        }
        return families;
    }

private:
    Exporter::Collect collect_;
};

}  // namespace

struct Exporter::Impl {
    std::shared_ptr<SnapshotCollectable> collectable;
    std::unique_ptr<prometheus::Exposer> exposer;
};

std::unique_ptr<Exporter> Exporter::start(const std::string& bind, Collect collect, std::string& err) {
    auto impl = std::make_unique<Impl>();
    impl->collectable = std::make_shared<SnapshotCollectable>(std::move(collect));
    try {
        impl->exposer = std::make_unique<prometheus::Exposer>(bind, 1);  // one serving thread
    } catch (const std::exception& e) {
        err = "cannot serve metrics on " + bind + ": " + e.what();
        return nullptr;
    }
    impl->exposer->RegisterCollectable(impl->collectable);
    return std::unique_ptr<Exporter>(new Exporter(std::move(impl)));
}

Exporter::Exporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Exporter::~Exporter() = default;

int Exporter::port() const {
    const auto ports = impl_->exposer->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
}

}  // namespace dpcopy::metrics
