#include <doctest/doctest.h>

#include "../check.hpp"
#include "../split_step_fixtures.hpp"

using namespace qtzflow;
using namespace qtzflow::testing;

TEST_CASE("free Gaussian packet: amplitude and phase match the exact solution") {
  // i∂tψ = −TΔψ: the kinetic step is exact for V = 0, so only round-off remains.
  const double T = 0.7, sigma2 = 0.5, x0 = -3, k0 = 2.5, t_end = 2.0;
  // a box wide enough that the spreading packet stays below 1e-16 at the (periodic) edges
  grids::Grid<1> g({1024}, {-40.0}, {40.0});
  auto exact = [&](double t) {
    grids::Field<complex, 1> psi(g.shape());
    const complex a(sigma2, T * t);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double x = g.x(0, i), c = x - x0 - 2 * T * k0 * t;
      psi[i] = std::pow(2 * pi * sigma2, -0.25) * std::sqrt(sigma2 / a) * std::exp(-c * c / (4.0 * a) + complex(0, k0 * x - T * k0 * k0 * t));
    }
    return psi;
  };
  SplitStepSolver<1> s(g, grids::Field<double, 1>(g.shape(), 0.0), T, options(TimeMode::real, 0.01));
  s.set_state(exact(0));
  s.advance(200);
  CHECK(s.time() == doctest::Approx(t_end));
  const auto want = exact(t_end);
  const auto& got = s.psi();
  double amp_err = 0, phase_err = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    amp_err = std::max(amp_err, std::abs(std::abs(got[i]) - std::abs(want[i])));
    if (std::abs(want[i]) > 1e-3) phase_err = std::max(phase_err, std::abs(std::arg(got[i] / want[i])));
  }
  CHECK(amp_err < 1e-12);
  CHECK(phase_err < 1e-10);
}

TEST_CASE("2D coherent state: Strang stays on the exact orbit and conserves the energy") {
  grids::Grid<2> g({64, 64}, {-8.0, -8.0}, {8.0, 8.0});
  auto f = potentials::make_objective("harmonic", 2);
  potentials::Landscape<2> land(*f, g);
  SplitStepSolver<2> s(land, PotentialKind::objective, Schedule::constant(0.5), options(TimeMode::real, 2 * pi / 400));
  s.set_state(coherent_state<2>(g, {1.5, -1.0}, 0));
  const double e0 = s.energy();
  CHECK_REL(e0, 1.0 + 0.5 * (1.5 * 1.5 + 1.0), 2e-12);  // D/2 + |x0|²/2; relative
  s.advance(100);
  CHECK(l2_distance(g, s.psi(), coherent_state<2>(g, {1.5, -1.0}, s.time())) < 2e-4);
  const auto m = solver::moments(g, s.psi(), solver::abs2);
  CHECK_ABS(m.mean[0], 1.5 * std::cos(s.time()), 2.5e-4);  // absolute: Strang O(dt²) on the orbit
  CHECK(std::abs(s.energy() - e0) < 2.5e-4);               // Strang conserves a modified energy: |ΔE| = O(dt²), dt² = 2.5e-4
  CHECK_ABS(s.norm(), 1.0, 2e-13);                         // absolute: unitary to round-off
}

