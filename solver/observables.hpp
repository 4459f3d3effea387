// qtzflow/solver/observables.hpp — moments of a density on a grid.
//
// A density is w(u) of the field's values u: |ψ|² for wavefunctions (`abs2`), ρ itself for
// Fokker–Planck densities (`identity`).  Integrals are midpoint sums Σ w h^D over cell centres
// (spectrally accurate for smooth periodic fields); moments include the full covariance.  Sums
// are deterministic for any thread count.  A field may be one rank's block of rows of a
// distributed field: its sums are then completed over the ranks (grids::sum_over_blocks; the
// call is collective).  Mass per basin: grids::mass_per_basin.
#pragma once

#include <array>
#include <complex>

#include "core/parallel.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"

namespace qtzflow::solver {

/// Throws unless `field` is the grid's whole array or a block of it.
template <int D, class T>
void require_on_grid(const char* key, const grids::Field<T, D>& field, const grids::Grid<D>& grid) {
  if (field.global_extent() != grid.shape()) grids::require_shape(key, field, grid.shape());
}

struct Abs2 {
  double operator()(const std::complex<double>& z) const { return std::norm(z); }
  double operator()(double v) const { return v * v; }
};
struct Identity {
  double operator()(double v) const { return v; }
};
inline constexpr Abs2 abs2{};
inline constexpr Identity identity{};

/// Mass ∫w, mean ⟨x_a⟩, second moments ⟨x_a x_b⟩ (normalised by the mass) and the covariance.
template <int D>
struct Moments {
  double mass = 0;
  std::array<double, D> mean{}, second{};        ///< ⟨x_a⟩, ⟨x_a²⟩
  std::array<std::array<double, D>, D> cross{};  ///< ⟨x_a x_b⟩
  double variance(int a) const { return second[a] - mean[a] * mean[a]; }
  double covariance(int a, int b) const { return cross[a][b] - mean[a] * mean[b]; }
};

template <int D, class T, class Density>
Moments<D> moments(const grids::Grid<D>& grid, const grids::Field<T, D>& field, Density w) {
  require_on_grid("field", field, grid);
  const std::size_t nlast = field.extent()[D - 1], first_row = field.offset()[0], first_last = D == 1 ? first_row : 0;
  const std::ptrdiff_t rows = static_cast<std::ptrdiff_t>(field.size() / nlast);
  // Per row (the last axis): m = Σw, m1 = Σw·x_last, m2 = Σw·x_last²; the slower coordinates are
  // constant along a row.  acc = [m, Σ m·x_a (a < D−1), m1, Σ of the D×D products ⟨x_a x_b⟩·m].
  constexpr std::size_t K = 1 + D + D * D;
  auto acc = core::parallel_sums<K>(rows, [&](std::ptrdiff_t r, auto& s) {
    std::array<double, D> x{};
    std::size_t rem = static_cast<std::size_t>(r);
    for (int a = D - 2; a >= 0; --a) {
      x[a] = grid.x(a, (a == 0 ? first_row : 0) + rem % field.extent()[a]);
      rem /= field.extent()[a];
    }
    const T* row = field.data() + static_cast<std::size_t>(r) * nlast;
    double m = 0, m1 = 0, m2 = 0;
    for (std::size_t j = 0; j < nlast; ++j) {
      const double wj = w(row[j]), xj = grid.x(D - 1, first_last + j);
      m += wj;
      m1 += wj * xj;
      m2 += wj * xj * xj;
    }
    s[0] += m;
    for (int a = 0; a + 1 < D; ++a) s[1 + a] += m * x[a];
    s[D] += m1;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        const bool la = a == D - 1, lb = b == D - 1;
        s[1 + D + a * D + b] += la && lb ? m2 : la ? m1 * x[b] : lb ? m1 * x[a] : m * x[a] * x[b];
      }
  });
  if (field.distributed()) core::mpi::allreduce_sum(acc);
  Moments<D> out;
  out.mass = acc[0] * grid.cell_volume();
  for (int a = 0; a < D; ++a) {
    out.mean[a] = acc[1 + a] / acc[0];
    for (int b = 0; b < D; ++b) out.cross[a][b] = acc[1 + D + a * D + b] / acc[0];
    out.second[a] = out.cross[a][a];
  }
  return out;
}

/// ∫ w(u) h^D: the L² norm squared of a wavefunction (abs2) or the mass of a density (identity).
template <int D, class T, class Density>
double integral(const grids::Grid<D>& grid, const grids::Field<T, D>& field, Density w) {
  require_on_grid("field", field, grid);
  const double local =
      core::parallel_sum(static_cast<std::ptrdiff_t>(field.size()), [&](std::ptrdiff_t i) { return w(field[static_cast<std::size_t>(i)]); });
  return grids::sum_over_blocks(field, local) * grid.cell_volume();
}

/// ∫ |a − b| h^D: the L1 distance of two densities on the grid.
template <int D>
double l1_distance(const grids::Grid<D>& grid, const grids::Field<double, D>& a, const grids::Field<double, D>& b) {
  require_on_grid("a", a, grid);
  grids::require_shape("b", b, a.extent());
  const double local = core::parallel_sum(static_cast<std::ptrdiff_t>(a.size()), [&](std::ptrdiff_t i) {
    return std::abs(a[static_cast<std::size_t>(i)] - b[static_cast<std::size_t>(i)]);
  });
  return grids::sum_over_blocks(a, local) * grid.cell_volume();
}

}  // namespace qtzflow::solver
