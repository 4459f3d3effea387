// The sampled objective (potentials/sampled.hpp): spectral derivatives exact on trigonometric
// polynomials, 4th-order differences converging at order 4 up to the edges, cubic interpolation
// between points at order 4, and the errors naming their key.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "../check.hpp"
#include "core/error.hpp"
#include "potentials/sampled.hpp"
#include "potentials/sampling.hpp"

using namespace qtzflow;

namespace {

constexpr double pi = std::numbers::pi;

template <int D>
potentials::SampledSpec sample(const grids::Grid<D>& g, const std::function<double(const typename grids::Grid<D>::Point&)>& f) {
  potentials::SampledSpec s;
  s.values.resize(g.size());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) { s.values[i] = f(x); });
  return s;
}

// A smooth non-periodic 2D test function with its derivatives.
double g2(double x, double y) { return std::exp(-0.5 * x * x) * std::sin(1.3 * y + 0.4) + 0.2 * x * y * y; }
double g2x(double x, double y) { return -x * std::exp(-0.5 * x * x) * std::sin(1.3 * y + 0.4) + 0.2 * y * y; }
double g2y(double x, double y) { return 1.3 * std::exp(-0.5 * x * x) * std::cos(1.3 * y + 0.4) + 0.4 * x * y; }
double g2lap(double x, double y) {
  const double e = std::exp(-0.5 * x * x), s = std::sin(1.3 * y + 0.4);
  return (x * x - 1) * e * s - 1.69 * e * s + 0.4 * x;
}

/// Worst errors of ∇f and Δf at the grid points, and of f, ∇f between them, on n × n points.
struct Errors {
  double grad = 0, lap = 0, value_between = 0;
};
Errors errors_on(std::size_t n, grids::Boundary b) {
  const grids::Grid<2> g({n, n}, {-2, -1.5}, {2, 1.5}, b);
  const auto f = potentials::make_sampled_objective(g, sample<2>(g, [](const auto& x) { return g2(x[0], x[1]); }));
  const potentials::Landscape<2> land(*f, g);
  Errors e;
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    const double gx = g2x(x[0], x[1]), gy = g2y(x[0], x[1]);
    e.grad = std::max(e.grad, std::abs(std::sqrt(land.grad2()[i]) - std::hypot(gx, gy)));
    e.lap = std::max(e.lap, std::abs(land.laplacian()[i] - g2lap(x[0], x[1])));
  });
  // between the points, edges' half cells included: a 37 × 41 lattice over the whole box
  for (int i = 0; i <= 36; ++i)
    for (int j = 0; j <= 40; ++j) {
      const std::vector<double> x{-2 + 4.0 * i / 36, -1.5 + 3.0 * j / 40};
      e.value_between = std::max(e.value_between, std::abs(f->value(x) - g2(x[0], x[1])));
    }
  return e;
}

std::string error_key(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const core::InvalidArgument& e) {
    return e.key() + " | " + e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("sampled objective: spectral derivatives of a trigonometric polynomial are exact (periodic grid)") {
  // f = sin x cos 2y + 0.3 cos 3x + 0.1 sin(5y) on [0, 2π)², degree 5 < n/2 = 8: the spectral
  // derivatives are exact up to rounding, ~1e-14 × the largest |k|² |f̂| ≈ 2.5.
  const grids::Grid<2> g({16, 16}, {0, 0}, {2 * pi, 2 * pi});
  const auto f = potentials::make_sampled_objective(
      g, sample<2>(g, [](const auto& x) { return std::sin(x[0]) * std::cos(2 * x[1]) + 0.3 * std::cos(3 * x[0]) + 0.1 * std::sin(5 * x[1]); }));
  const potentials::Landscape<2> land(*f, g);
  double worst_g = 0, worst_l = 0;
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    const double fx = std::cos(x[0]) * std::cos(2 * x[1]) - 0.9 * std::sin(3 * x[0]);
    const double fy = -2 * std::sin(x[0]) * std::sin(2 * x[1]) + 0.5 * std::cos(5 * x[1]);
    const double lap = -5 * std::sin(x[0]) * std::cos(2 * x[1]) - 2.7 * std::cos(3 * x[0]) - 2.5 * std::sin(5 * x[1]);
    std::array<double, 2> gr{};
    f->gradient(x, gr);
    worst_g = std::max({worst_g, std::abs(gr[0] - fx), std::abs(gr[1] - fy)});
    worst_l = std::max(worst_l, std::abs(land.laplacian()[i] - lap));
  });
  MESSAGE("spectral: worst |grad error| " << worst_g << ", |lap error| " << worst_l);
  CHECK(worst_g <= 1e-12);  // absolute; measured ~1e-15
  CHECK(worst_l <= 1e-12);  // absolute; measured ~4e-15
  // 1D and 3D take the same route: a single mode along the last (half-spectrum) axis
  const grids::Grid<3> g3({8, 6, 10}, {0, 0, 0}, {2 * pi, 2 * pi, 2 * pi});
  const auto f3 =
      potentials::make_sampled_objective(g3, sample<3>(g3, [](const auto& x) { return std::cos(x[0]) + std::sin(2 * x[1]) * std::cos(3 * x[2]); }));
  const potentials::Landscape<3> land3(*f3, g3);
  double worst3 = 0;
  grids::for_each_point(g3, [&](std::size_t i, const auto& x) {
    worst3 = std::max(worst3, std::abs(land3.laplacian()[i] - (-std::cos(x[0]) - 13 * std::sin(2 * x[1]) * std::cos(3 * x[2]))));
  });
  CHECK(worst3 <= 1e-12);  // absolute
}

