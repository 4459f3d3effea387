// Schedules of your own (potentials/schedule.hpp): the monotone table and the formula T(t),
// against their defining properties, and every error naming its key.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../check.hpp"
#include "../test_support.hpp"
#include "core/error.hpp"
#include "potentials/schedule.hpp"
#include "scenario/config.hpp"

using namespace qtzflow;
using potentials::Schedule;

TEST_CASE("table schedule: through the knots, no overshoot, Tdot the derivative of T, constant after the last knot") {
  const std::vector<double> t{0, 1, 2, 5, 10}, T{1.0, 0.9, 0.3, 0.25, 0.01};
  const auto s = Schedule::table(t, T);
  for (std::size_t k = 0; k < t.size(); ++k) CHECK(s.T(t[k]) == T[k]);
  // monotone data, monotone interpolant: T never leaves [T_{k+1}, T_k] inside an interval
  for (std::size_t k = 0; k + 1 < t.size(); ++k)
    for (int j = 1; j < 100; ++j) {
      const double x = t[k] + (t[k + 1] - t[k]) * j / 100.0;
      CHECK(s.T(x) <= T[k]);
      CHECK(s.T(x) >= T[k + 1]);
      CHECK(s.Tdot(x) <= 0);
      // Tdot is the interpolant's derivative: central difference, O(h²) = 1e-8 relative to the scale
      const double h = 1e-5, fd = (s.T(x + h) - s.T(x - h)) / (2 * h);
      CHECK(std::abs(s.Tdot(x) - fd) <= 1e-6 * std::max(1.0, std::abs(fd)));
    }
  CHECK(s.T(50) == 0.01);
  CHECK(s.Tdot(50) == 0);
  // a linear table is reproduced exactly (PCHIP keeps straight lines)
  const auto lin = Schedule::table({0, 1, 2, 3}, {2.0, 1.5, 1.0, 0.5});
  CHECK(std::abs(lin.T(1.37) - (2.0 - 0.5 * 1.37)) < 1e-14);
  CHECK(std::abs(lin.Tdot(2.5) + 0.5) < 1e-14);
  CHECK_THROWS_WITH_AS(Schedule::table({0, 1, 1}, {1, 1, 1}), doctest::Contains("strictly increasing"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(Schedule::table({0, 1}, {1, 0}), doctest::Contains("T > 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(Schedule::table({1, 2}, {1, 1}), doctest::Contains("starts at t = 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(Schedule::table({0}, {1}), doctest::Contains("at least 2"), core::InvalidArgument);
}

TEST_CASE("expression schedule: T(t) is the formula, Tdot its derivative, positivity checked over the whole run") {
  const auto s = Schedule::expression("1.5/ln(t + 2)");
  const auto ref = Schedule::logarithmic(1.5);
  for (double t : {0.0, 0.3, 1.0, 7.0, 40.0, 1000.0}) {
    CHECK(s.T(t) == ref.T(t));                                                 // the same arithmetic: bit for bit
    CHECK(std::abs(s.Tdot(t) - ref.Tdot(t)) <= 1e-9 * std::abs(ref.Tdot(t)));  // 4th-order differences, h = 1e-4 (1 + t)
  }
  // one-sided differences where the formula is undefined for t < 0
  const auto root = Schedule::expression("sqrt(t + 0.01) + 0.1");
  CHECK(std::abs(root.Tdot(0) - 5) <= 1e-6 * 5);            // central, 4th order: (h/0.01)^4 = 1e-8 relative
  const auto half = Schedule::expression("sqrt(t)^2 + 1");  // t + 1, but NaN for t < 0
  CHECK(std::abs(half.Tdot(0) - 1) <= 1e-9);                // the one-sided stencil: exact for a line
  const auto falls = Schedule::expression("1 - t/4");
  CHECK_NOTHROW(falls.require_positive_until(3.9, 0.01));
  CHECK_THROWS_WITH_AS(falls.require_positive_until(10, 0.01), doctest::Contains("schedule.formula"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(Schedule::expression("-1"), doctest::Contains("T > 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(Schedule::expression("1/ln(x)"), doctest::Contains("unknown name \"x\""), core::InvalidArgument);
}

TEST_CASE("schedule.kind = table | expression in the configuration: keys, a two-column file, errors") {
  const std::string base = "[fokker_planck]\nt_end = 10\n[schedule]\n";
  const auto c = scenario::parse_config(base + "kind = \"table\"\ntable = [[0, 1.0], [5, 0.5], [10, 0.1]]\n");
  CHECK(c.schedule.make().T(5) == 0.5);
  CHECK(scenario::parse_config(c.text).text == c.text);
  const auto e = scenario::parse_config(base + "kind = \"expression\"\nformula = \"0.5*2^(-t/4)\"\n");
  CHECK(std::abs(e.schedule.make().T(4) - 0.25) < 1e-15);
  CHECK(scenario::parse_config(e.text).text == e.text);
  const auto dir = testing::scratch_dir("schedule_file");
  {
    std::ofstream(dir / "T.txt") << "# t  T\n0 1.0\n2.5, 0.5   # a comment\n\n10 0.05\n";
    std::ofstream(dir / "bad.txt") << "0 1.0\n2 x\n";
    std::ofstream(dir / "three.txt") << "0 1.0 3\n";
  }
  const auto f = scenario::parse_config(base + "kind = \"table\"\nfile = \"" + (dir / "T.txt").string() + "\"\n");
  CHECK(f.schedule.make().T(2.5) == 0.5);
  CHECK(f.text.find("table = [[0, 1], [2.5, 0.5], [10, 0.05]]") != std::string::npos);  // the knots, not the file name
  auto fails = [&](const std::string& text, const std::string& fragment) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(scenario::parse_config(base + text), doctest::Contains(fragment.c_str()), core::InvalidArgument);
  };
  fails("kind = \"table\"\nfile = \"" + (dir / "bad.txt").string() + "\"\n", "bad.txt:2");
  fails("kind = \"table\"\nfile = \"" + (dir / "three.txt").string() + "\"\n", "three.txt:1: 3 columns");
  fails("kind = \"table\"\nfile = \"" + (dir / "missing.txt").string() + "\"\n", "schedule.file");
  fails("kind = \"table\"\n", "neither table nor file");
  fails("kind = \"table\"\ntable = [[0, 1], [1, 2]]\nfile = \"x\"\n", "both table and file");
  fails("kind = \"table\"\ntable = [[0, 1], [0, 2]]\n", "strictly increasing");
  fails("kind = \"table\"\ntable = [[0, 1], [1, -2]]\n", "T > 0");
  fails("kind = \"table\"\ntable = [[0, 1, 3]]\n", "schedule.table");
  fails("kind = \"constant\"\ntable = [[0, 1], [1, 2]]\n", "schedule.table");
  fails("kind = \"expression\"\n", "schedule.formula");
  fails("kind = \"expression\"\nformula = \"1 - t/4\"\n", "t in [0, 10]");  // T <= 0 from t = 4 on, within the run
  fails("kind = \"logarithmic\"\nformula = \"1\"\n", "schedule.formula");
  std::filesystem::remove_all(dir);
}
