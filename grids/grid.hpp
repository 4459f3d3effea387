// qtzflow/grids/grid.hpp — Grid<D>: a uniform, cell-centred grid on the box ∏[lower_a, upper_a].
//
// Conventions (shared by every engine and by the HDF5 output):
//  - D = 1, 2 or 3 axes; axis 0 is the slowest index, axis D-1 the fastest (C order).
//  - n_a cells per axis, spacing h_a = (upper_a - lower_a)/n_a, point i at the cell centre
//    x_i = lower_a + (i + 1/2) h_a.  For periodic problems the period is L_a = upper_a - lower_a.
//  - Wavenumbers in FFT order: k_j = 2π/L · j for j < n/2, 2π/L · (j - n) otherwise
//    (the Nyquist mode j = n/2 of an even n carries -π/h; only k² enters our operators).
//  - Every constructor argument is validated: n_a >= 2, lower_a < upper_a, both finite, points
//    that differ in floating point (h_a not lost against lower_a), and a point count (counted in
//    double, so that it cannot wrap) of which one field of doubles fits the memory limit.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/names.hpp"

namespace qtzflow::grids {

/// Boundary condition of a grid; the split-step engine requires `periodic`.
enum class Boundary { periodic, reflecting, absorbing };
constexpr core::Named<Boundary> kBoundaryNames[] = {
    {"periodic", Boundary::periodic}, {"reflecting", Boundary::reflecting}, {"absorbing", Boundary::absorbing}};
constexpr std::span<const core::Named<Boundary>> names_of(Boundary) { return kBoundaryNames; }

inline const char* to_string(Boundary b) { return core::name_of(b).data(); }  // the table's words are literals

template <int D>
class Grid {
  static_assert(D >= 1 && D <= 3, "qtzflow grids have 1, 2 or 3 axes");

 public:
  using Shape = std::array<std::size_t, D>;
  using Point = std::array<double, D>;
  static constexpr int dim = D;

  Grid(Shape n, Point lower, Point upper, Boundary boundary = Boundary::periodic) : n_(n), lower_(lower), upper_(upper), boundary_(boundary) {
    for (int a = 0; a < D; ++a) {
      const std::string ax = "[" + std::to_string(a) + "]";
      core::require_at_least("grid.n" + ax, static_cast<long long>(n[a]), 2);
      core::require_finite("grid.lower" + ax, lower[a]);
      core::require_finite("grid.upper" + ax, upper[a]);
      if (!(lower[a] < upper[a]))
        core::throw_invalid("grid.upper" + ax, core::format_value(upper[a]), "> grid.lower" + ax + " = " + core::format_value(lower[a]));
      h_[a] = (upper[a] - lower[a]) / static_cast<double>(n[a]);
      if (!(std::isfinite(h_[a]) && lower[a] + 0.5 * h_[a] > lower[a] && upper[a] - 0.5 * h_[a] < upper[a]))
        core::throw_invalid(
            "grid.n" + ax, std::to_string(n[a]) + " points on [" + core::format_value(lower[a]) + ", " + core::format_value(upper[a]) + "]",
            "points that differ in double precision (a spacing of " + core::format_value(h_[a]) + " is lost against the box's corner)");
    }
    double points = 1;
    for (auto v : n) points *= static_cast<double>(v);
    core::require_memory("grid.n", 8 * points, "one field of a grid of " + core::format_value(points) + " points");
  }

  const Shape& shape() const { return n_; }
  std::size_t n(int axis) const { return n_[axis]; }
  const Point& lower() const { return lower_; }
  const Point& upper() const { return upper_; }
  Boundary boundary() const { return boundary_; }
  double spacing(int axis) const { return h_[axis]; }
  double length(int axis) const { return upper_[axis] - lower_[axis]; }
  /// Total number of points.
  std::size_t size() const {
    std::size_t s = 1;
    for (auto v : n_) s *= v;
    return s;
  }
  double cell_volume() const {
    double v = 1;
    for (double h : h_) v *= h;
    return v;
  }
  /// Coordinate of cell centre i along axis.
  double x(int axis, std::size_t i) const { return lower_[axis] + (static_cast<double>(i) + 0.5) * h_[axis]; }
  std::vector<double> coordinates(int axis) const {
    std::vector<double> c(n_[axis]);
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = x(axis, i);
    return c;
  }
  /// Wavenumber of FFT mode j (FFT order) along axis.
  double wavenumber(int axis, std::size_t j) const {
    const auto n = static_cast<long long>(n_[axis]);
    const long long m = static_cast<long long>(j) < (n + 1) / 2 ? static_cast<long long>(j) : static_cast<long long>(j) - n;
    return 2 * std::numbers::pi / length(axis) * static_cast<double>(m);
  }
  std::vector<double> wavenumbers(int axis) const {
    std::vector<double> k(n_[axis]);
    for (std::size_t j = 0; j < k.size(); ++j) k[j] = wavenumber(axis, j);
    return k;
  }

 private:
  Shape n_;
  Point lower_, upper_, h_{};
  Boundary boundary_;
};

/// Calls f(local_flat_index, point) for the points of rows [first, first + count) of axis 0, in
/// C order (one rank's block of a distributed field; not for hot loops).
template <int D, class F>
void for_each_point_of_rows(const Grid<D>& g, std::size_t first, std::size_t count, F&& f) {
  typename Grid<D>::Point p{};
  std::size_t flat = 0;
  for (std::size_t i = first; i < first + count; ++i) {
    p[0] = g.x(0, i);
    if constexpr (D == 1) {
      f(flat++, p);
    } else {
      for (std::size_t j = 0; j < g.n(1); ++j) {
        p[1] = g.x(1, j);
        if constexpr (D == 2) {
          f(flat++, p);
        } else {
          for (std::size_t k = 0; k < g.n(2); ++k) {
            p[2] = g.x(2, k);
            f(flat++, p);
          }
        }
      }
    }
  }
}

/// Calls f(flat_index, point) for every grid point in C order (not for hot loops).
template <int D, class F>
void for_each_point(const Grid<D>& g, F&& f) {
  for_each_point_of_rows(g, 0, g.n(0), std::forward<F>(f));
}

}  // namespace qtzflow::grids
