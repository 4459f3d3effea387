// qtzflow/solver/split_step.hpp — split-step Fourier solver for the Schrödinger picture of QTZ.
//
// Equations (docs/theory.md, "The Witten transform"), on a periodic Grid<D>, D = 1..3:
//   real time       i ∂ψ/∂t = −T Δψ + V ψ          (ħ = 1 units of the mapping: ħ²/2m = T)
//   imaginary time    ∂φ/∂t =  T Δφ − V φ          (φ real; renormalised every step)
// V is either a fixed field, or built from a potentials::Landscape as the witten potential
// V_T = |∇f|²/(4T) − Δf/2 (+ f·Ṫ/(2T²) in imaginary time when T = T(t)) or the objective V = f.
//
// Schemes: Strang  e^{−V dt/2} e^{−K dt} e^{−V dt/2}  (K = −TΔ applied in Fourier space, k² T),
// order 2; in real time only, the Yoshida 4th-order triple-jump composition of Strang steps
// (its negative sub-step would be ill-posed in imaginary time); and Chin's 4A force-gradient
// scheme, order 4 with positive sub-steps only (real and imaginary time):
//   e^{−V dt/6} e^{−K dt/2} e^{−Ṽ 2dt/3} e^{−K dt/2} e^{−V dt/6},
//   Ṽ = V + (ε²/48)[V,[K,V]] = V + σ T dt² |∇V|²/24   (ε = dt, σ = +1 in imaginary time;
//   ε = i dt, σ = −1 in real time; [V,[K,V]] = 2T|∇V|² for K = −TΔ),
// two FFT pairs per step against Yoshida's three, and a far smaller error constant (S. A. Chin,
// Phys. Lett. A 226 (1997) 344).  ∇V is taken by 4th-order central differences of V on the
// periodic grid (exact for a quadratic V; a kink where a non-periodic V wraps around only
// matters if the state reaches the box edge).  With constant T the adjacent
// half-steps of consecutive steps are merged, so `advance(n)` costs one V pass, two FFTs and one
// K pass per Strang stage; the state is synchronised (no half step pending) whenever advance
// returns.  With T(t) the potential and phases are rebuilt every step at T(t + dt/2)
// (exponential midpoint, still order 2).
//
// Embedded pair "emb43" (real time only: it has negative sub-steps), Auzinger, Hofstätter,
// Ketcheson & Koch, "Practical splitting methods for the adaptive integration of nonlinear
// evolution equations. Part I", J. Comput. Appl. Math. 316 (2017) 3 ("Emb 4/3 AK p"):
//   S(h) = e^{b5 h B} e^{a5 h A} ⋯ e^{b1 h B} e^{a1 h A},  A = the kinetic part (first), B = V,
// order 4 and palindromic; its order-3 partner Ŝ shares a1, b1, a2, b2 (the first four
// exponentials) and continues with a3 = 0, b̂3, â4, b̂4, â5, b̂5 (coefficients in split_step.cpp;
// local orders 5 and 4 checked in tests/unit/test_split_step_adaptive.cpp, global order 4 in
// tests/convergence).  Five FFT pairs per step, two
// more for the partner; no merging across steps (a step ends with B and starts with A).
//
// Error control (SplitStepOptions::control.tolerance > 0; advance_to(t)): the local error of a
// trial step h is estimated
//   emb43:                  ‖S(h)ψ − Ŝ(h)ψ‖ (S's error is of higher order: the estimate is Ŝ's,
//                           the solution propagated is S's, "local extrapolation");
//   strang, yoshida4, chin4: step doubling, ‖S(h/2)²u − S(h)u‖/(2^p − 1), the error of the two
//                           half-steps, which are propagated (Richardson's estimate; 1.5× the FFTs
//                           of the half-steps alone);
// the norm is the L² norm relative to ‖u‖ at the step's start (imaginary time: of the normalised
// states, so the estimate sees the shape, not the decay).  core::StepController picks the steps (PI,
// error per unit time over the horizon).  The phases are rebuilt when h changes (the controller
// keeps h while the error is steady).  With T = T(t) every scheme freezes T at the step's midpoint
// (order 2); the controller then uses p = 2, and emb43 is refused (its partner does not see that
// error).  An absorbing layer is part of V and changes nothing here (the norm then decays).
// 16 ulp of rounding are taken off the raw estimate (a tolerance below rounding then meets a
// floor, not a collapsing step).  chin4's estimate assumes order 4; where its finite-difference
// |∇V|² is poor (a potential steep where it wraps around the box) an order-2 error remains that
// the 1/15 of step doubling underestimates (BENCHMARKS.md: prefer yoshida4 there).
//
// Conventions: FFTs are FFTW's, unnormalised; the 1/N is folded into the kinetic phase array.
// Norms are Σ|ψ|² h^D.  Plans and phase arrays are made in the constructor; stepping allocates
// nothing (but for the MPI message buffers of chin4's |∇V|² halo when a distributed T(t) rebuilds
// it each step).
// Imaginary time uses real-to-complex transforms.
//
// Distributed (SplitStepOptions::distributed, under mpirun with more than one rank; 2D and 3D):
// every rank holds a slab of rows of axis 0 (grids/distributed_fft.hpp gives the layout: the
// `offset()` and `extent()` of psi()/phi()).  The kinetic step multiplies the transposed spectrum
// FFTW-MPI leaves (wavenumbers stored in that order), so a Strang step costs two all-to-all
// exchanges; every reduction (norm, energy, decay energy) is summed over ranks.  States, fixed
// potentials and landscapes may be given whole (each rank takes its rows) or as this rank's
// block; every rank must make the same calls in the same order (they are collective).  Results
// agree with one rank to rounding (the transforms add in another order), not bit for bit.
//
// Limits: periodic boundaries only (use an absorbing layer in real time to emulate open ones);
// the grid must resolve the potential.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "core/names.hpp"
#include "core/step_control.hpp"
#include "grids/distributed_fft.hpp"
#include "grids/fft.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"

