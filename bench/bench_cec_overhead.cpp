// How much of a QTZ run on the CEC2014 suite is the fitness function itself (issue #27: ≥ 80 %).
//
// For each function, in one process and side by side: (a) a bare loop of qtzflow's cec2014 fitness
// calls (potentials/cec2014_functions, bit-identical to pagmo's) on uniform points of the box
// (what QTZ's blind proposals evaluate), (a') the same loop of pagmo::cec2014 fitness calls, (b)
// qtzflow's qtz runs of the same number of evaluations through particles::run_once (proposals,
// the quantizer, the objective wrapper), and (c) the same runs through the study's counting
// wrapper (scenario::run_cell, one run per call).  fitness share = (a) / (b) and (a) / (c);
// speed-up of the evaluation = (a') / (a).
// Output: a Markdown table for BENCHMARKS.md.  Usage: bench_cec_overhead [--samples N]
#include <pagmo/problems/cec2014.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/bench_common.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "particles/optimizers.hpp"
#include "potentials/objective.hpp"
#include "scenario/study.hpp"

using namespace qtzflow;

int main(int argc, char** argv) {
  int samples = 5;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--samples") == 0 && i + 1 < argc) samples = std::atoi(argv[++i]);
  core::set_thread_count(1);
  const int d = 10;
  const long evals = 100000;  // one CEC run at D = 10
  std::printf("Command (%s, %s, one thread): `./build/bench/bench_cec_overhead --samples %d`\n\n", bench::utc_now().c_str(),
              bench::cpu_model().c_str(), samples);
  std::printf(
      "| cec2014 f | pagmo fitness (µs/call) | qtzflow fitness (µs/call) | speed-up | qtz run (µs/evaluation) | fitness share | study run "
      "(µs/evaluation) | fitness share |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  double sum_pagmo = 0, sum_bare = 0, sum_run = 0, sum_study = 0;
  for (int f : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}) {
    pagmo::cec2014 prob(static_cast<unsigned>(f), d);
    core::RandomStream rng(1, static_cast<std::uint64_t>(f));
    std::vector<double> x(d);
    double sink = 0;
    const auto obj = potentials::make_objective("cec2014:" + std::to_string(f), d);
    const particles::ContinuousProblem p(*obj);
    particles::OptimizerOptions o;
    o.algorithm = particles::QtzOptions{};
    o.budget = evals - 1;
    std::uint64_t run = 0;
    scenario::StudyConfig c;
    c.functions = {f};
    c.algorithms = {"qtz"};
    c.runs = 1;
    c.budget_per_dimension = evals / d;
    c.restarts = false;
    // the three side by side, sample after sample, so that a busy machine slows all of them alike
    std::vector<double> tp, tb, tq, ts;
    for (int s = 0; s < samples; ++s) {
      tp.push_back(bench::median_seconds(1, 1, [&] {
        for (long i = 0; i < evals; ++i) {
          for (auto& v : x) v = rng.uniform(-100, 100);
          sink += prob.fitness(x)[0];
        }
      }));
      tb.push_back(bench::median_seconds(1, 1, [&] {
        for (long i = 0; i < evals; ++i) {
          for (auto& v : x) v = rng.uniform(-100, 100);
          sink += obj->value(x);
        }
      }));
      tq.push_back(bench::median_seconds(1, 1, [&] { sink += particles::run_once(p, o, run++).best; }));
      ts.push_back(bench::median_seconds(1, 1, [&] { sink += scenario::run_cell(c, f, d, "qtz").runs[0].final_error; }));
    }
    const auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double pagmo_call = median(tp) / static_cast<double>(evals);
    const double bare = median(tb) / static_cast<double>(evals), qtz = median(tq) / static_cast<double>(evals),
                 study = median(ts) / static_cast<double>(evals);
    sum_pagmo += pagmo_call;
    sum_bare += bare;
    sum_run += qtz;
    sum_study += study;
    std::printf("| %d | %.3f | %.3f | %.2f | %.3f | %.0f %% | %.3f | %.0f %% |\n", f, pagmo_call * 1e6, bare * 1e6, pagmo_call / bare,
                qtz * 1e6, 100 * bare / qtz, study * 1e6, 100 * bare / study);
    if (sink == 42) std::printf(" ");
  }
  std::printf("| all 30 | %.3f | %.3f | %.2f | %.3f | %.0f %% | %.3f | %.0f %% |\n", sum_pagmo / 30 * 1e6, sum_bare / 30 * 1e6,
              sum_pagmo / sum_bare, sum_run / 30 * 1e6, 100 * sum_bare / sum_run, sum_study / 30 * 1e6, 100 * sum_bare / sum_study);
  return 0;
}
