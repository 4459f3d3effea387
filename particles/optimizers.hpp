// qtzflow/particles/optimizers.hpp — the particle engine's optimizers, run as ensembles of
// independent runs: QTZ as the authors coded it and its variants, and the baselines.
//
// Problems: a continuous objective on a box Ω = ∏[lower_i, upper_i] (any dimension), or a TSP
// instance (closed tour length).  Moves: continuous "blind" candidates uniform in Ω (the
// authors'), or "local" ones x + δ·ξ (ξ standard normal, reflected at the walls, so the proposal
// is symmetric); TSP: a random segment reversal, l ~ U{2..n−1}, i ~ U{0..n−l} (the authors'), or
// "neighbours": a random 2-opt or Or-opt move that joins a random city to one of its K nearest
// (particles/tsp_search.hpp, NeighbourMoveSpace).
// Algorithms (docs/theory.md, "The quantized optimizer", docs/theory.md, "Baselines"):
//  - qtz: accept iff f^Q(c) ≤ f^Q_current (ties accepted); each acceptance h ← h+1 and the
//    current value is re-quantized at the finer Q_p = η·2^h; stop at h = 1023 or the budget.
//    The rule itself is QuantizedOptimizer (particles/quantizer.hpp), usable in one's own loop.
//    Variants: dithered quantizer; Q_p prescribed in time instead of counting acceptances
//    (logarithmic: Q_p(t) = η·log2(t + 2), i.e. T = C_q/(2Q_p) ∝ 1/ln(t+2)); Q_p fixed.
//  - sa (the authors'): T0 = 1000, T ← 0.9995·T per iteration, Metropolis exp(−Δ/T), stop when
//    T < 0.1/budget or at the budget.
//  - qia (the authors'): sa on (1 − s)·0.125‖x‖² + s·f, s = √(t/t_f), t_f = the run's length.
//    On TSP their code ignores the interpolation, so qia is sa there (reported as such).
//  - qtz-nl, qtz-dither-nl (TSP): qtz and qtz-dither with neighbour-list proposals; the quantizer,
//    Q_p law and stop rule are the authors', only the proposal changes.
//  - sa-nl (TSP): Metropolis SA with neighbour-list proposals and a schedule fitted to the
//    instance and the budget: T0 = the mean distance from a city to its nearest neighbour (ℓ), T
//    falling geometrically to ℓ/1000 at the budget (sa_T0 and sa_cooling, when given, replace
//    them: 0 means the fitted value).
//  - ils (TSP): iterated local search, the Johnson–McGeoch baseline (particles/tsp_search.hpp):
//    2-opt + Or-opt local search from neighbour lists with don't-look bits, double-bridge kicks,
//    the result kept if not longer.  Its budget unit is an evaluated move delta, as for the others.
//  - langevin: Euler–Maruyama x ← x − ∇f dt + √(2T(t) dt) ξ, reflected at the walls.
//  - pimc (TSP): path-integral quantum annealing (Martoňák, Santoro, Tosatti, PRE 70 057701,
//    2004): P replicas at temperature T coupled by J⊥ = −(T/2) ln tanh(Γ/(P T)) per shared
//    edge (Ising edge spins: a shared edge changes Σσσ by 4), Γ lowered linearly from Γ0 to 0,
//    segment-reversal moves; T and Γ0 default to the paper's values scaled by the instance's
//    mean edge length relative to pr1002's.
//  - pagmo_sa (continuous): pagmo2's simulated_annealing (Corana's adaptive-range SA) through
//    its C++ API, with its evaluation budget set to ours.
//  - cmaes, de1220, sade, xnes, pso (continuous): pagmo2's population algorithms at their
//    documented defaults, except stopping tolerances ftol = xtol = 1e-12 (pagmo's 1e-6 would end
//    a run above the CEC's 1e-8 error threshold) and bounds enforced (cmaes, xnes).  Population:
//    λ = 4 + ⌊3 ln d⌋ (Hansen's rule) for cmaes and xnes, NP = max(20, 10·d) (Storn and Price)
//    for de1220 and sade, 40 particles for pso (Clerc's SPSO 2011).  Every fitness call, the
//    initial population's included, is charged to the budget; the call that would exceed it is
//    never made (the run ends there).
// Restarts (OptimizerOptions::restarts; docs/benchmarks.md): a run whose algorithm stops before
// the budget (QTZ at h = 1023, the authors' SA stop rule, a pagmo algorithm that converged)
// starts again from a new random start with what is left, keeping its best; CMA-ES doubles its
// population at each restart (IPOP, Auger and Hansen 2005), the others keep theirs.  Every
// start is one evaluation, so over a restarted run evaluations = iterations + 1 still holds.
// Randomness: run r of a seed draws from the counter-based stream (seed, r), so results are the
// same for any thread count and any order in which runs execute.
// Every run records its best objective value (unquantized), the iteration (candidate count) of
// its last improvement, the final h (qtz), success (best ≤ f* + tolerance), and its best point.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/random.hpp"
#include "particles/quantizer.hpp"
#include "potentials/objective.hpp"
#include "potentials/schedule.hpp"
#include "potentials/tsp.hpp"
#include "potentials/tsp_neighbours.hpp"

