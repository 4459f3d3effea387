// The partitioned tridiagonal solve (grids/partitioned_tridiagonal.hpp, issue 31) under mpirun on
// 1-4 ranks, against an independent serial solve: dense Gaussian elimination with partial
// pivoting of every whole line (every rank builds every line from a hash of (line, row), so the
// reference needs no communication).  Row blocks are chosen by the test, uneven and with ranks
// holding a single row, beyond what FFTW's blocks would give.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/partitioned_tridiagonal.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"

using namespace qtzflow;
namespace mpi = core::mpi;

namespace {

/// A uniform number in [0, 1) from (line, row, salt): the same on every rank.
double uniform(std::size_t line, std::size_t row, std::uint64_t salt) {
  std::uint64_t z = (static_cast<std::uint64_t>(line) * 0x9E3779B97F4A7C15ULL) ^ (static_cast<std::uint64_t>(row) * 0xBF58476D1CE4E5B9ULL) ^ salt;
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

/// Row i of line j: (a, b, c, d).  m_matrix: a, c ≤ 0, b > |a| + |c| (weakly: margin 1e-3..1),
/// d ≥ 0 with exact zeros; otherwise random signs, still diagonally dominant.
struct Row {
  double a, b, c, d;
};
Row row_of(std::size_t j, std::size_t i, bool m_matrix) {
  const double a = uniform(j, i, 1), c = uniform(j, i, 2), margin = 1e-3 + uniform(j, i, 3);
  double d = uniform(j, i, 4);
  if (m_matrix) {
    if (d < 0.2) d = 0;  // zeros where the solution must stay ≥ 0 through the elimination
    return {-a, a + c + margin, -c, d};
  }
  const double sa = uniform(j, i, 5) < 0.5 ? -1 : 1, sc = uniform(j, i, 6) < 0.5 ? -1 : 1, sb = uniform(j, i, 7) < 0.5 ? -1 : 1;
  return {sa * a, sb * (a + c + margin), sc * c, 2 * d - 1};
}

/// x of line j (n rows), by dense Gaussian elimination with partial pivoting.
std::vector<double> dense_solve(std::size_t j, std::size_t n, bool cyclic, bool m_matrix) {
  std::vector<double> A(n * n, 0.0), x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Row r = row_of(j, i, m_matrix);
    A[i * n + i] += r.b;
    if (i > 0)
      A[i * n + i - 1] += r.a;
    else if (cyclic)
      A[i * n + n - 1] += r.a;
    if (i + 1 < n)
      A[i * n + i + 1] += r.c;
    else if (cyclic)
      A[i * n] += r.c;
    x[i] = r.d;
  }
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t p = k;
    for (std::size_t i = k + 1; i < n; ++i)
      if (std::abs(A[i * n + k]) > std::abs(A[p * n + k])) p = i;
    for (std::size_t c = 0; c < n; ++c) std::swap(A[k * n + c], A[p * n + c]);
    std::swap(x[k], x[p]);
    for (std::size_t i = k + 1; i < n; ++i) {
      const double f = A[i * n + k] / A[k * n + k];
      for (std::size_t c = k; c < n; ++c) A[i * n + c] -= f * A[k * n + c];
      x[i] -= f * x[k];
    }
  }
  for (std::size_t k = n; k-- > 0;) {
    double s = x[k];
    for (std::size_t c = k + 1; c < n; ++c) s -= A[k * n + c] * x[c];
    x[k] = s / A[k * n + k];
  }
  return x;
}

