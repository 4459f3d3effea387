#include "scenario/run.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <variant>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/fft.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "scenario/engines.hpp"
#include "scenario/problem.hpp"

namespace qtzflow::scenario {

namespace {

/// Refuses a restart whose configuration differs from the stored one in anything but the
/// engine's t_end, and records a changed t_end in the file (restartHistory).
void require_same_config(const RunConfig& c, io::SnapshotWriter& writer, const std::string& path) {
  RunConfig stored;
  try {
    // outputs of earlier versions stored every key, also those the run did not use: dropped here
    stored = parse_config(writer.info().config_text, {}, path + " (its stored config)", UnusedKeys::drop);
  } catch (const core::InvalidArgument& e) {
    core::throw_invalid("restart", path, std::string("an output whose stored configuration is valid; it is not: ") + e.what());
  }
  std::vector<std::string> diff = config_differences(stored, c);
  std::string t_end_change;
  std::erase_if(diff, [&](const std::string& d) {
    // output.path names the file of a new run; a restart writes into the restarted file whatever it says
    if (d.rfind("output.path:", 0) == 0) return true;
    if (d.find(".t_end: ") != std::string::npos && d.find('.') == d.find(".t_end: ")) {
      t_end_change = d;
      return true;
    }
    return false;
  });
  if (!diff.empty()) {
    std::string list;
    for (const auto& d : diff) list += (list.empty() ? "" : "; ") + d;
    throw core::InvalidArgument("restart", "restart = " + core::shorten(path, 200) + ": the configuration differs from the one stored in the file (" +
                                               core::shorten(list, 600) +
                                               "); a restart continues the same run, and only the engine's t_end may change");
  }
  if (!t_end_change.empty()) writer.record_restart(c.text, "restart at iteration " + std::to_string(writer.last_iteration()) + ": " + t_end_change);
}

/// Values a restart puts back into an engine: all finite (and, for positions, inside the box).
void require_finite_values(const std::string& path, const std::string& what, const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      core::throw_invalid("restart", path,
                          "an output whose " + what + " is finite (value " + std::to_string(i) + " is " + core::format_value(v[i]) + ")");
}

/// What /grid of an output holds: coordinates, f, |∇f|², Δf, the basin labels and, for the
/// Schrödinger engine, its potential at t = 0.
template <int D>
class GridFields {
 public:
  GridFields(const RunConfig& c, const Problem<D>& p) : p_(p) {
    for (int a = 0; a < D; ++a) coords_.push_back(p.grid.coordinates(a));
    if (const auto* s = std::get_if<SchrodingerConfig>(&c.engine)) {
      const bool real = s->mode == solver::TimeMode::real;
      const double T0 = p.schedule.T(0), Tdot0 = real ? 0.0 : p.schedule.Tdot(0);
      V_ = p.landscape.potential(s->potential, T0, Tdot0);
      V_note_ = s->potential == potentials::PotentialKind::witten
                    ? "the Schrodinger potential at t = 0: V_T = |grad f|^2/(4T) - lap f/2" + std::string(Tdot0 != 0 ? " + f Tdot/(2T^2)" : "") +
                          " at T = " + core::format_value(T0) + (Tdot0 != 0 ? ", Tdot = " + core::format_value(Tdot0) : "") +
                          (p.schedule.kind() == potentials::Schedule::Kind::constant ? "" : " (it follows T(t) during the run)")
                    : "the Schrodinger potential V = f";
    }
  }
  /// The problem's rows: this rank's block when distributed (written by all ranks together).
  io::GridRecords records() const {
    const auto layout = p_.rows.distributed ? io::FieldView::Layout::blocks : io::FieldView::Layout::replicated;
    io::GridRecords r;
    r.coordinates = coords_;
    r.meshes.push_back({"f", p_.landscape.f().values(), "the objective f at the points", layout});
    r.meshes.push_back({"grad_f_sq", p_.landscape.grad2().values(), "|grad f|^2 at the points", layout});
    r.meshes.push_back({"laplacian_f", p_.landscape.laplacian().values(), "the Laplacian of f at the points", layout});
    if (V_.size() > 0) r.meshes.push_back({"V", V_.values(), V_note_, layout});
    r.basin = p_.basins.label.values();
    r.basin_layout = layout;
    return r;
  }

