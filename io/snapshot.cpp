#include "io/snapshot.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"

namespace qtzflow::io {

namespace fs = std::filesystem;

namespace {

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

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

/// Mesh names under a snapshot's meshes/ group: "rho", "psi/re", ...
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
  return out;
}

}  // namespace

SnapshotWriter::SnapshotWriter(std::string path, MeshGeometry mesh, RunInfo info)
    : path_(std::move(path)), mesh_(std::move(mesh)), info_(std::move(info)), date_(utc_now()) {
  if (path_.empty()) core::throw_invalid("output.path", "\"\"", "a file name");
}

std::string SnapshotWriter::part_name(std::int64_t it) const { return fs::path(path_).filename().string() + ".parts/" + std::to_string(it) + ".h5"; }

std::string SnapshotWriter::part_path(std::int64_t it) const { return (fs::path(path_).parent_path() / part_name(it)).string(); }

std::string SnapshotWriter::xdmf_path_of(const std::string& output) { return fs::path(output).replace_extension(".xdmf").string(); }

void SnapshotWriter::write(std::int64_t iteration, double time, double dt, std::span<const FieldView> fields,
                           const std::vector<std::pair<std::string, double>>& diagnostics, std::span<const FieldView> particles) {
  if (!snapshots_.empty() && iteration <= snapshots_.back().iteration)
    core::throw_invalid("iteration", std::to_string(iteration), "> the last snapshot's " + std::to_string(snapshots_.back().iteration));
  std::set<std::string> names;
  for (const auto& [n, v] : diagnostics) names.insert(n);
  if (!diagnostics_.empty()) {
    std::set<std::string> have;
    for (const auto& [n, v] : diagnostics_) have.insert(n);
    if (names != have) core::throw_invalid("diagnostics", "a different set of names", "the same names at every snapshot");
  }
  for (const auto& f : fields)
    if (f.values.size() != mesh_.size())
      core::throw_invalid("field " + f.name, std::to_string(f.values.size()) + " values", std::to_string(mesh_.size()) + " (the mesh size)");

  // 1. the snapshot, whole, in its own part file
  const std::string part = part_path(iteration);
  fs::create_directories(fs::path(part).parent_path());
  core::replace_file_atomically(part, [&](const std::string& tmp) {
    File pf = File::create(tmp);
    const Group snap = pf.root().create_group(data_path(iteration));
    snap.write_attribute("time", time);
    snap.write_attribute("dt", dt);
    snap.write_attribute("timeUnitSI", 1.0);
    const Group meshes = snap.create_group("meshes");
    std::set<std::string> records;
    for (const auto& f : fields) {
      const Dataset d = meshes.write_dataset(f.name, f.values, mesh_.shape);
      write_mesh_attributes(d, mesh_);
      const auto slash = f.name.find('/');
      if (slash != std::string::npos && records.insert(f.name.substr(0, slash)).second)
        write_mesh_attributes(meshes.open_group(f.name.substr(0, slash)), mesh_);
    }
    if (!particles.empty()) {
      const Group parts = snap.create_group("particles");
      for (const auto& r : particles) {
        // create the intermediate groups species/record of "species/record/component"
        std::string path;
        for (std::size_t pos = r.name.find('/'); pos != std::string::npos; pos = r.name.find('/', pos + 1)) {
          path = r.name.substr(0, pos);
          if (!parts.exists(path)) parts.create_group(path);
        }
        const Dataset d = parts.write_dataset(r.name, r.values, {r.values.size()});
        d.write_attribute("unitSI", 1.0);
      }
    }
    pf.close();
  });

  // 2. the bookkeeping, then the main file and the sidecar, each replaced atomically
  Entry e{iteration, time, {}};
  for (const auto& f : fields) e.fields.push_back(f.name);
  snapshots_.push_back(std::move(e));
  for (const auto& [n, v] : diagnostics) diagnostics_[n].push_back(v);
  diag_iterations_.push_back(iteration);
  diag_times_.push_back(time);
  write_main(false);
  write_xdmf();
}

