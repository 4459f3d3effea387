#include "io/snapshot.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"

namespace qtzflow::io {

namespace fs = std::filesystem;

namespace {

std::string data_path(std::int64_t it) { return "data/" + std::to_string(it); }

void write_mesh_attributes(const Object& o, const MeshGeometry& m) {
  o.write_attribute("gridSpacing", std::span<const double>(m.spacing));
  o.write_attribute("gridGlobalOffset", std::span<const double>(m.offset));
  o.write_attribute("axisLabels", m.labels);
  o.write_attribute("geometry", std::string("cartesian"));
  o.write_attribute("dataOrder", std::string("C"));
  o.write_attribute("gridUnitSI", 1.0);
  o.write_attribute("unitSI", 1.0);
  const std::vector<double> position(m.shape.size(), 0.0);  // values sit at the grid points
  o.write_attribute("position", std::span<const double>(position));
}

[[noreturn]] void damaged(const std::string& path, const std::string& what) { throw Hdf5Error("HDF5: " + path + ": " + what); }

/// Mesh names under a snapshot's meshes/ group: "rho", "psi/re", ... (at least one).
std::vector<std::string> mesh_names(const Group& meshes) {
  std::vector<std::string> out;
  for (const auto& c : meshes.children()) {
    if (meshes.is_group(c)) {
      const Group g = meshes.open_group(c);
      for (const auto& cc : g.children()) out.push_back(c + "/" + cc);
    } else {
      out.push_back(c);
    }
  }
  if (out.empty()) damaged(meshes.file(), meshes.path() + " holds no mesh");
  return out;
}

/// A /data/<name> group's iteration number: decimal digits only, at most 18 of them.
std::int64_t parse_iteration(const std::string& name, const std::string& path) {
  std::int64_t it = -1;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), it);
  if (name.empty() || name.size() > 18 || name[0] == '-' || ec != std::errc() || end != name.data() + name.size())
    damaged(path, "/data/" + core::shorten(name, 40) + " is not an iteration number (decimal digits)");
  return it;
}

double finite_attribute(const Object& o, const std::string& name, double lo) {
  const double v = o.read_double_attribute(name);
  if (!(std::isfinite(v) && v >= lo))
    damaged(o.file(), o.path() + " attribute " + name + " = " + core::format_value(v) + ", expected a finite number >= " + core::format_value(lo));
  return v;
}

/// The /diagnostics series, checked to hold one value per row each, with ascending iterations.
void read_diagnostics_group(const Group& root, std::vector<std::int64_t>& iterations, std::vector<double>& times,
                            std::map<std::string, std::vector<double>>& series) {
  if (!root.exists("diagnostics")) damaged(root.file(), "no /diagnostics group");
  const Group diag = root.open_group("diagnostics");
  const auto it_shape = diag.open_dataset("iteration").shape();
  if (it_shape.size() != 1) damaged(root.file(), "/diagnostics/iteration is not a 1D series");
  const std::size_t rows_n = it_shape[0];
  // shapes first, so that a damaged extent is refused before anything is allocated
  auto rows = [&](const std::string& name) -> Dataset {
    Dataset d = diag.open_dataset(name);
    const auto shape = d.shape();
    if (shape.size() != 1 || shape[0] != rows_n)
      damaged(root.file(), "/diagnostics/" + core::shorten(name, 40) + " holds " +
                               (shape.size() == 1 ? std::to_string(shape[0]) + " values" : "a non-1D array") + " for " + std::to_string(rows_n) +
                               " rows");
    return d;
  };
  for (const auto& c : diag.children()) (void)rows(c);
  iterations = rows("iteration").read_int64();
  for (std::size_t r = 1; r < iterations.size(); ++r)
    if (iterations[r] <= iterations[r - 1]) damaged(root.file(), "/diagnostics/iteration is not ascending at row " + std::to_string(r));
  times = rows("time").read_doubles();
  for (const auto& c : diag.children())
    if (c != "iteration" && c != "time") series[c] = rows(c).read_doubles();
}

constexpr const char* kGridPart = "grid";

}  // namespace

