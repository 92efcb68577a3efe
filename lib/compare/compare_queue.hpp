// CompareQueue: takes the comparison off the worker's data path (issue #15). The worker's
// engine reports to the queue's ExchangeObserver end, which only copies each hook's
// arguments into a single-producer/single-consumer byte ring; the run's compare thread
// drains the ring into the worker's Comparator, which parses both answer streams, names
// endpoints and fills histograms there. Per hook the worker pays one bounds check and one
// short copy, instead of the parsing (docs/compare.md, docs/PERFORMANCE.md).
//
// Nothing blocks: when the ring is full, the event is dropped and its session slot marked;
// the slot's further events are dropped too, up to its next request's release that finds
// room (or its next on_session_start()). There the queue resumes: an events_lost event tells
// the consumer that the slot's streams have holes (on_events_lost), and the exchange that
// request opens is not reported either, as events of it may be missing (its client data).
// Every exchange not reported is counted `not_compared` (never half-compared). Pure C++, no
// allocation after create(), no lock, no system call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/session/engine.hpp"

namespace dpcopy::compare {

// What the queue's producer counted; readable from any thread.
struct QueueCounts {
    std::uint64_t events = 0;          // events queued
    std::uint64_t dropped_events = 0;  // events not queued (ring full, or their slot marked)
    std::uint64_t not_compared = 0;    // exchanges of marked slots: left out of the comparison
};

class CompareQueue final : public session::ExchangeObserver {
public:
    static constexpr std::size_t kMinRingBytes = 64 * 1024;
    static constexpr std::size_t kMaxRingBytes = std::size_t{1} << 32;
    // `ring_bytes` rounded up to a power of two in [kMinRingBytes, kMaxRingBytes];
    // `max_sessions` slots (the engine's). nullptr and a one-line `err` when out of range.
    static std::unique_ptr<CompareQueue> create(std::size_t ring_bytes, std::uint32_t max_sessions, std::string& err);
    ~CompareQueue() override;
    CompareQueue(const CompareQueue&) = delete;
    CompareQueue& operator=(const CompareQueue&) = delete;

    // --- producer: the worker's engine (its observer), and the worker after each burst
    void on_exchange(const session::ExchangeRecord& r) override;
    void on_session_start(std::uint32_t slot, std::uint16_t replica) override;
    void on_online_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos t) override;
    void on_client_data(std::uint32_t slot, std::uint32_t online_offset) override;
    void on_request(std::uint32_t slot, session::ConstBytes head, session::Nanos now) override;
    void on_target_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos now) override;
    // Makes what was queued visible to the consumer (also done every kPublishBytes).
    void publish() noexcept;

    // --- consumer: the compare thread
    // Delivers queued events, oldest first, to `to` (the worker's Comparator), up to
    // `max_events`; returns how many it delivered.
    std::size_t drain(session::ExchangeObserver& to, std::size_t max_events);
    bool empty() const noexcept;

    // --- any thread
    QueueCounts counts() const noexcept;
    std::size_t memory_bytes() const noexcept;

    static constexpr std::size_t kPublishBytes = 4096;

private:
    enum class Kind : std::uint8_t { wrap, exchange, session_start, online_data, client_data, request, target_data, events_lost };
    struct Header;
    struct WrapHeader;
    CompareQueue(std::size_t ring_bytes, std::uint32_t max_sessions);
    // Room for one event of `body` + `payload` bytes, or nullptr (full: the slot is marked).
    // Room for one event with `extra` bytes after its header (the header filled in), or
    // nullptr (full: the slot is marked).
    std::uint8_t* reserve(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time, std::size_t extra) noexcept;
    std::uint8_t* claim_slow(std::uint32_t slot, std::size_t size) noexcept;
    void push_bytes(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time, session::ConstBytes payload) noexcept;
    void publish_if_due() noexcept {
        if (head_ - published_head_ >= kPublishBytes) publish();
    }
    void push_chunks(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time, session::ConstBytes payload) noexcept;
    bool marked(std::uint32_t slot) const noexcept {
        return marked_count_ != 0 && slot < max_sessions_ && bit(marked_, slot);
    }
    bool settling(std::uint32_t slot) const noexcept {
        return settling_count_ != 0 && slot < max_sessions_ && bit(settling_, slot);
    }
    void mark(std::uint32_t slot) noexcept;
    // A marked slot's request finds room: events_lost queued, the slot unmarked and settling.
    bool resume(std::uint32_t slot) noexcept;
    static bool bit(const std::vector<std::uint64_t>& set, std::uint32_t slot) noexcept {
        return (set[slot >> 6] >> (slot & 63)) & 1;
    }
    static void set_bit(std::vector<std::uint64_t>& set, std::uint32_t slot, bool on) noexcept {
        const std::uint64_t m = std::uint64_t{1} << (slot & 63);
        set[slot >> 6] = on ? set[slot >> 6] | m : set[slot >> 6] & ~m;
    }
    void dispatch(const std::uint8_t* at, session::ExchangeObserver& to) const;

    std::vector<std::uint8_t> ring_;  // 64-byte aligned inside: see create()
    std::uint8_t* base_ = nullptr;
    std::size_t mask_ = 0;
    std::vector<std::uint64_t> marked_;    // one bit per slot: its events are dropped
    std::vector<std::uint64_t> settling_;  // one bit per slot: its next exchange is not reported
    std::uint32_t max_sessions_ = 0;

    // producer's cache line
    alignas(64) std::uint64_t head_ = 0;       // next byte to write
    std::uint64_t published_head_ = 0;         // what head_pub_ holds
    std::uint64_t tail_seen_ = 0;              // the consumer's tail, as last read
    std::uint64_t limit_ = 0;                  // events fit below this without asking (claim_slow)
    std::uint64_t events_ = 0, dropped_ = 0, not_compared_ = 0;
    std::uint32_t marked_count_ = 0, settling_count_ = 0;
    // shared
    alignas(64) std::atomic<std::uint64_t> head_pub_{0};
    alignas(64) std::atomic<std::uint64_t> tail_pub_{0};
    alignas(64) std::atomic<std::uint64_t> events_pub_{0}, dropped_pub_{0}, not_compared_pub_{0};
    // consumer's
    alignas(64) std::uint64_t tail_ = 0;
};

}  // namespace dpcopy::compare
