// qtzflow/core/parallel.hpp — the one place where threading is configured, and the one place
// every global reduction goes through.
//
// Threads: qtzflow uses OpenMP for its own loops and FFTW's OpenMP threads for transforms; both
// follow `thread_count()`, set once by `set_thread_count` (default: OMP_NUM_THREADS or the
// number of cores).  FFT plans read the count when they are made.  Every parallel region names
// num_threads(thread_count()): OpenMP's own setting is per thread, so a thread other than the
// one that called set_thread_count (a Python thread driving a solver) would otherwise use
// OMP_NUM_THREADS, and two such threads would oversubscribe the cores with spinning teams.
//
// Reductions: loops that reduce use `parallel_sum(s)`, whose result does not depend on the
// thread count (fixed chunking, then a serial sum of the chunk results), keeping runs
// bit-reproducible.  They sum this process's values only; a sum over a distributed field is
// completed over the MPI ranks by grids::sum_over_blocks (which knows whether the field is
// distributed), never here: a whole field held by every rank must not be summed P times.
#pragma once

#include <algorithm>

#include <cmath>

#include <array>
#include <cstddef>
#include <string>

namespace qtzflow::core {

/// Number of threads qtzflow's loops and FFT plans use.
int thread_count();
/// Sets the thread count (n >= 1) for OpenMP loops and for FFT plans made afterwards.
void set_thread_count(int n);

/// How OpenMP's idle threads wait, chosen for the whole process.  libgomp lets a thread that ran
/// out of work spin about 300000 times (~0.1-1 ms) before it sleeps.  On a quiet machine that
/// saves a wake-up per parallel region; on a busy one (a laptop, a shared node: another process
/// on one core) the spinning threads take the cores from the thread that holds the work, and a
/// run with the default thread count took 4-40x longer than with one thread (BENCHMARKS.md,
/// "A busy machine").  qtzflow's processes therefore use kWaitPolicy, unless the environment
/// already says how to wait (OMP_WAIT_POLICY or GOMP_SPINCOUNT set: the user's choice stands).
/// libgomp reads these variables once, when it is loaded, before main(): `choose_wait_policy`
/// sets the variable and re-executes the program (argv) once; the Python package sets it before
/// it loads its extension (python/qtzflow/__init__.py).
inline constexpr const char* kWaitPolicyVariable = "OMP_WAIT_POLICY";
inline constexpr const char* kWaitPolicy = "passive";
/// Whether the environment leaves the wait policy to qtzflow (neither OMP_WAIT_POLICY nor
/// GOMP_SPINCOUNT set).
bool wait_policy_unset();
/// How this process's idle threads wait, for `qtzflow info`: "OMP_WAIT_POLICY=passive (qtzflow's
/// choice)", "GOMP_SPINCOUNT=300000 (from the environment)" or "libgomp's default (...)".
std::string wait_policy_description();
/// Called first in main(): when wait_policy_unset() and the process was not started by an MPI
/// launcher (whose ranks keep libgomp's default), sets kWaitPolicyVariable and re-executes
/// /proc/self/exe with `argv`.  Returns when nothing needs doing, or when the re-execution fails
/// (then libgomp's default stays; the run is correct either way, only slower on a busy machine).
void choose_wait_policy(char** argv);

/// Grid loops and FFTs of fewer points than this run on one thread: below it, the split-step and
/// Fokker-Planck steps (memory-bound) gain nothing from a second thread on a quiet machine and
/// lose 25-50 % (128², 256²: BENCHMARKS.md, "A busy machine"), and far more when another process
/// shares the cores.  2^17 points: a 512² grid is the first square one to be shared.
inline constexpr std::ptrdiff_t kParallelThreshold = 1 << 17;

/// Runs body(i) for i in [0, n): threaded above kParallelThreshold, a SIMD loop below it
/// (no parallel region is entered for short loops: its start-up would dominate).
/// Callables are copied into the loop: a closure reached through a reference may alias the
/// data the body writes, which forces the compiler to reload its captures every iteration
/// (gathers and scatters instead of vector loads).
template <class F>
inline void parallel_for(std::ptrdiff_t n, const F& f) {
  if (n >= kParallelThreshold) {
#pragma omp parallel num_threads(thread_count())
    {
      const F body = f;
#pragma omp for simd schedule(static)
      for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
    }
  } else {
    const F body = f;
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < n; ++i) body(i);
  }
}

