#include "grids/partitioned_tridiagonal.hpp"

#include <omp.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/tridiagonal.hpp"

namespace qtzflow::grids {

namespace {
/// The local loops run over whole rows (one contiguous run per row and array, which the hardware
/// prefetchers follow), split into one block of lines per thread.  Measured on 2 ranks × 1 thread:
/// blocks of 8-64 lines (meant to keep a block's d' in L2 from the forward to the backward pass)
/// were 5-25 % slower than whole rows (1024² 4.1 / 3.4 / 3.3 ms for 16 / 64 / 1024 lines; 256³
/// 93 / 76 ms for 1024 / 65536).
std::size_t line_block(std::size_t m, int threads) {
  const std::size_t per_thread = (m + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
  return std::max<std::size_t>(64, (per_thread + 7) / 8 * 8);
}
/// The forward packet of the factorisation: [a'_0, c'_0, a'_{R−1}, c'_{R−1}, w_f, w_l].
constexpr std::size_t kMatrixWidth = 6;
}  // namespace

PartitionedTridiagonal::PartitionedTridiagonal(std::size_t n, std::size_t m, std::size_t first, std::size_t rows, bool cyclic, std::size_t extras)
    : n_(n), m_(m), first_(first), rows_(rows), extras_(extras), cyclic_(cyclic), width_(4 + extras) {
  ranks_ = core::mpi::active() ? core::mpi::size() : 1;
  rank_ = core::mpi::active() ? core::mpi::rank() : 0;
  const double mine[2] = {static_cast<double>(first), static_cast<double>(rows)};
  const std::vector<double> all = core::mpi::active() ? core::mpi::allgather(mine) : std::vector<double>(mine, mine + 2);
  rows_of_.resize(static_cast<std::size_t>(ranks_));
  reduced_offset_.resize(static_cast<std::size_t>(ranks_));
  std::size_t next = 0;
  for (std::size_t p = 0; p < rows_of_.size(); ++p) {
    const auto f = static_cast<std::size_t>(all[2 * p]), r = static_cast<std::size_t>(all[2 * p + 1]);
    if (f != next || r < 1)
      core::throw_invalid("partitioned lines", "rank " + std::to_string(p) + " holding rows [" + std::to_string(f) + ", " + std::to_string(f + r) + ")",
                          "blocks of >= 1 row tiling 0.." + std::to_string(n) + " in rank order");
    rows_of_[p] = r;
    reduced_offset_[p] = reduced_;
    reduced_ += std::min<std::size_t>(r, 2);
    next += r;
  }
  if (next != n) core::throw_invalid("partitioned lines", std::to_string(next) + " rows over all ranks", std::to_string(n) + " (the line length)");
  if (cyclic && n < 3) core::throw_invalid("partitioned lines", "a cyclic line of " + std::to_string(n) + " rows", ">= 3 rows");
  line_first_of_.resize(rows_of_.size());
  line_count_of_.resize(rows_of_.size());
  for (int q = 0; q < ranks_; ++q) {
    const auto b = core::mpi::block_of(static_cast<long>(m), q, ranks_);
    line_first_of_[static_cast<std::size_t>(q)] = static_cast<std::size_t>(b.first);
    line_count_of_[static_cast<std::size_t>(q)] = static_cast<std::size_t>(b.last - b.first);
  }
  line_first_ = line_first_of_[static_cast<std::size_t>(rank_)];
  line_count_ = line_count_of_[static_cast<std::size_t>(rank_)];
  const std::size_t w = std::max(width_, kMatrixWidth), P = rows_of_.size();
  send_.assign(w * m, 0.0);
  recv_.assign(w * line_count_ * P, 0.0);
  back_send_.assign(3 * line_count_ * P, 0.0);
  back_recv_.assign(3 * m, 0.0);
  for (auto* v : {&send_n_, &send_off_, &recv_n_, &recv_off_, &bsend_n_, &bsend_off_, &brecv_n_, &brecv_off_}) v->assign(P, 0);
  for (std::size_t p = 0; p < P; ++p) {
    bsend_n_[p] = static_cast<int>(3 * line_count_);
    bsend_off_[p] = static_cast<int>(3 * line_count_ * p);
    brecv_n_[p] = static_cast<int>(3 * line_count_of_[p]);
    brecv_off_[p] = static_cast<int>(3 * line_first_of_[p]);
  }
  x_.assign(reduced_ * line_count_, 0.0);
  line_a_.assign(m, 0.0);
  line_b_.assign(m, 0.0);
  line_c_.assign(m, 0.0);
  work_a_.assign(rows * m, 0.0);
  work_c_.assign(rows * m, 0.0);
  for (auto* v : {&red_a_, &red_b_, &red_c_, &red_d_}) v->assign(reduced_, 0.0);
  sd_.assign(line_count_, 0.0);
  rhs_sum_.assign(line_count_, 0.0);
  scale_.assign(line_count_, 1.0);
  extra_sum_.assign(std::max<std::size_t>(extras, 1) * line_count_, 0.0);
}

template <class Body>
void PartitionedTridiagonal::over_lines(const Body& body) const {
  const int threads = core::thread_count();
  const std::size_t width = line_block(m_, threads), blocks = (m_ + width - 1) / width;
  if (static_cast<std::ptrdiff_t>(rows_ * m_) >= core::kParallelThreshold && threads > 1 && blocks > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t b = 0; b < blocks; ++b) body(b * width, std::min(m_, (b + 1) * width));
  } else {
    for (std::size_t b = 0; b < blocks; ++b) body(b * width, std::min(m_, (b + 1) * width));
  }
}

void PartitionedTridiagonal::forward_layout(std::size_t width) {
  // to rank q: `width` values for each of its lines; from every rank: `width` for each of ours
  std::size_t off = 0;
  for (std::size_t q = 0; q < rows_of_.size(); ++q) {
    send_n_[q] = static_cast<int>(width * line_count_of_[q]);
    send_off_[q] = static_cast<int>(off);
    recv_n_[q] = static_cast<int>(width * line_count_);
    recv_off_[q] = static_cast<int>(width * line_count_ * q);
    off += width * line_count_of_[q];
  }
}

void PartitionedTridiagonal::factor(Factors& F, const double* a, const double* b, const double* c) {
  const std::size_t R = rows_, m = m_, P = rows_of_.size();
  for (auto* v : {&F.fr, &F.fa, &F.fc, &F.af}) v->assign(R * m, 0.0);
  F.r0.assign(m, 0.0);
  // Step 1 on the matrix, written into the packet [a'_0, c'_0, a'_{R−1}, c'_{R−1}, w_f, w_l] of
  // each line, laid out for the rank that solves it.
  forward_layout(kMatrixWidth);
  double *fr = F.fr.data(), *fa = F.fa.data(), *fc = F.fc.data(), *af = F.af.data(), *r0 = F.r0.data();
  double *ra = work_a_.data(), *rc = work_c_.data();  // the final a'_i, c'_i (only rows 0 and R − 1 travel)
  double *wf = line_a_.data(), *wl = line_b_.data();
  over_lines([&](std::size_t j0, std::size_t j1) {
    // a' is kept in ra, c' in rc while eliminating (the forward a', c' also in af, fc)
    for (std::size_t i = 0; i < R; ++i) {
      const std::size_t o = i * m;
      if (i < 2) {
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          const double p = 1 / b[o + j];
          fr[o + j] = p;
          af[o + j] = ra[o + j] = a[o + j] * p;
          rc[o + j] = fc[o + j] = c[o + j] * p;
        }
      } else {
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          const double p = 1 / (b[o + j] - a[o + j] * fc[o - m + j]);
          fr[o + j] = p;
          fa[o + j] = a[o + j];
          af[o + j] = ra[o + j] = -p * a[o + j] * ra[o - m + j];
          rc[o + j] = fc[o + j] = p * c[o + j];
        }
      }
    }
    // the weights of x_0 and x_{R−1} in Σ x over this rank's rows: 1 − Σ a'_i and 1 − Σ c'_i over
    // the interior rows (R ≥ 3), 1 and 1 (R = 2), 1 and 0 (R = 1)
    for (std::size_t j = j0; j < j1; ++j) {
      wf[j] = 1;
      wl[j] = R >= 2 ? 1 : 0;
    }
    if (R >= 3) {
      const std::size_t last = (R - 2) * m;
#pragma omp simd
      for (std::size_t j = j0; j < j1; ++j) {
        wf[j] -= ra[last + j];
        wl[j] -= rc[last + j];
      }
      for (std::size_t i = R - 2; i-- > 1;) {  // i = R−3 … 1
        const std::size_t o = i * m;
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          ra[o + j] -= fc[o + j] * ra[o + m + j];
          rc[o + j] = -fc[o + j] * rc[o + m + j];
          wf[j] -= ra[o + j];
          wl[j] -= rc[o + j];
        }
      }
#pragma omp simd
      for (std::size_t j = j0; j < j1; ++j) {
        const double p = 1 / (1 - fc[j] * ra[m + j]);
        r0[j] = p;
        ra[j] = p * ra[j];
        rc[j] = -p * fc[j] * rc[m + j];
      }
    }
  });
  // the packets, laid out for the ranks that solve the lines
  for (std::size_t q = 0; q < P; ++q) {
    const std::size_t nl = line_count_of_[q], j0 = line_first_of_[q];
    double* pk = send_.data() + send_off_[q];
    for (std::size_t jl = 0; jl < nl; ++jl) {
      const std::size_t j = j0 + jl;
      pk[0 * nl + jl] = ra[j];
      pk[1 * nl + jl] = rc[j];
      pk[2 * nl + jl] = ra[(R - 1) * m + j];
      pk[3 * nl + jl] = rc[(R - 1) * m + j];
      pk[4 * nl + jl] = wf[j];
      pk[5 * nl + jl] = wl[j];
    }
  }
  core::mpi::alltoallv(send_, send_n_, send_off_, recv_, recv_n_, recv_off_);
  // Step 2's matrix part: assemble and factor the reduced system of each line this rank solves.
  const std::size_t M = reduced_, lc = line_count_;
  for (auto* v : {&F.red_lower, &F.red_dinv, &F.red_upper}) v->assign(M * lc, 0.0);
  F.weight_first.assign(P * lc, 0.0);
  F.weight_last.assign(P * lc, 0.0);
  if (cyclic_) {
    F.red_z.assign(M * lc, 0.0);
    F.red_sm.assign(lc, 0.0);
    F.red_corner.assign(lc, 0.0);
  }
  double *lower = red_a_.data(), *upper = red_b_.data(), *diag = red_c_.data(), *z = red_d_.data();
  for (std::size_t l = 0; l < lc; ++l) {
    for (std::size_t p = 0; p < P; ++p) {
      const double* pk = recv_.data() + kMatrixWidth * lc * p;
      const std::size_t k = reduced_offset_[p];
      lower[k] = pk[0 * lc + l];
      upper[k] = pk[1 * lc + l];
      if (rows_of_[p] >= 2) {
        lower[k + 1] = pk[2 * lc + l];
        upper[k + 1] = pk[3 * lc + l];
      }
      F.weight_first[p * lc + l] = pk[4 * lc + l];
      F.weight_last[p * lc + l] = pk[5 * lc + l];
    }
    std::fill(diag, diag + M, 1.0);
    double alpha = 0, beta = 0, gamma = 0;  // cyclic: A[M−1][0], A[0][M−1]
    if (!cyclic_) {
      lower[0] = 0;
      upper[M - 1] = 0;
    } else if (M == 2) {  // one block holds the line: both couplings of a row reach the other row
      upper[0] += lower[0];
      lower[1] += upper[1];
      lower[0] = upper[1] = 0;
    } else {
      // Sherman–Morrison: A = A' + u vᵀ, u = (γ, 0, …, α), v = (1, 0, …, β/γ)
      alpha = upper[M - 1];
      beta = lower[0];
      gamma = -diag[0];
      diag[0] -= gamma;
      diag[M - 1] -= alpha * beta / gamma;
      lower[0] = upper[M - 1] = 0;
    }
    double cprev = 0;
    for (std::size_t k = 0; k < M; ++k) {
      const double pivot = diag[k] - (k > 0 ? lower[k] * cprev : 0.0);
      cprev = upper[k] / pivot;
      F.red_lower[k * lc + l] = lower[k];
      F.red_dinv[k * lc + l] = 1 / pivot;
      F.red_upper[k * lc + l] = cprev;
    }
    if (cyclic_ && M > 2) {
      std::fill(z, z + M, 0.0);
      z[0] = gamma;
      z[M - 1] = alpha;
      z[0] *= F.red_dinv[l];
      for (std::size_t k = 1; k < M; ++k) z[k] = (z[k] - lower[k] * z[k - 1]) * F.red_dinv[k * lc + l];
      for (std::size_t k = M - 1; k-- > 0;) z[k] -= F.red_upper[k * lc + l] * z[k + 1];
      for (std::size_t k = 0; k < M; ++k) F.red_z[k * lc + l] = z[k];
      const double corner = beta / gamma;
      F.red_corner[l] = corner;
      F.red_sm[l] = 1 / (1 + z[0] + corner * z[M - 1]);
    }
  }
}

