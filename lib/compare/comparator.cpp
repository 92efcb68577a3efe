// ComparatorImpl: the ExchangeObserver hooks (data path: no allocation, no lock, no syscall,
// no logging) and Comparator::create.
#include <algorithm>
#include <bit>

#include "lib/compare/comparator_impl.hpp"

namespace dpcopy::compare {

namespace {

constexpr std::uint32_t kMaxSessions = 1u << 24;
constexpr std::uint32_t kMaxEndpoints = 1u << 16;
constexpr std::uint32_t kMaxDiffs = 1u << 20;

}  // namespace

std::unique_ptr<Comparator> Comparator::create(const CompareConfig& cfg, std::string& err) {
    if (cfg.max_sessions == 0 || cfg.max_sessions > kMaxSessions) {
        err = "compare: max_sessions must be 1.." + std::to_string(kMaxSessions);
        return nullptr;
    }
    if (cfg.max_endpoints == 0 || cfg.max_endpoints > kMaxEndpoints) {
        err = "compare: max_endpoints must be 1.." + std::to_string(kMaxEndpoints);
        return nullptr;
    }
    if (cfg.max_pending_statuses == 0 || cfg.max_pending_statuses >= ResponsePool::kNone) {
        err = "compare: max_pending_statuses must be at least 1";
        return nullptr;
    }
    if (cfg.max_diffs > kMaxDiffs) {
        err = "compare: max_diffs must be 0.." + std::to_string(kMaxDiffs);
        return nullptr;
    }
    LatencyHistogram::bucket_of(0);  // builds the bucket bounds off the data path
    return std::make_unique<ComparatorImpl>(cfg);
}

ComparatorImpl::ComparatorImpl(const CompareConfig& cfg)
    : cfg_(cfg), pending_(cfg.max_pending_statuses), slots_(cfg.max_sessions) {
    for (Slot& s : slots_) {
        s.online_fifo.attach(pending_);
        s.target_fifo.attach(pending_);
    }
    tables_.endpoints.resize(std::size_t{cfg.max_endpoints} + 1);
    tables_.other_index = cfg.max_endpoints;
    EndpointStats& other = tables_.endpoints[tables_.other_index];
    other.name.assign("other");
    other.protocol = Protocol::other;
    endpoint_slots_.assign(std::bit_ceil(std::size_t{cfg.max_endpoints} * 2), 0);
    tables_.diffs.reserve(cfg.max_diffs);
    for (Slot& s : slots_) s.endpoint = tables_.other_index;
}

std::size_t ComparatorImpl::memory_bytes() const noexcept {
    return sizeof(*this) + pending_.memory_bytes() + slots_.capacity() * sizeof(Slot) +
           tables_.endpoints.capacity() * sizeof(EndpointStats) +
           endpoint_slots_.capacity() * sizeof(std::uint32_t) + tables_.diffs.capacity() * sizeof(DiffEntry);
}

std::uint64_t ComparatorImpl::fifo_overflows() const noexcept {
    std::uint64_t n = 0;
    for (const Slot& s : slots_) n += s.online_fifo.overflows() + s.target_fifo.overflows();
    return n;
}

std::uint64_t ComparatorImpl::desyncs() const noexcept {
    std::uint64_t n = 0;
    for (const Slot& s : slots_) n += s.online.desyncs() + s.target.desyncs();
    return n;
}

void ComparatorImpl::on_session_start(std::uint32_t slot, std::uint16_t) {
    if (slot >= slots_.size()) return;
    Slot& s = slots_[slot];
    s.online.reset();
    s.target.reset();
    s.online_fifo.clear();
    s.target_fifo.clear();
    s.request.clear();
    s.endpoint = tables_.other_index;
    s.last_client_offset = 0;
    s.protocol = Protocol::unknown;
    s.protocol_guessed = s.has_client_offset = s.endpoint_overflowed = s.answer_unchecked = false;
}

// Events of the slot were lost (its queue was full): both streams have holes; each finds its
// framing again at its next anchor (the client's next data, the next release).
void ComparatorImpl::on_events_lost(std::uint32_t slot) {
    if (slot >= slots_.size()) return;
    Slot& s = slots_[slot];
    s.online.forget_framing();
    s.target.forget_framing();
    s.online_fifo.clear();
    s.target_fifo.clear();
    s.has_client_offset = false;
}

// The protocol to parse a server's bytes with: the session's, or (before any request: a
// server-first protocol, or an answer captured before the request's release) a guess from
// these first bytes.
Protocol ComparatorImpl::stream_protocol(Slot& s, const StreamParser& stream, std::uint32_t offset,
                                         session::ConstBytes first) noexcept {
    if (s.protocol == Protocol::unknown) {
        s.protocol = detect_response_protocol(first);
        if (s.protocol == Protocol::unknown) {
            // a lone 'N', 'S' or 'G' opening the stream: PostgreSQL's answer to SSLRequest or
            // GSSENCRequest (libpq's default sslmode=prefer), a guess the request confirms
            s.protocol = offset == 0 && is_pg_encryption_answer(first) ? Protocol::postgresql : Protocol::other;
            s.protocol_guessed = true;
        }
    } else if (s.protocol_guessed && offset == 0) {
        // a stream's first bytes: an answer a parser recognises (an HTTP status line after a
        // request in a private format) decides after all
        const Protocol answered = detect_response_protocol(first);
        if (answered != Protocol::unknown) switch_protocol(s, answered);
    } else if (s.answer_unchecked && (offset == 0 || stream.response_begins_at(offset))) {
        // the first answer since a request named the protocol: a private binary format whose
        // requests only look like MySQL or PostgreSQL is "other" for good
        s.answer_unchecked = false;
        if (!can_begin_answer(s.protocol, first)) {
            switch_protocol(s, Protocol::other);
            s.endpoint = tables_.other_index;
            s.request.clear();
        }
    }
    return s.protocol;
}

// A guess of "other" gives way to a recognised protocol: a stream still at its start begins
// with a response; one parsed as "other" so far starts again at its next anchor.
void ComparatorImpl::switch_protocol(Slot& s, Protocol p) noexcept {
    s.protocol = p;
    s.protocol_guessed = false;
    for (StreamParser* stream : {&s.online, &s.target}) {
        if (stream->position() == 0) stream->reset();
        else stream->forget_framing();
    }
    s.online_fifo.clear();
    s.target_fifo.clear();
    if (s.has_client_offset) s.online.client_anchor(s.last_client_offset);
}

void ComparatorImpl::on_online_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos) {
    if (slot >= slots_.size() || payload.empty()) return;
    Slot& s = slots_[slot];
    const Protocol proto = stream_protocol(s, s.online, offset, payload);
    s.online.feed(proto, offset, payload.data(), payload.size(), s.online_fifo);
}

