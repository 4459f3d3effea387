// qtzflow/io/snapshot.hpp — run output in the layout of docs/config.md, "Output layout" (openPMD-style).
//
//   /                      attributes software, softwareVersion, date, gitRevision, config (the
//                          full config text), fftwWisdom (the run's FFT plans) and openPMD's
//                          basePath/meshesPath/iterationEncoding
//   /data/<iteration>/     attributes time, dt, timeUnitSI
//       meshes/rho                    Fokker–Planck density
//       meshes/psi/re, meshes/psi/im  Schrödinger wavefunction (φ for imaginary time: re only)
//       meshes/psi_abs2               |ψ|² (real time), also in the XDMF
//       meshes/particles_hist         particle histogram (density: counts / (M · cell volume))
//       particles/ensemble/position/x…  particle positions (particle runs; what a restart reads)
//     every mesh carries gridSpacing, gridGlobalOffset (first point), axisLabels, geometry,
//     dataOrder = "C" (last index fastest), unitSI, position
//   /grid/                 written once per file: what every snapshot lies on
//       x, y, z                       per-axis coordinates of the points (cell centres)
//       meshes/f                      the objective sampled on the grid
//       meshes/grad_f_sq, laplacian_f |∇f|² and Δf (so V_T(t) = |∇f|²/(4T) − Δf/2 needs no objective)
//       meshes/V                      Schrödinger runs: the potential at t = 0 (attribute description)
//       meshes/basin                  int32 basin label of each point (mass_basin_<k> sums label k)
//     the attribute description of /grid says what each holds; the meshes carry the same
//     geometry attributes as a snapshot's
//   /diagnostics/<name>    extendible 1D series with iteration and time: one row per
//                          output.diagnostics_every steps and one at every snapshot, so rows
//                          outnumber snapshots when the cadence is finer (iterations ascending)
//   OUT.xdmf               XDMF sidecar: ParaView opens the snapshots as a time series, with
//                          f, V and basin attached to every time
//
// Crash safety (process death at any moment, SIGKILL included): each snapshot is first written
// whole to its own part file OUT.h5.parts/<iteration>.h5, then OUT.h5 is rewritten to a
// temporary name and renamed over the old one (rename is atomic), with /data/<iteration> as
// external links into the parts.  So OUT.h5 is always a complete file listing every finished
// snapshot.  `finish()` makes OUT.h5 self-contained (the data copied in, the parts removed).
// /grid lives in its own part file the same way.  Diagnostics rows recorded between snapshots
// are held in memory and land with the next snapshot (a process killed between snapshots loses
// the rows after the last one, which a restart recomputes).
// Power-loss durability is left to the file system (no fsync).
//
// Under MPI (core::mpi::active()) every rank holds a writer and makes the same calls.  A
// snapshot's part file is written by all ranks together through parallel HDF5 (MPI-IO, one
// collective transfer per dataset), each rank writing its own rows of the distributed fields
// (FieldView::Layout::blocks) and its own particles; no rank ever holds a whole distributed
// field.  The small files (OUT.h5 with its links and diagnostics, the XDMF) and finish() are
// rank 0's; /grid's part file is written like a snapshot's.  A failure on any rank is
// rethrown on every rank (core::mpi::on_every_rank).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "grids/grid.hpp"

namespace qtzflow::io {

/// Geometry attributes of every mesh.
struct MeshGeometry {
  std::vector<std::size_t> shape;       ///< points per axis, slowest first
  std::vector<double> spacing, offset;  ///< gridSpacing, gridGlobalOffset (coordinate of point 0)
  std::vector<std::string> labels;      ///< axisLabels, slowest first

  template <int D>
  static MeshGeometry of(const grids::Grid<D>& g) {
    MeshGeometry m;
    static const char* names[] = {"x", "y", "z"};
    for (int a = 0; a < D; ++a) {
      m.shape.push_back(g.n(a));
      m.spacing.push_back(g.spacing(a));
      m.offset.push_back(g.x(a, 0));
      m.labels.emplace_back(names[a]);
    }
    return m;
  }
  std::size_t size() const {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
};

/// A field of a snapshot by its mesh path ("rho", "psi/re", "psi/im", "particles_hist"), or a
/// particle record.
struct FieldView {
  /// replicated: the whole array, the same on every rank (rank 0's values are written).
  /// blocks: this rank's block of rows of axis 0 (of particles for a particle record); the
  /// blocks of ranks 0, 1, ... follow each other and together make the whole array.  With one
  /// rank the two are the same.
  enum class Layout { replicated, blocks };
  std::string name;
  std::span<const double> values;
  std::string description = {};  ///< /grid meshes: a line of /grid's attribute description
  Layout layout = Layout::replicated;
};

/// What /grid holds: written once per file.
struct GridRecords {
  std::vector<std::vector<double>> coordinates;  ///< per axis, the points' coordinates
  std::vector<FieldView> meshes;                 ///< f, grad_f_sq, laplacian_f, V, ...
  std::span<const std::int32_t> basin;           ///< basin labels (empty on every rank: none)
  FieldView::Layout basin_layout = FieldView::Layout::replicated;
};

/// What the root attributes record about the run.
struct RunInfo {
  std::string config_text;
  std::string git_revision;
  std::string fftw_wisdom;  ///< the FFT plans of the run, so that a restart can reuse them
  /// One line per restart that changed the configuration (only t_end may change), stored as
  /// the root attribute restartHistory.
  std::string restart_history;
};

/// One snapshot read back.
struct Snapshot {
  std::int64_t iteration = 0;
  double time = 0, dt = 0;
  std::map<std::string, std::vector<double>> fields;
  /// Particle records by "species/record/component" (empty if there are none).
  std::map<std::string, std::vector<double>> particles;
  /// The /diagnostics row recorded with this snapshot (empty if there is none).
  std::map<std::string, double> diagnostics;
};

class SnapshotWriter {
 public:
  /// A new output at `path`.  Nothing is written (an existing file is untouched) until the
  /// first snapshot lands.
  SnapshotWriter(std::string path, MeshGeometry mesh, RunInfo info);
  /// Continues the output at `path`, keeping its snapshots and diagnostics.  Not collective:
  /// under MPI rank 0 resumes first (it alone puts a finished file's snapshots back into part
  /// files), then the other ranks (they only read): core::mpi::root_first.
  static SnapshotWriter resume(const std::string& path);

