// Error-controlled Fokker–Planck steps (solver/fokker_planck.hpp, core/step_control.hpp): the
// estimator against the true local error, tolerance proportionality, landing on requested
// times, positivity and mass, restarts, bad input.  The reference is the exact solution of the
// semi-discrete equation in 1D, ρ(t) = exp(tL)ρ0, from an independent dense eigendecomposition
// of the Scharfetter–Gummel generator L (no time error at all).
#include <doctest/doctest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../check.hpp"
#include "core/step_control.hpp"
#include "potentials/objective.hpp"
#include "solver/fokker_planck.hpp"

using namespace qtzflow;
using potentials::Schedule;
using solver::FokkerPlanckSolver;
using solver::FpScheme;

namespace {

/// The tilted 1D double well on a reflecting grid at T = 0.4, from a narrow Gaussian in the
/// shallower well: the density crosses the barrier within t ~ 1.
struct Problem {
  std::unique_ptr<potentials::Objective> f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  grids::Grid<1> g{{120}, {-2.0}, {2.0}, grids::Boundary::reflecting};
  potentials::Landscape<1> land{*f, g};
  double T = 0.4;
  grids::Field<double, 1> start() const {
    grids::Field<double, 1> r(g.shape());
    double m = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double x = g.x(0, i);
      r[i] = std::exp(-(x - 1.0) * (x - 1.0) / (2 * 0.02));
      m += r[i] * g.cell_volume();
    }
    for (double& v : r) v /= m;
    return r;
  }
  /// exp(tL)ρ0 with L the scheme's generator, built here from its definition: the rate from cell
  /// k to k+1 is (T/h²)·B((f_{k+1} − f_k)/T), B(x) = x/(eˣ − 1), and back (T/h²)·B(−Δ).
  std::vector<double> exact(double t) const {
    const auto n = static_cast<Eigen::Index>(g.size());
    const double c = T / (g.spacing(0) * g.spacing(0));
    auto B = [](double x) { return std::abs(x) < 1e-12 ? 1.0 : x / std::expm1(x); };
    Eigen::MatrixXd L = Eigen::MatrixXd::Zero(n, n);
    const auto& fv = land.f();
    for (Eigen::Index k = 0; k + 1 < n; ++k) {
      const double d = (fv[static_cast<std::size_t>(k + 1)] - fv[static_cast<std::size_t>(k)]) / T;
      const double up = c * B(d), down = c * B(-d);
      L(k + 1, k) += up, L(k, k) -= up, L(k, k + 1) += down, L(k + 1, k + 1) -= down;
    }
    // similar to a symmetric matrix through the Gibbs weights π ∝ e^{−f/T}
    Eigen::VectorXd s(n);
    for (Eigen::Index k = 0; k < n; ++k) s(k) = std::exp(-(fv[static_cast<std::size_t>(k)] - fv[0]) / (2 * T));
    const Eigen::MatrixXd S = s.asDiagonal().inverse() * L * s.asDiagonal();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (S + S.transpose()));
    const auto r0 = start();
    Eigen::VectorXd v(n);
    for (Eigen::Index k = 0; k < n; ++k) v(k) = r0[static_cast<std::size_t>(k)] / s(k);
    const Eigen::VectorXd w = eig.eigenvectors() * (eig.eigenvalues() * t).array().exp().matrix().asDiagonal() * (eig.eigenvectors().transpose() * v);
    std::vector<double> out(static_cast<std::size_t>(n));
    for (Eigen::Index k = 0; k < n; ++k) out[static_cast<std::size_t>(k)] = s(k) * w(k);
    return out;
  }
  double l1(const grids::Field<double, 1>& a, const std::vector<double>& b) const {
    double e = 0;
    for (std::size_t i = 0; i < a.size(); ++i) e += std::abs(a[i] - b[i]) * g.cell_volume();
    return e;
  }
  solver::FokkerPlanckOptions options(double tol, double dt = 0.2) const {
    solver::FokkerPlanckOptions o{dt, FpScheme::extrapolated_euler};
    o.control.tolerance = tol;
    return o;
  }
};

}  // namespace

