#include "scenario/optimize.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <optional>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"
#include "io/tsplib.hpp"
#include "potentials/expression.hpp"

namespace qtzflow::scenario {

namespace {

std::vector<double> per_axis(const std::vector<double>& v, const std::vector<double>& dflt, int dim, const char* key) {
  if (v.empty()) return dflt;
  for (double x : v) core::require_finite(key, x);  // a box of infinite width has no uniform start
  if (v.size() == 1) return std::vector<double>(static_cast<std::size_t>(dim), v[0]);
  if (v.size() != static_cast<std::size_t>(dim))
    core::throw_invalid(key, std::to_string(v.size()) + " values", "1 or " + std::to_string(dim) + " (the dimension)");
  return v;
}

std::string fixed2(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

/// printf into a std::string of any length.
[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(static_cast<std::size_t>(std::max(n, 0)), '\0');
  std::vsnprintf(out.data(), out.size() + 1, fmt, ap2);
  va_end(ap2);
  return out;
}

}  // namespace

OptimizeSummary summarise(const std::vector<particles::RunResult>& rs) {
  OptimizeSummary s;
  s.best = INFINITY;
  s.mean_hit_iteration = NAN;
  const double n = static_cast<double>(rs.size());
  for (const auto& r : rs) {
    s.mean += r.best / n;
    s.best = std::min(s.best, r.best);
    s.mean_last_improvement += static_cast<double>(r.last_improvement) / n;
    s.mean_final_h += r.final_h / n;
    s.mean_iterations += static_cast<double>(r.iterations) / n;
    s.stopped_by_budget += r.stop == particles::StopReason::budget;
    s.stopped_by_h_limit += r.stop == particles::StopReason::h_limit;
    s.stopped_by_sa_rule += r.stop == particles::StopReason::sa_stop_rule;
    s.stopped_by_convergence += r.stop == particles::StopReason::converged;
    s.mean_restarts += static_cast<double>(r.restarts) / n;
    s.never_improved += r.last_improvement == 0;
  }
  double var = 0, hits = 0, hit_sum = 0, ok = 0;
  for (const auto& r : rs) {
    var += (r.best - s.mean) * (r.best - s.mean);
    ok += r.success ? 1 : 0;
    if (r.hit_iteration >= 0) {
      hits += 1;
      hit_sum += static_cast<double>(r.hit_iteration);
    }
  }
  if (hits > 0) s.mean_hit_iteration = hit_sum / hits;
  s.success_rate = ok / n;
  s.std = rs.size() > 1 ? std::sqrt(var / (n - 1)) : 0;
  return s;
}

OptimizeReport optimize(const OptimizeRequest& q) {
  const int given = !q.objective.empty() + !q.expression.empty() + !q.tsp.empty();
  if (given != 1) core::throw_invalid("objective/expression/tsp", given == 0 ? "none" : "more than one", "exactly one of them");
  OptimizeReport rep;
  // before hours of computing, not after: the output may be written, and no other process writes it
  std::optional<core::OutputLock> claim;
  if (!q.output.empty()) {
    for (const auto& written : {q.output, core::OutputLock::lock_path_of(q.output)}) core::require_replaceable("output", written, {q.tsp});
    core::mpi::on_root([&] { claim.emplace("output", q.output); });
  }
  if (!(q.optimum < 0) && !(std::isfinite(q.optimum) && q.optimum > 0))
    core::throw_invalid("optimum", core::format_value(q.optimum), "a finite tour length > 0");
  rep.algorithm = std::string(particles::to_string(particles::algorithm_of(q.options.algorithm)));
  rep.runs = q.runs;
  rep.budget = q.options.budget;
  rep.seed = q.options.seed;
  particles::OptimizerOptions options = q.options;  // with the problem's tolerance filled in, as stored
  const auto t0 = std::chrono::steady_clock::now();
  if (!q.tsp.empty()) {
    auto inst = io::read_tsplib(q.tsp, q.unrounded);
    // the table's lengths are TSPLIB's rounded ones: an unrounded reading gets only a given optimum
    const double opt = q.optimum >= 0 ? q.optimum : q.unrounded ? -1 : io::tsplib_known_optimum(inst.name());
    if (opt > 0) inst.optimum = opt;
    rep.reference = opt > 0 ? opt : NAN;
    const auto start = inst.nearest_neighbour_tour(0);
    rep.problem = inst.name() + " (TSP, " + std::to_string(inst.size()) + " cities, " + std::string(potentials::to_string(inst.metric())) +
                  ", nearest-neighbour start " + fixed2(inst.tour_length(start)) + ")";
    options.tolerance = particles::success_tolerance(q.options, inst);
    rep.options = particles::option_values(options);
    rep.results = particles::run_ensemble(inst, options, q.runs, start);
  } else {
    std::unique_ptr<potentials::Objective> f;
    if (q.expression.empty()) {
      f = potentials::make_objective(q.objective, q.dim, q.params);
    } else {
      if (q.lower.empty() || q.upper.empty())
        core::throw_invalid(q.lower.empty() ? "lower" : "upper", "missing", "the search box of the expression (1 value or one per axis)");
      potentials::ExpressionSpec spec;
      spec.formula = q.expression;
      spec.params = q.params;
      spec.lower = per_axis(q.lower, {}, q.dim, "lower");
      spec.upper = per_axis(q.upper, {}, q.dim, "upper");
      spec.minima = q.minima;
      spec.key = "expression";
      f = potentials::make_expression_objective(spec, q.dim);
    }
    particles::ContinuousProblem p(*f, per_axis(q.lower, f->lower(), q.dim, "lower"), per_axis(q.upper, f->upper(), q.dim, "upper"));
    rep.reference = p.f_star;
    std::string box;
    const bool cube = std::equal(p.lower.begin() + 1, p.lower.end(), p.lower.begin()) && std::equal(p.upper.begin() + 1, p.upper.end(), p.upper.begin());
    for (std::size_t i = 0; i < (cube ? 1 : p.lower.size()); ++i)
      box += (i ? " x " : "") + ("[" + core::format_value(p.lower[i]) + ", " + core::format_value(p.upper[i]) + "]");
    if (cube && p.lower.size() > 1) box += "^" + std::to_string(p.lower.size());
    rep.problem =
        (q.expression.empty() ? q.objective : "f = " + core::shorten(q.expression, 80)) + " (d = " + std::to_string(q.dim) + ", box " + box + ")";
    options.tolerance = particles::success_tolerance(q.options, p);
    rep.options = particles::option_values(options);
    rep.results = particles::run_ensemble(p, options, q.runs);
  }
  rep.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.summary = summarise(rep.results);
  rep.tsp = !q.tsp.empty();
  rep.warnings = study_warnings(rep);
  // the results land while the claim on the output is held (every rank holds every result)
  if (!q.output.empty()) core::mpi::on_root([&] { write_optimize_results(q.output, rep); });
  return rep;
}

std::vector<std::string> study_warnings(const OptimizeReport& rep) {
  std::vector<std::string> w;
  const auto& s = rep.summary;
  if (s.mean_iterations < 0.9 * static_cast<double>(rep.budget))
    w.push_back("the budget went unused: runs evaluated " + core::format_value(std::round(s.mean_iterations)) + " candidates on average of " +
                std::to_string(rep.budget) + " (stopped by " + rep.stop_reasons() + "); a larger budget changes nothing");
  if (rep.tsp && rep.algorithm == "qia")
    w.push_back("qia on a TSP instance is the authors' simulated annealing: their TSP QIA has no interpolated cost, "
                "so these are sa's numbers (the same seed gives the same tours as --algorithm sa)");
  if (s.never_improved > 0)
    w.push_back(std::to_string(s.never_improved) + " of " + std::to_string(rep.runs) + " runs never improved on their start (their best is the starting point)");
  return w;
}

std::string OptimizeReport::stop_reasons() const {
  std::string out;
  auto add = [&](long n, std::string_view what) {
    if (n > 0) out += (out.empty() ? "" : ", ") + std::string(what) + ": " + std::to_string(n);
  };
  add(summary.stopped_by_budget, particles::to_string(particles::StopReason::budget));
  add(summary.stopped_by_h_limit, particles::to_string(particles::StopReason::h_limit));
  add(summary.stopped_by_sa_rule, particles::to_string(particles::StopReason::sa_stop_rule));
  add(summary.stopped_by_convergence, particles::to_string(particles::StopReason::converged));
  return out;
}

double OptimizeReport::gap() const {
  if (!std::isfinite(reference)) return NAN;
  return tsp ? (summary.mean - reference) / reference : summary.mean - reference;
}

void write_optimize_results(const std::string& path, const OptimizeReport& rep) {
  // self-describing (openPMD-api's model): who wrote it, when, from which revision, and every
  // setting of the study, numbers as numbers
  const std::map<std::string, std::string> attrs{{"software", "qtzflow"},
                                                 {"softwareVersion", core::version},
                                                 {"date", core::utc_now()},
                                                 {"gitRevision", std::string(core::git_revision())},
                                                 {"buildOptions", std::string(core::build_options())},
                                                 {"algorithm", rep.algorithm},
                                                 {"problem", rep.problem}};
  const auto& rs = rep.results;
  io::write_file_atomically(path, [&](const io::Group& root) {
    for (const auto& [k, v] : attrs) root.write_attribute(k, v);
    root.write_attribute("seed", static_cast<std::uint64_t>(rep.seed));
    root.write_attribute("budget", static_cast<std::int64_t>(rep.budget));
    root.write_attribute("runs", static_cast<std::int64_t>(rep.runs));
    root.write_attribute("reference", rep.reference);
    root.write_attribute("wallSeconds", rep.wall_seconds);
    if (!rep.warnings.empty()) root.write_attribute("warnings", rep.warnings);
    const io::Group g = root.create_group("optimize");
    // the settings on /optimize, under the words of particles::AlgorithmSettings
    for (const auto& o : rep.options) {
      if (o.name == "seed" || o.name == "budget") continue;  // exact integers above
      if (const auto* d = std::get_if<double>(&o.value))
        g.write_attribute(o.name, *d);
      else
        g.write_attribute(o.name, std::get<std::string>(o.value));
    }
    const std::size_t n = rs.size();
    std::vector<double> best(n);
    std::vector<std::int64_t> last(n), hit(n), iters(n), h(n), ok(n), restarts(n);
    std::size_t width = 0;
    for (std::size_t i = 0; i < n; ++i) {
      best[i] = rs[i].best;
      last[i] = rs[i].last_improvement;
      hit[i] = rs[i].hit_iteration;
      iters[i] = rs[i].iterations;
      h[i] = rs[i].final_h;
      ok[i] = rs[i].success ? 1 : 0;
      restarts[i] = rs[i].restarts;
      width = std::max(width, rs[i].best_x.size());
    }
    g.write_dataset("best", best, {n});
    g.write_dataset("last_improvement", last, {n});
    g.write_dataset("hit_iteration", hit, {n});
    g.write_dataset("iterations", iters, {n});
    g.write_dataset("final_h", h, {n});
    g.write_dataset("success", ok, {n});
    g.write_dataset("restarts", restarts, {n});
    std::vector<double> xs(n * width, NAN);
    for (std::size_t i = 0; i < n; ++i) std::copy(rs[i].best_x.begin(), rs[i].best_x.end(), xs.begin() + static_cast<std::ptrdiff_t>(i * width));
    g.write_dataset("best_x", xs, {n, width});
  });
}

std::string optimize_json(const OptimizeReport& rep, int threads) {
  const auto& s = rep.summary;
  std::string o =
      format("{\"algorithm\": \"%s\", \"problem\": \"%s\", \"runs\": %ld, \"budget\": %ld, \"seed\": %llu, \"threads\": %d,\n", rep.algorithm.c_str(),
             core::json_escape(rep.problem).c_str(), rep.runs, rep.budget, static_cast<unsigned long long>(rep.seed), threads);
  o += format(
      " \"reference\": %s, \"mean\": %s, \"std\": %s, \"best\": %s, \"success_rate\": %s, \"mean_last_improvement\": %s,"
      " \"mean_hit_iteration\": %s, \"mean_final_h\": %s, \"mean_iterations\": %s, \"gap\": %s, \"stopped_by\": \"%s\","
      " \"never_improved\": %ld, \"wall_seconds\": %s,\n \"warnings\": [",
      core::json_number(rep.reference).c_str(), core::json_number(s.mean).c_str(), core::json_number(s.std).c_str(), core::json_number(s.best).c_str(),
      core::json_number(s.success_rate).c_str(), core::json_number(s.mean_last_improvement).c_str(), core::json_number(s.mean_hit_iteration).c_str(),
      core::json_number(s.mean_final_h).c_str(), core::json_number(s.mean_iterations).c_str(), core::json_number(rep.gap()).c_str(), rep.stop_reasons().c_str(),
      s.never_improved, core::json_number(rep.wall_seconds).c_str());
  for (std::size_t i = 0; i < rep.warnings.size(); ++i) o += (i ? ", \"" : "\"") + core::json_escape(rep.warnings[i]) + "\"";
  o += "],\n \"results\": [";
  for (std::size_t i = 0; i < rep.results.size(); ++i) {
    const auto& r = rep.results[i];
    o += format(
        "%s\n  {\"best\": %s, \"last_improvement\": %ld, \"hit_iteration\": %ld, \"iterations\": %ld, \"final_h\": %d, \"success\": %s, "
        "\"stopped_by\": \"%s\", \"restarts\": %ld}",
        i ? "," : "", core::json_number(r.best).c_str(), r.last_improvement, r.hit_iteration, r.iterations, r.final_h, r.success ? "true" : "false",
        std::string(particles::to_string(r.stop)).c_str(), r.restarts);
  }
  return o + "]}\n";
}

std::string optimize_table(const OptimizeReport& rep, int threads) {
  const auto& s = rep.summary;
  std::string o = format("qtzflow optimize: %s on %s\n%ld runs, budget %ld, seed %llu, %d threads; reference (optimum) %s\n\n", rep.algorithm.c_str(),
                         rep.problem.c_str(), rep.runs, rep.budget, static_cast<unsigned long long>(rep.seed), threads,
                         std::isfinite(rep.reference) ? core::format_value(rep.reference).c_str() : "unknown");
  o += "| algorithm | mean best | std | best | gap to optimum | success | iterations to success (mean over successes) | last improvement (mean) "
       "| iterations used (mean) | stopped by | final h (mean) | wall (s) |\n";
  o += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  char h[32] = "-", hit[32] = "-", gap[40] = "-";
  if (s.mean_final_h >= 0) std::snprintf(h, sizeof h, "%.1f", s.mean_final_h);
  if (std::isfinite(s.mean_hit_iteration)) std::snprintf(hit, sizeof hit, "%.0f", s.mean_hit_iteration);
  if (std::isfinite(rep.gap())) std::snprintf(gap, sizeof gap, rep.tsp ? "%.2f %%" : "%.4g", rep.tsp ? 100 * rep.gap() : rep.gap());
  return o + format("| %s | %.6g | %.4g | %.6g | %s | %.0f %% | %s | %.0f | %.0f | %s | %s | %.3f |\n", rep.algorithm.c_str(), s.mean, s.std, s.best,
                    gap, 100 * s.success_rate, hit, s.mean_last_improvement, s.mean_iterations, rep.stop_reasons().c_str(), h, rep.wall_seconds);
}

}  // namespace qtzflow::scenario
