#include "particles/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/version.hpp"
#include "particles/langevin.hpp"
#include "particles/quantizer.hpp"
#include "particles/tsp_search.hpp"
#include "particles/walls.hpp"

namespace qtzflow::particles {

namespace {

using detail::reflect;

constexpr const char* kTspAlgorithms = "qtz, qtz-dither, qtz-nl, qtz-dither-nl, sa, sa-nl, qia, ils or pimc for a TSP instance";

/// The continuous search space: current point x and candidate c.
class BoxSpace {
 public:
  BoxSpace(const ContinuousProblem& p, Proposal proposal, double delta)
      : p_(p), d_(p.lower.size()), local_(proposal == Proposal::local), delta_(delta), x_(d_), c_(d_) {}
  double start(core::RandomStream& rng) {
    for (std::size_t i = 0; i < d_; ++i) x_[i] = rng.uniform(p_.lower[i], p_.upper[i]);
    return p_.f->value(x_);
  }
  double propose(core::RandomStream& rng) {
    if (local_)
      for (std::size_t i = 0; i < d_; ++i) c_[i] = reflect(x_[i] + delta_ * rng.normal(), p_.lower[i], p_.upper[i]);
    else
      for (std::size_t i = 0; i < d_; ++i) c_[i] = rng.uniform(p_.lower[i], p_.upper[i]);
    return p_.f->value(c_);
  }
  void accept() { std::swap(x_, c_); }
  /// QIA's driver term 0.125‖·‖² at the current point and at the candidate.
  double driver_current() const { return 0.125 * std::inner_product(x_.begin(), x_.end(), x_.begin(), 0.0); }
  double driver_candidate() const { return 0.125 * std::inner_product(c_.begin(), c_.end(), c_.begin(), 0.0); }
  static constexpr bool has_driver = true;
  void best_state(std::vector<double>& out) const { out.assign(x_.begin(), x_.end()); }
  void best_candidate(std::vector<double>& out) const { out.assign(c_.begin(), c_.end()); }

 private:
  const ContinuousProblem& p_;
  std::size_t d_;
  bool local_;
  double delta_;
  std::vector<double> x_, c_;
};

/// The TSP search space: the current tour and a pending segment reversal.
class TourSpace {
 public:
  TourSpace(const potentials::TspInstance& p, const std::vector<int>& start) : p_(p), tour_(start) {}
  double start(core::RandomStream&) { return length_ = p_.tour_length(tour_); }
  double propose(core::RandomStream& rng) {
    const std::size_t n = p_.size();
    l_ = 2 + rng.below(n - 2);   // U{2..n−1}
    i_ = rng.below(n - l_ + 1);  // U{0..n−l}
    return length_ + p_.reversal_delta(tour_, i_, l_);
  }
  void accept() {
    length_ += p_.reversal_delta(tour_, i_, l_);
    std::reverse(tour_.begin() + static_cast<std::ptrdiff_t>(i_), tour_.begin() + static_cast<std::ptrdiff_t>(i_ + l_));
  }
  double driver_current() const { return 0; }
  double driver_candidate() const { return 0; }
  static constexpr bool has_driver = false;  // the authors' TSP QIA ignores the interpolation
  void best_state(std::vector<double>& out) const { out.assign(tour_.begin(), tour_.end()); }
  void best_candidate(std::vector<double>& out) const {
    out.assign(tour_.begin(), tour_.end());
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(i_), out.begin() + static_cast<std::ptrdiff_t>(i_ + l_));
  }

