#include "apps/optimize.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "io/hdf5.hpp"
#include "io/tsplib.hpp"

namespace qtzflow::apps {

namespace {

/// Proven optima of the TSPLIB instances Debian ships (REFERENCE.md §4), by NAME.
double known_optimum(const std::string& name) {
  static const std::map<std::string, double> table{{"dantzig42", 699}, {"gr120", 6942}, {"ulysses16", 6859}, {"ulysses22", 7013}};
  std::string base = name.substr(0, name.find('.'));
  const auto it = table.find(base);
  return it == table.end() ? -1 : it->second;
}

potentials::Params parse_params(const std::vector<std::string>& items) {
  potentials::Params p;
  for (const auto& s : items) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) core::throw_invalid("--param", s, "name=value or name=v1,v2,...");
    std::vector<double> v;
    std::stringstream in(s.substr(eq + 1));
    std::string tok;
    while (std::getline(in, tok, ',')) {
      std::size_t used = 0;
      double x = 0;
      try {
        x = std::stod(tok, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != tok.size()) core::throw_invalid("--param " + s.substr(0, eq), tok, "a number");
      v.push_back(x);
    }
    p[s.substr(0, eq)] = v;
  }
  return p;
}

std::vector<double> per_axis(const std::vector<double>& v, const std::vector<double>& dflt, int dim, const char* key) {
  if (v.empty()) return dflt;
  if (v.size() == 1) return std::vector<double>(static_cast<std::size_t>(dim), v[0]);
  if (v.size() != static_cast<std::size_t>(dim))
    core::throw_invalid(key, std::to_string(v.size()) + " values", "1 or " + std::to_string(dim) + " (the dimension)");
  return v;
}

struct Summary {
  double mean = 0, std = 0, best = INFINITY, success = 0, last_improvement = 0, final_h = 0, hit = NAN;
};

Summary summarise(const std::vector<solver::RunResult>& rs) {
  Summary s;
  const double n = static_cast<double>(rs.size());
  for (const auto& r : rs) {
    s.mean += r.best / n;
    s.best = std::min(s.best, r.best);
    s.last_improvement += static_cast<double>(r.last_improvement) / n;
    s.final_h += r.final_h / n;
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
  if (hits > 0) s.hit = hit_sum / hits;
  s.success = ok / n;
  s.std = rs.size() > 1 ? std::sqrt(var / (n - 1)) : 0;
  return s;
}

std::string fixed2(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Writes the per-run results to path through a temporary file and an atomic rename, so an
/// existing file is replaced whole or not at all.
void write_results(const std::string& path, const std::map<std::string, std::string>& attrs, const std::vector<solver::RunResult>& rs) {
  const std::string tmp = path + ".tmp";
  {
    io::File f = io::File::create(tmp);
    const io::Group root = f.root();
    for (const auto& [k, v] : attrs) root.write_attribute(k, v);
    const io::Group g = root.create_group("optimize");
    const std::size_t n = rs.size();
    std::vector<double> best(n);
    std::vector<std::int64_t> last(n), hit(n), iters(n), h(n), ok(n);
    std::size_t width = 0;
    for (std::size_t i = 0; i < n; ++i) {
      best[i] = rs[i].best;
      last[i] = rs[i].last_improvement;
      hit[i] = rs[i].hit_iteration;
      iters[i] = rs[i].iterations;
      h[i] = rs[i].final_h;
      ok[i] = rs[i].success ? 1 : 0;
      width = std::max(width, rs[i].best_x.size());
    }
    g.write_dataset("best", best, {n});
    g.write_dataset("last_improvement", last, {n});
    g.write_dataset("hit_iteration", hit, {n});
    g.write_dataset("iterations", iters, {n});
    g.write_dataset("final_h", h, {n});
    g.write_dataset("success", ok, {n});
    std::vector<double> xs(n * width, NAN);
    for (std::size_t i = 0; i < n; ++i) std::copy(rs[i].best_x.begin(), rs[i].best_x.end(), xs.begin() + static_cast<std::ptrdiff_t>(i * width));
    g.write_dataset("best_x", xs, {n, width});
    f.close();
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int optimize(const OptimizeArgs& a) {
  if (a.objective.empty() == a.tsp.empty()) core::throw_invalid("--objective/--tsp", a.objective.empty() ? "neither" : "both", "exactly one of them");
  solver::OptimizerOptions o = a.opt;
  if (a.h_schedule == "acceptances") o.qp_rule = solver::QpRule::per_acceptance;
  else if (a.h_schedule == "logarithmic") o.qp_rule = solver::QpRule::logarithmic;
  else if (a.h_schedule == "fixed") o.qp_rule = solver::QpRule::fixed;
  else core::throw_invalid("--h-schedule", a.h_schedule, "acceptances, logarithmic or fixed");
  if (o.algorithm == solver::Algorithm::langevin) {
    core::require_positive("--T", a.T);
    if (a.schedule == "constant") o.schedule = potentials::Schedule::constant(a.T);
    else if (a.schedule == "logarithmic") o.schedule = potentials::Schedule::logarithmic(a.T);
    else core::throw_invalid("--schedule", a.schedule, "constant or logarithmic");
  }
  std::map<std::string, std::string> attrs{{"software", "qtzflow"}, {"softwareVersion", QTZFLOW_VERSION},
                                           {"algorithm", std::string(solver::to_string(o.algorithm))}};
  std::string problem;
  std::vector<solver::RunResult> rs;
  double reference = NAN;  // f* or the optimal tour length
  const auto t0 = std::chrono::steady_clock::now();
  if (!a.tsp.empty()) {
    auto inst = io::read_tsplib(a.tsp, a.unrounded);
    const double opt = a.optimum >= 0 ? a.optimum : known_optimum(inst.name());
    if (opt > 0) inst.optimum = opt;
    reference = opt > 0 ? opt : NAN;
    const auto start = inst.nearest_neighbour_tour(0);
    problem = inst.name() + " (TSP, " + std::to_string(inst.size()) + " cities, " + std::string(potentials::to_string(inst.metric())) +
              ", nearest-neighbour start " + fixed2(inst.tour_length(start)) + ")";
    rs = solver::run_ensemble(inst, o, a.runs, start);
  } else {
    auto f = potentials::make_objective(a.objective, a.dim, parse_params(a.params));
    solver::ContinuousProblem p(*f, per_axis(a.lower, f->lower(), a.dim, "--lower"), per_axis(a.upper, f->upper(), a.dim, "--upper"));
    reference = p.f_star;
    std::string box;
    for (std::size_t i = 0; i < p.lower.size(); ++i)
      box += (i ? " x " : "") + ("[" + core::format_value(p.lower[i]) + ", " + core::format_value(p.upper[i]) + "]");
    problem = a.objective + " (d = " + std::to_string(a.dim) + ", box " + box + ")";
    rs = solver::run_ensemble(p, o, a.runs);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Summary s = summarise(rs);
  attrs["problem"] = problem;
  attrs["seed"] = std::to_string(o.seed);
  attrs["budget"] = std::to_string(o.budget);
  if (!a.output.empty()) write_results(a.output, attrs, rs);
  const std::string algo(solver::to_string(o.algorithm));
  if (a.json) {
    std::printf("{\"algorithm\": \"%s\", \"problem\": \"%s\", \"runs\": %ld, \"budget\": %ld, \"seed\": %llu, \"threads\": %d,\n",
                algo.c_str(), core::json_escape(problem).c_str(), a.runs, o.budget, static_cast<unsigned long long>(o.seed), core::thread_count());
    std::printf(" \"reference\": %s, \"mean\": %s, \"std\": %s, \"best\": %s, \"success_rate\": %s, \"mean_last_improvement\": %s,"
                " \"mean_hit_iteration\": %s, \"mean_final_h\": %s, \"wall_seconds\": %s,\n \"results\": [",
                json_number(reference).c_str(), json_number(s.mean).c_str(), json_number(s.std).c_str(), json_number(s.best).c_str(),
                json_number(s.success).c_str(), json_number(s.last_improvement).c_str(), json_number(s.hit).c_str(), json_number(s.final_h).c_str(),
                json_number(wall).c_str());
    for (std::size_t i = 0; i < rs.size(); ++i)
      std::printf("%s\n  {\"best\": %s, \"last_improvement\": %ld, \"hit_iteration\": %ld, \"iterations\": %ld, \"final_h\": %d, \"success\": %s}",
                  i ? "," : "", json_number(rs[i].best).c_str(), rs[i].last_improvement, rs[i].hit_iteration, rs[i].iterations, rs[i].final_h,
                  rs[i].success ? "true" : "false");
    std::printf("]}\n");
  } else {
    std::printf("qtzflow optimize: %s on %s\n%ld runs, budget %ld, seed %llu, %d threads; reference (optimum) %s\n\n", algo.c_str(), problem.c_str(),
                a.runs, o.budget, static_cast<unsigned long long>(o.seed), core::thread_count(),
                std::isfinite(reference) ? core::format_value(reference).c_str() : "unknown");
    std::printf("| algorithm | mean best | std | best | success | iterations to success (mean over successes) | last improvement (mean) "
                "| final h (mean) | wall (s) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    char h[32] = "-", hit[32] = "-";
    if (s.final_h >= 0) std::snprintf(h, sizeof h, "%.1f", s.final_h);
    if (std::isfinite(s.hit)) std::snprintf(hit, sizeof hit, "%.0f", s.hit);
    std::printf("| %s | %.6g | %.4g | %.6g | %.0f %% | %s | %.0f | %s | %.3f |\n", algo.c_str(), s.mean, s.std, s.best, 100 * s.success, hit,
                s.last_improvement, h, wall);
  }
  return 0;
}

}  // namespace qtzflow::apps
