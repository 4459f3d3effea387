// qtzflow/potentials/schedule.hpp — temperature schedules T(t) shared by every engine.
//
//   constant      T(t) = T0
//   logarithmic   T(t) = c / ln(t + 2)          (the annealing law of the convergence theory)
//   geometric     T(t) = T0 · γ^t, 0 < γ < 1     (continuous form of SA's T ← γ T)
//   paper         T(t) = C_q / (2 Q_p(t)),  Q_p = η · 2^{h(t)},  h(t) = t/τ: the quantizer's
//                 resolution doubling once every τ (docs/theory.md, "Fokker–Planck"; h continuous so that Ṫ
//                 exists — geometric cooling with T0 = C_q/(2η) and γ = 2^{−1/τ})
//   table         (t_k, T_k) interpolated by monotone cubic Hermite (Fritsch–Carlson, PCHIP):
//                 no overshoot, so T stays between neighbouring knots (> 0 when every T_k is);
//                 t_0 = 0, after the last knot T stays T_last
//   expression    T(t) = a formula in t (potentials/formula.hpp); Ṫ by 4th-order differences
//                 (h = 1e-4·(1 + t); one-sided where the formula is not finite for t − 2h)
//   function      T(t) = any callable (a Python function through the module), Ṫ from a second
//                 callable or by the same differences; checked like an expression
// T(t) and its derivative Ṫ(t) are exact for the closed forms and the table; engines evaluate
// them where their scheme needs (the split-step engine at the midpoint of each step).  All
// parameters are validated (T0, c > 0, table knots); require_positive_until checks an
// expression (or any law) over a whole run before it starts.
// A Schedule is a small value: the table and the compiled formula are shared between copies.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/names.hpp"
#include "potentials/objective.hpp"

namespace qtzflow::potentials {

class Schedule {
 public:
  enum class Kind { constant, logarithmic, geometric, paper, table, expression, function };

  static Schedule constant(double T);
  static Schedule logarithmic(double c);
  static Schedule geometric(double T0, double gamma);
  static Schedule paper(double C_q, double eta, double tau);
  /// Knots (t_k, T_k): at least 2, t_0 = 0, strictly increasing, T_k > 0, all finite.
  /// `key` names the source in errors (schedule.table, or FILE:LINE prefixes for a file).
  static Schedule table(std::vector<double> t, std::vector<double> T, const std::string& key = "schedule.table");
  /// T(t) as a formula in t with named constants; `key` names it in errors.
  static Schedule expression(const std::string& formula, const Params& constants = {}, const std::string& key = "schedule.formula");
  /// T(t) = T(t) of a callable (and Ṫ = Tdot(t), or differences when empty); `what` describes
  /// it in messages.  The callable must be safe to call from the thread that advances an engine.
  static Schedule function(std::function<double(double)> T, std::function<double(double)> Tdot = {}, const std::string& what = "T(t)");

  /// Throws InvalidArgument (key schedule.kind's source) unless T is finite and > 0 at every
  /// step time k·dt and mid-step time (k + ½)·dt up to t_end (at most 2·10⁶ evenly spread
  /// samples for longer runs).
  void require_positive_until(double t_end, double dt) const;

  double T(double t) const;
  double Tdot(double t) const;
  bool is_constant() const { return kind_ == Kind::constant; }
  Kind kind() const { return kind_; }
  /// The paper law's C_q (what a quantized ensemble on the moves clock takes with it), or none.
  std::optional<double> paper_C_q() const { return kind_ == Kind::paper ? std::optional<double>(C_q_) : std::nullopt; }
  std::string describe() const;

 private:
  struct Shared;
  Schedule(Kind k, double a, double b, double c = 0) : kind_(k), a_(a), b_(b), c_(c) {}
  Kind kind_;
  double a_, b_, c_;
  double C_q_ = 0;  ///< paper: C_q
  std::shared_ptr<const Shared> shared_;  ///< table knots and slopes, or the formula
};

/// The configuration's words for the kinds ([schedule] kind); `function` (a callable) has no
/// configuration form and no word.
constexpr core::Named<Schedule::Kind> kScheduleKindNames[] = {
    {"constant", Schedule::Kind::constant}, {"logarithmic", Schedule::Kind::logarithmic}, {"geometric", Schedule::Kind::geometric},
    {"paper", Schedule::Kind::paper},       {"table", Schedule::Kind::table},             {"expression", Schedule::Kind::expression}};
constexpr std::span<const core::Named<Schedule::Kind>> names_of(Schedule::Kind) { return kScheduleKindNames; }

}  // namespace qtzflow::potentials
