// qtzflow/grids/distributed_fft.hpp — FFTW's MPI transforms on slabs of axis 0 (issue 17).
//
// Layout (FFTW's, with FFTW_MPI_TRANSPOSED_OUT on forward and FFTW_MPI_TRANSPOSED_IN on backward,
// which saves one all-to-all exchange per transform; a Strang step costs two):
//  - Real space: each rank holds rows [first, first + count) of axis 0 of the n0 × n1 (× n2)
//    array, C order, as a Field block (offset[0] = first).  FFTW chooses the blocks:
//    ⌈n0/P⌉ rows on every rank but the last ones.
//  - Spectrum, transposed: storage order (axis 1, axis 0 [, axis 2]); each rank holds a block of
//    axis 1.  `spectral_axes[s]` is the grid axis of storage axis s.  For the real transform the
//    last grid axis is halved (modes j = 0 … n/2, as in fft.hpp).
//  - Transforms are FFTW's, unnormalised: backward(forward(x)) = N·x, N the global point count.
//  - ComplexFft transforms in place; its fields must have `capacity` values of storage, which
//    make_field() provides (FFTW's exchanges use more room than the block holds).
//  - RealFft keeps real fields unpadded (so every other loop runs over contiguous rows): forward
//    copies the block into the spectrum's storage with FFTW's padded rows of 2(n_last/2 + 1)
//    doubles and transforms in place; backward transforms in place and copies out.  Two extra
//    streaming copies per transform pair.
//  - Planning is collective: every rank constructs the same plan together.  Rank 0 reads the
//    wisdom cache and broadcasts it, and gathers every rank's wisdom before writing it back, so
//    all ranks plan alike.  Threads: FFTW's OpenMP threads inside each rank, as in fft.hpp.
// Limits: D = 2 or 3 (for D = 1 construction throws InvalidArgument).  A 1D grid is not distributed: FFTW's distributed 1D transform has no r2c
// form and scrambles its output order, and 10⁸ points of a 1D grid fit in one node's memory.
// Every rank must hold at least one row in both layouts: InvalidArgument names grid.n[0] or
// grid.n[1] and the rank count otherwise.  Built without MPI, construction throws
// InvalidArgument (there is nothing to distribute over).
#pragma once

#include <array>
#include <cstddef>

#include "grids/fft.hpp"
#include "grids/field.hpp"

namespace qtzflow::grids {

/// Where one rank's data sit in real space and in the transposed spectrum.
template <int D>
struct SlabLayout {
  using Shape = std::array<std::size_t, D>;
  Shape global{}, local{}, offset{};                             ///< real space (grid order)
  Shape spectral_global{}, spectral_local{}, spectral_offset{};  ///< spectrum (storage order)
  std::array<int, D> spectral_axes{};                            ///< grid axis of storage axis s
  std::size_t capacity = 0;                                      ///< complex values per field
  /// Flat index of the first real-space value of this rank's block in the global C-order array.
  std::size_t first_flat() const { return offset[0] * (Field<double, D>::product(global) / global[0]); }
};

/// The layout of a distributed transform of real-space extent `global` (`real`: the r2c
/// transform's half spectrum) on the ranks of this run, without planning it.  Collective; throws
/// InvalidArgument (on every rank) when a rank would hold no rows, or for D = 1.
template <int D>
SlabLayout<D> slab_layout(const typename SlabLayout<D>::Shape& global, bool real);

/// Distributed in-place complex-to-complex transform (see the header comment).
template <int D>
class DistributedComplexFft {
 public:
  using Shape = std::array<std::size_t, D>;
  DistributedComplexFft(const Shape& global, PlanRigor rigor = PlanRigor::measure);

  const SlabLayout<D>& layout() const { return layout_; }
  /// A real-space block with room for the transform.
  Field<complex, D> make_field() const;
  /// Real space (block) → transposed spectrum, in the same storage.
  void forward(Field<complex, D>& f) const;
  /// Transposed spectrum → real space, in the same storage.
  void backward(Field<complex, D>& f) const;
  double normalisation() const { return 1.0 / static_cast<double>(Field<complex, D>::product(layout_.global)); }

 private:
  SlabLayout<D> layout_;
  detail::PlanHandle fwd_, bwd_;
};

/// Distributed real-to-half-complex transform and its inverse (see the header comment).
template <int D>
class DistributedRealFft {
 public:
  using Shape = std::array<std::size_t, D>;
  DistributedRealFft(const Shape& global, PlanRigor rigor = PlanRigor::measure);

  const SlabLayout<D>& layout() const { return layout_; }
  /// A real-space block (no spare storage needed: the spectrum holds the padded copy).
  Field<double, D> make_real() const;
  /// A transposed half-spectrum block with room for the transform.
  Field<complex, D> make_spectrum() const;
  void forward(const Field<double, D>& in, Field<complex, D>& spectrum) const;
  /// Destroys `spectrum`.
  void backward(Field<complex, D>& spectrum, Field<double, D>& out) const;
  double normalisation() const { return 1.0 / static_cast<double>(Field<double, D>::product(layout_.global)); }

 private:
  SlabLayout<D> layout_;
  detail::PlanHandle fwd_, bwd_;
};

/// FFTW-MPI's global transpose of an n0 × m array of doubles distributed by rows: each rank's rows
/// [first(), first() + count()) of n0 become its rows [t_first(), t_first() + t_count()) of the
/// m × n0 transpose, and back.  Both sides use FFTW's default blocks (⌈n0/P⌉, ⌈m/P⌉ rows), so the
/// n0 side is the slab of the distributed transforms above.  The Fokker–Planck engine makes its
/// axis-0 lines local this way.  Planning is collective; construction refuses (InvalidArgument
/// naming grid.n[0]) a rank without rows.
class DistributedTranspose {
 public:
  DistributedTranspose(std::size_t n0, std::size_t m, PlanRigor rigor = PlanRigor::measure);
  std::size_t first() const { return first_; }
  std::size_t count() const { return count_; }
  std::size_t t_first() const { return t_first_; }
  std::size_t t_count() const { return t_count_; }
  /// Doubles of storage each array handed to forward/backward must have.
  std::size_t capacity() const { return capacity_; }
  /// in: count() × m rows, out: t_count() × n0 rows.  `in` may be overwritten.
  void forward(double* in, double* out) const;
  /// in: t_count() × n0 rows, out: count() × m rows.  `in` may be overwritten.
  void backward(double* in, double* out) const;

 private:
  std::size_t n0_ = 0, m_ = 0, first_ = 0, count_ = 0, t_first_ = 0, t_count_ = 0, capacity_ = 0;
  detail::PlanHandle fwd_, bwd_;
};

extern template SlabLayout<1> slab_layout<1>(const SlabLayout<1>::Shape&, bool);
extern template SlabLayout<2> slab_layout<2>(const SlabLayout<2>::Shape&, bool);
extern template SlabLayout<3> slab_layout<3>(const SlabLayout<3>::Shape&, bool);
extern template class DistributedComplexFft<1>;
extern template class DistributedComplexFft<2>;
extern template class DistributedComplexFft<3>;
extern template class DistributedRealFft<1>;
extern template class DistributedRealFft<2>;
extern template class DistributedRealFft<3>;

}  // namespace qtzflow::grids
