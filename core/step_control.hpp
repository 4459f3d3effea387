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
// Wanner II §IV.2; Söderlind, Numer. Algorithms 31 (2002) 281):
//     h_new = h · clamp(safety · ε^(−0.7/p) · ε_prev^(0.4/p), 1/5, 5),   safety 0.9, ε ≥ 10⁻⁴,
// with no growth on the step after a rejection, and h kept when h_new ∈ [h, 1.2 h] (an engine
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
    double eps_prev = 1;    ///< the last accepted step's ε
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
        double factor = std::clamp(kSafety * std::pow(e, -0.7 / p_) * std::pow(state_.eps_prev, 0.4 / p_), 0.2, 5.0);
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
    state_.next = h * (std::isfinite(eps) ? std::clamp(kSafety * std::pow(eps, -1.0 / p_), 0.2, 0.9) : 0.2);
    return false;
  }

 private:
  static constexpr double kSafety = 0.9, kEpsFloor = 1e-4;
  int p_ = 1;
  double h_max_ = 0, tol_ = 0, horizon_ = 1;
  bool rejected_before_ = false;
  State state_;
};

}  // namespace qtzflow::core
