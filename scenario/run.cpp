#include "scenario/run.hpp"

#include <filesystem>
#include <optional>
#include <variant>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "grids/fft.hpp"
#include "io/snapshot.hpp"
#include "scenario/engines.hpp"
#include "scenario/problem.hpp"

namespace qtzflow::scenario {

namespace {

template <int D, class Engine>
RunOutcome run_engine(const RunConfig& c, const RunOptions& opt) {
  const Problem<D> problem(c);

  std::optional<io::SnapshotWriter> writer;
  if (!opt.restart.empty() && !opt.output.empty() && std::filesystem::weakly_canonical(opt.output) != std::filesystem::weakly_canonical(opt.restart))
    core::throw_invalid("output", opt.output, "the restart file " + opt.restart + " (a restart continues its own output), or absent");
  const std::string out_path = !opt.restart.empty() ? opt.restart : opt.output.empty() ? c.output.path : opt.output;
  const std::string key = !opt.restart.empty() ? "restart" : opt.output.empty() ? "output.path" : "output";
  core::require_replaceable(key, out_path, {c.source_path});
  if (io::SnapshotWriter::xdmf_path_of(out_path) == out_path)
    core::throw_invalid(key, out_path, "a name not ending in .xdmf (the XDMF sidecar takes the output's name with .xdmf)");
  core::require_replaceable(key, io::SnapshotWriter::xdmf_path_of(out_path), {c.source_path});
  if (!opt.restart.empty()) writer.emplace(io::SnapshotWriter::resume(opt.restart));
  const Warn warn = [&](const std::string& m) {
    for (auto* o : opt.observers) o->on_warning(m);
  };
  Engine e(c, problem, writer ? &*writer : nullptr, warn);
  const long total = std::max(1L, std::lround(c.t_end() / e.dt()));
  const long every = c.output.every;
  long step = 0;

  if (!opt.restart.empty()) {
    const auto snap = io::read_snapshot(opt.restart, io::snapshot_iterations(opt.restart).back());
    if (!snap.fields.count(Engine::restart_field()) || snap.fields.at(Engine::restart_field()).size() != problem.grid.size())
      core::throw_invalid("restart", opt.restart,
                          std::string("an output of the configured engine and grid (a ") + Engine::restart_field() + " field of " +
                              std::to_string(problem.grid.size()) + " points)");
    e.restore(snap);
    step = snap.iteration;
    for (auto* o : opt.observers) o->on_restart({step, total, snap.time, opt.restart});
  } else {
    e.start(c, problem);
    const std::string out = opt.output.empty() ? c.output.path : opt.output;
    writer.emplace(out, io::MeshGeometry::of(problem.grid), io::RunInfo{c.text, std::string(core::git_revision()), grids::export_wisdom()});
  }

  auto snapshot = [&] {
    Diagnostics diag{{"T", problem.schedule.T(e.time())}};
    const auto fields = e.output(problem.basins, diag);
    writer->write(step, e.time(), e.dt(), fields, diag, e.particle_output());
  };

  RunOutcome out;
  if (opt.restart.empty()) snapshot();
  try {
    while (step < total) {
      const long chunk = std::min(every - step % every, total - step);
      e.advance(chunk);
      step += chunk;
      snapshot();
      for (auto* o : opt.observers) o->on_snapshot({step, total, e.time(), writer->path()});
      if (opt.stop_flag != nullptr && *opt.stop_flag != 0) {
        out.status = RunOutcome::Status::stopped;
        out.stop_value = *opt.stop_flag;
        break;
      }
    }
  } catch (const core::NumericalError& err) {
    out.status = RunOutcome::Status::failed;
    out.error = err.what();
  }
  writer->finish();
  out.step = step;
  out.time = e.time();
  out.snapshots = writer->count();
  out.output_path = writer->path();
  out.xdmf_path = writer->xdmf_path();
  return out;
}

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