void PartitionedTridiagonal::eliminate(const Factors& F, double* d, const double* extras) {
  const std::size_t R = rows_, m = m_, P = rows_of_.size(), E = extras_;
  forward_layout(width_);
  const double *fr = F.fr.data(), *fa = F.fa.data(), *fc = F.fc.data(), *r0 = F.r0.data();
  double *sd = line_a_.data(), *rhs_sum = line_b_.data(), *carry = line_c_.data();
  over_lines([&](std::size_t j0, std::size_t j1) {
    // forward, summing the right-hand side on the way (LineTotals::rhs_sum)
    for (std::size_t j = j0; j < j1; ++j) rhs_sum[j] = 0;
    for (std::size_t i = 0; i < R; ++i) {
      const std::size_t o = i * m;
      if (i < 2) {
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          rhs_sum[j] += d[o + j];
          d[o + j] *= fr[o + j];
        }
      } else {
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          rhs_sum[j] += d[o + j];
          d[o + j] = fr[o + j] * (d[o + j] - fa[o + j] * d[o - m + j]);
        }
      }
    }
    // backward over the interior rows without writing them: the eliminated d̃_i = d'_i − c'_i d̃_{i+1}
    // are carried in `carry` and summed into SD = Σ_{1≤i≤R−2} d̃_i; d̃_1 then closes row 0
    // (the reconstruction runs the forward form backwards instead, needing d' only)
    if (R >= 3) {
      const std::size_t last = (R - 2) * m;
      for (std::size_t j = j0; j < j1; ++j) sd[j] = carry[j] = d[last + j];
      for (std::size_t i = R - 2; i-- > 1;) {  // i = R−3 … 1
        const std::size_t o = i * m;
#pragma omp simd
        for (std::size_t j = j0; j < j1; ++j) {
          carry[j] = d[o + j] - fc[o + j] * carry[j];
          sd[j] += carry[j];
        }
      }
#pragma omp simd
      for (std::size_t j = j0; j < j1; ++j) d[j] = r0[j] * (d[j] - fc[j] * carry[j]);
    } else {
      for (std::size_t j = j0; j < j1; ++j) sd[j] = 0;
    }
  });
  for (std::size_t q = 0; q < P; ++q) {
    const std::size_t nl = line_count_of_[q], j0 = line_first_of_[q];
    double* pk = send_.data() + send_off_[q];
    std::copy_n(d + j0, nl, pk);
    std::copy_n(d + (R - 1) * m + j0, nl, pk + nl);
    std::copy_n(sd + j0, nl, pk + 2 * nl);
    std::copy_n(rhs_sum + j0, nl, pk + 3 * nl);
    for (std::size_t e = 0; e < E; ++e) std::copy_n(extras + e * m + j0, nl, pk + (4 + e) * nl);
  }
  core::mpi::alltoallv(send_, send_n_, send_off_, recv_, recv_n_, recv_off_);
}

