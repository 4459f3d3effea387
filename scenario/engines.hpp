// qtzflow/scenario/engines.hpp — the three engines as a run loop sees them: one interface over
// the split-step solver, the Fokker–Planck solver and a particle ensemble.
//
// Every adapter E<D> offers:
//   E(config, problem, resumed, warn)   builds the engine; `resumed` is the writer of an output
//                                       being continued (its FFTW wisdom), or null; `warn`
//                                       receives advice about the configuration (cell Péclet
//                                       number, the imaginary-time temperature floor)
//   start(config, problem)              the initial state from [initial]
//   restore(snapshot)                   the state of a stored snapshot (restart)
//   restart_field()                     the mesh a restart needs in a snapshot
//   advance(n), time(), dt()
//   diagnostics(basins, diagnostics)    appends the engine's diagnostics of the current state
//   fields()                            the fields a snapshot stores (views valid until the next
//                                       call; under MPI this rank's rows, FieldView::Layout::blocks,
//                                       or a field every rank holds whole, Layout::replicated)
//   particle_output()                   openPMD particle records (positions; under MPI this
//                                       rank's particles, Layout::blocks), or none
// Diagnostics: T (by the loop), the engine's own (norm/energy, mass/min_rho/free_energy/outflow,
// acceptance), then mean_/var_/cov_ per axis and mass_basin_<k> of the density (|ψ|², ρ or the
// histogram).  Output fields: psi/re (+ psi/im and psi_abs2 = |ψ|² in real time), rho, particles_hist.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/mpi.hpp"
#include "grids/basins.hpp"
#include "grids/fft.hpp"
#include "io/snapshot.hpp"
#include "particles/ensemble.hpp"
#include "potentials/gibbs.hpp"
#include "scenario/advice.hpp"
#include "scenario/config.hpp"
#include "scenario/problem.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::scenario {

using Diagnostics = std::vector<std::pair<std::string, double>>;
using Warn = std::function<void(const std::string&)>;
/// Fields and particle records of which each rank holds its own block (io/snapshot.hpp).
inline constexpr auto kRows = io::FieldView::Layout::blocks;

