#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "../check.hpp"
#include "grids/basins.hpp"
#include "grids/fft.hpp"
#include "grids/grid.hpp"

using namespace qtzflow;
using grids::complex;

TEST_CASE("Grid: cell centres, spacing and FFT-ordered wavenumbers") {
  grids::Grid<2> g({8, 5}, {-2.0, 0.0}, {2.0, 10.0});
  CHECK(g.size() == 40);
  CHECK(g.spacing(0) == doctest::Approx(0.5));
  CHECK(g.spacing(1) == doctest::Approx(2.0));
  CHECK(g.x(0, 0) == doctest::Approx(-1.75));
  CHECK(g.x(1, 4) == doctest::Approx(9.0));
  CHECK(g.cell_volume() == doctest::Approx(1.0));
  const auto k = g.wavenumbers(0);
  const double dk = 2 * std::numbers::pi / 4.0;
  CHECK(k[1] == doctest::Approx(dk));
  CHECK(k[3] == doctest::Approx(3 * dk));
  CHECK(k[4] == doctest::Approx(-4 * dk));  // Nyquist carries the negative sign
  CHECK(k[7] == doctest::Approx(-dk));
  const auto k1 = g.wavenumbers(1);  // odd n: symmetric
  CHECK(k1[2] == doctest::Approx(2 * 2 * std::numbers::pi / 10));
  CHECK(k1[3] == doctest::Approx(-2 * 2 * std::numbers::pi / 10));
}

TEST_CASE("Grid rejects bad input with the key and the range") {
  using G = grids::Grid<1>;
  CHECK_THROWS_WITH_AS(G({1}, {0.0}, {1.0}), doctest::Contains("grid.n[0]"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(G({8}, {1.0}, {1.0}), doctest::Contains("grid.upper[0]"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(G({8}, {0.0}, {std::nan("")}), doctest::Contains("finite"), core::InvalidArgument);
}

TEST_CASE("Field: C order, last index fastest, aligned") {
  grids::Field<double, 3> f({2, 3, 4});
  CHECK(f.size() == 24);
  f(1, 2, 3) = 7;
  CHECK(f[23] == 7);
  f(0, 1, 0) = 5;
  CHECK(f[4] == 5);
  CHECK(reinterpret_cast<std::uintptr_t>(f.data()) % core::kAlignment == 0);
  CHECK(f.global_extent() == f.extent());
}

TEST_CASE("FFT: unnormalised round trip, a plane wave lands on its mode, r2c matches c2c") {
  const std::size_t n0 = 12, n1 = 10;
  grids::Field<complex, 2> u({n0, n1});
  for (std::size_t i = 0; i < n0; ++i)
    for (std::size_t j = 0; j < n1; ++j) u(i, j) = std::polar(1.0, 2 * std::numbers::pi * (3.0 * i / n0 - 2.0 * j / n1));
  auto orig = u;
  grids::ComplexFft<2> fft({n0, n1}, grids::PlanRigor::estimate);
  fft.forward(u);
  // e^{+2πi(3i/n0 − 2j/n1)} → mode (3, n1−2) with amplitude N
  CHECK(std::abs(u(3, n1 - 2) - complex(120.0, 0)) < 1e-10);
  CHECK(std::abs(u(0, 0)) < 1e-10);
  fft.backward(u);
  for (std::size_t i = 0; i < u.size(); ++i) CHECK(std::abs(u[i] * fft.normalisation() - orig[i]) < 1e-13);

  grids::Field<double, 2> r({n0, n1});
  grids::Field<complex, 2> c({n0, n1});
  for (std::size_t i = 0; i < r.size(); ++i) c[i] = r[i] = std::cos(0.37 * i) + 0.1 * i;
  grids::RealFft<2> rfft({n0, n1}, grids::PlanRigor::estimate);
  grids::Field<complex, 2> half(rfft.spectral_extent());
  CHECK(half.extent()[1] == n1 / 2 + 1);
  rfft.forward(r, half);
  fft.forward(c);
  for (std::size_t i = 0; i < n0; ++i)
    for (std::size_t j = 0; j <= n1 / 2; ++j) CHECK(std::abs(half(i, j) - c(i, j)) < 1e-11);
  grids::Field<double, 2> back({n0, n1});
  rfft.backward(half, back);
  for (std::size_t i = 0; i < r.size(); ++i) CHECK_ABS(back[i] * rfft.normalisation(), r[i], 1e-13 * (1 + std::abs(r[i])));
}

TEST_CASE("FFT rejects a field of the wrong extent") {
  grids::ComplexFft<1> fft({16}, grids::PlanRigor::estimate);
  grids::Field<complex, 1> wrong({8});
  CHECK_THROWS_AS(fft.forward(wrong), core::InvalidArgument);
}

TEST_CASE("Basins: a 2D four-well landscape has four basins, label 0 the deepest") {
  grids::Grid<2> g({40, 40}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
  grids::Field<double, 2> f(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    f[i] = (x[0] * x[0] - 1) * (x[0] * x[0] - 1) + (x[1] * x[1] - 1) * (x[1] * x[1] - 1) + 0.3 * x[0] + 0.1 * x[1];
  });
  const auto b = grids::find_basins(g, f);
  REQUIRE(b.count() == 4);
  // deepest well at (-1,-1): label 0 there; quadrants map to distinct labels
  CHECK(b.label(5, 5) == 0);
  CHECK(b.label(34, 34) == 3);
  CHECK(b.label(5, 34) != b.label(34, 5));
  // a uniform density puts about a quarter of the mass in each quadrant basin
  grids::Field<double, 2> rho(g.shape(), 1.0 / 16.0);
  const auto m = grids::mass_per_basin(g, b, rho, [](double v) { return v; });
  double total = 0;
  for (double v : m) total += v;
  CHECK_ABS(total, 1.0, 1e-14);  // 1600 equal cells sum to 1 up to round-off
  // the tilt moves the basin boundary by one column and one row: 21 x 20 and 19 x 20 of the
  // 40 x 40 cells, so each basin holds 0.25 +- 0.0125 exactly
  for (double v : m) CHECK_ABS(std::abs(v - 0.25), 0.0125, 1e-14);
}
