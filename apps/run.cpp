#include "apps/run.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "grids/basins.hpp"
#include "grids/fft.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::apps {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

/// A one-line progress bar with ETA on stderr; silent unless stderr is a terminal.
class Progress {
 public:
  Progress(long total, bool enabled) : total_(total), enabled_(enabled && isatty(STDERR_FILENO)), start_(clock::now()) {}
  void update(long done, double t) {
    if (!enabled_) return;
    const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%-*s] %3.0f%%  t = %-10.4g ETA %5.0f s ", width, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 100 * frac, t, eta);
    std::fflush(stderr);
  }
  void done() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  using clock = std::chrono::steady_clock;
  long total_;
  bool enabled_;
  clock::time_point start_;
};

potentials::Schedule make_schedule(const io::ScheduleConfig& s) {
  if (s.kind == "logarithmic") return potentials::Schedule::logarithmic(s.c);
  if (s.kind == "geometric") return potentials::Schedule::geometric(s.T, s.gamma);
  return potentials::Schedule::constant(s.T);
}

template <int D>
grids::Grid<D> make_grid(const io::GridConfig& g) {
  typename grids::Grid<D>::Shape n;
  typename grids::Grid<D>::Point lo, hi;
  for (int a = 0; a < D; ++a) {
    n[a] = g.n[static_cast<std::size_t>(a)];
    lo[a] = g.lower[static_cast<std::size_t>(a)];
    hi[a] = g.upper[static_cast<std::size_t>(a)];
  }
  const auto b = g.boundary == "reflecting" ? grids::Boundary::reflecting
                 : g.boundary == "absorbing" ? grids::Boundary::absorbing
                                             : grids::Boundary::periodic;
  return grids::Grid<D>(n, lo, hi, b);
}

/// √ρ0 of the configured initial density (the amplitude of a wavefunction with density ρ0).
template <int D>
grids::Field<double, D> initial_amplitude(const io::RunConfig& c, const grids::Grid<D>& grid, const potentials::Landscape<D>& land,
                                         const potentials::Schedule& schedule) {
  grids::Field<double, D> phi(grid.shape(), 1.0);
  if (c.initial.kind == "gaussian") {
    grids::for_each_point(grid, [&](std::size_t i, const auto& x) {
      double e = 0;
      for (int a = 0; a < D; ++a) {
        const double u = (x[a] - c.initial.center[static_cast<std::size_t>(a)]) / c.initial.width[static_cast<std::size_t>(a)];
        e += u * u / 4;  // ρ ∝ exp(−u²/2), so √ρ ∝ exp(−u²/4)
      }
      phi[i] = std::exp(-e);
    });
  } else if (c.initial.kind == "gibbs") {
    const double T = schedule.T(0);
    double fmin = land.f()[0];
    for (double v : land.f()) fmin = std::min(fmin, v);
    for (std::size_t i = 0; i < phi.size(); ++i) phi[i] = std::exp(-(land.f()[i] - fmin) / (2 * T));
  }
  return phi;
}

