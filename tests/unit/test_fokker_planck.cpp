#include <doctest/doctest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "../check.hpp"
#include "core/parallel.hpp"
#include "potentials/objective.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"
#include "verify/physics.hpp"

using namespace qtzflow;
using potentials::Schedule;
using solver::FokkerPlanckSolver;

namespace {

template <int D>
grids::Field<double, D> gaussian_density(const grids::Grid<D>& g, double centre, double var) {
  grids::Field<double, D> r(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double e = 0;
    for (double v : x) e += (v - centre) * (v - centre);
    r[i] = std::exp(-e / (2 * var));
  });
  const double m = solver::integral(g, r, solver::identity);
  for (double& v : r) v /= m;
  return r;
}

/// f ≡ 0 in any dimension: the Fokker-Planck equation is the heat equation ∂ρ/∂t = TΔρ.
class Flat : public potentials::Objective {
 public:
  explicit Flat(int d) : Objective("flat", d, {}) {}
  double value(std::span<const double>) const override { return 0; }
  void gradient(std::span<const double>, std::span<double> g) const override { std::fill(g.begin(), g.end(), 0.0); }
  double laplacian(std::span<const double>) const override { return 0; }
};

/// The lowest eigenvalue of -T d²/dx² as the scheme discretises it on n cells of [0, L] with
/// ρ = 0 on the walls (the cell faces): 3-point stencil, end cells coupled to the wall at h/2.
double dirichlet_eigenvalue(std::size_t n, double L, double T) {
  const double h = L / static_cast<double>(n), c = T / (h * h);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    A(i, i) = (i == 0 || i + 1 == A.rows()) ? 3 * c : 2 * c;
    if (i > 0) A(i, i - 1) = A(i - 1, i) = -c;
  }
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(A, Eigen::EigenvaluesOnly).eigenvalues()(0);
}

/// The decay rate of the mass of ∂ρ/∂t = TΔρ with ρ = 0 on the walls, started from the
/// slowest Dirichlet mode Π sin(π (x_a − lower_a)/L_a), measured over t in [2, 4], when the
/// faster modes the grid's sampling of the sine adds (rates >= 9 lambda) have died out.
template <int D>
double dirichlet_decay_rate(std::size_t n, const std::array<double, D>& L, double T) {
  Flat flat(D);
  typename grids::Grid<D>::Shape shape;
  typename grids::Grid<D>::Point lo, hi;
  for (int a = 0; a < D; ++a) shape[a] = n, lo[a] = -L[a] / 2, hi[a] = L[a] / 2;
  grids::Grid<D> g(shape, lo, hi, grids::Boundary::absorbing);
  potentials::Landscape<D> land(flat, g);
  const double dt = 2e-3;
  FokkerPlanckSolver<D> s(land, Schedule::constant(T), {dt, solver::FpScheme::extrapolated_euler});
  grids::Field<double, D> mode(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double v = 1;
    for (int a = 0; a < D; ++a) v *= std::sin(std::numbers::pi * (x[a] - lo[a]) / L[a]);
    mode[i] = v;
  });
  s.set_state(mode);
  s.advance(1000);
  const double m1 = s.mass();
  s.advance(1000);
  return -std::log(s.mass() / m1) / (1000 * dt);
}

}  // namespace

