// qtzflow/solver/fokker_planck.hpp — structure-preserving finite-volume Fokker–Planck solver.
//
// Equation (docs/theory.md, "Fokker–Planck") on a Grid<D>, D = 1..3, cell averages ρ_i at cell centres:
//     ∂ρ/∂t = ∇·(ρ∇f + T(t)∇ρ)
// Space: conservative flux form with Scharfetter–Gummel (exponentially fitted) fluxes: across
// the face between cells i and j = i + e_a,
//     F_ij = (T/h_a) [B(Δ) ρ_i − B(−Δ) ρ_j],   Δ = (f_j − f_i)/T,   B(x) = x/(eˣ − 1),
// so the generator L = Σ_a L_a has non-negative off-diagonals, zero column sums and L_a π = 0 for
// the discrete Gibbs vector π_i ∝ e^{−f_i/T} on every axis a (detailed balance, face by face).
// Boundaries: reflecting (no flux), periodic, absorbing (ρ = 0 in a ghost cell beyond the edge,
// f extrapolated linearly; the mass that leaves is accumulated in `outflow()`).
// Time, three schemes, each a product of per-axis factors solved as batches of tridiagonal (cyclic
// for periodic) systems along lines:
//  - backward_euler: ρ ← Π_a (I − dt L_a)⁻¹ ρ (Lie splitting).  Every factor is the inverse of an
//    M-matrix with unit column sums that fixes π, hence for every dt: ρ ≥ 0, mass exact to
//    round-off (reflecting/periodic), π exactly stationary, F[ρ] = Σρf h^D + T Σρ ln ρ h^D
//    non-increasing.  Order 1 in dt.
//  - crank_nicolson: Strang splitting over the axes of CN factors (I − τ/2 L_a)⁻¹(I + τ/2 L_a)
//    (τ = dt/2 for the outer axes, dt for the last): order 2 in dt, same conservation and
//    stationarity, and positive (hence F non-increasing) as long as the explicit half is a
//    non-negative matrix, i.e. dt ≤ the positivity limit 2/max_k(out-rate_k) (D = 1) resp.
//    4/max (outer axes); a larger dt is rejected with the limit in the message.
//  - extrapolated_euler: Richardson extrapolation of the backward-Euler step S,
//    ρ ← 2·S(dt/2)S(dt/2)ρ − S(dt)ρ: order 2 in dt with no step-size limit (3 BE sweeps per
//    step).  Mass and π are exact as for BE, but positivity is not guaranteed (no linear
//    second-order scheme is unconditionally positive): small negative values of order dt² can
//    appear where ρ is steep and nearly zero; min ρ is a diagnostic.
// Error control (FokkerPlanckOptions::control.tolerance > 0, extrapolated_euler only; advance_to):
//   the Aitken–Neville table of backward-Euler steps with 1, 2 and 3 sub-steps, S(h), S(h/2)²,
//   S(h/3)³ (T11, T21, T31; 6 sweeps), gives the order-2 solution T32 = 3·T31 − 2·T21, which is
//   propagated, and the order-3 T33 = T32 + (T32 − T22)/2 (T22 = 2·T21 − T11, today's
//   extrapolated step), so that err = ‖T33 − T32‖₁ = ‖3·T31 − 4·T21 + T11‖₁/2 estimates T32's
//   local error (the propagated solution's own, so that the global error follows the
//   tolerance).  The norm: Σ|e| h^D plus the error of the outflow, relative to the probability
//   (mass + outflow) at the step's start: the density's total variation, as a fraction; the
//   rounding level of the estimate, 16 ulp, is taken off (a smaller step cannot reduce it).  Every combination
//   keeps mass exactly.  Where T32 would be negative somewhere, the accepted step is the convex
//   combination (1 − θ)·T32 + θ·T31 with the smallest θ that makes it ≥ 0 (T31 is a product of
//   M-matrix inverses, hence ≥ 0), and θ·‖T31 − T32‖₁ is added to err: every accepted step is
//   non-negative and conserves mass.  core::StepController picks the steps (PI, error per unit
//   time over the horizon); the factors are rebuilt only when the step changes (or T does).
// All order 2 in h.  With T = T(t) the coefficients are rebuilt every step, at T(t + dt) for
// backward Euler, at T(t + dt/2) for Crank–Nicolson, at the end of each sub-step for the
// extrapolation (keeping each scheme's order).
// Distributed (FokkerPlanckOptions::distributed, under mpirun with several ranks; 2D and 3D): each
// rank holds a slab of rows of axis 0 (FFTW's blocks, as the split-step engine's).  Lines of the
// other axes lie within a slab.  The lines of axis 0 cross the slabs; two ways to solve them
// (FokkerPlanckOptions::line_solve):
//  - partitioned (default): where they lie, by the partitioned Thomas algorithm
//    (grids/partitioned_tridiagonal.hpp): each rank eliminates its rows down to two per line,
//    one all-to-all carries 4 values per line (2 right-hand sides and 2 sums; with absorbing
//    walls or CN a few more), the reduced systems are solved, and one all-to-all returns 3 per
//    line — 7/R of the slab's values for R rows per rank, against all of them twice.
//    The rank solving a line's reduced system also learns the line's new mass, so the mass
//    projection below is the one-rank one, line by line.  ρ ≥ 0 is kept exactly (the
//    elimination of an M-matrix adds non-negative terms only; see that header), mass to round-off,
//    π stays stationary; ρ differs from the one-rank run in rounding (≤ 3e-14 relative after 100
//    steps on 2-4 ranks, tests/mpi/test_distributed.cpp).  Crank–Nicolson's explicit half needs the neighbouring
//    ranks' edge rows: one exchange with each neighbour per axis-0 sweep.
//  - transpose: the lines are made local by a global transpose (grids::DistributedTranspose,
//    FFTW-MPI: one all-to-all there and one back per axis-0 sweep), solved, and transposed back.
//    Every line sees exactly the arithmetic of one rank, so ρ is bit-identical to the one-rank
//    run, for users who need the same bits on any rank count; it moves the whole field twice per
//    step and does not scale (BENCHMARKS.md).
// Mass, free energy, outflow and the Péclet number are summed or maximised over ranks.  current()
// and spectrum() are one-rank tools (refused when distributed).
// Limits: the cell Péclet number |∇f| h / T is not limited (exponential fitting keeps the
// scheme stable and positive), but accuracy needs |∇f| h / T ≲ a few.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "core/names.hpp"
#include "core/step_control.hpp"
#include "grids/distributed_fft.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "grids/partitioned_tridiagonal.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"