 private:
  const potentials::TspInstance& p_;
  std::vector<int> tour_;
  double length_ = 0;
  std::size_t i_ = 0, l_ = 2;
};

template <class Space>
RunResult run_qtz(Space& sp, const QtzOptions& o, long budget, core::RandomStream& rng, double target, const ImprovementObserver& observe = {}) {
  RunResult r;
  const double f0 = sp.start(rng);
  r.improve(f0, 0, target);
  sp.best_state(r.best_x);
  QuantizedOptimizer q(f0, o.qp_rule, o.qp, o.dither, rng, o.eta);
  long it = 0;
  while (it < budget && !q.finished()) {
    q.begin_iteration(++it, rng);
    const double fc = sp.propose(rng);
    if (q.offer(fc, rng)) {
      if (fc < r.best) {
        r.improve(fc, it, target);
        sp.best_candidate(r.best_x);
        if (observe) observe(it, fc);
      }
      sp.accept();
    }
  }
  r.iterations = it;
  r.final_h = q.h();
  r.stop = q.finished() ? StopReason::h_limit : StopReason::budget;
  return r;
}

/// Iterations of the authors' SA: T0 (1000), × cooling (0.9995) per iteration while T ≥ 0.1/budget.
long sa_length(long budget, double T0, double cooling) {
  long n = 0;  // the loop itself, not a closed form: the count must match the run's own T updates
  for (double T = T0; n < budget && T >= 0.1 / static_cast<double>(budget); T *= cooling) ++n;
  return n;
}

/// Metropolis SA: n iterations from T0, T ← cooling·T after each (n: sa_length for the authors'
/// stop rule, the budget for sa-nl).
template <class Space>
RunResult run_sa(Space& sp, long budget, long n, core::RandomStream& rng, const SaOptions& o, double target, const ImprovementObserver& observe = {}) {
  const bool qia = o.qia;
  RunResult r;
  r.final_h = -1;
  double fx = sp.start(rng);
  r.improve(fx, 0, target);
  sp.best_state(r.best_x);
  r.stop = n < budget ? StopReason::sa_stop_rule : StopReason::budget;
  double T = o.T0;
  for (long it = 1; it <= n; ++it) {
    const double fc = sp.propose(rng);
    double delta = fc - fx;
    if (qia && Space::has_driver) {
      const double s = std::sqrt(static_cast<double>(it) / static_cast<double>(n));
      delta = (1 - s) * (sp.driver_candidate() - sp.driver_current()) + s * delta;
    }
    if (delta <= 0 || rng.uniform() < std::exp(-delta / T)) {
      if (fc < r.best) {
        r.improve(fc, it, target);
        sp.best_candidate(r.best_x);
        if (observe) observe(it, fc);
      }
      sp.accept();
      fx = fc;
    }
    T *= o.cooling;
  }
  r.iterations = n;
  return r;
}

RunResult run_langevin(const ContinuousProblem& p, const LangevinOptions& o, long budget, core::RandomStream& rng, double target) {
  const std::size_t d = p.lower.size();
  std::vector<double> x(d), g(d);
  for (std::size_t i = 0; i < d; ++i) x[i] = rng.uniform(p.lower[i], p.upper[i]);
  RunResult r;
  r.final_h = -1;
  r.improve(p.f->value(x), 0, target);
  r.best_x = x;
  for (long it = 1; it <= budget; ++it) {
    const double t = static_cast<double>(it - 1) * o.dt;
    const double T = o.schedule.T(t);
    if (!(std::isfinite(T) && T > 0))  // a schedule of the caller's (a Python function, say) checked as the grid engines check it
      core::throw_invalid("T", core::format_value(T) + " at t = " + core::format_value(t), "finite and > 0 (the schedule's temperature)");
    const double amp = std::sqrt(2 * T * o.dt);
    langevin_step(
        *p.f, x, g, d, o.dt, amp, [&](std::size_t) { return rng.normal(); },
        [&](double v, std::size_t i) { return reflect(v, p.lower[i], p.upper[i]); });
    const double fx = p.f->value(x);
    if (fx < r.best) {
      r.improve(fx, it, target);
      r.best_x = x;
    }
  }
  r.iterations = budget;
  return r;
}

/// Path-integral Monte Carlo annealing on P coupled replicas of the tour.
RunResult run_pimc(const potentials::TspInstance& p, const PimcOptions& o, long budget, core::RandomStream& rng, const std::vector<int>& start,
                   double target) {
  const std::size_t n = p.size(), P = static_cast<std::size_t>(o.replicas);
  const double start_length = p.tour_length(start);
  // Martoňák et al. tuned T = 10/3 and Γ0 = 300 for pr1002, whose optimal tour has a mean edge
  // of 259045/1002 = 258.5; by default both scale with this instance's mean edge (start tour),
  // so that P·T stays the same fraction of a typical length change.
  const double scale = start_length / static_cast<double>(n) / 258.5;
  const double T = o.T > 0 ? o.T : 10.0 / 3.0 * scale, gamma0 = o.gamma0 > 0 ? o.gamma0 : 300 * scale;
  std::vector<std::vector<int>> tour(P, start), pos(P, std::vector<int>(n));
  std::vector<double> len(P, start_length);
  for (std::size_t k = 0; k < P; ++k)
    for (std::size_t j = 0; j < n; ++j) pos[k][static_cast<std::size_t>(tour[k][j])] = static_cast<int>(j);
  // is the edge (u, v) in replica k?
  auto has = [&](std::size_t k, int u, int v) {
    const std::size_t j = static_cast<std::size_t>(pos[k][static_cast<std::size_t>(u)]);
    return tour[k][(j + 1) % n] == v || tour[k][(j + n - 1) % n] == v;
  };
  RunResult r;
  r.final_h = -1;
  r.improve(len[0], 0, target);
  r.best_x.assign(start.begin(), start.end());
  const long sweeps = std::max<long>(1, budget / static_cast<long>(P));
  long moves = 0;
  for (long s = 0; s < sweeps; ++s) {
    const double gamma = gamma0 * (1 - static_cast<double>(s) / static_cast<double>(sweeps));
    // coupling per Ising bond; an edge shared by neighbouring replicas changes Σσσ by 4
    const double J = -0.5 * T * std::log(std::tanh(gamma / (static_cast<double>(P) * T)));
    for (std::size_t k = 0; k < P; ++k) {
      ++moves;
      const std::size_t l = 2 + rng.below(n - 2), i = rng.below(n - l + 1);
      const double dL = p.reversal_delta(tour[k], i, l);
      const int a = tour[k][(i + n - 1) % n], b = tour[k][i], c = tour[k][i + l - 1], e = tour[k][(i + l) % n];
      int dshared = 0;
      for (std::size_t nb : {(k + P - 1) % P, (k + 1) % P}) {
        if (nb == k) continue;
        dshared += int(has(nb, a, c)) + int(has(nb, b, e)) - int(has(nb, a, b)) - int(has(nb, c, e));
      }
      const double dH = dL / static_cast<double>(P) - 4 * J * dshared;
      if (dH <= 0 || rng.uniform() < std::exp(-dH / T)) {
        std::reverse(tour[k].begin() + static_cast<std::ptrdiff_t>(i), tour[k].begin() + static_cast<std::ptrdiff_t>(i + l));
        for (std::size_t j = i; j < i + l; ++j) pos[k][static_cast<std::size_t>(tour[k][j])] = static_cast<int>(j);
        len[k] += dL;
        if (len[k] < r.best - 1e-9 * std::abs(r.best)) {
          r.improve(len[k], moves, target);
          r.best_x.assign(tour[k].begin(), tour[k].end());
        }
      }
    }
  }
  r.iterations = moves;
  // the accumulated Δs carry round-off: report the best tour's exact length
  std::vector<int> best(r.best_x.begin(), r.best_x.end());
  r.best = p.tour_length(best);
  return r;
}

}  // namespace

