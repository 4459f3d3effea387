// qtzflow/grids/field.hpp — Field<T,D>: contiguous values on a D-dimensional block, C order
// (last index fastest), 64-byte aligned.
//
// A field knows the global extent of the array it belongs to and the block it holds
// (offset + extent).  Today every block is the whole array (offset 0); the distinction is kept
// so that a distributed build can split the slowest axis without changing the callers.
#pragma once

#include <algorithm>
#include <array>
#include <complex>
#include <cstddef>
#include <span>
#include <vector>

#include "core/aligned.hpp"
#include "core/error.hpp"

namespace qtzflow::grids {

using complex = std::complex<double>;

template <class T, int D>
class Field {
 public:
  using Shape = std::array<std::size_t, D>;
  using value_type = T;

  Field() = default;
  /// The whole array of the given extent (offset 0), filled with `value`.
  explicit Field(const Shape& extent, T value = T{}) : global_(extent), extent_(extent), values_(product(extent), value) {}

  const Shape& extent() const { return extent_; }
  const Shape& global_extent() const { return global_; }
  const Shape& offset() const { return offset_; }
  std::size_t size() const { return values_.size(); }

  T* data() { return values_.data(); }
  const T* data() const { return values_.data(); }
  std::span<T> values() { return values_; }
  std::span<const T> values() const { return values_; }
  T& operator[](std::size_t i) { return values_[i]; }
  const T& operator[](std::size_t i) const { return values_[i]; }
  T* begin() { return values_.data(); }
  T* end() { return values_.data() + values_.size(); }
  const T* begin() const { return values_.data(); }
  const T* end() const { return values_.data() + values_.size(); }

  /// Element at local multi-index (i0, ..., i_{D-1}).
  template <class... I>
  T& operator()(I... idx) {
    return values_[flat(idx...)];
  }
  template <class... I>
  const T& operator()(I... idx) const {
    return values_[flat(idx...)];
  }

  void fill(T v) { std::fill(values_.begin(), values_.end(), v); }
  bool same_shape(const Shape& s) const { return extent_ == s; }

  static std::size_t product(const Shape& s) {
    std::size_t p = 1;
    for (auto v : s) p *= v;
    return p;
  }

 private:
  template <class... I>
  std::size_t flat(I... idx) const {
    static_assert(sizeof...(I) == D, "one index per axis");
    const std::array<std::size_t, D> i{static_cast<std::size_t>(idx)...};
    std::size_t f = 0;
    for (int a = 0; a < D; ++a) f = f * extent_[a] + i[a];
    return f;
  }

  Shape global_{}, extent_{}, offset_{};
  std::vector<T, core::AlignedAllocator<T>> values_;
};

/// Throws InvalidArgument unless the field has the expected extent.
template <class T, int D>
void require_shape(const char* key, const Field<T, D>& f, const typename Field<T, D>::Shape& s) {
  if (!f.same_shape(s)) {
    std::string got, want;
    for (int a = 0; a < D; ++a) {
      got += (a ? "x" : "") + std::to_string(f.extent()[a]);
      want += (a ? "x" : "") + std::to_string(s[a]);
    }
    core::throw_invalid(key, "a field of extent " + got, "of extent " + want);
  }
}

}  // namespace qtzflow::grids
