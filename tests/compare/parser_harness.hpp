// Feeds a StreamParser an answer stream in every split the tests ask for and lists what it
// recognised as "start:status" entries, so that every split must give the same list.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/compare/stream_parser.hpp"

namespace dpcopy::compare::test {

inline std::string listing(const ResponseFifo& f) {
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(f.at(i).start) + ":" + std::string(f.at(i).status.view());
    }
    return out;
}

// Feeds `bytes` cut at `cuts` (increasing offsets); the parser starts at a response.
inline std::string parse_split(Protocol proto, std::string_view bytes, const std::vector<std::size_t>& cuts,
                               bool head = false) {
    StreamParser p;
    ResponsePool pool(8);  // as many pending statuses as a test needs
    ResponseFifo f;
    f.attach(pool);
    if (head) p.expect_head(0);
    std::size_t from = 0;
    auto feed_to = [&](std::size_t to) {
        p.feed(proto, static_cast<std::uint32_t>(from), reinterpret_cast<const std::uint8_t*>(bytes.data()) + from, to - from, f);
        from = to;
    };
    for (std::size_t c : cuts) feed_to(c);
    feed_to(bytes.size());
    p.flush_within(0, static_cast<std::uint32_t>(bytes.size()), f);
    return listing(f);
}

// Every split the tests use: whole, byte by byte, each single cut, 200 random multi-cuts.
// Returns "" when all agree, else a description of the first disagreement.
inline std::string parse_every_split(Protocol proto, std::string_view bytes, std::string& whole, bool head = false) {
    whole = parse_split(proto, bytes, {}, head);
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
    if (auto got = parse_split(proto, bytes, cuts, head); got != whole) return "byte by byte: " + got;
    for (std::size_t i = 1; i < bytes.size(); ++i) {
        if (auto got = parse_split(proto, bytes, {i}, head); got != whole) return "cut at " + std::to_string(i) + ": " + got;
    }
    std::mt19937 rng(12345);
    for (int round = 0; round < 200; ++round) {
        cuts.clear();
        for (std::size_t i = 1; i < bytes.size(); ++i)
            if (rng() % 7 == 0) cuts.push_back(i);
        if (auto got = parse_split(proto, bytes, cuts, head); got != whole) return "random split " + std::to_string(round) + ": " + got;
    }
    return "";
}

inline std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
// A PostgreSQL backend message.
inline std::string pg(char type, std::string_view body) {
    return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + std::string(body);
}
// A MySQL packet.
inline std::string my(std::uint8_t seq, std::string_view payload) {
    const auto n = static_cast<std::uint32_t>(payload.size());
    return std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16), static_cast<char>(seq)} +
           std::string(payload);
}

}  // namespace dpcopy::compare::test