namespace qtzflow::solver {

enum class TimeMode { real, imaginary };
constexpr core::Named<TimeMode> kTimeModeNames[] = {{"real", TimeMode::real}, {"imaginary", TimeMode::imaginary}};
constexpr std::span<const core::Named<TimeMode>> names_of(TimeMode) { return kTimeModeNames; }

enum class SplitScheme { strang, yoshida4, chin4, emb43 };
constexpr core::Named<SplitScheme> kSplitSchemeNames[] = {
    {"strang", SplitScheme::strang}, {"yoshida4", SplitScheme::yoshida4}, {"chin4", SplitScheme::chin4}, {"emb43", SplitScheme::emb43}};
constexpr std::span<const core::Named<SplitScheme>> names_of(SplitScheme) { return kSplitSchemeNames; }

struct SplitStepOptions {
  TimeMode mode = TimeMode::real;
  SplitScheme scheme = SplitScheme::strang;
  double dt = 1e-3;
  grids::PlanRigor rigor = grids::PlanRigor::measure;
  /// Complex absorbing layer (real time only): V → V − iW with W = strength·s², s ∈ [0,1] the
  /// depth into a layer of this width at each box edge (0 = no layer).
  double absorber_width = 0;
  double absorber_strength = 0;
  /// Divide the grid among the MPI ranks of the run (slabs of axis 0).  Ignored on one rank;
  /// refused for 1D grids.
  bool distributed = false;
  /// Error control (tolerance > 0): advance_to picks the steps, dt is the first and largest.
  core::StepControl control{};

  /// Refuses bad values and combinations, naming the schrodinger.* keys (used by the solver and
  /// the config reader alike).
  void check() const;
};

/// The order of a scheme's propagated solution.
int order_of(SplitScheme s);

/// Result of an imaginary-time relaxation.
template <int D>
struct Eigenstate {
  double energy = 0;            ///< from the norm decay per step (Strang eigenvalue: E + O(dt²))
  grids::Field<double, D> phi;  ///< L²-normalised
  long steps = 0;
  bool converged = false;
};

template <int D>
class SplitStepSolver {
 public:
  using CField = grids::Field<grids::complex, D>;
  using RField = grids::Field<double, D>;

