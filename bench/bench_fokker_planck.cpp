// Fokker–Planck step time, and its ratio to one streaming pass over the field.
//
// For 1024² and 128³ (2D tilted double well resp. 3D double well, T = 0.5, reflecting box),
// 1 and 2 threads: the median time of one backward-Euler step and of one Crank–Nicolson step,
// each divided by the median time of one streaming pass (read and write every value of ρ
// once, threaded like our loops), timed back to back in every sample.  A step touches each
// axis once (BE) or 2D − 1 times (CN) with a forward and a backward sweep of the tridiagonal
// factors, so a few passes' worth is the floor.
// Then the generator's spectrum: the dense eigensolver against shift-invert Lanczos (Spectra).
// Usage: bench_fokker_planck [--quick]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "bench_common.hpp"
#include "core/parallel.hpp"
#include "potentials/objective.hpp"
#include "solver/fokker_planck.hpp"

using namespace qtzflow;

namespace {

template <int D>
void run_case(const grids::Grid<D>& g, const char* label, int threads, int samples) {
  core::set_thread_count(threads);
  auto f = potentials::make_objective("double_well", D, {{"c", {0.3}}});
  potentials::Landscape<D> land(*f, g);
  grids::Field<double, D> rho0(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double r2 = 0;
    for (double v : x) r2 += (v - 0.96) * (v - 0.96);
    rho0[i] = std::exp(-r2 / 0.08);
  });
  solver::FokkerPlanckSolver<D> be(land, potentials::Schedule::constant(0.5), {1e-2, solver::FpScheme::backward_euler});
  solver::FokkerPlanckSolver<D> cn(land, potentials::Schedule::constant(0.5), {1e-5, solver::FpScheme::crank_nicolson});
  be.set_state(rho0);
  cn.set_state(rho0);
  grids::Field<double, D> x(g.shape(), 1.0);
  double* p = x.data();
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const long reps = std::max<long>(1, static_cast<long>(3e7 / static_cast<double>(x.size())));
  std::vector<double> t_pass, t_be, t_cn, r_be, r_cn;
  for (int k = 0; k < samples; ++k) {
    t_pass.push_back(bench::median_seconds(1, reps, [&] { core::parallel_for(n, [=](std::ptrdiff_t i) { p[i] = p[i] * 0.999999 + 1e-9; }); }));
    t_be.push_back(bench::median_seconds(1, 1, [&] { be.advance(reps); }) / static_cast<double>(reps));
    t_cn.push_back(bench::median_seconds(1, 1, [&] { cn.advance(reps); }) / static_cast<double>(reps));
    r_be.push_back(t_be.back() / t_pass.back());
    r_cn.push_back(t_cn.back() / t_pass.back());
  }
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("| %s | %d | %.3g | %.3g | **%.1f** | %.3g | **%.1f** |\n", label, threads, med(t_pass) * 1e3, med(t_be) * 1e3, med(r_be),
              med(t_cn) * 1e3, med(r_cn));
  std::fflush(stdout);
}

/// The four smallest eigenvalues of the generator (2D tilted double well, T = 0.3): dense
/// eigensolver against shift-invert Lanczos, where both run; the relative difference of λ1.
template <int D>
void run_spectrum(const grids::Grid<D>& g, const char* label, int samples) {
  auto f = potentials::make_objective("double_well", D, {{"c", {0.3}}});
  potentials::Landscape<D> land(*f, g);
  solver::FokkerPlanckSolver<D> s(land, potentials::Schedule::constant(0.3), {1e-2});
  std::vector<double> sparse, dense;
  const double t_sparse = bench::median_seconds(samples, 1, [&] { sparse = s.spectrum(4, solver::SpectrumMethod::sparse); });
  if (g.size() <= solver::kDenseSpectrumLimit) {
    const double t_dense = bench::median_seconds(samples, 1, [&] { dense = s.spectrum(4, solver::SpectrumMethod::dense); });
    std::printf("| %s | %zu | %.3g | %.3g | **%.1f** | %.1e |\n", label, g.size(), t_dense, t_sparse, t_dense / t_sparse,
                std::abs(sparse[1] - dense[1]) / dense[1]);
  } else {
    std::printf("| %s | %zu | - | %.3g | - | - |\n", label, g.size(), t_sparse);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 3 : 9;
  std::printf("bench_fokker_planck — %s — %s\n\n", bench::utc_now().c_str(), bench::cpu_model().c_str());
  std::printf("Times in ms, medians of %d samples; ratios per sample (step / streaming pass), then the median.\n\n", samples);
  std::printf("| grid | threads | streaming pass | backward Euler step | ratio | Crank–Nicolson step | ratio |\n|---|---|---|---|---|---|---|\n");
  for (int threads : {1, 2}) {
    run_case(grids::Grid<2>({256, 256}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting), "256²", threads, samples);
    if (!quick) {
      run_case(grids::Grid<2>({1024, 1024}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting), "1024²", threads, samples);
      run_case(grids::Grid<3>({128, 128, 128}, {-2.0, -2.0, -2.0}, {2.0, 2.0, 2.0}, grids::Boundary::reflecting), "128³", threads, samples);
    }
  }
  core::set_thread_count(1);
  std::printf("\nSpectrum (4 smallest eigenvalues, T = 0.3, one thread), seconds, medians of %d samples:\n\n", quick ? 1 : 3);
  std::printf("| grid | points | dense | shift-invert Lanczos | dense / Lanczos | relative difference of lambda1 |\n|---|---|---|---|---|---|\n");
  for (std::size_t n : {32, 45, 64, 90}) {
    const std::string label = std::to_string(n) + "²";
    run_spectrum(grids::Grid<2>({n, n}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting), label.c_str(), quick ? 1 : 3);
  }
  run_spectrum(grids::Grid<2>({256, 256}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting), "256²", quick ? 1 : 3);
  if (!quick) {
    run_spectrum(grids::Grid<2>({512, 512}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting), "512²", 3);
    run_spectrum(grids::Grid<3>({32, 32, 32}, {-2.0, -2.0, -2.0}, {2.0, 2.0, 2.0}, grids::Boundary::reflecting), "32³", 3);
  }
  return 0;
}
