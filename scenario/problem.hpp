// qtzflow/scenario/problem.hpp — a problem is what every engine of a run shares: the grid, the
// objective sampled on it (Landscape), its basins of attraction, the temperature schedule and
// the initial density.  Built once from a RunConfig; the engine adapters (engines.hpp) and the
// run loop (run.hpp) take it by reference.
// Conventions: as grids/ (axis 0 slowest, cell centres).  The initial density ρ0 is returned
// unnormalised: gaussian e^{−Σ (x_a − c_a)²/(2 w_a²)} (w = standard deviation of the density),
// uniform 1, gibbs e^{−(f − min f)/T(0)}.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "grids/basins.hpp"
#include "grids/grid.hpp"
#include "potentials/gibbs.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"
#include "scenario/config.hpp"

namespace qtzflow::scenario {

template <int D>
grids::Grid<D> make_grid(const GridConfig& g) {
  if (g.dim() != D) core::throw_invalid("grid.n", std::to_string(g.dim()) + " axes", std::to_string(D));
  typename grids::Grid<D>::Shape n;
  typename grids::Grid<D>::Point lo, hi;
  for (int a = 0; a < D; ++a) {
    n[a] = g.n[static_cast<std::size_t>(a)];
    lo[a] = g.lower[static_cast<std::size_t>(a)];
    hi[a] = g.upper[static_cast<std::size_t>(a)];
  }
  return grids::Grid<D>(n, lo, hi, g.boundary);
}

/// The configured objective on a run's grid: a built-in or an expression (make_objective of
/// config.hpp, the grid's box as the default domain), or the samples of objective.file, which
/// must lie on this very grid (n and box to 1e-9 of a spacing; otherwise an InvalidArgument
/// naming objective.file with both grids).
template <int D>
std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig& o, const grids::Grid<D>& grid);

/// The objective sampled on the grid; an expression that is not finite at a grid point is
/// reported against objective.f, with the point.
template <int D>
potentials::Landscape<D> sample_objective(const potentials::Objective& f, const grids::Grid<D>& g, const ObjectiveConfig& o) {
  if (o.is_expression()) {
    std::vector<double> x(D);
    grids::for_each_point(g, [&](std::size_t, const auto& p) {
      std::copy(p.begin(), p.end(), x.begin());
      const double v = f.value(x);
      if (!std::isfinite(v)) {
        std::string at;
        for (double c : x) at += (at.empty() ? "" : ", ") + core::format_value(c);
        core::throw_invalid("objective.f", "\"" + core::shorten(o.formula, 80) + "\" = " + core::format_value(v) + " at x = (" + at + ")",
                            "finite at every grid point");
      }
    });
  }
  try {
    return potentials::Landscape<D>(f, g);
  } catch (const core::InvalidArgument& e) {  // f finite, its derivatives not
    if (!o.is_expression()) throw;
    throw core::InvalidArgument("objective.f", "objective.f = \"" + core::shorten(o.formula, 80) + "\" is not finite on the grid (" + e.what() +
                                                   "): must be finite at every grid point");
  }
}

template <int D>
struct Problem {
  grids::Grid<D> grid;
  std::unique_ptr<potentials::Objective> objective;
  potentials::Landscape<D> landscape;
  grids::Basins<D> basins;
  potentials::Schedule schedule;

  explicit Problem(const RunConfig& c)
      : grid(make_grid<D>(c.grid)),
        objective(make_objective(c.objective, grid)),
        landscape(sample_objective(*objective, grid, c.objective)),
        basins(grids::find_basins(grid, landscape.f())),
        schedule(c.schedule.make()) {}
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;
};

/// The configured initial density ρ0 (not normalised).
template <int D>
grids::Field<double, D> initial_density(const InitialConfig& init, const Problem<D>& p) {
  switch (init.kind) {
    case InitialKind::gaussian: {
      grids::Field<double, D> rho(p.grid.shape());
      grids::for_each_point(p.grid, [&](std::size_t i, const auto& x) {
        double e = 0;
        for (int a = 0; a < D; ++a) {
          const double u = (x[a] - init.center[static_cast<std::size_t>(a)]) / init.width[static_cast<std::size_t>(a)];
          e += u * u / 2;
        }
        rho[i] = std::exp(-e);
      });
      double mass = 0;
      for (double v : rho) mass += v;
      if (!(mass > 0))
        core::throw_invalid("initial.width", core::format_value(init.width[0]) + (D > 1 ? ", ..." : ""),
                            "wide enough for the Gaussian to be non-zero at some grid point (about the grid spacing or more)");
      return rho;
    }
    case InitialKind::uniform:
      return grids::Field<double, D>(p.grid.shape(), 1.0);
    case InitialKind::gibbs:
      return potentials::boltzmann_factor(p.landscape.f(), p.schedule.T(0));
  }
  throw core::Error("scenario: unknown initial kind");
}

}  // namespace qtzflow::scenario