TEST_CASE("Fokker-Planck: absorbing walls decay at the analytic Dirichlet rate T*pi^2*sum(1/L^2), order 2 in h (1D, 2D)") {
  const double T = 0.5;
  // 1D, L = 4: lambda = T (pi/L)^2.  The scheme's own rate is the lowest eigenvalue of its
  // operator (walls on the cell faces), which tends to lambda at order h^2.
  const double L = 4, lambda = T * std::pow(std::numbers::pi / L, 2);
  std::vector<double> err;
  for (std::size_t n : {25, 50, 100}) {
    const double rate = dirichlet_decay_rate<1>(n, {L}, T);
    const double discrete = dirichlet_eigenvalue(n, L, T);
    MESSAGE("1D n = " << n << ": rate " << rate << ", analytic " << lambda << ", 3-point eigenvalue " << discrete);
    // relative: extrapolated Euler's time error, O((lambda dt)^2); measured 6.3e-8 at every n
    CHECK_REL(rate, discrete, 2e-7);
    err.push_back(std::abs(rate / lambda - 1));
  }
  for (std::size_t k = 0; k + 1 < err.size(); ++k) {
    const double order = std::log2(err[k] / err[k + 1]);
    MESSAGE("1D observed order in h: " << order);
    CHECK_ABS(order, 2.0, 0.05);  // absolute; measured 1.9992, 1.9990 (the ghost-cell wall of 0.1 gave 0.97)
  }
  CHECK(err.back() < 1e-4);  // relative to lambda; measured 8.2e-5 at n = 100
  // 2D, 4 x 2 box: lambda = T pi^2 (1/16 + 1/4), the sum of the two 1D rates
  const double lambda2 = T * std::numbers::pi * std::numbers::pi * (1.0 / 16 + 1.0 / 4);
  std::vector<double> err2;
  for (std::size_t n : {16, 32, 64}) {
    const double rate = dirichlet_decay_rate<2>(n, {4.0, 2.0}, T);
    double discrete = 0;
    for (double La : {4.0, 2.0}) discrete += dirichlet_eigenvalue(n, La, T);
    MESSAGE("2D n = " << n << ": rate " << rate << ", analytic " << lambda2 << ", discrete " << discrete);
    CHECK_REL(rate, discrete, 3e-6);  // relative: time error O((lambda dt)^2), lambda 5x the 1D one; measured 8.2e-7
    err2.push_back(std::abs(rate / lambda2 - 1));
  }
  for (std::size_t k = 0; k + 1 < err2.size(); ++k) CHECK_ABS(std::log2(err2[k] / err2[k + 1]), 2.0, 0.05);  // measured 1.998, 1.995
}

TEST_CASE("Fokker-Planck: mass exact, positive for every dt, free energy non-increasing") {
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  for (auto boundary : {grids::Boundary::reflecting, grids::Boundary::periodic}) {
    grids::Grid<2> g({64, 64}, {-2.0, -2.0}, {2.0, 2.0}, boundary);
    potentials::Landscape<2> land(*f, g);
    for (double dt : {1e-3, 1.0, 100.0}) {
      CAPTURE(dt);
      FokkerPlanckSolver<2> s(land, Schedule::constant(0.5), {dt});
      s.set_state(gaussian_density(g, 1.0, 0.05));
      const double m0 = s.mass();
      double F = s.free_energy(), rho_min = 1;
      bool monotone = true;
      const long steps = dt < 0.01 ? 10000 : 50;
      for (long k = 0; k < steps; ++k) {
        s.advance(1);
        for (double v : s.rho()) rho_min = std::min(rho_min, v);
        const double Fn = s.free_energy();
        monotone = monotone && Fn <= F + 1e-13 * std::abs(F);
        F = Fn;
      }
      MESSAGE(std::string(grids::to_string(boundary))
              << " dt " << dt << ": relative mass change " << std::abs(s.mass() - m0) / m0 << ", min rho " << rho_min);
      CHECK(std::abs(s.mass() - m0) / m0 < 1e-13);
      CHECK(rho_min >= 0);
      CHECK(monotone);
    }
  }
}

TEST_CASE("Fokker-Planck: the discrete Gibbs state is stationary to 1e-12 and the long-time limit") {
  auto f = potentials::make_objective("rastrigin", 2);
  for (auto boundary : {grids::Boundary::reflecting, grids::Boundary::periodic}) {
    grids::Grid<2> g({96, 96}, {-2.5, -2.5}, {2.5, 2.5}, boundary);
    potentials::Landscape<2> land(*f, g);
    FokkerPlanckSolver<2> s(land, Schedule::constant(2.0), {0.01});
    const auto pi = s.gibbs(2.0);
    s.set_state(pi);
    s.advance(100);
    double worst = 0;
    for (std::size_t i = 0; i < pi.size(); ++i) worst = std::max(worst, std::abs(s.rho()[i] - pi[i]) / pi[i]);
    MESSAGE(std::string(grids::to_string(boundary)) << ": max relative change of the Gibbs state over 100 steps " << worst);
    CHECK(worst < 1e-12);
  }
  // from a point mass far from equilibrium to π (1D double well, T = 1: λ1 ≈ 0.6, so t = 60 leaves e^{-36})
  auto dw = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  grids::Grid<1> g({200}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*dw, g);
  FokkerPlanckSolver<1> s(land, Schedule::constant(1.0), {0.05});
  grids::Field<double, 1> start(g.shape(), 0.0);
  start[180] = 1 / g.cell_volume();
  s.set_state(start);
  s.advance(1200);
  CHECK(solver::l1_distance(g, s.rho(), s.gibbs(1.0)) < 1e-10);
}

