// QTZ inside one's own search loop: particles::QuantizedOptimizer holds the authors' acceptance
// rule (quantize, accept ties, refine Q_p = η·2^h per acceptance, stop at h = 1023); the
// objective and the proposals are the caller's.  Here: Himmelblau's function on [−5, 5]²,
//   f(x, y) = (x² + y − 11)² + (x + y² − 7)²,   four global minima with f = 0,
// with local Gaussian proposals of size δ = 0.05.  Usage: qtz_own_loop [seed = 1]
// Exit 0 when the best value is below 1e-4, i.e. a global minimum was found (with a fixed δ the
// final precision stalls near 1e-7: steps that small rarely land lower).  A smoke test of the API.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include "core/random.hpp"
#include "particles/quantizer.hpp"

namespace {
double himmelblau(const std::array<double, 2>& p) {
  const double a = p[0] * p[0] + p[1] - 11, b = p[0] + p[1] * p[1] - 7;
  return a * a + b * b;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace qtzflow;
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  core::RandomStream rng(seed, 0);
  std::array<double, 2> x{rng.uniform(-5, 5), rng.uniform(-5, 5)};
  double best = himmelblau(x);
  particles::QuantizedOptimizer q(best, particles::QpRule::per_acceptance, 0, false, rng);
  long it = 0;
  const long budget = 200000;
  while (it < budget && !q.finished()) {
    q.begin_iteration(++it, rng);
    std::array<double, 2> c{std::clamp(x[0] + 0.05 * rng.normal(), -5.0, 5.0), std::clamp(x[1] + 0.05 * rng.normal(), -5.0, 5.0)};
    const double fc = himmelblau(c);
    if (q.offer(fc, rng)) {
      x = c;
      best = std::min(best, fc);
    }
  }
  std::printf("QTZ on Himmelblau: %ld candidates, h = %d, Q_p = %.3g, x = (%.6f, %.6f), f = %.3e\n", it, q.h(), q.qp(), x[0], x[1], best);
  return best < 1e-4 ? 0 : 1;
}
