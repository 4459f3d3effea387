#include "apps/run.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "grids/basins.hpp"
#include "grids/fft.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/particle_ensemble.hpp"
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
  if (s.kind == "paper") return potentials::Schedule::paper(s.C_q, s.eta, s.tau);
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

/// The configured initial density ρ0 (not normalised).
template <int D>
grids::Field<double, D> initial_density(const io::RunConfig& c, const grids::Grid<D>& grid, const potentials::Landscape<D>& land,
                                        const potentials::Schedule& schedule) {
  grids::Field<double, D> rho(grid.shape(), 1.0);
  if (c.initial.kind == "gaussian") {
    grids::for_each_point(grid, [&](std::size_t i, const auto& x) {
      double e = 0;
      for (int a = 0; a < D; ++a) {
        const double u = (x[a] - c.initial.center[static_cast<std::size_t>(a)]) / c.initial.width[static_cast<std::size_t>(a)];
        e += u * u / 2;
      }
      rho[i] = std::exp(-e);
    });
  } else if (c.initial.kind == "gibbs") {
    const double T = schedule.T(0);
    double fmin = land.f()[0];
    for (double v : land.f()) fmin = std::min(fmin, v);
    for (std::size_t i = 0; i < rho.size(); ++i) rho[i] = std::exp(-(land.f()[i] - fmin) / T);
  }
  return rho;
}

/// Mean, variance and covariances per axis and mass per basin of a density w(u) (|ψ|² or ρ).
template <int D, class T, class W>
void add_moments(std::vector<std::pair<std::string, double>>& diag, const grids::Grid<D>& grid, const grids::Basins<D>& basins,
                 const grids::Field<T, D>& field, W w) {
  static const char* axes[] = {"x", "y", "z"};
  const auto m = solver::moments(grid, field, w);
  for (int a = 0; a < D; ++a) {
    diag.emplace_back(std::string("mean_") + axes[a], m.mean[a]);
    diag.emplace_back(std::string("var_") + axes[a], m.variance(a));
    for (int b = a + 1; b < D; ++b) diag.emplace_back(std::string("cov_") + axes[a] + axes[b], m.covariance(a, b));
  }
  const auto mass = grids::mass_per_basin(grid, basins, field, w);
  for (std::size_t b = 0; b < mass.size(); ++b) diag.emplace_back("mass_basin_" + std::to_string(b), mass[b]);
}

/// The Schrödinger engine as the run loop sees it.
template <int D>
class SchrodingerEngine {
 public:
  SchrodingerEngine(const io::RunConfig& c, const grids::Grid<D>& grid, const potentials::Landscape<D>& land,
                    const potentials::Schedule& schedule, const io::SnapshotWriter* resumed)
      : grid_(grid), real_(c.schrodinger.mode == "real"), re_(grid.size()), im_(grid.size()), s_(make(c, land, schedule, resumed)) {
    // ρ = e^{−f/2T}·φ: the basins' weights in φ differ by ~e^{Δf/2T} (Δf = spread of the basin minima);
    // past 1e-4/ε_machine the weaker basin drowns in the FFTs' round-off (qtzflow verify v7 shows it)
    if (!real_ && c.schrodinger.potential == "witten") {
      const auto basins = grids::find_basins(grid, land.f());
      const double df = basins.minimum_value.back() - basins.minimum_value.front();
      const double T_floor = df / (2 * std::log(1e-4 / std::numeric_limits<double>::epsilon()));
      const double T_end = schedule.T(c.schrodinger.t_end);
      if (T_end < T_floor)
        std::fprintf(stderr,
                     "qtzflow: warning: T(t_end) = %.3g < %.3g = (spread of the basin minima %.3g)/(2 ln(1e-4/eps)): if the density "
                     "keeps mass in several basins, rho = e^(-f/2T) phi loses the lower ones to round-off below it; "
                     "end the run earlier or use [fokker_planck]\n",
                     T_end, T_floor, df);
    }
  }

  static solver::SplitStepSolver<D> make(const io::RunConfig& c, const potentials::Landscape<D>& land, const potentials::Schedule& schedule,
                                         const io::SnapshotWriter* resumed) {
    solver::SplitStepOptions so;
    so.mode = c.schrodinger.mode == "real" ? solver::TimeMode::real : solver::TimeMode::imaginary;
    so.scheme = c.schrodinger.scheme == "yoshida4" ? solver::SplitScheme::yoshida4 : solver::SplitScheme::strang;
    so.dt = c.schrodinger.dt;
    so.absorber_width = c.schrodinger.absorber_width;
    so.absorber_strength = c.schrodinger.absorber_strength;
    so.rigor = c.schrodinger.fft_planning == "measure" ? grids::PlanRigor::measure : grids::PlanRigor::estimate;
    // a restart plans with the interrupted run's FFTW wisdom: same plans, bit-identical results
    if (resumed != nullptr && !resumed->info().fftw_wisdom.empty()) grids::import_wisdom(resumed->info().fftw_wisdom);
    const auto kind = c.schrodinger.potential == "objective" ? potentials::PotentialKind::objective : potentials::PotentialKind::witten;
    return solver::SplitStepSolver<D>(land, kind, schedule, so);
  }