std::string_view to_string(StopReason r) {
  switch (r) {
    case StopReason::budget:
      return "budget";
    case StopReason::h_limit:
      return "h = 1023";
    case StopReason::sa_stop_rule:
      return "SA stop rule";
    case StopReason::converged:
      return "converged";
  }
  return "?";
}

AlgorithmOptions default_options(Algorithm a) {
  switch (a) {
    case Algorithm::qtz:
      return QtzOptions{};
    case Algorithm::qtz_local:
      return QtzOptions{.proposal = Proposal::local};
    case Algorithm::qtz_dither:
      return QtzOptions{.dither = true};
    case Algorithm::qtz_nl:
      return QtzOptions{.proposal = Proposal::neighbours};
    case Algorithm::qtz_dither_nl:
      return QtzOptions{.dither = true, .proposal = Proposal::neighbours};
    case Algorithm::langevin:
      return LangevinOptions{};
    case Algorithm::sa:
      return SaOptions{};
    case Algorithm::sa_nl:
      return SaOptions{.T0 = 0, .cooling = 0, .proposal = Proposal::neighbours};
    case Algorithm::ils:
      return IlsOptions{};
    case Algorithm::qia:
      return SaOptions{.qia = true};
    case Algorithm::pimc:
      return PimcOptions{};
    case Algorithm::pagmo_sa:
      return PagmoSaOptions{};
    case Algorithm::cmaes:
    case Algorithm::de1220:
    case Algorithm::sade:
    case Algorithm::xnes:
    case Algorithm::pso:
      return PagmoOptions{.algorithm = a};
  }
  throw core::Error("particles: unknown algorithm");
}

int minimum_population(Algorithm a) {
  switch (a) {
    case Algorithm::cmaes:
      return 5;
    case Algorithm::xnes:
      return 4;
    case Algorithm::de1220:
    case Algorithm::sade:
      return 7;
    default:
      return 2;
  }
}

int population_size(const PagmoOptions& o, int d, int restart) {
  int base = o.population;
  if (base == 0) {
    switch (o.algorithm) {
      case Algorithm::cmaes:
      case Algorithm::xnes:
        base = 4 + static_cast<int>(std::floor(3 * std::log(static_cast<double>(d))));
        break;
      case Algorithm::de1220:
      case Algorithm::sade:
        base = std::max(20, 10 * d);
        break;
      default:
        base = 40;
    }
    base = std::max(base, minimum_population(o.algorithm));
  }
  if (o.algorithm != Algorithm::cmaes) return base;
  return static_cast<int>(std::min<double>(base * std::ldexp(1.0, std::min(restart, 16)), 1 << 20));  // IPOP: doubles per restart
}

