// Shared set-ups and exact solutions for the split-step tests.
#pragma once

#include <cmath>
#include <complex>
#include <numbers>

#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::testing {

using grids::complex;
using potentials::PotentialKind;
using potentials::Schedule;
using solver::SplitScheme;
using solver::SplitStepSolver;
using solver::TimeMode;
using std::numbers::pi;

inline solver::SplitStepOptions options(solver::TimeMode mode, double dt, solver::SplitScheme scheme = solver::SplitScheme::strang) {
  solver::SplitStepOptions o;
  o.mode = mode;
  o.dt = dt;
  o.scheme = scheme;
  o.rigor = grids::PlanRigor::estimate;
  return o;
}

/// Harmonic coherent state of H = −½Δ + ½|x|² (T = ½, ω = 1) started at x0 with zero momentum:
/// ψ = e^{−i t D/2} Π_a π^{-1/4} exp(−(x_a − q_a)²/2 + i p_a x_a − i q_a p_a/2),
/// q = x0 cos t, p = −x0 sin t.
template <int D>
grids::Field<complex, D> coherent_state(const grids::Grid<D>& g, const std::array<double, D>& x0, double t) {
  grids::Field<complex, D> psi(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    complex e(0, -0.5 * D * t);
    for (int a = 0; a < D; ++a) {
      const double q = x0[a] * std::cos(t), p = -x0[a] * std::sin(t);
      e += complex(-0.5 * (x[a] - q) * (x[a] - q), p * x[a] - 0.5 * q * p);
    }
    psi[i] = std::pow(pi, -0.25 * D) * std::exp(e);
  });
  return psi;
}

/// L² distance Σ|a−b|² h^D, square-rooted.
template <int D, class T>
double l2_distance(const grids::Grid<D>& g, const grids::Field<T, D>& a, const grids::Field<T, D>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::norm(a[i] - b[i]);
  return std::sqrt(s * g.cell_volume());
}

/// Observed order from errors at steps dt and dt/2.
inline double observed_order(double e_coarse, double e_fine) { return std::log2(e_coarse / e_fine); }

}  // namespace qtzflow::testing
