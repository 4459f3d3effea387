// qtzflow/grids/partitioned_tridiagonal.hpp — tridiagonal systems along the distributed axis of a
// slab layout, solved where their rows lie (issue 31).
//
// m independent systems ("lines") of n unknowns each, tridiagonal, optionally cyclic:
//     a_i x_{i−1} + b_i x_i + c_i x_{i+1} = d_i,   i = 0..n−1,
// cyclic: x_{−1} = x_{n−1} and x_n = x_0; otherwise a_0 and c_{n−1} are ignored (taken as 0).
// Rank p holds the rows [first_p, first_p + R_p) of every line (R_p ≥ 1, blocks in rank order
// covering 0..n−1), stored as the slab stores them: entry (i, j) of the local block at i·m + j —
// the lines run across rows, contiguous across j, so every loop below is a unit-stride loop over j.
//
// Algorithm: the partitioned ("modified") Thomas algorithm of Laszlo, Giles & Appleyard (ACM TOMS
// 2016) as PaScaL_TDMA uses it (Kim, Kang, Choi et al., Comput. Phys. Commun. 2021):
//  1. Each rank eliminates its rows so that every row i refers only to its block's first and last
//     unknowns: x_i + a'_i x_0 + c'_i x_{R−1} = d'_i (1 ≤ i ≤ R−2), and its first and last rows
//     couple only to the neighbouring blocks' last and first: a reduced tridiagonal system of
//     M = Σ_p min(R_p, 2) rows per line, unit diagonal.
//  2. The reduced systems are distributed by lines (rank q solves the lines of its block of
//     core::mpi::block_of(m, q, P)): one all-to-all carries each rank's 2 right-hand sides per
//     line (plus the caller's per-line extras), rank q solves its lines' reduced systems (Thomas;
//     Sherman–Morrison when cyclic), and a second all-to-all returns each rank's 2 interface values.
//  3. Each rank reconstructs its interior rows by the back substitution of its forward rows,
//     x_i = d'_i − a'_i x_0 − c'_i x_{i+1} (i = R − 2 … 1).
// The matrix part of steps 1 and 2 (factor) is done once per matrix; a solve moves
// (4 + extras) + 3 doubles per line and rank, against the whole field twice for a global
// transpose.  Per step: two all-to-alls, no neighbour messages.
//
// Positivity (why a Fokker–Planck M-matrix keeps ρ ≥ 0 exactly, not just within round-off): when
// a_i, c_i ≤ 0, b_i > 0 and the matrix is column (or row) diagonally dominant, every pivot is
// positive, every a'_i, c'_i is ≤ 0 and every operation on the right-hand side except the pivots'
// own (b − a·c', positive by dominance) adds non-negative terms: d ≥ 0 gives d' ≥ 0 and x ≥ 0 in
// floating point, as the serial Thomas algorithm does (non-cyclic lines; a cyclic line goes through
// Sherman–Morrison on one rank too).  tests/mpi/test_partitioned.cpp checks it.
//
// Line totals: the rank solving a line also learns Σ_i x_i over the whole line (each rank sends
// Σ_{1≤i≤R−2} d'_i and the matrix's weights of x_0 and x_{R−1}), its first and last unknowns and
// the sums over ranks of the caller's per-line extras; a hook there returns the factor every
// value of the line is multiplied by (the Fokker–Planck engine's mass projection).
// Results differ from a one-rank solve in rounding only (≤ 3e-15 relative against dense
// elimination for diagonally dominant systems with margins down to 1e-3, tests/mpi/
// test_partitioned.cpp); they are the same for any thread count.
// Limits: every rank must hold a row (the slab layouts refuse empty ranks); a cyclic line needs
// n ≥ 3.  Built without MPI, it runs on one rank (the reduced system is the block's own).
#pragma once

#include <cstddef>
#include <vector>

namespace qtzflow::grids {

/// What the rank solving a line knows of it after the reduced solve (before any scaling).
struct LineTotals {
  double sum;            ///< Σ_i x_i over the whole line
  double rhs_sum;        ///< Σ_i d_i over the whole line (the right-hand side)
  double first, last;    ///< x_0 and x_{n−1} of the line
  const double* extras;  ///< the caller's per-line extras, summed over ranks (extras() values)
};

class PartitionedTridiagonal {
 public:
  /// n rows per line, m lines; this rank holds rows [first, first + rows) (rows ≥ 1).  `extras`
  /// values per line travel with each solve's reduced system.  Collective (every rank's block
  /// is gathered); throws InvalidArgument when the blocks do not tile 0..n−1 in rank order.
  PartitionedTridiagonal(std::size_t n, std::size_t m, std::size_t first, std::size_t rows, bool cyclic, std::size_t extras = 0);

