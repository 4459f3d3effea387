// particles/quantized_gradient.hpp: the authors' Q_p schedule at its switch points, a step by
// hand (floor against round), the gaussian ablation's noise, and the refusals.  The full
// optimizers are checked bit for bit against a NumPy re-implementation in tests/python/test_ml.py.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "particles/quantized_gradient.hpp"

using namespace qtzflow;
using particles::GradientQuantizer;
using particles::GradientRule;

TEST_CASE("quantized gradient: Q_p = 2^19 2^floor(log2 ln(t_e + 2)) switches at e - 2, e^2 - 2, e^4 - 2") {
  const double e = std::numbers::e;
  CHECK(particles::gradient_qp(0, 524288, 2) == 262144);  // ln 2 < 1: p = -1, the grid 3.8e-6
  for (auto [t, qp] : {std::pair{e - 2, 524288.0}, {e * e - 2, 1048576.0}, {std::pow(e, 4) - 2, 2097152.0}}) {
    CAPTURE(t);
    CHECK(particles::gradient_qp(t * (1 - 1e-12), 524288, 2) == qp / 2);
    CHECK(particles::gradient_qp(t * (1 + 1e-12), 524288, 2) == qp);
  }
  CHECK(particles::push_factor(7.5, 2, 7.5) == 0.5);
  CHECK(std::abs(particles::push_factor(0, 2, 7.5) - 1) <= 1e-12);  // absolute: the tanh's tail leaves 1 - 1e-13
}

TEST_CASE("quantized gradient: one SGD step by hand, floor against round, and its residual statistics") {
  // λ = 1, no push: h = -g = ±2.5 grid steps; the floor gives +2 and -3 steps, round-to-even +2 and -2
  particles::QuantizedGradientOptions o;
  o.rule = GradientRule::sgd;
  o.lr = 1;
  o.push = false;
  const float qp = 262144;  // step 1 of 600: t_e < e - 2
  const std::vector<float> g{-2.5f / qp, 2.5f / qp, -0.25f / qp, 0};
  std::vector<float> w(4, 0), m, v;
  auto st = particles::quantized_gradient_step(w, g, m, v, 1, o, 0);
  CHECK(st.qp == qp);
  CHECK(w == std::vector<float>{2 / qp, -3 / qp, 0, 0});  // exact: powers of 2
  CHECK(std::abs(st.mean_residual - (0.5 + 0.5 + 0.25 + 0) / 4) <= 1e-12);  // absolute: exact float32 residuals, summed in double
  CHECK(st.moved == 0.5);
  o.quantizer = GradientQuantizer::nearest;
  std::fill(w.begin(), w.end(), 0.0f);
  particles::quantized_gradient_step(w, g, m, v, 1, o, 0);
  CHECK(w == std::vector<float>{2 / qp, -2 / qp, 0, 0});
}

TEST_CASE("quantized gradient: the gaussian ablation adds sigma times the stream's draws, no grid") {
  particles::QuantizedGradientOptions o;
  o.rule = GradientRule::sgd;
  o.lr = 1;
  o.push = false;
  o.quantizer = GradientQuantizer::gaussian;
  o.seed = 9;
  const std::vector<float> g{1e-3f, -2e-3f, 0, 5e-4f};
  std::vector<float> w(4, 0), m, v, xi(4);
  particles::quantized_gradient_step(w, g, m, v, 3, o, 2);
  particles::gradient_noise(9, 2, 3, xi);
  const float sigma = static_cast<float>(1 / (262144 * std::sqrt(12.0)));
  for (std::size_t i = 0; i < 4; ++i) CHECK(w[i] == -g[i] + sigma * xi[i]);
  std::vector<float> other(4);
  particles::gradient_noise(9, 3, 3, other);  // another tensor draws other numbers
  CHECK(other != xi);
}

TEST_CASE("quantized gradient: wrong sizes, step 0 and bad options are refused naming the key") {
  particles::QuantizedGradientOptions o;
  std::vector<float> w(3), g(2), m(3), v(3), empty;
  auto key = [](auto&& f) {
    try {
      f();
    } catch (const core::InvalidArgument& e) {
      return e.key();
    }
    return std::string("accepted");
  };
  CHECK(key([&] { particles::quantized_gradient_step(w, g, m, v, 1, o, 0); }) == "grad");
  g.resize(3);
  CHECK(key([&] { particles::quantized_gradient_step(w, g, empty, v, 1, o, 0); }) == "state");
  CHECK(key([&] { particles::quantized_gradient_step(w, g, m, v, 0, o, 0); }) == "step");
  o.beta2 = 1;
  CHECK(key([&] { o.check(); }) == "beta2");
  o.beta2 = 0.999;
  o.base = 1;
  CHECK(key([&] { o.check(); }) == "base");
}
