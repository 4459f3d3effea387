#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "../check.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"

using namespace qtzflow;
using potentials::make_objective;

namespace {
std::vector<int> dims_of(const potentials::ObjectiveInfo& info) {
  std::vector<int> d;
  for (int k = std::max(1, info.min_dim); k <= std::min(3, info.max_dim); ++k) d.push_back(k);
  return d;
}
}  // namespace

TEST_CASE("every objective's gradient and Laplacian agree with finite differences") {
  std::mt19937_64 rng(7);
  for (const auto& info : potentials::objective_catalog()) {
    for (int d : dims_of(info)) {
      auto f = make_objective(info.name, d);
      CAPTURE(info.name);
      CAPTURE(d);
      for (int trial = 0; trial < 20; ++trial) {
        std::vector<double> x(static_cast<std::size_t>(d));
        for (int i = 0; i < d; ++i) {
          // Points inside the domain, away from the kinks of ackley/salomon/xin_she_yang4 at 0.
          std::uniform_real_distribution<double> u(f->lower()[i], f->upper()[i]);
          do {
            x[static_cast<std::size_t>(i)] = u(rng);
          } while (std::abs(x[static_cast<std::size_t>(i)]) < 0.05);
        }
        // Central differences: truncation (h²/6)|f'''| (schaffer2 at |x| ~ 100 has |f'''| ~ 1e7)
        // plus round-off ε|f|/h (griewank: |f| ~ 100): h = 1e-6 keeps both below 1e-6 relative.
        const double h = 1e-6;
        std::vector<double> g(static_cast<std::size_t>(d)), gp(g.size()), gm(g.size());
        f->gradient(x, g);
        double lap_fd = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          auto xp = x, xm = x;
          xp[i] += h;
          xm[i] -= h;
          const double fd = (f->value(xp) - f->value(xm)) / (2 * h);
          // absolute, scaled: central differences err by O(h²) relative to the size of f and g
          CHECK_ABS(g[i], fd, 1e-5 * (1 + std::abs(f->value(x)) + std::max(std::abs(g[i]), std::abs(fd))));
          f->gradient(xp, gp);
          f->gradient(xm, gm);
          lap_fd += (gp[i] - gm[i]) / (2 * h);
        }
        CHECK_ABS(f->laplacian(x), lap_fd, 1e-5 * (1 + std::abs(lap_fd) + std::max(std::abs(f->laplacian(x)), std::abs(lap_fd))));
      }
    }
  }
}

TEST_CASE("the listed minima are stationary local minima with the published values") {
  for (const auto& info : potentials::objective_catalog()) {
    for (int d : dims_of(info)) {
      auto f = make_objective(info.name, d);
      CAPTURE(info.name);
      CAPTURE(d);
      REQUIRE(!f->minima().empty());
      CHECK(f->minima().front().global);
      for (const auto& m : f->minima()) {
        CHECK_ABS(f->value(m.x), m.f, 1e-12 * (1 + std::abs(m.f)));  // absolute 1e-12·(1 + |f*|)
        std::vector<double> g(m.x.size());
        f->gradient(m.x, g);
        const bool kink = info.name == "ackley" || info.name == "salomon" || info.name == "xin_she_yang4";
        for (double gi : g) CHECK(std::abs(gi) < (kink ? 1e-12 : 1e-8));
        for (std::size_t i = 0; i < m.x.size(); ++i)
          for (double dlt : {-1e-3, 1e-3}) {
            auto y = m.x;
            y[i] += dlt;
            CHECK(f->value(y) > m.f);
          }
        if (m.global) CHECK(m.f <= f->minima().back().f);
      }
    }
  }
}

TEST_CASE("published values of docs/objectives.md") {
  auto dw = make_objective("double_well", 1, {{"c", {0.3}}});
  REQUIRE(dw->minima().size() == 2);
  CHECK_ABS(dw->minima()[0].x[0], -1.035580, 2e-6);  // absolute: the exact root is -1.0355787, the published -1.035580 is off by 1.3e-6
  CHECK_ABS(dw->minima()[0].f, -0.3054285, 1e-7);
  CHECK_ABS(dw->minima()[1].x[0], 0.960150, 1e-6);
  CHECK_ABS(dw->minima()[1].f, 0.294146, 1e-6);
  CHECK_ABS(dw->value(std::vector<double>{0.0754}), 1.0113, 1e-4);
  auto dw2 = make_objective("double_well", 2, {{"c", {0.3}}});
  CHECK(dw2->minima().size() == 4);
  CHECK_ABS(dw2->minima()[0].f, -0.3054285 * 2, 2e-7);
  CHECK(make_objective("double_well", 3)->minima().size() == 8);

  auto wb = make_objective("washboard", 1);
  CHECK_ABS(wb->minima()[0].x[0], -0.156884, 1e-6);
  CHECK_ABS(wb->minima()[0].f, 0.0030804, 1e-7);
  CHECK_ABS(wb->minima()[1].f, 0.02772, 1e-5);

  for (int d = 1; d <= 3; ++d) {
    auto st = make_objective("styblinski_tang", d);
    CHECK_REL(st->minima()[0].f, -39.16616570377 * d, 1e-12);  // relative: 13 published digits
    CHECK_ABS(st->minima()[0].x[0], -2.903534018, 2e-8);       // absolute: the exact root is -2.9035340278, the published value is off by 1e-8
  }
  CHECK(make_objective("xin_she_yang4", 2)->minima()[0].f == doctest::Approx(1.0));
  CHECK(make_objective("drop_wave", 2)->minima()[0].f == doctest::Approx(0.0));
  CHECK(make_objective("himmelblau", 2)->minima().size() == 4);
}

