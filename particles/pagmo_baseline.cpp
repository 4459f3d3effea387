// pagmo2's simulated_annealing (Corana et al. 1987, adaptive step ranges) as an independent
// library baseline.  Kept in its own translation unit: pagmo's headers pull in Boost.
#include <pagmo/algorithms/simulated_annealing.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>

#include <memory>

#include "core/random.hpp"
#include "particles/optimizers.hpp"

namespace qtzflow::particles {

namespace {

/// What the wrapped problem saw: evaluations, the best value and when it was found.
struct Tracker {
  long evaluations = 0, last_improvement = 0, hit = -1;
  double best = INFINITY, target = -INFINITY;
  std::vector<double> best_x;
};

/// pagmo user-defined problem: f on the box, recording every evaluation in the tracker.
struct PagmoObjective {
  const ContinuousProblem* p = nullptr;
  std::shared_ptr<Tracker> tracker;
  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
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
  tracker->target = p.f_star + o.tolerance;
  pagmo::problem prob{PagmoObjective{&p, tracker}};
  const unsigned dim = static_cast<unsigned>(p.lower.size()), n_T_adj = 10, n_range_adj = 1;
  // pagmo evaluates n_T_adj · n_range_adj · bin_size · dim times per evolve
  const unsigned bin_size = static_cast<unsigned>(std::max<long>(1, o.budget / static_cast<long>(n_T_adj * n_range_adj * dim)));
  const auto seed = static_cast<unsigned>(rng.bits() >> 32);
  pagmo::population pop(prob, 0u, seed);
  pagmo::vector_double x0(dim);
  for (unsigned i = 0; i < dim; ++i) x0[i] = rng.uniform(p.lower[i], p.upper[i]);
  pop.push_back(x0);
  pagmo::algorithm algo{pagmo::simulated_annealing(10., 0.1, n_T_adj, n_range_adj, bin_size, 1., seed)};
  pop = algo.evolve(pop);
  RunResult r;
  r.final_h = -1;
  r.best = tracker->best;
  r.best_x = tracker->best_x;
  r.last_improvement = tracker->last_improvement - 1;  // the first evaluation is the start point
  r.iterations = tracker->evaluations - 1;
  r.hit_iteration = tracker->hit < 0 ? -1 : tracker->hit - 1;
  return r;
}

}  // namespace qtzflow::particles
