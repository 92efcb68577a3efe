// Fixed-size array for the engine's large tables: allocated once, 2 MiB-aligned and
// marked for transparent huge pages (MADV_HUGEPAGE) when it is large, so random access
// over millions of sessions does not pay a TLB miss per packet. No allocation after
// construction; move-only.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dpcopy::session {

struct NoInit {};

template <class T>
class BigArray {
public:
    static constexpr std::size_t kHuge = std::size_t{2} << 20;

    BigArray() = default;
    explicit BigArray(std::size_t n, const T& init = T{}) { allocate(n, &init); }
    BigArray(std::size_t n, NoInit) { allocate(n, nullptr); }
    BigArray(const BigArray&) = delete;
    BigArray& operator=(const BigArray&) = delete;
    BigArray(BigArray&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    BigArray& operator=(BigArray&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~BigArray() { release(); }

    T& operator[](std::size_t i) noexcept { return p_[i]; }
    const T& operator[](std::size_t i) const noexcept { return p_[i]; }
    T* data() noexcept { return p_; }
    const T* data() const noexcept { return p_; }
    std::size_t size() const noexcept { return n_; }
    T* begin() noexcept { return p_; }
    T* end() noexcept { return p_ + n_; }

private:
    void allocate(std::size_t n, const T* init) {
        n_ = n;
        if (n == 0) return;
        std::size_t bytes = n * sizeof(T);
        void* mem = nullptr;
        if (bytes >= kHuge) {
            bytes = (bytes + kHuge - 1) / kHuge * kHuge;
            mem = std::aligned_alloc(kHuge, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
            if (mem) (void)::madvise(mem, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
        } else {
            mem = std::aligned_alloc(alignof(T) > 64 ? alignof(T) : 64, (bytes + 63) / 64 * 64);
        }
        if (!mem) throw std::bad_alloc();
        p_ = static_cast<T*>(mem);
        if (init) std::uninitialized_fill_n(p_, n, *init);
    }
    void release() noexcept {
        if (!p_) return;
        std::destroy_n(p_, n_);
        std::free(p_);
        p_ = nullptr;
        n_ = 0;
    }

    T* p_ = nullptr;
    std::size_t n_ = 0;
};

}  // namespace dpcopy::session
