// qtzflow/particles/quantized_gradient.hpp — the QTZ authors' quantized gradient optimizers
// (QtSGD, QtAdam, QtAdamW) as one in-place step on a parameter tensor's float32 memory, with
// the ablations of issue #29 (round instead of floor, no warm-up push, matched Gaussian noise).
//
// For a tensor w with gradient g at its step τ (1 at the first step), t_e = τ / steps_per_epoch:
//   h = −λ·g                                               (QtSGD)
//   h = −λ·m̂ / (√v̂ + ε),  m̂ = m/(1 − β1^τ), v̂ = v/(1 − β2^τ)  (QtAdam; m, v Adam's moments)
//   QtAdamW first decays w ← w − λ·wd·w (decoupled weight decay, as torch.optim.AdamW)
//   r = λ·s(t_e)·h/‖h‖,  s(t_e) = ½(1 + tanh(−κ(t_e − τ0)))   (the warm-up push; ‖h‖ over the tensor)
//   w ← w + Q_p⁻¹·floor(Q_p·(h + r)),  Q_p = η·b^p,  p = floor(log_b ln(t_e + 2))
// with the authors' b = 2, η = 2¹⁹, κ = 2, τ0 = half the training's epochs: the grid Q_p⁻¹ goes
// 3.8e-6 → 1.9e-6 (t_e ≥ e − 2) → 9.5e-7 (t_e ≥ e² − 2) → 4.8e-7 (t_e ≥ e⁴ − 2).
// Ablations: rounding "nearest" (ties to even) instead of the floor; push off (r = 0);
// "gaussian": w ← w + (h + r) + σ·ξ with σ² = Q_p⁻²/12, the variance of a rounding error uniform
// on one grid step, ξ standard normal from the counter-based stream (seed, stream) at block
// (τ, index) — SGLD at the schedule's temperature, without the floor's bias.
//
// Arithmetic (what makes the step reproducible bit for bit, and what the NumPy reference in
// tests/python/test_ml.py repeats): every elementwise operation is float32, in the order
//   SGD:   h = −(λ·g)
//   Adam:  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·(g·g);  h = −(c1·m) / (sqrt(v)/c2 + ε)
//          with β1, β2 rounded to float32 in the moments, and c1 = float32(λ/(1 − β1^τ)) and
//          c2 = float32(sqrt(1 − β2^τ)) computed in double from β1, β2 as given (torch's Adam does both);
//   r = (a·h)/n with a = float32(λ·s(t_e)) (double, rounded once) and n = float32(sqrt(Σ h²)), the
//   sum of the float32 squares taken in double, sequentially in memory order;
//   w = w + quantize(h + r)   (Q_p a power of 2: exact products; n = 0 gives r = 0).
// No fused multiply–adds (the file is compiled with -ffp-contract=off).  ε and wd are float32.
// Limits: float32 tensors, contiguous; one thread (a step on 50,186 weights takes ~0.1 ms, ≪ a
// training step's ~80 ms: BENCHMARKS.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/names.hpp"

namespace qtzflow::particles {

enum class GradientRule { sgd, adam, adamw };
constexpr core::Named<GradientRule> kGradientRuleNames[] = {{"sgd", GradientRule::sgd}, {"adam", GradientRule::adam}, {"adamw", GradientRule::adamw}};
constexpr std::span<const core::Named<GradientRule>> names_of(GradientRule) { return kGradientRuleNames; }

/// How h + r is put on the grid: the authors' floor, round to nearest (ties to even), or not at
/// all with matched Gaussian noise added instead.
enum class GradientQuantizer { floor, nearest, gaussian };
constexpr core::Named<GradientQuantizer> kGradientQuantizerNames[] = {
    {"floor", GradientQuantizer::floor}, {"round", GradientQuantizer::nearest}, {"gaussian", GradientQuantizer::gaussian}};
constexpr std::span<const core::Named<GradientQuantizer>> names_of(GradientQuantizer) { return kGradientQuantizerNames; }

struct QuantizedGradientOptions {
  GradientRule rule = GradientRule::adam;
  GradientQuantizer quantizer = GradientQuantizer::floor;
  bool push = true;               ///< the warm-up push r (false: r = 0)
  double lr = 1e-3;               ///< λ
  double beta1 = 0.9, beta2 = 0.999;  ///< the moments use them as float32, the bias corrections as given
  float eps = 1e-8f;
  float weight_decay = 0.01f;     ///< adamw only
  double eta = 524288;            ///< η = 2^19
  double base = 2;                ///< b
  double kappa = 2;               ///< κ
  double tau0 = 7.5;              ///< τ0 (epochs): half the training's 15 epochs
  double steps_per_epoch = 600;   ///< t_e = τ / steps_per_epoch
  std::uint64_t seed = 0;         ///< gaussian: the noise's stream seed
  /// Refuses values out of range, naming the key (InvalidArgument).
  void check() const;
};

/// Q_p at t_e epochs: η·b^floor(log_b ln(t_e + 2)).
double gradient_qp(double t_e, double eta, double base);
/// The push factor s(t_e) = ½(1 + tanh(−κ(t_e − τ0))).
double push_factor(double t_e, double kappa, double tau0);

/// What one step did to a tensor (the study's and V12's statistics).
struct QuantizedStepStatistics {
  double qp = 0;              ///< Q_p of the step
  double push = 0;            ///< s(t_e)
  double h_norm = 0;          ///< ‖h‖
  double mean_step = 0;       ///< mean of |h + r|
  double mean_residual = 0;   ///< mean of Q_p·(h + r) − floor(Q_p·(h + r)) (uniform: 1/2)
  double mean_square_residual = 0;
  double moved = 0;           ///< fraction of the weights that changed
};

/// One step on a tensor of n weights, in place: w (and m, v for adam/adamw) updated, g read.
/// m and v may be empty for sgd; `tensor` names the stream of the gaussian ablation's noise.
/// `residuals`, when not empty (n values), receives Q_p·(h + r) − floor(Q_p·(h + r)) per weight.
QuantizedStepStatistics quantized_gradient_step(std::span<float> w, std::span<const float> g, std::span<float> m, std::span<float> v, long step,
                                                const QuantizedGradientOptions& o, std::uint64_t tensor, std::span<float> residuals = {});

/// The standard normal draws the gaussian ablation adds at (step, tensor), n of them (for tests
/// and references: the same numbers quantized_gradient_step uses).
void gradient_noise(std::uint64_t seed, std::uint64_t tensor, long step, std::span<float> out);

}  // namespace qtzflow::particles
