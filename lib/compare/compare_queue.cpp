// CompareQueue (compare_queue.hpp): the ring's producer (the ExchangeObserver hooks, on the
// worker's data path) and consumer (drain, on the compare thread).
#include "lib/compare/compare_queue.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <type_traits>

namespace dpcopy::compare {

// Every event: this header, then `extra` bytes (an ExchangeRecord, or payload), the whole
// rounded up to 8 bytes. A `wrap` event (only kind and size written) fills the ring's end
// when the next event does not fit there.
struct CompareQueue::Header {
    Kind kind;
    std::uint8_t unused;
    std::uint16_t extra;
    std::uint32_t size;    // the whole event's bytes
    std::uint32_t slot;
    std::uint32_t offset;  // stream offset; the replica for session_start
    std::uint64_t time;
};
struct CompareQueue::WrapHeader {
    Kind kind;
    std::uint8_t unused;
    std::uint16_t extra;
    std::uint32_t size;
};

namespace {

constexpr std::size_t kHeaderBytes = 24;
constexpr std::size_t kMaxChunk = 16 * 1024;  // payload bytes per event (a longer one is split)
static_assert(std::is_trivially_copyable_v<session::ExchangeRecord>);
static_assert(sizeof(session::ExchangeRecord) < 0xffff);

constexpr std::size_t round8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

}  // namespace

std::unique_ptr<CompareQueue> CompareQueue::create(std::size_t ring_bytes, std::uint32_t max_sessions, std::string& err) {
    static_assert(sizeof(Header) == kHeaderBytes);
    if (ring_bytes > kMaxRingBytes) {
        err = "compare: the queue may hold at most " + std::to_string(kMaxRingBytes >> 20) + " MiB";
        return nullptr;
    }
    if (max_sessions == 0) {
        err = "compare: the queue needs at least one session slot";
        return nullptr;
    }
    const std::size_t bytes = std::bit_ceil(std::max(ring_bytes, kMinRingBytes));
    return std::unique_ptr<CompareQueue>(new CompareQueue(bytes, max_sessions));
}

CompareQueue::CompareQueue(std::size_t ring_bytes, std::uint32_t max_sessions)
    : ring_(ring_bytes + 64), mask_(ring_bytes - 1), marked_((max_sessions + 63) / 64, 0),
      settling_((max_sessions + 63) / 64, 0), max_sessions_(max_sessions) {
    const auto addr = reinterpret_cast<std::uintptr_t>(ring_.data());
    base_ = ring_.data() + ((64 - addr % 64) % 64);
}

CompareQueue::~CompareQueue() = default;

std::size_t CompareQueue::memory_bytes() const noexcept {
    return sizeof(*this) + ring_.capacity() + (marked_.capacity() + settling_.capacity()) * sizeof(std::uint64_t);
}

void CompareQueue::mark(std::uint32_t slot) noexcept {
    if (slot >= max_sessions_ || marked(slot)) return;
    set_bit(marked_, slot, true);
    ++marked_count_;
}

// A marked slot's next request: if an events_lost event finds room, the slot's events flow
// again from this request on, and the exchange it opens is not reported (settling).
bool CompareQueue::resume(std::uint32_t slot) noexcept {
    if (!reserve(Kind::events_lost, slot, 0, 0, 0)) return false;  // still full: counted dropped
    set_bit(marked_, slot, false);
    --marked_count_;
    if (!bit(settling_, slot)) {
        set_bit(settling_, slot, true);
        ++settling_count_;
    }
    return true;
}

// Room for `size` bytes at the head, past a wrap event when the ring's end is too short; or
// nullptr when the consumer has not freed enough (the event is dropped and its slot marked).
// Sets limit_: up to where the next events may go without asking (the lap's end, or what the
// consumer has freed).
std::uint8_t* CompareQueue::claim_slow(std::uint32_t slot, std::size_t size) noexcept {
    const std::size_t capacity = mask_ + 1;
    std::size_t pos = head_ & mask_;
    const std::size_t to_end = capacity - pos;
    const std::size_t need = size <= to_end ? size : to_end + size;
    if (head_ + need - tail_seen_ > capacity) {
        tail_seen_ = tail_pub_.load(std::memory_order_acquire);
        if (head_ + need - tail_seen_ > capacity) {
            dropped_pub_.store(++dropped_, std::memory_order_relaxed);
            mark(slot);
            limit_ = head_;  // asks again next time
            return nullptr;
        }
    }
    if (size > to_end) {  // the ring's end: a wrap event, then the event at the start
        new (base_ + pos) WrapHeader{Kind::wrap, 0, 0, static_cast<std::uint32_t>(to_end)};
        head_ += to_end;
        pos = 0;
    }
    limit_ = std::min(tail_seen_ + capacity, (head_ | mask_) + 1);
    head_ += size;
    return base_ + pos;
}

inline std::uint8_t* CompareQueue::reserve(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time,
                                           std::size_t extra) noexcept {
    const std::size_t size = round8(kHeaderBytes + extra);
    std::uint8_t* at;
    if (head_ + size <= limit_) [[likely]] {
        at = base_ + (head_ & mask_);
        head_ += size;
    } else if (!(at = claim_slow(slot, size))) {
        return nullptr;
    }
    new (at) Header{kind, 0, static_cast<std::uint16_t>(extra), static_cast<std::uint32_t>(size), slot, offset, time};
    ++events_;
    return at + kHeaderBytes;
}

void CompareQueue::publish() noexcept {
    if (head_ == published_head_) return;
    head_pub_.store(head_, std::memory_order_release);
    published_head_ = head_;
    events_pub_.store(events_, std::memory_order_relaxed);
}

inline void CompareQueue::push_bytes(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time,
                                     session::ConstBytes payload) noexcept {
    if (marked(slot)) [[unlikely]] {
        dropped_pub_.store(++dropped_, std::memory_order_relaxed);
        return;
    }
    if (payload.size() > kMaxChunk) [[unlikely]] {
        push_chunks(kind, slot, offset, time, payload);
        return;
    }
    std::uint8_t* at = reserve(kind, slot, offset, time, payload.size());
    if (at && !payload.empty()) std::memcpy(at, payload.data(), payload.size());
    publish_if_due();
}

// A payload longer than kMaxChunk: in chunks, each at its own offset.
void CompareQueue::push_chunks(Kind kind, std::uint32_t slot, std::uint32_t offset, std::uint64_t time,
                               session::ConstBytes payload) noexcept {
    while (!payload.empty()) {
        const std::size_t n = std::min(payload.size(), kMaxChunk);
        std::uint8_t* at = reserve(kind, slot, offset, time, n);
        if (!at) return;
        std::memcpy(at, payload.data(), n);
        payload = payload.subspan(n);
        offset += static_cast<std::uint32_t>(n);
    }
    publish_if_due();
}

void CompareQueue::on_exchange(const session::ExchangeRecord& r) {
    if (marked(r.slot)) {
        ++dropped_, ++not_compared_;
        dropped_pub_.store(dropped_, std::memory_order_relaxed);
        not_compared_pub_.store(not_compared_, std::memory_order_relaxed);
        return;
    }
    if (settling(r.slot)) [[unlikely]] {
        set_bit(settling_, r.slot, false);  // the exchange the queue resumed in: not reported
        --settling_count_;
        not_compared_pub_.store(++not_compared_, std::memory_order_relaxed);
        return;
    }
    std::uint8_t* at = reserve(Kind::exchange, r.slot, 0, 0, sizeof r);
    if (!at) {
        not_compared_pub_.store(++not_compared_, std::memory_order_relaxed);
        return;
    }
    std::memcpy(at, &r, sizeof r);
    publish_if_due();
}

void CompareQueue::on_session_start(std::uint32_t slot, std::uint16_t replica) {
    const bool was_marked = marked(slot);
    if (!reserve(Kind::session_start, slot, replica, 0, 0)) return;
    if (was_marked) {  // the slot starts again: its events are whole from here
        set_bit(marked_, slot, false);
        --marked_count_;
    }
    if (settling(slot)) {
        set_bit(settling_, slot, false);
        --settling_count_;
    }
    publish_if_due();
}

void CompareQueue::on_online_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos t) {
    push_bytes(Kind::online_data, slot, offset, t, payload);
}

