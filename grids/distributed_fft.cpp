#include "grids/distributed_fft.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "core/aligned.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "core/version.hpp"
#include "grids/fft_planning.hpp"
#if QTZFLOW_HAVE_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <fftw3-mpi.h>
#include <mpi.h>
#endif

namespace qtzflow::grids {

namespace {

using namespace detail;

#if QTZFLOW_HAVE_MPI
void init_fftw_mpi() {
  init_fftw_threads();
  static std::once_flag once;
  std::call_once(once, [] { fftw_mpi_init(); });
}
#endif
}  // namespace

void detail::init_fftw_mpi_if_running() {
#if QTZFLOW_HAVE_MPI
  if (core::mpi::active()) init_fftw_mpi();
#endif
}

namespace {
#if QTZFLOW_HAVE_MPI

/// Refuses, on every rank alike (collective), a distribution of `rows` rows of grid axis `axis`
/// that leaves some rank with none (`local`: this rank's count; `noun` names the rows).
void require_rows_on_every_rank(int axis, std::ptrdiff_t rows, std::ptrdiff_t local, const std::string& noun = "rows") {
  if (core::mpi::allreduce_min(static_cast<double>(local)) >= 1) return;
  const int p = core::mpi::size();
  const long block = (static_cast<long>(rows) + p - 1) / p;
  std::string why = std::to_string(rows) + " " + noun + " on " + std::to_string(p) + " MPI ranks";
  if (rows >= p) why += " (FFTW's blocks of " + std::to_string(block) + " rows leave rank " + std::to_string((rows + block - 1) / block) + " empty)";
  const std::string a = std::to_string(axis);
  core::throw_invalid("grid.n[" + a + "]", why,
                      "at least one row on every rank: fewer ranks (mpirun -n), or n[" + a + "] a multiple of the rank count");
}

/// FFTW's slab layout of a transform of real-space extent `global` (half spectrum if `real`).
/// Refuses, on every rank alike, a layout that leaves a rank without rows.
template <int D>
SlabLayout<D> make_layout(const std::array<std::size_t, D>& global, bool real) {
  if constexpr (D == 1)
    core::throw_invalid("grid", "a 1D grid on " + std::to_string(core::mpi::size()) + " MPI ranks",
                        "a 2D or 3D grid (FFTW's distributed 1D transform has no r2c form and scrambles its output)");
  std::array<std::ptrdiff_t, D> n{};
  for (int a = 0; a < D; ++a) n[a] = static_cast<std::ptrdiff_t>(global[a]);
  if (real) n[D - 1] = n[D - 1] / 2 + 1;
  std::ptrdiff_t ln0 = 0, s0 = 0, ln1 = 0, s1 = 0;
  const std::ptrdiff_t alloc = fftw_mpi_local_size_transposed(D, n.data(), MPI_COMM_WORLD, &ln0, &s0, &ln1, &s1);
  require_rows_on_every_rank(0, n[0], ln0);
  require_rows_on_every_rank(1, n[1], ln1, real && D == 2 ? "spectral rows (n[1]/2 + 1)" : "rows");
  SlabLayout<D> L;
  L.global = global;
  L.local = global;
  L.local[0] = static_cast<std::size_t>(ln0);
  L.offset[0] = static_cast<std::size_t>(s0);
  for (int s = 0; s < D; ++s) L.spectral_axes[s] = s == 0 ? 1 : s == 1 ? 0 : s;
  for (int s = 0; s < D; ++s) L.spectral_global[s] = static_cast<std::size_t>(n[L.spectral_axes[s]]);
  L.spectral_local = L.spectral_global;
  L.spectral_local[0] = static_cast<std::size_t>(ln1);
  L.spectral_offset[0] = static_cast<std::size_t>(s1);
  L.capacity = static_cast<std::size_t>(alloc);
  return L;
}

template <int D>
std::vector<std::size_t> extent_key(const std::array<std::size_t, D>& global) {
  std::vector<std::size_t> key(global.begin(), global.end());
  key.push_back(static_cast<std::size_t>(core::mpi::size()));  // the layout depends on the rank count
  return key;
}

/// Makes the forward and backward plans on every rank together.  Rank 0's cached wisdom is
/// broadcast first and every rank's wisdom gathered afterwards: FFTW's MPI planner needs the same
/// wisdom on all ranks to choose the same plan, and rank 0 alone writes the cache.
template <class Make>
void plan_collectively(unsigned flags, const std::string& file, const Make& make) {
  if (!(flags & FFTW_ESTIMATE)) {
    if (core::mpi::rank() == 0 && !file.empty()) fftw_import_wisdom_from_filename(file.c_str());
    fftw_mpi_broadcast_wisdom(MPI_COMM_WORLD);
  }
  make();
  if (!(flags & FFTW_ESTIMATE)) {
    fftw_mpi_gather_wisdom(MPI_COMM_WORLD);
    if (core::mpi::rank() == 0) write_wisdom_file(file);
  }
}

/// Copies `rows` rows of `from_stride` values to rows of `to_stride` values (`width` each).
void copy_rows(const double* from, std::size_t from_stride, double* to, std::size_t to_stride, std::size_t rows, std::size_t width) {
  const auto r = static_cast<std::ptrdiff_t>(rows);
  if (static_cast<std::ptrdiff_t>(rows * width) >= core::kParallelThreshold) {
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
    for (std::ptrdiff_t i = 0; i < r; ++i)
      std::copy_n(from + static_cast<std::size_t>(i) * from_stride, width, to + static_cast<std::size_t>(i) * to_stride);
  } else {
    for (std::ptrdiff_t i = 0; i < r; ++i)
      std::copy_n(from + static_cast<std::size_t>(i) * from_stride, width, to + static_cast<std::size_t>(i) * to_stride);
  }
}
#else
[[noreturn]] void no_mpi() {
  core::throw_invalid("mpirun -n", "a distributed transform", "a qtzflow built with MPI (QTZFLOW_MPI=ON, Open MPI and libfftw3-mpi-dev)");
}
#endif

template <int D>
void require_block(const char* key, const Field<complex, D>& f, const typename Field<complex, D>::Shape& local, std::size_t capacity) {
  require_shape(key, f, local);
  if (f.capacity() < capacity)
    core::throw_invalid(key, "a block with room for " + std::to_string(f.capacity()) + " values",
                        "room for " + std::to_string(capacity) + " (make it with make_field()/make_spectrum())");
}

}  // namespace

template <int D>
SlabLayout<D> slab_layout(const typename SlabLayout<D>::Shape& global, bool real) {
#if QTZFLOW_HAVE_MPI
  init_fftw_mpi();
  return make_layout<D>(global, real);
#else
  (void)global;
  (void)real;
  no_mpi();
#endif
}

#if QTZFLOW_HAVE_MPI
template <int D>
DistributedComplexFft<D>::DistributedComplexFft(const Shape& global, PlanRigor rigor) {
  init_fftw_mpi();
  layout_ = make_layout<D>(global, false);
  Field<complex, D> scratch = make_field();
  std::array<std::ptrdiff_t, D> n{};
  for (int a = 0; a < D; ++a) n[a] = static_cast<std::ptrdiff_t>(global[a]);
  const unsigned flags = flags_of(rigor);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(plan_threads(scratch.size()));
  const std::string file = cache_file("mpi-c2c", extent_key<D>(global), plan_threads(scratch.size()), flags);
  auto* buf = as_fftw(scratch.data());
  plan_collectively(flags, file, [&] {
    fwd_ = PlanHandle(
        checked(fftw_mpi_plan_dft(D, n.data(), buf, buf, MPI_COMM_WORLD, FFTW_FORWARD, flags | FFTW_MPI_TRANSPOSED_OUT), "mpi c2c forward"));
    bwd_ = PlanHandle(
        checked(fftw_mpi_plan_dft(D, n.data(), buf, buf, MPI_COMM_WORLD, FFTW_BACKWARD, flags | FFTW_MPI_TRANSPOSED_IN), "mpi c2c backward"));
  });
}

template <int D>
Field<complex, D> DistributedComplexFft<D>::make_field() const {
  return Field<complex, D>(layout_.global, layout_.local, layout_.offset, true, layout_.capacity);
}

template <int D>
void DistributedComplexFft<D>::forward(Field<complex, D>& f) const {
  require_block("fft field", f, layout_.local, layout_.capacity);
  fftw_mpi_execute_dft(static_cast<fftw_plan>(fwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
void DistributedComplexFft<D>::backward(Field<complex, D>& f) const {
  require_block("fft field", f, layout_.local, layout_.capacity);
  fftw_mpi_execute_dft(static_cast<fftw_plan>(bwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
DistributedRealFft<D>::DistributedRealFft(const Shape& global, PlanRigor rigor) {
  init_fftw_mpi();
  layout_ = make_layout<D>(global, true);
  Field<complex, D> scratch = make_spectrum();
  std::array<std::ptrdiff_t, D> n{};
  for (int a = 0; a < D; ++a) n[a] = static_cast<std::ptrdiff_t>(global[a]);
  const unsigned flags = flags_of(rigor);
  const std::size_t points = Field<double, D>::product(layout_.local);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(plan_threads(points));
  const std::string file = cache_file("mpi-r2c", extent_key<D>(global), plan_threads(points), flags);
  auto* c = as_fftw(scratch.data());
  auto* r = reinterpret_cast<double*>(scratch.data());
  plan_collectively(flags, file, [&] {
    fwd_ = PlanHandle(checked(fftw_mpi_plan_dft_r2c(D, n.data(), r, c, MPI_COMM_WORLD, flags | FFTW_MPI_TRANSPOSED_OUT), "mpi r2c"));
    bwd_ = PlanHandle(checked(fftw_mpi_plan_dft_c2r(D, n.data(), c, r, MPI_COMM_WORLD, flags | FFTW_MPI_TRANSPOSED_IN), "mpi c2r"));
  });
}

template <int D>
Field<double, D> DistributedRealFft<D>::make_real() const {
  return Field<double, D>(layout_.global, layout_.local, layout_.offset, true);
}

template <int D>
Field<complex, D> DistributedRealFft<D>::make_spectrum() const {
  return Field<complex, D>(layout_.spectral_global, layout_.spectral_local, layout_.spectral_offset, true, layout_.capacity);
}

template <int D>
void DistributedRealFft<D>::forward(const Field<double, D>& in, Field<complex, D>& spectrum) const {
  require_shape("fft input", in, layout_.local);
  require_block("fft spectrum", spectrum, layout_.spectral_local, layout_.capacity);
  const std::size_t nl = layout_.global[D - 1], padded = 2 * (nl / 2 + 1);
  auto* buf = reinterpret_cast<double*>(spectrum.data());
  copy_rows(in.data(), nl, buf, padded, in.size() / nl, nl);
  fftw_mpi_execute_dft_r2c(static_cast<fftw_plan>(fwd_.get()), buf, as_fftw(spectrum.data()));
}

template <int D>
void DistributedRealFft<D>::backward(Field<complex, D>& spectrum, Field<double, D>& out) const {
  require_block("fft spectrum", spectrum, layout_.spectral_local, layout_.capacity);
  require_shape("fft output", out, layout_.local);
  const std::size_t nl = layout_.global[D - 1], padded = 2 * (nl / 2 + 1);
  auto* buf = reinterpret_cast<double*>(spectrum.data());
  fftw_mpi_execute_dft_c2r(static_cast<fftw_plan>(bwd_.get()), as_fftw(spectrum.data()), buf);
  copy_rows(buf, padded, out.data(), nl, out.size() / nl, nl);
}
DistributedTranspose::DistributedTranspose(std::size_t n0, std::size_t m, PlanRigor rigor) : n0_(n0), m_(m) {
  init_fftw_mpi();
  const std::ptrdiff_t n[2] = {static_cast<std::ptrdiff_t>(n0), static_cast<std::ptrdiff_t>(m)};
  std::ptrdiff_t ln0 = 0, s0 = 0, ln1 = 0, s1 = 0;
  const std::ptrdiff_t alloc =
      fftw_mpi_local_size_many_transposed(2, n, 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, MPI_COMM_WORLD, &ln0, &s0, &ln1, &s1);
  require_rows_on_every_rank(0, n[0], std::min(ln0, ln1));  // m = n1·n2 ≥ P in practice: n0 decides
  first_ = static_cast<std::size_t>(s0);
  count_ = static_cast<std::size_t>(ln0);
  t_first_ = static_cast<std::size_t>(s1);
  t_count_ = static_cast<std::size_t>(ln1);
  capacity_ = std::max<std::size_t>(static_cast<std::size_t>(alloc), 1);
  std::vector<double, core::AlignedAllocator<double>> a(capacity_), b(capacity_);
  const unsigned flags = flags_of(rigor);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(plan_threads(count_ * m));
  const std::string file = cache_file("mpi-transpose", {n0, m, static_cast<std::size_t>(core::mpi::size())}, plan_threads(count_ * m), flags);
  plan_collectively(flags, file, [&] {
    fwd_ = PlanHandle(checked(
        fftw_mpi_plan_many_transpose(n[0], n[1], 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, a.data(), b.data(), MPI_COMM_WORLD, flags),
        "mpi transpose"));
    bwd_ = PlanHandle(checked(
        fftw_mpi_plan_many_transpose(n[1], n[0], 1, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, b.data(), a.data(), MPI_COMM_WORLD, flags),
        "mpi transpose back"));
  });
}

void DistributedTranspose::forward(double* in, double* out) const { fftw_mpi_execute_r2r(static_cast<fftw_plan>(fwd_.get()), in, out); }
void DistributedTranspose::backward(double* in, double* out) const { fftw_mpi_execute_r2r(static_cast<fftw_plan>(bwd_.get()), in, out); }
#else
DistributedTranspose::DistributedTranspose(std::size_t, std::size_t, PlanRigor) { no_mpi(); }
void DistributedTranspose::forward(double*, double*) const { no_mpi(); }
void DistributedTranspose::backward(double*, double*) const { no_mpi(); }

template <int D>
DistributedComplexFft<D>::DistributedComplexFft(const Shape&, PlanRigor) {
  no_mpi();
}
template <int D>
Field<complex, D> DistributedComplexFft<D>::make_field() const {
  no_mpi();
}
template <int D>
void DistributedComplexFft<D>::forward(Field<complex, D>&) const {
  no_mpi();
}
template <int D>
void DistributedComplexFft<D>::backward(Field<complex, D>&) const {
  no_mpi();
}
template <int D>
DistributedRealFft<D>::DistributedRealFft(const Shape&, PlanRigor) {
  no_mpi();
}
template <int D>
Field<double, D> DistributedRealFft<D>::make_real() const {
  no_mpi();
}
template <int D>
Field<complex, D> DistributedRealFft<D>::make_spectrum() const {
  no_mpi();
}
template <int D>
void DistributedRealFft<D>::forward(const Field<double, D>&, Field<complex, D>&) const {
  no_mpi();
}
template <int D>
void DistributedRealFft<D>::backward(Field<complex, D>&, Field<double, D>&) const {
  no_mpi();
}
#endif

template SlabLayout<1> slab_layout<1>(const SlabLayout<1>::Shape&, bool);
template SlabLayout<2> slab_layout<2>(const SlabLayout<2>::Shape&, bool);
template SlabLayout<3> slab_layout<3>(const SlabLayout<3>::Shape&, bool);
template class DistributedComplexFft<1>;
template class DistributedComplexFft<2>;
template class DistributedComplexFft<3>;
template class DistributedRealFft<1>;
template class DistributedRealFft<2>;
template class DistributedRealFft<3>;

}  // namespace qtzflow::grids