  void start(const io::RunConfig& c, const potentials::Landscape<D>& land, const potentials::Schedule& schedule) {
    auto phi0 = initial_density(c, grid_, land, schedule);
    for (double& v : phi0) v = std::sqrt(v);  // a wavefunction of density ρ0
    if (c.initial.relax_time > 0) {
      solver::SplitStepOptions ro;
      ro.mode = solver::TimeMode::imaginary;
      ro.dt = c.schrodinger.dt;
      ro.rigor = s_.options().rigor;
      const auto kind = c.schrodinger.potential == "objective" ? potentials::PotentialKind::objective : potentials::PotentialKind::witten;
      solver::SplitStepSolver<D> relax(land, kind, potentials::Schedule::constant(schedule.T(0)), ro);
      relax.set_state(phi0);
      relax.advance(std::max(1L, std::lround(c.initial.relax_time / ro.dt)));
      phi0 = relax.phi();
    }
    s_.set_state(phi0);
  }

  void restore(const io::Snapshot& snap) {
    const auto& re = snap.fields.at("psi/re");
    if (real_) {
      grids::Field<grids::complex, D> psi(grid_.shape());
      const auto im = snap.fields.count("psi/im") ? snap.fields.at("psi/im") : std::vector<double>(re.size(), 0.0);
      for (std::size_t i = 0; i < psi.size(); ++i) psi[i] = {re[i], im[i]};
      s_.set_state(psi, snap.time);
    } else {
      grids::Field<double, D> phi(grid_.shape());
      std::copy(re.begin(), re.end(), phi.begin());
      s_.restore_state(phi, snap.time);
    }
  }
  static const char* restart_field() { return "psi/re"; }
  std::vector<io::FieldView> particle_output() { return {}; }

  void advance(long n) { s_.advance(n); }
  double time() const { return s_.time(); }
  double dt() const { return s_.options().dt; }

  /// Fields and diagnostics of the current state.
  std::vector<io::FieldView> output(const grids::Basins<D>& basins, std::vector<std::pair<std::string, double>>& diag) {
    diag.emplace_back("norm", s_.norm());
    diag.emplace_back("energy", real_ ? s_.energy() : s_.decay_energy());
    if (real_) {
      add_moments(diag, grid_, basins, s_.psi(), solver::abs2);
      for (std::size_t i = 0; i < re_.size(); ++i) {
        re_[i] = s_.psi()[i].real();
        im_[i] = s_.psi()[i].imag();
      }
      return {{"psi/re", re_}, {"psi/im", im_}};
    }
    add_moments(diag, grid_, basins, s_.phi(), solver::abs2);
    std::copy(s_.phi().begin(), s_.phi().end(), re_.begin());
    return {{"psi/re", re_}};
  }

 private:
  const grids::Grid<D>& grid_;
  bool real_;
  std::vector<double> re_, im_;
  solver::SplitStepSolver<D> s_;
};

solver::FpScheme fp_scheme(const std::string& name) {
  // the names were validated by io::parse_config
  if (name == "crank_nicolson") return solver::FpScheme::crank_nicolson;
  if (name == "extrapolated_euler") return solver::FpScheme::extrapolated_euler;
  return solver::FpScheme::backward_euler;
}

/// The Fokker–Planck engine as the run loop sees it.
template <int D>
class FokkerPlanckEngine {
 public:
  FokkerPlanckEngine(const io::RunConfig& c, const grids::Grid<D>& grid, const potentials::Landscape<D>& land,
                     const potentials::Schedule& schedule, const io::SnapshotWriter*)
      : grid_(grid),
        s_(land, schedule,
           solver::FokkerPlanckOptions{c.fokker_planck.dt, fp_scheme(c.fokker_planck.scheme)}) {
    if (s_.max_cell_peclet() > 2)
      std::fprintf(stderr,
                   "qtzflow: warning: cell Peclet number %.3g > 2 (the drift crosses a cell faster than diffusion smooths it, at "
                   "T = %g): the density is not resolved; refine grid.n or raise T\n",
                   s_.max_cell_peclet(), schedule.T(0));
  }