namespace qtzflow::solver {

enum class FpScheme { backward_euler, crank_nicolson, extrapolated_euler };
constexpr core::Named<FpScheme> kFpSchemeNames[] = {{"backward_euler", FpScheme::backward_euler},
                                                    {"crank_nicolson", FpScheme::crank_nicolson},
                                                    {"extrapolated_euler", FpScheme::extrapolated_euler}};
constexpr std::span<const core::Named<FpScheme>> names_of(FpScheme) { return kFpSchemeNames; }

/// How FokkerPlanckSolver::spectrum solves its eigenproblem (automatic: by the grid size).
enum class SpectrumMethod { automatic, dense, sparse };
constexpr core::Named<SpectrumMethod> kSpectrumMethodNames[] = {
    {"automatic", SpectrumMethod::automatic}, {"dense", SpectrumMethod::dense}, {"sparse", SpectrumMethod::sparse}};
constexpr std::span<const core::Named<SpectrumMethod>> names_of(SpectrumMethod) { return kSpectrumMethodNames; }
/// The largest grid the automatic choice solves densely: Lanczos is already 36× faster at 1024
/// points (BENCHMARKS.md); the dense solver stays for tiny grids and many eigenvalues.
inline constexpr std::size_t kDenseSpectrumMax = 256;
/// The largest grid the dense solver accepts at all (O(N³): ~12 s at 4096 points, 2 min at 8100).
inline constexpr std::size_t kDenseSpectrumLimit = 8192;

/// How a distributed solver solves the lines of axis 0, which cross the slabs (see above).
enum class LineSolve { partitioned, transpose };
constexpr core::Named<LineSolve> kLineSolveNames[] = {{"partitioned", LineSolve::partitioned}, {"transpose", LineSolve::transpose}};
constexpr std::span<const core::Named<LineSolve>> names_of(LineSolve) { return kLineSolveNames; }

struct FokkerPlanckOptions {
  double dt = 1e-3;  ///< the step; with error control, the first and largest one
  FpScheme scheme = FpScheme::backward_euler;
  /// Error control (tolerance > 0): advance_to picks the steps.  Needs extrapolated_euler.
  core::StepControl control{};
  /// Divide the grid among the MPI ranks of the run (slabs of axis 0).  Ignored on one rank;
  /// refused for 1D grids.
  bool distributed = false;
  /// Distributed: how the lines of axis 0 are solved (partitioned scales; transpose is
  /// bit-identical to one rank).
  LineSolve line_solve = LineSolve::partitioned;
  /// Refuses a bad dt or control key, and a tolerance without extrapolated_euler (named as
  /// fokker_planck.*): the solver and the [fokker_planck] reader both call it.
  void check() const;
};

template <int D>
class FokkerPlanckSolver {
 public:
  using RField = grids::Field<double, D>;

