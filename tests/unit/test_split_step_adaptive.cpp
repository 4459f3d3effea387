// Error-controlled split-step Fourier steps (solver/split_step.hpp, core/step_control.hpp): the
// estimators against the true local error, tolerance proportionality, landing on requested times,
// restarts, bad input.  The references are exact: the harmonic coherent state in real time, and
// in imaginary time the displaced ground-state Gaussian, whose normalised shape under e^{−τH}
// (H = −½Δ + ½x²) is π^{-1/4} exp(−(x − x0 e^{−τ})²/2) (a coherent state continued to t = −iτ).
// On 128 points over [−10, 10] the spatial error of both is below 1e-13.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../check.hpp"
#include "../split_step_fixtures.hpp"

using namespace qtzflow;
using namespace qtzflow::testing;

namespace {

struct Harmonic1D {
  grids::Grid<1> g{{128}, {-10.0}, {10.0}};
  std::unique_ptr<potentials::Objective> f = potentials::make_objective("harmonic", 1);
  potentials::Landscape<1> land{*f, g};

  SplitStepSolver<1> solver(TimeMode mode, SplitScheme scheme, double dt, double tol, double horizon = 0) const {
    auto o = options(mode, dt, scheme);
    o.control.tolerance = tol;
    o.control.horizon = horizon;
    return SplitStepSolver<1>(land, PotentialKind::objective, Schedule::constant(0.5), o);
  }
  /// The normalised imaginary-time state at τ from the ground-state Gaussian displaced to x0.
  grids::Field<double, 1> relaxing(double x0, double tau) const {
    grids::Field<double, 1> phi(g.shape());
    const double c = x0 * std::exp(-tau);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double x = g.x(0, i);
      phi[i] = std::pow(pi, -0.25) * std::exp(-0.5 * (x - c) * (x - c));
    }
    return phi;
  }
};

/// One error-controlled step of h (tolerance so loose that it is accepted): the estimate and the
/// true error of the propagated state.
struct OneStep {
  double estimate, error;
};

OneStep one_step(TimeMode mode, SplitScheme scheme, double h) {
  Harmonic1D p;
  auto s = p.solver(mode, scheme, h, 1e3, 1.0);
  const double x0 = 2.0;
  if (mode == TimeMode::real) {
    s.set_state(coherent_state<1>(p.g, {x0}, 0));
    s.advance_to(h);
    return {s.step_state().last_error, l2_distance(p.g, s.psi(), coherent_state<1>(p.g, {x0}, h))};
  }
  s.set_state(p.relaxing(x0, 0));
  s.advance_to(h);
  return {s.step_state().last_error, l2_distance(p.g, s.phi(), p.relaxing(x0, h))};
}

}  // namespace

TEST_CASE("split-step step doubling: the estimate tracks the true local error of the propagated half-steps") {
  struct Case {
    TimeMode mode;
    SplitScheme scheme;
    double h;
  };
  // steps where the local error (1e-5 .. 1e-9) stands well above round-off
  for (const Case c : {Case{TimeMode::real, SplitScheme::strang, 0.05}, Case{TimeMode::real, SplitScheme::chin4, 0.4},
                       Case{TimeMode::real, SplitScheme::yoshida4, 0.2}, Case{TimeMode::imaginary, SplitScheme::strang, 0.05},
                       Case{TimeMode::imaginary, SplitScheme::chin4, 0.4}}) {
    for (double h : {c.h, c.h / 2}) {
      const OneStep r = one_step(c.mode, c.scheme, h);
      MESSAGE(core::name_of(c.mode) << " " << core::name_of(c.scheme) << " h = " << h << ": estimate " << r.estimate << ", true " << r.error
                                    << ", ratio " << r.estimate / r.error);
      // the issue asks for [0.5, 2]; measured 0.989 .. 1.012 (Richardson is asymptotically exact)
      CHECK_ABS(r.estimate / r.error, 1.0, 0.05);
    }
  }
}

TEST_CASE("emb43: the order-4 method has local order 5, its partner (the estimate) local order 4") {
  std::vector<double> est, err;
  for (double h : {0.4, 0.2, 0.1}) {
    const OneStep r = one_step(TimeMode::real, SplitScheme::emb43, h);
    est.push_back(r.estimate);
    err.push_back(r.error);
  }
  for (std::size_t k = 0; k + 1 < est.size(); ++k) {
    MESSAGE("emb43 local error " << err[k] << " -> " << err[k + 1] << " (order " << observed_order(err[k], err[k + 1]) << "), estimate " << est[k]
                                 << " -> " << est[k + 1] << " (order " << observed_order(est[k], est[k + 1]) << ")");
    CHECK_ABS(observed_order(err[k], err[k + 1]), 5.0, 0.1);  // absolute; slope p + 1 = 5
    CHECK_ABS(observed_order(est[k], est[k + 1]), 4.0, 0.1);  // absolute; the order-3 partner's slope 4
    CHECK(est[k] > err[k]);                                  // the estimate bounds the propagated error
  }
}