std::string unused_setting(Algorithm a, const AlgorithmSettings& s, std::string_view name) {
  const bool qtz = a == Algorithm::qtz || a == Algorithm::qtz_local || a == Algorithm::qtz_dither || a == Algorithm::qtz_nl || a == Algorithm::qtz_dither_nl;
  const bool sa = a == Algorithm::sa || a == Algorithm::qia;
  const bool choose_local = a == Algorithm::qtz || a == Algorithm::qtz_dither || sa;
  const std::string who = "not used by " + std::string(to_string(a));
  if (name == "neighbours")
    return a == Algorithm::qtz_nl || a == Algorithm::qtz_dither_nl || a == Algorithm::sa_nl || a == Algorithm::ils
               ? ""
               : who + " (the candidate lists of the TSP algorithms qtz-nl, qtz-dither-nl, sa-nl and ils)";
  if (a == Algorithm::sa_nl && (name == "sa_T0" || name == "sa_cooling"))
    return who + " (sa-nl fits its schedule to the instance and the budget: T0 = the mean nearest-neighbour distance, T0/1000 at the end)";
  if (name == "h_schedule" || name == "eta") return qtz ? "" : who + " (the quantized optimizers' Q_p law)";
  if (name == "qp") return qtz && s.h_schedule == QpRule::fixed ? "" : who + " unless the h-schedule is fixed (Q_p held at qp)";
  if (name == "local") return choose_local ? "" : who + " (local proposals are a choice of qtz, qtz-dither, sa and qia)";
  if (name == "delta")
    return a == Algorithm::qtz_local || (choose_local && s.local) ? "" : who + " without local proposals (delta is their size)";
  if (name == "sa_T0" || name == "sa_cooling") return sa ? "" : who + " (the authors' SA cooling)";
  if (name == "dt" || name == "schedule") return a == Algorithm::langevin ? "" : who + " (Langevin's step and temperature)";
  if (name == "replicas" || name == "pimc_T" || name == "pimc_gamma0") return a == Algorithm::pimc ? "" : who + " (path-integral annealing)";
  if (name == "population") return is_pagmo_population(a) ? "" : who + " (the size of pagmo's populations: cmaes, de1220, sade, xnes, pso)";
  return "";
}

AlgorithmOptions algorithm_options(std::string_view name, const AlgorithmSettings& a) {
  auto o = default_options(algorithm_from_string(name));
  const auto proposal = [&](Proposal p) { return a.local ? Proposal::local : p; };
  if (auto* q = std::get_if<QtzOptions>(&o)) {
    q->qp_rule = a.h_schedule;
    q->qp = a.qp;
    if (q->proposal != Proposal::neighbours) q->proposal = proposal(q->proposal);
    q->delta = a.delta;
    q->eta = a.eta;
    q->neighbours = a.neighbours;
  } else if (auto* s = std::get_if<SaOptions>(&o)) {
    s->delta = a.delta;
    s->neighbours = a.neighbours;
    if (s->proposal != Proposal::neighbours) {  // sa-nl keeps its fitted schedule
      s->proposal = proposal(s->proposal);
      s->T0 = a.sa_T0;
      s->cooling = a.sa_cooling;
    }
  } else if (auto* i = std::get_if<IlsOptions>(&o)) {
    i->neighbours = a.neighbours;
  } else if (auto* l = std::get_if<LangevinOptions>(&o)) {
    l->schedule = a.schedule;
    l->dt = a.dt;
  } else if (auto* p = std::get_if<PimcOptions>(&o)) {
    p->replicas = a.replicas;
    p->T = a.pimc_T;
    p->gamma0 = a.pimc_gamma0;
  } else if (auto* g = std::get_if<PagmoOptions>(&o)) {
    g->population = a.population;
  }
  return o;
}

std::vector<OptionValue> option_values(const OptimizerOptions& o) {
  std::vector<OptionValue> v{{"budget", static_cast<double>(o.budget)},
                             {"seed", static_cast<double>(o.seed)},
                             {"seed_text", std::to_string(o.seed)},
                             {"tolerance", o.tolerance},
                             {"restarts", o.restarts ? 1.0 : 0.0}};
  const auto proposal = [](Proposal p) { return std::string(core::name_of(p)); };
  if (const auto* q = std::get_if<QtzOptions>(&o.algorithm)) {
    v.insert(v.end(), {{"h_schedule", std::string(core::name_of(q->qp_rule))}, {"qp", q->qp}, {"eta", q->eta}, {"proposal", proposal(q->proposal)}, {"delta", q->delta}});
    if (q->proposal == Proposal::neighbours) v.push_back({"neighbours", static_cast<double>(q->neighbours)});
  } else if (const auto* s = std::get_if<SaOptions>(&o.algorithm)) {
    v.insert(v.end(), {{"sa_T0", s->T0}, {"sa_cooling", s->cooling}, {"proposal", proposal(s->proposal)}, {"delta", s->delta}});
    if (s->proposal == Proposal::neighbours) v.push_back({"neighbours", static_cast<double>(s->neighbours)});
  } else if (const auto* i = std::get_if<IlsOptions>(&o.algorithm)) {
    v.push_back({"neighbours", static_cast<double>(i->neighbours)});
  } else if (const auto* l = std::get_if<LangevinOptions>(&o.algorithm)) {
    v.insert(v.end(), {{"dt", l->dt}, {"schedule", l->schedule.describe()}});
  } else if (const auto* p = std::get_if<PimcOptions>(&o.algorithm)) {
    v.insert(v.end(), {{"replicas", static_cast<double>(p->replicas)}, {"pimc_T", p->T}, {"pimc_gamma0", p->gamma0}});
  } else if (const auto* g = std::get_if<PagmoOptions>(&o.algorithm)) {
    v.push_back({"population", static_cast<double>(g->population)});
  }
  return v;
}

