// The expression objective (potentials/expression.hpp): derivatives against analytic ones, the
// same numbers as a built-in, thread safety, and every error naming its key.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "../check.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "potentials/expression.hpp"
#include "potentials/objective.hpp"

using namespace qtzflow;

namespace {

using Fn = std::function<double(const std::vector<double>&)>;
using Grad = std::function<std::vector<double>(const std::vector<double>&)>;

struct Case {
  const char* formula;
  int dim;
  Fn f;
  Grad grad;
  Fn lap;
};

std::unique_ptr<potentials::Objective> expr(const std::string& formula, int dim, potentials::Params params = {}, double lo = -2, double hi = 2) {
  potentials::ExpressionSpec s;
  s.formula = formula;
  s.params = std::move(params);
  s.lower.assign(static_cast<std::size_t>(dim), lo);
  s.upper.assign(static_cast<std::size_t>(dim), hi);
  return potentials::make_expression_objective(s, dim);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const core::InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("expression objective: value, gradient and Laplacian of 12 formulas against analytic derivatives (1e-8 relative)") {
  using V = std::vector<double>;
  const std::vector<Case> cases{
      {"(x^2-1)^2 + 0.3*x", 1, [](const V& x) { return std::pow(x[0] * x[0] - 1, 2) + 0.3 * x[0]; },
       [](const V& x) { return V{4 * x[0] * (x[0] * x[0] - 1) + 0.3}; }, [](const V& x) { return 12 * x[0] * x[0] - 4; }},
      {"sin(3*x) + cos(2*y)", 2, [](const V& x) { return std::sin(3 * x[0]) + std::cos(2 * x[1]); },
       [](const V& x) {
         return V{3 * std::cos(3 * x[0]), -2 * std::sin(2 * x[1])};
       },
       [](const V& x) { return -9 * std::sin(3 * x[0]) - 4 * std::cos(2 * x[1]); }},
      {"exp(-x^2-y^2)", 2, [](const V& x) { return std::exp(-x[0] * x[0] - x[1] * x[1]); },
       [](const V& x) {
         const double e = std::exp(-x[0] * x[0] - x[1] * x[1]);
         return V{-2 * x[0] * e, -2 * x[1] * e};
       },
       [](const V& x) {
         const double r2 = x[0] * x[0] + x[1] * x[1];
         return (4 * r2 - 4) * std::exp(-r2);
       }},
      {"x^4/4 - x^2/2 + y^2/2 + z^2", 3, [](const V& x) { return std::pow(x[0], 4) / 4 - x[0] * x[0] / 2 + x[1] * x[1] / 2 + x[2] * x[2]; },
       [](const V& x) {
         return V{x[0] * x[0] * x[0] - x[0], x[1], 2 * x[2]};
       },
       [](const V& x) { return 3 * x[0] * x[0] - 1 + 1 + 2; }},
      {"x*y*z", 3, [](const V& x) { return x[0] * x[1] * x[2]; },
       [](const V& x) {
         return V{x[1] * x[2], x[0] * x[2], x[0] * x[1]};
       },
       [](const V&) { return 0.0; }},
      {"sqrt(1 + x^2)", 1, [](const V& x) { return std::sqrt(1 + x[0] * x[0]); }, [](const V& x) { return V{x[0] / std::sqrt(1 + x[0] * x[0])}; },
       [](const V& x) { return std::pow(1 + x[0] * x[0], -1.5); }},
      {"ln(2 + x^2) + tanh(y)", 2, [](const V& x) { return std::log(2 + x[0] * x[0]) + std::tanh(x[1]); },
       [](const V& x) {
         return V{2 * x[0] / (2 + x[0] * x[0]), 1 / std::pow(std::cosh(x[1]), 2)};
       },
       [](const V& x) {
         const double u = 2 + x[0] * x[0];
         return (2 * u - 4 * x[0] * x[0]) / (u * u) - 2 * std::tanh(x[1]) / std::pow(std::cosh(x[1]), 2);
       }},
      {"10 + x^2 - 10*cos(2*_pi*x)", 1, [](const V& x) { return 10 + x[0] * x[0] - 10 * std::cos(2 * M_PI * x[0]); },
       [](const V& x) { return V{2 * x[0] + 20 * M_PI * std::sin(2 * M_PI * x[0])}; },
       [](const V& x) { return 2 + 40 * M_PI * M_PI * std::cos(2 * M_PI * x[0]); }},
      {"x0^2 + 2*x1^2 + 3*x2^2 + 4*x3^2", 4, [](const V& x) { return x[0] * x[0] + 2 * x[1] * x[1] + 3 * x[2] * x[2] + 4 * x[3] * x[3]; },
       [](const V& x) {
         return V{2 * x[0], 4 * x[1], 6 * x[2], 8 * x[3]};
       },
       [](const V&) { return 20.0; }},
      {"x^2/8 + 2*sin(10*x) + 2", 1, [](const V& x) { return x[0] * x[0] / 8 + 2 * std::sin(10 * x[0]) + 2; },
       [](const V& x) { return V{x[0] / 4 + 20 * std::cos(10 * x[0])}; }, [](const V& x) { return 0.25 - 200 * std::sin(10 * x[0]); }},
      {"1/(1 + x^2 + y^2)", 2, [](const V& x) { return 1 / (1 + x[0] * x[0] + x[1] * x[1]); },
       [](const V& x) {
         const double u = 1 + x[0] * x[0] + x[1] * x[1];
         return V{-2 * x[0] / (u * u), -2 * x[1] / (u * u)};
       },
       [](const V& x) {
         const double u = 1 + x[0] * x[0] + x[1] * x[1];
         return (-4 * u + 8 * (u - 1)) / (u * u * u);
       }},
      {"atan(x) * exp(y/2)", 2, [](const V& x) { return std::atan(x[0]) * std::exp(x[1] / 2); },
       [](const V& x) {
         return V{std::exp(x[1] / 2) / (1 + x[0] * x[0]), std::atan(x[0]) * std::exp(x[1] / 2) / 2};
       },
       [](const V& x) { return -2 * x[0] * std::exp(x[1] / 2) / std::pow(1 + x[0] * x[0], 2) + std::atan(x[0]) * std::exp(x[1] / 2) / 4; }},
  };
  const std::vector<double> probes{-1.7, -0.93, -0.31, 0.05, 0.58, 1.21, 1.83};
  double worst_g = 0, worst_l = 0;
  for (const auto& c : cases) {
    const std::string formula = c.formula;
    CAPTURE(formula);
    const auto f = expr(c.formula, c.dim);
    for (std::size_t k = 0; k < probes.size(); ++k) {
      std::vector<double> x(static_cast<std::size_t>(c.dim));
      for (std::size_t a = 0; a < x.size(); ++a) x[a] = probes[(k + 3 * a) % probes.size()];
      CAPTURE(x[0]);
      CHECK(std::abs(f->value(x) - c.f(x)) <= 1e-14 * std::max(1.0, std::abs(c.f(x))));  // the formula itself: rounding only
      std::vector<double> g(x.size());
      f->gradient(x, g);
      const auto ge = c.grad(x);
      double err = 0, norm = 0;
      for (std::size_t a = 0; a < g.size(); ++a) {
        err = std::max(err, std::abs(g[a] - ge[a]));
        norm = std::max(norm, std::abs(ge[a]));
      }
      // relative to the gradient's size, with the function's own size as the floor where the
      // gradient vanishes (rounding there is ~eps |f|/h)
      const double scale_g = std::max(norm, 1e-2 * std::max(1.0, std::abs(c.f(x))));
      worst_g = std::max(worst_g, err / scale_g);
      CHECK(err <= 1e-8 * scale_g);
      const double le = c.lap(x), scale_l = std::max(std::abs(le), 1e-2 * std::max(1.0, std::abs(c.f(x))));
      worst_l = std::max(worst_l, std::abs(f->laplacian(x) - le) / scale_l);
      CHECK(std::abs(f->laplacian(x) - le) <= 1e-8 * scale_l);
    }
  }
  MESSAGE("worst relative error: gradient " << worst_g << ", Laplacian " << worst_l);
}

TEST_CASE("expression objective: the 2D tilted double well as a formula equals the built-in") {
  auto built = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  auto mine = expr("(x^2-1)^2 + c*x + (y^2-1)^2 + c*y", 2, {{"c", {0.3}}}, -2.5, 2.5);
  for (double a : {-2.1, -1.0, -0.4, 0.2, 0.9, 1.6})
    for (double b : {-1.3, 0.0, 0.7, 2.2}) {
      const std::vector<double> x{a, b};
      CHECK(std::abs(mine->value(x) - built->value(x)) <= 4e-15 * std::max(1.0, std::abs(built->value(x))));
      std::vector<double> g1(2), g2(2);
      mine->gradient(x, g1);
      built->gradient(x, g2);
      for (int k = 0; k < 2; ++k)
        CHECK(std::abs(g1[static_cast<std::size_t>(k)] - g2[static_cast<std::size_t>(k)]) <=
              1e-9 * std::max(1.0, std::abs(g2[static_cast<std::size_t>(k)])));
      CHECK(std::abs(mine->laplacian(x) - built->laplacian(x)) <= 1e-9 * std::max(1.0, std::abs(built->laplacian(x))));
    }
}

TEST_CASE("expression objective: concurrent evaluation from many threads equals the serial values") {
  auto f = expr("sin(3*x)*cos(y) + x^2*y", 2);
  const int n = 20000;
  std::vector<double> serial(n), parallel(n);
  auto point = [](int i) { return std::vector<double>{-2 + 4.0 * (i % 97) / 97, -2 + 4.0 * (i % 89) / 89}; };
  for (int i = 0; i < n; ++i) serial[static_cast<std::size_t>(i)] = f->value(point(i));
#pragma omp parallel for num_threads(4)
  for (int i = 0; i < n; ++i) {
    std::vector<double> g(2);
    f->gradient(point(i), g);  // moves the variables: must not disturb another thread
    parallel[static_cast<std::size_t>(i)] = f->value(point(i));
  }
  CHECK(serial == parallel);
  // a second objective in the same threads keeps its own compilation
  auto h = expr("x - y", 2);
  CHECK(h->value(std::vector<double>{1, 3}) == -2);
  CHECK(f->value(std::vector<double>{0, 0}) == 0);
}

TEST_CASE("expression objective: minima sorted, the lowest marked global, domain as given") {
  potentials::ExpressionSpec s;
  s.formula = "(x^2-1)^2 + 0.3*x";
  s.lower = {-2};
  s.upper = {2};
  s.minima = {{0.96}, {-1.04}};
  const auto f = potentials::make_expression_objective(s, 1);
  REQUIRE(f->minima().size() == 2);
  CHECK(f->minima()[0].x[0] == -1.04);
  CHECK(f->minima()[0].global);
  CHECK_FALSE(f->minima()[1].global);
  CHECK(f->lower()[0] == -2);
  CHECK(f->upper()[0] == 2);
  CHECK(f->name() == "expression");
}

TEST_CASE("expression objective: bad formulas, parameters, domains and minima are refused naming the key") {
  CHECK(error_of([] { expr("(x^2-1)^2 + *x", 1); }).find("objective.f") != std::string::npos);
  CHECK(error_of([] { expr("(x^2-1)^2 + *x", 1); }).find("position") != std::string::npos);
  const std::string unknown = error_of([] { expr("x + w", 1, {{"a", {1.0}}}); });
  CHECK(unknown.find("unknown name \"w\" at column 5") != std::string::npos);
  CHECK(unknown.find("x, x0") != std::string::npos);
  CHECK(unknown.find("constants a") != std::string::npos);
  CHECK(error_of([] { expr("z", 2); }).find("unknown name \"z\"") != std::string::npos);  // z only in 3D
  CHECK(error_of([] { expr("x + y", 2, {{"y", {1.0}}}); }).find("objective.y") != std::string::npos);
  CHECK(error_of([] { expr("x + a", 1, {{"a", {1.0, 2.0}}}); }).find("objective.a") != std::string::npos);
  CHECK(error_of([] { expr("", 1); }).find("objective.f") != std::string::npos);
  CHECK(error_of([] { expr("sqrt(x)", 1, {}, -2, -1); }).find("domain's centre") != std::string::npos);
  CHECK(error_of([] { expr("x", 1, {}, 1, 1); }).find("objective.domain") != std::string::npos);
  potentials::ExpressionSpec s;
  s.formula = "x^2";
  s.lower = {-1};
  s.upper = {1};
  s.minima = {{3.0}};
  CHECK(error_of([&] { potentials::make_expression_objective(s, 1); }).find("objective.minima") != std::string::npos);
  s.minima = {{0.0, 1.0}};
  CHECK(error_of([&] { potentials::make_expression_objective(s, 1); }).find("objective.minima") != std::string::npos);
  s.minima = {};
  s.lower = {-1, -1};
  CHECK(error_of([&] { potentials::make_expression_objective(s, 1); }).find("objective.domain") != std::string::npos);
}