namespace {

struct Run {
  double error;
  long accepted, rejected;
};

/// The coherent state over one period under error control: the achieved global error.
Run controlled_period(TimeMode mode, SplitScheme scheme, double tol) {
  Harmonic1D p;
  auto s = p.solver(mode, scheme, 0.5, tol);
  const double x0 = 2.0, t_end = 2 * pi;
  double error;
  if (mode == TimeMode::real) {
    s.set_state(coherent_state<1>(p.g, {x0}, 0));
    s.advance_to(t_end);
    error = l2_distance(p.g, s.psi(), coherent_state<1>(p.g, {x0}, t_end));
  } else {
    s.set_state(p.relaxing(x0, 0));
    s.advance_to(t_end);
    error = l2_distance(p.g, s.phi(), p.relaxing(x0, t_end));
  }
  CHECK(s.time() == t_end);  // landed exactly
  return {error, s.step_state().accepted, s.step_state().rejected};
}

}  // namespace

TEST_CASE("split-step error control: the achieved global error is proportional to the tolerance") {
  // Error per unit time (core/step_control.hpp): the local errors add up to about θ = 0.8 of tol;
  // over one period of the oscillator they partly cancel.  Measured ratios error/tol:
  //   real chin4 0.151 .. 0.177, real strang 0.220 .. 0.224, imaginary chin4 0.035 .. 0.042 from
  //   1e-6 on (relaxation forgets old errors; at 1e-4 the cap dt = 0.5 sets most steps: 0.008).
  struct Case {
    TimeMode mode;
    SplitScheme scheme;
    std::vector<double> tols;
    double lo, hi;  // the band of error/tol, a few times the measured spread around it
  };
  for (const Case& c : {Case{TimeMode::real, SplitScheme::chin4, {1e-4, 1e-6, 1e-8, 1e-10}, 0.08, 0.4},
                        Case{TimeMode::real, SplitScheme::strang, {1e-4, 1e-6}, 0.1, 0.5},
                        Case{TimeMode::imaginary, SplitScheme::chin4, {1e-6, 1e-8, 1e-10}, 0.01, 0.2}}) {
    std::vector<double> ratio;
    for (double tol : c.tols) {
      const Run r = controlled_period(c.mode, c.scheme, tol);
      ratio.push_back(r.error / tol);
      MESSAGE(core::name_of(c.mode) << " " << core::name_of(c.scheme) << " tol " << tol << ": error " << r.error << " (" << r.error / tol
                                    << " x tol), " << r.accepted << " steps, " << r.rejected << " rejected");
      CHECK(r.error / tol >= c.lo);
      CHECK(r.error / tol <= c.hi);
    }
    // proportional: the ratio stays within a factor 1.5 over the decades (a controller of the
    // error per step would drift by tol^(-1/(p+1)): 2.5x per two decades at p = 4)
    const auto [lo, hi] = std::minmax_element(ratio.begin(), ratio.end());
    CHECK(*hi / *lo <= 1.5);
  }
}

TEST_CASE("emb43 under error control: its partner's estimate bounds the error (local extrapolation: not proportional)") {
  // measured error/tol 0.033, 0.0069, 0.0014 at 1e-4, 1e-6, 1e-8: the order-4 solution is kept
  // while the order-3 partner's error is controlled, so the achieved error falls like tol^(4/3)
  std::vector<double> ratio;
  for (double tol : {1e-4, 1e-6, 1e-8}) {
    const Run r = controlled_period(TimeMode::real, SplitScheme::emb43, tol);
    MESSAGE("emb43 tol " << tol << ": error " << r.error << ", " << r.accepted << " steps, " << r.rejected << " rejected");
    CHECK(r.error <= 0.1 * tol);
    ratio.push_back(r.error / tol);
  }
  CHECK(ratio.front() / ratio.back() > 5);  // not proportional (measured 23): documented, not hidden
}