  /// Fixed potential V at constant T.
  SplitStepSolver(const grids::Grid<D>& grid, RField V, double T, SplitStepOptions opts);
  /// Potential of `kind` built from `landscape` at the temperature of `schedule`.
  SplitStepSolver(const potentials::Landscape<D>& landscape, potentials::PotentialKind kind, potentials::Schedule schedule, SplitStepOptions opts);

  const grids::Grid<D>& grid() const { return grid_; }
  const SplitStepOptions& options() const { return opts_; }
  double time() const { return t_; }
  long steps() const { return steps_; }
  /// Temperature at the current time.
  double temperature() const;
  /// The potential of the last step (at T(t + dt/2) for a time-dependent schedule).
  const RField& potential() const { return V_; }
  /// Whether the fields are divided among MPI ranks (then psi(), phi() and potential() are this
  /// rank's slab).
  bool distributed() const { return distributed_; }
  /// Where this rank's data lie (the whole grid, in grid order, on one rank).
  const grids::SlabLayout<D>& layout() const { return layout_; }

  /// Sets the state (real time: ψ; imaginary time: φ, which must be real) and the clock.  A
  /// distributed solver takes a whole field (and keeps its rows) or this rank's block.
  void set_state(const CField& psi, double t = 0);
  void set_state(const RField& phi, double t = 0);
  /// Continues from a state written out by phi() (a restart): taken verbatim, not renormalised,
  /// so that the continued run is bit-identical to the uninterrupted one.
  void restore_state(const RField& phi, double t);
  /// ψ (real time only).
  const CField& psi() const;
  /// φ (imaginary time only), L²-normalised.
  const RField& phi() const;

  /// Advances n steps.  Throws NumericalError naming the step if the state becomes non-finite.
  /// Fixed steps only (under error control use advance_to).
  void advance(long n = 1);
  /// Error control: advances to exactly t_target (> time()) in steps the controller picks.
  /// Throws NumericalError naming the time when a step below dt_min would be needed.
  void advance_to(double t_target);
  /// The controller's state (next step, ε of the last step, accepted and rejected steps); a
  /// restart restores it with the state, and then continues bit for bit.
  const core::StepController::State& step_state() const { return controller_.state(); }
  void restore_step_state(const core::StepController::State& s) { controller_.restore(s); }
  /// The error horizon (the run's duration; 0 until the first advance_to when not configured).
  double error_horizon() const { return controller_.horizon(); }
  void set_error_horizon(double h);

  // ---- imaginary time -----------------------------------------------------------------------
  /// −ln(‖φ(t+dt)‖/‖φ(t)‖)/dt of the last step: converges to the lowest energy in the state.
  double decay_energy() const { return decay_energy_; }
  /// Relaxes the current state until the decay energy changes by less than `tolerance` over
  /// `check_every` steps, or `max_steps` steps.  States in `deflate` (orthonormal) are projected
  /// out after every step (Gram–Schmidt), so the result is the next eigenstate.
  Eigenstate<D> relax(double tolerance, long max_steps, long check_every = 100, const std::vector<Eigenstate<D>>* deflate = nullptr);
  /// The `count` lowest eigenstates by successive relaxation and deflation, from `guess`
  /// (perturbed deterministically for the excited states so every symmetry class is reached).
  std::vector<Eigenstate<D>> eigenstates(int count, const RField& guess, double tolerance, long max_steps, long check_every = 100);

  // ---- observables --------------------------------------------------------------------------
  /// Σ|ψ|² h^D.
  double norm() const;
  /// ⟨H⟩/⟨ψ|ψ⟩ with H = −TΔ + V (one FFT on a scratch array).
  double energy() const;

