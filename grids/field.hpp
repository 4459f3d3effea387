// qtzflow/grids/field.hpp — Field<T,D>: contiguous values on a D-dimensional block, C order
// (last index fastest), 64-byte aligned.
//
// A field knows the global extent of the array it belongs to and the block it holds
// (offset + extent).  An ordinary field is the whole array (offset 0).  A distributed engine
// (MPI, issue 17) holds one block of rows of axis 0 per rank: `distributed()` is then true, and
// every sum over the field must be completed over the ranks (`sum_over_blocks`).  A block may own
// more storage than its values (`capacity`): FFTW's distributed transforms use the spare room as
// scratch; size(), values() and the iterators cover the block's values only.
#pragma once

#include <algorithm>
#include <array>
#include <complex>
#include <cstddef>
#include <span>
#include <vector>

#include "core/aligned.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"

namespace qtzflow::grids {

using complex = std::complex<double>;

template <class T, int D>
class Field {
 public:
  using Shape = std::array<std::size_t, D>;
  using value_type = T;

  Field() = default;
  /// The whole array of the given extent (offset 0), filled with `value`.
  explicit Field(const Shape& extent, T value = T{}) : global_(extent), extent_(extent), size_(product(extent)), values_(size_, value) {}
  /// The block of `extent` values at `offset` of an array of extent `global`, with storage for at
  /// least `capacity` values; `distributed`: the other blocks live on other MPI ranks.
  Field(const Shape& global, const Shape& extent, const Shape& offset, bool distributed, std::size_t capacity = 0, T value = T{})
      : global_(global),
        extent_(extent),
        offset_(offset),
        size_(product(extent)),
        distributed_(distributed),
        values_(std::max(size_, capacity), value) {}

  const Shape& extent() const { return extent_; }
  const Shape& global_extent() const { return global_; }
  const Shape& offset() const { return offset_; }
  std::size_t size() const { return size_; }
  /// Values of storage (≥ size(); more for the blocks of distributed transforms).
  std::size_t capacity() const { return values_.size(); }
  /// Whether the array's other blocks live on other MPI ranks.
  bool distributed() const { return distributed_; }
  /// Whether the field holds the whole array.
  bool whole() const { return extent_ == global_; }

  T* data() { return values_.data(); }
  const T* data() const { return values_.data(); }
  std::span<T> values() { return {values_.data(), size_}; }
  std::span<const T> values() const { return {values_.data(), size_}; }
  T& operator[](std::size_t i) { return values_[i]; }
  const T& operator[](std::size_t i) const { return values_[i]; }
  T* begin() { return values_.data(); }
  T* end() { return values_.data() + size_; }
  const T* begin() const { return values_.data(); }
  const T* end() const { return values_.data() + size_; }

  /// Element at local multi-index (i0, ..., i_{D-1}).
  template <class... I>
  T& operator()(I... idx) {
    return values_[flat(idx...)];
  }
  template <class... I>
  const T& operator()(I... idx) const {
    return values_[flat(idx...)];
  }

  void fill(T v) { std::fill(begin(), end(), v); }
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
  std::size_t size_ = 0;
  bool distributed_ = false;
  std::vector<T, core::AlignedAllocator<T>> values_;
};

/// Completes a sum over a field's values: the sum over all ranks' blocks when the field is
/// distributed (collective: every rank must call it), the local sum otherwise.
template <class T, int D>
double sum_over_blocks(const Field<T, D>& f, double local_sum) {
  return f.distributed() ? core::mpi::allreduce_sum(local_sum) : local_sum;
}

/// Rows [first, first + count) of axis 0 of a whole field, as a block of that field (not
/// distributed: a copy for this process).  Used to hand one rank its part of a serial field.
template <class T, int D>
Field<T, D> rows_of(const Field<T, D>& whole, std::size_t first, std::size_t count, bool distributed = false) {
  auto extent = whole.extent(), offset = typename Field<T, D>::Shape{};
  if (first + count > extent[0])
    core::throw_invalid("rows", std::to_string(first) + ".." + std::to_string(first + count),
                        "within the " + std::to_string(extent[0]) + " rows of axis 0");
  extent[0] = count;
  offset[0] = first;
  Field<T, D> out(whole.global_extent(), extent, offset, distributed);
  const std::size_t row = Field<T, D>::product(whole.extent()) / (whole.extent()[0] ? whole.extent()[0] : 1);
  std::copy(whole.data() + first * row, whole.data() + (first + count) * row, out.data());
  return out;
}

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

/// The field of rows [first, first + count) of axis 0: cut from `in` when it is the whole array,
/// `in` itself when it is that block already (how a distributed engine takes a field it was
/// given whole or as this rank's block).  Throws InvalidArgument naming `key` otherwise.
template <class T, int D>
Field<T, D> as_block(const char* key, const Field<T, D>& in, std::size_t first, std::size_t count, bool distributed) {
  if (in.whole()) return count == in.extent()[0] && !distributed ? in : rows_of(in, first, count, distributed);
  if (in.offset()[0] != first || in.extent()[0] != count)
    core::throw_invalid(key, "a block of rows " + std::to_string(in.offset()[0]) + ".." + std::to_string(in.offset()[0] + in.extent()[0]),
                        "the whole grid or this rank's rows " + std::to_string(first) + ".." + std::to_string(first + count));
  return in;
}

/// Where this rank's values lie in `in`, for the block of `extent` values at `offset` of an array
/// of extent `global`: inside `in` when it is the whole array, at its start when it is that block.
/// Throws InvalidArgument naming `key` otherwise (no copy: for reading a state being set).
template <class T, int D>
const T* block_values(const char* key, const Field<T, D>& in, const typename Field<T, D>::Shape& global, const typename Field<T, D>::Shape& extent,
                      const typename Field<T, D>::Shape& offset) {
  if (in.extent() == global) return in.data() + offset[0] * (Field<T, D>::product(global) / global[0]);
  if (in.global_extent() == global && in.extent() == extent && in.offset() == offset) return in.data();
  if (in.global_extent() == global)
    core::throw_invalid(key, "a block of rows " + std::to_string(in.offset()[0]) + ".." + std::to_string(in.offset()[0] + in.extent()[0]),
                        "the whole grid or this rank's rows " + std::to_string(offset[0]) + ".." + std::to_string(offset[0] + extent[0]));
  require_shape(key, in, global);  // throws, naming both extents
  return nullptr;
}

}  // namespace qtzflow::grids
