// qtzflow/core/parallel.hpp — the one place where threading is configured, and the one place
// every global reduction goes through.
//
// Threads: qtzflow uses OpenMP for its own loops and FFTW's OpenMP threads for transforms; both
// follow `thread_count()`, set once by `set_thread_count` (default: OMP_NUM_THREADS or the
// number of cores).  FFT plans read the count when they are made.
//
// Reductions: every sum over a field (norm, mass, energy, histogram totals) ends in
// `global_sum`, so that a later distributed-memory build only has to change this file.
// Loops that reduce use `parallel_sum(s)`, whose result does not depend on the thread count
// (fixed chunking, then a serial sum of the chunk results), keeping runs bit-reproducible.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace qtzflow::core {

/// Number of threads qtzflow's loops and FFT plans use.
int thread_count();
/// Sets the thread count (n >= 1) for OpenMP loops and for FFT plans made afterwards.
void set_thread_count(int n);

/// Loops shorter than this run serially: below it thread start-up costs more than it saves.
inline constexpr std::ptrdiff_t kParallelThreshold = 1 << 14;

/// Sum of a locally computed value over all processes (identity while the grid is not split).
inline double global_sum(double local) { return local; }

/// K sums at once, deterministically: f(i, acc) adds the contributions of index i to acc[0..K).
/// The range [0, n) is cut into fixed chunks (independent of the thread count), each chunk is
/// summed serially and the chunk sums are added in order, so the result is bit-identical for any
/// number of threads.  Ends in global_sum.
template <std::size_t K, class F>
std::array<double, K> parallel_sums(std::ptrdiff_t n, F&& f) {
  constexpr std::ptrdiff_t chunk = 4096;
  const std::ptrdiff_t nchunks = (n + chunk - 1) / chunk;
  std::array<double, K> total{};
  if (nchunks <= 1) {
    for (std::ptrdiff_t i = 0; i < n; ++i) f(i, total);
  } else {
    std::vector<std::array<double, K>> partial(static_cast<std::size_t>(nchunks));
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
    for (std::ptrdiff_t c = 0; c < nchunks; ++c) {
      const std::ptrdiff_t lo = c * chunk, hi = (lo + chunk < n) ? lo + chunk : n;
      std::array<double, K> acc{};
      for (std::ptrdiff_t i = lo; i < hi; ++i) f(i, acc);
      partial[static_cast<std::size_t>(c)] = acc;
    }
    for (const auto& p : partial)
      for (std::size_t k = 0; k < K; ++k) total[k] += p[k];
  }
  for (double& v : total) v = global_sum(v);
  return total;
}

/// Σ f(i) for i in [0, n), deterministic as parallel_sums.
template <class F>
double parallel_sum(std::ptrdiff_t n, F&& f) {
  return parallel_sums<1>(n, [&](std::ptrdiff_t i, std::array<double, 1>& acc) { acc[0] += f(i); })[0];
}

}  // namespace qtzflow::core