  void start(const io::RunConfig& c, const potentials::Landscape<D>& land, const potentials::Schedule& schedule) {
    auto rho0 = initial_density(c, grid_, land, schedule);
    const double m = solver::integral(grid_, rho0, solver::identity);
    for (double& v : rho0) v /= m;
    s_.set_state(rho0);
  }
  void restore(const io::Snapshot& snap) {
    grids::Field<double, D> rho(grid_.shape());
    const auto& r = snap.fields.at("rho");
    std::copy(r.begin(), r.end(), rho.begin());
    const auto out = snap.diagnostics.find("outflow");
    s_.set_state(rho, snap.time, out == snap.diagnostics.end() ? 0.0 : out->second);
  }
  static const char* restart_field() { return "rho"; }
  std::vector<io::FieldView> particle_output() { return {}; }

  void advance(long n) { s_.advance(n); }
  double time() const { return s_.time(); }
  double dt() const { return s_.options().dt; }

  std::vector<io::FieldView> output(const grids::Basins<D>& basins, std::vector<std::pair<std::string, double>>& diag) {
    diag.emplace_back("mass", s_.mass());
    double mn = s_.rho()[0];
    for (double v : s_.rho()) mn = std::min(mn, v);
    diag.emplace_back("min_rho", mn);
    diag.emplace_back("free_energy", s_.free_energy());
    diag.emplace_back("outflow", s_.outflow());
    add_moments(diag, grid_, basins, s_.rho(), solver::identity);
    return {{"rho", s_.rho().values()}};
  }

 private:
  const grids::Grid<D>& grid_;
  solver::FokkerPlanckSolver<D> s_;
};

/// The particle engine (an ensemble whose histogram is the density) as the run loop sees it.
template <int D>
class ParticleEngine {
 public:
  ParticleEngine(const io::RunConfig& c, const grids::Grid<D>& grid, const potentials::Landscape<D>&, const potentials::Schedule& schedule,
                 const io::SnapshotWriter*)
      : grid_(grid),
        count_(static_cast<std::size_t>(c.particles.count)),
        objective_(potentials::make_objective(c.objective.name, D, c.objective.params)),
        e_(*objective_, grid, schedule, options(c)) {}

  void start(const io::RunConfig& c, const potentials::Landscape<D>&, const potentials::Schedule&) {
    if (c.initial.kind == "uniform") e_.sample_initial(count_, {}, {});
    else e_.sample_initial(count_, c.initial.center, c.initial.width);
  }
  void restore(const io::Snapshot& snap) {
    std::vector<double> xs(count_ * D);
    for (int a = 0; a < D; ++a) {
      const auto it = snap.particles.find(std::string("ensemble/position/") + kAxes[a]);
      if (it == snap.particles.end() || it->second.size() != count_)
        core::throw_invalid("--restart", "a snapshot without the positions of " + std::to_string(count_) + " particles",
                            "an output of a [particles] run with particles.count = " + std::to_string(count_));
      for (std::size_t p = 0; p < count_; ++p) xs[p * D + static_cast<std::size_t>(a)] = it->second[p];
    }
    e_.set_positions(std::move(xs), snap.time, std::lround(snap.time / e_.options().dt));
  }
  static const char* restart_field() { return "particles_hist"; }

  void advance(long n) { e_.advance(n); }
  double time() const { return e_.time(); }
  double dt() const { return e_.options().dt; }

  std::vector<io::FieldView> output(const grids::Basins<D>& basins, std::vector<std::pair<std::string, double>>& diag) {
    hist_ = e_.histogram();
    diag.emplace_back("acceptance", e_.acceptance_rate());
    add_moments(diag, grid_, basins, hist_, solver::identity);
    return {{"particles_hist", hist_.values()}};
  }
  std::vector<io::FieldView> particle_output() {
    // positions per axis (openPMD particle records), what a restart reads back
    const auto& x = e_.positions();
    std::vector<io::FieldView> out;
    for (int a = 0; a < D; ++a) {
      auto& comp = columns_[static_cast<std::size_t>(a)];
      comp.resize(count_);
      for (std::size_t p = 0; p < count_; ++p) comp[p] = x[p * D + static_cast<std::size_t>(a)];
      out.push_back({std::string("ensemble/position/") + kAxes[a], comp});
    }
    return out;
  }

