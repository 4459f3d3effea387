// qtzflow/verify/physics.hpp — the computations behind the verify experiments that the test suite
// also asserts (one copy, called from both):
//   witten_gap               E1 − E0 of H_T = −TΔ + V_T by deflation in imaginary time (Strang,
//                            O(dt²)) at two steps, Richardson-extrapolated: (4 g(dt/2) − g(dt))/3
//   mean_x_frequency         2π/period of ⟨x⟩(t) in real time (Yoshida-4) from zero crossings,
//                            located by linear interpolation between steps
//   fp_against_imaginary_time  L1(ρ_FP(t), e^{−f/2T} φ(t)) on nested 1D grids: the Fokker–Planck
//                            density against the transformed imaginary-time state, same ρ(0)
//   double_well_kramers_2k   the Eyring–Kramers rate 2k of f = (x² − 1)² (and of each saddle of
//                            Σ(x_i² − 1)² in 2D): 2·√32/(2π)·e^{−1/T}
//   fitted_slope             least-squares slope (observed orders, M^(−1/2) laws)
// plus the small field helpers the experiments share.  Limits: the 1D functions use periodic
// grids for the split-step side and reflecting ones for Fokker–Planck.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "grids/grid.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::verify {

constexpr double kPi = std::numbers::pi;

/// A normalised Gaussian density (standard deviation sd per axis) on the grid.
template <int D>
grids::Field<double, D> gaussian_density(const grids::Grid<D>& g, const std::array<double, D>& centre, double sd) {
  grids::Field<double, D> r(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double e = 0;
    for (int a = 0; a < D; ++a) e += (x[a] - centre[a]) * (x[a] - centre[a]);
    r[i] = std::exp(-e / (2 * sd * sd));
  });
  const double m = solver::integral(g, r, solver::identity);
  for (double& v : r) v /= m;
  return r;
}

/// Cell centres along axis 0, so notebooks plot against x without rebuilding the grid.
template <int D>
std::vector<double> centres(const grids::Grid<D>& g) {
  std::vector<double> x(g.shape()[0]);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = g.x(0, i);
  return x;
}

template <int D>
std::vector<double> values(const grids::Field<double, D>& f) {
  return {f.begin(), f.end()};
}

/// Split-step options with FFTW's estimated plans (bit-reproducible runs).
solver::SplitStepOptions split_options(solver::TimeMode mode, double dt, solver::SplitScheme scheme = solver::SplitScheme::strang);

double fitted_slope(const std::vector<double>& x, const std::vector<double>& y);

/// The L1 distance by which a histogram of M exact samples misses the density ρ, in
/// expectation: Σ E|n_i/M − p_i| ≈ √(2/(πM)) Σ √(p_i(1 − p_i)), p_i = ρ_i·cell volume
/// (binomial cells in their normal limit).
template <int D>
double histogram_sampling_l1(const grids::Grid<D>& g, const grids::Field<double, D>& rho, double M) {
  double s = 0;
  for (double r : rho) {
    const double p = std::clamp(r * g.cell_volume(), 0.0, 1.0);
    s += std::sqrt(p * (1 - p));
  }
  return std::sqrt(2 / (kPi * M)) * s;
}

struct WittenGap {
  double extrapolated = 0;                    ///< (4 g(dt/2) − g(dt))/3
  std::array<double, 2> gaps{};               ///< E1 − E0 at the two steps
  std::vector<solver::Eigenstate<1>> states;  ///< φ0, φ1 at the second step
};
WittenGap witten_gap(const potentials::Landscape<1>& land, double T, std::array<double, 2> dts, double tolerance, long max_steps);

struct Oscillation {
  double omega = 0;  ///< π (crossings − 1) / (last − first crossing)
  std::size_t crossings = 0;
  std::vector<double> mean_x;  ///< ⟨x⟩ after every step (when asked for)
};
Oscillation mean_x_frequency(const potentials::Landscape<1>& land, double T, const grids::Field<double, 1>& start, double dt, double t_end,
                             bool keep_trace = false);

struct TrajectoryComparison {
  std::vector<std::vector<double>> l1;             ///< [grid][time]: L1(ρ_FP, reference)
  std::vector<grids::Field<double, 1>> rho_final;  ///< [grid]: ρ_FP at the last time
  grids::Field<double, 1> reference_final;         ///< the reference density at the last time
};
/// The reference: imaginary time on `n_reference` periodic cells (step dt_reference) from
/// φ0 = e^{f/2T} ρ0, ρ0 = N(centre, sd²).  FP: reflecting grids of ns[k] cells (each dividing
/// n_reference, an odd ratio, so FP cell centres are reference points), step dt_of(n).
TrajectoryComparison fp_against_imaginary_time(const potentials::Objective& f, double T, double centre, double sd, std::size_t n_reference,
                                               double dt_reference, const std::vector<double>& times, const std::vector<std::size_t>& ns,
                                               solver::FpScheme scheme, const std::function<double(std::size_t)>& dt_of);

/// 2k = 2·√32/(2π)·e^{−1/T} for f = (x² − 1)² (barrier 1, f''(±1) = 8, f''(0) = −4).
inline double double_well_kramers_2k(double T) { return 2 * 4 / (2 * kPi) * std::sqrt(2.0) * std::exp(-1 / T); }

}  // namespace qtzflow::verify
