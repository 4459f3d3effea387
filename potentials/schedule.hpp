// qtzflow/potentials/schedule.hpp — temperature schedules T(t) shared by every engine.
//
//   constant      T(t) = T0
//   logarithmic   T(t) = c / ln(t + 2)          (the annealing law of the convergence theory)
//   geometric     T(t) = T0 · γ^t, 0 < γ < 1     (continuous form of SA's T ← γ T)
//   paper         T(t) = C_q / (2 Q_p(t)),  Q_p = η · 2^{h(t)},  h(t) = t/τ: the quantizer's
//                 resolution doubling once every τ (docs/theory.md, "Fokker–Planck"; h continuous so that Ṫ
//                 exists — geometric cooling with T0 = C_q/(2η) and γ = 2^{−1/τ})
// T(t) and its derivative Ṫ(t) are exact; engines evaluate them where their scheme needs (the
// split-step engine at the midpoint of each step).  All parameters are validated (T0, c > 0).
#pragma once

#include <string>

namespace qtzflow::potentials {

class Schedule {
 public:
  enum class Kind { constant, logarithmic, geometric, paper };

  static Schedule constant(double T);
  static Schedule logarithmic(double c);
  static Schedule geometric(double T0, double gamma);
  static Schedule paper(double C_q, double eta, double tau);

  double T(double t) const;
  double Tdot(double t) const;
  bool is_constant() const { return kind_ == Kind::constant; }
  Kind kind() const { return kind_; }
  std::string describe() const;

 private:
  Schedule(Kind k, double a, double b, double c = 0) : kind_(k), a_(a), b_(b), c_(c) {}
  Kind kind_;
  double a_, b_, c_;
};

}  // namespace qtzflow::potentials