void SnapshotWriter::write_main(bool consolidate) const {
  core::replace_file_atomically(path_, [&](const std::string& tmp) {
    File f = File::create(tmp);
    const Group root = f.root();
    root.write_attribute("software", std::string("qtzflow"));
    root.write_attribute("softwareVersion", std::string(core::version));
    root.write_attribute("date", date_);
    root.write_attribute("gitRevision", info_.git_revision);
    root.write_attribute("config", info_.config_text);
    root.write_attribute("fftwWisdom", info_.fftw_wisdom);
    root.write_attribute("openPMD", std::string("1.1.0"));
    root.write_attribute("basePath", std::string("/data/%T/"));
    root.write_attribute("meshesPath", std::string("meshes/"));
    root.write_attribute("iterationEncoding", std::string("groupBased"));
    root.write_attribute("iterationFormat", std::string("/data/%T/"));
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
    f.close();
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
  if (snapshots_.empty()) return;
  write_main(true);
  fs::remove_all(fs::path(path_).parent_path() / (fs::path(path_).filename().string() + ".parts"));
}

SnapshotWriter SnapshotWriter::resume(const std::string& path) {
  const File f = File::open_read(path);
  const Group root = f.root();
  RunInfo info{root.read_string_attribute("config"), root.read_string_attribute("gitRevision"),
               root.has_attribute("fftwWisdom") ? root.read_string_attribute("fftwWisdom") : std::string()};
  const auto its = snapshot_iterations(path);
  if (its.empty()) core::throw_invalid("restart", path, "an output file holding at least one snapshot");
  // mesh geometry from the first mesh of the first snapshot
  const Group meshes0 = root.open_group(data_path(its.front()) + "/meshes");
  const auto names0 = mesh_names(meshes0);
  const Dataset d0 = meshes0.open_dataset(names0.front());
  MeshGeometry mesh;
  mesh.shape = d0.shape();
  mesh.spacing = d0.read_doubles_attribute("gridSpacing");
  mesh.offset = d0.read_doubles_attribute("gridGlobalOffset");
  mesh.labels = d0.read_strings_attribute("axisLabels");
  SnapshotWriter w(path, mesh, info);
  w.date_ = root.read_string_attribute("date");
  const Group data = root.open_group("data");
  for (auto it : its) {
    const std::string name = std::to_string(it);
    if (!data.is_external_link(name)) {
      // a consolidated file: move the snapshot back into its own part file
      const std::string part = w.part_path(it);
      fs::create_directories(fs::path(part).parent_path());
      core::replace_file_atomically(part, [&](const std::string& tmp) {
        File pf = File::create(tmp);
        pf.root().copy_from(root, data_path(it), data_path(it));
        pf.close();
      });
    }
    const Group snap = root.open_group(data_path(it));
    w.snapshots_.push_back({it, snap.read_double_attribute("time"), mesh_names(snap.open_group("meshes"))});
  }
  const Group diag = root.open_group("diagnostics");
  w.diag_iterations_ = diag.open_dataset("iteration").read_int64();
  w.diag_times_ = diag.open_dataset("time").read_doubles();
  for (const auto& c : diag.children())
    if (c != "iteration" && c != "time") w.diagnostics_[c] = diag.open_dataset(c).read_doubles();
  return w;
}

std::vector<std::int64_t> snapshot_iterations(const std::string& path) {
  const File f = File::open_read(path);
  const Group root = f.root();
  std::vector<std::int64_t> its;
  if (!root.exists("data")) return its;
  for (const auto& c : root.open_group("data").children()) its.push_back(std::stoll(c));
  std::sort(its.begin(), its.end());
  return its;
}

Snapshot read_snapshot(const std::string& path, std::int64_t iteration) {
  const File f = File::open_read(path);
  const Group snap = f.root().open_group(data_path(iteration));
  Snapshot s;
  s.iteration = iteration;
  s.time = snap.read_double_attribute("time");
  s.dt = snap.read_double_attribute("dt");
  const Group meshes = snap.open_group("meshes");
  for (const auto& n : mesh_names(meshes)) s.fields[n] = meshes.open_dataset(n).read_doubles();
  if (snap.exists("particles")) {
    const Group parts = snap.open_group("particles");
    for (const auto& species : parts.children())
      for (const auto& record : parts.open_group(species).children())
        for (const auto& comp : parts.open_group(species + "/" + record).children()) {
          const std::string name = species + "/" + record + "/" + comp;
          s.particles[name] = parts.open_dataset(name).read_doubles();
        }
  }
  if (f.root().exists("diagnostics")) {
    const Group diag = f.root().open_group("diagnostics");
    const auto its = diag.open_dataset("iteration").read_int64();
    const auto row = std::find(its.begin(), its.end(), iteration);
    if (row != its.end())
      for (const auto& c : diag.children())
        if (c != "iteration") s.diagnostics[c] = diag.open_dataset(c).read_doubles().at(static_cast<std::size_t>(row - its.begin()));
  }
  return s;
}

std::string read_config_text(const std::string& path) {
  const File f = File::open_read(path);
  return f.root().read_string_attribute("config");
}

}  // namespace qtzflow::io