SnapshotWriter::SnapshotWriter(std::string path, MeshGeometry mesh, RunInfo info)
    : path_(std::move(path)), mesh_(std::move(mesh)), info_(std::move(info)), date_(core::utc_now()) {
  if (path_.empty()) core::throw_invalid("output.path", "\"\"", "a file name");
}

std::string SnapshotWriter::part_name(std::int64_t it) const { return fs::path(path_).filename().string() + ".parts/" + std::to_string(it) + ".h5"; }

std::string SnapshotWriter::part_path(std::int64_t it) const { return (fs::path(path_).parent_path() / part_name(it)).string(); }

std::string SnapshotWriter::xdmf_path_of(const std::string& output) { return fs::path(output).replace_extension(".xdmf").string(); }

namespace {

/// A record of a part file as the placement sees it: its name, this rank's number of values and
/// how they are spread over the ranks.
struct Record {
  std::string name;
  std::size_t size;
  FieldView::Layout layout;
};

/// Where this rank's values of a record go: rows [first_row, first_row + its rows) of an array
/// of shape `shape`; `writes` is false for a replicated record on ranks other than 0.
struct Placement {
  std::vector<std::size_t> shape;
  std::size_t first_row = 0;
  bool writes = true;
  template <class T>
  std::span<const T> mine(std::span<const T> values) const {
    return writes ? values : std::span<const T>();
  }
};

/// The placements of `records` (meshes of `mesh_shape`, or 1D records when `mesh_shape` is
/// empty), from every rank's sizes, gathered in one exchange.  Every check uses the gathered
/// sizes only, so that all ranks refuse together.  Collective.
std::vector<Placement> place(const std::vector<Record>& records, const std::vector<std::vector<std::size_t>>& mesh_shapes) {
  std::vector<double> mine;
  for (const auto& r : records) mine.push_back(static_cast<double>(r.size));
  const std::vector<double> sizes = core::mpi::allgather(mine);  // ranks × records, rank-major
  const std::size_t columns = records.size();
  const auto ranks = static_cast<std::size_t>(core::mpi::size()), me = static_cast<std::size_t>(core::mpi::rank());
  std::vector<Placement> out;
  for (std::size_t k = 0; k < records.size(); ++k) {
    const Record& r = records[k];
    const auto& mesh_shape = mesh_shapes[k];
    std::size_t mesh_size = 1, row = 1;
    for (std::size_t a = 0; a < mesh_shape.size(); ++a) {
      mesh_size *= mesh_shape[a];
      if (a > 0) row *= mesh_shape[a];
    }
    std::size_t total = 0, before = 0;
    for (std::size_t q = 0; q < ranks; ++q) {
      const auto n = static_cast<std::size_t>(sizes[q * columns + k]);
      total += n;
      if (q < me) before += n;
    }
    Placement p;
    if (r.layout == FieldView::Layout::replicated) {
      total = static_cast<std::size_t>(sizes[k]);  // rank 0's, which it writes (so all ranks check the same)
      p.writes = me == 0;
      before = 0;
    }
    if (mesh_shape.empty()) {
      p.shape = {total};
      p.first_row = before;
    } else {
      if (total != mesh_size)
        core::throw_invalid(r.name, std::to_string(total) + " values" + (ranks > 1 ? " over all ranks" : ""),
                            std::to_string(mesh_size) + " (the mesh size)");
      if (r.layout == FieldView::Layout::blocks)
        for (std::size_t q = 0; q < ranks; ++q)
          if (const auto n = static_cast<std::size_t>(sizes[q * columns + k]); n % row != 0)
            core::throw_invalid(r.name, "a block of " + std::to_string(n) + " values on rank " + std::to_string(q),
                                "whole rows of " + std::to_string(row) + " values");
      p.shape = mesh_shape;
      p.first_row = before / row;
    }
    out.push_back(std::move(p));
  }
  return out;
}

/// Writes the part file `part` whole or not at all, with all ranks (parallel HDF5): `body`
/// fills the open file and closes every object it opens; rank 0 renames the complete file over
/// `part`.  A failure on any rank leaves `part` untouched and is rethrown on every rank.
template <class Body>
void write_part(const std::string& part, Body&& body) {
  std::optional<core::AtomicReplacement> replacing;
  core::mpi::on_root([&] {
    fs::create_directories(fs::path(part).parent_path());
    replacing.emplace(part);
  });
  core::mpi::on_every_rank([&] {
    File pf = File::create(core::AtomicReplacement::temporary_of(part), File::Access::all_ranks);
    body(pf);  // MPI-IO closes only a file without open objects
    pf.close();
  });
  core::mpi::on_root([&] { replacing->commit(); });
}

}  // namespace

