// qtzflow/particles/ensemble.hpp — an ensemble of M overdamped Langevin particles, the particle
// picture of the Fokker–Planck equation (docs/theory.md, "Fokker–Planck"):
//     dX = −∇f(X) dt + √(2T(t)) dW       ⇔      ∂ρ/∂t = ∇·(ρ∇f + T∇ρ)
// stepped by Euler–Maruyama, X ← X − ∇f(X) dt + √(2T(t_n) dt) ξ, in the grid's box with
// reflecting walls (mirror reflection: the no-flux boundary of the FP engine) or periodic ones
// (absorbing grids are rejected).
// Randomness: the draws of particle p at step n, move j are Philox4x64(counter = (n, p, block,
// j), key = seed), so a run is bit-identical for any thread count and any split of the steps
// into calls.  Block 0 gives the normals (two Box–Muller pairs) and, for D ≤ 2, the two dithers
// from its last two words; for D = 3 the dithers come from block 1.
// Histograms bin positions on the grid's cells (C order), as densities: count/(M·h^D), so they
// compare point by point with FP's ρ.
// Distributed (ParticleOptions::distributed, under mpirun with several ranks): each rank moves a
// contiguous block of the particles, addressing their draws by the global particle index, so
// positions, histograms (integer counts summed over ranks) and acceptance rates are bit-identical
// to one rank for any rank and thread count.  Every rank must make the same calls (histogram,
// acceptance_rate and advance end in collective reductions).
// Limits: D = 1..3 (one step's noise is one Philox block of four normals).
#pragma once

#include <cstdint>
#include <vector>

#include "core/names.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/objective.hpp"
#include "potentials/schedule.hpp"

namespace qtzflow::particles {

enum class ParticleDynamics { langevin, qtz_local, qtz_dither };
constexpr core::Named<ParticleDynamics> kParticleDynamicsNames[] = {
    {"langevin", ParticleDynamics::langevin}, {"qtz-local", ParticleDynamics::qtz_local}, {"qtz-dither", ParticleDynamics::qtz_dither}};
constexpr std::span<const core::Named<ParticleDynamics>> names_of(ParticleDynamics) { return kParticleDynamicsNames; }

/// What one step of a QTZ ensemble means (docs/theory.md, "QTZ particles as a diffusion").
///  - moves: one move per step at Q_p = C_q/(2T(t)) with proposals x + δξ (δ = `delta`); the
///    step is only the schedule's clock (the raw behaviour, any quantizer).
///  - fokker_planck (dithered quantizer only): a step is `dt` of Fokker–Planck time at T(t).
///    The dithered quantizer's weak limit has T_eff = q/4 and one move of size δ takes
///    δ²/q = δ²/(4 T_eff) of FP time (q = 1/Q_p), so the engine sets Q_p = 1/(4T) and makes
///    `moves_per_step` = m moves of size δ = 2√(T dt/m): m·δ²/q = dt.  Its bias is of order
///    δ|∇f|/q = |∇f|√(dt/(T m))/2, hence m > 1 by default.
enum class QtzClock { moves, fokker_planck };
constexpr core::Named<QtzClock> kQtzClockNames[] = {{"fokker_planck", QtzClock::fokker_planck}, {"moves", QtzClock::moves}};
constexpr std::span<const core::Named<QtzClock>> names_of(QtzClock) { return kQtzClockNames; }

struct ParticleOptions {
  ParticleDynamics dynamics = ParticleDynamics::langevin;
  double dt = 1e-3;    ///< time per step (Langevin step; clock of the schedule for qtz)
  double delta = 0.1;  ///< qtz with the moves clock: proposal size
  double C_q = 2.0;    ///< qtz with the moves clock: Q_p = C_q / (2 T)
  std::uint64_t seed = 1;
  QtzClock clock = QtzClock::moves;
  int moves_per_step = 4;  ///< qtz-dither with the fokker_planck clock
  /// Divide the particles among the MPI ranks of the run (ignored on one rank).
  bool distributed = false;
};

template <int D>
class ParticleEnsemble {
 public:
  using RField = grids::Field<double, D>;

  ParticleEnsemble(const potentials::Objective& f, const grids::Grid<D>& grid, potentials::Schedule schedule, ParticleOptions opts);

  /// M particles drawn from N(center, diag(width²)) restricted to the box (rejection), or
  /// uniform in the box when width is empty; the clock is set to t.
  void sample_initial(std::size_t count, const std::vector<double>& center, const std::vector<double>& width, double t = 0);
  /// Sets the positions of all particles (count × D, row per particle), e.g. from a restart; a
  /// distributed ensemble keeps its own block.
  void set_positions(std::vector<double> xs, double t, long steps);

  void advance(long n);
  double time() const { return t_; }
  const ParticleOptions& options() const { return opts_; }
  long steps() const { return steps_; }
  /// The number of particles (on all ranks together).
  std::size_t size() const { return total_; }
  /// This process's particles: global indices [first(), first() + local_size()).
  std::size_t first() const { return first_; }
  std::size_t local_size() const { return x_.size() / D; }
  /// Positions of this process's particles (all of them on one rank), particle-major.  The
  /// storage is kept by advance and by set_positions of as many particles (views stay valid).
  const std::vector<double>& positions() const { return x_; }
  /// Moves the positions' storage out and leaves a copy in its place: whatever points into the
  /// old storage (a Python view) stays valid, holding the positions as they were.
  std::vector<double> detach_positions() {
    std::vector<double> old = std::move(x_);
    x_ = old;
    return old;
  }

  /// Density estimate on the grid: counts per cell / (M · cell volume).
  RField histogram() const { return histogram(size()); }
  /// The same for the first `count` particles only (1 ≤ count ≤ M).  Particles are independent
  /// draws, so a prefix is a smaller ensemble of the same run: one run gives the M^(−1/2) law.
  RField histogram(std::size_t count) const;
  /// qtz dynamics: accepted moves / proposals since the positions were set (0 for langevin).
  double acceptance_rate() const;

 private:
  const potentials::Objective& f_;
  grids::Grid<D> grid_;
  potentials::Schedule schedule_;
  ParticleOptions opts_;
  std::vector<double> x_;       // particle-major: x_[p·D + a]
  std::vector<long> accepted_;  // qtz: per particle, since the last sample/set
  std::size_t first_ = 0, total_ = 0;
  bool distributed_ = false;   // opts.distributed with several ranks
  void advance_block(long n, double t0, long k0);  // steps k0 .. k0 + n - 1 of a call from time t0
  /// Takes this rank's block of `count` particles (all of them when not distributed); returns its size.
  std::size_t take_block(std::size_t count);
  /// Σ over ranks when distributed.
  double over_ranks(double local) const;
  long counted_steps_ = 0;
  double t_ = 0;
  long steps_ = 0;
};

extern template class ParticleEnsemble<1>;
extern template class ParticleEnsemble<2>;
extern template class ParticleEnsemble<3>;

}  // namespace qtzflow::particles