/// Mean, variance and covariances per axis and mass per basin of a density w(u) (|ψ|² or ρ).
template <int D, class T, class W>
void add_moments(Diagnostics& diag, const grids::Grid<D>& grid, const grids::Basins<D>& basins, const grids::Field<T, D>& field, W w) {
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

/// The step controller's state as diagnostics of an error-controlled run: what a restart needs
/// (step_state_of reads it back), and the steps taken.
inline void add_step_state(Diagnostics& diag, const core::StepController::State& st) {
  diag.emplace_back("dt_next", st.next);
  diag.emplace_back("error_ratio", st.eps_prev);
  diag.emplace_back("steps_accepted", static_cast<double>(st.accepted));
  diag.emplace_back("steps_rejected", static_cast<double>(st.rejected));
  diag.emplace_back("dt_last", st.last_step);
  diag.emplace_back("error_last", st.last_error);
}

/// The step controller's state stored in a snapshot's diagnostics by add_step_state; `key` names
/// the tolerance of the engine (for the message when a snapshot lacks it).
inline core::StepController::State step_state_of(const io::Snapshot& snap, const char* key) {
  auto get = [&](const char* name) {
    const auto it = snap.diagnostics.find(name);
    if (it == snap.diagnostics.end() || !std::isfinite(it->second) || it->second < 0)
      core::throw_invalid("restart", std::string("a snapshot without a valid diagnostic ") + name,
                          std::string("an output of a run with ") + key + " (its step controller's state)");
    return it->second;
  };
  core::StepController::State st;
  st.next = get("dt_next");
  st.eps_prev = get("error_ratio");
  st.accepted = std::lround(get("steps_accepted"));
  st.rejected = std::lround(get("steps_rejected"));
  st.last_step = get("dt_last");
  st.last_error = get("error_last");
  if (!(st.next > 0)) core::throw_invalid("restart", "dt_next = " + core::format_value(st.next), "> 0");
  return st;
}

/// n nominal steps of dt of a grid solver; under error control: to the time n nominal steps
/// later, exactly (the chunk ends and snapshots of the fixed-step run, whatever steps the error
/// allows).  `step` counts the nominal steps done.
template <class Solver>
void advance_nominal(Solver& s, long& step, long n) {
  step += n;
  if (s.options().control.adaptive())
    s.advance_to(static_cast<double>(step) * s.options().dt);
  else
    s.advance(n);
}

/// The split-step Schrödinger engine.
template <int D>
class SchrodingerEngine {
 public:
  using Config = SchrodingerConfig;

  SchrodingerEngine(const RunConfig& c, const Problem<D>& p, const io::SnapshotWriter* resumed, const Warn& warn)
      : cfg_(std::get<Config>(c.engine)), grid_(p.grid), rows_(p.rows), real_(cfg_.mode == solver::TimeMode::real), s_(make(cfg_, p, resumed, warn)) {
    const std::size_t local = grids::Field<double, D>::product(s_.layout().local);  // this rank's slab under MPI
    re_.resize(local);
    im_.resize(real_ ? local : 0);
    abs2_.resize(real_ ? local : 0);
    if (!real_ && cfg_.potential == potentials::PotentialKind::witten) {
      const auto advice = imaginary_time_floor_advice(p.basins.minimum_value, p.schedule.T(cfg_.t_end), "T(t_end)");
      if (!advice.empty()) warn(advice);
    }
  }

  static solver::SplitStepSolver<D> make(const Config& c, const Problem<D>& p, const io::SnapshotWriter* resumed, const Warn& warn) {
    solver::SplitStepOptions so = c.solver_options();
    so.distributed = true;  // under mpirun with several ranks: slabs of axis 0 (one rank: ignored)
    // a restart plans with the interrupted run's FFTW wisdom: same plans, bit-identical results
    // (under MPI rank 0 imports it; the collective planner broadcasts rank 0's wisdom)
    bool imported = true;
    core::mpi::on_root([&] {
      if (resumed != nullptr && !resumed->info().fftw_wisdom.empty()) imported = grids::import_wisdom(resumed->info().fftw_wisdom);
    });
    if (!imported)  // rank 0's finding (only rank 0 warns)
      warn("the output's FFT plans were made by an FFTW configured " + std::string(core::mpi::active() ? "without" : "for") +
           " MPI and cannot be reused: planning anew, so the continued run agrees with an uninterrupted one to rounding, not bit for bit");
    return solver::SplitStepSolver<D>(p.landscape, c.potential, p.schedule, so);
  }

  void start(const RunConfig& c, const Problem<D>& p) {
    auto phi0 = initial_density(c.initial, p);
    for (double& v : phi0) v = std::sqrt(v);  // a wavefunction of density ρ0
    if (c.initial.relax_time > 0) {
      solver::SplitStepOptions ro;
      ro.mode = solver::TimeMode::imaginary;
      ro.dt = cfg_.dt;
      ro.rigor = s_.options().rigor;
      ro.distributed = s_.distributed();
      solver::SplitStepSolver<D> relax(p.landscape, cfg_.potential, potentials::Schedule::constant(p.schedule.T(0)), ro);
      relax.set_state(phi0);
      relax.advance(std::max(1L, std::lround(c.initial.relax_time / ro.dt)));
      phi0 = relax.phi();  // this rank's slab when distributed
    }
    // ψ0 = √ρ0 normalised: |ψ|² is then a probability density (imaginary time normalises itself)
    const double n2 = solver::integral(grid_, phi0, solver::abs2);
    if (real_ && n2 > 0 && std::isfinite(n2))
      for (double& v : phi0) v /= std::sqrt(n2);
    s_.set_state(phi0);
    step_ = 0;
  }

  /// `snap` holds the problem's rows (this rank's block when distributed).  Under error control
  /// the step controller's state comes back from the snapshot's diagnostics.
  void restore(const io::Snapshot& snap) {
    step_ = snap.iteration;
    if (adaptive()) s_.restore_step_state(step_state_of(snap, "schrodinger.tolerance"));
    const auto& re = snap.fields.at("psi/re");
    if (real_) {
      auto psi = field_of_rows<grids::complex>(grid_, rows_, {});
      const auto im = snap.fields.count("psi/im") ? snap.fields.at("psi/im") : std::vector<double>(re.size(), 0.0);
      for (std::size_t i = 0; i < psi.size(); ++i) psi[i] = {re[i], im[i]};
      s_.set_state(psi, snap.time);
    } else {
      auto phi = field_of_rows<double>(grid_, rows_, 0.0);
      std::copy(re.begin(), re.end(), phi.begin());
      s_.restore_state(phi, snap.time);
    }
  }
  static const char* restart_field() { return "psi/re"; }
  std::vector<io::FieldView> particle_output() { return {}; }

  void advance(long n) { advance_nominal(s_, step_, n); }
  double time() const { return s_.time(); }
  double dt() const { return s_.options().dt; }
  const solver::SplitStepSolver<D>& solver() const { return s_; }
  bool adaptive() const { return s_.options().control.adaptive(); }

  void diagnostics(const grids::Basins<D>& basins, Diagnostics& diag) const {
    if (adaptive()) add_step_state(diag, s_.step_state());
    diag.emplace_back("norm", s_.norm());
    diag.emplace_back("energy", real_ ? s_.energy() : s_.decay_energy());
    if (real_)
      add_moments(diag, grid_, basins, s_.psi(), solver::abs2);
    else
      add_moments(diag, grid_, basins, s_.phi(), solver::abs2);
  }

  /// This rank's rows (the whole grid on one rank).
  std::vector<io::FieldView> fields() {
    if (real_) {
      for (std::size_t i = 0; i < re_.size(); ++i) {
        re_[i] = s_.psi()[i].real();
        im_[i] = s_.psi()[i].imag();
        abs2_[i] = re_[i] * re_[i] + im_[i] * im_[i];
      }
      return {{"psi/re", re_, {}, kRows}, {"psi/im", im_, {}, kRows}, {"psi_abs2", abs2_, {}, kRows}};
    }
    std::copy(s_.phi().begin(), s_.phi().end(), re_.begin());
    return {{"psi/re", re_, {}, kRows}};
  }

 private:
  Config cfg_;
  const grids::Grid<D>& grid_;
  RowBlock rows_;  // the problem's rows: this rank's slab under MPI
  bool real_;
  solver::SplitStepSolver<D> s_;
  long step_ = 0;  // nominal steps of dt done: the run loop's step
  std::vector<double> re_, im_, abs2_;  // this rank's values; abs2_: |ψ|² (real time), so readers need no calculator step
};

/// The Fokker–Planck engine.
template <int D>
class FokkerPlanckEngine {
 public:
  using Config = FokkerPlanckConfig;

  FokkerPlanckEngine(const RunConfig& c, const Problem<D>& p, const io::SnapshotWriter*, const Warn& warn)
      : grid_(p.grid),
        rows_(p.rows),
        // distributed under mpirun with several ranks (slabs of axis 0; one rank: ignored)
        s_(p.landscape, p.schedule, distributed(std::get<Config>(c.engine).solver_options())) {
    const auto advice = peclet_advice(p.grid, p.landscape.f(), p.basins, p.rows, p.schedule, 0.0, std::get<Config>(c.engine).t_end);
    if (!advice.empty()) warn(advice);
  }

  void start(const RunConfig& c, const Problem<D>& p) {
    auto rho0 = initial_density(c.initial, p);
    const double m = solver::integral(grid_, rho0, solver::identity);
    for (double& v : rho0) v /= m;
    s_.set_state(rho0);
    step_ = 0;
  }
  /// `snap` holds the problem's rows (this rank's block when distributed).  Under error control
  /// the step controller's state comes back from the snapshot's diagnostics, so that the
  /// continued run takes the uninterrupted run's steps.
  void restore(const io::Snapshot& snap) {
    auto rho = field_of_rows<double>(grid_, rows_, 0.0);
    const auto& r = snap.fields.at("rho");
    std::copy(r.begin(), r.end(), rho.begin());
    const auto out = snap.diagnostics.find("outflow");
    s_.set_state(rho, snap.time, out == snap.diagnostics.end() ? 0.0 : out->second);
    step_ = snap.iteration;
    if (adaptive()) s_.restore_step_state(step_state_of(snap, "fokker_planck.tolerance"));
  }
  static const char* restart_field() { return "rho"; }
  static solver::FokkerPlanckOptions distributed(solver::FokkerPlanckOptions o) {
    o.distributed = true;  // under mpirun with several ranks: slabs of axis 0 (one rank: ignored)
    return o;
  }
  std::vector<io::FieldView> particle_output() { return {}; }

  void advance(long n) { advance_nominal(s_, step_, n); }
  double time() const { return s_.time(); }
  double dt() const { return s_.options().dt; }
  const solver::FokkerPlanckSolver<D>& solver() const { return s_; }
  bool adaptive() const { return s_.options().control.adaptive(); }

  void diagnostics(const grids::Basins<D>& basins, Diagnostics& diag) const {
    if (adaptive()) add_step_state(diag, s_.step_state());
    diag.emplace_back("mass", s_.mass());
    double mn = s_.rho()[0];
    for (double v : s_.rho()) mn = std::min(mn, v);
    diag.emplace_back("min_rho", s_.distributed() ? core::mpi::allreduce_min(mn) : mn);
    diag.emplace_back("free_energy", s_.free_energy());
    diag.emplace_back("outflow", s_.outflow());
    add_moments(diag, grid_, basins, s_.rho(), solver::identity);
  }
  /// This rank's rows (the whole grid on one rank).
  std::vector<io::FieldView> fields() { return {{"rho", s_.rho().values(), {}, kRows}}; }

 private:
  const grids::Grid<D>& grid_;
  RowBlock rows_;  // the problem's rows: this rank's slab under MPI
  solver::FokkerPlanckSolver<D> s_;
  long step_ = 0;  // nominal steps of dt done: the run loop's step
};

/// The particle engine (an ensemble whose histogram is the density).
template <int D>
class ParticleEngine {
 public:
  using Config = ParticlesConfig;

  ParticleEngine(const RunConfig& c, const Problem<D>& p, const io::SnapshotWriter*, const Warn&)
      : grid_(p.grid), count_(static_cast<std::size_t>(std::get<Config>(c.engine).count)), e_(*p.objective, p.grid, p.schedule, options(c)) {}

  void start(const RunConfig& c, const Problem<D>&) {
    if (c.initial.kind == InitialKind::uniform)
      e_.sample_initial(count_, {}, {});
    else
      e_.sample_initial(count_, c.initial.center, c.initial.width);
    hist_steps_ = -1;  // new positions at the same step count
  }
  void restore(const io::Snapshot& snap) {
    std::vector<double> xs(count_ * D);
    for (int a = 0; a < D; ++a) {
      const auto it = snap.particles.find(std::string("ensemble/position/") + kAxes[a]);
      if (it == snap.particles.end() || it->second.size() != count_)
        core::throw_invalid("restart", "a snapshot without the positions of " + std::to_string(count_) + " particles",
                            "an output of a [particles] run with particles.count = " + std::to_string(count_));
      for (std::size_t q = 0; q < count_; ++q) xs[q * D + static_cast<std::size_t>(a)] = it->second[q];
    }
    e_.set_positions(std::move(xs), snap.time, std::lround(snap.time / e_.options().dt));
    hist_steps_ = -1;
  }
  static const char* restart_field() { return "particles_hist"; }

  void advance(long n) { e_.advance(n); }
  double time() const { return e_.time(); }
  double dt() const { return e_.options().dt; }
  const particles::ParticleEnsemble<D>& ensemble() const { return e_; }

  void diagnostics(const grids::Basins<D>& basins, Diagnostics& diag) {
    diag.emplace_back("acceptance", e_.acceptance_rate());
    add_moments(diag, grid_, basins, histogram(), solver::identity);
  }
  /// The histogram is whole on every rank (counts summed over ranks).
  std::vector<io::FieldView> fields() { return {{"particles_hist", histogram().values()}}; }
  std::vector<io::FieldView> particle_output() {
    // positions per axis (openPMD particle records), what a restart reads back; under MPI this
    // rank's particles, which follow the lower ranks' in particle order
    const auto& x = e_.positions();
    const std::size_t local = e_.local_size();
    std::vector<io::FieldView> out;
    for (int a = 0; a < D; ++a) {
      auto& comp = columns_[static_cast<std::size_t>(a)];
      comp.resize(local);
      for (std::size_t q = 0; q < local; ++q) comp[q] = x[q * D + static_cast<std::size_t>(a)];
      out.push_back({std::string("ensemble/position/") + kAxes[a], comp, {}, kRows});
    }
    return out;
  }

 private:
  static constexpr const char* kAxes[] = {"x", "y", "z"};
  /// The histogram of the current positions, binned once per step count (a snapshot's
  /// diagnostics and fields share it).
  const grids::Field<double, D>& histogram() {
    if (hist_steps_ != e_.steps()) {
      hist_ = e_.histogram();
      hist_steps_ = e_.steps();
    }
    return hist_;
  }
  static particles::ParticleOptions options(const RunConfig& c) {
    auto o = std::get<Config>(c.engine).ensemble_options(c.schedule.C_q);
    o.distributed = true;  // under mpirun with several ranks: blocks of particles (one rank: ignored)
    return o;
  }
  const grids::Grid<D>& grid_;
  std::size_t count_;
  particles::ParticleEnsemble<D> e_;
  grids::Field<double, D> hist_;
  long hist_steps_ = -1;  // the step count hist_ was binned at (-1: none yet)
  std::array<std::vector<double>, D> columns_;
};

}  // namespace qtzflow::scenario