void CompareQueue::on_client_data(std::uint32_t slot, std::uint32_t online_offset) {
    push_bytes(Kind::client_data, slot, online_offset, 0, {});
}

void CompareQueue::on_request(std::uint32_t slot, session::ConstBytes head, session::Nanos now) {
    if (marked(slot) && !resume(slot)) [[unlikely]] return;
    push_bytes(Kind::request, slot, 0, now, head.first(std::min(head.size(), kRequestHeadBytes)));
}

void CompareQueue::on_target_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos now) {
    push_bytes(Kind::target_data, slot, offset, now, payload);
}

void CompareQueue::dispatch(const std::uint8_t* at, session::ExchangeObserver& to) const {
    const Header& h = *std::launder(reinterpret_cast<const Header*>(at));
    const session::ConstBytes extra(at + kHeaderBytes, h.extra);
    switch (h.kind) {
        case Kind::exchange: {
            session::ExchangeRecord r;
            std::memcpy(&r, extra.data(), sizeof r);
            to.on_exchange(r);
            break;
        }
        case Kind::session_start: to.on_session_start(h.slot, static_cast<std::uint16_t>(h.offset)); break;
        case Kind::online_data: to.on_online_data(h.slot, h.offset, extra, h.time); break;
        case Kind::client_data: to.on_client_data(h.slot, h.offset); break;
        case Kind::request: to.on_request(h.slot, extra, h.time); break;
        case Kind::target_data: to.on_target_data(h.slot, h.offset, extra, h.time); break;
        case Kind::events_lost: to.on_events_lost(h.slot); break;
        case Kind::wrap: break;
    }
}

std::size_t CompareQueue::drain(session::ExchangeObserver& to, std::size_t max_events) {
    const std::uint64_t head = head_pub_.load(std::memory_order_acquire);
    std::size_t delivered = 0;
    while (tail_ != head && delivered < max_events) {
        const std::uint8_t* at = base_ + (tail_ & mask_);
        const WrapHeader& h = *std::launder(reinterpret_cast<const WrapHeader*>(at));  // kind and size
        if (h.kind != Kind::wrap) {
            dispatch(at, to);
            ++delivered;
        }
        tail_ += h.size;
    }
    tail_pub_.store(tail_, std::memory_order_release);
    return delivered;
}

bool CompareQueue::empty() const noexcept {
    return tail_ == head_pub_.load(std::memory_order_acquire);
}

QueueCounts CompareQueue::counts() const noexcept {
    return QueueCounts{events_pub_.load(std::memory_order_relaxed), dropped_pub_.load(std::memory_order_relaxed),
                       not_compared_pub_.load(std::memory_order_relaxed)};
}

}  // namespace dpcopy::compare
