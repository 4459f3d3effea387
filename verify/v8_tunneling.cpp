// qtzflow verify: v8_tunneling (see verify/experiments.hpp for what it checks).
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

void v8_tunneling(Experiment& e) {
  // Real-time H_T of a weakly tilted double well (c = 0.05, T = 0.25: barrier/T = 4, so the two
  // lowest levels are split off from the rest): probability in the global basin from the Gibbs
  // state cut smoothly to the metastable well, against the two-level estimate built from the two
  // lowest eigenstates (deflation).  The difference is bounded by the weight r outside the two
  // levels: |ΔP| ≤ r + 2·sqrt(r(1 − r)).
  const double T = 0.25;
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.05}}});
  grids::Grid<1> g({256}, {-2.5}, {2.5});
  potentials::Landscape<1> land(*f, g);
  const auto basins = grids::find_basins(g, land.f());
  solver::SplitStepSolver<1> im(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::imaginary, 5e-4));
  const auto st = im.eigenstates(2, grids::Field<double, 1>(g.shape(), 1.0), 1e-13, 4'000'000, 1000);
  const double dE = st[1].energy - st[0].energy;
  // initial state: φ0 = e^{−f/2T} times a smooth step onto the metastable (right) well
  grids::Field<grids::complex, 1> psi0(g.shape());
  double norm = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double v = st[0].phi[i] * 0.5 * (1 + std::tanh((g.x(0, i) - 0.0) / 0.1));
    psi0[i] = v;
    norm += v * v * g.cell_volume();
  }
  for (auto& v : psi0) v /= std::sqrt(norm);
  const double h = g.cell_volume();
  double c[2] = {0, 0}, P[2][2] = {{0, 0}, {0, 0}};
  for (std::size_t i = 0; i < g.size(); ++i) {
    for (int a = 0; a < 2; ++a) c[a] += st[static_cast<std::size_t>(a)].phi[i] * psi0[i].real() * h;
    if (basins.label[i] == 0)
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) P[a][b] += st[static_cast<std::size_t>(a)].phi[i] * st[static_cast<std::size_t>(b)].phi[i] * h;
  }
  const double r = std::max(0.0, 1 - c[0] * c[0] - c[1] * c[1]);
  const double bound = r + 2 * std::sqrt(r * (1 - r));
  solver::SplitStepSolver<1> re(land, PotentialKind::witten, Schedule::constant(T),
                                split_options(solver::TimeMode::real, 0.01, solver::SplitScheme::yoshida4));
  re.set_state(psi0);
  const double t_end = (e.quick() ? 2 : 4) * 2 * kPi / dE;
  std::vector<double> t, p_num, p_two;
  double dev = 0;
  while (re.time() < t_end) {
    const double tt = re.time();
    const double pn = grids::mass_per_basin(g, basins, re.psi(), solver::abs2)[0];
    const double pt = c[0] * c[0] * P[0][0] + c[1] * c[1] * P[1][1] + 2 * c[0] * c[1] * P[0][1] * std::cos(dE * tt);
    t.push_back(tt);
    p_num.push_back(pn);
    p_two.push_back(pt);
    dev = std::max(dev, std::abs(pn - pt));
    re.advance(10);
  }
  e.put("t", t);
  e.put("P_global_real_time", p_num);
  e.put("P_global_two_level", p_two);
  e.put("x", centres(g));
  e.put("phi0", values(st[0].phi));
  e.put("phi1", values(st[1].phi));
  e.attr("E1_minus_E0", dE);
  e.attr("weight_outside_two_levels", r);
  e.at_most("max |P_global(t) - two-level estimate|", dev, bound,
            "exact inequality: the state outside the two lowest levels (weight r) changes <Pi> by at most r + 2 sqrt(r(1-r))");
  // the transfer frequency: zero crossings of P − (its two-level mean)
  const double mean = c[0] * c[0] * P[0][0] + c[1] * c[1] * P[1][1];
  std::vector<double> crossings;
  for (std::size_t k = 1; k < t.size(); ++k)
    if ((p_num[k - 1] < mean) != (p_num[k] < mean))
      crossings.push_back(t[k - 1] + (t[k] - t[k - 1]) * (mean - p_num[k - 1]) / (p_num[k] - p_num[k - 1]));
  const double omega = crossings.size() >= 3 ? kPi * static_cast<double>(crossings.size() - 1) / (crossings.back() - crossings.front()) : 0;
  e.attr("omega_transfer", omega);
  e.close("transfer frequency (zero crossings) / (E1 - E0)", omega / dE, 1.0, 0.01,
          "the two-level oscillation at E1 - E0 dominates (weight outside the two levels r << 1); linear interpolation of the crossings is O(dt^2)");
}

}  // namespace qtzflow::verify