namespace qtzflow::particles {

enum class Algorithm { qtz, qtz_local, qtz_dither, qtz_nl, qtz_dither_nl, langevin, sa, sa_nl, qia, ils, pimc, pagmo_sa, cmaes, de1220, sade, xnes, pso };
constexpr core::Named<Algorithm> kAlgorithmNames[] = {
    {"qtz", Algorithm::qtz},   {"qtz-local", Algorithm::qtz_local}, {"qtz-dither", Algorithm::qtz_dither}, {"langevin", Algorithm::langevin},
    {"qtz-nl", Algorithm::qtz_nl}, {"qtz-dither-nl", Algorithm::qtz_dither_nl}, {"sa-nl", Algorithm::sa_nl}, {"ils", Algorithm::ils},
    {"sa", Algorithm::sa},     {"qia", Algorithm::qia},             {"pimc", Algorithm::pimc},             {"pagmo-sa", Algorithm::pagmo_sa},
    {"cmaes", Algorithm::cmaes}, {"de1220", Algorithm::de1220},     {"sade", Algorithm::sade},             {"xnes", Algorithm::xnes},
    {"pso", Algorithm::pso}};
/// pagmo2's population algorithms (cmaes, de1220, sade, xnes, pso).
constexpr bool is_pagmo_population(Algorithm a) {
  return a == Algorithm::cmaes || a == Algorithm::de1220 || a == Algorithm::sade || a == Algorithm::xnes || a == Algorithm::pso;
}
/// The algorithms for TSP instances only (neighbour-list moves, path-integral annealing).
constexpr bool is_tsp_only(Algorithm a) {
  return a == Algorithm::qtz_nl || a == Algorithm::qtz_dither_nl || a == Algorithm::sa_nl || a == Algorithm::ils || a == Algorithm::pimc;
}
constexpr std::span<const core::Named<Algorithm>> names_of(Algorithm) { return kAlgorithmNames; }
/// The algorithm's name (kAlgorithmNames).
inline std::string_view to_string(Algorithm a) { return core::name_of(a); }
/// Throws UnknownName (key "algorithm") listing the names.
inline Algorithm algorithm_from_string(std::string_view name) { return core::parse_name<Algorithm>(name, "algorithm"); }

/// Candidates: uniform in the box (the authors' "blind" search; TSP: the authors' random segment
/// reversal), x + δ·ξ (continuous), or a neighbour-list move (TSP).
enum class Proposal { blind, local, neighbours };
constexpr core::Named<Proposal> kProposalNames[] = {{"blind", Proposal::blind}, {"local", Proposal::local}, {"neighbours", Proposal::neighbours}};
constexpr std::span<const core::Named<Proposal>> names_of(Proposal) { return kProposalNames; }

/// qtz, qtz-local, qtz-dither: the quantized optimizer.
struct QtzOptions {
  QpRule qp_rule = QpRule::per_acceptance;
  double qp = 0;        ///< QpRule::fixed: the resolution Q_p (> 0)
  bool dither = false;  ///< the dithered quantizer instead of the authors' plain one
  Proposal proposal = Proposal::blind;
  double delta = 0.1;  ///< local proposals: step size δ (> 0)
  double eta = 0;      ///< Q_p = η·2^h; 0: the authors' η = 2^(−floor(log2 |f(x0)| + 1))
  int neighbours = 10;  ///< neighbour-list proposals: K nearest per city (1 … n − 1)
};
/// sa, qia: the authors' simulated annealing, and QIA (interpolated cost; TSP: sa); sa-nl.
struct SaOptions {
  double T0 = 1000;         ///< initial temperature (the authors': 1000); sa-nl: 0 = ℓ (above)
  double cooling = 0.9995;  ///< T ← cooling·T per iteration (the authors': 0.9995), in (0, 1); sa-nl: 0 = to T0/1000 at the budget
  bool qia = false;
  Proposal proposal = Proposal::blind;
  double delta = 0.1;
  int neighbours = 10;  ///< neighbour-list proposals: K
};
/// ils (TSP): iterated local search.
struct IlsOptions {
  int neighbours = 10;  ///< K of the candidate lists
};
/// langevin: Euler–Maruyama steps at the schedule's temperature.
struct LangevinOptions {
  double dt = 1e-3;
  potentials::Schedule schedule = potentials::Schedule::constant(0.1);
};
/// pimc (TSP): path-integral Monte Carlo annealing.
struct PimcOptions {
  int replicas = 30;
  double T = 0;       ///< 0: Martoňák's 10/3 scaled by the mean edge (see run_pimc)
  double gamma0 = 0;  ///< 0: Martoňák's 300, scaled likewise
};
/// pagmo-sa: pagmo2's simulated annealing (available when qtzflow was built with pagmo).
struct PagmoSaOptions {};
/// cmaes, de1220, sade, xnes, pso: pagmo2's population algorithms (with pagmo2).
struct PagmoOptions {
  Algorithm algorithm = Algorithm::cmaes;
  int population = 0;  ///< 0: the algorithm's default (above); else at least minimum_population
};
/// The smallest population pagmo accepts for algorithm a (cmaes 5, xnes 4, de1220 and sade 7, pso 2).
int minimum_population(Algorithm a);
/// The population of a population algorithm on a d-dimensional problem at its restart k.
int population_size(const PagmoOptions& o, int d, int restart);

using AlgorithmOptions = std::variant<QtzOptions, SaOptions, LangevinOptions, PimcOptions, PagmoSaOptions, PagmoOptions, IlsOptions>;

/// The options of algorithm a, at their defaults.
AlgorithmOptions default_options(Algorithm a);
/// Which algorithm a set of options runs (qtz with local proposals is qtz-local).
Algorithm algorithm_of(const AlgorithmOptions& o);

/// The settings the front ends expose (the CLI's flags, the Python module's keywords), at the
/// library's defaults: algorithm_options keeps the ones the named algorithm uses.
struct AlgorithmSettings {
  QpRule h_schedule = QpRule::per_acceptance;  ///< qtz: acceptances (the authors') | logarithmic | fixed (kQpRuleNames)
  double qp = 0;                           ///< qtz, h_schedule fixed: Q_p
  double delta = 0.1;                      ///< local proposal size
  double eta = 0;                          ///< qtz: Q_p = η·2^h (0: the authors' choice)
  bool local = false;                      ///< local proposals for qtz, qtz-dither, sa, qia
  double sa_T0 = 1000, sa_cooling = 0.9995;
  double dt = 1e-3;                                                     ///< langevin
  potentials::Schedule schedule = potentials::Schedule::constant(0.1);  ///< langevin
  int replicas = 30;                                                    ///< pimc
  double pimc_T = 0, pimc_gamma0 = 0;
  int population = 0;  ///< cmaes, de1220, sade, xnes, pso (0: the algorithm's default)
  int neighbours = 10;  ///< qtz-nl, qtz-dither-nl, sa-nl, ils (TSP): K nearest cities per candidate list
};
/// Why the setting `name` (an AlgorithmSettings member: h_schedule, qp, delta, eta, local,
/// sa_T0, sa_cooling, dt, schedule, replicas, pimc_T, pimc_gamma0, population, neighbours) is not
/// used by algorithm a with settings s ("" if it is): what every front end refuses when it is given.
std::string unused_setting(Algorithm a, const AlgorithmSettings& s, std::string_view name);

/// The options of algorithm `name` from the settings.
AlgorithmOptions algorithm_options(std::string_view name, const AlgorithmSettings& settings);

struct OptimizerOptions {
  AlgorithmOptions algorithm = QtzOptions{};
  long budget = 10000;  ///< candidate evaluations per run (langevin: steps; pimc: over all replicas)
  std::uint64_t seed = 1;
  /// success: best ≤ f* + tolerance (TSP: ≤ optimum·(1 + tolerance)); NaN: the problem's
  /// (ContinuousProblem::tolerance: 1e-8 on the CEC suites, 1e-3 otherwise; TSP: 1e-3)
  double tolerance = NAN;
  bool restarts = false;  ///< start again when the algorithm stops before the budget (above)
};

/// One setting as stored with results: a number, or a word (h_schedule, proposal, schedule).
struct OptionValue {
  std::string name;  ///< AlgorithmSettings' word (delta, sa_T0, ...), or budget, seed, tolerance
  std::variant<double, std::string> value;
};
/// Every setting the algorithm of `o` uses, with budget, seed and tolerance: what reproduces a
/// study (stored in optimize -o files).  seed is exact as a double below 2^53 only: it is given
/// as a word too (seed_text).
std::vector<OptionValue> option_values(const OptimizerOptions& o);

/// Whether this build has pagmo2 (pagmo-sa).
bool have_pagmo();

/// Why a run ended: its candidate budget, QTZ's last refinement level h = 1023, or the authors'
/// SA stop rule (T < 0.1/budget, reached before the budget when the cooling is fast enough).
/// With restarts, the reason the last start ended.  converged: a pagmo algorithm's own stop
/// (population spread below ftol/xtol).
enum class StopReason { budget, h_limit, sa_stop_rule, converged };
std::string_view to_string(StopReason r);

struct RunResult {
  StopReason stop = StopReason::budget;
  double best = 0;             ///< best objective value seen
  long last_improvement = 0;   ///< candidate count at which `best` was last lowered (0 = start)
  long iterations = 0;         ///< candidates evaluated
  int final_h = 0;             ///< qtz: h at the end (−1 for other algorithms)
  bool success = false;        ///< best ≤ target (f* + tolerance; TSP: optimum·(1 + tolerance))
  long hit_iteration = -1;     ///< first candidate count at which best ≤ target (−1: never)
  std::vector<double> best_x;  ///< continuous: the best point; TSP: the best tour (as doubles)
  long restarts = 0;           ///< starts after the first (OptimizerOptions::restarts)

