// Internal to the Fokker–Planck solver: the Bernoulli function and the line geometry shared by
// the time stepper and the spectrum.  Not a public header.
#pragma once

#include <cmath>
#include <cstddef>

#include "grids/grid.hpp"

namespace qtzflow::solver::fp_detail {

/// Bernoulli function B(x) = x/(eˣ − 1), B(0) = 1, accurate for all x.
inline double bernoulli(double x) {
  if (std::abs(x) < 1e-6) return 1 - x / 2 + x * x / 12;
  return x / std::expm1(x);
}

/// Geometry of the lines along one axis: `count` lines of `n` cells `stride` apart.
struct Lines {
  std::size_t n, stride, count;
  std::size_t base(std::size_t line) const {
    const std::size_t outer = line / stride, inner = line % stride;
    return outer * n * stride + inner;
  }
};

template <int D>
Lines lines_of(const grids::Grid<D>& g, int axis) {
  std::size_t stride = 1;
  for (int a = axis + 1; a < D; ++a) stride *= g.n(a);
  return {g.n(axis), stride, g.size() / g.n(axis)};
}

}  // namespace qtzflow::solver::fp_detail
