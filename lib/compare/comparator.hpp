// lib/compare: compares the online server's answers (from the capture or mirror) with the
// target's, exchange by exchange: protocol-aware status, length, latency, per endpoint.
// Pure C++ (no rte_* header): one Comparator per worker, fed by the session engine through
// session::ExchangeObserver on the data path (no allocation, no lock, no syscall there);
// merged into a CompareSummary off the data path (docs/compare.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "lib/session/engine.hpp"

namespace dpcopy::compare {

struct CompareConfig {
    std::uint32_t max_sessions = 1u << 16;  // session slots (the engine's max_sessions)
    std::uint32_t max_endpoints = 256;      // per worker; further endpoints count as "other"
    std::uint32_t max_diffs = 1000;         // diff-log entries kept per worker; the rest counted
    // Response statuses parsed and not yet matched to an exchange, per worker (both streams of
    // every slot): offline at --speed 0 the capture runs ahead of the replay by up to the
    // engine's queue (the run sets the engine's max_queued_segments); beyond, a status is lost
    // and its exchange counted unknown.
    std::uint32_t max_pending_statuses = 1u << 18;
};

// The comparator's totals: plain numbers, written only by the worker that owns the
// comparator, per exchange. Another thread reads the copy the worker publishes with its
// other counters (lib/dpdk_io: WorkerPub, every ms), or these once the worker has stopped.
struct CompareTotals {
    std::uint64_t exchanges = 0;         // exchanges recorded
    std::uint64_t compared = 0;          // both statuses known
    std::uint64_t same_status = 0;
    std::uint64_t different_status = 0;
    std::uint64_t length_mismatch = 0;   // compared, same status, different length
    std::uint64_t unknown_status = 0;    // one side's status could not be read
};

class Comparator : public session::ExchangeObserver {
public:
    // nullptr and a one-line `err` when the config is out of range.
    static std::unique_ptr<Comparator> create(const CompareConfig& cfg, std::string& err);
    ~Comparator() override = default;
    virtual const CompareTotals& totals() const noexcept = 0;
    // Bytes allocated up front (per-slot state, endpoint table, diffs), for docs and sizing.
    virtual std::size_t memory_bytes() const noexcept = 0;
};

// The merge of every worker's Comparator, built off the data path once the workers have
// stopped (merge() reads state the worker owns).
class CompareSummary {
public:
    CompareSummary();
    ~CompareSummary();
    CompareSummary(CompareSummary&&) noexcept;
    CompareSummary& operator=(CompareSummary&&) noexcept;
    void merge(const Comparator& c);
    // The report's "compare" object (schema in docs/compare.md); `top_endpoints` endpoints at most,
    // most exchanges first.
    nlohmann::json to_json(std::size_t top_endpoints = 50) const;
    // One or two human lines: "compared 14,998 exchanges: 99.7 % same status, 12 length
    // mismatches; latency p50 0.41 → 0.52 ms, p99 2.1 → 3.4 ms" (docs/compare.md).
    std::string summary_line() const;
    // --diff-log: one JSON object per line per exchange whose status differs, then, if some
    // were not kept, one line {"diffs_not_logged": N}. Returns the number of lines written.
    std::size_t write_diff_log(std::ostream& out) const;
    std::uint64_t exchanges() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dpcopy::compare
