#include "particles/quantized_gradient.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/random.hpp"
#include "particles/quantizer.hpp"

namespace qtzflow::particles {

void QuantizedGradientOptions::check() const {
  core::require_positive("lr", lr);
  if (!(beta1 >= 0 && beta1 < 1)) core::throw_invalid("beta1", core::format_value(beta1), "in [0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) core::throw_invalid("beta2", core::format_value(beta2), "in [0, 1)");
  core::require_positive("eps", eps);
  core::require_non_negative("weight_decay", weight_decay);
  core::require_positive("eta", eta);
  if (!(base > 1 && std::isfinite(base))) core::throw_invalid("base", core::format_value(base), "finite and > 1");
  core::require_non_negative("kappa", kappa);
  core::require_finite("tau0", tau0);
  core::require_positive("steps_per_epoch", steps_per_epoch);
}

double gradient_qp(double t_e, double eta, double base) {
  const double p = std::floor(std::log(std::log(t_e + 2)) / std::log(base));
  return eta * std::pow(base, p);
}

double push_factor(double t_e, double kappa, double tau0) { return 0.5 * (1 + std::tanh(-kappa * (t_e - tau0))); }

void gradient_noise(std::uint64_t seed, std::uint64_t tensor, long step, std::span<float> out) {
  core::RandomStream rng(seed, (tensor << 40) ^ static_cast<std::uint64_t>(step));
  for (auto& x : out) x = static_cast<float>(rng.normal());
}

QuantizedStepStatistics quantized_gradient_step(std::span<float> w, std::span<const float> g, std::span<float> m, std::span<float> v, long step,
                                                const QuantizedGradientOptions& o, std::uint64_t tensor, std::span<float> residuals) {
  const std::size_t n = w.size();
  if (g.size() != n) core::throw_invalid("grad", std::to_string(g.size()) + " values", std::to_string(n) + " (one per weight)");
  const bool adam = o.rule != GradientRule::sgd;
  if (adam && (m.size() != n || v.size() != n))
    core::throw_invalid("state", std::to_string(m.size()) + " / " + std::to_string(v.size()) + " moments", std::to_string(n) + " each");
  if (!residuals.empty() && residuals.size() != n) core::throw_invalid("residuals", std::to_string(residuals.size()) + " values", std::to_string(n));
  core::require_at_least("step", step, 1);
  const double t_e = static_cast<double>(step) / o.steps_per_epoch;
  QuantizedStepStatistics st;
  st.qp = gradient_qp(t_e, o.eta, o.base);
  st.push = o.push ? push_factor(t_e, o.kappa, o.tau0) : 0.0;
  const float lr = static_cast<float>(o.lr);
  // h is computed twice from the same floats (for ‖h‖, then for the update) instead of stored:
  // no scratch memory per tensor, the same values both times
  auto h_of = [&](std::size_t i, float c1, float c2) -> float {
    if (!adam) return -(lr * g[i]);
    return -(c1 * m[i]) / (std::sqrt(v[i]) / c2 + o.eps);
  };
  float c1 = 0, c2 = 1;
  if (adam) {
    const double tau = static_cast<double>(step);
    c1 = static_cast<float>(o.lr / (1 - std::pow(o.beta1, tau)));
    c2 = static_cast<float>(std::sqrt(1 - std::pow(o.beta2, tau)));
    const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2), one_b1 = 1.0f - b1, one_b2 = 1.0f - b2;
    if (o.rule == GradientRule::adamw) {
      const float decay = lr * o.weight_decay;
      for (std::size_t i = 0; i < n; ++i) w[i] = w[i] - decay * w[i];
    }
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + one_b1 * g[i];
      v[i] = b2 * v[i] + one_b2 * (g[i] * g[i]);
    }
  }
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float h = h_of(i, c1, c2);
    sum += static_cast<double>(h) * static_cast<double>(h);
  }
  const float norm = static_cast<float>(std::sqrt(sum));
  st.h_norm = norm;
  const float a = static_cast<float>(o.lr * st.push);
  const bool push = o.push && norm > 0;
  const float qp = static_cast<float>(st.qp);
  const float sigma = static_cast<float>(1 / (st.qp * std::sqrt(12.0)));
  core::RandomStream rng(o.seed, (tensor << 40) ^ static_cast<std::uint64_t>(step));
  double step_sum = 0, res_sum = 0, res_sq = 0, moved = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float h = h_of(i, c1, c2);
    const float r = push ? (a * h) / norm : 0.0f;
    const float u = h + r;
    const float scaled = qp * u;
    const float residual = scaled - std::floor(scaled);
    float dw = 0;
    switch (o.quantizer) {
      case GradientQuantizer::floor:
        dw = quantize_down(u, qp);
        break;
      case GradientQuantizer::nearest:
        dw = quantize_nearest(u, qp);
        break;
      case GradientQuantizer::gaussian:
        dw = u + sigma * static_cast<float>(rng.normal());
        break;
    }
    const float before = w[i];
    w[i] = before + dw;
    step_sum += std::abs(static_cast<double>(u));
    res_sum += residual;
    res_sq += static_cast<double>(residual) * residual;
    moved += w[i] != before ? 1 : 0;
    if (!residuals.empty()) residuals[i] = residual;
  }
  const double dn = n > 0 ? static_cast<double>(n) : 1.0;
  st.mean_step = step_sum / dn;
  st.mean_residual = res_sum / dn;
  st.mean_square_residual = res_sq / dn;
  st.moved = moved / dn;
  return st;
}

}  // namespace qtzflow::particles