void SnapshotWriter::write(std::int64_t iteration, double time, double dt, std::span<const FieldView> fields,
                           const std::vector<std::pair<std::string, double>>& diagnostics, std::span<const FieldView> particles) {
  if (!snapshots_.empty() && iteration <= snapshots_.back().iteration)
    core::throw_invalid("iteration", std::to_string(iteration), "> the last snapshot's " + std::to_string(snapshots_.back().iteration));
  if (!diag_iterations_.empty() && iteration < diag_iterations_.back())
    core::throw_invalid("iteration", std::to_string(iteration), ">= the last diagnostics row's " + std::to_string(diag_iterations_.back()));
  if (diag_iterations_.empty() || diag_iterations_.back() != iteration) check_row(diagnostics);
  std::vector<Record> records;
  std::vector<std::vector<std::size_t>> shapes;
  for (const auto& f : fields) {
    records.push_back({"field " + f.name, f.values.size(), f.layout});
    shapes.push_back(mesh_.shape);
  }
  for (const auto& r : particles) {
    records.push_back({"particle record " + r.name, r.values.size(), r.layout});
    shapes.emplace_back();
  }
  const std::vector<Placement> at = place(records, shapes);

  // 1. the snapshot, whole, in its own part file, written by all ranks together
  write_part(part_path(iteration), [&](const File& pf) {
    const Group snap = pf.root().create_group(data_path(iteration));
    snap.write_attribute("time", time);
    snap.write_attribute("dt", dt);
    snap.write_attribute("timeUnitSI", 1.0);
    const Group meshes = snap.create_group("meshes");
    std::set<std::string> groups;
    for (std::size_t k = 0; k < fields.size(); ++k) {
      const Dataset d = meshes.create_dataset(fields[k].name, at[k].shape);
      d.write_rows(at[k].first_row, at[k].mine(fields[k].values));
      write_mesh_attributes(d, mesh_);
      const auto slash = fields[k].name.find('/');
      if (slash != std::string::npos && groups.insert(fields[k].name.substr(0, slash)).second)
        write_mesh_attributes(meshes.open_group(fields[k].name.substr(0, slash)), mesh_);
    }
    if (!particles.empty()) {
      const Group parts = snap.create_group("particles");
      for (std::size_t k = 0; k < particles.size(); ++k) {
        const std::string& name = particles[k].name;
        // create the intermediate groups species/record of "species/record/component"
        for (std::size_t pos = name.find('/'); pos != std::string::npos; pos = name.find('/', pos + 1))
          if (!parts.exists(name.substr(0, pos))) parts.create_group(name.substr(0, pos));
        const Placement& p = at[fields.size() + k];
        const Dataset d = parts.create_dataset(name, p.shape);
        d.write_rows(p.first_row, p.mine(particles[k].values));
        d.write_attribute("unitSI", 1.0);
      }
    }
  });

  // 2. the bookkeeping (every rank), then the main file and the sidecar, each replaced atomically
  Entry e{iteration, time, {}};
  for (const auto& f : fields) e.fields.push_back(f.name);
  snapshots_.push_back(std::move(e));
  if (diag_iterations_.empty() || diag_iterations_.back() != iteration) append_row(iteration, time, diagnostics);
  core::mpi::on_root([&] {
    write_main(false);
    write_xdmf();
  });
}

void SnapshotWriter::add_diagnostics(std::int64_t iteration, double time, const std::vector<std::pair<std::string, double>>& diagnostics) {
  if (!diag_iterations_.empty() && iteration <= diag_iterations_.back())
    core::throw_invalid("iteration", std::to_string(iteration), "> the last diagnostics row's " + std::to_string(diag_iterations_.back()));
  check_row(diagnostics);
  append_row(iteration, time, diagnostics);
}

