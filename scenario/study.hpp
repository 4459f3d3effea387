// qtzflow/scenario/study.hpp — a benchmark study the way the field judges optimizers: every
// algorithm on every function of a CEC suite, R independent runs each, one budget rule.
//
// Protocol (the CEC competitions'): budget B = budget_per_dimension·D fitness evaluations per
// run (10^4·D); the error e = f_best − f* is recorded when the run's evaluation count reaches
// each fraction of B (0.01, 0.02, 0.03, 0.05, 0.1, 0.2, …, 1.0), and at every improvement that
// crosses one of the levels 10^(k/5) (5 per decade, COCO's target grid; what empirical run-time
// distributions need: the first evaluation at which e ≤ 10^(k/5) is exact for every k).  Every evaluation is
// counted by a wrapper around the objective (an algorithm cannot be charged less than it
// calls); qtzflow's algorithms run B − 1 candidates after their start, pagmo's are stopped at
// the call that would exceed B, and restarts (particles/optimizers.hpp) are on by default.
// Seeds: cell (function, D, algorithm) has seed = mix(study seed, suite, function, D, algorithm
// name), and run r draws from stream (cell seed, r), so
//   qtzflow optimize --objective SUITE:F --dim D --algorithm A --seed CELL_SEED
//                    --budget B−1 --restarts --runs R
// gives the same runs (the report lists each cell's seed), any subset reruns bit-identically,
// and the results do not depend on thread or rank counts.
// Resuming: every finished cell is appended to OUTPUT.partial (length- and checksum-framed
// records, synced) before the next starts; a rerun of the same study reads it, checks that it
// was written by the same study (its text, budget, runs), and runs only the missing cells.  A
// record cut by a kill is ignored.  At the end OUTPUT (HDF5) and OUTPUT minus .h5 plus .json
// are written atomically and the partial file is removed.
//
// TSPLIB ladder (suite = "tsplib"): every algorithm on every instance (NAME.tsp in the study's
// `data` folder, its proven optimum from io::tsplib_known_optimum) at every budget of `budgets`
// (move deltas per run: the candidates an acceptance loop evaluates, the moves iterated local
// search tries), R runs each from the nearest-neighbour tour of city 1.  The error is the relative
// gap e = (L_best − L_opt)/L_opt, recorded at the fractions of the budget and at each improvement
// that crosses a level 10^(k/5) (so the first move count at which e ≤ 1 % or 0.1 % is exact), the
// start's gap at 0 moves.  Cell (instance, budget, algorithm) has seed = mix(study seed, "tsplib",
// instance name, budget, algorithm name), and
//   qtzflow optimize --tsp DATA/NAME.tsp --algorithm A --seed CELL_SEED --budget B --runs R
// gives the same runs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "particles/optimizers.hpp"

