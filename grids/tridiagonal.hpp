// qtzflow/grids/tridiagonal.hpp — the Thomas algorithm on many tridiagonal systems side by side.
//
// `lanes` systems of n unknowns, A y = rhs, stored lane-fastest: entry (k, lane) at k·lanes + lane,
// so that every loop below runs across lanes with unit stride (vectorised).  The factors are those
// of Gaussian elimination without pivoting: lower[k] = a_k (the sub-diagonal), dinv[k] = 1/pivot_k
// with pivot_k = b_k − a_k·upper[k−1], upper[k] = c_k/pivot_k.  Stable for diagonally dominant A
// (rows or columns); for an M-matrix and rhs ≥ 0 every operation adds non-negative terms, so
// y ≥ 0 exactly.  `y` may be `rhs`.  Used by the Fokker–Planck line sweeps and the reduced
// systems of the partitioned solve (grids/partitioned_tridiagonal.hpp).
#pragma once

#include <cstddef>

namespace qtzflow::grids {

/// Lanes: a std::size_t, or std::integral_constant<std::size_t, B> for a compile-time width.
template <class Lanes>
inline void thomas_lanes(const double* rhs, double* y, const double* lower, const double* dinv, const double* upper, std::size_t n, Lanes lanes) {
  const std::size_t L = lanes;
#pragma omp simd
  for (std::size_t b = 0; b < L; ++b) y[b] = rhs[b] * dinv[b];
  for (std::size_t k = 1; k < n; ++k)
#pragma omp simd
    for (std::size_t b = 0; b < L; ++b) y[k * L + b] = (rhs[k * L + b] - lower[k * L + b] * y[(k - 1) * L + b]) * dinv[k * L + b];
  for (std::size_t k = n - 1; k-- > 0;)
#pragma omp simd
    for (std::size_t b = 0; b < L; ++b) y[k * L + b] -= upper[k * L + b] * y[(k + 1) * L + b];
}

}  // namespace qtzflow::grids