TEST_CASE("registry: unknown names, parameters and dimensions are rejected with the key") {
  CHECK_THROWS_WITH_AS(make_objective("rastrign", 2), doctest::Contains("objective.name"), core::UnknownName);
  CHECK_THROWS_WITH_AS(make_objective("rastrigin", 2, {{"c", {1.0}}}), doctest::Contains("objective.c"), core::UnknownName);
  CHECK_THROWS_WITH_AS(make_objective("washboard", 2), doctest::Contains("dimension"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(make_objective("himmelblau", 3), doctest::Contains("2 for objective himmelblau"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(make_objective("harmonic", 2, {{"a", {1.0, 2.0, 3.0}}}), doctest::Contains("1 or d = 2"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(make_objective("harmonic", 1, {{"a", {-1.0}}}), doctest::Contains("objective.a"), core::InvalidArgument);
  CHECK_THROWS_AS(make_objective("double_well", 1, {{"c", {std::nan("")}}}), core::InvalidArgument);
  auto h = make_objective("harmonic", 2, {{"a", {1.0, 4.0}}});
  CHECK(h->value(std::vector<double>{1.0, 1.0}) == doctest::Approx(2.5));
}

TEST_CASE("sampled potentials: witten V_T and objective V = f, non-finite potentials rejected") {
  auto f = make_objective("harmonic", 1);
  grids::Grid<1> g({64}, {-5.0}, {5.0});
  potentials::Landscape<1> land(*f, g);
  const double T = 0.25;
  const auto V = land.potential(potentials::PotentialKind::witten, T);
  const auto Vf = land.potential(potentials::PotentialKind::objective, T);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double x = g.x(0, i);
    CHECK(V[i] == doctest::Approx(x * x / (4 * T) - 0.5));
    CHECK(Vf[i] == doctest::Approx(0.5 * x * x));
  }
  // time-dependent term f·Ṫ/(2T²)
  const auto Vt = land.potential(potentials::PotentialKind::witten, T, -0.1);
  CHECK(Vt[3] - V[3] == doctest::Approx(0.5 * g.x(0, 3) * g.x(0, 3) * (-0.1) / (2 * T * T)));
  CHECK_THROWS_AS(land.potential(potentials::PotentialKind::witten, 0.0), core::InvalidArgument);

  // salomon on an odd grid samples its cone at 0: the witten potential is rejected, naming the point
  auto s = make_objective("salomon", 2);
  grids::Grid<2> odd({9, 9}, {-4.5, -4.5}, {4.5, 4.5});  // h = 1: the centre point is exactly 0
  potentials::Landscape<2> sl(*s, odd);
  CHECK_THROWS_WITH_AS(sl.potential(potentials::PotentialKind::witten, 1.0), doctest::Contains("(0, 0)"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(potentials::Landscape<2>(*make_objective("rastrigin", 3), odd), doctest::Contains("dimension"), core::InvalidArgument);
}

TEST_CASE("schedules: values and derivatives") {
  const auto c = potentials::Schedule::constant(0.5);
  CHECK(c.T(10) == 0.5);
  CHECK(c.Tdot(3) == 0);
  const auto l = potentials::Schedule::logarithmic(2.0);
  CHECK(l.T(0) == doctest::Approx(2 / std::log(2.0)));
  const double h = 1e-6;
  CHECK_REL(l.Tdot(1.5), (l.T(1.5 + h) - l.T(1.5 - h)) / (2 * h), 1e-7);  // relative: central difference O(h²)
  const auto gm = potentials::Schedule::geometric(1.0, 0.9);
  CHECK(gm.T(2) == doctest::Approx(0.81));
  CHECK_REL(gm.Tdot(1.0), (gm.T(1 + h) - gm.T(1 - h)) / (2 * h), 1e-7);
  // the paper's law: Q_p = η 2^{t/τ} doubles every τ, T = C_q/(2 Q_p)
  const auto p = potentials::Schedule::paper(2.0, 0.25, 3.0);
  CHECK(p.T(0) == doctest::Approx(4.0));
  CHECK(p.T(3) == doctest::Approx(2.0));
  CHECK(p.T(6) == doctest::Approx(1.0));
  CHECK_REL(p.Tdot(1.0), (p.T(1 + h) - p.T(1 - h)) / (2 * h), 1e-7);
  CHECK_THROWS_WITH_AS(potentials::Schedule::paper(2.0, 0.0, 1.0), doctest::Contains("schedule.eta"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(potentials::Schedule::constant(-1), doctest::Contains("schedule.T"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(potentials::Schedule::geometric(1, 1.5), doctest::Contains("schedule.gamma"), core::InvalidArgument);
}