/// Rows per rank: "even" (core::mpi::block_of), "first_single" (rank 0 one row, the last two,
/// the rest between), "last_single" (the last rank one row).
std::vector<std::size_t> blocks(const std::string& pattern, std::size_t n, int P) {
  std::vector<std::size_t> rows(static_cast<std::size_t>(P));
  if (P == 1) return {n};
  if (pattern == "even") {
    for (int p = 0; p < P; ++p) {
      const auto b = mpi::block_of(static_cast<long>(n), p, P);
      rows[static_cast<std::size_t>(p)] = static_cast<std::size_t>(b.last - b.first);
    }
    return rows;
  }
  const bool first_single = pattern == "first_single";
  rows[0] = first_single ? 1 : 0;
  rows[static_cast<std::size_t>(P) - 1] = first_single ? 2 : 1;
  std::size_t rest = n - rows[0] - rows[static_cast<std::size_t>(P) - 1];
  const std::size_t lo = first_single ? 1 : 0, hi = static_cast<std::size_t>(P) - 1;  // ranks [lo, hi) share the rest
  for (std::size_t p = lo; p < hi; ++p) {
    const std::size_t share = (p + 1 == hi) ? rest : std::max<std::size_t>(1, rest / (hi - p) + (p % 2));
    rows[p] = share;
    rest -= share;
  }
  rows[first_single ? static_cast<std::size_t>(P) - 1 : 0] += rest;  // two ranks: no one between
  return rows;
}

struct Measured {
  double solution = 0;     // max |x − x_ref| / max |x_ref|
  double totals = 0;       // line sums, first, last against the reference (relative)
  double min_value = 0;    // min x (M-matrices: ≥ 0 exactly)
  long extras_wrong = 0;   // lines whose extras did not sum to Σ_p (p + 1)
  long finished_wrong = 0; // lines finished on no rank or on several
};

Measured run(std::size_t n, std::size_t m, bool cyclic, bool m_matrix, const std::string& pattern) {
  const int P = mpi::size(), p = mpi::rank();
  const auto rows_of = blocks(pattern, n, P);
  std::size_t first = 0;
  for (int q = 0; q < p; ++q) first += rows_of[static_cast<std::size_t>(q)];
  const std::size_t R = rows_of[static_cast<std::size_t>(p)];
  std::vector<double> a(R * m), b(R * m), c(R * m), d(R * m), extras(m, p + 1.0);
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      const Row r = row_of(j, first + i, m_matrix);
      a[i * m + j] = r.a;
      b[i * m + j] = r.b;
      c[i * m + j] = r.c;
      d[i * m + j] = r.d;
    }
  grids::PartitionedTridiagonal solver(n, m, first, R, cyclic, 1);
  grids::PartitionedTridiagonal::Factors F;
  solver.factor(F, a.data(), b.data(), c.data());
  std::vector<double> ref(n * m);
  double scale = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const auto x = dense_solve(j, n, cyclic, m_matrix);
    for (std::size_t i = 0; i < n; ++i) {
      ref[i * m + j] = x[i];
      scale = std::max(scale, std::abs(x[i]));
    }
  }
  Measured out;
  std::vector<double> finished(m, 0.0);
  // the hook: compares the line's totals with the reference, and doubles every odd line
  solver.solve(F, d.data(), extras.data(), [&](std::size_t j, const grids::LineTotals& t) {
    double sum = 0, mag = 0, rhs = 0, rhs_mag = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sum += ref[i * m + j];
      mag += std::abs(ref[i * m + j]);
      rhs += row_of(j, i, m_matrix).d;
      rhs_mag += std::abs(row_of(j, i, m_matrix).d);
    }
    out.totals = std::max({out.totals, std::abs(t.sum - sum) / mag, std::abs(t.rhs_sum - rhs) / rhs_mag, std::abs(t.first - ref[j]) / scale, std::abs(t.last - ref[(n - 1) * m + j]) / scale});
    if (t.extras[0] != P * (P + 1) / 2.0) ++out.extras_wrong;
    finished[j] += 1;
    return j % 2 == 1 ? 2.0 : 1.0;
  });
  double diff = 0, mn = 0;
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      const double want = ref[(first + i) * m + j] * (j % 2 == 1 ? 2.0 : 1.0);
      diff = std::max(diff, std::abs(d[i * m + j] - want));
      mn = std::min(mn, d[i * m + j]);
    }
  mpi::allreduce_sum(finished);
  for (double f : finished) out.finished_wrong += f != 1.0;
  out.solution = mpi::allreduce_max(diff) / scale;
  out.totals = mpi::allreduce_max(out.totals);
  out.min_value = mpi::allreduce_min(mn);
  out.extras_wrong = static_cast<long>(mpi::allreduce_sum(static_cast<double>(out.extras_wrong)));
  return out;
}

}  // namespace

