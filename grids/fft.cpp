#include "grids/fft.hpp"

#include <fftw3.h>

#include <cstdlib>
#include <mutex>

#include "core/parallel.hpp"

namespace qtzflow::grids {

namespace {

// FFTW's planner is not thread-safe; all planning goes through this lock.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

void init_fftw_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (fftw_init_threads() == 0) throw core::NumericalError("FFTW: fftw_init_threads failed");
  });
}

unsigned flags_of(PlanRigor r) {
  switch (r) {
    case PlanRigor::estimate:
      return FFTW_ESTIMATE;
    case PlanRigor::measure:
      return FFTW_MEASURE;
    case PlanRigor::patient:
      return FFTW_PATIENT;
  }
  return FFTW_MEASURE;
}

template <int D>
std::array<int, D> dims_of(const std::array<std::size_t, D>& e) {
  std::array<int, D> n{};
  for (int a = 0; a < D; ++a) n[a] = static_cast<int>(e[a]);
  return n;
}

fftw_complex* as_fftw(complex* p) { return reinterpret_cast<fftw_complex*>(p); }

void* checked(fftw_plan p, const char* what) {
  if (p == nullptr) throw core::NumericalError(std::string("FFTW: could not create plan: ") + what);
  return p;
}

}  // namespace

namespace detail {
PlanHandle& PlanHandle::operator=(PlanHandle&& o) noexcept {
  if (this != &o) {
    this->~PlanHandle();
    plan_ = o.plan_;
    o.plan_ = nullptr;
  }
  return *this;
}
PlanHandle::~PlanHandle() {
  if (plan_ != nullptr) {
    std::lock_guard lock(planner_mutex());
    fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  }
  plan_ = nullptr;
}
}  // namespace detail

template <int D>
ComplexFft<D>::ComplexFft(const Shape& extent, PlanRigor rigor) : extent_(extent) {
  init_fftw_threads();
  Field<complex, D> scratch(extent);
  const auto n = dims_of<D>(extent);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(core::thread_count());
  fwd_ = detail::PlanHandle(
      checked(fftw_plan_dft(D, n.data(), as_fftw(scratch.data()), as_fftw(scratch.data()), FFTW_FORWARD, flags_of(rigor)), "c2c forward"));
  bwd_ = detail::PlanHandle(
      checked(fftw_plan_dft(D, n.data(), as_fftw(scratch.data()), as_fftw(scratch.data()), FFTW_BACKWARD, flags_of(rigor)), "c2c backward"));
}

template <int D>
void ComplexFft<D>::forward(Field<complex, D>& f) const {
  require_shape("fft field", f, extent_);
  fftw_execute_dft(static_cast<fftw_plan>(fwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
void ComplexFft<D>::backward(Field<complex, D>& f) const {
  require_shape("fft field", f, extent_);
  fftw_execute_dft(static_cast<fftw_plan>(bwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
RealFft<D>::RealFft(const Shape& real_extent, PlanRigor rigor) : real_(real_extent), spectral_(half_spectrum_extent<D>(real_extent)) {
  init_fftw_threads();
  Field<double, D> r(real_);
  Field<complex, D> c(spectral_);
  const auto n = dims_of<D>(real_);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(core::thread_count());
  fwd_ = detail::PlanHandle(checked(fftw_plan_dft_r2c(D, n.data(), r.data(), as_fftw(c.data()), flags_of(rigor)), "r2c"));
  bwd_ = detail::PlanHandle(checked(fftw_plan_dft_c2r(D, n.data(), as_fftw(c.data()), r.data(), flags_of(rigor)), "c2r"));
}

template <int D>
void RealFft<D>::forward(const Field<double, D>& in, Field<complex, D>& spectrum) const {
  require_shape("fft input", in, real_);
  require_shape("fft spectrum", spectrum, spectral_);
  // r2c does not modify its input (FFTW guarantees this for out-of-place r2c).
  fftw_execute_dft_r2c(static_cast<fftw_plan>(fwd_.get()), const_cast<double*>(in.data()), as_fftw(spectrum.data()));
}

template <int D>
void RealFft<D>::backward(Field<complex, D>& spectrum, Field<double, D>& out) const {
  require_shape("fft spectrum", spectrum, spectral_);
  require_shape("fft output", out, real_);
  fftw_execute_dft_c2r(static_cast<fftw_plan>(bwd_.get()), as_fftw(spectrum.data()), out.data());
}

std::string fftw_version() { return ::fftw_version; }

std::string export_wisdom() {
  std::lock_guard lock(planner_mutex());
  char* w = fftw_export_wisdom_to_string();
  std::string out = w ? w : "";
  std::free(w);
  return out;
}

void import_wisdom(const std::string& wisdom) {
  init_fftw_threads();
  std::lock_guard lock(planner_mutex());
  if (fftw_import_wisdom_from_string(wisdom.c_str()) == 0)
    core::throw_invalid("fftw wisdom", "the stored text", "wisdom FFTW can read (written by the same FFTW)");
}

template class ComplexFft<1>;
template class ComplexFft<2>;
template class ComplexFft<3>;
template class RealFft<1>;
template class RealFft<2>;
template class RealFft<3>;

}  // namespace qtzflow::grids
