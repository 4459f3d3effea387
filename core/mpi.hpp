// qtzflow/core/mpi.hpp — the one place that knows about MPI (issue 17: the same binary on one
// core or on many nodes).
//
// A process takes part in MPI only when a launcher started it (mpirun/mpiexec of Open MPI, or
// srun/PMI: the launcher's environment variables are present) and qtzflow was built with MPI
// (QTZFLOW_HAVE_MPI).  Any other process is rank 0 of 1 and never calls MPI: no singleton
// start-up (Open MPI's forks a daemon), no MPI cost for the ordinary run.
//
// What is distributed today: optimizer studies (runs divided in contiguous blocks, results
// gathered in run order, bit-identical to one rank since every run draws from its own
// counter-based stream).  Engines (`qtzflow run`, `spectrum`, `verify`) run on one rank; the
// CLI refuses them on more (exit 2) rather than repeating the work P times.
// Reductions: allreduce_sum and allgather are the only collective calls; every rank must reach
// them in the same order (they are called from code paths all ranks follow).
#pragma once

#include <span>
#include <string>
#include <vector>

namespace qtzflow::core::mpi {

/// Starts MPI for the lifetime of the object when a launcher started the process (see above);
/// finalises it at the end.  Construct one, first thing in main.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

/// Whether this process is one of several MPI ranks (size() > 1).
bool active();
int rank();
int size();
/// Whether qtzflow was built with MPI (a launcher's environment without it: one rank each).
bool built_with_mpi();
/// Whether a launcher's environment variables are present (mpirun, srun), built with MPI or not.
bool launched_by_mpirun();

/// Σ over ranks (the value itself on one rank).
double allreduce_sum(double v);
/// Every rank's values, concatenated in rank order, on every rank.
std::vector<double> allgather(std::span<const double> local);
/// Ends every rank with `code` (MPI_Abort under MPI, std::exit otherwise): when one rank fails
/// alone, the others must not wait forever in a collective call.
[[noreturn]] void abort_all(int code);

/// The block [first, last) of `count` items that rank `r` of `p` takes: contiguous, in order,
/// sizes differing by at most one.
struct Block {
  long first = 0, last = 0;
};
Block block_of(long count, int r, int p);

}  // namespace qtzflow::core::mpi