TEST_CASE("partitioned tridiagonal solve equals dense elimination of the whole line, on every row layout") {
  for (const std::string pattern : {"even", "first_single", "last_single"})
    for (const bool cyclic : {false, true})
      for (const bool m_matrix : {true, false})
        for (const std::size_t n : {std::size_t{9}, std::size_t{40}}) {
          const auto got = run(n, 37, cyclic, m_matrix, pattern);
          const std::string name = pattern + (cyclic ? ", cyclic" : "") + (m_matrix ? ", M-matrix" : ", mixed signs") + ", n = " + std::to_string(n);
          if (mpi::rank() == 0)
            std::printf("  partitioned %-44s x %.1e, totals %.1e, min x %.1e (ranks: %d)\n", name.c_str(), got.solution, got.totals, got.min_value,
                        mpi::size());
          INFO(name);
          // Rounding of two eliminations of diagonally dominant systems (margins down to 1e-3):
          // measured ≤ 2.2e-15 on 1-4 ranks (the issue asks 1e-12); a dropped interface row or a
          // wrong sign in the reduced system gives O(1).
          CHECK(got.solution <= 1e-14);
          CHECK(got.totals <= 1e-14);
          CHECK(got.extras_wrong == 0);
          CHECK(got.finished_wrong == 0);
          // An M-matrix with d ≥ 0: every operation adds non-negative terms (non-cyclic), so x ≥ 0
          // exactly, not within round-off.
          if (m_matrix && !cyclic) CHECK(got.min_value >= 0.0);
        }
}

TEST_CASE("partitioned blocks that do not tile the line are refused on every rank") {
  const int P = mpi::size(), p = mpi::rank();
  // every rank claims rows [p, p + 1) of a line of P + 1 rows: the last row is nobody's
  CHECK_THROWS_AS(grids::PartitionedTridiagonal(static_cast<std::size_t>(P) + 1, 4, static_cast<std::size_t>(p), 1, false), core::InvalidArgument);
  CHECK_THROWS_AS(grids::PartitionedTridiagonal(2, 4, 0, 2, true), core::InvalidArgument);  // cyclic needs 3 rows (P = 1) or tiles wrongly
}

namespace {
/// A 2D double well (uneven slabs on 3 and 4 ranks: 38 rows) with an off-centre Gaussian.
struct Escape2D {
  grids::Grid<2> grid;
  std::unique_ptr<potentials::Objective> f;
  potentials::Landscape<2> land;
  explicit Escape2D(grids::Boundary b)
      : grid({38, 26}, {-2.2, -2.2}, {2.2, 2.2}, b), f(potentials::make_objective("double_well", 2, {{"c", {0.3}}})), land(*f, grid) {}
  grids::Field<double, 2> gaussian() const {
    grids::Field<double, 2> rho(grid.shape());
    grids::for_each_point(grid, [&](std::size_t i, const auto& x) { rho[i] = std::exp(-2 * ((x[0] - 0.9) * (x[0] - 0.9) + (x[1] + 0.3) * (x[1] + 0.3))); });
    return rho;
  }
};
}  // namespace

