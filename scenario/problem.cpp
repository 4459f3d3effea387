#include "scenario/problem.hpp"

#include <cmath>

#include "io/grid_samples.hpp"
#include "potentials/sampled.hpp"

namespace qtzflow::scenario {

template <int D>
std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig& o, const grids::Grid<D>& grid) {
  if (!o.is_sampled()) {
    std::vector<double> lo(grid.lower().begin(), grid.lower().end()), hi(grid.upper().begin(), grid.upper().end());
    return make_objective(o, D, lo, hi);
  }
  // the file's grid is compared with the run's before a value is read (a damaged shape could
  // declare billions of points)
  io::GridSamples data = io::read_grid_samples(o.file, o.dataset, "objective.file", [&](const io::GridSamples& found) {
    bool same = found.shape.size() == static_cast<std::size_t>(D);
    for (std::size_t a = 0; same && a < found.shape.size(); ++a) {
      const double h = grid.spacing(static_cast<int>(a));
      same = found.shape[a] == grid.n(static_cast<int>(a)) && std::abs(found.spacing[a] - h) <= 1e-9 * h &&
             std::abs(found.offset[a] - grid.x(static_cast<int>(a), 0)) <= 1e-9 * h;
    }
    if (same) return;
    std::string n, box;
    for (int a = 0; a < D; ++a) {
      n += (a ? ", " : "") + std::to_string(grid.n(a));
      box += std::string(a ? " x " : "") + "[" + core::format_value(grid.lower()[a]) + ", " + core::format_value(grid.upper()[a]) + "]";
    }
    core::throw_invalid(
        "objective.file", core::shorten(found.source, 200) + " is sampled on " + found.describe(),
        "samples on the run's grid, n = [" + n + "], box " + box + " (grid.n, grid.lower, grid.upper): resample the data or change [grid]");
  });
  potentials::SampledSpec spec;
  spec.values = std::move(data.values);
  spec.minima = o.minima;
  spec.source = data.source;
  return potentials::make_sampled_objective(grid, spec);
}

template std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig&, const grids::Grid<1>&);
template std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig&, const grids::Grid<2>&);
template std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig&, const grids::Grid<3>&);

}  // namespace qtzflow::scenario
