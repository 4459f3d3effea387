// qtzflow/potentials/differences.hpp — order-8 central differences, the derivatives of the
// objectives known only by their values (an expression, a CEC function):
//   f'(x)  ≈ Σ_{k=1..4} d1_k (f(x + k h) − f(x − k h)) / h,
//   f''(x) ≈ (c0 f(x) + Σ_{k=1..4} d2_k (f(x + k h) + f(x − k h))) / h²,
// truncation O(h⁸) on smooth f.  `shifted(a, x_a')` evaluates f with coordinate a moved to x_a'.
#pragma once

#include <cstddef>
#include <span>

namespace qtzflow::potentials::differences {

inline constexpr double kD1[4] = {4.0 / 5, -1.0 / 5, 4.0 / 105, -1.0 / 280};
inline constexpr double kD2_0 = -205.0 / 72;
inline constexpr double kD2[4] = {8.0 / 5, -1.0 / 5, 8.0 / 315, -1.0 / 560};

/// ∇f(x) into g, with step[a] along axis a.
template <class Shifted, class Steps>
void gradient(std::span<const double> x, std::span<double> g, const Steps& step, Shifted&& shifted) {
  for (std::size_t a = 0; a < x.size(); ++a) {
    const double h = step[a];
    double acc = 0;
    for (int k = 0; k < 4; ++k) acc += kD1[k] * (shifted(a, x[a] + (k + 1) * h) - shifted(a, x[a] - (k + 1) * h));
    g[a] = acc / h;
  }
}

/// Δf(x), given f0 = f(x).
template <class Shifted, class Steps>
double laplacian(std::span<const double> x, double f0, const Steps& step, Shifted&& shifted) {
  double lap = 0;
  for (std::size_t a = 0; a < x.size(); ++a) {
    const double h = step[a];
    double acc = kD2_0 * f0;
    for (int k = 0; k < 4; ++k) acc += kD2[k] * (shifted(a, x[a] + (k + 1) * h) + shifted(a, x[a] - (k + 1) * h));
    lap += acc / (h * h);
  }
  return lap;
}

}  // namespace qtzflow::potentials::differences