 private:
  struct Op {
    bool kinetic;
    std::size_t index;
  };
  void init(SplitStepOptions opts);
  void build_programs();
  void rebuild_phases(double T, double Tdot, double dt);
  /// A V sub-step of coefficient·dt; `gradient_step` > 0 makes it Ṽ with the force-gradient term
  /// of a Chin step of gradient_step·dt.
  std::size_t v_slot(double coefficient, double gradient_step = 0);
  std::size_t k_slot(double coefficient);
  /// One unmerged step of fraction·dt of the scheme (for emb43: the order-4 method).
  std::vector<Op> full_step_ops(double fraction);
  void build_adaptive_programs();
  /// One trial step of h from the current state (kept in saved_*); returns the error estimate.
  double trial_step(double h);
  void run_with_phases(const std::vector<Op>& ops, double t_mid, double dt);
  /// Step doubling from `state` (psi_ or phi_): one step of h into `coarse`, two of h/2 in place.
  template <class F>
  void doubling(F& state, F& coarse, double t0, double h);
  void apply(const Op& op, bool accumulate_norm, double scale);
  void run(const std::vector<Op>& ops);
  void check_finite(const char* what) const;
  void forward_transform();
  void backward_transform();
  /// A field of this rank's real-space block (the whole grid when not distributed).
  template <class T>
  grids::Field<T, D> block_field() const;
  /// This rank's values in `in` (the whole grid, or this rank's block); throws otherwise.
  template <class T>
  const T* source_block(const char* key, const grids::Field<T, D>& in) const;
  /// Σ|u|² h^D over this rank's values `block` (and over the ranks).
  template <class T>
  double norm2_of(const T* block) const;
  /// Σ over ranks of a locally computed sum (itself when not distributed).
  double over_ranks(double local) const { return distributed_ ? core::mpi::allreduce_sum(local) : local; }

  grids::Grid<D> grid_;
  std::optional<potentials::Landscape<D>> landscape_;
  potentials::PotentialKind kind_ = potentials::PotentialKind::objective;
  potentials::Schedule schedule_;
  SplitStepOptions opts_;
  bool real_time_ = true;
  bool time_dependent_ = false;
  bool distributed_ = false;
  grids::SlabLayout<D> layout_;

  /// Kinetic factors of one sub-step, per axis (complex in real time, real in imaginary time).
  struct AxisFactors {
    std::array<std::vector<grids::complex>, D> c;
    std::array<std::vector<double>, D> r;
  };

  RField V_, W_;
  std::array<std::vector<double>, D> kaxis_;  // wavenumbers per storage axis of the spectral block
  RField k2_;                                 // |k|² on the spectral block, times 2 for the half spectrum's paired modes (energy())
  std::vector<double> v_coef_, k_coef_;
  std::vector<double> v_gradient_;  // slot uses Ṽ of a Chin step of this fraction of dt (0: V)
  RField grad2_, vtilde_;          // |∇V|² and Ṽ
  std::vector<double> halo_;       // the 4 rows around the slab that |∇V|² reads
  // Op sequences: a full unmerged step, and the merged pieces.
  std::vector<Op> step_full_, step_rest_, merged_open_, merged_body_, merged_join_, merged_close_;
  double phases_T_ = -1, phases_Tdot_ = 0, phases_dt_ = 0;
  // error control: the propagated step, the partner after the shared prefix (emb43), or the
  // coarse step and the fine half-steps (doubling)
  bool mergeable_ = true;
  core::StepController controller_;
  int control_order_ = 2;
  std::vector<Op> trial_main_, trial_partner_, trial_half_;
  std::size_t shared_prefix_ = 0;

  // distributed transforms (when distributed_)
  std::optional<grids::DistributedComplexFft<D>> dcfft_;
  std::optional<grids::DistributedRealFft<D>> drfft_;
  // real time
  std::optional<grids::ComplexFft<D>> cfft_;
  std::vector<CField> vphase_c_;
  CField psi_;
  mutable CField scratch_c_;
  CField saved_c_;  // the state at the start of a trial step (error control)
  // imaginary time
  std::optional<grids::RealFft<D>> rfft_;
  std::vector<RField> vphase_r_;
  std::vector<AxisFactors> kfactors_;
  RField phi_;
  mutable CField spec_;
  RField saved_r_, trial_r_;  // error control

  double t_ = 0;
  long steps_ = 0;
  double pending_norm2_ = 1;  // Σφ² h^D accumulated in the last V pass (imaginary time)
  double decay_energy_ = 0;
};

extern template class SplitStepSolver<1>;
extern template class SplitStepSolver<2>;
extern template class SplitStepSolver<3>;

}  // namespace qtzflow::solver
