// qtzflow/potentials/gibbs.hpp — the Gibbs density and the map between the Fokker–Planck
// density ρ and the imaginary-time wavefunction φ (docs/theory.md, "The Witten transform"):
//
//   Gibbs (stationary FP at fixed T)   π = e^{−f/T} / Z
//   ρ ↔ φ                              ρ = e^{−f/2T} φ,      φ = e^{+f/2T} ρ
//   imaginary-time temperature floor   T_floor = Δf / (2 ln(10⁻⁴/ε_machine))
//
// Every exponential is shifted by min f (e^{−(f − min f)/kT}), so that the largest factor is 1
// and a low T underflows only where the density is negligible anyway; the shift is a constant
// factor that normalisation removes.  Fields are sampled values of f on a grid (C order).
// Why the floor: φ = e^{f/2T} ρ weights the basins by ~e^{Δf/2T} (Δf = spread of the basin
// minima); once that ratio passes 10⁻⁴/ε the weaker basins drown in the FFTs' round-off and the
// imaginary-time engine no longer represents ρ (qtzflow verify V7 shows both sides).  The
// Fokker–Planck engine, which evolves ρ itself, has no such floor.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"

namespace qtzflow::potentials {

/// The smallest sampled value (over every rank's block of a distributed field: collective).
template <int D>
double min_value(const grids::Field<double, D>& f) {
  double m = std::numeric_limits<double>::infinity();
  for (double v : f) m = std::min(m, v);
  return f.distributed() ? core::mpi::allreduce_min(m) : m;
}

/// e^{−(f_i − min f)/kT}: the Boltzmann factor at "temperature" kT (T for the Gibbs density,
/// 2T for the witten ground state), largest value 1.  Of the same rows as f (a block of a
/// distributed f: min f over all ranks).
template <int D>
grids::Field<double, D> boltzmann_factor(const grids::Field<double, D>& f, double kT) {
  core::require_positive("T", kT);
  grids::Field<double, D> w = f;
  const double fmin = min_value(f);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::exp(-(f[i] - fmin) / kT);
  return w;
}

/// ρ = e^{−f/2T} φ, normalised to mass 1 (Σ ρ h^D = 1): the FP density of an imaginary-time state.
template <int D>
grids::Field<double, D> density_from_phi(const grids::Grid<D>& grid, const grids::Field<double, D>& f, const grids::Field<double, D>& phi, double T) {
  grids::require_shape("phi", phi, f.extent());
  auto rho = boltzmann_factor(f, 2 * T);
  for (std::size_t i = 0; i < rho.size(); ++i) rho[i] *= phi[i];
  const double mass =
      core::parallel_sum(static_cast<std::ptrdiff_t>(rho.size()), [&](std::ptrdiff_t i) { return rho[static_cast<std::size_t>(i)]; }) *
      grid.cell_volume();
  for (double& v : rho) v /= mass;
  return rho;
}

/// φ ∝ e^{+(f − min f)/2T} ρ: the imaginary-time state of a density (not normalised).
template <int D>
grids::Field<double, D> phi_from_density(const grids::Field<double, D>& f, const grids::Field<double, D>& rho, double T) {
  core::require_positive("T", T);
  grids::require_shape("rho", rho, f.extent());
  grids::Field<double, D> phi = rho;
  const double fmin = min_value(f);
  for (std::size_t i = 0; i < phi.size(); ++i) phi[i] = std::exp((f[i] - fmin) / (2 * T)) * rho[i];
  return phi;
}

/// The lowest temperature at which imaginary time still carries every basin of a density:
/// Δf / (2 ln(10⁻⁴/ε)), Δf = the spread of the basin minima (see the header comment).
inline double imaginary_time_temperature_floor(double basin_spread) {
  return basin_spread / (2 * std::log(1e-4 / std::numeric_limits<double>::epsilon()));
}

}  // namespace qtzflow::potentials
