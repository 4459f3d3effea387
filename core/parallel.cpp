#include "core/parallel.hpp"

#include <omp.h>

#include "core/error.hpp"

namespace qtzflow::core {

namespace {
int& configured_threads() {
  static int n = omp_get_max_threads();
  return n;
}
}  // namespace

int thread_count() { return configured_threads(); }

void set_thread_count(int n) {
  require_at_least("threads", n, 1);
  configured_threads() = n;
  omp_set_num_threads(n);
}

}  // namespace qtzflow::core
