#include "core/mpi.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>

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

void allreduce_sum(std::span<double> v) {
#if QTZFLOW_HAVE_MPI
  if (active()) MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#endif
  (void)v;
}

namespace {
double allreduce_op(double v, [[maybe_unused]] bool max) {
#if QTZFLOW_HAVE_MPI
  if (active()) {
    double out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, max ? MPI_MAX : MPI_MIN, MPI_COMM_WORLD);
    return out;
  }
#endif
  return v;
}
}  // namespace

double allreduce_max(double v) { return allreduce_op(v, true); }
double allreduce_min(double v) { return allreduce_op(v, false); }

void fetch_rows(std::span<const double> local, std::size_t row_size, long first, std::span<const long> wanted, std::span<double> out) {
  if (out.size() != wanted.size() * row_size) throw std::invalid_argument("fetch_rows: out must hold wanted.size() * row_size values");
  if (!active()) {
    for (std::size_t w = 0; w < wanted.size(); ++w)
      std::copy_n(local.data() + static_cast<std::size_t>(wanted[w] - first) * row_size, row_size, out.data() + w * row_size);
    return;
  }
#if QTZFLOW_HAVE_MPI
  // Who holds which rows: every rank's first row and row count.
  const auto p = static_cast<std::size_t>(g_size);
  const long mine[2] = {first, row_size ? static_cast<long>(local.size() / row_size) : 0};
  std::vector<long> ranges(2 * p);
  MPI_Allgather(mine, 2, MPI_LONG, ranges.data(), 2, MPI_LONG, MPI_COMM_WORLD);
  auto owner = [&](long row) {
    for (std::size_t r = 0; r < p; ++r)
      if (row >= ranges[2 * r] && row < ranges[2 * r] + ranges[2 * r + 1]) return static_cast<int>(r);
    return -1;
  };
  // Requests grouped by owner (rank order), remembering where each answer goes.
  std::vector<std::vector<long>> asked(p);
  std::vector<std::vector<std::size_t>> slot(p);
  for (std::size_t w = 0; w < wanted.size(); ++w) {
    const int r = owner(wanted[w]);
    if (r < 0) throw std::out_of_range("fetch_rows: row " + std::to_string(wanted[w]) + " is held by no rank");
    asked[static_cast<std::size_t>(r)].push_back(wanted[w]);
    slot[static_cast<std::size_t>(r)].push_back(w);
  }
  std::vector<int> send_n(p), recv_n(p), send_off(p), recv_off(p);
  for (std::size_t r = 0; r < p; ++r) send_n[r] = static_cast<int>(asked[r].size());
  MPI_Alltoall(send_n.data(), 1, MPI_INT, recv_n.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int st = 0, rt = 0;
  for (std::size_t r = 0; r < p; ++r) {
    send_off[r] = st;
    recv_off[r] = rt;
    st += send_n[r];
    rt += recv_n[r];
  }
  std::vector<long> requests(static_cast<std::size_t>(st)), served(static_cast<std::size_t>(rt));
  for (std::size_t r = 0; r < p; ++r) std::copy(asked[r].begin(), asked[r].end(), requests.begin() + send_off[r]);
  MPI_Alltoallv(requests.data(), send_n.data(), send_off.data(), MPI_LONG, served.data(), recv_n.data(), recv_off.data(), MPI_LONG, MPI_COMM_WORLD);
  // Answer with the rows asked of this rank; receive the rows this rank asked for.
  std::vector<double> reply(served.size() * row_size), answers(requests.size() * row_size);
  for (std::size_t i = 0; i < served.size(); ++i)
    std::copy_n(local.data() + static_cast<std::size_t>(served[i] - first) * row_size, row_size, reply.data() + i * row_size);
  const int rs = static_cast<int>(row_size);
  std::vector<int> rn(p), ro(p), an(p), ao(p);
  for (std::size_t r = 0; r < p; ++r) {
    rn[r] = recv_n[r] * rs;
    ro[r] = recv_off[r] * rs;
    an[r] = send_n[r] * rs;
    ao[r] = send_off[r] * rs;
  }
  MPI_Alltoallv(reply.data(), rn.data(), ro.data(), MPI_DOUBLE, answers.data(), an.data(), ao.data(), MPI_DOUBLE, MPI_COMM_WORLD);
  for (std::size_t r = 0; r < p; ++r)
    for (std::size_t i = 0; i < slot[r].size(); ++i)
      std::copy_n(answers.data() + (static_cast<std::size_t>(send_off[r]) + i) * row_size, row_size, out.data() + slot[r][i] * row_size);
#endif
}

void alltoallv(std::span<const double> send, std::span<const int> send_counts, std::span<const int> send_offsets, std::span<double> recv,
               std::span<const int> recv_counts, std::span<const int> recv_offsets) {
  if (!active()) {
    std::copy_n(send.data() + send_offsets[0], send_counts[0], recv.data() + recv_offsets[0]);
    return;
  }
#if QTZFLOW_HAVE_MPI
  MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_DOUBLE, recv.data(), recv_counts.data(), recv_offsets.data(), MPI_DOUBLE,
                MPI_COMM_WORLD);
#else
  (void)recv_counts;
#endif
}

