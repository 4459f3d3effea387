// qtzflow/grids/fft_planning.hpp — FFTW planning shared by the serial (fft.hpp) and the
// distributed (distributed_fft.hpp) transforms: the planner lock, threads, rigor flags and the
// wisdom cache.  Internal to the grids library: it includes <fftw3.h>.
#pragma once

#include <fftw3.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "grids/fft.hpp"

namespace qtzflow::grids::detail {

/// FFTW's planner is not thread-safe; all planning and plan destruction hold this lock.
std::mutex& planner_mutex();
/// fftw_init_threads, once per process.
void init_fftw_threads();
/// fftw_mpi_init, once, when this process is one of several MPI ranks (else nothing).
void init_fftw_mpi_if_running();
unsigned flags_of(PlanRigor r);
/// Threads for a transform of `points` values (one below core::kParallelThreshold).
int plan_threads(std::size_t points);
/// The cache file of one transform (FFTW version, CPU model, kind, extent, threads, rigor);
/// empty when no cache is set.
std::string cache_file(const std::string& kind, const std::vector<std::size_t>& extent, int threads, unsigned flags);
/// Writes the process's wisdom to `file` atomically; a cache that cannot be written is ignored.
void write_wisdom_file(const std::string& file);
/// Makes a plan from the wisdom in the process, then the cache file, then by timing (see fft.hpp).
fftw_plan plan_with_wisdom(const std::function<fftw_plan(unsigned)>& make, unsigned flags, const std::string& file);
/// Throws core::NumericalError when FFTW could not make the plan.
void* checked(fftw_plan p, const char* what);

inline fftw_complex* as_fftw(complex* p) { return reinterpret_cast<fftw_complex*>(p); }

}  // namespace qtzflow::grids::detail
