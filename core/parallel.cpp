#include "core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "core/error.hpp"

namespace qtzflow::core {

namespace {
std::atomic<int>& configured_threads() {
  static std::atomic<int> n{omp_get_max_threads()};
  return n;
}
}  // namespace

int thread_count() { return configured_threads().load(std::memory_order_relaxed); }

void set_thread_count(int n) {
  // more threads than 64 per core only multiplies the spin-waiting at every barrier (and 10^5
  // threads exhaust the process's stack space): refused as bad input
  const int most = 64 * std::max(1, omp_get_num_procs());
  if (n < 1 || n > most) throw_invalid("threads", std::to_string(n), "in [1, " + std::to_string(most) + "] (64 per core)");
  configured_threads().store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);
}

}  // namespace qtzflow::core
