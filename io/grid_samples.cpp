#include "io/grid_samples.hpp"

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace qtzflow::io {

std::string GridSamples::describe() const {
  std::string n, box;
  for (std::size_t a = 0; a < shape.size(); ++a) {
    n += (a ? ", " : "") + std::to_string(shape[a]);
    box += std::string(a ? " x " : "") + "[" + core::format_value(lower(a)) + ", " + core::format_value(upper(a)) + "]";
  }
  return "n = [" + n + "], box " + box;
}

GridSamples read_grid_samples(const std::string& path, const std::string& dataset, const std::string& key) {
  GridSamples s;
  std::string name = dataset;
  while (!name.empty() && name.front() == '/') name.erase(name.begin());
  s.source = path + ":/" + name;
  auto bad = [&](const std::string& what, const std::string& expected) {
    core::throw_invalid(key, core::shorten(s.source, 200) + ": " + what, expected);
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) core::throw_invalid(key, "\"" + core::shorten(path, 200) + "\"", "a readable HDF5 file");
  if (name.empty()) bad("no dataset named", "a dataset path, e.g. objective.dataset = \"f\"");
  try {
    const File f = File::open_read(path, File::Integrity::any);
    const Group root = f.root();
    if (!root.exists(name) || root.is_group(name)) bad("no such dataset", "the path of a dataset in the file (objective.dataset)");
    const Dataset d = root.open_dataset(name);
    s.shape = d.shape();
    const std::size_t rank = s.shape.size();
    if (rank < 1 || rank > 3) bad(std::to_string(rank) + " axes", "1, 2 or 3 axes (C order, axis 0 slowest)");
    for (std::size_t a = 0; a < rank; ++a)
      if (s.shape[a] < 2) bad(std::to_string(s.shape[a]) + " points on axis " + std::to_string(a), ">= 2 points per axis");
    auto per_axis = [&](const char* attr) {
      const auto v = d.read_doubles_attribute(attr);
      if (v.size() != rank)
        bad(std::string("attribute ") + attr + " of " + std::to_string(v.size()) + " values", "one per axis, " + std::to_string(rank));
      for (double x : v)
        if (!std::isfinite(x)) bad(std::string("attribute ") + attr + " holds " + core::format_value(x), "finite values");
      return v;
    };
    if (d.has_attribute("lower") && d.has_attribute("upper")) {
      const auto lo = per_axis("lower"), hi = per_axis("upper");
      for (std::size_t a = 0; a < rank; ++a) {
        if (!(lo[a] < hi[a]))
          bad("upper = " + core::format_value(hi[a]) + " <= lower = " + core::format_value(lo[a]) + " on axis " + std::to_string(a), "lower < upper");
        s.spacing.push_back((hi[a] - lo[a]) / static_cast<double>(s.shape[a]));
        s.offset.push_back(lo[a] + 0.5 * s.spacing.back());
      }
    } else if (d.has_attribute("gridSpacing") && d.has_attribute("gridGlobalOffset")) {
      s.spacing = per_axis("gridSpacing");
      s.offset = per_axis("gridGlobalOffset");
      for (std::size_t a = 0; a < rank; ++a)
        if (!(s.spacing[a] > 0)) bad("gridSpacing = " + core::format_value(s.spacing[a]) + " on axis " + std::to_string(a), "> 0");
    } else {
      bad("no grid attributes", "attributes lower and upper (the box) or gridSpacing and gridGlobalOffset (openPMD) on the dataset");
    }
    s.values = d.read_doubles();
  } catch (const Hdf5Error& e) {
    bad(e.what(), "a readable dataset of numbers with its grid's attributes");
  }
  return s;
}

}  // namespace qtzflow::io