Algorithm algorithm_of(const AlgorithmOptions& o) {
  struct Name {
    Algorithm operator()(const QtzOptions& q) const {
      if (q.proposal == Proposal::neighbours) return q.dither ? Algorithm::qtz_dither_nl : Algorithm::qtz_nl;
      return q.dither ? Algorithm::qtz_dither : q.proposal == Proposal::local ? Algorithm::qtz_local : Algorithm::qtz;
    }
    Algorithm operator()(const SaOptions& s) const { return s.qia ? Algorithm::qia : s.proposal == Proposal::neighbours ? Algorithm::sa_nl : Algorithm::sa; }
    Algorithm operator()(const IlsOptions&) const { return Algorithm::ils; }
    Algorithm operator()(const LangevinOptions&) const { return Algorithm::langevin; }
    Algorithm operator()(const PimcOptions&) const { return Algorithm::pimc; }
    Algorithm operator()(const PagmoSaOptions&) const { return Algorithm::pagmo_sa; }
    Algorithm operator()(const PagmoOptions& g) const { return g.algorithm; }
  };
  return std::visit(Name{}, o);
}

ContinuousProblem::ContinuousProblem(const potentials::Objective& obj) : ContinuousProblem(obj, obj.lower(), obj.upper()) {}

ContinuousProblem::ContinuousProblem(const potentials::Objective& obj, std::vector<double> lo, std::vector<double> hi)
    : f(&obj),
      lower(std::move(lo)),
      upper(std::move(hi)),
      f_star(obj.minima().empty() ? -INFINITY : obj.minima().front().f),
      tolerance(obj.success_tolerance()) {
  const std::size_t d = static_cast<std::size_t>(obj.dim());
  if (lower.size() != d || upper.size() != d)
    core::throw_invalid("box", std::to_string(lower.size()) + " / " + std::to_string(upper.size()) + " bounds", std::to_string(d) + " per side");
  for (std::size_t i = 0; i < d; ++i)
    if (!(upper[i] > lower[i])) core::throw_invalid("box", "axis " + std::to_string(i) + ": upper <= lower", "upper > lower");
}

void validate(const OptimizerOptions& o, bool tsp) {
  core::require_at_least("budget", o.budget, 1);
  if (!std::isnan(o.tolerance)) core::require_non_negative("tolerance", o.tolerance);
  const Algorithm a = algorithm_of(o.algorithm);
  if (tsp && (a == Algorithm::langevin || a == Algorithm::pagmo_sa || a == Algorithm::qtz_local || is_pagmo_population(a)))
    core::throw_invalid("algorithm", std::string(to_string(a)), kTspAlgorithms);
  if (tsp && o.restarts) core::throw_invalid("restarts", "on", "off for a TSP instance (restarts are for continuous problems)");
  if (!tsp && is_tsp_only(a)) core::throw_invalid("algorithm", std::string(to_string(a)), "a TSP instance (an algorithm of TSP moves)");
  const auto proposal_of = [](const AlgorithmOptions& x) {
    if (const auto* q = std::get_if<QtzOptions>(&x)) return q->proposal;
    if (const auto* s = std::get_if<SaOptions>(&x)) return s->proposal;
    return Proposal::blind;
  };
  if (tsp && proposal_of(o.algorithm) == Proposal::local)
    core::throw_invalid("local", "on", "off for a TSP instance (its local moves are qtz-nl, qtz-dither-nl and sa-nl)");
  if (is_tsp_only(a) && a != Algorithm::pimc) core::require_at_least("neighbours", neighbour_count(o), 1);
  if (const auto* s = std::get_if<SaOptions>(&o.algorithm); s && s->proposal == Proposal::neighbours) {
    if (!(s->T0 >= 0 && std::isfinite(s->T0))) core::throw_invalid("sa.T0", core::format_value(s->T0), "0 (fitted) or a finite temperature > 0");
    if (!(s->cooling == 0 || (s->cooling > 0 && s->cooling < 1))) core::throw_invalid("sa.cooling", core::format_value(s->cooling), "0 (fitted) or in (0, 1)");
  }
  if ((a == Algorithm::pagmo_sa || is_pagmo_population(a)) && !have_pagmo())
    core::throw_invalid("algorithm", std::string(to_string(a)), "an algorithm of this build (qtzflow was built without pagmo2)");
  if (const auto* g = std::get_if<PagmoOptions>(&o.algorithm); g && g->population != 0 && g->population < minimum_population(a))
    core::throw_invalid("population", std::to_string(g->population),
                        "0 (the default) or at least " + std::to_string(minimum_population(a)) + " for " + std::string(to_string(a)));
  if (const auto* q = std::get_if<QtzOptions>(&o.algorithm)) {
    if (q->qp_rule == QpRule::fixed) core::require_positive("qp", q->qp);
    if (q->proposal == Proposal::local) core::require_positive("delta", q->delta);
    core::require_non_negative("eta", q->eta);
    if (q->eta > 0 && !std::isfinite(q->eta)) core::throw_invalid("eta", core::format_value(q->eta), "finite, > 0 (or 0: the authors' rule)");
  }
  if (const auto* s = std::get_if<SaOptions>(&o.algorithm); s && s->proposal != Proposal::neighbours) {
    if (s->proposal == Proposal::local) core::require_positive("delta", s->delta);
    core::require_positive("sa.T0", s->T0);
    if (!std::isfinite(s->T0)) core::throw_invalid("sa.T0", core::format_value(s->T0), "a finite temperature > 0");
    if (!(s->cooling > 0 && s->cooling < 1)) core::throw_invalid("sa.cooling", core::format_value(s->cooling), "in (0, 1)");
  }
  if (const auto* l = std::get_if<LangevinOptions>(&o.algorithm)) core::require_positive("dt", l->dt);
  if (const auto* p = std::get_if<PimcOptions>(&o.algorithm)) {
    core::require_at_least("replicas", p->replicas, 2);
    core::require_non_negative("pimc.T", p->T);
    core::require_non_negative("pimc.gamma0", p->gamma0);
  }
}