TEST_CASE("3D: coherent state after one period, and the witten ground state in imaginary time") {
  grids::Grid<3> g({32, 32, 32}, {-8.0, -8.0, -8.0}, {8.0, 8.0, 8.0});
  auto f = potentials::make_objective("harmonic", 3);
  potentials::Landscape<3> land(*f, g);
  SplitStepSolver<3> re(land, PotentialKind::objective, Schedule::constant(0.5), options(TimeMode::real, 2 * pi / 100, SplitScheme::yoshida4));
  re.set_state(coherent_state<3>(g, {1.0, 0.5, -1.5}, 0));
  re.advance(100);
  // Yoshida with 100 steps per period: error ~ 1e-5 (the 1D order test gives 1.9e-5 at x0 = 2)
  CHECK(l2_distance(g, re.psi(), coherent_state<3>(g, {1.0, 0.5, -1.5}, 2 * pi)) < 3e-5);
  SplitStepSolver<3> im(land, PotentialKind::witten, Schedule::constant(0.5), options(TimeMode::imaginary, 0.01));
  im.set_state(grids::Field<double, 3>(g.shape(), 1.0));
  const auto gs = im.relax(1e-10, 5000, 50);
  CHECK(gs.converged);
  CHECK(std::abs(gs.energy) < 1e-4);  // E0 = 0 + O(dt²): 2.1e-5 at dt = 0.01 in 1D, per axis
  CHECK(l2_distance(g, gs.phi, potentials::witten_ground_state(*f, g, 0.5)) < 1e-4);
}

TEST_CASE("merged half-steps give the same result as separate Strang steps") {
  grids::Grid<1> g({128}, {-10.0}, {10.0});
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  potentials::Landscape<1> land(*f, g);
  for (auto mode : {TimeMode::real, TimeMode::imaginary}) {
    SplitStepSolver<1> a(land, PotentialKind::witten, Schedule::constant(0.5), options(mode, 1e-3));
    SplitStepSolver<1> b(land, PotentialKind::witten, Schedule::constant(0.5), options(mode, 1e-3));
    grids::Field<double, 1> start(g.shape());
    for (std::size_t i = 0; i < g.size(); ++i) start[i] = std::exp(-(g.x(0, i) - 0.5) * (g.x(0, i) - 0.5));
    a.set_state(start);
    b.set_state(start);
    a.advance(50);
    for (int k = 0; k < 50; ++k) b.advance(1);
    double diff = 0;
    if (mode == TimeMode::real)
      diff = l2_distance(g, a.psi(), b.psi());
    else
      diff = l2_distance(g, a.phi(), b.phi());
    CHECK(diff < 1e-13);
    CHECK(a.time() == doctest::Approx(b.time()));
  }
}

TEST_CASE("imaginary time with T(t): the Fokker-Planck variance of an OU process") {
  // f = x²/2: FP gives a Gaussian ρ whose variance obeys v' = −2v + 2T(t).  The split-step solves
  // for φ = e^{f/(2T)} ρ with the time-dependent witten potential (incl. f·Ṫ/(2T²)).
  const double T0 = 1.0, gamma = 0.6, v0 = 0.5, t_end = 2.0, dt = 2e-3;
  grids::Grid<1> g({256}, {-10.0}, {10.0});
  auto f = potentials::make_objective("harmonic", 1);
  potentials::Landscape<1> land(*f, g);
  const auto sched = Schedule::geometric(T0, gamma);
  SplitStepSolver<1> s(land, PotentialKind::witten, sched, options(TimeMode::imaginary, dt));
  grids::Field<double, 1> phi0(g.shape());
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double x = g.x(0, i);
    phi0[i] = std::exp(x * x / (4 * T0) - x * x / (2 * v0));
  }
  s.set_state(phi0);
  s.advance(static_cast<long>(std::lround(t_end / dt)));
  grids::Field<double, 1> rho(g.shape());
  const double T = sched.T(s.time());
  for (std::size_t i = 0; i < g.size(); ++i) rho[i] = std::exp(-land.f()[i] / (2 * T)) * s.phi()[i];
  const auto m = solver::moments(g, rho, solver::identity);
  // v(t) by RK4 with a step far below the solver's.
  double v = v0, t = 0;
  const int n = 20000;
  const double h = t_end / n;
  auto rhs = [&](double tt, double vv) { return -2 * vv + 2 * sched.T(tt); };
  for (int k = 0; k < n; ++k, t += h) {
    const double k1 = rhs(t, v), k2 = rhs(t + h / 2, v + h / 2 * k1), k3 = rhs(t + h / 2, v + h / 2 * k2), k4 = rhs(t + h, v + h * k3);
    v += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  CHECK(m.mean[0] == doctest::Approx(0.0).scale(1));
  CHECK_ABS(m.variance(0), v, 1.5e-5);  // absolute: Strang O(dt²) ≈ 4e-6
  // the variance lags the quasi-static value T(t): the check above tests the dynamics
  CHECK(std::abs(v - T) > 1e-2);
}

