// qtzflow/particles/quantizer.hpp — the value quantizer of QTZ (docs/theory.md, "The quantized optimizer").
//
//   f^Q(x) = floor(Q_p·f(x) + 1/2) / Q_p                       (plain, as the authors coded it)
//   f^Q(x) = q·floor(f/q + u + 1/2) − u·q,  u ~ U(−1/2, 1/2)   (dithered, q = 1/Q_p, fresh u)
//   Q_p = η·2^h,  η = 2^(−floor(log2 f(x0) + 1))               (first step: the power of 2 above f(x0))
// The dithered error f^Q − f is exactly uniform on [−q/2, q/2) and independent of f (the
// white-noise hypothesis, variance q²/12).  Once |Q_p·f| ≥ 2⁵², every double is already on the
// grid and f^Q = f (this also keeps h up to 1023 free of overflow: Q_p = η·2^h may be inf).
// η needs f(x0) > 0; for f(x0) ≤ 0 the rule is applied to |f(x0)| (and η = 1 for f(x0) = 0),
// the choice callers report.
// QuantizedOptimizer is the acceptance state of one QTZ search, the loop body of the authors'
// code: a candidate is accepted iff f^Q(c) ≤ f^Q(current) (ties accepted); each acceptance
// refines Q_p = η·2^h, h ← h+1, and re-quantizes the current value; the search is over at
// h = 1023.  The caller owns the search space and the proposals (blind, local, TSP reversal).
#pragma once

#include <cmath>

#include "core/names.hpp"
#include "core/random.hpp"

namespace qtzflow::particles {

/// η = 2^(−floor(log2 |f0| + 1)); 1 when f0 = 0.
inline double quantizer_eta(double f0) {
  const double a = std::abs(f0);
  if (!(a > 0) || !std::isfinite(a)) return 1.0;
  return std::ldexp(1.0, -static_cast<int>(std::floor(std::log2(a) + 1)));
}

/// Plain quantizer at resolution Q_p.
inline double quantize(double f, double qp) {
  const double s = qp * f;
  if (!(std::abs(s) < 0x1p52)) return f;
  return std::floor(s + 0.5) / qp;
}

/// Dithered quantizer at resolution Q_p with dither u ∈ [−1/2, 1/2).
inline double quantize_dithered(double f, double qp, double u) {
  const double s = qp * f;
  if (!(std::abs(s) < 0x1p52)) return f;
  return (std::floor(s + u + 0.5) - u) / qp;
}

/// The gradient optimizers' quantizer (the authors' QtSGD/QtAdam, particles/quantized_gradient.hpp):
/// the step x on the grid Q_p⁻¹ rounded down, floor(Q_p·x)/Q_p, in the precision of x (float32
/// for network weights).  Q_p is a power of 2 there, so the products and the quotient are exact
/// and the only rounding is the floor's.
template <class T>
T quantize_down(T x, T qp) {
  return std::floor(qp * x) / qp;
}
/// The same rounded to the nearest grid point, ties to even (the ablation "round").
template <class T>
T quantize_nearest(T x, T qp) {
  return std::nearbyint(qp * x) / qp;
}

/// QTZ's acceptance test, the one place it is written: a candidate whose quantized value is
/// not worse than the current one's is taken (ties accepted; NaN never).
inline bool qtz_accepts(double candidate_quantized, double current_quantized) { return candidate_quantized <= current_quantized; }

/// The test with both values quantized afresh at Q_p (the particle ensemble's moves): plain...
inline bool quantized_not_worse(double f_candidate, double f_current, double qp) {
  return qtz_accepts(quantize(f_candidate, qp), quantize(f_current, qp));
}
/// ...or dithered, with the dithers u_candidate, u_current ∈ [−1/2, 1/2) drawn independently.
inline bool quantized_not_worse_dithered(double f_candidate, double f_current, double qp, double u_candidate, double u_current) {
  return qtz_accepts(quantize_dithered(f_candidate, qp, u_candidate), quantize_dithered(f_current, qp, u_current));
}

/// How Q_p evolves: the authors' η·2^h with h counting acceptances; prescribed in time,
/// Q_p(t) = η·log2(t + 2) (T ∝ 1/ln(t+2), the logarithmic schedule); or held fixed.
/// The words (the CLI's --h-schedule, Python's h_schedule): acceptances, logarithmic, fixed.
enum class QpRule { per_acceptance, logarithmic, fixed };
constexpr core::Named<QpRule> kQpRuleNames[] = {
    {"acceptances", QpRule::per_acceptance}, {"logarithmic", QpRule::logarithmic}, {"fixed", QpRule::fixed}};
constexpr std::span<const core::Named<QpRule>> names_of(QpRule) { return kQpRuleNames; }

/// One QTZ search's acceptance state.  Usage, for candidates numbered it = 1, 2, …:
///   QuantizedOptimizer q(f(x0), rule, qp, dither, rng);
///   while (it < budget && !q.finished()) { q.begin_iteration(++it, rng);
///     if (q.offer(f(c), rng)) x = c; }
/// With the dithered quantizer every quantization draws a fresh u from `rng` (in the order:
/// construction, begin_iteration under the logarithmic rule, offer, re-quantization after an
/// acceptance), so a seed fixes the search.
class QuantizedOptimizer {
 public:
  /// fixed_qp: the resolution under QpRule::fixed (> 0, ignored otherwise); eta > 0 replaces
  /// the authors' η (the power of 2 above |f(x0)|).
  QuantizedOptimizer(double f0, QpRule rule, double fixed_qp, bool dither, core::RandomStream& rng, double eta = 0)
      : rule_(rule), dither_(dither), eta_(eta > 0 ? eta : quantizer_eta(f0)), qp_(rule == QpRule::fixed ? fixed_qp : eta_), f_(f0) {
    fq_ = quantized(f_, rng);
  }

  /// Before candidate number it (1-based): under the logarithmic rule Q_p ← η·log2(it + 1)
  /// (t = it − 1) and the current value is re-quantized; otherwise nothing.
  void begin_iteration(long it, core::RandomStream& rng) {
    if (rule_ != QpRule::logarithmic) return;
    qp_ = eta_ * std::log2(static_cast<double>(it) + 1);
    fq_ = quantized(f_, rng);
  }

  /// The candidate's value fc: true (and the state moves to it) iff f^Q(fc) ≤ f^Q(current).
  bool offer(double fc, core::RandomStream& rng) {
    if (!qtz_accepts(quantized(fc, rng), fq_)) return false;
    f_ = fc;
    if (rule_ == QpRule::per_acceptance) qp_ = std::ldexp(eta_, ++h_);
    fq_ = quantized(f_, rng);
    return true;
  }

  bool finished() const { return h_ >= 1023; }
  /// Acceptances under QpRule::per_acceptance (the refinement level); 0 under the other rules.
  int h() const { return h_; }
  double eta() const { return eta_; }
  double qp() const { return qp_; }
  double current() const { return f_; }
  double quantized_current() const { return fq_; }

 private:
  double quantized(double f, core::RandomStream& rng) const { return dither_ ? quantize_dithered(f, qp_, rng.uniform() - 0.5) : quantize(f, qp_); }

  QpRule rule_;
  bool dither_;
  double eta_, qp_, f_, fq_ = 0;
  int h_ = 0;
};

}  // namespace qtzflow::particles