template <int D>
int run_d(const io::RunConfig& c, const RunOptions& opt) {
  const auto grid = make_grid<D>(c.grid);
  const auto objective = potentials::make_objective(c.objective.name, D, c.objective.params);
  const potentials::Landscape<D> land(*objective, grid);
  const auto basins = grids::find_basins(grid, land.f());
  const auto schedule = make_schedule(c.schedule);
  const auto kind = c.schrodinger.potential == "objective" ? potentials::PotentialKind::objective : potentials::PotentialKind::witten;
  const bool real = c.schrodinger.mode == "real";
  const double dt = c.schrodinger.dt;

  solver::SplitStepOptions so;
  so.mode = real ? solver::TimeMode::real : solver::TimeMode::imaginary;
  so.scheme = c.schrodinger.scheme == "yoshida4" ? solver::SplitScheme::yoshida4 : solver::SplitScheme::strang;
  so.dt = dt;
  so.absorber_width = c.schrodinger.absorber_width;
  so.absorber_strength = c.schrodinger.absorber_strength;
  so.rigor = c.schrodinger.fft_planning == "measure" ? grids::PlanRigor::measure : grids::PlanRigor::estimate;
  // A restart plans with the interrupted run's FFTW wisdom: same plans, bit-identical results.
  std::optional<io::SnapshotWriter> writer;
  if (!opt.restart.empty()) {
    writer.emplace(io::SnapshotWriter::resume(opt.restart));
    if (!writer->info().fftw_wisdom.empty()) grids::import_wisdom(writer->info().fftw_wisdom);
  }
  solver::SplitStepSolver<D> s(land, kind, schedule, so);

  const long total = std::max(1L, std::lround(c.schrodinger.t_end / dt));
  const long every = c.output.every;
  long step = 0;

  if (!opt.restart.empty()) {
    const auto its = io::snapshot_iterations(opt.restart);
    if (its.empty()) core::throw_invalid("--restart", opt.restart, "an output file holding at least one snapshot");
    const auto snap = io::read_snapshot(opt.restart, its.back());
    const auto& re = snap.fields.at("psi/re");
    if (re.size() != grid.size()) core::throw_invalid("--restart", opt.restart, "a snapshot on the configured grid (" + std::to_string(grid.size()) + " points)");
    if (real) {
      grids::Field<grids::complex, D> psi(grid.shape());
      const auto im = snap.fields.count("psi/im") ? snap.fields.at("psi/im") : std::vector<double>(re.size(), 0.0);
      for (std::size_t i = 0; i < psi.size(); ++i) psi[i] = {re[i], im[i]};
      s.set_state(psi, snap.time);
    } else {
      grids::Field<double, D> phi(grid.shape());
      std::copy(re.begin(), re.end(), phi.begin());
      s.restore_state(phi, snap.time);
    }
    step = snap.iteration;
    if (!opt.quiet) std::fprintf(stderr, "qtzflow: restarting from %s, iteration %ld, t = %g\n", opt.restart.c_str(), step, snap.time);
  } else {
    auto phi0 = initial_amplitude(c, grid, land, schedule);
    if (c.initial.relax_time > 0) {
      solver::SplitStepOptions ro = so;
      ro.mode = solver::TimeMode::imaginary;
      ro.scheme = solver::SplitScheme::strang;
      ro.absorber_width = ro.absorber_strength = 0;
      solver::SplitStepSolver<D> relax(land, kind, potentials::Schedule::constant(schedule.T(0)), ro);
      relax.set_state(phi0);
      relax.advance(std::max(1L, std::lround(c.initial.relax_time / dt)));
      phi0 = relax.phi();
    }
    s.set_state(phi0);
    const std::string out = opt.output.empty() ? c.output.path : opt.output;
    writer.emplace(out, io::MeshGeometry::of(grid), io::RunInfo{c.text, QTZFLOW_GIT_REVISION, grids::export_wisdom()});
  }

  std::vector<double> re(grid.size()), im(grid.size());
  auto snapshot = [&] {
    std::vector<std::pair<std::string, double>> diag;
    diag.emplace_back("T", schedule.T(s.time()));
    diag.emplace_back("norm", s.norm());
    diag.emplace_back("energy", real ? s.energy() : s.decay_energy());
    static const char* axes[] = {"x", "y", "z"};
    std::vector<io::FieldView> fields;
    if (real) {
      const auto m = solver::moments(grid, s.psi(), solver::abs2);
      for (int a = 0; a < D; ++a) diag.emplace_back(std::string("mean_") + axes[a], m.mean[a]);
      const auto mass = grids::mass_per_basin(grid, basins, s.psi(), solver::abs2);
      for (std::size_t b = 0; b < mass.size(); ++b) diag.emplace_back("mass_basin_" + std::to_string(b), mass[b]);
      for (std::size_t i = 0; i < re.size(); ++i) { re[i] = s.psi()[i].real(); im[i] = s.psi()[i].imag(); }
      fields = {{"psi/re", re}, {"psi/im", im}};
    } else {
      const auto m = solver::moments(grid, s.phi(), solver::abs2);
      for (int a = 0; a < D; ++a) diag.emplace_back(std::string("mean_") + axes[a], m.mean[a]);
      const auto mass = grids::mass_per_basin(grid, basins, s.phi(), solver::abs2);
      for (std::size_t b = 0; b < mass.size(); ++b) diag.emplace_back("mass_basin_" + std::to_string(b), mass[b]);
      std::copy(s.phi().begin(), s.phi().end(), re.begin());
      fields = {{"psi/re", re}};
    }
    writer->write(step, s.time(), dt, fields, diag);
  };

  g_stop_signal = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  if (opt.restart.empty()) snapshot();
  Progress progress(total, !opt.quiet);
  int rc = 0;
  try {
    while (step < total) {
      // Chunks end on multiples of output.every, so a restart from any snapshot repeats the
      // uninterrupted run's chunks exactly (bit-identical fields).
      const long chunk = std::min(every - step % every, total - step);
      s.advance(chunk);
      step += chunk;
      snapshot();
      progress.update(step, s.time());
      if (g_stop_signal != 0) {
        rc = 128 + g_stop_signal;
        break;
      }
    }
  } catch (const core::NumericalError& e) {
    progress.done();
    std::fprintf(stderr, "qtzflow: run stopped: %s\nqtzflow: the last good snapshot (iteration %ld) is in %s\n", e.what(), step,
                 writer->path().c_str());
    writer->finish();
    return 1;
  }
  progress.done();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  writer->finish();
  if (rc != 0) {
    std::fprintf(stderr, "qtzflow: stopped by signal %d after a final snapshot at iteration %ld (t = %g) in %s\n", rc - 128, step, s.time(),
                 writer->path().c_str());
  } else if (!opt.quiet) {
    std::fprintf(stderr, "qtzflow: %zu snapshots (t = 0 .. %g) written to %s\n"
                         "         ParaView: open %s    Python: h5py.File('%s')['data'].keys()\n",
                 writer->count(), s.time(), writer->path().c_str(), writer->xdmf_path().c_str(), writer->path().c_str());
  }
  return rc;
}

}  // namespace

int run(const io::RunConfig& config, const RunOptions& options) {
  switch (config.grid.dim()) {
    case 1: return run_d<1>(config, options);
    case 2: return run_d<2>(config, options);
    case 3: return run_d<3>(config, options);
  }
  core::throw_invalid("grid.n", std::to_string(config.grid.dim()) + " axes", "1, 2 or 3 axes");
}

}  // namespace qtzflow::apps