namespace {
/// OU process (f = x²/2, T = 1/2) from N(1, 0.2): mean e^{-t}, variance T + (0.2 − T) e^{-2t}.
std::pair<double, double> ou_errors(std::size_t n, double dt, double t_end) {
  auto f = potentials::make_objective("harmonic", 1);
  grids::Grid<1> g({n}, {-6.0}, {6.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  FokkerPlanckSolver<1> s(land, Schedule::constant(0.5), {dt});
  s.set_state(gaussian_density(g, 1.0, 0.2));
  s.advance(std::lround(t_end / dt));
  const auto m = solver::moments(g, s.rho(), solver::identity);
  const double mean = std::exp(-t_end), var = 0.5 + (0.2 - 0.5) * std::exp(-2 * t_end);
  return {std::abs(m.mean[0] - mean), std::abs(m.variance(0) - var)};
}
}  // namespace

TEST_CASE("Fokker-Planck: Ornstein-Uhlenbeck transient, observed order 1 in dt and 2 in dx") {
  // dt: fine grid (h = 0.012, spatial error ~1e-5 of the variance) and dt halved twice
  std::vector<double> e;
  for (double dt : {0.02, 0.01, 0.005}) e.push_back(ou_errors(1000, dt, 1.0).second);
  for (std::size_t k = 0; k + 1 < e.size(); ++k) {
    const double p = std::log2(e[k] / e[k + 1]);
    MESSAGE("dt order (variance) " << p << " from " << e[k] << " -> " << e[k + 1]);
    CHECK_ABS(p, 1.0, 0.03);  // measured 0.988, 0.993 (the O(dt^2) remainder): absolute
  }
  // dx: dt small enough (1e-5: time error ~5e-7, 1 % of the finest spatial error) that the
  // spatial error dominates
  std::vector<double> m;
  for (std::size_t n : {40, 80, 160}) m.push_back(ou_errors(n, 1e-5, 0.5).second);
  for (std::size_t k = 0; k + 1 < m.size(); ++k) {
    const double p = std::log2(m[k] / m[k + 1]);
    MESSAGE("dx order (variance) " << p << " from " << m[k] << " -> " << m[k + 1]);
    CHECK_ABS(p, 2.0, 0.05);  // measured 2.014, 1.982: absolute
  }
}

TEST_CASE("Fokker-Planck: absorbing boundary, mass + outflow conserved") {
  auto f = potentials::make_objective("harmonic", 1, {{"a", {0.1}}});
  grids::Grid<1> g({200}, {-2.0}, {2.0}, grids::Boundary::absorbing);
  potentials::Landscape<1> land(*f, g);
  FokkerPlanckSolver<1> s(land, Schedule::constant(1.0), {0.01});
  s.set_state(gaussian_density(g, 0.9, 0.05));
  const double m0 = s.mass();
  s.advance(2000);
  MESSAGE("mass " << s.mass() << ", outflow " << s.outflow());
  CHECK(s.outflow() > 0.5);
  CHECK(std::abs(s.mass() + s.outflow() - m0) < 1e-13);
  for (double v : s.rho()) CHECK(v >= 0);
}

TEST_CASE("Fokker-Planck: results do not depend on the thread count") {
  auto f = potentials::make_objective("rastrigin", 2);
  grids::Grid<2> g({160, 160}, {-2.5, -2.5}, {2.5, 2.5}, grids::Boundary::periodic);
  potentials::Landscape<2> land(*f, g);
  const int saved = core::thread_count();
  std::vector<grids::Field<double, 2>> out;
  for (int t : {1, 2}) {
    core::set_thread_count(t);
    FokkerPlanckSolver<2> s(land, Schedule::logarithmic(3.0), {0.01});
    s.set_state(gaussian_density(g, 0.5, 0.3));
    s.advance(20);
    out.push_back(s.rho());
  }
  core::set_thread_count(saved);
  CHECK(std::equal(out[0].begin(), out[0].end(), out[1].begin()));
}

TEST_CASE("Fokker-Planck: bad input is rejected with the key") {
  auto f = potentials::make_objective("harmonic", 1);
  grids::Grid<1> g({32}, {-3.0}, {3.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<1>(land, Schedule::constant(1.0), {0.0}), doctest::Contains("fokker_planck.dt"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<1>(land, Schedule::constant(-1.0), {0.1}), doctest::Contains("schedule.T"), core::InvalidArgument);
  FokkerPlanckSolver<1> s(land, Schedule::constant(1.0), {0.1});
  grids::Field<double, 1> bad(g.shape(), 1.0);
  bad[3] = -0.1;
  CHECK_THROWS_WITH_AS(s.set_state(bad), doctest::Contains(">= 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(s.set_state(grids::Field<double, 1>(g.shape(), 0.0)), doctest::Contains("normalisable"), core::InvalidArgument);
  bad[3] = std::nan("");
  CHECK_THROWS_AS(s.set_state(bad), core::InvalidArgument);
  // f = x²/2 on [−3, 3], 32 cells, T = 1: the outermost faces carry |Δf| = (x_31² − x_30²)/2
  const double x31 = g.x(0, 31), x30 = g.x(0, 30);
  CHECK(s.max_cell_peclet() == doctest::Approx((x31 * x31 - x30 * x30) / 2));
}

TEST_CASE("Fokker-Planck spectrum: lambda1 equals E1 of H_T, the difference falling at order 2 in h") {
  // λ1 of the finite-volume generator against E1 − E0 of the spectral witten Hamiltonian (exact
  // in space to round-off; its Strang time error is removed by Richardson extrapolation).
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1);
  grids::Grid<1> gs({256}, {-2.5}, {2.5});
  potentials::Landscape<1> ls(*f, gs);
  const double e1 = verify::witten_gap(ls, T, {5e-4, 2.5e-4}, 1e-14, 1'000'000).extrapolated;  // the code V3 runs
  std::vector<double> err;
  for (std::size_t n : {200, 400, 800}) {
    grids::Grid<1> g({n}, {-2.5}, {2.5}, grids::Boundary::reflecting);
    potentials::Landscape<1> land(*f, g);
    FokkerPlanckSolver<1> s(land, Schedule::constant(T), {0.01});
    const auto lam = s.spectrum(3);
    CHECK(std::abs(lam[0]) < 1e-10);
    err.push_back(std::abs(lam[1] - e1) / e1);
    MESSAGE("n = " << n << ": lambda1 = " << lam[1] << ", E1 = " << e1 << ", relative difference " << err.back());
  }
  CHECK(err.back() < 1e-4);
  for (std::size_t k = 0; k + 1 < err.size(); ++k) CHECK_ABS(std::log2(err[k] / err[k + 1]), 2.0, 0.01);  // measured 1.9997, 2.000: absolute
}

TEST_CASE("Kramers: lambda1 of a symmetric double well approaches 2k as T falls") {
  // f = (x² − 1)²: f''(±1) = 8, f''(0) = −4, barrier 1, so 2k = 2·√32/(2π)·e^{−1/T}.
  auto f = potentials::make_objective("double_well", 1);
  grids::Grid<1> g({1000}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  std::vector<double> ratio;
  for (double T : {0.25, 0.2, 0.15, 0.1, 0.075}) {
    FokkerPlanckSolver<1> s(land, Schedule::constant(T), {0.01});
    const double lam = s.spectrum(2)[1], kramers = verify::double_well_kramers_2k(T);  // the rate V4 checks against
    ratio.push_back(lam / kramers);
    MESSAGE("T = " << T << ": lambda1 = " << lam << ", 2k = " << kramers << ", ratio " << ratio.back());
  }
  for (std::size_t k = 0; k + 1 < ratio.size(); ++k) CHECK(std::abs(ratio[k + 1] - 1) < std::abs(ratio[k] - 1));
  CHECK(std::abs(ratio.back() - 1) < 0.1);
}

TEST_CASE("spectrum: shift-invert Lanczos equals the dense eigensolver for every boundary") {
  // Lanczos stops at a residual of 1e-12 relative to the Ritz values of (A - sigma I)^-1; the
  // eigenvalues then agree with the dense solver to that order (1e-9 leaves room for round-off
  // in the LU of a matrix whose condition grows like 1/|sigma|).
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  for (auto b : {grids::Boundary::reflecting, grids::Boundary::periodic, grids::Boundary::absorbing}) {
    grids::Grid<2> g({40, 36}, {-2.0, -2.0}, {2.0, 2.0}, b);
    potentials::Landscape<2> land(*f, g);
    FokkerPlanckSolver<2> s(land, Schedule::constant(0.3), {0.01});
    const auto dense = s.spectrum(4, solver::SpectrumMethod::dense), sparse = s.spectrum(4, solver::SpectrumMethod::sparse);
    for (int k = 0; k < 4; ++k) {
      CAPTURE(k);
      if (k == 0) {
        // lambda0 = 0 (mass conserved) or, absorbing, ~1e-12 (the Gibbs state leaks over barriers
        // of ~12 T): both solvers leave round-off of ~eps·|A|·sqrt(N) ~ 1e-12 there
        CHECK(std::abs(sparse[0] - dense[0]) < 1e-11);
        if (b != grids::Boundary::absorbing) CHECK(std::abs(sparse[0]) < 1e-11);
      } else {
        CHECK_REL(sparse[k], dense[k], 1e-9);
      }
    }
  }
  grids::Grid<2> g({40, 36}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
  potentials::Landscape<2> land(*f, g);
  FokkerPlanckSolver<2> s(land, Schedule::constant(0.3), {0.01});
  CHECK_THROWS_AS(s.spectrum(720, solver::SpectrumMethod::sparse), core::InvalidArgument);  // Lanczos needs 2 count + 1 <= N
  CHECK_THROWS_AS(s.spectrum(1440), core::InvalidArgument);                                 // count < N
  CHECK(s.spectrum(400).size() == 400);                                                     // many eigenvalues: dense
}

TEST_CASE("spectrum: lambda1 on grids beyond the dense limit converges at order 2 in h") {
  // 2D symmetric double well, T = 0.15: lambda1 ~ 2e-3 (Kramers), 128^2 and 256^2 points are
  // far beyond the dense solver; second-order finite volumes give an observed order of 2.
  auto f = potentials::make_objective("double_well", 2);
  std::vector<double> lam;
  for (std::size_t n : {64, 128, 256}) {
    grids::Grid<2> g({n, n}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
    potentials::Landscape<2> land(*f, g);
    lam.push_back(FokkerPlanckSolver<2>(land, Schedule::constant(0.15), {0.01}).spectrum(2)[1]);
    MESSAGE("n = " << n << ": lambda1 = " << lam.back());
  }
  const double order = std::log2((lam[0] - lam[1]) / (lam[1] - lam[2]));
  MESSAGE("observed order " << order);
  CHECK_ABS(order, 2.0, 0.01);  // measured 2.0025: absolute
  // f = (x² − 1)² + (y² − 1)² is separable: the 2D generator is the Kronecker sum of two 1D ones,
  // so on the same 1D grid λ1(2D) = λ1(1D) exactly (to the eigensolvers' 1e-9)
  grids::Grid<1> g1({256}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  auto f1 = potentials::make_objective("double_well", 1);
  potentials::Landscape<1> land1(*f1, g1);
  CHECK_REL(lam[2], FokkerPlanckSolver<1>(land1, Schedule::constant(0.15), {0.01}).spectrum(2)[1], 1e-9);
}

TEST_CASE("cross-check: FP density equals e^(-f/2T) phi of imaginary time along the trajectory") {
  // Same ρ(0) for both engines; the split-step (spectral in space, Strang dt = 2.5e-4: error
  // ~1e-6) is the reference.  FP error: O(dt) + O(h²); refining h by 3 and dt by 9 together
  // gives observed order 2 in h.  The grids are nested (1215 = 3·405 = 9·135 = 27·45 cells), so
  // every FP cell centre is a reference point: no interpolation error.
  // The comparison V2 runs (verify/physics.hpp), here with backward Euler and dt ∝ h².
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  const std::vector<std::size_t> ns{45, 135, 405};
  const auto cmp = verify::fp_against_imaginary_time(*f, T, 0.9, 0.2, 1215, 2.5e-4, {1.0}, ns, solver::FpScheme::backward_euler, [](std::size_t n) {
    return n == 45 ? 8.1e-3 : n == 135 ? 9e-4 : 1e-4;
  });
  std::vector<double> err;
  for (std::size_t k = 0; k < ns.size(); ++k) {
    err.push_back(cmp.l1[k][0]);
    MESSAGE("n = " << ns[k] << ": L1(rho_FP - e^(-f/2T) phi) = " << err.back());
  }
  std::vector<double> orders;
  for (std::size_t k = 0; k + 1 < err.size(); ++k) {
    orders.push_back(std::log(err[k] / err[k + 1]) / std::log(3.0));
    MESSAGE("observed order in h: " << orders.back());
    // measured 1.822, 1.888: pre-asymptotic (the dt error, O(dt) with dt ~ h^2, is not negligible
    // on the coarse grids); absolute 0.25 around the asymptotic 2, and rising towards it
    CHECK_ABS(orders.back(), 2.0, 0.25);
  }
  CHECK(orders[1] > orders[0]);
}

TEST_CASE("Fokker-Planck Crank-Nicolson: order 2 in dt, conservation, Gibbs, the positivity limit enforced") {
  // Temporal order by self-convergence on one grid (CN's dt limit ~ h²/T keeps its time error
  // far below the spatial one, so comparing with the exact OU solution would measure h²).
  auto f1 = potentials::make_objective("harmonic", 1);
  grids::Grid<1> g1({200}, {-6.0}, {6.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land1(*f1, g1);
  auto run_cn = [&](double dt) {
    FokkerPlanckSolver<1> s(land1, Schedule::logarithmic(1.0), {dt, solver::FpScheme::crank_nicolson});
    s.set_state(gaussian_density(g1, 1.0, 0.2));
    s.advance(std::lround(1.0 / dt));
    return s.rho();
  };
  const auto ref = run_cn(1e-3 / 16);
  std::vector<double> e;
  for (double dt : {2e-3, 1e-3, 5e-4}) e.push_back(solver::l1_distance(g1, run_cn(dt), ref));
  for (std::size_t k = 0; k + 1 < e.size(); ++k) {
    MESSAGE("CN (with T(t)) L1 error " << e[k] << " -> " << e[k + 1] << ", order " << std::log2(e[k] / e[k + 1]));
    CHECK_ABS(std::log2(e[k] / e[k + 1]), 2.0, 0.05);  // measured 2.004, 2.017: absolute
  }

  auto f = potentials::make_objective("rastrigin", 2);
  grids::Grid<2> g({48, 48}, {-2.5, -2.5}, {2.5, 2.5}, grids::Boundary::periodic);
  potentials::Landscape<2> land(*f, g);
  FokkerPlanckSolver<2> s(land, Schedule::constant(2.0), {1e-4, solver::FpScheme::crank_nicolson});
  const auto pi = s.gibbs(2.0);
  s.set_state(pi);
  s.advance(50);
  double worst = 0;
  for (std::size_t i = 0; i < pi.size(); ++i) worst = std::max(worst, std::abs(s.rho()[i] - pi[i]) / pi[i]);
  CHECK(worst < 1e-12);
  s.set_state(gaussian_density(g, 0.5, 0.3));
  const double m0 = s.mass();
  s.advance(200);
  CHECK(std::abs(s.mass() - m0) / m0 < 1e-13);
  for (double v : s.rho()) CHECK(v >= 0);
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<2>(land, Schedule::constant(2.0), {0.1, solver::FpScheme::crank_nicolson}),
                       doctest::Contains("positivity limit"), core::InvalidArgument);
}

TEST_CASE("Fokker-Planck extrapolated Euler: order 2 in dt with no dt limit, mass, Gibbs, outflow") {
  // 2D, split over the axes and with T(t), by self-convergence (as for CN): the extrapolation
  // must cancel both BE's O(dt) and the Lie splitting's O(dt) error.
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  grids::Grid<2> g({64, 64}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
  potentials::Landscape<2> land(*f, g);
  auto run = [&](double dt, solver::FpScheme scheme) {
    FokkerPlanckSolver<2> s(land, Schedule::logarithmic(0.6), {dt, scheme});
    s.set_state(gaussian_density(g, 0.9, 0.05));
    s.advance(std::lround(1.0 / dt));
    return s.rho();
  };
  const auto ref = run(0.04 / 64, solver::FpScheme::extrapolated_euler);
  std::vector<double> e, e_be;
  for (double dt : {0.04, 0.02, 0.01}) {
    e.push_back(solver::l1_distance(g, run(dt, solver::FpScheme::extrapolated_euler), ref));
    e_be.push_back(solver::l1_distance(g, run(dt, solver::FpScheme::backward_euler), ref));
  }
  for (std::size_t k = 0; k + 1 < e.size(); ++k) {
    MESSAGE("extrapolated Euler L1 error " << e[k] << " -> " << e[k + 1] << ", order " << std::log2(e[k] / e[k + 1])
                                           << " (backward Euler at the same dt: " << e_be[k] << ")");
    CHECK_ABS(std::log2(e[k] / e[k + 1]), 2.0, 0.15);  // measured 1.902, 1.947, pre-asymptotic and rising: absolute
  }
  CHECK(e.back() < 0.05 * e_be.back());

  // dt far beyond CN's positivity limit: mass and π exact, the relaxation still reaches π
  FokkerPlanckSolver<2> s(land, Schedule::constant(0.5), {1.0, solver::FpScheme::extrapolated_euler});
  const auto pi = s.gibbs(0.5);
  s.set_state(pi);
  s.advance(20);
  double worst = 0;
  for (std::size_t i = 0; i < pi.size(); ++i) worst = std::max(worst, std::abs(s.rho()[i] - pi[i]) / pi[i]);
  CHECK(worst < 1e-12);
  s.set_state(gaussian_density(g, 0.9, 0.05));
  const double m0 = s.mass();
  s.advance(200);
  CHECK(std::abs(s.mass() - m0) / m0 < 1e-13);
  CHECK(solver::l1_distance(g, s.rho(), pi) < 1e-6);

  auto h = potentials::make_objective("harmonic", 1, {{"a", {0.1}}});
  grids::Grid<1> ga({200}, {-2.0}, {2.0}, grids::Boundary::absorbing);
  potentials::Landscape<1> la(*h, ga);
  FokkerPlanckSolver<1> sa(la, Schedule::constant(1.0), {0.01, solver::FpScheme::extrapolated_euler});
  sa.set_state(gaussian_density(ga, 0.9, 0.05));
  sa.advance(2000);
  CHECK(sa.outflow() > 0.5);
  CHECK(std::abs(sa.mass() + sa.outflow() - 1.0) < 1e-13);
}

TEST_CASE("Fokker-Planck observables: current vanishes at Gibbs, its divergence is the 1D BE update, covariance") {
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  grids::Grid<1> g({120}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  const double dt = 1e-3;
  FokkerPlanckSolver<1> s(land, Schedule::constant(0.7), {dt});
  s.set_state(s.gibbs(0.7));
  double jmax = 0;
  const auto J_eq = s.current();
  for (double v : J_eq[0]) jmax = std::max(jmax, std::abs(v));
  CHECK(jmax < 1e-12);
  // in 1D backward Euler is unsplit: (ρ¹ − ρ⁰)/dt = −(J_i − J_{i−1})/h evaluated at ρ¹
  s.set_state(gaussian_density(g, 0.9, 0.05));
  const auto r0 = s.rho();
  s.advance(1);
  const auto J = s.current()[0];
  double worst = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double div = (J[i] - (i > 0 ? J[i - 1] : 0.0)) / g.spacing(0);
    worst = std::max(worst, std::abs((s.rho()[i] - r0[i]) / dt + div));
  }
  CHECK(worst < 1e-9);  // |dρ/dt| ~ 10: round-off of the solve over dt

  // covariance of a correlated 2D Gaussian density
  grids::Grid<2> g2({160, 160}, {-9.0, -9.0}, {9.0, 9.0});  // tails below 1e-20 at the edges
  grids::Field<double, 2> r(g2.shape());
  grids::for_each_point(g2, [&](std::size_t i, const auto& x) {
    const double u = x[0] - 0.5, v = x[1] + 0.25;  // Σ = [[1, 0.6], [0.6, 1]], inverse /0.64
    r[i] = std::exp(-(u * u - 1.2 * u * v + v * v) / (2 * 0.64));
  });
  const auto m = solver::moments(g2, r, solver::identity);
  CHECK_ABS(m.mean[0], 0.5, 2e-8);  // absolute (moments of a sampled Gaussian, this block)
  CHECK_ABS(m.mean[1], -0.25, 2e-8);
  CHECK_ABS(m.covariance(0, 1), 0.6, 2e-8);
  CHECK_ABS(m.covariance(1, 0), 0.6, 2e-8);
  CHECK_ABS(m.variance(0), 1.0, 2e-8);
}
