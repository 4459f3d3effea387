// Iterated local search on the shipped TSPLIB instances (issue #28): quality and throughput of
// the neighbour-list 2-opt + Or-opt search with double-bridge kicks (particles/tsp_search.hpp),
// and the time to build the K = 10 candidate lists.  Per instance: 10 seeds (1 … 10), each from
// a random tour drawn from its seed, budgets in evaluated deltas; one thread.
// Output: a Markdown table for BENCHMARKS.md.
// Usage: bench_tsp_search [--budget B] [INSTANCE …]   (default 10^6; eil51 berlin52 st70 ch130)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "io/tsplib.hpp"
#include "particles/tsp_search.hpp"

using namespace qtzflow;


int main(int argc, char** argv) {
  long budget = 1000000;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
      budget = std::atol(argv[++i]);
    else
      names.emplace_back(argv[i]);
  }
  if (names.empty()) names = {"eil51", "berlin52", "st70", "ch130"};
  const auto known = io::read_tsp_optima(QTZFLOW_DATA_DIR "/tsplib/optima.txt");
  std::printf("Command (%s, %s, one thread): `./build/bench/bench_tsp_search --budget %ld", bench::utc_now().c_str(), bench::cpu_model().c_str(),
              budget);
  for (const auto& n : names) std::printf(" %s", n.c_str());
  std::printf("`\n\n| instance | n | lists (ms) | budget (deltas) | mean gap | optimum hits | deltas to first hit (max) | deltas/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& name : names) {
    const auto t = io::read_tsplib(std::string(QTZFLOW_DATA_DIR "/tsplib/") + name + ".tsp");
    const double opt = known.count(name) ? known.at(name) : 0;
    const auto t0 = std::chrono::steady_clock::now();
    const auto lists = potentials::nearest_neighbours(t, 10);
    const double list_ms = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3;
    double sum = 0, seconds = 0;
    long deltas = 0, worst_hit = 0;
    int hits = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      core::RandomStream rng(seed, 0);
      const auto start = particles::random_tour(t.size(), rng);
      const auto s0 = std::chrono::steady_clock::now();
      const auto r = particles::iterated_local_search(t, lists, start, budget, rng, opt);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
      sum += r.best;
      deltas += r.deltas;
      if (r.hit >= 0) {
        ++hits;
        worst_hit = std::max(worst_hit, r.hit);
      }
    }
    std::printf("| %s | %zu | %.2f | %ld | %.3f %% | %d/10 | %s | %.3g |\n", name.c_str(), t.size(), list_ms, budget, 100 * (sum / 10 / opt - 1), hits,
                hits ? std::to_string(worst_hit).c_str() : "-", static_cast<double>(deltas) / seconds);
  }
  return 0;
}
