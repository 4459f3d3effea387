// qtzflow/scenario/optimize.hpp — an optimizer study: R independent runs of one algorithm on a
// built-in objective or a TSPLIB instance, summarised (mean, std, best, success rate, iterations
// to success and to the last improvement, final h) and stored per run in HDF5.
//
// A seed fixes every number for any thread count (particles/optimizers.hpp).  TSP instances
// start from the nearest-neighbour tour of city 1 (the QTZ authors' start); the known optima of
// the 15 TSPLIB instances in data/tsplib and of those Debian ships (dantzig42, gr120, ulysses16,
// ulysses22) are built in (io::tsplib_known_optimum), for instances read with TSPLIB's rounding.
// Output file (atomically replaced): root attributes software, softwareVersion, algorithm,
// problem, seed, budget; /optimize/{best, last_improvement, hit_iteration, iterations, final_h,
// success, restarts} per run and best_x (runs × width, NaN-padded).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "particles/optimizers.hpp"
#include "potentials/objective.hpp"

namespace qtzflow::scenario {

struct OptimizeRequest {
  // the problem: a built-in objective (name, dim, params, box; empty box = its domain) or a TSP file
  std::string objective;
  std::string expression;                   ///< or a formula (potentials/expression.hpp) on the box [lower, upper]
  std::vector<std::vector<double>> minima;  ///< the formula's known minima (the lowest sets the success threshold)
  int dim = 1;
  potentials::Params params;
  std::vector<double> lower, upper;  ///< 1 value (every axis) or one per axis
  std::string tsp;
  bool unrounded = false;  ///< EUC_2D read unrounded (the QTZ authors' convention)
  double optimum = -1;     ///< TSP: known optimal length (< 0: built-in table or none)
  // the study
  particles::OptimizerOptions options;
  long runs = 30;
  /// Where optimize() writes the per-run results at the end (write_optimize_results, rank 0), or
  /// empty; checked and claimed (core::OutputLock) before the runs.
  std::string output;
};

struct OptimizeSummary {
  double mean = 0, std = 0, best = 0, success_rate = 0, mean_last_improvement = 0, mean_final_h = 0;
  double mean_iterations = 0;  ///< candidates actually evaluated per run
  long stopped_by_budget = 0, stopped_by_h_limit = 0, stopped_by_sa_rule = 0, stopped_by_convergence = 0;
  double mean_restarts = 0;  ///< starts after the first, per run (OptimizerOptions::restarts)
  long never_improved = 0;        ///< runs whose best stayed their start
  double mean_hit_iteration = 0;  ///< over the successful runs; NaN without any
};

struct OptimizeReport {
  std::string algorithm;  ///< its name (qtz, sa, …)
  std::string problem;    ///< a one-line description
  double reference = 0;   ///< f* or the optimal tour length; NaN if unknown
  long runs = 0;
  long budget = 0;
  std::uint64_t seed = 0;
  std::vector<particles::OptionValue> options;  ///< every setting the algorithm used (particles::option_values)
  std::vector<particles::RunResult> results;    ///< in run order
  OptimizeSummary summary;
  double wall_seconds = 0;
  std::vector<std::string> warnings;  ///< what a user must know before trusting the numbers (the CLI prints them to stderr)
  /// "stopped by": the reasons with their run counts, e.g. "h = 1023: 30".
  std::string stop_reasons() const;
  /// mean best − reference (TSP: relative to the optimum); NaN without a reference.
  double gap() const;
  bool tsp = false;
};

/// Runs the study.  Bad requests (unknown objective or algorithm, malformed TSP file with its
/// line, impossible parameters) throw core::InvalidArgument naming the field.
OptimizeReport optimize(const OptimizeRequest& request);
/// What a user must know before trusting a study's numbers (from algorithm, budget, runs,
/// results, summary and tsp): an unused budget, QIA on a TSP instance being SA, runs that never
/// improved.  The CLI prints them, optimize -o stores them, Python warns with them.
std::vector<std::string> study_warnings(const OptimizeReport& report);
/// Summary statistics of runs (std with the n − 1 denominator).
OptimizeSummary summarise(const std::vector<particles::RunResult>& results);
/// Writes the per-run results (layout above).
void write_optimize_results(const std::string& path, const OptimizeReport& report);
/// The report as JSON (one object; "results" lists every run) and as a Markdown table.
std::string optimize_json(const OptimizeReport& report, int threads);
std::string optimize_table(const OptimizeReport& report, int threads);

}  // namespace qtzflow::scenario