namespace detail {
/// Fixed chunking of [0, n): at most kMaxChunks chunks of at least kMinChunk indices.  Depends on
/// n only, never on the thread count, which is what makes the sums below reproducible.
inline constexpr std::ptrdiff_t kMinChunk = 4096, kMaxChunks = 64;
inline std::ptrdiff_t chunk_size(std::ptrdiff_t n) {
  const std::ptrdiff_t c = (n + kMaxChunks - 1) / kMaxChunks;
  return c < kMinChunk ? kMinChunk : c;
}
}  // namespace detail

/// K sums at once, deterministically: f(i, acc) adds the contributions of index i to acc[0..K).
/// The range is cut into fixed chunks (detail::chunk_size), each summed serially; the chunk sums
/// are added in order, so the result is bit-identical for any number of threads.  No heap
/// allocation.
template <std::size_t K, class F>
std::array<double, K> parallel_sums(std::ptrdiff_t n, F&& f) {
  const std::ptrdiff_t chunk = detail::chunk_size(n), nchunks = (n + chunk - 1) / chunk;
  std::array<std::array<double, K>, detail::kMaxChunks> partial{};
  auto sum_chunk = [&](std::ptrdiff_t c) {
    const std::ptrdiff_t lo = c * chunk, hi = (lo + chunk < n) ? lo + chunk : n;
    std::array<double, K> acc{};
    for (std::ptrdiff_t i = lo; i < hi; ++i) f(i, acc);
    partial[static_cast<std::size_t>(c)] = acc;
  };
  if (n >= kParallelThreshold) {
#pragma omp parallel for schedule(static) num_threads(thread_count())
    for (std::ptrdiff_t c = 0; c < nchunks; ++c) sum_chunk(c);
  } else {
    for (std::ptrdiff_t c = 0; c < nchunks; ++c) sum_chunk(c);
  }
  std::array<double, K> total{};
  for (std::ptrdiff_t c = 0; c < nchunks; ++c)
    for (std::size_t k = 0; k < K; ++k) total[k] += partial[static_cast<std::size_t>(c)][k];
  return total;
}

/// Σ f(i) for i in [0, n), with the chunking of parallel_sums.  Inside a chunk the sum is a SIMD
/// reduction: its lane order is fixed by the build, so the result is still independent of the
/// thread count.  f may have side effects on index i (fused update-and-measure passes).
template <class F>
double parallel_sum(std::ptrdiff_t n, F&& f) {
  const std::ptrdiff_t chunk = detail::chunk_size(n), nchunks = (n + chunk - 1) / chunk;
  std::array<double, detail::kMaxChunks> partial{};
  auto sum_chunk = [&](std::ptrdiff_t c) {
    const std::ptrdiff_t lo = c * chunk, hi = (lo + chunk < n) ? lo + chunk : n;
    const auto term = f;  // a local copy: see parallel_for
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (std::ptrdiff_t i = lo; i < hi; ++i) s += term(i);
    partial[static_cast<std::size_t>(c)] = s;
  };
  // Short sums stay out of OpenMP entirely: entering a parallel region, even one switched off
  // by an if clause, costs microseconds.
  if (n >= kParallelThreshold) {
#pragma omp parallel for schedule(static) num_threads(thread_count())
    for (std::ptrdiff_t c = 0; c < nchunks; ++c) sum_chunk(c);
  } else {
    for (std::ptrdiff_t c = 0; c < nchunks; ++c) sum_chunk(c);
  }
  double total = 0;
  for (std::ptrdiff_t c = 0; c < nchunks; ++c) total += partial[static_cast<std::size_t>(c)];
  return total;
}

/// Steps between two looks for a stop request (a signal, Ctrl-C) in a loop whose steps each update
/// `updates_per_step` values (grid points, particle moves): about 2^22 updates, tens of
/// milliseconds, at least 1 and at most 2^20 steps.  The looks are chunk boundaries of the
/// loop, so this is a function of the problem's size alone, never of threads, ranks or time.
inline long steps_per_stop_check(double updates_per_step) {
  const double steps = std::floor(4194304.0 / std::max(updates_per_step, 1.0));
  return static_cast<long>(std::min(std::max(steps, 1.0), 1048576.0));
}

}  // namespace qtzflow::core
