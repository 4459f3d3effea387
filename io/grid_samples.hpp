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
//   Its values are stored in the named file itself, reached by hard links: virtual datasets,
//   external raw storage and external or soft links are refused (they read other files, any
//   file the process may read, or a FIFO that blocks forever).  Contiguous, compact and
//   chunked layouts with HDF5's own filters (deflate, shuffle, scale-offset, ...) are read;
//   filter plugins are never loaded.
// Checks before a value is read: the dataset exists and is numeric, its rank is 1–3 with ≥ 2
// points per axis, the attributes are there with one finite value per axis (h > 0, lower <
// upper), the caller's own check of that geometry passes (the run's grid, say), and the values
// fit the memory limit.
// Safety: files without metadata checksums (h5py's default) are accepted, since this is the
// user's own data, and libhdf5 can crash on a damaged one (a flipped byte in a chunk index).
// So the file is read in a child process (fork): a crash or a hang of libhdf5 there ends in
// InvalidArgument naming the file, never in a crash of qtzflow.  Cost: one fork (~1 ms plus
// the page tables of a large process) and a copy of the values through a pipe.
// Every failure is core::InvalidArgument whose key is the one passed in (e.g.
// "objective.file"), naming the file and the dataset; a failure to start the child (fork,
// pipe) is core::Error.
#pragma once

#include <cstddef>
#include <functional>
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

/// Reads `dataset` of `path`; errors are InvalidArgument(key, …).  `before_reading`, when
/// given, sees the geometry (shape, spacing, offset and source; no values yet) before any value
/// is read or allocated, and may refuse it by throwing.
GridSamples read_grid_samples(const std::string& path, const std::string& dataset, const std::string& key,
                              const std::function<void(const GridSamples&)>& before_reading = {});

}  // namespace qtzflow::io