void ComparatorImpl::on_client_data(std::uint32_t slot, std::uint32_t online_offset) {
    if (slot >= slots_.size()) return;
    Slot& s = slots_[slot];
    s.last_client_offset = online_offset;
    s.has_client_offset = true;
    s.online.client_anchor(online_offset);
}

void ComparatorImpl::on_target_data(std::uint32_t slot, std::uint32_t offset, session::ConstBytes payload, session::Nanos) {
    if (slot >= slots_.size() || payload.empty()) return;
    Slot& s = slots_[slot];
    const Protocol proto = stream_protocol(s, s.target, offset, payload);
    s.target.feed(proto, offset, payload.data(), payload.size(), s.target_fifo);
}

// The first request decides, unless a server's bytes did (a recognised protocol). A guess of
// "other" from the server's bytes gives way to a protocol the request shows; a request no
// parser recognises leaves "other" a guess (stream_protocol).
void ComparatorImpl::decide_protocol(Slot& s, session::ConstBytes head) noexcept {
    if (s.protocol != Protocol::unknown && !s.protocol_guessed) return;
    const Protocol requested = detect_request_protocol(head);
    if (s.protocol == Protocol::unknown) {
        s.protocol = requested;
        s.protocol_guessed = requested == Protocol::other;
        s.answer_unchecked = !s.protocol_guessed;
    } else if (requested == s.protocol) {
        s.protocol_guessed = false;  // the guess was right: what was parsed stands
    } else if (requested != Protocol::other) {
        switch_protocol(s, requested);
        s.answer_unchecked = true;
    }
}

void ComparatorImpl::on_request(std::uint32_t slot, session::ConstBytes head, session::Nanos) {
    if (slot >= slots_.size()) return;
    Slot& s = slots_[slot];
    decide_protocol(s, head);
    EndpointName& name = scratch_name_;
    const bool head_request = describe_request(s.protocol, head, name, s.request);
    s.endpoint = endpoint_index(s.protocol, name, s.endpoint, s.endpoint_overflowed);
    // The target's answer begins where its stream has got to, unless a framed response is
    // still arriving (then its framing finds the next one).
    s.target.anchor_here();
    if (head_request) {
        s.target.expect_head(s.target.position());
        const auto ahead = static_cast<std::int32_t>(s.last_client_offset - s.online.position());
        if (s.has_client_offset && (ahead > 0 || (ahead == 0 && s.online.state() == StreamParser::State::response_start)))
            s.online.expect_head(s.last_client_offset);
    }
}

