// Byte-order helpers over byte spans. All wire access in lib/rewrite and
// lib/session goes through these: no pointer casts to packed structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace dpcopy::net {

using Bytes = std::span<std::uint8_t>;
using ConstBytes = std::span<const std::uint8_t>;

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

// Span-checked variants: the caller guarantees off + width <= size (asserted in debug builds
// by the span's own bounds); used where the offset comes from a parsed header.
inline std::uint16_t load_be16(ConstBytes b, std::size_t off) noexcept { return load_be16(b.data() + off); }
inline std::uint32_t load_be32(ConstBytes b, std::size_t off) noexcept { return load_be32(b.data() + off); }
inline void store_be16(Bytes b, std::size_t off, std::uint16_t v) noexcept { store_be16(b.data() + off, v); }
inline void store_be32(Bytes b, std::size_t off, std::uint32_t v) noexcept { store_be32(b.data() + off, v); }

}  // namespace dpcopy::net