  FokkerPlanckSolver(const potentials::Landscape<D>& landscape, potentials::Schedule schedule, FokkerPlanckOptions opts);

  /// Sets ρ (finite, ≥ 0, positive mass; not renormalised), the clock and the mass that has
  /// already left (a restart continues its count).  A distributed solver takes a whole field
  /// (keeping its rows) or this rank's block.
  void set_state(const RField& rho, double t = 0, double outflow = 0);
  /// ρ: this rank's slab when distributed.
  const RField& rho() const { return rho_; }
  bool distributed() const { return distributed_; }
  double time() const { return t_; }
  long steps() const { return steps_; }
  const FokkerPlanckOptions& options() const { return opts_; }
  double temperature() const { return schedule_.T(t_); }
  /// Mass that left through absorbing boundaries since set_state.
  double outflow() const { return outflow_; }
  /// Largest cell Péclet number |f_j − f_i|/T over all faces at the current coefficients: the
  /// drift across one cell in units of the diffusion.  Above ~2 the grid no longer resolves the
  /// boundary layers of ρ (the scheme stays positive and conservative, but inaccurate).
  double max_cell_peclet() const { return max_peclet_; }

  /// Advances n steps of the chosen scheme (fixed steps: refused under error control).
  void advance(long n = 1);
  /// Advances to exactly t_target (> time()) with error-controlled steps, the last one shortened
  /// to land on it.  Throws NumericalError naming the time when the step would fall below
  /// control.dt_min.  Under error control only.
  void advance_to(double t_target);
  /// The step controller's state: the next step, the last step and its error estimate, the
  /// accepted and rejected steps.  A restart restores it (restore_step_state) with the density.
  const core::StepController::State& step_state() const { return controller_.state(); }
  void restore_step_state(const core::StepController::State& s) { controller_.restore(s); }
  /// Accepted steps whose order-2 solution had negative values and was limited towards the
  /// 3-sub-step backward-Euler solution (error control).
  long limited_steps() const { return limited_steps_; }
  /// The error horizon (the run's duration; 0 until the first advance_to when not configured).
  double error_horizon() const { return controller_.horizon(); }
  void set_error_horizon(double h);

  /// Σ ρ h^D.
  double mass() const;
  /// F[ρ] = Σ ρ f h^D + T Σ ρ ln ρ h^D at the current T (0 ln 0 = 0).
  double free_energy() const;
  /// The discrete probability current along each axis at the current T: J_a[i] is the flux from
  /// cell i to its neighbour i + e_a, (T/h_a)[B(Δ)ρ_i − B(−Δ)ρ_{i+e_a}] (0 on the last face of a
  /// non-periodic line), so that −Σ_a (J_a[i] − J_a[i − e_a])/h_a = (Lρ)_i.
  std::array<RField, D> current() const;
  /// The discrete Gibbs state e^{−f/T}/Z (Σ π h^D = 1) at temperature T.
  RField gibbs(double T) const;
  /// The `count` smallest eigenvalues λ0 = 0 < λ1 ≤ … of −L (the full, unsplit generator) at
  /// the current T, from its symmetric form Π^{−1/2} L Π^{1/2} (entries c·Δ/(2 sinh(Δ/2))).
  /// automatic: a dense symmetric eigensolver up to kDenseSpectrumMax points (or when count is
  /// more than a quarter of them), shift-invert Lanczos with a sparse LU beyond (any size whose
  /// factorisation fits in memory: 256² in 0.5 s).
  /// λ1 is the slowest relaxation rate, equal to E1 of H_T (docs/theory.md, "The Witten transform").
  std::vector<double> spectrum(int count, SpectrumMethod method = SpectrumMethod::automatic) const;

