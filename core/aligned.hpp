// qtzflow/core/aligned.hpp — an allocator giving 64-byte aligned storage, so that FFTW plans made
// on one field can run SIMD code on every other field of the same shape (FFTW requires equal
// alignment between the planning and the executing arrays) and our loops vectorise cleanly.
#pragma once

#include <cstddef>
#include <new>

namespace qtzflow::core {

inline constexpr std::size_t kAlignment = 64;

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n == 0) return nullptr;
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kAlignment}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete (p, std::align_val_t{kAlignment}); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace qtzflow::core