void SnapshotWriter::check_row(const std::vector<std::pair<std::string, double>>& diagnostics) const {
  std::set<std::string> names;
  for (const auto& [n, v] : diagnostics) names.insert(n);
  if (names.size() != diagnostics.size()) core::throw_invalid("diagnostics", "a name given twice", "each name once per row");
  if (!diagnostics_.empty()) {
    std::set<std::string> have;
    for (const auto& [n, v] : diagnostics_) have.insert(n);
    if (names != have) core::throw_invalid("diagnostics", "a different set of names", "the same names in every row");
  }
}

void SnapshotWriter::append_row(std::int64_t iteration, double time, const std::vector<std::pair<std::string, double>>& diagnostics) {
  for (const auto& [n, v] : diagnostics) diagnostics_[n].push_back(v);
  diag_iterations_.push_back(iteration);
  diag_times_.push_back(time);
}

std::string SnapshotWriter::grid_part_name() const { return fs::path(path_).filename().string() + ".parts/" + kGridPart + ".h5"; }

void SnapshotWriter::write_grid(const GridRecords& r) {
  if (has_grid_) return;  // a resumed output keeps the /grid it has
  if (r.coordinates.size() != mesh_.shape.size())
    core::throw_invalid("grid records", std::to_string(r.coordinates.size()) + " coordinate axes", std::to_string(mesh_.shape.size()));
  for (std::size_t a = 0; a < r.coordinates.size(); ++a)
    if (r.coordinates[a].size() != mesh_.shape[a])
      core::throw_invalid("grid records", std::to_string(r.coordinates[a].size()) + " coordinates on axis " + std::to_string(a),
                          std::to_string(mesh_.shape[a]));
  std::vector<Record> records;
  for (const auto& m : r.meshes) records.push_back({"grid mesh " + m.name, m.values.size(), m.layout});
  const bool basin = core::mpi::allreduce_max(r.basin.empty() ? 0.0 : 1.0) > 0;  // a block may be empty, the labels are not
  if (basin) records.push_back({"grid mesh basin", r.basin.size(), r.basin_layout});
  const std::vector<Placement> at = place(records, std::vector<std::vector<std::size_t>>(records.size(), mesh_.shape));
  write_part((fs::path(path_).parent_path() / grid_part_name()).string(), [&](const File& pf) {
    const Group g = pf.root().create_group(kGridPart);
    // the descriptions go into one attribute of /grid: a ninth attribute on a mesh would move its
    // attributes to HDF5's dense storage, which libhdf5 itself crashes on when copying a damaged one
    std::string about = "what every snapshot lies on (written once):";
    for (std::size_t a = 0; a < r.coordinates.size(); ++a) {
      const Dataset d = g.create_dataset(mesh_.labels[a], {r.coordinates[a].size()});
      d.write_rows(0, core::mpi::rank() == 0 ? std::span<const double>(r.coordinates[a]) : std::span<const double>());
      d.write_attribute("unitSI", 1.0);
      about += "\n" + mesh_.labels[a] + ": coordinates of the points along axis " + std::to_string(a);
    }
    const Group meshes = g.create_group("meshes");
    for (std::size_t k = 0; k < r.meshes.size(); ++k) {
      const Dataset d = meshes.create_dataset(r.meshes[k].name, at[k].shape);
      d.write_rows(at[k].first_row, at[k].mine(r.meshes[k].values));
      write_mesh_attributes(d, mesh_);
      about += "\nmeshes/" + r.meshes[k].name + ": " + (r.meshes[k].description.empty() ? r.meshes[k].name : r.meshes[k].description);
    }
    if (basin) {
      const Placement& p = at.back();
      const Dataset d = meshes.create_dataset("basin", p.shape, Group::Element::int32);
      d.write_rows(p.first_row, p.mine(r.basin));
      write_mesh_attributes(d, mesh_);
      about += "\nmeshes/basin: basin of attraction of each point (steepest descent on f), label 0 holding the lowest minimum";
    }
    g.write_attribute("description", about);
  });
  for (const auto& m : r.meshes) grid_meshes_.push_back(m.name);
  if (basin) grid_meshes_.push_back("basin");
  has_grid_ = true;
}

