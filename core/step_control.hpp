// qtzflow/core/step_control.hpp — error-controlled step sizes: one PI controller for every engine.
//
// An engine with an embedded error estimate tries a step h from t, estimates its local error
// err (in the engine's own norm, relative: docs/config.md says which per engine), and asks the
// controller whether to keep the step and what to try next.  The controller holds the error per
// unit time at the tolerance spread over a horizon H (the run's duration):
//     ε = err / (tol · h / H),   the step is accepted when ε ≤ 1,
// so that the local errors c·h^{p+1} of an order-p method add up to about tol over H ("error per
// unit step": the global error is proportional to tol, not to tol^{p/(p+1)}; Hairer, Nørsett,
// Wanner, Solving ODEs I, §II.4).  Since ε ∝ h^p, the next step is Gustafsson's PI rule (Hairer &
// Wanner II §IV.2) with the safety factor on the target, as in Söderlind's digital filters
// (ACM TOMS 29 (2003) 1):
//     h_new = h · clamp((θ/ε)^(0.7/p) · (ε_prev/θ)^(0.4/p), 1/5, 5),   θ = 0.8, ε ≥ 10⁻⁴,
// whose fixed point is ε = θ whatever p (a safety factor multiplying h instead, 0.9·ε^(−0.7/p)·
// ε_prev^(0.4/p), settles at ε = 0.9^(p/0.3): 0.25 for p = 4, a global error 4× below the
// tolerance for nothing), with no growth on the step after a rejection, and h kept when h_new ∈ [h, 1.2 h] (an engine
// that factors matrices per step size then keeps its factors while the error is steady).  Steps
// never exceed h_max (the configured dt: the initial and largest step).  A step shortened to land
// on a requested time does not change the proposal (the next step is the one the error allows).
//
// The controller's State is part of a restart: a run continued from a snapshot with the state
// saved there takes the same steps as the uninterrupted run, bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace qtzflow::core {

/// The keys every adaptive engine reads (docs/config.md): tolerance > 0 switches error control on.
struct StepControl {
  double tolerance = 0;  ///< 0: fixed steps of dt (the default); > 0: the global error to aim at
  double dt_min = 0;     ///< below this step the run stops (0: 10⁻¹² of dt)
  double horizon = 0;    ///< the time over which the local errors add up (0: the span of the first advance_to)

  bool adaptive() const { return tolerance > 0; }
  /// Checks the keys, naming them as `section`.tolerance etc.; dt is the configured step.
  void check(const std::string& section, double dt) const {
    if (tolerance != 0) require_positive(section + ".tolerance", tolerance);
    require_non_negative(section + ".dt_min", dt_min);
    require_non_negative(section + ".horizon", horizon);
    if (dt_min > dt) throw_invalid(section + ".dt_min", format_value(dt_min), "<= dt = " + format_value(dt));
  }
  double min_step(double dt) const { return dt_min > 0 ? dt_min : 1e-12 * dt; }
};

class StepController {
 public:
  /// What a restart needs (and what diagnostics report).
  struct State {
    double next = 0;        ///< the step to try next
    double eps_prev = 0.8;  ///< the last accepted step's ε (the target before the first)
    long accepted = 0;      ///< steps accepted since the start of the run
    long rejected = 0;      ///< steps rejected
    double last_step = 0;   ///< the last accepted step
    double last_error = 0;  ///< its estimated local error
  };

  StepController() = default;
  /// order p of the propagated solution; h_max the largest (and first) step.
  StepController(int order, double h_max, double tolerance, double horizon) : p_(order), h_max_(h_max), tol_(tolerance), horizon_(horizon) {
    state_.next = h_max;
  }

  const State& state() const { return state_; }

  /// Drives an engine from t to exactly t_target (> t): trial(h) takes a step of h from the
  /// engine's state and returns its error estimate; accept(h) commits it, reject() restores the
  /// state at t.  Throws NumericalError naming `engine`, the time and `dt_min_key` when a step
  /// below h_min would be needed.  The horizon defaults to t_target − t.
  template <class Trial, class Accept, class Reject>
  void drive(double& t, double t_target, double h_min, const char* engine, const std::string& dt_min_key, Trial&& trial, Accept&& accept,
             Reject&& reject) {
    require_finite("t_target", t_target);
    if (!(t_target > t)) throw_invalid("t_target", format_value(t_target), "> time() = " + format_value(t));
    if (!(horizon_ > 0)) horizon_ = t_target - t;
    while (t < t_target) {
      bool shortened = false;
      const double h = step_toward(t_target - t, shortened);
      if (h < h_min && !shortened)
        throw NumericalError(std::string(engine) + ": the error control asks for a step of " + format_value(h) + " at t = " + format_value(t) +
                             ", below " + dt_min_key + " = " + format_value(h_min) +
                             " (a stiff, non-smooth or unresolved region; raise the tolerance, lower dt_min or refine the grid)");
      const double err = trial(h);
      if (!judge(h, err, shortened)) {
        reject();
        continue;
      }
      accept(h);
      t = (h == t_target - t) ? t_target : t + h;  // lands exactly
    }
  }
  void restore(const State& s) { state_ = s; }
  double horizon() const { return horizon_; }
  void set_horizon(double h) { horizon_ = h; }

  /// The step to try from a time `remaining` before the target: the proposal, or all of the
  /// remainder when it fits (landing exactly), or half of it when one proposal would leave a
  /// sliver.  `shortened` says whether the step is shorter than the proposal.
  double step_toward(double remaining, bool& shortened) const {
    const double h = std::min(state_.next, h_max_);
    shortened = true;
    if (h >= remaining) return remaining;
    if (h > 0.5 * remaining) return 0.5 * remaining;
    shortened = false;
    return h;
  }

  /// Judges a trial step of size h with estimated local error err (≥ 0; NaN or Inf reject it and
  /// shrink the step fivefold).  Returns whether it is accepted; updates the proposal.
  bool judge(double h, double err, bool shortened) {
    const double eps = std::isfinite(err) ? err / (tol_ * h / horizon_) : HUGE_VAL;
    if (eps <= 1) {
      if (!shortened) {
        // ε below 1e-4 counts as 1e-4 (as in Hairer's DOPRI5): a step of (nearly) no error must
        // not make the next proposal collapse through the ε_prev term
        const double e = std::max(eps, kEpsFloor);
        double factor = std::clamp(std::pow(kTarget / e, 0.7 / p_) * std::pow(state_.eps_prev / kTarget, 0.4 / p_), 0.2, 5.0);
        if (rejected_before_) factor = std::min(factor, 1.0);
        if (factor >= 1.0 && factor <= 1.2) factor = 1.0;
        state_.next = std::min(h * factor, h_max_);
        state_.eps_prev = e;
      }
      ++state_.accepted;
      state_.last_step = h;
      state_.last_error = err;
      rejected_before_ = false;
      return true;
    }
    ++state_.rejected;
    rejected_before_ = true;
    state_.next = h * (std::isfinite(eps) ? std::clamp(std::pow(kTarget / eps, 1.0 / p_), 0.2, 0.9) : 0.2);
    return false;
  }

 private:
  static constexpr double kTarget = 0.8, kEpsFloor = 1e-4;
  int p_ = 1;
  double h_max_ = 0, tol_ = 0, horizon_ = 1;
  bool rejected_before_ = false;
  State state_;
};

}  // namespace qtzflow::core
