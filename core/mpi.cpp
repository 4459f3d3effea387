#include "core/mpi.hpp"

#include <algorithm>
#include <cstdlib>

#include "core/version.hpp"
#if QTZFLOW_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: the deprecated C++ bindings need their own library
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace qtzflow::core::mpi {

namespace {
bool g_active = false;
int g_rank = 0, g_size = 1;
}  // namespace

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

bool built_with_mpi() { return QTZFLOW_HAVE_MPI != 0; }

Session::Session([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if QTZFLOW_HAVE_MPI
  if (!launched_by_mpirun()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // OpenMP threads never call MPI
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_active = true;
#endif
}

Session::~Session() {
#if QTZFLOW_HAVE_MPI
  if (g_active) MPI_Finalize();
  g_active = false;
#endif
}

bool active() { return g_active && g_size > 1; }
int rank() { return g_rank; }
int size() { return g_size; }

double allreduce_sum(double v) {
#if QTZFLOW_HAVE_MPI
  if (active()) {
    double out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return out;
  }
#endif
  return v;
}

std::vector<double> allgather(std::span<const double> local) {
#if QTZFLOW_HAVE_MPI
  if (active()) {
    const int n = static_cast<int>(local.size());
    std::vector<int> counts(static_cast<std::size_t>(g_size)), offsets(static_cast<std::size_t>(g_size));
    MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    long total = 0;
    for (int r = 0; r < g_size; ++r) {
      offsets[static_cast<std::size_t>(r)] = static_cast<int>(total);
      total += counts[static_cast<std::size_t>(r)];
    }
    std::vector<double> out(static_cast<std::size_t>(total));
    MPI_Allgatherv(local.data(), n, MPI_DOUBLE, out.data(), counts.data(), offsets.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    return out;
  }
#endif
  return {local.begin(), local.end()};
}

void abort_all(int code) {
#if QTZFLOW_HAVE_MPI
  if (active()) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

Block block_of(long count, int r, int p) {
  const long base = count / p, extra = count % p;
  const long first = r * base + std::min<long>(r, extra);
  return {first, first + base + (r < extra ? 1 : 0)};
}

}  // namespace qtzflow::core::mpi