void SnapshotWriter::write_main(bool consolidate) const {
  write_file_atomically(path_, [&](const Group& root) {
    root.write_attribute("software", std::string("qtzflow"));
    root.write_attribute("softwareVersion", std::string(core::version));
    root.write_attribute("date", date_);
    root.write_attribute("gitRevision", info_.git_revision);
    root.write_attribute("config", info_.config_text);
    root.write_attribute("fftwWisdom", info_.fftw_wisdom);
    if (!info_.restart_history.empty()) root.write_attribute("restartHistory", info_.restart_history);
    root.write_attribute("openPMD", std::string("1.1.0"));
    root.write_attribute("basePath", std::string("/data/%T/"));
    root.write_attribute("meshesPath", std::string("meshes/"));
    root.write_attribute("iterationEncoding", std::string("groupBased"));
    root.write_attribute("iterationFormat", std::string("/data/%T/"));
    if (has_grid_) {
      if (consolidate) {
        const File pf = File::open_read((fs::path(path_).parent_path() / grid_part_name()).string());
        root.copy_from(pf.root(), kGridPart, kGridPart);
      } else {
        root.link_external(kGridPart, grid_part_name(), std::string("/") + kGridPart);
      }
    }
    for (const auto& s : snapshots_) {
      if (consolidate) {
        const File pf = File::open_read(part_path(s.iteration));
        root.copy_from(pf.root(), data_path(s.iteration), data_path(s.iteration));
      } else {
        root.link_external(data_path(s.iteration), part_name(s.iteration), "/" + data_path(s.iteration));
      }
    }
    root.create_series("diagnostics/iteration", true).append(std::span<const std::int64_t>(diag_iterations_));
    root.create_series("diagnostics/time").append(std::span<const double>(diag_times_));
    for (const auto& [name, values] : diagnostics_) root.create_series("diagnostics/" + name).append(std::span<const double>(values));
  });
}

void SnapshotWriter::write_xdmf() const {
  // XDMF has no 1D structured mesh: a 1D field is shown as a 1 × n sheet.
  std::vector<std::size_t> shape = mesh_.shape;
  std::vector<double> origin = mesh_.offset, spacing = mesh_.spacing;
  if (shape.size() == 1) {
    shape.insert(shape.begin(), 1);
    origin.insert(origin.begin(), 0.0);
    spacing.insert(spacing.begin(), 1.0);
  }
  auto join = [](const auto& v) {
    std::ostringstream o;
    o.precision(17);
    for (std::size_t i = 0; i < v.size(); ++i) o << (i ? " " : "") << v[i];
    return o.str();
  };
  const std::string dims = join(shape), d = std::to_string(shape.size());
  const std::string h5 = fs::path(path_).filename().string();
  std::ostringstream x;
  x.precision(17);
  x << "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"3.0\">\n <Domain>\n"
    << "  <Grid Name=\"qtzflow\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (const auto& s : snapshots_) {
    x << "   <Grid Name=\"iteration " << s.iteration << "\" GridType=\"Uniform\">\n"
      << "    <Time Value=\"" << s.time << "\"/>\n"
      << "    <Topology TopologyType=\"" << d << "DCoRectMesh\" Dimensions=\"" << dims << "\"/>\n"
      << "    <Geometry GeometryType=\"" << (shape.size() == 3 ? "ORIGIN_DXDYDZ" : "ORIGIN_DXDY") << "\">\n"
      << "     <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"" << d << "\">" << join(origin) << "</DataItem>\n"
      << "     <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"" << d << "\">" << join(spacing) << "</DataItem>\n"
      << "    </Geometry>\n";
    for (const auto& g : grid_meshes_)
      x << "    <Attribute Name=\"" << g << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
        << "     <DataItem Format=\"HDF\" NumberType=\"" << (g == "basin" ? "Int\" Precision=\"4" : "Float\" Precision=\"8") << "\" Dimensions=\""
        << dims << "\">" << h5 << ":/" << kGridPart << "/meshes/" << g << "</DataItem>\n    </Attribute>\n";
    for (const auto& f : s.fields) {
      std::string label = f;
      std::replace(label.begin(), label.end(), '/', '_');
      x << "    <Attribute Name=\"" << label << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
        << "     <DataItem Format=\"HDF\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"" << dims << "\">" << h5 << ":/" << data_path(s.iteration)
        << "/meshes/" << f << "</DataItem>\n    </Attribute>\n";
    }
    x << "   </Grid>\n";
  }
  x << "  </Grid>\n </Domain>\n</Xdmf>\n";
  core::write_text_atomically(xdmf_path(), x.str());
}