// `previous`: the slot's endpoint so far; most sessions ask for the same one again (no hash).
std::uint32_t ComparatorImpl::endpoint_index(Protocol proto, const EndpointName& name, std::uint32_t previous,
                                             bool& overflowed) noexcept {
    overflowed = false;
    if (previous != tables_.other_index) {
        const EndpointStats& ep = tables_.endpoints[previous];
        if (ep.protocol == proto && ep.name == name) return previous;
    }
    if (name.view() == "other") return tables_.other_index;
    const std::uint32_t hash = fnv1a32(reinterpret_cast<const std::uint8_t*>(name.data), name.len, 2166136261u ^ static_cast<std::uint32_t>(proto));
    const std::size_t mask = endpoint_slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        std::uint32_t& entry = endpoint_slots_[i];
        if (entry == 0) {
            if (tables_.endpoints_used == cfg_.max_endpoints) break;
            const std::uint32_t index = tables_.endpoints_used++;
            tables_.endpoints[index].name = name;
            tables_.endpoints[index].protocol = proto;
            entry = index + 1;
            return index;
        }
        const EndpointStats& ep = tables_.endpoints[entry - 1];
        if (ep.protocol == proto && ep.name == name) return entry - 1;
    }
    overflowed = true;
    return tables_.other_index;
}

// The target's answer is what began after the request went: the engine's count leaves out
// bytes it took for the rest of an earlier answer (ExchangeRecord::target_received), but when
// a response begins in them, the earlier answer was over (the target answered it shorter)
// and they are this answer: its length runs from that response's start.
void ComparatorImpl::on_exchange(const session::ExchangeRecord& record) {
    ++totals_.exchanges;
    session::ExchangeRecord r = record;
    JoinedStatus online, target;
    bool online_known = false, target_known = false;
    Slot* s = r.slot < slots_.size() ? &slots_[r.slot] : nullptr;
    std::uint32_t endpoint = tables_.other_index;
    if (s) {
        const std::uint32_t received = std::max(r.target_received, r.target_response_bytes);
        s->online.flush_within(r.online_begin, r.online_response_bytes, s->online_fifo);
        s->target.flush_within(r.target_begin, received, s->target_fifo);
        online_known = s->online_fifo.take(r.online_begin, r.online_response_bytes, online);
        std::uint32_t first = r.target_begin;
        target_known = s->target_fifo.take(r.target_begin, received, target, &first);
        if (target_known) r.target_response_bytes = received - (first - r.target_begin);
        endpoint = s->endpoint;
        if (s->endpoint_overflowed) ++tables_.endpoints_other;
    }
    EndpointStats& ep = tables_.endpoints[endpoint];
    count_exchange(ep, r, online, online_known, target, target_known);
    if (online_known && target_known && !(online == target)) log_diff(ep, s, endpoint, r, online, target);
}

void ComparatorImpl::count_exchange(EndpointStats& ep, const session::ExchangeRecord& r, const JoinedStatus& online,
                                    bool online_known, const JoinedStatus& target, bool target_known) noexcept {
    ++ep.exchanges;
    if (r.online_response_bytes > 0) {
        const std::size_t b = LatencyHistogram::bucket_of(r.online_response_time);
        ep.online.record_in(b), tables_.online.record_in(b);
    }
    if (r.target_response_bytes > 0) {
        const std::size_t b = LatencyHistogram::bucket_of(r.target_response_time);
        ep.target.record_in(b), tables_.target.record_in(b);
    }
    ep.statuses.add(online, target);
    tables_.statuses.add(online, target);
    if (!online_known || !target_known) {
        ++ep.unknown_status;
        ++totals_.unknown_status;
        return;
    }
    ++totals_.compared;
    if (!(online == target)) {
        ++ep.different_status;
        ++totals_.different_status;
        return;
    }
    ++ep.same_status;
    ++totals_.same_status;
    if (r.online_response_bytes != r.target_response_bytes) {
        ++ep.length_mismatch;
        ++totals_.length_mismatch;
    }
}

void ComparatorImpl::log_diff(EndpointStats& ep, const Slot* s, std::uint32_t endpoint, const session::ExchangeRecord& r,
                              const JoinedStatus& online, const JoinedStatus& target) noexcept {
    if (tables_.diffs.size() >= cfg_.max_diffs) {
        ++tables_.diffs_not_logged;
        return;
    }
    DiffEntry& d = tables_.diffs.emplace_back();  // reserved at create(): no allocation
    d.endpoint = endpoint;
    d.replica = r.replica;
    d.protocol = s ? s->protocol : Protocol::other;
    d.online_status = online;
    d.target_status = target;
    d.online_bytes = r.online_response_bytes;
    d.target_bytes = r.target_response_bytes;
    d.online_ns = r.online_response_time;
    d.target_ns = r.target_response_time;
    if (s) d.request = s->request;
    if (ep.sample_count < EndpointStats::kSamples) ep.samples[ep.sample_count++] = static_cast<std::uint32_t>(tables_.diffs.size() - 1);
}

}  // namespace dpcopy::compare