namespace {

/// One start of the algorithm: `budget` candidates after its start point.
RunResult run_start(const ContinuousProblem& p, const OptimizerOptions& o, long budget, core::RandomStream& rng, double target, int restart,
                    std::uint64_t run) {
  if (const auto* q = std::get_if<QtzOptions>(&o.algorithm)) {
    BoxSpace sp(p, q->proposal, q->delta);
    return run_qtz(sp, *q, budget, rng, target);
  }
  if (const auto* s = std::get_if<SaOptions>(&o.algorithm)) {
    BoxSpace sp(p, s->proposal, s->delta);
    return run_sa(sp, budget, sa_length(budget, s->T0, s->cooling), rng, *s, target);
  }
  if (const auto* l = std::get_if<LangevinOptions>(&o.algorithm)) return run_langevin(p, *l, budget, rng, target);
  if (const auto* g = std::get_if<PagmoOptions>(&o.algorithm)) return run_pagmo_population(p, *g, budget, rng, target, restart);
  validate(o, false);  // pagmo-sa passes (it spends its whole budget in one start); pimc throws
  OptimizerOptions one = o;
  one.budget = budget;
  return run_pagmo_sa(p, one, run);
}

}  // namespace

RunResult run_once(const ContinuousProblem& p, const OptimizerOptions& o, std::uint64_t run) {
  core::RandomStream rng(o.seed, run);
  const double target = p.f_star + success_tolerance(o, p);
  RunResult r = run_start(p, o, o.budget, rng, target, 0, run);
  // restarts: every start costs its start evaluation, so a run of budget B makes B + 1 calls at
  // most, as one start does; the candidate counts of later starts are offset by the calls before
  for (long used = r.iterations + 1; o.restarts && r.stop != StopReason::budget && used < o.budget + 1;) {
    const RunResult s = run_start(p, o, o.budget - used, rng, target, static_cast<int>(std::min<long>(r.restarts + 1, 1 << 20)), run);
    if (s.best < r.best) {
      r.best = s.best;
      r.best_x = s.best_x;
      r.last_improvement = used + s.last_improvement;
    }
    if (r.hit_iteration < 0 && s.hit_iteration >= 0) r.hit_iteration = used + s.hit_iteration;
    used += s.iterations + 1;
    r.iterations = used - 1;
    r.stop = s.stop;
    r.final_h = s.final_h;
    ++r.restarts;
  }
  r.success = r.hit_iteration >= 0;
  return r;
}

int neighbour_count(const OptimizerOptions& o) {
  if (const auto* q = std::get_if<QtzOptions>(&o.algorithm); q && q->proposal == Proposal::neighbours) return q->neighbours;
  if (const auto* s = std::get_if<SaOptions>(&o.algorithm); s && s->proposal == Proposal::neighbours) return s->neighbours;
  if (const auto* i = std::get_if<IlsOptions>(&o.algorithm)) return i->neighbours;
  return 0;
}

