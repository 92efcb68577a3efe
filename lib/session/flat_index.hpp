// Open-addressing hash index (linear probing, backward-shift deletion: no tombstones)
// from a key to a 32-bit id. The index stores only (id, 32 hash bits); the key lives in
// the caller's objects and is compared through a predicate. Fixed capacity, no
// allocation after construction.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "lib/session/big_array.hpp"

namespace dpcopy::session {

class FlatIndex {
public:
    static constexpr std::uint32_t kNone = 0xffffffffu;

    // Room for at least `max_entries` at a load factor <= 1/2.
    explicit FlatIndex(std::uint32_t max_entries = 0)
        : slots_(std::bit_ceil(std::uint64_t{max_entries} * 2 < 16 ? std::uint64_t{16} : std::uint64_t{max_entries} * 2), std::uint64_t{0}),
          mask_(slots_.size() - 1) {}

    std::size_t size() const noexcept { return size_; }
    std::size_t slot_count() const noexcept { return slots_.size(); }

    void prefetch(std::uint64_t hash) const noexcept { __builtin_prefetch(&slots_[static_cast<std::uint32_t>(hash) & mask_]); }

    // eq(id) -> bool: does object `id` have the key being looked up?
    template <class Eq>
    std::uint32_t find(std::uint64_t hash, Eq&& eq) const noexcept {
        const auto tag = static_cast<std::uint32_t>(hash);
        for (std::uint64_t i = tag & mask_;; i = (i + 1) & mask_) {
            const std::uint64_t e = slots_[i];
            if (e == 0) return kNone;
            if (static_cast<std::uint32_t>(e >> 32) == tag) {
                const auto id = static_cast<std::uint32_t>(e) - 1;
                if (eq(id)) return id;
            }
        }
    }
    // The id in the first slot whose tag matches (no key check): a prefetch hint only.
    std::uint32_t peek(std::uint64_t hash) const noexcept {
        const auto tag = static_cast<std::uint32_t>(hash);
        for (std::uint64_t i = tag & mask_;; i = (i + 1) & mask_) {
            const std::uint64_t e = slots_[i];
            if (e == 0) return kNone;
            if (static_cast<std::uint32_t>(e >> 32) == tag) return static_cast<std::uint32_t>(e) - 1;
        }
    }
    // Inserts (caller guarantees the key is absent and size < capacity/2).
    void insert(std::uint64_t hash, std::uint32_t id) noexcept {
        const auto tag = static_cast<std::uint32_t>(hash);
        std::uint64_t i = tag & mask_;
        while (slots_[i] != 0) i = (i + 1) & mask_;
        slots_[i] = (std::uint64_t{tag} << 32) | (std::uint64_t{id} + 1);
        ++size_;
    }
    // Replaces the id of the entry holding `old_id` (same key) by `new_id`.
    bool replace(std::uint64_t hash, std::uint32_t old_id, std::uint32_t new_id) noexcept {
        const std::uint64_t i = locate(hash, old_id);
        if (i == kNoSlot) return false;
        slots_[i] = (slots_[i] & 0xffffffff00000000ULL) | (std::uint64_t{new_id} + 1);
        return true;
    }
    // Removes the entry holding `id`.
    bool erase(std::uint64_t hash, std::uint32_t id) noexcept {
        std::uint64_t i = locate(hash, id);
        if (i == kNoSlot) return false;
        // backward-shift deletion
        std::uint64_t j = i;
        for (;;) {
            j = (j + 1) & mask_;
            const std::uint64_t e = slots_[j];
            if (e == 0) break;
            const std::uint64_t home = (e >> 32) & mask_;
            // move e to i if its home is cyclically outside (i, j]
            const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                slots_[i] = e;
                i = j;
            }
        }
        slots_[i] = 0;
        --size_;
        return true;
    }

private:
    static constexpr std::uint64_t kNoSlot = ~std::uint64_t{0};
    std::uint64_t locate(std::uint64_t hash, std::uint32_t id) const noexcept {
        const auto tag = static_cast<std::uint32_t>(hash);
        const std::uint64_t want = (std::uint64_t{tag} << 32) | (std::uint64_t{id} + 1);
        for (std::uint64_t i = tag & mask_;; i = (i + 1) & mask_) {
            const std::uint64_t e = slots_[i];
            if (e == 0) return kNoSlot;
            if (e == want) return i;
        }
    }

    BigArray<std::uint64_t> slots_;
    std::uint64_t mask_;
    std::size_t size_ = 0;
};

}  // namespace dpcopy::session