void SnapshotWriter::finish() {
  core::mpi::on_root([&] {
    if (snapshots_.empty()) {  // nothing landed: leave no parts folder behind (it holds /grid at most)
      std::error_code ec;
      fs::remove_all(fs::path(path_).parent_path() / (fs::path(path_).filename().string() + ".parts"), ec);
      return;
    }
    write_main(true);
    fs::remove_all(fs::path(path_).parent_path() / (fs::path(path_).filename().string() + ".parts"));
  });
}

SnapshotWriter SnapshotWriter::resume(const std::string& path) {
  const File f = File::open_read(path);
  const Group root = f.root();
  RunInfo info{root.read_string_attribute("config"),
               root.read_string_attribute("gitRevision"),
               root.has_attribute("fftwWisdom") ? root.read_string_attribute("fftwWisdom") : std::string(),
               {}};  // history: below
  const auto its = snapshot_iterations(path);
  if (its.empty()) damaged(path, "no snapshot under /data");
  // mesh geometry from the first mesh of the first snapshot
  const Group meshes0 = root.open_group(data_path(its.front()) + "/meshes");
  const auto names0 = mesh_names(meshes0);
  const Dataset d0 = meshes0.open_dataset(names0.front());
  MeshGeometry mesh;
  mesh.shape = d0.shape();
  mesh.spacing = d0.read_doubles_attribute("gridSpacing");
  mesh.offset = d0.read_doubles_attribute("gridGlobalOffset");
  mesh.labels = d0.read_strings_attribute("axisLabels");
  const std::size_t rank = mesh.shape.size();
  if (rank < 1 || rank > 3 || mesh.spacing.size() != rank || mesh.offset.size() != rank || mesh.labels.size() != rank)
    damaged(path, d0.path() + ": a mesh of rank " + std::to_string(rank) + " with " + std::to_string(mesh.spacing.size()) + " spacings, " +
                      std::to_string(mesh.offset.size()) + " offsets and " + std::to_string(mesh.labels.size()) + " labels");
  for (std::size_t a = 0; a < rank; ++a)
    if (mesh.shape[a] < 2 || !(std::isfinite(mesh.spacing[a]) && mesh.spacing[a] > 0) || !std::isfinite(mesh.offset[a]))
      damaged(path, d0.path() + ": axis " + std::to_string(a) + " has " + std::to_string(mesh.shape[a]) + " points, spacing " +
                        core::format_value(mesh.spacing[a]) + ", offset " + core::format_value(mesh.offset[a]));
  SnapshotWriter w(path, mesh, info);
  w.date_ = root.read_string_attribute("date");
  const Group data = root.open_group("data");
  for (auto it : its) {
    const std::string name = std::to_string(it);
    {  // checked first, copied after
      const Group snap = root.open_group(data_path(it));
      w.snapshots_.push_back({it, finite_attribute(snap, "time", 0.0), mesh_names(snap.open_group("meshes"))});
      for (const auto& field : w.snapshots_.back().fields)
        if (snap.open_group("meshes").open_dataset(field).shape() != mesh.shape)
          damaged(path, snap.path() + "/meshes/" + field + ": not of the mesh's shape");
    }
    if (!data.is_external_link(name) && core::mpi::rank() == 0) {
      // a consolidated file: move the snapshot back into its own part file
      const std::string part = w.part_path(it);
      fs::create_directories(fs::path(part).parent_path());
      write_file_atomically(part, [&](const Group& part_root) { part_root.copy_from(root, data_path(it), data_path(it)); });
    }
  }
  if (root.exists(kGridPart)) {
    const std::string part = (fs::path(path).parent_path() / w.grid_part_name()).string();
    if (!root.is_external_link(kGridPart) && core::mpi::rank() == 0) {
      fs::create_directories(fs::path(part).parent_path());
      write_file_atomically(part, [&](const Group& part_root) { part_root.copy_from(root, kGridPart, kGridPart); });
    }
    const Group g = root.open_group(std::string(kGridPart) + "/meshes");
    for (const auto& m : g.children()) {
      if (g.open_dataset(m).shape() != mesh.shape) damaged(path, g.path() + "/" + m + ": not of the mesh's shape");
      w.grid_meshes_.push_back(m);
    }
    w.has_grid_ = true;
  }
  read_diagnostics_group(root, w.diag_iterations_, w.diag_times_, w.diagnostics_);
  for (auto it : its)
    if (!std::binary_search(w.diag_iterations_.begin(), w.diag_iterations_.end(), it))
      damaged(path, "/diagnostics/iteration has no row for snapshot " + std::to_string(it));
  // rows after the last snapshot (a run that failed between snapshots) are recomputed by the restart
  while (!w.diag_iterations_.empty() && w.diag_iterations_.back() > its.back()) {
    w.diag_iterations_.pop_back();
    w.diag_times_.pop_back();
    for (auto& [n, v] : w.diagnostics_) v.pop_back();
  }
  if (root.has_attribute("restartHistory")) w.info_.restart_history = root.read_string_attribute("restartHistory");
  return w;
}

