// qtzflow/io/grid_samples.hpp — a field sampled on a uniform grid, read from an HDF5 file that a
// user (h5py, another code) or qtzflow itself wrote: the data of objective.name = "sampled".
//
// Layout accepted (docs/objectives.md, "An objective sampled on a grid"):
//   a dataset of 1, 2 or 3 axes (C order: axis 0 slowest, the last index fastest) of numbers,
//   with the grid it lies on given by attributes on the dataset, either
//     lower, upper                   the box, one value per axis: points at the cell centres
//                                    lower + (i + 1/2)(upper − lower)/n, as qtzflow's [grid]
//   or (openPMD mesh records, as every qtzflow mesh, e.g. /grid/meshes/f of an output)
//     gridSpacing, gridGlobalOffset  spacing h and the coordinate of point 0 per axis.
// Checks before a value is read: the dataset exists and is numeric, its rank is 1–3 with ≥ 2
// points per axis, the attributes are there with one finite value per axis (h > 0, lower <
// upper), and the values fit the memory limit.  Files without metadata checksums (h5py's
// default) are accepted: this is the user's own data.  Every failure is core::InvalidArgument
// whose key is the one passed in (e.g. "objective.file"), naming the file and the dataset.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace qtzflow::io {

struct GridSamples {
  std::vector<std::size_t> shape;       ///< points per axis, slowest first
  std::vector<double> spacing, offset;  ///< h and the coordinate of point 0 per axis
  std::vector<double> values;           ///< C order
  std::string source;                   ///< "file:/dataset", for messages
  /// The box the points are the cell centres of, per axis.
  double lower(std::size_t a) const { return offset[a] - 0.5 * spacing[a]; }
  double upper(std::size_t a) const { return lower(a) + static_cast<double>(shape[a]) * spacing[a]; }
  /// "n = [64, 64], box [-2, 2] x [-2, 2]".
  std::string describe() const;
};

/// Reads `dataset` of `path`; errors are InvalidArgument(key, …).
GridSamples read_grid_samples(const std::string& path, const std::string& dataset, const std::string& key);

}  // namespace qtzflow::io
