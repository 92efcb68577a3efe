// CompareSummary: the merge of every worker's Comparator, off the data path, and its
// outputs: the report's "compare" object, the summary line, the diff log (docs/compare.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/compare/comparator_impl.hpp"
#include "lib/compare/summary_format.hpp"

namespace dpcopy::compare {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

using PairKey = std::pair<std::string, std::string>;
using PairCounts = std::map<PairKey, std::uint64_t>;

struct MergedEndpoint {
    std::string name;
    Protocol protocol = Protocol::other;
    std::uint64_t exchanges = 0, same_status = 0, different_status = 0, length_mismatch = 0, unknown_status = 0;
    LatencyHistogram online, target;
    PairCounts statuses;
    std::vector<ordered_json> samples;
};

double ns_to_ms(std::uint64_t ns) noexcept { return std::round(static_cast<double>(ns) / 1e3) / 1e3; }

ordered_json diff_json(const DiffEntry& d, const EndpointStats& ep) {
    ordered_json j;
    j["endpoint"] = std::string(ep.name.view());
    j["protocol"] = std::string(protocol_name(d.protocol));
    j["request"] = std::string(d.request.view());
    j["online_status"] = std::string(d.online_status.view());
    j["target_status"] = std::string(d.target_status.view());
    j["online_bytes"] = d.online_bytes;
    j["target_bytes"] = d.target_bytes;
    j["online_ms"] = ns_to_ms(d.online_ns);
    j["target_ms"] = ns_to_ms(d.target_ns);
    j["replica"] = d.replica;
    return j;
}

template <std::size_t N>
void merge_pairs(PairCounts& into, const StatusPairs<N>& from) {
    for (std::uint32_t i = 0; i < from.used; ++i) {
        const StatusPair& p = from.pairs[i];
        into[{std::string(p.online.view()), std::string(p.target.view())}] += p.count;
    }
}

json pairs_json(const PairCounts& pairs) {
    std::vector<std::pair<PairKey, std::uint64_t>> sorted(pairs.begin(), pairs.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    json out = json::array();
    for (const auto& [key, count] : sorted) out.push_back({{"online", key.first}, {"target", key.second}, {"count", count}});
    return out;
}

json percentiles_json(const LatencyHistogram& h) {
    return {{"p50", round_significant(h.percentile_ms(0.50), 3)},
            {"p90", round_significant(h.percentile_ms(0.90), 3)},
            {"p99", round_significant(h.percentile_ms(0.99), 3)},
            {"p999", round_significant(h.percentile_ms(0.999), 3)}};
}

json counts_json(const LatencyHistogram& h) {
    json out = json::array();
    for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) out.push_back(h.count(i));
    return out;
}

}  // namespace

struct CompareSummary::Impl {
    std::uint64_t exchanges = 0, compared = 0, same_status = 0, different_status = 0, length_mismatch = 0,
                  unknown_status = 0, endpoints_other = 0, diffs_not_logged = 0;
    LatencyHistogram online, target;
    PairCounts statuses;
    std::map<std::pair<Protocol, std::string>, MergedEndpoint> endpoints;
    std::vector<ordered_json> diffs;

    void merge_endpoint(const WorkerTables& t, std::size_t index);
    json endpoint_json(const MergedEndpoint& e) const;
};

void CompareSummary::Impl::merge_endpoint(const WorkerTables& t, std::size_t index) {
    const EndpointStats& ep = t.endpoints[index];
    if (ep.exchanges == 0) return;
    MergedEndpoint& m = endpoints[{ep.protocol, std::string(ep.name.view())}];
    m.name = ep.name.view();
    m.protocol = ep.protocol;
    m.exchanges += ep.exchanges;
    m.same_status += ep.same_status;
    m.different_status += ep.different_status;
    m.length_mismatch += ep.length_mismatch;
    m.unknown_status += ep.unknown_status;
    m.online.merge(ep.online);
    m.target.merge(ep.target);
    merge_pairs(m.statuses, ep.statuses);
    for (std::uint8_t i = 0; i < ep.sample_count && m.samples.size() < EndpointStats::kSamples; ++i)
        m.samples.push_back(diff_json(t.diffs[ep.samples[i]], ep));
}

json CompareSummary::Impl::endpoint_json(const MergedEndpoint& e) const {
    json samples = json::array();
    for (const ordered_json& s : e.samples) samples.push_back(json::parse(s.dump()));
    return {{"endpoint", e.name},
            {"protocol", std::string(protocol_name(e.protocol))},
            {"exchanges", e.exchanges},
            {"same_status", e.same_status},
            {"different_status", e.different_status},
            {"length_mismatch", e.length_mismatch},
            {"unknown_status", e.unknown_status},
            {"statuses", pairs_json(e.statuses)},
            {"latency_ms", {{"online", percentiles_json(e.online)}, {"target", percentiles_json(e.target)}}},
            {"histogram", {{"online", counts_json(e.online)}, {"target", counts_json(e.target)}}},
            {"samples", std::move(samples)}};
}