std::vector<std::int64_t> snapshot_iterations(const std::string& path) {
  const File f = File::open_read(path);
  const Group root = f.root();
  std::vector<std::int64_t> its;
  if (!root.exists("data")) return its;
  for (const auto& c : root.open_group("data").children()) its.push_back(parse_iteration(c, path));
  std::sort(its.begin(), its.end());
  const auto twice = std::adjacent_find(its.begin(), its.end());
  if (twice != its.end()) damaged(path, "/data holds two groups of iteration " + std::to_string(*twice) + " (e.g. \"7\" and \"007\")");
  return its;
}

Snapshot read_snapshot(const std::string& path, std::int64_t iteration, const SnapshotShape& expect) {
  const File f = File::open_read(path);
  const Group snap = f.root().open_group(data_path(iteration));
  Snapshot s;
  s.iteration = iteration;
  s.time = finite_attribute(snap, "time", 0.0);
  s.dt = finite_attribute(snap, "dt", 0.0);
  if (!(s.dt > 0)) damaged(path, snap.path() + " attribute dt = 0, expected > 0");
  const Group meshes = snap.open_group("meshes");
  for (const auto& n : mesh_names(meshes)) {
    const Dataset d = meshes.open_dataset(n);
    if (!expect.mesh_shape.empty() && d.shape() != expect.mesh_shape) damaged(path, d.path() + ": not of the mesh's shape");
    s.fields[n] = expect.rows > 0 && !expect.mesh_shape.empty() ? d.read_rows(expect.first_row, expect.rows) : d.read_doubles();
  }
  if (snap.exists("particles")) {
    const Group parts = snap.open_group("particles");
    for (const auto& species : parts.children())
      for (const auto& record : parts.open_group(species).children())
        for (const auto& comp : parts.open_group(species + "/" + record).children()) {
          const std::string name = species + "/" + record + "/" + comp;
          const Dataset d = parts.open_dataset(name);
          if (expect.particles > 0 && d.shape() != std::vector<std::size_t>{expect.particles})
            damaged(path, d.path() + ": not one value for each of the " + std::to_string(expect.particles) + " particles");
          s.particles[name] = d.read_doubles();
        }
  }
  if (f.root().exists("diagnostics")) {
    std::vector<std::int64_t> its;
    std::vector<double> times;
    std::map<std::string, std::vector<double>> series;
    read_diagnostics_group(f.root(), its, times, series);
    const auto row = std::find(its.begin(), its.end(), iteration);
    if (row != its.end()) {
      const auto r = static_cast<std::size_t>(row - its.begin());
      s.diagnostics["time"] = times[r];
      for (const auto& [name, v] : series) s.diagnostics[name] = v[r];
    }
  }
  return s;
}

DiagnosticsTable read_diagnostics(const std::string& path) {
  const File f = File::open_read(path);
  DiagnosticsTable t;
  read_diagnostics_group(f.root(), t.iteration, t.time, t.series);
  return t;
}

std::string read_config_text(const std::string& path) {
  const File f = File::open_read(path);
  return f.root().read_string_attribute("config");
}

}  // namespace qtzflow::io
