// The counter machinery every layer shares: a list of counters written once as an
// X-macro, X(name, description), gives an enum, the names and the descriptions
// (DPCOPY_DEFINE_COUNTERS), and CounterSet holds one value per counter, indexed by that
// enum, so status lines, reports and telemetry print every list generically.
// Header-only and dependency-free: lib/session, lib/control and lib/dpdk_io all include it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpcopy::counters {

template <class Enum, std::size_t N>
struct CounterSet {
    static constexpr std::size_t size = N;
    std::array<std::uint64_t, N> v{};

    std::uint64_t& operator[](Enum c) noexcept { return v[static_cast<std::size_t>(c)]; }
    std::uint64_t operator[](Enum c) const noexcept { return v[static_cast<std::size_t>(c)]; }
    CounterSet& operator+=(const CounterSet& o) noexcept {
        for (std::size_t i = 0; i < N; ++i) v[i] += o.v[i];
        return *this;
    }
};

}  // namespace dpcopy::counters

#define DPCOPY_COUNTER_ENUMERATOR_(name, desc) name,
#define DPCOPY_COUNTER_NAME_(name, desc) std::string_view{#name},
#define DPCOPY_COUNTER_DESCRIPTION_(name, desc) std::string_view{desc},

// In the current namespace: enum class `Enum` (one enumerator per entry of LIST, then
// count_), `count` (the number of counters), and the arrays `names` and `descriptions`.
#define DPCOPY_DEFINE_COUNTERS(Enum, count, names, descriptions, LIST)                              \
    enum class Enum : std::uint16_t { LIST(DPCOPY_COUNTER_ENUMERATOR_) count_ };                    \
    inline constexpr std::size_t count = static_cast<std::size_t>(Enum::count_);                    \
    inline constexpr std::array<std::string_view, count> names{LIST(DPCOPY_COUNTER_NAME_)};         \
    inline constexpr std::array<std::string_view, count> descriptions{LIST(DPCOPY_COUNTER_DESCRIPTION_)};
