// qtzflow/potentials/schedule.hpp — temperature schedules T(t) shared by every engine.
//
//   constant      T(t) = T0
//   logarithmic   T(t) = c / ln(t + 2)          (the annealing law of the convergence theory)
//   geometric     T(t) = T0 · γ^t, 0 < γ < 1     (continuous form of SA's T ← γ T)
// T(t) and its derivative Ṫ(t) are exact; engines evaluate them where their scheme needs (the
// split-step engine at the midpoint of each step).  All parameters are validated (T0, c > 0).
#pragma once

#include <string>

namespace qtzflow::potentials {

class Schedule {
 public:
  enum class Kind { constant, logarithmic, geometric };

  static Schedule constant(double T);
  static Schedule logarithmic(double c);
  static Schedule geometric(double T0, double gamma);

  double T(double t) const;
  double Tdot(double t) const;
  bool is_constant() const { return kind_ == Kind::constant; }
  Kind kind() const { return kind_; }
  std::string describe() const;

 private:
  Schedule(Kind k, double a, double b) : kind_(k), a_(a), b_(b) {}
  Kind kind_;
  double a_, b_;
};

}  // namespace qtzflow::potentials
