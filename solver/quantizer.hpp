// qtzflow/solver/quantizer.hpp — the value quantizer of QTZ (DESIGN.md §1.1).
//
//   f^Q(x) = floor(Q_p·f(x) + 1/2) / Q_p                       (plain, as the authors coded it)
//   f^Q(x) = q·floor(f/q + u + 1/2) − u·q,  u ~ U(−1/2, 1/2)   (dithered, q = 1/Q_p, fresh u)
//   Q_p = η·2^h,  η = 2^(−floor(log2 f(x0) + 1))               (first step: the power of 2 above f(x0))
// The dithered error f^Q − f is exactly uniform on [−q/2, q/2) and independent of f (the
// white-noise hypothesis, variance q²/12).  Once |Q_p·f| ≥ 2⁵², every double is already on the
// grid and f^Q = f (this also keeps h up to 1023 free of overflow: Q_p = η·2^h may be inf).
// η needs f(x0) > 0; for f(x0) ≤ 0 the rule is applied to |f(x0)| (and η = 1 for f(x0) = 0),
// the choice callers report.
#pragma once

#include <cmath>

namespace qtzflow::solver {

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

}  // namespace qtzflow::solver