TEST_CASE("Fokker-Planck error control: the achieved global error follows the tolerance") {
  Problem p;
  const double t_end = 2.0;
  const auto exact = p.exact(t_end);
  // Error per unit time over the horizon (core/step_control.hpp) bounds the global error by about
  // tol when local errors add up; this problem relaxes, so older errors decay and the achieved
  // error is a fixed fraction of tol: measured 0.0127 at 1e-3 (pre-asymptotic: the first steps
  // are limited by the narrow start), then 0.0376, 0.0398, 0.0388, 0.0388, 0.0390.
  std::vector<double> ratio, steps;
  for (double tol : {1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8}) {
    FokkerPlanckSolver<1> s(p.land, Schedule::constant(p.T), p.options(tol));
    s.set_state(p.start());
    s.advance_to(t_end);
    const double err = p.l1(s.rho(), exact);
    MESSAGE("tol " << tol << ": global L1 error " << err << " (ratio " << err / tol << "), steps " << s.step_state().accepted << " + "
                   << s.step_state().rejected << " rejected");
    CHECK(s.time() == t_end);
    CHECK(err <= tol);  // a bound (measured ratios <= 0.040)
    ratio.push_back(err / tol);
    steps.push_back(static_cast<double>(s.step_state().accepted));
  }
  // the observed order of the propagated solution: steps ∝ tol^(−1/p) with p = 2, i.e. 0.5 decades
  // of steps per decade of tolerance (measured 0.475, 0.503, 0.497 from 1e-4 to 1e-7): absolute.
  // The last decade (0.413) is left out: at 1e-8 per unit time the local errors near the end
  // reach the estimate's 16-ulp rounding floor.
  for (std::size_t k = 1; k + 2 < steps.size(); ++k) CHECK_ABS(std::log10(steps[k + 1] / steps[k]), 0.5, 0.07);
  // proportional: from 1e-4 to 1e-8 the ratio stays within a factor 1.5 (measured 1.06); a
  // controller that aimed at the error per step (not per unit time) would drift by ~3x per decade
  const auto [lo, hi] = std::minmax_element(ratio.begin() + 1, ratio.end());
  CHECK(*hi / *lo <= 1.5);
}

TEST_CASE("Fokker-Planck error control: the estimate tracks the true local error") {
  // one step of h from the start: estimate (the controller's record) against ‖T32 − exp(hL)ρ0‖₁
  Problem p;
  for (double h : {0.04, 0.02, 0.01}) {
    FokkerPlanckSolver<1> s(p.land, Schedule::constant(p.T), p.options(1.0, h));  // tolerance 1: the step is accepted
    s.set_state(p.start());
    s.advance_to(h);
    REQUIRE(s.step_state().accepted == 1);
    const double truth = p.l1(s.rho(), p.exact(h)), estimate = s.step_state().last_error;
    MESSAGE("h " << h << ": estimate " << estimate << ", true local error " << truth << ", ratio " << estimate / truth);
    CHECK(estimate / truth >= 0.8);  // measured 0.956, 0.962, 0.977 (the issue asks [0.5, 2]; a factor 2 in the estimate must fail)
    CHECK(estimate / truth <= 1.25);
  }
}

TEST_CASE("Fokker-Planck error control: lands on every requested time, restarts bit for bit") {
  Problem p;
  auto opts = p.options(1e-5);
  opts.control.horizon = 2.0;  // the run's duration, as the run loop sets it
  FokkerPlanckSolver<1> a(p.land, Schedule::logarithmic(0.8), opts);  // T(t) varies: factors rebuilt every sub-step
  a.set_state(p.start());
  for (double t : {0.3, 0.7, 1.0}) {
    a.advance_to(t);
    CHECK(a.time() == t);  // exactly: the last step is shortened to land there
  }
  const auto rho_mid = a.rho();
  const auto state_mid = a.step_state();
  a.advance_to(2.0);
  // a restart from t = 1 with the density and the controller's state continues identically
  FokkerPlanckSolver<1> b(p.land, Schedule::logarithmic(0.8), opts);
  b.set_state(rho_mid, 1.0);
  b.restore_step_state(state_mid);
  b.advance_to(2.0);
  CHECK(b.time() == 2.0);
  CHECK(b.step_state().accepted == a.step_state().accepted);
  CHECK(std::equal(a.rho().begin(), a.rho().end(), b.rho().begin()));
  // without the controller's state the steps differ (the test can fail)
  FokkerPlanckSolver<1> c(p.land, Schedule::logarithmic(0.8), opts);
  c.set_state(rho_mid, 1.0);
  c.advance_to(2.0);
  CHECK_FALSE(std::equal(a.rho().begin(), a.rho().end(), c.rho().begin()));
}

