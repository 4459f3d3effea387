// `qtzflow spectrum` (scenario/spectrum.hpp): λ_k of the FP generator and E_k of H_T against an
// independent dense eigen-solve, the separable 2D case against 1D, and V3's numbers.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "../check.hpp"
#include "core/error.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "scenario/spectrum.hpp"
#include "verify/physics.hpp"

using namespace qtzflow;

namespace {

/// E1 − E0 of H_T = −T d²/dx² + V_T for f = (x² − 1)² on a periodic grid of n points over
/// [−2.5, 2.5], by second-order differences and a dense symmetric eigen-solve (Eigen).
double dense_gap(std::size_t n, double T) {
  auto f = potentials::make_objective("double_well", 1);
  const double h = 5.0 / static_cast<double>(n);
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<double> x{-2.5 + (static_cast<double>(i) + 0.5) * h};
    std::vector<double> g(1);
    f->gradient(x, g);
    const double V = g[0] * g[0] / (4 * T) - f->laplacian(x) / 2;
    const auto I = static_cast<Eigen::Index>(i);
    H(I, I) = 2 * T / (h * h) + V;
    H(I, static_cast<Eigen::Index>((i + 1) % n)) = -T / (h * h);
    H(I, static_cast<Eigen::Index>((i + n - 1) % n)) = -T / (h * h);
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(H, Eigen::EigenvaluesOnly);
  return es.eigenvalues()(1) - es.eigenvalues()(0);
}

scenario::SpectrumRequest request(const std::string& grid, int count) {
  scenario::SpectrumRequest q;
  q.config = scenario::parse_config("[fokker_planck]\n[objective]\nname = \"double_well\"\n[schedule]\nT = 0.5\n" + grid);
  q.count = count;
  return q;
}

}  // namespace

TEST_CASE("spectrum: lambda1 and E1 of the 1D double well against an independent dense eigen-solve") {
  // the reference: second-order differences at n and 2n, Richardson (4 g(2n) − g(n))/3: O(h⁴)
  const double ref = (4 * dense_gap(1200, 0.5) - dense_gap(600, 0.5)) / 3;
  auto q = request("[grid]\nn = [800]\nlower = [-2.5]\nupper = [2.5]\nboundary = \"reflecting\"\n", 2);
  q.schrodinger = false;
  const auto fp = scenario::spectrum(q);
  REQUIRE(fp.rows.size() == 1);
  CHECK(fp.rows[0].T == 0.5);  // the schedule's T(0)
  CHECK(std::abs(fp.rows[0].lambda[0]) < 1e-9);
  // finite volumes, O(h²) with h = 1/160: measured 1.4e-5 relative (V3)
  CHECK(std::abs(fp.rows[0].lambda[1] / ref - 1) < 5e-5);
  auto qs = request("[grid]\nn = [256]\nlower = [-2.5]\nupper = [2.5]\n", 2);
  qs.fokker_planck = false;
  qs.dt = 2e-3;
  const auto im = scenario::spectrum(qs);
  CHECK(std::abs(im.rows[0].energy[0]) < 1e-6);  // E0 = 0: H_T e^{-f/2T} = 0
  // spectral in space, Richardson in dt (O(dt^4) = 1e-11): the reference's own error dominates
  CHECK(std::abs((im.rows[0].energy[1] - im.rows[0].energy[0]) / ref - 1) < 2e-6);
  MESSAGE("dense " << ref << ", FP " << fp.rows[0].lambda[1] << ", H_T " << im.rows[0].energy[1] - im.rows[0].energy[0]);
}

TEST_CASE("spectrum: the separable 2D double well has the 1D gap, in both engines") {
  const std::string g1 = "[grid]\nn = [48]\nlower = [-2.5]\nupper = [2.5]\nboundary = \"reflecting\"\n";
  const std::string g2 = "[grid]\nn = [48, 48]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\nboundary = \"reflecting\"\n";
  auto q1 = request(g1, 2), q2 = request(g2, 3);
  q1.temperatures = q2.temperatures = {0.6};
  const auto a = scenario::spectrum(q1), b = scenario::spectrum(q2);
  // FP: the 2D finite-volume generator is the Kronecker sum of the 1D ones: λ1 (twice) exactly
  CHECK(std::abs(b.rows[0].lambda[1] / a.rows[0].lambda[1] - 1) < 1e-9);
  CHECK(std::abs(b.rows[0].lambda[2] / a.rows[0].lambda[1] - 1) < 1e-9);
  // H_T: separable too; deflation converges each state to 1e-13 in the norm decay
  CHECK(std::abs((b.rows[0].energy[1] - b.rows[0].energy[0]) / (a.rows[0].energy[1] - a.rows[0].energy[0]) - 1) < 1e-6);
}

TEST_CASE("spectrum: reproduces V3's lambda1 and E1, and refuses bad requests naming them") {
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1);
  const grids::Grid<1> gp({256}, {-2.5}, {2.5});
  const potentials::Landscape<1> lp(*f, gp);
  const double e1 = verify::witten_gap(lp, T, {2e-3, 1e-3}, 1e-13, 5'000'000).extrapolated;
  auto q = request("[grid]\nn = [256]\nlower = [-2.5]\nupper = [2.5]\n", 2);
  q.dt = 2e-3;
  q.fokker_planck = false;
  const auto r = scenario::spectrum(q);
  CHECK(std::abs((r.rows[0].energy[1] - r.rows[0].energy[0]) / e1 - 1) < 1e-8);  // the same computation as V3's (tolerance 1e-13 per state)
  CHECK_THROWS_WITH_AS(scenario::spectrum([&] {
                         auto x = q;
                         x.count = 40;
                         return x;
                       }()),
                       doctest::Contains("count"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::spectrum([&] {
                         auto x = q;
                         x.temperatures = {0.5, -1};
                         return x;
                       }()),
                       doctest::Contains("T"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::spectrum([&] {
                         auto x = q;
                         x.schrodinger = false;
                         return x;
                       }()),
                       doctest::Contains("engines"), core::InvalidArgument);
}

TEST_CASE("spectrum: progress before each engine, and a warning before a long deflation") {
  // the progress callback stops the computation at the deflation's line (nothing slow runs)
  struct Announced {};
  std::vector<std::string> lines;
  auto q = request("[grid]\nn = [64, 64]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\nboundary = \"reflecting\"\n", 2);
  q.progress = [&](std::string_view line) {
    lines.emplace_back(line);
    if (line.find("H_T") != std::string_view::npos) throw Announced{};
  };
  CHECK_THROWS_AS((void)scenario::spectrum(q), Announced);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("Fokker-Planck generator, 2 eigenvalues on 4096 points") != std::string::npos);
  CHECK(lines[1].find("H_T by imaginary-time deflation, 2 states on 4096 points") != std::string::npos);
  CHECK(lines[1].find("this can take minutes; --only fokker_planck") != std::string::npos);  // 4096 points: warned
  // below 4096 points: announced without the warning
  lines.clear();
  q = request("[grid]\nn = [63, 64]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\nboundary = \"reflecting\"\n", 2);
  q.progress = [&](std::string_view line) {
    lines.emplace_back(line);
    if (line.find("H_T") != std::string_view::npos) throw Announced{};
  };
  CHECK_THROWS_AS((void)scenario::spectrum(q), Announced);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].find("can take minutes") == std::string::npos);
}