namespace qtzflow::scenario {

/// A study file's [study] table, with its defaults.
struct StudyConfig {
  std::string suite = "cec2014";
  std::vector<int> functions;           ///< empty: all of the suite's
  std::vector<int> dimensions = {10};
  std::vector<std::string> algorithms;  ///< empty: default_study_algorithms()
  long runs = 51;
  long budget_per_dimension = 10000;
  std::uint64_t seed = 1;
  bool restarts = true;
  std::vector<double> fractions = {0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  // suite "tsplib" (functions, dimensions, budget_per_dimension and restarts are CEC keys)
  std::vector<std::string> instances;  ///< TSPLIB names: files NAME.tsp in `data`
  std::vector<long> budgets;           ///< move deltas per run, one cell per budget
  std::string data;                    ///< the instances' folder (a study file's relative path is from the file's folder)
  std::string text;  ///< the study file's text (stored; a resumed study must have the same)
  bool is_tsp() const { return suite == "tsplib"; }
  /// Refuses what cannot run: an unknown algorithm, suite, function, dimension or instance (or
  /// one without a known optimum), runs or budget < 1, fractions not increasing in (0, 1] or
  /// not ending at 1 (keys study.*).
  void check() const;
};

/// One problem of a study: a CEC function in a dimension, or a TSPLIB instance at a budget.
struct StudyProblem {
  int function = 0;   ///< CEC: the function's number; tsplib: the instance's place in `instances` (from 1)
  int dimension = 0;  ///< CEC: D; tsplib: the instance's number of cities
  long budget = 0;    ///< evaluations (CEC: budget_per_dimension·D) or move deltas (tsplib) per run
  std::string name;   ///< the output's group: "f4_d10", or "eil51_b100000"
  std::string instance;  ///< tsplib: the instance's name
  double optimum = 0;    ///< tsplib: its proven optimal length
};
/// The study's problems in the order they run (CEC: by dimension, then function; tsplib: by
/// budget, then instance, so that a study stopped early holds every instance at small budgets).
std::vector<StudyProblem> study_problems(const StudyConfig& c);

/// qtz, qtz-dither, sa, pagmo-sa, cmaes, de1220, sade, xnes, pso (those this build has); for
/// suite "tsplib": qtz, qtz-dither, sa, qtz-nl, qtz-dither-nl, sa-nl, ils.
std::vector<std::string> default_study_algorithms();
std::vector<std::string> default_tsp_study_algorithms();

/// Reads a study file: one [study] table (keys as StudyConfig's fields: suite, functions,
/// dimensions, algorithms, runs, budget_per_dimension, seed, restarts, fractions; tsplib:
/// instances, budgets, data instead of functions, dimensions, budget_per_dimension); unknown keys
/// and values out of range are refused naming the key (InvalidArgument).
StudyConfig load_study(const std::string& path);
StudyConfig parse_study(const std::string& text, const std::string& origin);

/// One run of a cell.
struct StudyRun {
  double final_error = 0;                       ///< f_best − f* after the run
  long evaluations = 0;                         ///< fitness calls made (≤ budget)
  long restarts = 0;
  int stop = 0;                                 ///< particles::StopReason of the last start
  std::vector<double> errors_at_fractions;      ///< one per StudyConfig::fractions
  std::vector<double> trace_evaluations, trace_errors;  ///< level-crossing improvements
};

/// One (problem, algorithm) cell: its runs in run order.
struct StudyCell {
  int function = 0, dimension = 0;  ///< StudyProblem's
  long budget = 0;
  std::string algorithm;
  std::uint64_t seed = 0;
  double wall_seconds = 0;  ///< summed over runs (threads and ranks add up)
  std::vector<StudyRun> runs;
};

/// The seed of a cell (documented above).
std::uint64_t cell_seed(const StudyConfig& c, int function, int dimension, const std::string& algorithm);
std::uint64_t cell_seed(const StudyConfig& c, const StudyProblem& problem, const std::string& algorithm);

/// Runs one cell (all ranks; results identical for any thread or rank count).
StudyCell run_cell(const StudyConfig& c, int function, int dimension, const std::string& algorithm);
StudyCell run_cell(const StudyConfig& c, const StudyProblem& problem, const std::string& algorithm);

/// Progress after each cell: cells done (of all), evaluations per second, seconds left (an
/// estimate from the cells done in this session).
struct StudyProgress {
  long cells_done = 0, cells_total = 0, cells_resumed = 0;
  long runs_per_cell = 0;  ///< runs done = cells_done · runs_per_cell
  double evaluations_per_second = 0, seconds_left = 0;
  std::string last_cell;
};

/// Runs (or resumes) the study and writes OUTPUT and its JSON summary; `progress` is called on
/// rank 0 after each cell.  Bad configurations, an output that may not be replaced, or a partial
/// file of another study throw InvalidArgument before any run.
std::vector<StudyCell> run_study(const StudyConfig& c, const std::string& output, const std::function<void(const StudyProgress&)>& progress = {});

/// The JSON summary's path for an output path: "x.h5" → "x.json".
std::string study_json_path(const std::string& output);

}  // namespace qtzflow::scenario
