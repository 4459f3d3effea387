// Time to reach a given accuracy on the 2D harmonic coherent state (the XMDS2 comparison of
// BENCHMARKS.md; bench/xmds2_vs_qtzflow.py runs both sides in one go).
//
// Problem: i∂tψ = −½Δψ + ½|x|²ψ on [−10,10]², 256² points, ψ(0) = π^{-1/2} e^{−((x−2)² + y²)/2},
// one period t = 2π, after which the exact solution is ψ(0) again.  For each scheme the smallest
// step count whose L² error is ≤ the target is searched, then that run is timed (median of 5):
// construction (FFTW_MEASURE plans, phase arrays) and stepping are reported separately.
// Usage: bench_coherent_2d [target = 1e-6] [threads = 1]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>

#include "bench_common.hpp"
#include "core/parallel.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;
using std::numbers::pi;

namespace {

const grids::Grid<2> grid({256, 256}, {-10.0, -10.0}, {10.0, 10.0});

grids::Field<grids::complex, 2> initial() {
  grids::Field<grids::complex, 2> psi(grid.shape());
  grids::for_each_point(grid,
                        [&](std::size_t i, const auto& x) { psi[i] = std::exp(-0.5 * ((x[0] - 2) * (x[0] - 2) + x[1] * x[1])) / std::sqrt(pi); });
  return psi;
}

grids::Field<double, 2> potential() {
  grids::Field<double, 2> V(grid.shape());
  grids::for_each_point(grid, [&](std::size_t i, const auto& x) { V[i] = 0.5 * (x[0] * x[0] + x[1] * x[1]); });
  return V;
}

struct Run {
  double error, t_setup, t_steps;
};

Run run(solver::SplitScheme scheme, long steps, bool timed) {
  static const auto psi0 = initial();
  static const auto V = potential();
  solver::SplitStepOptions opt;
  opt.mode = solver::TimeMode::real;
  opt.scheme = scheme;
  opt.dt = 2 * pi / static_cast<double>(steps);
  opt.rigor = timed ? grids::PlanRigor::measure : grids::PlanRigor::estimate;
  Run r{};
  std::optional<solver::SplitStepSolver<2>> s;
  r.t_setup = bench::median_seconds(timed ? 3 : 1, 1, [&] { s.emplace(grid, V, 0.5, opt); });
  r.t_steps = bench::median_seconds(timed ? 5 : 1, 1, [&] {
    s->set_state(psi0);
    s->advance(steps);
  });
  double e = 0;
  for (std::size_t i = 0; i < psi0.size(); ++i) e += std::norm(s->psi()[i] - psi0[i]);
  r.error = std::sqrt(e * grid.cell_volume());
  return r;
}

void search(solver::SplitScheme scheme, const char* name, int order, double target) {
  // Predict from one coarse run with the scheme's order, then step up by 2 % until the target holds.
  long n = 64;
  const double e0 = run(scheme, n, false).error;
  n = static_cast<long>(std::ceil(n * std::pow(e0 / target, 1.0 / order) * 0.97));
  while (run(scheme, n, false).error > target) n = static_cast<long>(std::ceil(n * 1.02));
  const Run r = run(scheme, n, true);
  std::printf("qtzflow %s steps %ld error %.3e setup_s %.4f steps_s %.4f total_s %.4f\n", name, n, r.error, r.t_setup, r.t_steps,
              r.t_setup + r.t_steps);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const double target = argc > 1 ? std::atof(argv[1]) : 1e-6;
  core::set_thread_count(argc > 2 ? std::atoi(argv[2]) : 1);
  search(solver::SplitScheme::strang, "strang", 2, target);
  search(solver::SplitScheme::yoshida4, "yoshida4", 4, target);
  search(solver::SplitScheme::chin4, "chin4", 4, target);
  return 0;
}
