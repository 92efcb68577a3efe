// Reads typed values off a libFuzzer input, front to back; past the end every read gives 0
// (an empty span), so a harness never reads outside the input and short inputs stay valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>

namespace dpcopy_fuzz {

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) noexcept : rest_(data, size) {}
    bool empty() const noexcept { return rest_.empty(); }
    std::size_t left() const noexcept { return rest_.size(); }
    std::uint8_t u8() noexcept {
        if (rest_.empty()) return 0;
        const std::uint8_t v = rest_[0];
        rest_ = rest_.subspan(1);
        return v;
    }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint32_t u32() noexcept { return std::uint32_t{u16()} << 16 | u16(); }
    std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
        if (n > rest_.size()) n = rest_.size();
        auto s = rest_.first(n);
        rest_ = rest_.subspan(n);
        return s;
    }

private:
    std::span<const std::uint8_t> rest_;
};

// A broken invariant: says which (file:line and the condition) and aborts, so libFuzzer
// saves the input as a crash.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what, file, line);
    std::abort();
}

}  // namespace dpcopy_fuzz

#define FUZZ_CHECK(cond) ((cond) ? (void)0 : ::dpcopy_fuzz::fail(#cond, __FILE__, __LINE__))
