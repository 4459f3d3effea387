// The PDE engines on slabs under mpirun (issue 17): the time of one split-step Strang step, real
// time (complex transforms) and imaginary time (r2c), as the slowest rank sees it, plus the time
// of the distributed transform pair alone (two all-to-all exchanges included) and the bytes each
// rank sends per exchange; and one backward-Euler Fokker-Planck step (reflecting walls), whose
// axis-0 sweep is the partitioned line solve or a global transpose and back.  Run it the three ways BENCHMARKS.md compares on the same cores:
//   bench_mpi_engines --threads 1            one rank, one thread
//   bench_mpi_engines --threads 2            one rank, OpenMP on two threads
//   mpirun -n 2 bench_mpi_engines --threads 1    two ranks (slabs), one thread each
// Usage: bench_mpi_engines [--threads N] [--quick | --weak] [--fp]
//   --quick  256² and 64³ instead of 1024² and 128³
//   --weak   weak scaling: a (256·P) × 256 grid on P ranks (the same slab per rank), both engines
//   --fp     the Fokker-Planck step only (issue 31): 1024², 2048², 128³, 256³ (with --weak:
//            (256·P) × 256 and (64·P) × 64 × 64); under MPI both line solves, partitioned and
//            transpose, sample by sample side by side (bench/fp_scaling.py runs the table)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/distributed_fft.hpp"
#include "potentials/objective.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;
namespace mpi = core::mpi;

