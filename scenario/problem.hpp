// qtzflow/scenario/problem.hpp — a problem is what every engine of a run shares: the grid, the
// objective sampled on it (Landscape), its basins of attraction, the temperature schedule and
// the initial density.  Built once from a RunConfig; the engine adapters (engines.hpp) and the
// run loop (run.hpp) take it by reference.  Under mpirun a [schrodinger] or [fokker_planck] run
// on a 2D/3D grid holds only this rank's rows of every field here (RowBlock): the landscape, the
// basin labels and the initial density are computed on those rows alone (the labels and min f
// by exchanges with the other ranks), so no rank ever holds a whole field.
// Conventions: as grids/ (axis 0 slowest, cell centres).  The initial density ρ0 is returned
// unnormalised: gaussian e^{−Σ (x_a − c_a)²/(2 w_a²)} (w = standard deviation of the density),
// uniform 1, gibbs e^{−(f − min f)/T(0)}.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "grids/basins.hpp"
#include "grids/distributed_fft.hpp"
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

/// This rank's rows of axis 0.  Under mpirun with several ranks, a [schrodinger] or
/// [fokker_planck] run on a 2D or 3D grid is distributed: each rank holds FFTW-MPI's block of
/// rows (the engines' slabs, grids/distributed_fft.hpp) of everything the problem samples, and
/// never the whole grid.  Otherwise (one rank, particles, 1D) the rows are all rows.
struct RowBlock {
  std::size_t first = 0, count = 0;
  bool distributed = false;
};
template <int D>
RowBlock rows_of_run(const RunConfig& c, const grids::Grid<D>& g) {
  if constexpr (D >= 2) {
    if (core::mpi::active() && !std::holds_alternative<ParticlesConfig>(c.engine)) {
      const auto layout = grids::slab_layout<D>(g.shape(), false);  // collective; refuses a rank without rows
      return {layout.offset[0], layout.local[0], true};
    }
  }
  return {0, g.n(0), false};
}

/// A field of the rows `rows` of the grid (a block when distributed, the whole grid otherwise).
template <class T, int D>
grids::Field<T, D> field_of_rows(const grids::Grid<D>& g, const RowBlock& rows, T value) {
  auto extent = g.shape();
  typename grids::Grid<D>::Shape offset{};
  extent[0] = rows.count;
  offset[0] = rows.first;
  return grids::Field<T, D>(g.shape(), extent, offset, rows.distributed, 0, value);
}

/// The objective sampled on rows `rows` of the grid; an expression that is not finite at a grid
/// point is reported against objective.f, with the point.  Collective when distributed: a
/// failure on one rank is rethrown on all.
template <int D>
potentials::Landscape<D> sample_objective(const potentials::Objective& f, const grids::Grid<D>& g, const ObjectiveConfig& o, const RowBlock& rows) {
  return core::mpi::agreed([&] {
    if (o.is_expression()) {
      std::vector<double> x(D);
      grids::for_each_point_of_rows(g, rows.first, rows.count, [&](std::size_t, const auto& p) {
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
      return potentials::Landscape<D>(f, g, rows.first, rows.count, rows.distributed);
    } catch (const core::InvalidArgument& e) {  // f or its derivatives not finite: named by the key that chose the objective
      if (e.key() != "objective") throw;
      const std::string key = o.is_expression() ? "objective.f" : o.is_sampled() ? "objective.file" : "objective.name";
      const std::string what = o.is_expression() ? "\"" + core::shorten(o.formula, 80) + "\""
                               : o.is_sampled()  ? core::shorten(o.file, 200) + ":" + o.dataset
                                                 : o.name;
      throw core::InvalidArgument(key, key + " = " + what + ": " + e.detail());
    }
  });
}

/// The objective sampled on the whole grid.
template <int D>
potentials::Landscape<D> sample_objective(const potentials::Objective& f, const grids::Grid<D>& g, const ObjectiveConfig& o) {
  return sample_objective(f, g, o, RowBlock{0, g.n(0), false});
}

template <int D>
struct Problem {
  grids::Grid<D> grid;
  std::unique_ptr<potentials::Objective> objective;  ///< whole on every rank (a sampled one holds its samples)
  RowBlock rows;                                     ///< this rank's rows of the fields below
  potentials::Landscape<D> landscape;                ///< f, |grad f|^2, Laplacian on `rows`
  grids::Basins<D> basins;                           ///< labels on `rows`; the minima of the whole grid
  potentials::Schedule schedule;

  explicit Problem(const RunConfig& c)
      : grid(make_grid<D>(c.grid)),
        objective(core::mpi::agreed([&] { return make_objective(c.objective, grid); })),
        rows(rows_of_run(c, grid)),
        landscape(sample_objective(*objective, grid, c.objective, rows)),
        basins(grids::find_basins(grid, landscape.f())),  // collective when distributed
        schedule(c.schedule.make()) {}
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;

  /// A field of this problem's rows (a block when distributed, the whole grid otherwise).
  grids::Field<double, D> field(double value = 0.0) const { return field_of_rows<double>(grid, rows, value); }
};

/// The configured initial density ρ0 (not normalised) on the problem's rows.  Collective when
/// distributed (the Gaussian's mass check and the Gibbs density's min f are over all ranks).
template <int D>
grids::Field<double, D> initial_density(const InitialConfig& init, const Problem<D>& p) {
  switch (init.kind) {
    case InitialKind::gaussian: {
      grids::Field<double, D> rho = p.field();
      grids::for_each_point_of_rows(p.grid, p.rows.first, p.rows.count, [&](std::size_t i, const auto& x) {
        double e = 0;
        for (int a = 0; a < D; ++a) {
          const double u = (x[a] - init.center[static_cast<std::size_t>(a)]) / init.width[static_cast<std::size_t>(a)];
          e += u * u / 2;
        }
        rho[i] = std::exp(-e);
      });
      double mass = 0;
      for (double v : rho) mass += v;
      if (!(grids::sum_over_blocks(rho, mass) > 0))
        core::throw_invalid("initial.width", core::format_value(init.width[0]) + (D > 1 ? ", ..." : ""),
                            "wide enough for the Gaussian to be non-zero at some grid point (about the grid spacing or more)");
      return rho;
    }
    case InitialKind::uniform:
      return p.field(1.0);
    case InitialKind::gibbs:
      return potentials::boltzmann_factor(p.landscape.f(), p.schedule.T(0));
  }
  throw core::Error("scenario: unknown initial kind");
}

}  // namespace qtzflow::scenario
