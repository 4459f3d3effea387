#include "core/parallel.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "core/mpi.hpp"

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

bool wait_policy_unset() { return std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr; }

namespace {
// set beside kWaitPolicyVariable, so that a report can tell qtzflow's choice from the user's
constexpr const char* kChosenMarker = "QTZFLOW_WAIT_POLICY_CHOSEN";
}  // namespace

void choose_wait_policy(char** argv) {
  // Under mpirun or srun the ranks keep libgomp's default: a cluster job owns its cores, and a
  // re-executed rank no longer receives the SIGTERM that Open MPI's mpirun forwards (measured:
  // tests/mpi/check_mpi.sh's stop test then ends without a final snapshot).
  if (!wait_policy_unset() || argv == nullptr || argv[0] == nullptr || mpi::launched_by_mpirun()) return;
  // set before the exec: the new image's libgomp reads it; should the exec fail, the variables
  // are harmless (this process's libgomp read its environment when it was loaded)
  if (setenv(kWaitPolicyVariable, kWaitPolicy, 0) != 0 || setenv(kChosenMarker, "1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv(kWaitPolicyVariable);  // not in effect here: say so in wait_policy_description
  unsetenv(kChosenMarker);
}

std::string wait_policy_description() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  if (policy != nullptr && std::getenv(kChosenMarker) != nullptr) return std::string("OMP_WAIT_POLICY=") + policy + " (qtzflow's choice)";
  std::string out;
  if (policy != nullptr) out += std::string("OMP_WAIT_POLICY=") + policy;
  if (spin != nullptr) out += (out.empty() ? "" : " ") + std::string("GOMP_SPINCOUNT=") + spin;
  return out.empty() ? "libgomp's default (spin, then sleep)" : out + " (from the environment)";
}

}  // namespace qtzflow::core
