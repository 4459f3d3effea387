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
// (ParticleOptions::distributed: blocks of particles, bit-identical to one rank); all ranks write
// their rows of the output together (io/snapshot.hpp, parallel HDF5), on_root and on_every_rank
// share failures.  1D grids, `spectrum` and `verify` run on one rank and
// are refused on more (exit 2) rather than repeating the work P times.
// Collective calls (allreduce_*, allgather, fetch_rows) must be reached by every rank in the same
// order: they are called from code paths all ranks follow.
#pragma once

#include <exception>
#include <optional>
#include <span>
#include <string>
#include <utility>
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
/// Personalised all-to-all of doubles: this rank sends send[send_offsets[q], + send_counts[q]) to
/// rank q and receives rank p's values into recv[recv_offsets[p], + recv_counts[p]).  Collective;
/// allocates nothing (the exchanges of a time step).  One rank: copies its own block.
void alltoallv(std::span<const double> send, std::span<const int> send_counts, std::span<const int> send_offsets, std::span<double> recv,
               std::span<const int> recv_counts, std::span<const int> recv_offsets);
/// Sends `send` to rank `dest` while receiving `recv` from rank `source` (MPI_Sendrecv; either may
/// be −1: nothing).  A rank may name itself.  Allocates nothing.
void sendrecv(std::span<const double> send, int dest, std::span<double> recv, int source);
/// Every rank's values, concatenated in rank order, on every rank.
std::vector<double> allgather(std::span<const double> local);
/// Every rank's values, concatenated in rank order, on rank 0 (empty elsewhere): a field
/// distributed in rank-ordered blocks of rows, gathered whole (bench/bench_mpi_output compares
/// this with the collective write the output uses).
std::vector<double> gather_to_root(std::span<const double> local);
/// The value of rank `root` on every rank (the vector/string is resized to the root's size).
void broadcast(std::vector<double>& v);
void broadcast(std::string& s, int root = 0);
void broadcast(long& v, int root = 0);

namespace detail {
/// Runs `body` where `here` is true, then tells every rank how it went: the failure of the
/// lowest failing rank is rethrown there unchanged and on every other rank as the same kind
/// (InvalidArgument with its key and text, NumericalError, else Error), so that all ranks leave
/// together (and with the same exit code) instead of waiting in the next collective call.
template <class F>
void run_and_agree(bool here, F&& body) {
  if (!active()) {
    body();
    return;
  }
  long kind = 0;  // 0 ok, 1 InvalidArgument, 2 NumericalError, 3 anything else
  std::string key, text;
  std::exception_ptr failure;
  if (here) {
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
  const int first = static_cast<int>(allreduce_min(kind != 0 ? rank() : size()));
  if (first == size()) return;
  broadcast(kind, first);
  broadcast(key, first);
  broadcast(text, first);
  if (rank() == first) std::rethrow_exception(failure);
  if (kind == 1) throw InvalidArgument(key, text.substr(text.rfind(key + ": ", 0) == 0 ? key.size() + 2 : 0));
  if (kind == 2) throw NumericalError(text);
  throw Error(text);
}
}  // namespace detail

/// Runs `body` on rank 0 only (a restart's checks, the writing of small files) and shares its
/// failure with every rank (detail::run_and_agree).  Collective.
template <class F>
void on_root(F&& body) {
  detail::run_and_agree(rank() == 0, std::forward<F>(body));
}
/// Runs `body` on every rank (a collective write, say) and shares the first failure with every
/// rank.  Collective; `body` itself must not fail on one rank inside a collective call it
/// shares with the others (they would wait there), only before or after them.
template <class F>
void on_every_rank(F&& body) {
  detail::run_and_agree(true, std::forward<F>(body));
}
/// Runs `body` on rank 0, then on every other rank, each turn sharing its failure like
/// on_every_rank: for work rank 0 must finish before the others start (it writes what they
/// then read, e.g. resuming an output).  Collective; once on one process.
template <class F>
void root_first(F&& body) {
  if (!active()) {
    body();
    return;
  }
  detail::run_and_agree(rank() == 0, body);
  detail::run_and_agree(rank() != 0, body);
}
/// The value of `make()`, run on every rank, whose first failure on any rank is rethrown on all
/// (on_every_rank): for work that may fail on one rank alone (reading a file, checking this
/// rank's values) before the ranks meet in the next collective call.  Collective.
template <class F>
auto agreed(F&& make) {
  std::optional<decltype(make())> out;
  on_every_rank([&] { out.emplace(make()); });
  return std::move(*out);
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
