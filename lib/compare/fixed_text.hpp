// Small fixed-capacity strings for the data path (statuses, endpoint names, request lines):
// no allocation, truncated at capacity. And the protocols lib/compare recognises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace dpcopy::compare {

enum class Protocol : std::uint8_t { unknown, http, redis, postgresql, mysql, other };

constexpr std::string_view protocol_name(Protocol p) noexcept {
    switch (p) {
        case Protocol::http: return "http";
        case Protocol::redis: return "redis";
        case Protocol::postgresql: return "postgresql";
        case Protocol::mysql: return "mysql";
        case Protocol::other: return "other";
        case Protocol::unknown: break;
    }
    return "unknown";
}

// Up to Cap - 1 characters (the last byte holds the length).
template <std::size_t Cap>
struct FixedText {
    static_assert(Cap >= 2 && Cap <= 256);
    static constexpr std::size_t kMax = Cap - 1;
    char data[kMax] = {};
    std::uint8_t len = 0;

    std::string_view view() const noexcept { return {data, len}; }
    bool empty() const noexcept { return len == 0; }
    std::size_t room() const noexcept { return kMax - len; }
    void clear() noexcept { len = 0; }
    // Appends what fits; returns false if something was cut.
    bool append(std::string_view s) noexcept {
        const std::size_t n = s.size() < room() ? s.size() : room();
        std::memcpy(data + len, s.data(), n);
        len = static_cast<std::uint8_t>(len + n);
        return n == s.size();
    }
    bool push(char c) noexcept {
        if (len >= kMax) return false;
        data[len++] = c;
        return true;
    }
    void assign(std::string_view s) noexcept {
        len = 0;
        append(s);
    }
    friend bool operator==(const FixedText& a, const FixedText& b) noexcept { return a.view() == b.view(); }
};

using Status = FixedText<12>;        // one response's status: "200", "-WRONGTYPE", "ERR 1146", "#1a2b3c4d"
using JoinedStatus = FixedText<32>;  // an exchange's statuses joined by ',' ("200,404"); '+' ends a cut list
using EndpointName = FixedText<48>;  // "GET /users/{id}"
using RequestLine = FixedText<64>;   // the request's first line or command, printable ASCII

// FNV-1a, 32 bits.
inline std::uint32_t fnv1a32(const std::uint8_t* p, std::size_t n, std::uint32_t h = 2166136261u) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

}  // namespace dpcopy::compare
