// qtzflow verify: v7_annealing (see verify/experiments.hpp for what it checks).
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

void v7_annealing(Experiment& e) {
  // Mass in the global basin of the 1D tilted double well (critical depth: f(saddle) − f(metastable
  // minimum) = 1.0113 − 0.2941 = 0.717) under T(t) = c/ln(t+2) with c above and below the depth,
  // and under the paper's geometric law, from the three engines side by side.
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  const std::size_t n = 256;
  grids::Grid<1> gr({n}, {-2.5}, {2.5}, grids::Boundary::reflecting), gp({n}, {-2.5}, {2.5});
  potentials::Landscape<1> lr(*f, gr), lp(*f, gp);
  const auto basins = grids::find_basins(gr, lr.f());
  const double t_end = e.quick() ? 10 : 40, every = 0.5;
  // φ = ρ·e^{f/2T} carries the basins with relative weights ~ e^{Δf/2T} (Δf = spread of the basin
  // minima): once ε_machine·e^{Δf/2T} exceeds 1e-4 the weaker basin drowns in the FFT round-off
  // (measured: the global mass goes wrong at T ≈ 0.008 for Δf = 0.6).  The imaginary-time side
  // stops there; FP and the particles go on.
  const double df = basins.minimum_value.back() - basins.minimum_value.front();
  const double T_floor = potentials::imaginary_time_temperature_floor(df);
  e.attr("imaginary_time_T_floor", T_floor);
  const std::size_t M = e.quick() ? 20000 : 100000;
  struct Law {
    std::string name;
    Schedule s;
  };
  const std::vector<Law> laws{
      {"log_c1.5", Schedule::logarithmic(1.5)}, {"log_c0.4", Schedule::logarithmic(0.4)}, {"paper_Cq2_eta1_tau4", Schedule::paper(2.0, 1.0, 4.0)}};
  std::vector<double> times;
  for (double t = 0; t <= t_end + 1e-9; t += every) times.push_back(t);
  e.put("times", times);
  std::map<std::string, double> final_mass;
  for (const auto& law : laws) {
    const auto rho0 = gaussian_density<1>(gr, {0.96}, 0.2);
    solver::FokkerPlanckSolver<1> fp(lr, law.s, {2e-3, solver::FpScheme::extrapolated_euler});
    fp.set_state(rho0);
    solver::SplitStepSolver<1> im(lp, PotentialKind::witten, law.s, split_options(solver::TimeMode::imaginary, 5e-4));
    im.set_state(potentials::phi_from_density(lp.f(), rho0, law.s.T(0)));
    particles::ParticleEnsemble<1> pe(*f, gr, law.s, {particles::ParticleDynamics::langevin, 2e-3, 0.1, 2.0, 11});
    pe.sample_initial(M, {0.96}, {0.2});
    std::vector<double> m_fp, m_im, m_pe, temp;
    for (double t : times) {
      fp.advance(std::lround((t - fp.time()) / 2e-3));
      const bool im_valid = law.s.T(t) >= T_floor;
      if (im_valid) im.advance(std::lround((t - im.time()) / 5e-4));
      pe.advance(std::lround((t - pe.time()) / 2e-3));
      m_fp.push_back(grids::mass_per_basin(gr, basins, fp.rho(), solver::identity)[0]);
      if (im_valid) {
        const auto rim = potentials::density_from_phi(gp, lp.f(), im.phi(), law.s.T(im.time()));
        m_im.push_back(grids::mass_per_basin(gr, basins, rim, solver::identity)[0]);
      } else {
        m_im.push_back(std::numeric_limits<double>::quiet_NaN());
      }
      m_pe.push_back(grids::mass_per_basin(gr, basins, pe.histogram(), solver::identity)[0]);
      temp.push_back(law.s.T(t));
    }
    e.put(law.name + "/T", temp);
    e.put(law.name + "/mass_global_fp", m_fp);
    e.put(law.name + "/mass_global_schrodinger", m_im);
    e.put(law.name + "/mass_global_particles", m_pe);
    double d_im = 0, d_pe = 0, sd = 0;
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (!std::isnan(m_im[k])) d_im = std::max(d_im, std::abs(m_im[k] - m_fp[k]));
      d_pe = std::max(d_pe, std::abs(m_pe[k] - m_fp[k]));
      sd = std::max(sd, std::sqrt(m_fp[k] * (1 - m_fp[k]) / static_cast<double>(M)));
    }
    const auto im_times = static_cast<std::size_t>(std::count_if(m_im.begin(), m_im.end(), [](double v) { return !std::isnan(v); }));
    e.attr(law.name + "/imaginary_time_t_end", times[im_times - 1]);
    e.at_most(law.name + ": max |mass_global(imaginary time) - mass_global(FP)| over t while T >= T_floor", d_im, 3e-4,
              "the same PDE in two discretisations: FP O(h^2 + dt^2), split-step O(dt^2) with the f*Tdot/(2T^2) term; h = 0.02. "
              "Measured 7e-6 .. 1.1e-4 over the three laws; bound about three times the largest. "
              "Compared up to t = " +
                  number_text(times[im_times - 1]) + ": below T_floor = " + number_text(T_floor) +
                  " the basins' weights in phi = rho e^(f/2T) differ by more than 1e-4/eps_machine");
    e.at_most(law.name + ": max |mass_global(particles) - mass_global(FP)| over t", d_pe, 4 * sd + 5e-3,
              "binomial sampling (4 sigma, M particles) plus Euler-Maruyama's O(dt) bias");
    final_mass[law.name] = m_fp.back();
    if (law.name == "log_c1.5") {
      // c above the critical depth: the metastable mass keeps draining (the theory's convergence)
      bool draining = true;
      for (std::size_t k = times.size() / 2; k + 1 < times.size(); ++k) draining = draining && m_fp[k + 1] >= m_fp[k] - 1e-12;
      e.at_least("log c = 1.5 > depth: global mass non-decreasing over the second half (1 = yes)", draining ? 1 : 0, 1,
                 "T(t) falls slowly enough for the escape rate ~ exp(-0.717/T) to outpace the cooling (Hajek's condition c >= depth)");
    }
  }
  e.at_least("global mass at t_end: log c = 1.5 minus log c = 0.4", final_mass["log_c1.5"] - final_mass["log_c0.4"], 0.25,
             "below the critical depth (0.717) the metastable basin freezes: c = 0.4 leaves a third of the mass behind that c = 1.5 "
             "moves (measured 0.36 at t = 10, 0.40 at t = 40); the paper's law is reported as measured");
  for (const auto& [k, v] : final_mass) e.attr("final_mass_global_" + k, v);
  e.finding("imaginary time has a temperature floor: under a falling T, phi = rho e^(f/2T) weights the basins by e^(df/2T); below T = " +
            number_text(T_floor, 2) + " the weaker basin is lost to round-off, while Fokker-Planck and particles go on");
  e.finding("annealing below the critical depth freezes mass: at t = " + number_text(t_end) + " the global basin holds " +
            number_text(final_mass["log_c1.5"], 3) + " under T = 1.5/ln(t+2) and " + number_text(final_mass["log_c0.4"], 3) +
            " under T = 0.4/ln(t+2) (critical depth 0.717)");
}

}  // namespace qtzflow::verify