CompareSummary::CompareSummary() : impl_(std::make_unique<Impl>()) {}
CompareSummary::~CompareSummary() = default;
CompareSummary::CompareSummary(CompareSummary&&) noexcept = default;
CompareSummary& CompareSummary::operator=(CompareSummary&&) noexcept = default;

std::uint64_t CompareSummary::exchanges() const noexcept { return impl_->exchanges; }

void CompareSummary::merge(const Comparator& c) {
    const auto* worker = dynamic_cast<const ComparatorImpl*>(&c);
    if (!worker) return;
    const CompareTotals& t = worker->totals();
    Impl& m = *impl_;
    m.exchanges += t.exchanges;
    m.compared += t.compared;
    m.same_status += t.same_status;
    m.different_status += t.different_status;
    m.length_mismatch += t.length_mismatch;
    m.unknown_status += t.unknown_status;
    const WorkerTables& w = worker->tables();
    m.endpoints_other += w.endpoints_other;
    m.diffs_not_logged += w.diffs_not_logged;
    m.online.merge(w.online);
    m.target.merge(w.target);
    merge_pairs(m.statuses, w.statuses);
    for (std::size_t i = 0; i < w.endpoints.size(); ++i) m.merge_endpoint(w, i);
    for (const DiffEntry& d : w.diffs) m.diffs.push_back(diff_json(d, w.endpoints[d.endpoint]));
}

nlohmann::json CompareSummary::to_json(std::size_t top_endpoints) const {
    const Impl& m = *impl_;
    json upper = json::array();
    for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) upper.push_back(round_significant(LatencyHistogram::upper_us(i), 3));
    std::vector<const MergedEndpoint*> order;
    for (const auto& [key, e] : m.endpoints) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const MergedEndpoint* a, const MergedEndpoint* b) { return a->exchanges > b->exchanges; });
    if (order.size() > top_endpoints) order.resize(top_endpoints);
    json endpoints = json::array();
    for (const MergedEndpoint* e : order) endpoints.push_back(m.endpoint_json(*e));
    return {{"exchanges", m.exchanges},
            {"compared", m.compared},
            {"same_status", m.same_status},
            {"different_status", m.different_status},
            {"length_mismatch", m.length_mismatch},
            {"unknown_status", m.unknown_status},
            {"latency_ms", {{"online", percentiles_json(m.online)}, {"target", percentiles_json(m.target)}}},
            {"histogram", {{"upper_us", std::move(upper)}, {"online", counts_json(m.online)}, {"target", counts_json(m.target)}}},
            {"statuses", pairs_json(m.statuses)},
            {"endpoints", std::move(endpoints)},
            {"endpoints_other", m.endpoints_other},
            {"diffs_logged", m.diffs.size()},
            {"diffs_not_logged", m.diffs_not_logged}};
}

std::string CompareSummary::summary_line() const {
    const Impl& m = *impl_;
    std::string line = "compared " + with_thousands(m.compared) + " exchanges";
    if (m.compared > 0) {
        line += ": " + same_percent(m.same_status, m.compared) + " % same status, " + with_thousands(m.length_mismatch) +
                (m.length_mismatch == 1 ? " length mismatch" : " length mismatches");
    }
    if (m.online.total() > 0 || m.target.total() > 0) {
        line += "; latency p50 " + format_ms(m.online.percentile_ms(0.5)) + " → " + format_ms(m.target.percentile_ms(0.5)) +
                " ms, p99 " + format_ms(m.online.percentile_ms(0.99)) + " → " + format_ms(m.target.percentile_ms(0.99)) + " ms";
    }
    if (m.unknown_status > 0) {
        line += "\n" + with_thousands(m.unknown_status) + " of " + with_thousands(m.exchanges) +
                " exchanges not compared: a status could not be read";
    }
    return line;
}

std::size_t CompareSummary::write_diff_log(std::ostream& out) const {
    const Impl& m = *impl_;
    std::size_t lines = 0;
    for (const ordered_json& d : m.diffs) {
        out << d.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        ++lines;
    }
    if (m.diffs_not_logged > 0) {
        out << json{{"diffs_not_logged", m.diffs_not_logged}}.dump() << '\n';
        ++lines;
    }
    return lines;
}

}  // namespace dpcopy::compare