TEST_CASE("partitioned Fokker-Planck: 1000 annealed 2D steps keep the mass to rounding and rho >= 0") {
  for (const auto scheme : {solver::FpScheme::backward_euler, solver::FpScheme::crank_nicolson}) {
    const Escape2D p(grids::Boundary::reflecting);
    solver::FokkerPlanckOptions opt{0.005, scheme};
    const auto cooling = potentials::Schedule::geometric(1.0, 0.9);  // T: 1 → 0.59 over the run
    solver::FokkerPlanckSolver<2> one(p.land, cooling, opt);  // this process alone, for comparison
    opt.distributed = true;  // partitioned is the default line solve
    solver::FokkerPlanckSolver<2> s(p.land, cooling, opt);
    s.set_state(p.gaussian());
    one.set_state(p.gaussian());
    const double m0 = s.mass(), m0_one = one.mass();
    double drift = 0, drift_one = 0, lowest = 0;
    for (int k = 0; k < 10; ++k) {
      s.advance(100);
      one.advance(100);
      drift = std::max(drift, std::abs(s.mass() - m0) / m0);
      drift_one = std::max(drift_one, std::abs(one.mass() - m0_one) / m0_one);
      double mn = 0;
      for (double v : s.rho()) mn = std::min(mn, v);
      lowest = std::min(lowest, mpi::allreduce_min(mn));
    }
    if (mpi::rank() == 0)
      std::printf("  partitioned FP %s, 1000 annealed steps: mass drift %.1e (one process: %.1e), min rho %.1e, T %.3f (ranks: %d)\n",
                  scheme == solver::FpScheme::backward_euler ? "BE" : "CN", drift, drift_one, lowest, s.temperature(), mpi::size());
    // Each line's mass is projected back after every solve, so the drift is a random walk of
    // rounding, ~ε per sweep: measured ≤ 1.8e-14 after 1000 steps (2000-3000 sweeps) on 2-4
    // ranks, as the one-rank engine's own (1.3e-14, printed beside it).  The 1e-14 is
    // this rounding floor; the tolerance is ~3× the measured value.
    CHECK(drift <= 5e-14);
    // Backward Euler: an M-matrix solve adds non-negative terms only, so rho stays >= 0 exactly.
    // CN at dt below its positivity limit (checked by the solver): the explicit half is a
    // non-negative matrix, so the same holds.
    CHECK(lowest >= 0.0);
  }
}

TEST_CASE("partitioned Fokker-Planck: the Gibbs state is stationary, reflecting and periodic") {
  for (const auto boundary : {grids::Boundary::reflecting, grids::Boundary::periodic}) {
    const Escape2D p(boundary);
    solver::FokkerPlanckOptions opt{0.05, solver::FpScheme::backward_euler};
    opt.distributed = true;
    solver::FokkerPlanckSolver<2> s(p.land, potentials::Schedule::constant(0.4), opt);
    const auto pi = s.gibbs(0.4);  // this rank's rows
    s.set_state(pi);
    s.advance(200);
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < pi.size(); ++i) {
      diff = std::max(diff, std::abs(s.rho()[i] - pi[i]));
      scale = std::max(scale, pi[i]);
    }
    const double rel = mpi::allreduce_max(diff) / mpi::allreduce_max(scale);
    if (mpi::rank() == 0)
      std::printf("  partitioned FP Gibbs state, %s, 200 steps: max |rho - pi| / max pi %.1e (ranks: %d)\n", grids::to_string(boundary), rel,
                  mpi::size());
    // L_a π = 0 face by face: π is a fixed point of every factor; rounding only (measured
    // ≤ 1.1e-14 after 200 steps on 1-4 ranks; a wrong sign in a flux or a reduced row gives O(1)).
    CHECK(rel <= 5e-14);
  }
}

TEST_CASE("partitioned Fokker-Planck: the same bits on 1 and 2 threads") {
  // 1024 x 512 cells: every rank's slab (up to 4 ranks) reaches the threaded loops' threshold
  const grids::Grid<2> g({1024, 512}, {-2.2, -2.2}, {2.2, 2.2});
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  const potentials::Landscape<2> land(*f, g);
  grids::Field<double, 2> rho0(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) { rho0[i] = std::exp(-2 * ((x[0] - 0.9) * (x[0] - 0.9) + x[1] * x[1])); });
  std::vector<grids::Field<double, 2>> out;
  const int before = core::thread_count();
  for (const int threads : {1, 2}) {
    core::set_thread_count(threads);
    solver::FokkerPlanckOptions opt{0.01, solver::FpScheme::backward_euler};
    opt.distributed = true;
    solver::FokkerPlanckSolver<2> s(land, potentials::Schedule::geometric(1.0, 0.9), opt);
    s.set_state(rho0);
    s.advance(20);
    out.push_back(s.rho());
  }
  core::set_thread_count(before);
  double diff = 0;
  for (std::size_t i = 0; i < out[0].size(); ++i) diff = std::max(diff, std::abs(out[0][i] - out[1][i]));
  CHECK(mpi::allreduce_max(diff) == 0);  // each line's arithmetic is the same whatever thread solves it
}