TEST_CASE("split-step error control: every requested time is hit exactly, and a restart continues bit for bit") {
  for (TimeMode mode : {TimeMode::real, TimeMode::imaginary}) {
    Harmonic1D p;
    const double t_end = 2 * pi, x0 = 2.0;
    auto make = [&] { return p.solver(mode, SplitScheme::chin4, 0.5, 1e-7, t_end); };
    auto start = [&](SplitStepSolver<1>& s) {
      if (mode == TimeMode::real)
        s.set_state(coherent_state<1>(p.g, {x0}, 0));
      else
        s.set_state(p.relaxing(x0, 0));
    };
    auto whole = make();
    start(whole);
    const std::vector<double> stops{0.3, 1.0, 1.7, 4.0, t_end};
    for (double t : stops) {
      whole.advance_to(t);
      CHECK(whole.time() == t);  // exactly, not within rounding
    }
    // stopped at t = 1.7 and continued from the state and the controller's state there
    auto first = make();
    start(first);
    for (double t : {0.3, 1.0, 1.7}) first.advance_to(t);
    auto second = make();
    if (mode == TimeMode::real)
      second.set_state(first.psi(), first.time());
    else
      second.restore_state(first.phi(), first.time());
    second.restore_step_state(first.step_state());
    for (double t : {4.0, t_end}) second.advance_to(t);
    CHECK(second.step_state().accepted == whole.step_state().accepted);
    if (mode == TimeMode::real)
      CHECK(l2_distance(p.g, second.psi(), whole.psi()) == 0.0);  // bit for bit
    else
      CHECK(l2_distance(p.g, second.phi(), whole.phi()) == 0.0);
    // without the controller's state the continuation takes other steps
    auto cold = make();
    if (mode == TimeMode::real)
      cold.set_state(first.psi(), first.time());
    else
      cold.restore_state(first.phi(), first.time());
    for (double t : {4.0, t_end}) cold.advance_to(t);
    if (mode == TimeMode::real)
      CHECK(l2_distance(p.g, cold.psi(), whole.psi()) > 0.0);
    else
      CHECK(l2_distance(p.g, cold.phi(), whole.phi()) > 0.0);
  }
}

TEST_CASE("split-step error control: bad keys and misuse are refused by name, a stall names the time") {
  Harmonic1D p;
  auto with = [&](TimeMode mode, SplitScheme scheme, double tol, double dt_min = 0) {
    auto o = options(mode, 0.1, scheme);
    o.control.tolerance = tol;
    o.control.dt_min = dt_min;
    return SplitStepSolver<1>(p.land, PotentialKind::objective, Schedule::constant(0.5), o);
  };
  CHECK_THROWS_WITH_AS(with(TimeMode::real, SplitScheme::chin4, -1e-6), doctest::Contains("schrodinger.tolerance"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(with(TimeMode::real, SplitScheme::chin4, std::nan("")), doctest::Contains("schrodinger.tolerance"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(with(TimeMode::real, SplitScheme::chin4, 1e-6, 0.2), doctest::Contains("schrodinger.dt_min"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(with(TimeMode::imaginary, SplitScheme::emb43, 1e-6), doctest::Contains("schrodinger.scheme"), core::InvalidArgument);
  auto s = with(TimeMode::real, SplitScheme::chin4, 1e-6);
  s.set_state(coherent_state<1>(p.g, {2.0}, 0));
  CHECK_THROWS_WITH_AS(s.advance(1), doctest::Contains("advance_to"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(s.advance_to(0.0), doctest::Contains("t_target"), core::InvalidArgument);
  auto fixed = with(TimeMode::real, SplitScheme::chin4, 0);
  fixed.set_state(coherent_state<1>(p.g, {2.0}, 0));
  CHECK_THROWS_WITH_AS(fixed.advance_to(1.0), doctest::Contains("schrodinger.tolerance"), core::InvalidArgument);
  // a tolerance no step above dt_min can meet: the run stops naming the time and the key
  auto stall = with(TimeMode::real, SplitScheme::chin4, 1e-15, 0.05);
  stall.set_state(coherent_state<1>(p.g, {2.0}, 0));
  CHECK_THROWS_WITH_AS(stall.advance_to(1.0), doctest::Contains("schrodinger.dt_min"), core::NumericalError);
}

TEST_CASE("split-step error control: a tolerance below rounding meets the estimate's floor instead of stalling") {
  // At 1e-14 per period the allowance per step falls below the estimate's rounding (3-4 ulp);
  // without the 16-ulp floor the step collapses to dt_min at t ~ 0.  With it the run completes
  // at the rounding level: measured error 5.1e-13, 2,709 steps, 905 rejected (estimates at the floor).
  const Run r = controlled_period(TimeMode::real, SplitScheme::chin4, 1e-14);
  MESSAGE("tol 1e-14: error " << r.error << ", " << r.accepted << " steps, " << r.rejected << " rejected");
  CHECK(r.error <= 2e-12);  // absolute: rounding of ~3e3 steps of 128-point FFTs, 8x the measured
}