 private:
  struct AxisFactors;
  using FactorSet = std::array<AxisFactors, D>;
  bool extrapolated() const { return opts_.scheme == FpScheme::extrapolated_euler; }
  /// Error control: a trial step h from t_, its candidate (non-negative) left in work21_.
  struct Trial {
    double error;    ///< (Σ|e| h^D + |outflow error|) / (mass + outflow at the step's start)
    double outflow;  ///< the candidate's outflow
    bool limited;    ///< the positivity limiter acted
  };
  Trial trial_step(double h);
  /// The per-line outflow buffer of absorbing walls (sized once).
  void ensure_outflow_buffer();
  /// Throws NumericalError naming the step when the mass is not finite.
  void check_finite_mass() const;
  /// Sets every factor of `set` to θ and rebuilds them at T when θ or T changed.
  void prepare(FactorSet& set, double theta, double T);
  /// Factors (I − θ L_a) of every axis of `set` (θ per axis, set in the constructor) at T.
  void build(FactorSet& set, double T);
  /// Where a step from t freezes T(t) in axes_: at its end for backward Euler (and the full
  /// step of the extrapolation), at its midpoint for CN.
  double coefficient_time(double t) const { return t + (opts_.scheme == FpScheme::crank_nicolson ? 0.5 : 1.0) * opts_.dt; }
  /// Solves the lines of axis a of the field r in place with the factors A.
  void solve_axis(const AxisFactors& A, int a, double* r);
  /// The factors of the partitioned axis 0 (and its Péclet number and CN out-rate maxima, this rank's).
  void build_partitioned(AxisFactors& A, double T, double& peclet, double& max_out);
  /// The partitioned axis-0 sweep of r (outflow per line into line_outflow_, on the ranks solving the lines).
  void solve_partitioned(const AxisFactors& A, double* r);
  bool partitioned() const { return partitioned_.has_value(); }
  /// One axis sweep of r with set[a]; returns the mass that left through absorbing walls.
  double sweep(const FactorSet& set, int a, double* r);
  template <class F>
  void for_lines(std::ptrdiff_t count, const F& per_line);
  /// f along the lines of axis a (transposed for axis 0 when distributed).
  const double* axis_f(int a) const { return distributed_ && a == 0 ? f_transposed_.data() : f_.data(); }
  double over_ranks(double local) const;
  double max_over_ranks(double local) const;

  grids::Grid<D> grid_;
  RField f_;
  potentials::Schedule schedule_;
  FokkerPlanckOptions opts_;
  RField rho_;
  // Per axis, per cell: the LU factors of the line matrix (I − dt L_a) in Thomas form, and for
  // periodic lines the Sherman–Morrison correction vector.
  struct AxisFactors {
    std::vector<double> lower, diag_inv, upper;  // sub-diagonal l_k, 1/pivot, super-diagonal u_k
    std::vector<double> correction;              // periodic: z with B z = u (per line)
    std::vector<double> sm_factor;               // periodic: v·(·) / (1 + v·z) per line
    std::vector<double> corner_last;             // periodic: β/γ per line
    std::vector<double> absorb_rate;             // absorbing: outflow rate of each boundary cell
    std::vector<double> rate_fwd, rate_bwd;      // crank_nicolson: rates k → k+1 and k+1 → k per cell
                                                 // (partitioned axis 0: per face e between local rows e−1, e)
    grids::PartitionedTridiagonal::Factors parted;  // partitioned axis 0: the eliminated slab
    double theta = 0;                            // implicit coefficient: factor (I − θ L_a)
    double built_T = -1;                         // the T the factors were built at (prepare)
  };
  FactorSet axes_;  // the step's factors: θ = dt (BE, extrapolated full step) or CN's θ
  FactorSet half_;  // extrapolated_euler: θ = dt/2
  RField full_;     // extrapolated_euler: the full-step copy of ρ
  // error control: the thirds' factors (θ = h/3), the 2- and 3-sub-step copies of ρ, the controller
  FactorSet third_;
  RField work21_, work31_;
  core::StepController controller_;
  long limited_steps_ = 0;
  double max_peclet_ = 0;
  double positivity_violation_ = 0;  // rebuild (CN): θ·max out-rate of the last axis built
  double t_ = 0;
  long steps_ = 0;
  double outflow_ = 0;
  std::vector<double> scratch_;       // per thread: work space of 2 kBatch lines
  std::vector<double> line_outflow_;  // absorbing: outflow of each line in one axis sweep
  // The lines each axis sweep solves, {n, stride, count} (fp_detail::Lines): the local slab's,
  // and for axis 0 when distributed the transposed array's (t_count lines of n0, stride 1).
  std::array<std::array<std::size_t, 3>, D> lines_{};
  bool distributed_ = false;
  std::optional<grids::DistributedTranspose> transpose_;
  std::vector<double, core::AlignedAllocator<double>> t_in_, t_out_;  // the transposes' arrays
  std::vector<double> f_transposed_;                                  // f along axis-0 lines
  // partitioned axis 0: the solver of the lines, the rows of f and ρ beyond the slab's edges
  // (below: row first − 1, above: row first + R, periodic wrap), the matrix rows while building,
  // the per-line extras [Σ ρ, absorbed (CN), θ·wall rates], and two rows of CN's old ρ
  std::optional<grids::PartitionedTridiagonal> partitioned_;
  std::vector<double> f_below_, f_above_, rho_below_, rho_above_;
  std::vector<double> pt_sub_, pt_diag_, pt_sup_, pt_extras_, pt_prev_, pt_save_;
  int rank_below_ = -1, rank_above_ = -1;  // neighbours along axis 0 (−1: none)
};

extern template class FokkerPlanckSolver<1>;
extern template class FokkerPlanckSolver<2>;
extern template class FokkerPlanckSolver<3>;

}  // namespace qtzflow::solver
