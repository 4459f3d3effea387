// qtzflow/scenario/advice.hpp — numerical advice about a run: warnings, not refusals, given by
// every front end (the run loop's engines and the Python engine classes alike).
//
//  - cell Péclet number |Δf|/T > 2 where the density is: the Fokker–Planck drift crosses a
//    cell faster than diffusion smooths it, so the density is not resolved there;
//  - the imaginary-time temperature floor Δf/(2 ln(10⁻⁴/ε)) (potentials/gibbs.hpp): below it
//    ρ = e^(−f/2T)·φ loses the lower basins of a density spread over several to round-off.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/mpi.hpp"
#include "grids/basins.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/gibbs.hpp"
#include "potentials/schedule.hpp"
#include "scenario/problem.hpp"

namespace qtzflow::scenario {

/// The largest cell Péclet number |f_j − f_i|/T over [t_begin, t_end], counted only on faces
/// where the density can be: within 10 T of its basin's minimum (f − f_min(basin) ≤ 10 T on both
/// cells, e^(−10) of the basin's peak).  Sampled at `samples` evenly spread times (one: t_end);
/// under cooling the worst is usually the last, where T is smallest and the density sits in the
/// wells' steep walls.  `f` and the labels hold `rows` (collective when distributed).
struct PecletOverRun {
  double peclet = 0, T = 0, t = 0;
};
template <int D>
PecletOverRun peclet_over_run(const grids::Grid<D>& grid, const grids::Field<double, D>& f, const grids::Basins<D>& basins, const RowBlock& rows,
                              const potentials::Schedule& schedule, double t_begin, double t_end, int samples = 33) {
  const auto& lab = basins.label;
  const auto& n = grid.shape();
  const std::size_t row = grid.size() / n[0], local = f.size(), first_flat = rows.first * row;
  // c = f − f_min(basin) of this rank's points, then the next rank's first row of f and c (the
  // right-hand cells of this block's last axis-0 faces)
  std::vector<double> c(local), next_row(2 * row);
  for (std::size_t i = 0; i < local; ++i) c[i] = f[i] - basins.minimum_value[static_cast<std::size_t>(lab[i])];  // f and labels: the same rows
  const bool more_rows = rows.first + rows.count < n[0];
  if (rows.distributed) {
    std::vector<long> wanted;
    if (more_rows) wanted.push_back(static_cast<long>(rows.first + rows.count));
    std::vector<double> got(wanted.size() * row);
    core::mpi::fetch_rows(f.values(), row, static_cast<long>(rows.first), wanted, got);  // collective, every rank
    std::copy(got.begin(), got.end(), next_row.begin());
    core::mpi::fetch_rows(c, row, static_cast<long>(rows.first), wanted, got);
    std::copy(got.begin(), got.end(), next_row.begin() + static_cast<std::ptrdiff_t>(row));
  }
  PecletOverRun worst;
  for (int k = 0; k < samples; ++k) {
    const double t = samples == 1 ? t_end : t_begin + (t_end - t_begin) * k / (samples - 1.0), T = schedule.T(t);
    double pe = 0;
    std::size_t stride = 1;
    for (int a = D - 1; a >= 0; --a) {
      const std::size_t na = n[static_cast<std::size_t>(a)];
      for (std::size_t i = 0; i < local; ++i) {
        if (((first_flat + i) / stride) % na == na - 1) continue;  // the last cell along axis a has no face to its right
        const std::size_t j = i + stride;
        const double fj = j < local ? f[j] : next_row[j - local], cj = j < local ? c[j] : next_row[row + j - local];
        if (c[i] <= 10 * T && cj <= 10 * T) pe = std::max(pe, std::abs(fj - f[i]) / T);
      }
      stride *= na;
    }
    if (rows.distributed) pe = core::mpi::allreduce_max(pe);
    if (pe > worst.peclet) worst = {pe, T, t};
  }
  return worst;
}

/// The same over a run's problem and [0, t_end] (33 samples).
template <int D>
PecletOverRun peclet_over_run(const Problem<D>& p, double t_end) {
  return peclet_over_run(p.grid, p.landscape.f(), p.basins, p.rows, p.schedule, 0.0, t_end);
}

/// The Péclet warning over [t_begin, t_end] ("" if the largest cell Péclet number is <= 2).
template <int D>
std::string peclet_advice(const grids::Grid<D>& grid, const grids::Field<double, D>& f, const grids::Basins<D>& basins, const RowBlock& rows,
                          const potentials::Schedule& schedule, double t_begin, double t_end, int samples = 33) {
  const auto pe = peclet_over_run(grid, f, basins, rows, schedule, t_begin, t_end, samples);
  if (!(pe.peclet > 2)) return "";
  char msg[512];
  std::snprintf(msg, sizeof msg,
                "cell Peclet number %.3g > 2 where the density is (within 10 T of a basin minimum) at t = %g, T = %.3g: "
                "the drift crosses a cell faster than diffusion smooths it, so the density is not resolved there; "
                "refine grid.n, raise T or end the run earlier",
                pe.peclet, pe.t, pe.T);
  return msg;
}

/// The imaginary-time floor warning for temperature T (named `what` in the message; "" if T is
/// above the floor of these basin minima).
inline std::string imaginary_time_floor_advice(const std::vector<double>& basin_minima, double T, const std::string& what) {
  if (basin_minima.empty()) return "";
  const auto [lo, hi] = std::minmax_element(basin_minima.begin(), basin_minima.end());
  const double df = *hi - *lo, floor = potentials::imaginary_time_temperature_floor(df);
  if (!(T < floor)) return "";
  char msg[512];
  std::snprintf(msg, sizeof msg,
                "%s = %.3g < %.3g = (spread of the basin minima %.3g)/(2 ln(1e-4/eps)): if the density "
                "keeps mass in several basins, rho = e^(-f/2T) phi loses the lower ones to round-off below it; "
                "end the run earlier or use [fokker_planck]",
                what.c_str(), T, floor, df);
  return msg;
}

}  // namespace qtzflow::scenario