  /// Records a new best value f found at candidate count `it`.
  void improve(double f, long it, double target) {
    best = f;
    last_improvement = it;
    if (hit_iteration < 0 && f <= target) hit_iteration = it;
  }
};

/// A continuous problem: f on the box [lower, upper] (the objective's domain by default).
struct ContinuousProblem {
  const potentials::Objective* f;
  std::vector<double> lower, upper;
  double f_star;     ///< the known global minimum value (success threshold)
  double tolerance;  ///< the objective's success tolerance (Objective::success_tolerance)
  explicit ContinuousProblem(const potentials::Objective& obj);
  ContinuousProblem(const potentials::Objective& obj, std::vector<double> lo, std::vector<double> hi);
};

/// One run (index r) of the chosen algorithm.  Throws InvalidArgument for options that make no
/// sense for the problem (e.g. pimc on a continuous objective), naming the option.
RunResult run_once(const ContinuousProblem& p, const OptimizerOptions& o, std::uint64_t r);
/// TSP: `lists` are the instance's candidate lists for the neighbour-list algorithms (built here
/// when null or of another K); `on_improvement(candidates, length)` is called at each new best.
using ImprovementObserver = std::function<void(long, double)>;
RunResult run_once(const potentials::TspInstance& p, const OptimizerOptions& o, std::uint64_t r, const std::vector<int>& start_tour,
                   const potentials::TspNeighbours* lists = nullptr, const ImprovementObserver& on_improvement = {});
/// The K of the candidate lists the algorithm of `o` uses (0: none).
int neighbour_count(const OptimizerOptions& o);

/// R independent runs, parallel over runs (OpenMP), results in run order.
std::vector<RunResult> run_ensemble(const ContinuousProblem& p, const OptimizerOptions& o, long runs);
std::vector<RunResult> run_ensemble(const potentials::TspInstance& p, const OptimizerOptions& o, long runs, const std::vector<int>& start_tour);

/// The success tolerance a run uses: o.tolerance, or the problem's when it is NaN.
inline double success_tolerance(const OptimizerOptions& o, const ContinuousProblem& p) { return std::isnan(o.tolerance) ? p.tolerance : o.tolerance; }
inline double success_tolerance(const OptimizerOptions& o, const potentials::TspInstance&) { return std::isnan(o.tolerance) ? 1e-3 : o.tolerance; }

/// Checks the options for the problem kind; throws InvalidArgument naming the option (its field
/// name: "budget", "qp", "delta", "algorithm", …).
void validate(const OptimizerOptions& o, bool tsp);

/// pagmo2's simulated annealing, one run (particles/pagmo_baseline.cpp; InvalidArgument without pagmo).
RunResult run_pagmo_sa(const ContinuousProblem& p, const OptimizerOptions& o, std::uint64_t r);
/// One start of a pagmo population algorithm with `budget` candidates after its first evaluation
/// (budget + 1 fitness calls at most), its pagmo seed drawn from rng; `restart` sizes the
/// population (population_size).  stop: budget, or converged.
RunResult run_pagmo_population(const ContinuousProblem& p, const PagmoOptions& o, long budget, core::RandomStream& rng, double target, int restart);

}  // namespace qtzflow::particles