  /// The eliminated matrix of one set of lines: this rank's rows and, for the lines this rank
  /// solves, the factored reduced systems.  A value type; one per matrix.
  struct Factors {
    std::vector<double> fr, fa, fc, af;  // elimination, row-major rows × m: 1/pivot, a_i, forward c'_i and a'_i
    std::vector<double> r0;          // per line: the first row's last pivot (rows ≥ 3)
    // the reduced systems of this rank's lines, [row][line]: Thomas factors; cyclic: z, 1/(1 + v·z), β/γ
    std::vector<double> red_lower, red_dinv, red_upper, red_z, red_sm, red_corner;
    std::vector<double> weight_first, weight_last;  // [rank][line]: Σ x over the rank's rows = SD + w_f x_0 + w_l x_{R−1}
  };

  std::size_t n() const { return n_; }
  std::size_t m() const { return m_; }
  std::size_t first() const { return first_; }
  std::size_t rows() const { return rows_; }
  std::size_t extras() const { return extras_; }
  /// The lines whose reduced systems this rank solves: [line_first(), line_first() + line_count()).
  std::size_t line_first() const { return line_first_; }
  std::size_t line_count() const { return line_count_; }

  /// Eliminates and factors the matrix (sub a, diagonal b, super c of this rank's rows, rows × m
  /// each).  Collective.
  void factor(Factors& F, const double* sub, const double* diag, const double* sup);

  /// Solves every line in place: d (rows × m) ← x.  `extras` (extras() × m, value k of line j at
  /// k·m + j; may be null when extras() is 0) are summed over ranks; finish(line, totals) runs
  /// once per line on the rank solving it and returns the factor that multiplies the line's
  /// solution.  Collective.  Allocates nothing.
  template <class Finish>
  void solve(const Factors& F, double* d, const double* extras, Finish&& finish) {
    eliminate(F, d, extras);
    reduce(F);
    double* scale = scale_.data();
    for (std::size_t l = 0; l < line_count_; ++l) scale[l] = finish(line_first_ + l, totals(l));
    reconstruct(F, d);
  }
  /// Solves without a hook (factor 1).
  void solve(const Factors& F, double* d) {
    solve(F, d, nullptr, [](std::size_t, const LineTotals&) { return 1.0; });
  }

 private:
  void forward_layout(std::size_t width);                             // counts and offsets of a packet exchange
  void eliminate(const Factors& F, double* d, const double* extras);  // step 1 on d, and the first exchange
  void reduce(const Factors& F);                                      // step 2: the reduced solves
  LineTotals totals(std::size_t l);
  void reconstruct(const Factors& F, double* d);  // the second exchange and step 3
  /// Runs body(j0, j1) over blocks of lines, threaded when the block is large.
  template <class Body>
  void over_lines(const Body& body) const;

  std::size_t n_, m_, first_, rows_, extras_;
  bool cyclic_;
  int ranks_ = 1, rank_ = 0;
  std::vector<std::size_t> rows_of_;               // R_p
  std::vector<std::size_t> reduced_offset_;        // first reduced row of rank p
  std::size_t reduced_ = 0;                        // M
  std::vector<std::size_t> line_first_of_, line_count_of_;  // every rank's block of lines
  std::size_t line_first_ = 0, line_count_ = 0;
  // Exchange buffers (sized once): the forward packet per line and rank is [d'_0, d'_{R−1}, SD,
  // Σ d, extras...], the return packet [x_0, x_{R−1}, scale].
  std::size_t width_;
  std::vector<double> send_, recv_, back_send_, back_recv_;
  std::vector<int> send_n_, send_off_, recv_n_, recv_off_, bsend_n_, bsend_off_, brecv_n_, brecv_off_;
  std::vector<double> x_, sd_, rhs_sum_, scale_, extra_sum_;  // the reduced solutions [row][line], line sums, scales, extras [line][k]
  std::vector<double> line_a_, line_b_, line_c_;     // per local line (m): weights, SD, Σ d, carries
  std::vector<double> work_a_, work_c_;              // rows × m: the final a'_i, c'_i while factoring
  std::vector<double> red_a_, red_b_, red_c_, red_d_;  // one reduced system (M) while factoring
};

}  // namespace qtzflow::grids