void sendrecv(std::span<const double> send, int dest, std::span<double> recv, int source) {
  if (!active()) {
    if (dest == 0 && source == 0) std::copy_n(send.data(), std::min(send.size(), recv.size()), recv.data());
    return;
  }
#if QTZFLOW_HAVE_MPI
  MPI_Sendrecv(send.data(), dest < 0 ? 0 : static_cast<int>(send.size()), MPI_DOUBLE, dest < 0 ? MPI_PROC_NULL : dest, 31, recv.data(),
               source < 0 ? 0 : static_cast<int>(recv.size()), MPI_DOUBLE, source < 0 ? MPI_PROC_NULL : source, 31, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
#endif
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

std::vector<double> gather_to_root(std::span<const double> local) {
#if QTZFLOW_HAVE_MPI
  if (active()) {
    const int n = static_cast<int>(local.size());
    std::vector<int> counts(static_cast<std::size_t>(g_size)), offsets(static_cast<std::size_t>(g_size));
    MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);  // every rank knows the total
    long total = 0;
    for (int r = 0; r < g_size; ++r) {
      offsets[static_cast<std::size_t>(r)] = static_cast<int>(total);
      total += counts[static_cast<std::size_t>(r)];
    }
    if (total > std::numeric_limits<int>::max())
      throw Error("gathering " + std::to_string(total) + " values on rank 0 exceeds MPI's int counts (2^31 - 1 values, 16 GiB of doubles)");
    std::vector<double> out(g_rank == 0 ? static_cast<std::size_t>(total) : 0);
    MPI_Gatherv(local.data(), n, MPI_DOUBLE, out.data(), counts.data(), offsets.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return out;
  }
#endif
  return {local.begin(), local.end()};
}

void broadcast(long& v, [[maybe_unused]] int root) {
#if QTZFLOW_HAVE_MPI
  if (active()) MPI_Bcast(&v, 1, MPI_LONG, root, MPI_COMM_WORLD);
#endif
  (void)v;
}

void broadcast(std::vector<double>& v) {
  long n = static_cast<long>(v.size());
  broadcast(n);
  v.resize(static_cast<std::size_t>(n));
#if QTZFLOW_HAVE_MPI
  if (active() && n > 0) MPI_Bcast(v.data(), static_cast<int>(n), MPI_DOUBLE, 0, MPI_COMM_WORLD);
#endif
}

void broadcast(std::string& s, [[maybe_unused]] int root) {
  long n = static_cast<long>(s.size());
  broadcast(n, root);
  s.resize(static_cast<std::size_t>(n));
#if QTZFLOW_HAVE_MPI
  if (active() && n > 0) MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, root, MPI_COMM_WORLD);
#endif
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