namespace {
/// Refuses K outside 1 … n − 1 and instances too small for the algorithm's moves.
void check_tsp_size(const potentials::TspInstance& p, const OptimizerOptions& o) {
  const int k = neighbour_count(o);
  if (k > 0 && k > static_cast<int>(p.size()) - 1)
    core::throw_invalid("neighbours", std::to_string(k), "1 … " + std::to_string(p.size() - 1) + " (the cities but one)");
  const Algorithm a = algorithm_of(o.algorithm);
  if (a == Algorithm::ils && p.size() < 8) core::throw_invalid("tsp DIMENSION", std::to_string(p.size()), "at least 8 for ils (a double bridge of two segments and 6 ends)");
  if (k > 0 && p.size() < 5) core::throw_invalid("tsp DIMENSION", std::to_string(p.size()), "at least 5 for neighbour-list moves (an Or-opt of 3 cities)");
}
}  // namespace

RunResult run_once(const potentials::TspInstance& p, const OptimizerOptions& o, std::uint64_t run, const std::vector<int>& start,
                   const potentials::TspNeighbours* lists, const ImprovementObserver& observe) {
  core::RandomStream rng(o.seed, run);
  const double target = p.optimum ? *p.optimum * (1 + success_tolerance(o, p)) : -INFINITY;
  const Algorithm a = algorithm_of(o.algorithm);
  const int k = neighbour_count(o);
  potentials::TspNeighbours own;
  if (k > 0 && (lists == nullptr || lists->k != static_cast<std::size_t>(k))) {
    check_tsp_size(p, o);
    own = potentials::nearest_neighbours(p, static_cast<std::size_t>(k));
    lists = &own;
  }
  RunResult r;
  if (const auto* q = std::get_if<QtzOptions>(&o.algorithm); q && q->proposal == Proposal::neighbours) {
    NeighbourMoveSpace sp(p, *lists, start);
    r = run_qtz(sp, *q, o.budget, rng, target, observe);
  } else if (const auto* s = std::get_if<SaOptions>(&o.algorithm); s && s->proposal == Proposal::neighbours) {
    // the fitted schedule: T0 = ℓ, the mean nearest-neighbour distance, falling to T0/1000 at the budget
    double ell = 0;
    for (std::size_t c = 0; c < p.size(); ++c) ell += lists->distances_of(c)[0];
    ell /= static_cast<double>(p.size());
    SaOptions fitted = *s;
    if (fitted.T0 == 0) fitted.T0 = ell > 0 ? ell : 1;  // all cities at one point: any T0 (every move has Δ = 0)
    if (fitted.cooling == 0) fitted.cooling = std::pow(1e-3, 1.0 / static_cast<double>(o.budget));
    NeighbourMoveSpace sp(p, *lists, start);
    r = run_sa(sp, o.budget, o.budget, rng, fitted, target, observe);
  } else if (const auto* qa = std::get_if<QtzOptions>(&o.algorithm); qa && a != Algorithm::qtz_local) {
    TourSpace sp(p, start);
    r = run_qtz(sp, *qa, o.budget, rng, target, observe);
  } else if (const auto* sa = std::get_if<SaOptions>(&o.algorithm)) {
    TourSpace sp(p, start);
    r = run_sa(sp, o.budget, sa_length(o.budget, sa->T0, sa->cooling), rng, *sa, target, observe);
  } else if (std::get_if<IlsOptions>(&o.algorithm) != nullptr) {
    check_tsp_size(p, o);
    const auto res = iterated_local_search(p, *lists, start, o.budget, rng, target, observe);
    r.final_h = -1;
    r.best = res.best;
    r.best_x.assign(res.best_tour.begin(), res.best_tour.end());
    r.last_improvement = res.last_improvement;
    r.iterations = res.deltas;
    r.hit_iteration = res.hit;
    r.stop = StopReason::budget;
  } else if (const auto* pi = std::get_if<PimcOptions>(&o.algorithm)) {
    r = run_pimc(p, *pi, o.budget, rng, start, target);
  } else {
    validate(o, true);  // throws: no such algorithm for a tour
  }
  if (a != Algorithm::pimc) {
    std::vector<int> best(r.best_x.begin(), r.best_x.end());
    r.best = p.tour_length(best);  // exact, free of the accumulated Δ round-off
  }
  r.success = r.best <= target;
  if (r.success && r.hit_iteration < 0) r.hit_iteration = r.last_improvement;
  return r;
}

