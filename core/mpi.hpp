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
// counter-based stream), and the split-step solver when asked to (SplitStepOptions::distributed:
// slabs of axis 0, FFTW's MPI transforms in grids/distributed_fft.hpp), which `qtzflow run` uses
// for [schrodinger] runs, the Fokker-Planck solver likewise (FokkerPlanckOptions::distributed:
// slabs, axis-0 lines through grids::DistributedTranspose), and particle ensembles
// (ParticleOptions::distributed: blocks of particles, bit-identical to one rank); rank 0 gathers
// and writes, on_root shares its failures.  1D grids, `spectrum` and `verify` run on one rank and
// are refused on more (exit 2) rather than repeating the work P times.
// Collective calls (allreduce_*, allgather, fetch_rows) must be reached by every rank in the same
// order: they are called from code paths all ranks follow.
#pragma once

#include <exception>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

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
/// Element-wise Σ over ranks, in place.
void allreduce_sum(std::span<double> v);
/// Largest and smallest value over ranks.
double allreduce_max(double v);
double allreduce_min(double v);
/// Rows of an array distributed by rows (rank r holds rows [first_r, first_r + count_r), each
/// `row_size` doubles, in `local`): returns the rows `wanted` (global indices, any rank's, in
/// that order) in `out` (wanted.size() × row_size values).  Collective; the halo exchange of
/// stencils along the distributed axis.  Its message buffers are allocated per call.
void fetch_rows(std::span<const double> local, std::size_t row_size, long first, std::span<const long> wanted, std::span<double> out);
/// Every rank's values, concatenated in rank order, on every rank.
std::vector<double> allgather(std::span<const double> local);
/// Every rank's values, concatenated in rank order, on rank 0 (empty elsewhere): a field
/// distributed in rank-ordered blocks of rows, gathered whole for writing.
std::vector<double> gather_to_root(std::span<const double> local);
/// Rank 0's value on every rank (the vector/string is resized to rank 0's size).
void broadcast(std::vector<double>& v);
void broadcast(std::string& s);
void broadcast(long& v);

/// Runs `body` on rank 0 only (file output, a restart's checks) and tells every rank how it
/// went: an exception on rank 0 is rethrown there unchanged and on every other rank as the same
/// kind (InvalidArgument with its key and text, NumericalError, else Error), so all ranks leave
/// together instead of waiting for rank 0 in the next collective call.  Collective.
template <class F>
void on_root(F&& body) {
  if (!active()) {
    body();
    return;
  }
  long kind = 0;  // 0 ok, 1 InvalidArgument, 2 NumericalError, 3 anything else
  std::string key, text;
  std::exception_ptr failure;
  if (rank() == 0) {
    try {
      body();
    } catch (const InvalidArgument& e) {
      kind = 1, key = e.key(), text = e.what(), failure = std::current_exception();
    } catch (const NumericalError& e) {
      kind = 2, text = e.what(), failure = std::current_exception();
    } catch (const std::exception& e) {
      kind = 3, text = e.what(), failure = std::current_exception();
    }
  }
  broadcast(kind);
  if (kind == 0) return;
  broadcast(key);
  broadcast(text);
  if (failure) std::rethrow_exception(failure);
  if (kind == 1) throw InvalidArgument(key, text.substr(text.rfind(key + ": ", 0) == 0 ? key.size() + 2 : 0));
  if (kind == 2) throw NumericalError(text);
  throw Error(text);
}
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