TEST_CASE("the absorbing layer removes an outgoing packet") {
  grids::Grid<1> g({512}, {-20.0}, {20.0});
  auto opt = options(TimeMode::real, 0.01);
  opt.absorber_width = 8;
  opt.absorber_strength = 5;
  SplitStepSolver<1> s(g, grids::Field<double, 1>(g.shape(), 0.0), 0.5, opt);
  grids::Field<complex, 1> psi(g.shape());
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double x = g.x(0, i);
    psi[i] = std::exp(complex(-x * x / 8, 3 * x));  // group velocity 2Tk = 3, momentum spread 0.35
  }
  s.set_state(psi);
  const double n0 = s.norm();
  s.advance(2000);  // t = 20: even k = 3 − 4σ_k has travelled 32 > 12, the distance to the layer
  MESSAGE("norm left " << s.norm() / n0);
  CHECK(s.norm() < 1e-4 * n0);
}

TEST_CASE("bad input raises typed exceptions naming the parameter and the range") {
  grids::Grid<1> g({64}, {-5.0}, {5.0});
  auto f = potentials::make_objective("harmonic", 1);
  potentials::Landscape<1> land(*f, g);
  const grids::Field<double, 1> zero(g.shape(), 0.0);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, 0.0, options(TimeMode::real, 0.01)), doctest::Contains("schedule.T"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, -1.0, options(TimeMode::real, 0.01)), doctest::Contains("> 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, 1.0, options(TimeMode::real, 0.0)), doctest::Contains("schrodinger.dt"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, 1.0, options(TimeMode::real, -1e-3)), doctest::Contains("finite and > 0"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, 1.0, options(TimeMode::imaginary, 0.01, SplitScheme::yoshida4)),
                       doctest::Contains("schrodinger.scheme"), core::InvalidArgument);
  grids::Field<double, 1> bad(g.shape(), 0.0);
  bad[10] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, bad, 1.0, options(TimeMode::real, 0.01)), doctest::Contains("potential"), core::InvalidArgument);
  grids::Grid<1> walled({64}, {-5.0}, {5.0}, grids::Boundary::reflecting);
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(walled, zero, 1.0, options(TimeMode::real, 0.01)), doctest::Contains("grid.boundary"),
                       core::InvalidArgument);
  auto abs_opt = options(TimeMode::imaginary, 0.01);
  abs_opt.absorber_width = 1;
  CHECK_THROWS_WITH_AS(SplitStepSolver<1>(g, zero, 1.0, abs_opt), doctest::Contains("schrodinger.absorber_width"), core::InvalidArgument);
  SplitStepSolver<1> s(land, PotentialKind::witten, Schedule::constant(1.0), options(TimeMode::imaginary, 0.01));
  CHECK_THROWS_WITH_AS(s.set_state(zero), doctest::Contains("non-zero"), core::InvalidArgument);
  CHECK_THROWS_AS(s.psi(), core::InvalidArgument);
}

TEST_CASE("a run that blows up stops with a NumericalError naming the step") {
  // exp(−V dt) with V = −1e5 overflows within a few steps in imaginary time
  grids::Grid<1> g({32}, {-1.0}, {1.0});
  SplitStepSolver<1> s(g, grids::Field<double, 1>(g.shape(), -1e5), 1.0, options(TimeMode::imaginary, 0.01));
  s.set_state(grids::Field<double, 1>(g.shape(), 1.0));
  CHECK_THROWS_WITH_AS(s.advance(10), doctest::Contains("step 1"), core::NumericalError);
}