TEST_CASE("sampled objective: the Nyquist mode has no first derivative, and the Laplacian keeps it") {
  // f = cos(4x) on 8 points of [0, 2π): only the Nyquist mode.  Its samples are those of
  // cos(4x) and of any alias; ∂f is set to 0 (no real odd derivative), Δf = −16 f.
  const grids::Grid<1> g({8}, {0}, {2 * pi});
  const auto f = potentials::make_sampled_objective(g, sample<1>(g, [](const auto& x) { return std::cos(4 * x[0]); }));
  const potentials::Landscape<1> land(*f, g);
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    CHECK_ABS(land.grad2()[i], 0.0, 1e-24);                           // absolute, of |∇f|²
    CHECK_ABS(land.laplacian()[i], -16 * std::cos(4 * x[0]), 1e-12);  // absolute
  });
}

TEST_CASE("sampled objective: 4th-order differences converge at order 4 up to the edges (reflecting grid)") {
  const Errors e1 = errors_on(80, grids::Boundary::reflecting), e2 = errors_on(160, grids::Boundary::reflecting);
  const double og = std::log2(e1.grad / e2.grad), ol = std::log2(e1.lap / e2.lap), ov = std::log2(e1.value_between / e2.value_between);
  MESSAGE("n 80 -> 160: grad " << e1.grad << " -> " << e2.grad << " (order " << og << "), lap " << e1.lap << " -> " << e2.lap << " (order " << ol
                               << "), value between points " << e1.value_between << " -> " << e2.value_between << " (order " << ov << ")");
  // observed orders within 0.3 of 4 (measured 4.03, 3.99, 4.00; at n = 40 -> 80 the Laplacian's
  // edge stencil is still pre-asymptotic, 4.5)
  CHECK(std::abs(og - 4) <= 0.3);
  CHECK(std::abs(ol - 4) <= 0.3);
  CHECK(std::abs(ov - 4) <= 0.3);
  // and small in absolute terms at n = 160 (f and its derivatives are O(1)): a lost factor would show
  CHECK(e2.grad <= 5e-7);  // absolute; measured 1.2e-7
  CHECK(e2.lap <= 2e-6);   // absolute; measured 5.2e-7
}

TEST_CASE("sampled objective: equals the objective it samples at the grid points, with the grid's box as its domain") {
  const grids::Grid<2> g({24, 20}, {-1, -2}, {2, 1}, grids::Boundary::absorbing);
  const auto f = potentials::make_sampled_objective(g, sample<2>(g, [](const auto& x) { return g2(x[0], x[1]); }));
  CHECK(f->name() == "sampled");
  CHECK(f->lower() == std::vector<double>{-1, -2});
  CHECK(f->upper() == std::vector<double>{2, 1});
  grids::for_each_point(g, [&](std::size_t, const auto& x) { CHECK_ABS(f->value(x), g2(x[0], x[1]), 1e-14); });  // interpolation is exact at nodes
  // a periodic grid wraps: f(x + L) = f(x)
  const grids::Grid<1> p({32}, {0}, {2 * pi});
  const auto fp = potentials::make_sampled_objective(p, sample<1>(p, [](const auto& x) { return std::sin(x[0]); }));
  const std::vector<double> a{0.3}, b{0.3 + 2 * pi}, c{0.3 - 4 * pi};
  CHECK_ABS(fp->value(b), fp->value(a), 1e-14);
  CHECK_ABS(fp->value(c), fp->value(a), 1e-14);
  CHECK_ABS(fp->value(a), std::sin(0.3), 2e-5);  // cubic interpolation, h = 0.2: h⁴/24·|f''''| ≈ 7e-5 bound, measured 1e-5
}

TEST_CASE("sampled objective: minima given are checked and sorted, the lowest marked global") {
  const grids::Grid<1> g({64}, {-2}, {2}, grids::Boundary::reflecting);
  auto s = sample<1>(g, [](const auto& x) { return std::pow(x[0] * x[0] - 1, 2) + 0.3 * x[0]; });
  s.minima = {{0.96}, {-1.04}};
  const auto f = potentials::make_sampled_objective(g, s);
  REQUIRE(f->minima().size() == 2);
  CHECK(f->minima()[0].x[0] == -1.04);
  CHECK(f->minima()[0].global);
  CHECK_FALSE(f->minima()[1].global);
}

TEST_CASE("sampled objective: bad samples are refused naming the key") {
  const grids::Grid<2> g({8, 8}, {-1, -1}, {1, 1}, grids::Boundary::reflecting);
  auto s = sample<2>(g, [](const auto& x) { return x[0] + x[1]; });
  s.source = "f.h5:/f";
  auto short_one = s;
  short_one.values.pop_back();
  CHECK(error_key([&] {
          (void)potentials::make_sampled_objective(g, short_one);
        }).find("objective.file | objective.file = 63 values in f.h5:/f") == 0);
  auto nan = s;
  nan.values[9] = NAN;
  const std::string m = error_key([&] { (void)potentials::make_sampled_objective(g, nan); });
  CHECK(m.find("objective.file") == 0);
  CHECK(m.find("(-0.625, -0.625)") != std::string::npos);  // the point is named
  const grids::Grid<2> small({8, 5}, {-1, -1}, {1, 1}, grids::Boundary::reflecting);
  auto s5 = sample<2>(small, [](const auto& x) { return x[0]; });
  CHECK(error_key([&] { (void)potentials::make_sampled_objective(small, s5); }).find("grid.n | grid.n = 5 points on axis 1") == 0);
  auto far = s;
  far.minima = {{0.0, 3.0}};
  CHECK(error_key([&] { (void)potentials::make_sampled_objective(g, far); }).find("objective.minima") == 0);
}