 private:
  static constexpr const char* kAxes[] = {"x", "y", "z"};
  static solver::ParticleOptions options(const io::RunConfig& c) {
    const auto& p = c.particles;
    const auto dyn = p.algorithm == "qtz-local"    ? solver::ParticleDynamics::qtz_local
                     : p.algorithm == "qtz-dither" ? solver::ParticleDynamics::qtz_dither
                                                   : solver::ParticleDynamics::langevin;
    return {dyn, p.dt, p.delta, c.schedule.C_q, static_cast<std::uint64_t>(p.seed)};
  }
  const grids::Grid<D>& grid_;
  std::size_t count_;
  std::unique_ptr<potentials::Objective> objective_;  // the particles evaluate f off the grid
  solver::ParticleEnsemble<D> e_;
  grids::Field<double, D> hist_;
  std::array<std::vector<double>, D> columns_;
};

template <int D, class Engine>
int run_engine(const io::RunConfig& c, const RunOptions& opt, double t_end) {
  const auto grid = make_grid<D>(c.grid);
  const auto objective = potentials::make_objective(c.objective.name, D, c.objective.params);
  const potentials::Landscape<D> land(*objective, grid);
  const auto basins = grids::find_basins(grid, land.f());
  const auto schedule = make_schedule(c.schedule);

  std::optional<io::SnapshotWriter> writer;
  if (!opt.restart.empty() && !opt.output.empty() &&
      std::filesystem::weakly_canonical(opt.output) != std::filesystem::weakly_canonical(opt.restart))
    core::throw_invalid("-o", opt.output, "the --restart file " + opt.restart + " (a restart continues its own output), or absent");
  if (!opt.restart.empty()) writer.emplace(io::SnapshotWriter::resume(opt.restart));
  Engine e(c, grid, land, schedule, writer ? &*writer : nullptr);
  const long total = std::max(1L, std::lround(t_end / e.dt()));
  const long every = c.output.every;
  long step = 0;

  if (!opt.restart.empty()) {
    const auto snap = io::read_snapshot(opt.restart, io::snapshot_iterations(opt.restart).back());
    if (!snap.fields.count(Engine::restart_field()) || snap.fields.at(Engine::restart_field()).size() != grid.size())
      core::throw_invalid("--restart", opt.restart, std::string("an output of the configured engine and grid (a ") + Engine::restart_field() +
                                                        " field of " + std::to_string(grid.size()) + " points)");
    e.restore(snap);
    step = snap.iteration;
    if (!opt.quiet) std::fprintf(stderr, "qtzflow: restarting from %s, iteration %ld, t = %g\n", opt.restart.c_str(), step, snap.time);
  } else {
    e.start(c, land, schedule);
    const std::string out = opt.output.empty() ? c.output.path : opt.output;
    writer.emplace(out, io::MeshGeometry::of(grid), io::RunInfo{c.text, QTZFLOW_GIT_REVISION, grids::export_wisdom()});
  }

  auto snapshot = [&] {
    std::vector<std::pair<std::string, double>> diag{{"T", schedule.T(e.time())}};
    const auto fields = e.output(basins, diag);
    writer->write(step, e.time(), e.dt(), fields, diag, e.particle_output());
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
      e.advance(chunk);
      step += chunk;
      snapshot();
      progress.update(step, e.time());
      if (g_stop_signal != 0) {
        rc = 128 + g_stop_signal;
        break;
      }
    }
  } catch (const core::NumericalError& err) {
    progress.done();
    std::fprintf(stderr, "qtzflow: run stopped: %s\nqtzflow: the last good snapshot (iteration %ld) is in %s\n", err.what(), step,
                 writer->path().c_str());
    writer->finish();
    return 1;
  }
  progress.done();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  writer->finish();
  if (rc != 0) {
    std::fprintf(stderr, "qtzflow: stopped by signal %d after a final snapshot at iteration %ld (t = %g) in %s\n", rc - 128, step, e.time(),
                 writer->path().c_str());
  } else if (!opt.quiet) {
    std::fprintf(stderr, "qtzflow: %zu snapshots (t = 0 .. %g) written to %s\n"
                         "         ParaView: open %s    Python: h5py.File('%s')['data'].keys()\n",
                 writer->count(), e.time(), writer->path().c_str(), writer->xdmf_path().c_str(), writer->path().c_str());
  }
  return rc;
}

template <int D>
int run_d(const io::RunConfig& c, const RunOptions& opt) {
  if (c.fokker_planck.enabled) return run_engine<D, FokkerPlanckEngine<D>>(c, opt, c.fokker_planck.t_end);
  if (c.particles.enabled) return run_engine<D, ParticleEngine<D>>(c, opt, c.particles.t_end);
  return run_engine<D, SchrodingerEngine<D>>(c, opt, c.schrodinger.t_end);
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
