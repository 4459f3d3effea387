// pagmo2's algorithms as baselines: simulated_annealing (Corana et al. 1987, adaptive step
// ranges) and the population algorithms cmaes, de1220, sade, xnes and pso, every fitness call
// charged to the budget.  Kept in its own translation unit: pagmo's headers pull in Boost.
#include <pagmo/algorithm.hpp>
#include <pagmo/algorithms/cmaes.hpp>
#include <pagmo/algorithms/de1220.hpp>
#include <pagmo/algorithms/pso.hpp>
#include <pagmo/algorithms/sade.hpp>
#include <pagmo/algorithms/simulated_annealing.hpp>
#include <pagmo/algorithms/xnes.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>

#include <algorithm>
#include <memory>

#include "core/error.hpp"
#include "core/random.hpp"
#include "particles/optimizers.hpp"

namespace qtzflow::particles {

namespace {

/// Thrown by the wrapped problem instead of a call beyond the budget: it ends pagmo's evolve.
struct BudgetExhausted {};

/// What the wrapped problem saw: evaluations, the best value and when it was found.
struct Tracker {
  long evaluations = 0, last_improvement = 0, hit = -1;
  long limit = -1;  ///< the most fitness calls allowed (−1: no limit)
  double best = INFINITY, target = -INFINITY;
  std::vector<double> best_x;
};

/// pagmo user-defined problem: f on the box, recording every evaluation in the tracker.
struct PagmoObjective {
  const ContinuousProblem* p = nullptr;
  std::shared_ptr<Tracker> tracker;
  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    if (tracker->limit >= 0 && tracker->evaluations >= tracker->limit) throw BudgetExhausted{};
    const double v = p->f->value(x);
    ++tracker->evaluations;
    if (v < tracker->best) {
      tracker->best = v;
      tracker->last_improvement = tracker->evaluations;
      if (tracker->hit < 0 && v <= tracker->target) tracker->hit = tracker->evaluations;
      tracker->best_x = x;
    }
    return {v};
  }
  std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const { return {p->lower, p->upper}; }
};

}  // namespace

RunResult run_pagmo_sa(const ContinuousProblem& p, const OptimizerOptions& o, std::uint64_t run) {
  core::RandomStream rng(o.seed, run);
  auto tracker = std::make_shared<Tracker>();
  tracker->target = p.f_star + success_tolerance(o, p);
  tracker->limit = o.budget + 1;  // the start, then the budget's candidates
  pagmo::problem prob{PagmoObjective{&p, tracker}};
  const long dim = static_cast<long>(p.lower.size()), n_T_adj = 10, n_range_adj = 1;
  // pagmo evaluates n_T_adj · n_range_adj · bin_size · dim times per evolve: rounded up, and the
  // call beyond the budget is never made, so the run uses its budget exactly
  const auto bin_size = static_cast<unsigned>(std::clamp<long>((o.budget + n_T_adj * n_range_adj * dim - 1) / (n_T_adj * n_range_adj * dim), 1, 1L << 30));
  const auto seed = static_cast<unsigned>(rng.bits() >> 32);
  pagmo::population pop(prob, 0u, seed);
  pagmo::vector_double x0(static_cast<std::size_t>(dim));
  for (std::size_t i = 0; i < x0.size(); ++i) x0[i] = rng.uniform(p.lower[i], p.upper[i]);
  pop.push_back(x0);
  pagmo::algorithm algo{pagmo::simulated_annealing(10., 0.1, static_cast<unsigned>(n_T_adj), static_cast<unsigned>(n_range_adj), bin_size, 1., seed)};
  try {
    pop = algo.evolve(pop);
  } catch (const BudgetExhausted&) {  // the run has used its budget
  }
  RunResult r;
  r.final_h = -1;
  r.best = tracker->best;
  r.best_x = tracker->best_x;
  r.last_improvement = tracker->last_improvement - 1;  // the first evaluation is the start point
  r.iterations = tracker->evaluations - 1;
  r.hit_iteration = tracker->hit < 0 ? -1 : tracker->hit - 1;
  return r;
}

RunResult run_pagmo_population(const ContinuousProblem& p, const PagmoOptions& o, long budget, core::RandomStream& rng, double target, int restart) {
  auto tracker = std::make_shared<Tracker>();
  tracker->target = target;
  tracker->limit = budget + 1;
  pagmo::problem prob{PagmoObjective{&p, tracker}};
  const int d = static_cast<int>(p.lower.size());
  const auto lambda = static_cast<pagmo::population::size_type>(population_size(o, d, restart));
  // evolve's generations: more than the budget can pay for, so the budget or convergence ends it
  const auto gen = static_cast<unsigned>(std::min<long>(budget / static_cast<long>(lambda) + 2, 1L << 30));
  const auto seed = static_cast<unsigned>(rng.bits() >> 32);
  constexpr double tol = 1e-12;  // ftol, xtol: below the CEC's 1e-8 (pagmo's 1e-6 stops above it)
  RunResult r;
  r.final_h = -1;
  r.stop = StopReason::converged;
  try {
    pagmo::population pop(prob, lambda, seed);
    pagmo::algorithm algo;
    switch (o.algorithm) {
      case Algorithm::cmaes:
        algo = pagmo::algorithm{pagmo::cmaes(gen, -1, -1, -1, -1, 0.5, tol, tol, false, true, seed)};
        break;
      case Algorithm::xnes:
        algo = pagmo::algorithm{pagmo::xnes(gen, -1, -1, -1, -1, tol, tol, false, true, seed)};
        break;
      case Algorithm::de1220:
        algo = pagmo::algorithm{pagmo::de1220(gen, pagmo::de1220_statics<void>::allowed_variants, 1u, tol, tol, false, seed)};
        break;
      case Algorithm::sade:
        algo = pagmo::algorithm{pagmo::sade(gen, 2u, 1u, tol, tol, false, seed)};
        break;
      case Algorithm::pso:
        algo = pagmo::algorithm{pagmo::pso(gen, 0.7298, 2.05, 2.05, 0.5, 5u, 2u, 4u, false, seed)};
        break;
      default:
        throw core::Error("particles: not a pagmo population algorithm");
    }
    algo.evolve(pop);
  } catch (const BudgetExhausted&) {
    r.stop = StopReason::budget;
  }
  if (tracker->evaluations >= tracker->limit) r.stop = StopReason::budget;
  r.best = tracker->best;
  r.best_x = tracker->best_x;
  r.last_improvement = tracker->last_improvement - 1;  // candidate counts: the first call is the start
  r.iterations = tracker->evaluations - 1;
  r.hit_iteration = tracker->hit < 0 ? -1 : tracker->hit - 1;
  return r;
}

}  // namespace qtzflow::particles