TEST_CASE("Fokker-Planck error control: every accepted step is non-negative and conserves mass") {
  // a narrow start next to an absorbing wall, loose tolerance: large first steps whose order-2
  // solution undershoots, so the limiter towards the 3-sub-step backward Euler is exercised
  auto f = potentials::make_objective("harmonic", 1, {{"a", {0.1}}});
  grids::Grid<1> g({200}, {-2.0}, {2.0}, grids::Boundary::absorbing);
  potentials::Landscape<1> land(*f, g);
  solver::FokkerPlanckOptions opts{0.5, FpScheme::extrapolated_euler};
  opts.control.tolerance = 1e-2;
  FokkerPlanckSolver<1> s(land, Schedule::constant(1.0), opts);
  grids::Field<double, 1> start(g.shape(), 0.0);
  start[190] = 1 / g.cell_volume();  // a point mass: the steepest start
  s.set_state(start);
  const double m0 = s.mass();
  for (double t = 0.05; t <= 1.0001; t += 0.05) {
    s.advance_to(t);
    for (double v : s.rho()) REQUIRE(v >= 0);
    CHECK(std::abs(s.mass() + s.outflow() - m0) <= 1e-13);  // absolute, mass 1: round-off of ~1e3 additions
  }
  MESSAGE("steps " << s.step_state().accepted << ", rejected " << s.step_state().rejected << ", limited " << s.limited_steps() << ", outflow "
                   << s.outflow());
  CHECK(s.limited_steps() > 0);
  CHECK(s.outflow() > 0.3);
}

TEST_CASE("Fokker-Planck error control: bad keys are refused with their names, a stall stops the run") {
  Problem p;
  auto refused = [&](solver::FokkerPlanckOptions o, const char* key) {
    try {
      FokkerPlanckSolver<1> s(p.land, Schedule::constant(p.T), o);
      FAIL("accepted: " << key);
    } catch (const core::InvalidArgument& e) {
      CHECK(e.key() == key);
    }
  };
  auto o = p.options(-1e-3);
  refused(o, "fokker_planck.tolerance");
  o = p.options(std::nan(""));
  refused(o, "fokker_planck.tolerance");
  o = p.options(1e-3);
  o.control.dt_min = 1.0;  // > dt = 0.2
  refused(o, "fokker_planck.dt_min");
  o = p.options(1e-3);
  o.scheme = FpScheme::backward_euler;  // no error estimate
  refused(o, "fokker_planck.tolerance");
  // fixed-step and adaptive calls do not mix
  FokkerPlanckSolver<1> fixed(p.land, Schedule::constant(p.T), {0.01, FpScheme::extrapolated_euler});
  fixed.set_state(p.start());
  CHECK_THROWS_AS(fixed.advance_to(1.0), core::InvalidArgument);
  // a tolerance the step floor cannot reach: NumericalError naming dt_min and the time
  o = p.options(1e-12);
  o.control.dt_min = 1e-3;
  FokkerPlanckSolver<1> s(p.land, Schedule::constant(p.T), o);
  s.set_state(p.start());
  CHECK_THROWS_AS(s.advance(1), core::InvalidArgument);
  try {
    s.advance_to(1.0);
    FAIL("no stall");
  } catch (const core::NumericalError& e) {
    MESSAGE(std::string(e.what()));
    CHECK(std::string(e.what()).find("dt_min") != std::string::npos);
    CHECK(std::string(e.what()).find("t = ") != std::string::npos);
  }
}