namespace {
// A run's result as doubles, for the gather across MPI ranks: 8 scalars, the width, best_x.
void pack(const RunResult& r, std::vector<double>& out) {
  out.insert(out.end(), {r.best, static_cast<double>(r.last_improvement), static_cast<double>(r.iterations), static_cast<double>(r.final_h),
                         r.success ? 1.0 : 0.0, static_cast<double>(r.hit_iteration), static_cast<double>(static_cast<int>(r.stop)),
                         static_cast<double>(r.restarts), static_cast<double>(r.best_x.size())});
  out.insert(out.end(), r.best_x.begin(), r.best_x.end());
}

std::vector<RunResult> unpack(const std::vector<double>& v, long runs) {
  std::vector<RunResult> out(static_cast<std::size_t>(runs));
  std::size_t at = 0;
  for (auto& r : out) {
    r.best = v[at];
    r.last_improvement = static_cast<long>(v[at + 1]);
    r.iterations = static_cast<long>(v[at + 2]);
    r.final_h = static_cast<int>(v[at + 3]);
    r.success = v[at + 4] != 0;
    r.hit_iteration = static_cast<long>(v[at + 5]);
    r.stop = static_cast<StopReason>(static_cast<int>(v[at + 6]));
    r.restarts = static_cast<long>(v[at + 7]);
    const auto width = static_cast<std::size_t>(v[at + 8]);
    r.best_x.assign(v.begin() + static_cast<std::ptrdiff_t>(at + 9), v.begin() + static_cast<std::ptrdiff_t>(at + 9 + width));
    at += 9 + width;
  }
  return out;
}

/// Runs 0 … runs−1, each from its own counter-based stream: the OpenMP threads of this rank take
/// its block of runs (all of them on one rank), and the blocks are gathered in run order, so the
/// results do not depend on the number of threads or ranks.  A failure on any rank ends the
/// study on every rank (the failing one rethrows its error).
template <class Run>
std::vector<RunResult> ensemble(long runs, const Run& one) {
  core::require_at_least("runs", runs, 1);
  const auto block = core::mpi::block_of(runs, core::mpi::rank(), core::mpi::size());
  std::vector<RunResult> mine(static_cast<std::size_t>(block.last - block.first));
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic) num_threads(core::thread_count())
  for (long r = block.first; r < block.last; ++r) {
    try {
      mine[static_cast<std::size_t>(r - block.first)] = one(static_cast<std::uint64_t>(r));
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (!core::mpi::active()) {
    if (error) std::rethrow_exception(error);
    return mine;
  }
  const double failed = core::mpi::allreduce_sum(error ? 1.0 : 0.0);
  if (error) std::rethrow_exception(error);
  if (failed > 0) throw core::Error("optimizer: a run failed on another MPI rank (its rank reports why)");
  std::vector<double> packed;
  for (const auto& r : mine) pack(r, packed);
  return unpack(core::mpi::allgather(packed), runs);
}
}  // namespace

std::vector<RunResult> run_ensemble(const ContinuousProblem& p, const OptimizerOptions& o, long runs) {
  validate(o, false);
  core::require_memory("runs", static_cast<double>(runs) * (sizeof(RunResult) + 8.0 * static_cast<double>(p.lower.size())),
                       "the results of every run");
  return ensemble(runs, [&](std::uint64_t r) { return run_once(p, o, r); });
}

std::vector<RunResult> run_ensemble(const potentials::TspInstance& p, const OptimizerOptions& o, long runs, const std::vector<int>& start) {
  validate(o, true);
  core::require_memory("runs", static_cast<double>(runs) * (sizeof(RunResult) + 8.0 * static_cast<double>(p.size())), "the best tour of every run");
  if (const auto* pimc = std::get_if<PimcOptions>(&o.algorithm))  // each running thread holds P tours and their positions
    core::require_memory("replicas",
                         std::min(static_cast<double>(runs), static_cast<double>(core::thread_count())) * static_cast<double>(pimc->replicas) *
                             (8.0 * static_cast<double>(p.size()) + 64),
                         core::format_value(pimc->replicas) + " replicas of a tour of " + std::to_string(p.size()) + " cities per running run");
  p.tour_length(start);  // a permutation of the cities, or InvalidArgument
  check_tsp_size(p, o);
  const int k = neighbour_count(o);
  potentials::TspNeighbours lists;
  if (k > 0) {  // built once, shared by the runs
    core::require_memory("neighbours", 12.0 * static_cast<double>(p.size()) * k, std::to_string(k) + " neighbours of each city");
    lists = potentials::nearest_neighbours(p, static_cast<std::size_t>(k));
  }
  return ensemble(runs, [&](std::uint64_t r) { return run_once(p, o, r, start, k > 0 ? &lists : nullptr); });
}

#if !QTZFLOW_HAVE_PAGMO
RunResult run_pagmo_sa(const ContinuousProblem&, const OptimizerOptions&, std::uint64_t) {
  core::throw_invalid("algorithm", "pagmo-sa", "an algorithm of this build (qtzflow was built without pagmo2)");
}
RunResult run_pagmo_population(const ContinuousProblem&, const PagmoOptions& o, long, core::RandomStream&, double, int) {
  core::throw_invalid("algorithm", std::string(to_string(o.algorithm)), "an algorithm of this build (qtzflow was built without pagmo2)");
}
#endif

bool have_pagmo() { return QTZFLOW_HAVE_PAGMO != 0; }

}  // namespace qtzflow::particles
