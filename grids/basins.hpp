// qtzflow/grids/basins.hpp — basins of attraction of a sampled objective.
//
// Every grid point is labelled with the local minimum that discrete steepest descent reaches:
// from each point, step to the neighbour (all 3^D − 1 neighbours, diagonals included) with the
// most negative slope (f_nb − f)/distance; a point with no lower neighbour is a minimum.  On a
// periodic grid neighbours wrap around, otherwise the box edge is a wall.  Labels are numbered
// by increasing value of their minimum, so label 0 is the global minimum's basin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "grids/field.hpp"
#include "grids/grid.hpp"

namespace qtzflow::grids {

template <int D>
struct Basins {
  Field<std::int32_t, D> label;            ///< basin label of every point
  std::vector<std::size_t> minimum_index;  ///< flat index of each basin's minimum
  std::vector<double> minimum_value;       ///< f at that minimum (ascending)
  std::size_t count() const { return minimum_index.size(); }
};

/// Labels the basins of the sampled objective f (extent must equal the grid's), or of one rank's
/// block of a distributed f: then the labels are that block too (same rows), the minima lists
/// cover every rank's, and the labelling is collective (the halo rows and the minima are
/// exchanged); labels and numbering equal the whole grid's exactly.
template <int D>
Basins<D> find_basins(const Grid<D>& grid, const Field<double, D>& f);

/// Mass of density(field[i]) · cell volume in each basin (density = |ψ|² or ρ, chosen by the
/// caller); entries follow the basin labels.  `field` may be one rank's block of a distributed
/// field (the labels then cover the whole grid or the same block; the masses are summed over
/// ranks: collective).
template <int D, class T, class Density>
std::vector<double> mass_per_basin(const Grid<D>& grid, const Basins<D>& basins, const Field<T, D>& field, Density density) {
  if (field.global_extent() != grid.shape()) require_shape("field", field, grid.shape());
  std::vector<double> mass(basins.count(), 0.0);
  const auto* lab = block_values("basins", basins.label, grid.shape(), field.extent(), field.offset());
  for (std::size_t i = 0; i < field.size(); ++i) mass[static_cast<std::size_t>(lab[i])] += density(field[i]);
  for (double& m : mass) m *= grid.cell_volume();
  if (field.distributed()) core::mpi::allreduce_sum(mass);
  return mass;
}

extern template Basins<1> find_basins(const Grid<1>&, const Field<double, 1>&);
extern template Basins<2> find_basins(const Grid<2>&, const Field<double, 2>&);
extern template Basins<3> find_basins(const Grid<3>&, const Field<double, 3>&);

}  // namespace qtzflow::grids
