// qtzflow verify: v5_particles (see verify/experiments.hpp for what it checks).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numbers>
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

void v5_particles(Experiment& e) {
  // Langevin ensembles against the FP density of the same problem (1D tilted double well,
  // T = 0.5, reflecting box): L1(histogram, ρ_FP) at several times for growing M.
  const double T = 0.5, dt = 2e-3;
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  grids::Grid<1> g({100}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  const std::vector<double> times = e.quick() ? std::vector<double>{0.25, 0.5, 1.0} : std::vector<double>{0.25, 0.5, 1.0, 2.0};
  const std::vector<std::size_t> Ms =
      e.quick() ? std::vector<std::size_t>{1000, 4000, 16000, 64000} : std::vector<std::size_t>{1000, 4000, 16000, 64000, 256000};
  const int seeds = 3;
  solver::FokkerPlanckSolver<1> fp(land, Schedule::constant(T), {dt, solver::FpScheme::extrapolated_euler});
  fp.set_state(gaussian_density<1>(g, {0.96}, 0.2));
  std::vector<grids::Field<double, 1>> rho;
  for (double t : times) {
    fp.advance(std::lround((t - fp.time()) / dt));
    rho.push_back(fp.rho());
    e.put("fp/rho_t" + std::to_string(rho.size() - 1), values(rho.back()));
  }
  e.put("times", times);
  e.put("x", centres(g));
  std::vector<double> logM;
  std::vector<std::vector<double>> logL1(times.size());
  std::vector<double> last_l1;
  for (std::size_t M : Ms) {
    std::vector<double> mean_l1(times.size(), 0.0);
    for (int s = 0; s < seeds; ++s) {
      particles::ParticleEnsemble<1> p(*f, g, Schedule::constant(T),
                                       {particles::ParticleDynamics::langevin, dt, 0.1, 2.0, 1000 + static_cast<std::uint64_t>(s)});
      p.sample_initial(M, {0.96}, {0.2});
      for (std::size_t k = 0; k < times.size(); ++k) {
        p.advance(std::lround((times[k] - p.time()) / dt));
        const auto h = p.histogram();
        mean_l1[k] += solver::l1_distance(g, h, rho[k]) / seeds;
        if (M == Ms.back() && s == 0) e.put("particles/hist_t" + std::to_string(k), values(h));
      }
    }
    e.put("l1/M" + std::to_string(M), mean_l1);
    last_l1 = mean_l1;
    logM.push_back(std::log(static_cast<double>(M)));
    for (std::size_t k = 0; k < times.size(); ++k) logL1[k].push_back(std::log(mean_l1[k]));
  }
  std::vector<double> Md(Ms.begin(), Ms.end());
  e.put("M", Md);
  // Absolute: at the largest M the measured L1 must be the sampling expectation plus the small biases.
  std::vector<double> expected_l1(times.size());
  for (std::size_t k = 0; k < times.size(); ++k) {
    expected_l1[k] = histogram_sampling_l1(g, rho[k], static_cast<double>(Ms.back()));
    char q[128];
    std::snprintf(q, sizeof q, "L1(histogram, rho_FP) at M = %zu, t = %g (pure sampling: %.4f)", Ms.back(), times[k], expected_l1[k]);
    e.at_most(q, last_l1[k], 1.15 * expected_l1[k] + 0.005,
              "the sampling expectation sqrt(2/(pi M)) sum sqrt(p(1-p)) (x 1.15: mean of 3 seeds, scatter ~3 %) plus 0.005 absolute for "
              "the biases (Euler-Maruyama O(dt), FP O(h^2)): measured L1 - expectation <= 0.0012 at M = 64000 (quick) and <= 0.0038 "
              "at M = 256000 (full), where the bias shows");
  }
  e.put("l1/expected_sampling_at_largest_M", expected_l1);
  for (std::size_t k = 0; k < times.size(); ++k) {
    char q[96];
    std::snprintf(q, sizeof q, "slope of ln L1(histogram, rho_FP) against ln M at t = %g", times[k]);
    e.close(q, fitted_slope(logM, logL1[k]), -0.5, 0.1,
            "pure sampling error of a histogram falls as M^(-1/2); the biases (Euler-Maruyama O(dt), FP O(h^2), ~1e-3) stay below the L1 at the "
            "largest M (~0.01)");
  }
}

}  // namespace qtzflow::verify