void PartitionedTridiagonal::reduce(const Factors& F) {
  const std::size_t M = reduced_, lc = line_count_, P = rows_of_.size(), w = width_, E = extras_;
  double* x = x_.data();
  const double *lo = F.red_lower.data(), *di = F.red_dinv.data(), *up = F.red_upper.data();
  // right-hand sides [row][line]
  for (std::size_t p = 0; p < P; ++p) {
    const double* pk = recv_.data() + w * lc * p;
    const std::size_t k = reduced_offset_[p];
    std::copy_n(pk, lc, x + k * lc);
    if (rows_of_[p] >= 2) std::copy_n(pk + lc, lc, x + (k + 1) * lc);
  }
  thomas_lanes(x, x, lo, di, up, M, lc);
  if (cyclic_ && M > 2) {
    for (std::size_t l = 0; l < lc; ++l) {
      const double s = (x[l] + F.red_corner[l] * x[(M - 1) * lc + l]) * F.red_sm[l];
      for (std::size_t k = 0; k < M; ++k) x[k * lc + l] -= s * F.red_z[k * lc + l];
    }
  }
  // line totals: Σ x = Σ_p (SD_p + w_f x_0 + w_l x_{R−1}), and the extras summed over ranks
  std::fill(sd_.begin(), sd_.end(), 0.0);
  std::fill(rhs_sum_.begin(), rhs_sum_.end(), 0.0);
  std::fill(extra_sum_.begin(), extra_sum_.end(), 0.0);
  for (std::size_t p = 0; p < P; ++p) {
    const double* pk = recv_.data() + w * lc * p;
    const std::size_t k0 = reduced_offset_[p], k1 = k0 + std::min<std::size_t>(rows_of_[p], 2) - 1;
    for (std::size_t l = 0; l < lc; ++l) {
      sd_[l] += pk[2 * lc + l] + F.weight_first[p * lc + l] * x[k0 * lc + l] + (k1 > k0 ? F.weight_last[p * lc + l] * x[k1 * lc + l] : 0.0);
      rhs_sum_[l] += pk[3 * lc + l];
      for (std::size_t e = 0; e < E; ++e) extra_sum_[l * E + e] += pk[(4 + e) * lc + l];
    }
  }
}