 private:
  const Problem<D>& p_;
  std::vector<std::vector<double>> coords_;
  grids::Field<double, D> V_;  // empty unless [schrodinger] (a rank's block is never empty: slab_layout)
  std::string V_note_;
};

/// A restart reads a file the user hands over: every part the run uses is checked first, and a
/// file that fails is bad input naming the file, whatever HDF5 layer noticed.  A read or a write
/// the operating system refused (a full disk while the parts are written back) is a run-time
/// failure instead, as during the run.
template <class Read>
void restart_checked(const std::string& restart, Read&& read) {
  try {
    read();
  } catch (const io::Hdf5IoError&) {
    throw;
  } catch (const io::Hdf5Error& e) {
    core::throw_invalid("restart", restart, std::string("an intact qtzflow output; it is damaged or not one: ") + e.what());
  }
}

/// Puts the last snapshot of the restarted output into the engine, every value checked first;
/// returns its step.  Every rank reads and checks its own rows (the problem's rows: a
/// distributed run never holds a whole field); a failure on any rank stops all.
template <int D, class Engine>
long restore_from_restart(Engine& e, const Problem<D>& problem, const RunConfig& c, const RunOptions& opt, io::SnapshotWriter& writer, long total) {
  io::Snapshot last;
  // Every rank reads and checks its own rows of the last snapshot (the problem's rows: a
  // distributed run never holds a whole field); a failure on any rank stops all.
  core::mpi::on_every_rank([&] {
    const auto* particles = std::get_if<ParticlesConfig>(&c.engine);
    const std::size_t row = problem.grid.size() / problem.grid.n(0), points = problem.rows.count * row;
    restart_checked(opt.restart, [&] {
      io::SnapshotShape shape{writer.mesh().shape, particles != nullptr ? static_cast<std::size_t>(particles->count) : 0};
      if (problem.rows.distributed) shape.first_row = problem.rows.first, shape.rows = problem.rows.count;
      last = io::read_snapshot(opt.restart, io::snapshot_iterations(opt.restart).back(), shape);
    });
    const auto field = last.fields.find(Engine::restart_field());
    if (field == last.fields.end() || field->second.size() != points)
      core::throw_invalid("restart", opt.restart,
                          std::string("an output of the configured engine and grid (a ") + Engine::restart_field() + " field of " +
                              std::to_string(problem.grid.size()) + " points)");
    for (const auto& [name, values] : last.fields) require_finite_values(opt.restart, "field " + name, values);
    for (const auto& [name, values] : last.particles) require_finite_values(opt.restart, "particle record " + name, values);
    if (last.iteration > total)
      core::throw_invalid("restart", opt.restart + " at step " + std::to_string(last.iteration),
                          "an output at most at the run's last step, t_end/dt = " + std::to_string(total));
    if (std::abs(last.dt - e.dt()) > 1e-12 * e.dt() ||
        std::abs(last.time - static_cast<double>(last.iteration) * e.dt()) > 1e-6 * std::max(1.0, last.time))
      core::throw_invalid("restart",
                          opt.restart + " (last snapshot: iteration " + std::to_string(last.iteration) + ", time " + core::format_value(last.time) +
                              ", dt " + core::format_value(last.dt) + ")",
                          "a snapshot at time = iteration * dt with the configured dt = " + core::format_value(e.dt()));
  });
  try {
    e.restore(last);
  } catch (const core::InvalidArgument& bad) {
    core::throw_invalid("restart", opt.restart, std::string("an output whose last snapshot is a valid state; it is not: ") + bad.what());
  }
  // the series the file holds must be the ones this run appends to, checked before any step
  Diagnostics names{{"T", 0.0}};
  e.diagnostics(problem.basins, names);  // collective
  std::vector<std::string> want;
  for (const auto& [name, v] : names) want.push_back(name);
  std::sort(want.begin(), want.end());
  if (want != writer.diagnostic_names())  // the same file on every rank: all refuse together
    core::throw_invalid("restart", opt.restart, "an output whose /diagnostics hold the series this run writes (it was damaged or edited)");
  if (core::mpi::rank() == 0)
    for (auto* o : opt.observers) o->on_restart({last.iteration, total, last.time, opt.restart});
  return last.iteration;
}

template <int D, class Engine>
RunOutcome run_engine(const RunConfig& c, const RunOptions& opt) {
  const Problem<D> problem(c);

  std::optional<io::SnapshotWriter> writer;
  if (!opt.restart.empty() && !opt.output.empty() && std::filesystem::weakly_canonical(opt.output) != std::filesystem::weakly_canonical(opt.restart))
    core::throw_invalid("output", opt.output, "the restart file " + opt.restart + " (a restart continues its own output), or absent");
  const std::string out_path = !opt.restart.empty() ? opt.restart : opt.output.empty() ? c.output.path : opt.output;
  const std::string key = !opt.restart.empty() ? "restart" : opt.output.empty() ? "output.path" : "output";
  if (io::SnapshotWriter::xdmf_path_of(out_path) == out_path)
    core::throw_invalid(key, out_path, "a name not ending in .xdmf (the XDMF sidecar takes the output's name with .xdmf)");
  // nothing the run writes (the output, its sidecar, its lock file) may replace what it reads
  const std::vector<std::string> inputs = c.input_files();
  for (const auto& written : {out_path, io::SnapshotWriter::xdmf_path_of(out_path), core::OutputLock::lock_path_of(out_path)})
    core::require_replaceable(key, written, inputs);
  // the output is this process's until the run returns: a second run on it is refused here,
  // before it reads or writes anything (rank 0 holds the claim for all ranks)
  std::optional<core::OutputLock> claim;
  core::mpi::on_root([&] { claim.emplace(key, out_path); });
  const long total = std::max(1L, std::lround(c.t_end() / c.dt()));

  // a stop request seen on any rank stops every rank at the same step (collective)
  auto stop_request = [&] {
    return static_cast<int>(core::mpi::allreduce_max(opt.stop_requested ? static_cast<double>(opt.stop_requested()) : 0.0));
  };
  // a stop requested while the problem was set up (the objective read, say) ends the run before
  // it writes anything
  if (const int stop = stop_request(); stop != 0) {
    RunOutcome early;
    early.status = RunOutcome::Status::stopped;
    early.stop_value = stop;
    early.output_path = out_path;
    early.xdmf_path = io::SnapshotWriter::xdmf_path_of(out_path);
    return early;
  }

  if (!opt.restart.empty()) {
    if (std::holds_alternative<ParticlesConfig>(c.engine) && !c.output.particle_positions)
      core::throw_invalid("restart", "an output of a run with output.particle_positions = false (it holds no positions to continue from)",
                          "an output written with output.particle_positions = true (the default)");
    // rank 0 resumes first (it may write part files), then the others read the same file
    core::mpi::root_first([&] {
      restart_checked(opt.restart, [&] {
        writer.emplace(io::SnapshotWriter::resume(opt.restart));
        require_same_config(c, *writer, opt.restart);
        const io::MeshGeometry want = io::MeshGeometry::of(problem.grid);
        const io::MeshGeometry& have = writer->mesh();
        bool same = have.shape == want.shape;
        for (std::size_t a = 0; same && a < want.shape.size(); ++a)
          same = std::abs(have.spacing[a] - want.spacing[a]) <= 1e-12 * want.spacing[a] &&
                 std::abs(have.offset[a] - want.offset[a]) <= 1e-12 * (std::abs(want.offset[a]) + want.spacing[a]);
        if (!same) core::throw_invalid("restart", opt.restart, "an output whose meshes lie on the configured grid (grid.n, grid.lower, grid.upper)");
      });
    });
  }
  const Warn warn = [&](const std::string& m) {
    if (core::mpi::rank() == 0)
      for (auto* o : opt.observers) o->on_warning(m);
  };
  Engine e(c, problem, writer ? &*writer : nullptr, warn);
  const long every = c.output.every;
  long step = 0;

  if (!opt.restart.empty()) {
    step = restore_from_restart(e, problem, c, opt, *writer, total);
  } else {
    e.start(c, problem);
    writer.emplace(out_path, io::MeshGeometry::of(problem.grid), io::RunInfo{c.text, std::string(core::git_revision()), grids::export_wisdom(), {}});
  }

  const long diag_every = c.output.diagnostics_every;
  auto diagnostics = [&] {
    Diagnostics diag{{"T", problem.schedule.T(e.time())}};
    e.diagnostics(problem.basins, diag);
    return diag;
  };
  // Under MPI every rank computes the diagnostics (collective sums) and hands the writer its rows
  // of the fields and its particles (the writer's calls are collective).
  auto snapshot = [&] {
    const auto diag = diagnostics();
    const auto fields = e.fields();
    if (c.output.particle_positions)
      writer->write(step, e.time(), e.dt(), fields, diag, e.particle_output());
    else
      writer->write(step, e.time(), e.dt(), fields, diag);
  };

  RunOutcome out;
  const long check_every = stop_check_steps(c);
  try {
    if (opt.restart.empty()) {
      writer->write_grid(GridFields<D>(c, problem).records());  // collective
      snapshot();
    }
    while (step < total) {
      // chunks end on multiples of output.every, of output.diagnostics_every and of the stop
      // checks: a function of the step alone, so a restart repeats the uninterrupted run's chunks
      const long chunk = std::min({every - step % every, diag_every - step % diag_every, check_every - step % check_every, total - step});
      e.advance(chunk);
      step += chunk;
      const bool at_snapshot = step % every == 0 || step == total, at_row = step % diag_every == 0;
      if (at_snapshot) {
        snapshot();
        if (core::mpi::rank() == 0)
          for (auto* o : opt.observers) o->on_snapshot({step, total, e.time(), writer->path()});
      } else if (at_row) {
        writer->add_diagnostics(step, e.time(), diagnostics());
      }
      if (const int stop = stop_request(); stop != 0) {
        if (!at_snapshot) snapshot();  // the state reached, so that a restart continues from here
        out.status = RunOutcome::Status::stopped;
        out.stop_value = stop;
        break;
      }
    }
  } catch (const core::NumericalError& err) {
    out.status = RunOutcome::Status::failed;
    out.error = err.what();
  } catch (...) {
    // any other failure (a full disk, a bug): make the snapshots that landed one file, then report
    try {
      if (writer) writer->finish();
    } catch (...) {
    }
    throw;
  }
  writer->finish();
  out.step = step;
  out.time = e.time();
  out.snapshots = writer->count();
  out.output_path = out_path;
  out.xdmf_path = io::SnapshotWriter::xdmf_path_of(out_path);
  return out;
}

}  // namespace

long stop_check_steps(const RunConfig& c) {
  double points = 1;
  for (std::size_t n : c.grid.n) points *= static_cast<double>(n);
  if (const auto* p = std::get_if<ParticlesConfig>(&c.engine))
    points = static_cast<double>(p->count) * (p->clock == particles::QtzClock::fokker_planck ? p->moves_per_dt : 1);
  return core::steps_per_stop_check(points);
}

namespace {

template <int D>
RunOutcome run_d(const RunConfig& c, const RunOptions& opt) {
  return std::visit(
      [&](const auto& engine) -> RunOutcome {
        using Section = std::decay_t<decltype(engine)>;
        if constexpr (std::is_same_v<Section, SchrodingerConfig>)
          return run_engine<D, SchrodingerEngine<D>>(c, opt);
        else if constexpr (std::is_same_v<Section, FokkerPlanckConfig>)
          return run_engine<D, FokkerPlanckEngine<D>>(c, opt);
        else
          return run_engine<D, ParticleEngine<D>>(c, opt);
      },
      c.engine);
}

}  // namespace

RunOutcome run(const RunConfig& config, const RunOptions& options) {
  switch (config.grid.dim()) {
    case 1:
      return run_d<1>(config, options);
    case 2:
      return run_d<2>(config, options);
    case 3:
      return run_d<3>(config, options);
  }
  core::throw_invalid("grid.n", std::to_string(config.grid.dim()) + " axes", "1, 2 or 3 axes");
}

}  // namespace qtzflow::scenario
