// qtzflow/grids/fft.hpp — RAII FFTW plans on Field<T,D>, made once and executed many times.
//
// Conventions (as in FFTW, written into the API so nobody has to guess):
//  - forward:  X_k = Σ_j x_j e^{-2πi jk/n}   (per axis, all axes transformed)
//  - backward: x_j = Σ_k X_k e^{+2πi jk/n}   — UNNORMALISED: backward(forward(x)) = N·x,
//    N = total number of points.  `normalisation()` returns 1/N; solvers fold it into the
//    phase arrays they multiply by anyway, which saves one pass over the data per step.
//  - ComplexFft: in place, complex → complex, spectrum in FFT order (see Grid::wavenumber).
//  - RealFft: real field of extent (n0,…,n_{D-1}) ↔ half spectrum of extent (n0,…,n_{D-1}/2+1);
//    backward destroys its input spectrum (FFTW's c2r does).
//  - Plans are made on scratch arrays, so making a plan never touches the caller's data; they run
//    on any field of the same extent (all fields share qtzflow's 64-byte alignment).
//  - Threads: plans use core::thread_count() threads as it is when the plan is made, for
//    transforms of at least core::kParallelThreshold points; smaller ones run on one thread.
//  - Wisdom: a plan of rigor measure or patient uses, in this order, the wisdom already in the
//    process (e.g. a restart's, imported with import_wisdom), the wisdom cache (set_wisdom_cache:
//    one file per FFTW version, CPU model, transform, extent, thread count and rigor, written
//    atomically after planning), and only then times candidates.  Plans from the same wisdom
//    are the same plans, so runs that share a cache are bit-identical.  The library default is
//    no cache; the qtzflow CLI sets default_wisdom_cache().
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "core/names.hpp"
#include "grids/field.hpp"

namespace qtzflow::grids {

/// How long FFTW may spend planning: `estimate` (instant, slower transforms; good for tests),
/// `measure` (default: times candidate algorithms), `patient`.
enum class PlanRigor { estimate, measure, patient };
constexpr core::Named<PlanRigor> kPlanRigorNames[] = {
    {"estimate", PlanRigor::estimate}, {"measure", PlanRigor::measure}, {"patient", PlanRigor::patient}};
constexpr std::span<const core::Named<PlanRigor>> names_of(PlanRigor) { return kPlanRigorNames; }

namespace detail {
/// Owns one fftw_plan; destroys it on destruction.
class PlanHandle {
 public:
  PlanHandle() = default;
  explicit PlanHandle(void* p) : plan_(p) {}
  PlanHandle(PlanHandle&& o) noexcept : plan_(o.plan_) { o.plan_ = nullptr; }
  PlanHandle& operator=(PlanHandle&& o) noexcept;
  PlanHandle(const PlanHandle&) = delete;
  PlanHandle& operator=(const PlanHandle&) = delete;
  ~PlanHandle();
  void* get() const { return plan_; }

 private:
  void* plan_ = nullptr;
};
}  // namespace detail

/// In-place complex-to-complex transform of fields of one extent.
template <int D>
class ComplexFft {
 public:
  using Shape = std::array<std::size_t, D>;
  explicit ComplexFft(const Shape& extent, PlanRigor rigor = PlanRigor::measure);

  void forward(Field<complex, D>& f) const;
  void backward(Field<complex, D>& f) const;
  double normalisation() const { return 1.0 / static_cast<double>(Field<complex, D>::product(extent_)); }
  const Shape& extent() const { return extent_; }

 private:
  Shape extent_;
  detail::PlanHandle fwd_, bwd_;
};

/// Real-to-half-complex transform (r2c) and its inverse (c2r).
template <int D>
class RealFft {
 public:
  using Shape = std::array<std::size_t, D>;
  explicit RealFft(const Shape& real_extent, PlanRigor rigor = PlanRigor::measure);

  void forward(const Field<double, D>& in, Field<complex, D>& spectrum) const;
  /// Destroys `spectrum`.
  void backward(Field<complex, D>& spectrum, Field<double, D>& out) const;
  double normalisation() const { return 1.0 / static_cast<double>(Field<double, D>::product(real_)); }
  const Shape& real_extent() const { return real_; }
  const Shape& spectral_extent() const { return spectral_; }

 private:
  Shape real_, spectral_;
  detail::PlanHandle fwd_, bwd_;
};

/// Half-spectrum extent (n0, …, n_{D-1}/2 + 1) of a real array.
template <int D>
std::array<std::size_t, D> half_spectrum_extent(std::array<std::size_t, D> e) {
  e[D - 1] = e[D - 1] / 2 + 1;
  return e;
}

/// FFTW's version string, e.g. "fftw-3.3.10-sse2-avx".
std::string fftw_version();

/// FFTW's accumulated wisdom (the plans it chose).  FFTW_MEASURE picks plans by timing, so two
/// processes may transform with different algorithms and round differently; importing the
/// wisdom of a run before planning makes a restart use the very same plans (bit-identical
/// results on the same machine and thread count).
std::string export_wisdom();
/// Imports wisdom before planning.  Returns false, importing nothing, for wisdom of an FFTW
/// configured otherwise: FFTW stamps its wisdom with a hash of its registered solvers, and
/// FFTW-MPI registers more, so a run under mpirun and a run without cannot share wisdom (a
/// restart across that line plans anew).  Throws core::InvalidArgument("fftw wisdom", …) for
/// text FFTW cannot read.
bool import_wisdom(const std::string& wisdom);

/// Where plans' wisdom is kept between processes; empty (the default) keeps none.
void set_wisdom_cache(const std::string& directory);
std::string wisdom_cache();
/// $QTZFLOW_WISDOM_DIR ("off": none), else $XDG_CACHE_HOME/qtzflow/fftw, else
/// ~/.cache/qtzflow/fftw.
std::string default_wisdom_cache();

extern template class ComplexFft<1>;
extern template class ComplexFft<2>;
extern template class ComplexFft<3>;
extern template class RealFft<1>;
extern template class RealFft<2>;
extern template class RealFft<3>;

}  // namespace qtzflow::grids