LineTotals PartitionedTridiagonal::totals(std::size_t l) {
  return {sd_[l], rhs_sum_[l], x_[l], x_[(reduced_ - 1) * line_count_ + l], extra_sum_.data() + l * extras_};
}

void PartitionedTridiagonal::reconstruct(const Factors& F, double* d) {
  const std::size_t R = rows_, m = m_, P = rows_of_.size(), lc = line_count_;
  for (std::size_t p = 0; p < P; ++p) {
    double* pk = back_send_.data() + 3 * lc * p;
    const std::size_t k0 = reduced_offset_[p], k1 = k0 + std::min<std::size_t>(rows_of_[p], 2) - 1;
    std::copy_n(x_.data() + k0 * lc, lc, pk);
    std::copy_n(x_.data() + k1 * lc, lc, pk + lc);
    std::copy_n(scale_.data(), lc, pk + 2 * lc);
  }
  core::mpi::alltoallv(back_send_, bsend_n_, bsend_off_, back_recv_, brecv_n_, brecv_off_);
  const double *af = F.af.data(), *fc = F.fc.data();
  const double* back = back_recv_.data();
  double* carry = line_c_.data();
  over_lines([&](std::size_t j0, std::size_t j1) {
    // the packet of line j comes from its solver q: [x_0, x_{R−1}, scale] at brecv_off_[q] + f·nl_q + (j − first_q)
    std::size_t q = 0;
    for (std::size_t j = j0; j < j1;) {
      while (j >= line_first_of_[q] + line_count_of_[q]) ++q;
      const std::size_t first = line_first_of_[q], nl = line_count_of_[q], jend = std::min(j1, first + nl);
      const double *x0 = back + brecv_off_[q], *xl = x0 + nl, *s = x0 + 2 * nl;
      // the forward rows x_i + a'_i x_0 + c'_i x_{i+1} = d'_i, from i = R − 2 down to 1: the
      // back substitution of the Thomas algorithm (non-negative terms only for an M-matrix)
      for (std::size_t jj = j; jj < jend; ++jj) carry[jj] = xl[jj - first];
      for (std::size_t i = R >= 2 ? R - 1 : 1; i-- > 1;) {
        const std::size_t o = i * m;
#pragma omp simd
        for (std::size_t jj = j; jj < jend; ++jj) {
          carry[jj] = d[o + jj] - af[o + jj] * x0[jj - first] - fc[o + jj] * carry[jj];
          d[o + jj] = carry[jj] * s[jj - first];
        }
      }
#pragma omp simd
      for (std::size_t jj = j; jj < jend; ++jj) d[jj] = x0[jj - first] * s[jj - first];
      if (R >= 2) {
        const std::size_t o = (R - 1) * m;
#pragma omp simd
        for (std::size_t jj = j; jj < jend; ++jj) d[o + jj] = xl[jj - first] * s[jj - first];
      }
      j = jend;
    }
  });
}

}  // namespace qtzflow::grids
