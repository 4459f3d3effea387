// Tunneling out of a metastable well — the main example until the qtzflow CLI exists.
//
// f(x, y) = Σ (x_i² − 1)² + c x_i with c = 0.3: four wells, the deepest at (−1.036, −1.036),
// the shallowest at (0.960, 0.960).  At T = 0.5 (ħ = 2T = 1):
//  1. imaginary time with the witten potential V_T, started in the shallowest well, relaxes the
//     intra-well modes fast while the barriers (height ≈ 1 per axis) keep the mass in that well:
//     the result is the quasi-stationary state of the metastable well;
//  2. real time from that state shows the probability tunneling into the other basins.
// Printed: the mass per basin over time, the norm and the energy.  Usage:
//   tilted_double_well [t_real = 40]
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "grids/basins.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;

int main(int argc, char** argv) try {
  const double t_real = argc > 1 ? std::atof(argv[1]) : 40.0;
  core::require_positive("t_real", t_real);
  const double T = 0.5;
  const auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  const grids::Grid<2> grid({128, 128}, {-2.5, -2.5}, {2.5, 2.5});
  const potentials::Landscape<2> landscape(*f, grid);
  const auto basins = grids::find_basins(grid, landscape.f());
  std::printf("objective double_well (c = 0.3) on [-2.5, 2.5]^2, 128^2 points, T = %g, %zu basins:\n", T, basins.count());
  for (std::size_t b = 0; b < basins.count(); ++b) {
    const auto i = basins.minimum_index[b];
    std::printf("  basin %zu: minimum f = %+.4f at %s\n", b, basins.minimum_value[b], potentials::point_string(grid, i).c_str());
  }
  const std::size_t start_basin = basins.count() - 1;  // the shallowest well

  // 1. imaginary time from a Gaussian in the shallowest well
  solver::SplitStepOptions im_opt;
  im_opt.mode = solver::TimeMode::imaginary;
  im_opt.dt = 1e-3;
  solver::SplitStepSolver<2> im(landscape, potentials::PotentialKind::witten, potentials::Schedule::constant(T), im_opt);
  grids::Field<double, 2> phi0(grid.shape());
  const auto x0 = basins.minimum_index[start_basin];
  const double cx = grid.x(0, x0 / grid.n(1)), cy = grid.x(1, x0 % grid.n(1));
  grids::for_each_point(grid,
                        [&](std::size_t i, const auto& x) { phi0[i] = std::exp(-((x[0] - cx) * (x[0] - cx) + (x[1] - cy) * (x[1] - cy)) / 0.1); });
  im.set_state(phi0);
  im.advance(2000);
  const auto m_im = grids::mass_per_basin(grid, basins, im.phi(), solver::abs2);
  std::printf("\nimaginary time to t = %g: decay energy %.6f, mass left in basin %zu: %.6f\n", im.time(), im.decay_energy(), start_basin,
              m_im[start_basin]);

  // 2. real time from the metastable state
  solver::SplitStepOptions re_opt;
  re_opt.mode = solver::TimeMode::real;
  re_opt.scheme = solver::SplitScheme::yoshida4;
  re_opt.dt = 0.01;
  solver::SplitStepSolver<2> re(landscape, potentials::PotentialKind::witten, potentials::Schedule::constant(T), re_opt);
  re.set_state(im.phi());
  std::printf("\nreal time (Yoshida-4, dt = %g): mass per basin\n%8s %12s %12s", re_opt.dt, "t", "norm", "energy");
  for (std::size_t b = 0; b < basins.count(); ++b) std::printf("   basin %zu", b);
  std::printf("\n");
  const long per_line = static_cast<long>(std::lround(t_real / 20 / re_opt.dt));
  for (int line = 0; line <= 20; ++line) {
    if (line > 0) re.advance(per_line);
    const auto m = grids::mass_per_basin(grid, basins, re.psi(), solver::abs2);
    std::printf("%8.2f %12.9f %12.6f", re.time(), re.norm(), re.energy());
    for (double v : m) std::printf(" %9.5f", v);
    std::printf("\n");
  }
  return 0;
} catch (const core::InvalidArgument& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
