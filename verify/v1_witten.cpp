// qtzflow verify: v1_witten (see verify/experiments.hpp for what it checks).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "grids/basins.hpp"
#include "particles/ensemble.hpp"
#include "potentials/gibbs.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"
#include "verify/experiments.hpp"
#include "verify/physics.hpp"

namespace qtzflow::verify {

using potentials::PotentialKind;
using potentials::Schedule;

/// Imaginary time for a fixed t_end (chosen from the gap E1 of H_T so that the relaxation error
/// e^{-E1 t_end} is negligible) at two steps dt; the error against e^{-f/2T} must fall at order 2.
/// Rastrigin's barriers (~20 at T = 1) make its gap e^-20-small, so there the start is the exact
/// state deformed inside every well (sin 2πx vanishes at the minima): only the fast intra-well
/// modes (gap ~ f'' ≈ 400) have to relax.
template <int D>
void witten_case(Experiment& e, const std::string& label, const potentials::Objective& f, const grids::Grid<D>& g, double T,
                 std::array<double, 2> dts, double t_end, double bound, bool perturbed_start = false) {
  potentials::Landscape<D> land(f, g);
  const auto exact = potentials::witten_ground_state(f, g, T);
  grids::Field<double, D> start(g.shape(), 1.0);
  if (perturbed_start)
    grids::for_each_point(g, [&](std::size_t i, const auto& x) {
      double p = 1;
      for (int a = 0; a < D; ++a) p *= std::sin(2 * kPi * x[a]);
      start[i] = exact[i] * (1 + 0.3 * p);
    });
  std::vector<double> err;
  grids::Field<double, D> last;
  for (double dt : dts) {
    solver::SplitStepSolver<D> s(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::imaginary, dt));
    s.set_state(start);
    s.advance(std::lround(t_end / dt));
    double num = 0, den = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      num += (s.phi()[i] - exact[i]) * (s.phi()[i] - exact[i]);
      den += exact[i] * exact[i];
    }
    err.push_back(std::sqrt(num / den));
    last = s.phi();
  }
  const double order = std::log2(err[0] / err[1]);
  const std::vector<std::size_t> shape(g.shape().begin(), g.shape().end());
  e.put(label + "/x", centres(g));  // cell centres of axis 0 (every axis is the same here)
  e.put(label + "/phi", values(last), shape);
  e.put(label + "/exact", values(exact), shape);
  e.put(label + "/errors", err);
  e.put(label + "/dts", {dts[0], dts[1]});
  e.attr(label + "_dt_fine", dts[1]);
  e.close(label + ": observed order in dt of |phi - e^(-f/2T)|", order, 2.0, 0.05,
          "Strang splitting's stationary state is exact up to O(dt^2); t_end leaves a relaxation error e^(-E1 t_end) < 1e-12 and space is "
          "spectral. Measured 1.998 .. 1.976 (Rastrigin's stiff wells are pre-asymptotic): 0.05 absolute, twice the worst deviation");
  e.at_most(label + ": relative L2 error at the finer dt", err[1], bound,
            "O(dt^2): the Strang error grows with dt times the spread of V_T (~10 in 1D, ~400 for Rastrigin); bound 2-3x the measured "
            "1.8e-5 (harmonic), 2.3e-4 (double well), 5.4e-4 (tilted), 2.4e-3 (Rastrigin)");
}

void v1_witten(Experiment& e) {
  auto harmonic = potentials::make_objective("harmonic", 1);
  auto dw = potentials::make_objective("double_well", 1);
  auto tilted = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  // gaps: harmonic E1 = 1; double well (T = 0.5) ≈ 0.23; tilted (T = 0.5) ≈ 0.3
  witten_case<1>(e, "harmonic_T0.5", *harmonic, grids::Grid<1>({128}, {-8.0}, {8.0}), 0.5, {0.04, 0.02}, 40.0, 5e-5);
  witten_case<1>(e, "double_well_T0.5", *dw, grids::Grid<1>({256}, {-2.5}, {2.5}), 0.5, {0.01, 0.005}, 150.0, 7e-4);
  witten_case<1>(e, "tilted_double_well_T0.5", *tilted, grids::Grid<1>({256}, {-2.5}, {2.5}), 0.5, {0.01, 0.005}, 120.0, 1e-3);
  if (!e.quick()) {
    auto ras = potentials::make_objective("rastrigin", 2);
    // [-3.5, 3.5]² keeps e^{-f/2T} < 1e-7 at the edges; 256² resolves the wells (σ ≈ 2.6 h)
    witten_case<2>(e, "rastrigin2d_T1", *ras, grids::Grid<2>({256, 256}, {-3.5, -3.5}, {3.5, 3.5}), 1.0, {1e-3, 5e-4}, 0.2, 5e-3, true);
  }
}

}  // namespace qtzflow::verify
