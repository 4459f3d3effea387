// qtzflow verify: v3_spectral_gap (see verify/experiments.hpp for what it checks).
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

void v3_spectral_gap(Experiment& e) {
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1);
  grids::Grid<1> g({256}, {-2.5}, {2.5});
  potentials::Landscape<1> land(*f, g);
  // E1 − E0 of H_T by deflation, Richardson over dt (Strang: O(dt²))
  const auto wg = witten_gap(land, T, e.quick() ? std::array<double, 2>{2e-3, 1e-3} : std::array<double, 2>{5e-4, 2.5e-4}, 1e-14, 2'000'000);
  const std::vector<double> gaps(wg.gaps.begin(), wg.gaps.end());
  const auto& states = wg.states;
  const double e1 = wg.extrapolated;
  // λ1 of the FP generator, refined in h
  std::vector<double> lam;
  for (std::size_t n : {400, 800}) {
    grids::Grid<1> gf({n}, {-2.5}, {2.5}, grids::Boundary::reflecting);
    potentials::Landscape<1> lf(*f, gf);
    solver::FokkerPlanckSolver<1> s(lf, Schedule::constant(T), {0.01});
    lam.push_back(s.spectrum(2)[1]);
  }
  // 2π / period of ⟨x⟩(t) in real time from (φ0 + φ1)/√2 (Yoshida-4), Richardson over dt
  grids::Field<double, 1> start(g.shape());
  for (std::size_t i = 0; i < g.size(); ++i) start[i] = (states[0].phi[i] + states[1].phi[i]) / std::sqrt(2.0);
  const double dt_rt = e.quick() ? 0.02 : 0.005, t_end = 4 * 2 * kPi / e1;
  const auto o1 = mean_x_frequency(land, T, start, dt_rt, t_end), o2 = mean_x_frequency(land, T, start, dt_rt / 2, t_end, true);
  const double w1 = o1.omega, w2 = o2.omega;
  const double omega = (16 * w2 - w1) / 15;
  const std::vector<double>& trace = o2.mean_x;
  e.put("mean_x_real_time", trace);
  e.attr("dt_real_time", dt_rt / 2);
  e.put("x", centres(g));
  e.put("phi0", values(states[0].phi));
  e.put("phi1", values(states[1].phi));
  e.put("gaps_E1_minus_E0", gaps);
  e.put("lambda1_n400_n800", lam);
  e.attr("E1", e1);
  e.attr("lambda1", lam.back());
  e.attr("omega", omega);
  e.close("lambda1 (FP generator, n = 800) / E1 (deflation)", lam.back() / e1, 1.0, 1e-4,
          "FP is O(h^2): measured 1.4e-5 at n = 800; deflation is spectral in space and Richardson-extrapolated in dt");
  e.close("observed order in h of |lambda1 - E1|", std::log2(std::abs(lam[0] - e1) / std::abs(lam[1] - e1)), 2.0, 0.2, "second-order finite volumes");
  e.close("2 pi / period of <x>(t) (real time) / E1", omega / e1, 1.0, e.quick() ? 1e-4 : 1e-6,
          "both sides Richardson-extrapolated: Yoshida O(dt^4) -> O(dt^6), Strang O(dt^2) -> O(dt^4)");
}

}  // namespace qtzflow::verify
