// Internal to lib/proto: bounds-checked reading of MySQL wire fields (little-endian integers,
// length-encoded integers, NUL-terminated strings) inside one packet's payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/proto/mysql_auth.hpp"

namespace dpcopy::proto::mysql::wire {

// A packet's header at the start of a stream.
struct Header {
    std::uint32_t payload_len = 0;
    std::uint8_t seq = 0;
};

inline std::optional<Header> read_header(ConstBytes stream) noexcept {
    if (stream.size() < header_size) return std::nullopt;
    Header h;
    h.payload_len = static_cast<std::uint32_t>(stream[0]) | (static_cast<std::uint32_t>(stream[1]) << 8) |
                    (static_cast<std::uint32_t>(stream[2]) << 16);
    h.seq = stream[3];
    return h;
}

inline void write_header(Bytes out, std::uint32_t payload_len, std::uint8_t seq) noexcept {
    out[0] = static_cast<std::uint8_t>(payload_len);
    out[1] = static_cast<std::uint8_t>(payload_len >> 8);
    out[2] = static_cast<std::uint8_t>(payload_len >> 16);
    out[3] = seq;
}

// Reads forward through [pos, end) of `s`; every read checks the bound first and leaves the
// cursor where it was on failure.
class Cursor {
public:
    Cursor(ConstBytes s, std::size_t pos, std::size_t end) noexcept : s_(s), pos_(pos), end_(end) {}

    std::size_t pos() const noexcept { return pos_; }
    std::size_t left() const noexcept { return end_ - pos_; }
    bool at_end() const noexcept { return pos_ == end_; }

    bool skip(std::size_t n) noexcept {
        if (left() < n) return false;
        pos_ += n;
        return true;
    }
    bool u8(std::uint8_t& v) noexcept {
        if (left() < 1) return false;
        v = s_[pos_++];
        return true;
    }
    // n <= 8 bytes, little-endian.
    bool le(std::size_t n, std::uint64_t& v) noexcept {
        if (left() < n) return false;
        v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(s_[pos_ + i]) << (8 * i);
        pos_ += n;
        return true;
    }
    bool le16(std::uint16_t& v) noexcept {
        std::uint64_t x = 0;
        if (!le(2, x)) return false;
        v = static_cast<std::uint16_t>(x);
        return true;
    }
    bool le32(std::uint32_t& v) noexcept {
        std::uint64_t x = 0;
        if (!le(4, x)) return false;
        v = static_cast<std::uint32_t>(x);
        return true;
    }
    // Length-encoded integer; 0xFB (NULL) and 0xFF are refused.
    bool lenenc(std::uint64_t& v) noexcept {
        const std::size_t save = pos_;
        std::uint8_t first = 0;
        if (!u8(first)) return false;
        bool good = true;
        if (first < 0xFB) {
            v = first;
        } else if (first == 0xFC) {
            good = le(2, v);
        } else if (first == 0xFD) {
            good = le(3, v);
        } else if (first == 0xFE) {
            good = le(8, v);
        } else {
            good = false;
        }
        if (!good) pos_ = save;
        return good;
    }
    // A string up to a NUL (consumed, not part of the field). Without a NUL: false, unless
    // `to_end_ok`, when the string runs to the end.
    bool cstring(Field& f, bool to_end_ok) noexcept {
        std::size_t i = pos_;
        while (i < end_ && s_[i] != 0) ++i;
        if (i == end_ && !to_end_ok) return false;
        f = Field{static_cast<std::uint32_t>(pos_), static_cast<std::uint32_t>(i - pos_)};
        pos_ = i < end_ ? i + 1 : i;
        return true;
    }
    bool bytes(std::size_t n, Field& f) noexcept {
        if (left() < n) return false;
        f = Field{static_cast<std::uint32_t>(pos_), static_cast<std::uint32_t>(n)};
        pos_ += n;
        return true;
    }

private:
    ConstBytes s_;
    std::size_t pos_;
    std::size_t end_;
};

}  // namespace dpcopy::proto::mysql::wire
