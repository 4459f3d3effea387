// qtzflow verify: v6_effective_temperature (see verify/experiments.hpp for what it checks).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "grids/basins.hpp"
#include "particles/ensemble.hpp"
#include "potentials/gibbs.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"
#include "verify/experiments.hpp"
#include "verify/physics.hpp"

namespace qtzflow::verify {

using potentials::PotentialKind;
using potentials::Schedule;

void v6_effective_temperature(Experiment& e) {
  // Quantized local search at fixed Q_p on f = x²/2: the stationary histogram is fitted in the
  // Gibbs family (for a harmonic f the maximum-likelihood T is ⟨x²⟩), giving C_q = 2·Q_p·T_eff.
  // White-noise prediction for the dithered quantizer (both values quantized afresh, small δ):
  // the comparison noise is q·(U1 − U2), triangular, so the moves form a diffusion with drift
  // −f'δ²/q and diffusion δ²/4 per step: Gibbs at T_eff = q/4, C_q = 1/2.  The plain quantizer
  // is not noisy at all: particles sink to the lowest quantization band {f < q/2} and spread
  // uniformly in it, variance q/3 for this f, i.e. "C_q" = 2/3 with a non-Gibbs shape.
  auto f = potentials::make_objective("harmonic", 1);
  grids::Grid<1> g({200}, {-1.5}, {1.5}, grids::Boundary::reflecting);
  const double qp = 10, q = 1 / qp;
  const Schedule sched = Schedule::constant(1 / qp);  // Q_p = C_q/(2T) with C_q = 2 → T = 1/Q_p
  const std::vector<double> deltas = e.quick() ? std::vector<double>{0.03, 0.1, 0.3} : std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
  const std::size_t M = e.quick() ? 20000 : 40000;
  e.put("deltas", deltas);
  e.put("x", centres(g));
  e.attr("Q_p", qp);
  for (auto dyn : {particles::ParticleDynamics::qtz_local, particles::ParticleDynamics::qtz_dither}) {
    const std::string name = dyn == particles::ParticleDynamics::qtz_local ? "plain" : "dithered";
    std::vector<double> cq, acc, misfit;
    for (double d : deltas) {
      particles::ParticleEnsemble<1> p(*f, g, sched, {dyn, 1.0, d, 2.0, 7});
      p.sample_initial(M, {0.0}, {0.3});
      // ~10 relaxation times: the drift rate is δ²f''/q per move
      const long steps = std::max(1000L, std::lround(10 * q / (d * d)));
      p.advance(steps);
      double x2 = 0;
      for (double x : p.positions()) x2 += x * x;
      const double teff = x2 / static_cast<double>(M);
      cq.push_back(2 * qp * teff);
      acc.push_back(p.acceptance_rate());
      const auto h = p.histogram();
      grids::Field<double, 1> gibbs(g.shape());
      for (std::size_t i = 0; i < g.size(); ++i) gibbs[i] = std::exp(-g.x(0, i) * g.x(0, i) / (2 * teff)) / std::sqrt(2 * kPi * teff);
      misfit.push_back(solver::l1_distance(g, h, gibbs));
      char label[64];
      std::snprintf(label, sizeof label, "%s/hist_delta%g", name.c_str(), d);
      e.put(label, values(h));
    }
    e.put(name + "/C_q", cq);
    e.put(name + "/acceptance", acc);
    e.put(name + "/gibbs_l1_misfit", misfit);
    if (dyn == particles::ParticleDynamics::qtz_dither) {
      e.close("dithered quantizer: C_q = 2 Q_p T_eff at the smallest delta", cq.front(), 0.5, 0.05,
              "diffusion limit of the white-noise hypothesis (derivation above); corrections O((delta f'/q)^2) < 1 %, sampling sqrt(2/M) < 1 %");
      e.finding("QTZ's temperature depends on the quantizer: with the dithered quantizer local moves are Gibbs at C_q = 2 Q_p T_eff = " +
                number_text(cq.front(), 3) + " (the white-noise prediction 1/2; Gibbs misfit " + number_text(misfit.front(), 2) + ")");
      e.at_most("dithered quantizer: L1 misfit to the fitted Gibbs density at the smallest delta", misfit.front(), 0.05,
                "Gibbs within sampling noise (histogram L1 ~ 0.02 for this M)");
    } else {
      e.close("plain quantizer: 2 Q_p <x^2> at the smallest delta (uniform on the lowest band: 2/3)", cq.front(), 2.0 / 3.0, 0.03,
              "uniform law on |x| < sqrt(q) has variance q/3; sampling sqrt(2/M) ~ 1 %");
      e.finding(
          "the plain quantizer of the paper's code is not a diffusion: particles settle uniformly in the lowest quantization band "
          "(2 Q_p <x^2> = " +
          number_text(cq.front(), 3) + ", 2/3 for a flat band; L1 misfit to the best Gibbs law " + number_text(misfit.front(), 2) + ")");
      e.at_least("plain quantizer: L1 misfit to the best Gibbs density (not Gibbs)", misfit.front(), 0.1,
                 "a flat band against a Gaussian of the same variance differs by ~0.2 in L1");
    }
  }
}

}  // namespace qtzflow::verify
