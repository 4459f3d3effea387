// The TSP algorithms' throughput (issue #28): evaluated moves per second of one run on one thread
// through particles::run_once (what a study cell's run does), for the authors' QTZ and SA (random
// segment reversals), the neighbour-list QTZ, dithered QTZ and SA, and iterated local search, on
// the instances given, from the nearest-neighbour tour; the candidate lists built once outside
// the timing (run_ensemble shares them too).  Runs 0 … R−1 of seed 1; the rate counts the moves
// each run actually evaluated (the authors' QTZ and SA, and QTZ with lists, stop early).
// Also the process's peak resident memory at the end (getrusage), which holds every instance.
// Output: a Markdown table for BENCHMARKS.md.
// Usage: bench_tsp_algorithms [--budget B] [--runs R] [INSTANCE …]   (10^7, 3; ch130 pr2392)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "io/tsplib.hpp"
#include "particles/optimizers.hpp"

using namespace qtzflow;

int main(int argc, char** argv) {
  long budget = 10000000, runs = 3;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
      budget = std::atol(argv[++i]);
    else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::atol(argv[++i]);
    else
      names.emplace_back(argv[i]);
  }
  if (names.empty()) names = {"ch130", "pr2392"};
  std::printf("Command (%s, %s, one thread): `./build/bench/bench_tsp_algorithms --budget %ld --runs %ld", bench::utc_now().c_str(),
              bench::cpu_model().c_str(), budget, runs);
  for (const auto& n : names) std::printf(" %s", n.c_str());
  std::printf("`\n\n| instance | algorithm | moves per run (mean) | mean gap | moves/s |\n|---|---|---|---|---|\n");
  for (const auto& name : names) {
    auto t = io::read_tsplib(std::string(QTZFLOW_DATA_DIR "/tsplib/") + name + ".tsp");
    t.optimum = io::tsplib_known_optimum(name);
    const auto start = t.nearest_neighbour_tour(0);
    const auto lists = potentials::nearest_neighbours(t, 10);
    for (const char* a : {"qtz", "sa", "qtz-nl", "qtz-dither-nl", "sa-nl", "ils"}) {
      particles::OptimizerOptions o;
      o.algorithm = particles::algorithm_options(a, particles::AlgorithmSettings{});
      o.budget = budget;
      double seconds = 0, moves = 0, gap = 0;
      for (long r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto res = particles::run_once(t, o, static_cast<std::uint64_t>(r), start, particles::neighbour_count(o) > 0 ? &lists : nullptr);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        moves += static_cast<double>(res.iterations);
        gap += (res.best / *t.optimum - 1) / static_cast<double>(runs);
      }
      std::printf("| %s | %s | %.3g | %.3f %% | %.3g |\n", name.c_str(), a, moves / static_cast<double>(runs), 100 * gap, moves / seconds);
      std::fflush(stdout);
    }
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("\nPeak resident memory of the process: %.1f MB.\n", static_cast<double>(u.ru_maxrss) / 1024.0);
  return 0;
}