namespace {

/// Median over samples of the slowest rank's time per call (every sample ends in a reduction).
template <class F>
double slowest_rank_median(int samples, long reps, F&& f) {
  std::vector<double> t;
  for (int s = 0; s < samples; ++s) t.push_back(mpi::allreduce_max(bench::median_seconds(1, reps, f)));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <int D>
void measure(const typename grids::Grid<D>::Shape& n, int samples) {
  typename grids::Grid<D>::Point lo{}, hi{};
  for (int a = 0; a < D; ++a) lo[a] = -8, hi[a] = 8;
  const grids::Grid<D> g(n, lo, hi);
  std::string shape;
  for (int a = 0; a < D; ++a) shape += (a ? "x" : "") + std::to_string(n[a]);
  for (const auto mode : {solver::TimeMode::real, solver::TimeMode::imaginary}) {
    const bool real = mode == solver::TimeMode::real;
    // V = |x|²/2 on this rank's rows only
    solver::SplitStepOptions opt;
    opt.mode = mode;
    opt.dt = 1e-3;
    opt.distributed = true;
    const auto layout = mpi::active() ? grids::slab_layout<D>(n, !real) : grids::SlabLayout<D>{n, n, {}, {}, {}, {}, {}, 0};
    auto extent = n;
    extent[0] = layout.local[0];
    grids::Field<double, D> V(n, extent, layout.offset, mpi::active()), start(n, extent, layout.offset, mpi::active());
    grids::for_each_point_of_rows(g, layout.offset[0], layout.local[0], [&](std::size_t i, const auto& x) {
      double r2 = 0, s = 0;
      for (double v : x) r2 += (v - 1) * (v - 1), s += v * v;
      V[i] = 0.5 * s;
      start[i] = std::exp(-r2);
    });
    solver::SplitStepSolver<D> s(g, V, 1.0, opt);
    s.set_state(start);
    s.advance(2);
    const long reps = static_cast<long>(std::max<std::size_t>(1, (1u << 22) / g.size()));
    const double step = slowest_rank_median(samples, reps, [&] { s.advance(1); });
    // the transform pair alone, and what each rank sends per all-to-all
    double pair = 0, bytes = 0;
    if constexpr (D >= 2) {
      if (mpi::active()) {
        if (real) {
          grids::DistributedComplexFft<D> fft(n, grids::PlanRigor::measure);
          auto f = fft.make_field();
          pair = slowest_rank_median(samples, reps, [&] {
            fft.forward(f);
            fft.backward(f);
          });
          bytes = 16.0 * static_cast<double>(f.size()) * (1.0 - 1.0 / mpi::size());
        } else {
          grids::DistributedRealFft<D> fft(n, grids::PlanRigor::measure);
          auto r = fft.make_real();
          auto c = fft.make_spectrum();
          pair = slowest_rank_median(samples, reps, [&] {
            fft.forward(r, c);
            fft.backward(c, r);
          });
          bytes = 16.0 * static_cast<double>(c.size()) * (1.0 - 1.0 / mpi::size());
        }
      }
    }
    if (mpi::rank() == 0) {
      std::printf("%-9s %-9s ranks %d x threads %d   step %9.3f ms", shape.c_str(), real ? "real" : "imaginary", mpi::size(), core::thread_count(),
                  1e3 * step);
      if (pair > 0) std::printf("   transform pair %8.3f ms   sent per rank per exchange %.1f MB", 1e3 * pair, bytes / 1e6);
      std::printf("\n");
    }
  }
}

template <int D>
void measure_fokker_planck(const typename grids::Grid<D>::Shape& n, int samples) {
  typename grids::Grid<D>::Point lo{}, hi{};
  for (int a = 0; a < D; ++a) lo[a] = -2, hi[a] = 2;
  const grids::Grid<D> g(n, lo, hi, grids::Boundary::reflecting);
  std::string shape;
  for (int a = 0; a < D; ++a) shape += (a ? "x" : "") + std::to_string(n[a]);
  auto f = potentials::make_objective("double_well", D, {{"c", {0.3}}});
  // each rank samples only its rows (the whole landscape would cost every rank the full grid)
  // (the engine's slabs are FFTW's default blocks of axis 0, those of the distributed transforms)
  const auto layout = mpi::active() ? grids::slab_layout<D>(n, false) : grids::SlabLayout<D>{n, n, {}, {}, {}, {}, {}, 0};
  const potentials::Landscape<D> land(*f, g, layout.offset[0], layout.local[0], mpi::active());
  grids::Field<double, D> rho0(land.f());
  for (double& v : rho0) v = 1;
  // Both ways of solving the axis-0 lines, sample by sample side by side (one way on one rank).
  std::vector<solver::LineSolve> ways{solver::LineSolve::partitioned};
  if (mpi::active()) ways.push_back(solver::LineSolve::transpose);
  std::vector<std::unique_ptr<solver::FokkerPlanckSolver<D>>> solvers;
  for (const auto way : ways) {
    solver::FokkerPlanckOptions o{1e-2, solver::FpScheme::backward_euler};
    o.distributed = true;
    o.line_solve = way;
    solvers.push_back(std::make_unique<solver::FokkerPlanckSolver<D>>(land, potentials::Schedule::constant(0.5), o));
    solvers.back()->set_state(rho0);
    solvers.back()->advance(1);
  }
  const long reps = static_cast<long>(std::max<std::size_t>(1, (1u << 21) / g.size()));
  std::vector<std::vector<double>> t(ways.size());
  for (int k = 0; k < samples; ++k)
    for (std::size_t w = 0; w < ways.size(); ++w) t[w].push_back(slowest_rank_median(1, reps, [&] { solvers[w]->advance(1); }));
  // the bytes one rank sends per axis-0 sweep: partitioned, 4 + 3 doubles per line (the lines'
  // packets to all ranks: 2 right-hand sides and 2 sums; the 2 interface values and the line's
  // scale back; backward Euler with reflecting walls sends no extras); transposed, its rows
  // there and back
  const double m = static_cast<double>(g.size() / n[0]), rows = static_cast<double>(layout.local[0]);
  for (std::size_t w = 0; w < ways.size(); ++w) {
    std::sort(t[w].begin(), t[w].end());
    const bool part = ways[w] == solver::LineSolve::partitioned;
    const double sent = !mpi::active() ? 0.0 : part ? 7 * 8 * m : 2 * 8 * m * rows;
    if (mpi::rank() == 0)
      std::printf("%-11s %-20s ranks %d x threads %d   step %9.3f ms   sent/rank/step %8.3f MB\n", shape.c_str(),
                  part ? (mpi::active() ? "FP (BE, partitioned)" : "FP (BE)") : "FP (BE, transpose)", mpi::size(), core::thread_count(),
                  1e3 * t[w][t[w].size() / 2], sent / 1e6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(argc, argv);
  bool quick = false, weak = false, fp = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--weak") == 0) weak = true;
    if (std::strcmp(argv[i], "--fp") == 0) fp = true;
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) core::set_thread_count(std::atoi(argv[++i]));
  }
  if (mpi::rank() == 0) std::printf("# %s, %s\n", bench::cpu_model().c_str(), bench::utc_now().c_str());
  const int samples = quick ? 3 : 7;
  const auto P = static_cast<std::size_t>(mpi::size());
  if (weak) {
    if (!fp) measure<2>(grids::Grid<2>::Shape{256 * P, 256}, samples);
    measure_fokker_planck<2>(grids::Grid<2>::Shape{256 * P, 256}, samples);
    if (fp) measure_fokker_planck<3>(grids::Grid<3>::Shape{64 * P, 64, 64}, samples);
    return 0;
  }
  if (fp) {  // strong scaling of the Fokker-Planck step (issue 31)
    measure_fokker_planck<2>(grids::Grid<2>::Shape{1024, 1024}, samples);
    measure_fokker_planck<2>(grids::Grid<2>::Shape{2048, 2048}, samples);
    measure_fokker_planck<3>(grids::Grid<3>::Shape{128, 128, 128}, samples);
    measure_fokker_planck<3>(grids::Grid<3>::Shape{256, 256, 256}, quick ? 3 : 5);
    return 0;
  }
  measure<2>(quick ? grids::Grid<2>::Shape{256, 256} : grids::Grid<2>::Shape{1024, 1024}, samples);
  measure<3>(quick ? grids::Grid<3>::Shape{64, 64, 64} : grids::Grid<3>::Shape{128, 128, 128}, samples);
  measure_fokker_planck<2>(quick ? grids::Grid<2>::Shape{256, 256} : grids::Grid<2>::Shape{1024, 1024}, samples);
  measure_fokker_planck<3>(quick ? grids::Grid<3>::Shape{64, 64, 64} : grids::Grid<3>::Shape{128, 128, 128}, samples);
  return 0;
}