  /// Writes /grid (once, before the first snapshot; a resumed output keeps its own).  The
  /// coordinates are replicated (rank 0 writes them), the meshes and labels as their layout
  /// says.  Collective under MPI, like every method below that writes.
  void write_grid(const GridRecords& records);
  /// Writes one snapshot and one row of diagnostics (the same names every time).  `particles`
  /// are 1D per-particle records named "species/record/component" (openPMD particle layout),
  /// e.g. "ensemble/position/x", written under /data/<iteration>/particles/.
  void write(std::int64_t iteration, double time, double dt, std::span<const FieldView> fields,
             const std::vector<std::pair<std::string, double>>& diagnostics, std::span<const FieldView> particles = {});
  /// One row of diagnostics between snapshots (iteration above the last row's); it lands in
  /// the file with the next snapshot or finish().
  void add_diagnostics(std::int64_t iteration, double time, const std::vector<std::pair<std::string, double>>& diagnostics);
  /// Makes the output one self-contained file.  Call once at the end of a run.
  void finish();

  const std::string& path() const { return path_; }
  std::string xdmf_path() const { return xdmf_path_of(path_); }
  /// The XDMF sidecar of an output: its name with the extension .xdmf.
  static std::string xdmf_path_of(const std::string& output);
  std::size_t count() const { return snapshots_.size(); }
  /// The iteration of the last snapshot written or resumed (-1 before the first).
  std::int64_t last_iteration() const { return snapshots_.empty() ? -1 : snapshots_.back().iteration; }
  const RunInfo& info() const { return info_; }
  const MeshGeometry& mesh() const { return mesh_; }
  /// Names of the diagnostics series (time and iteration excepted), sorted.
  std::vector<std::string> diagnostic_names() const {
    std::vector<std::string> n;
    for (const auto& [name, v] : diagnostics_) n.push_back(name);
    return n;
  }
  /// A restart that continues with a new t_end: the stored config becomes `config_text`, and
  /// `note` is appended to restartHistory.
  void record_restart(const std::string& config_text, const std::string& note) {
    info_.config_text = config_text;
    info_.restart_history += (info_.restart_history.empty() ? "" : "\n") + note;
  }

 private:
  struct Entry {
    std::int64_t iteration;
    double time;
    std::vector<std::string> fields;
  };
  std::string part_name(std::int64_t iteration) const;  // relative to the output's folder
  std::string part_path(std::int64_t iteration) const;
  void write_main(bool consolidate) const;
  void write_xdmf() const;

  std::string path_;
  MeshGeometry mesh_;
  RunInfo info_;
  std::string date_;
  std::vector<Entry> snapshots_;
  std::vector<std::string> diag_names_;
  std::map<std::string, std::vector<double>> diagnostics_;
  std::vector<std::int64_t> diag_iterations_;
  std::vector<double> diag_times_;
  std::vector<std::string> grid_meshes_;  // names under /grid/meshes, for the XDMF
  bool has_grid_ = false;
  void check_row(const std::vector<std::pair<std::string, double>>& diagnostics) const;
  /// Appends a row already checked (check_row) by the caller.
  void append_row(std::int64_t iteration, double time, const std::vector<std::pair<std::string, double>>& diagnostics);
  std::string grid_part_name() const;
};

// Readers.  Every attribute and dataset is checked before use (type, shape, finite values,
// diagnostics series of one length with ascending iterations, a row for every snapshot); a file that fails a check throws Hdf5Error saying
// what is wrong and where, as does a file without metadata checksums (see io/hdf5.hpp).

/// Iterations of the snapshots stored at `path`, ascending.
std::vector<std::int64_t> snapshot_iterations(const std::string& path);
/// What a reader expects of a snapshot, checked before anything is allocated (empty / 0: any).
struct SnapshotShape {
  std::vector<std::size_t> mesh_shape;
  std::size_t particles = 0;
  /// Read only rows [first_row, first_row + rows) of axis 0 of every mesh (one rank's block;
  /// mesh_shape must be given); rows = 0: whole meshes.
  std::size_t first_row = 0, rows = 0;
};
/// Reads one snapshot (every mesh under meshes/, as flat C-order arrays).
Snapshot read_snapshot(const std::string& path, std::int64_t iteration, const SnapshotShape& expect = {});
/// The run's config text as stored in the root attributes.
std::string read_config_text(const std::string& path);

/// The whole /diagnostics table: iteration and time, and every series, row by row.
struct DiagnosticsTable {
  std::vector<std::int64_t> iteration;
  std::vector<double> time;
  std::map<std::string, std::vector<double>> series;
};
DiagnosticsTable read_diagnostics(const std::string& path);

}  // namespace qtzflow::io
