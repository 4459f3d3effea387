// qtzflow verify: v9_qtz_annealing (see verify/experiments.hpp for what it checks).
//
// The dithered quantizer's particles in Fokker–Planck time (docs/theory.md, "QTZ particles as a
// diffusion") against the FP density of the same problem, on the tilted double wells
// f = Σ(x_i² − 1)² + 0.3·x_i: at constant T the histogram's L1 distance to ρ_FP falls as
// M^(−1/2) until it meets the weak limit's bias; that bias falls as √dt (the drift is
// −f'(1 − κ|f'|δ/q) with κ = E|ξ|³/2 = √(2/π), δ/q = √(dt/(T m))/2); under annealing (the
// logarithmic law above and below the critical depth, the paper's law) the mass in the global
// basin follows FP's within sampling plus that bias.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "grids/basins.hpp"
#include "particles/ensemble.hpp"
#include "potentials/gibbs.hpp"
#include "potentials/objective.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"
#include "verify/experiments.hpp"
#include "verify/physics.hpp"

namespace qtzflow::verify {

using potentials::Schedule;

namespace {

/// FP and dithered-QTZ particles side by side from ρ0 = N(centre, sd²) under one schedule.
template <int D>
struct SideBySide {
  std::vector<double> times;
  std::vector<std::vector<double>> l1;    ///< [prefix][time]: L1(histogram of the prefix, ρ_FP)
  std::vector<double> sampling_l1;        ///< [time]: the sampling expectation at the full M
  std::vector<double> mass_fp, mass_qtz;  ///< [time]: mass in the global basin (basin 0)
  std::vector<double> T;                  ///< [time]
  grids::Field<double, D> rho_last, hist_last;
  // with an imaginary-time companion (the third engine): its mass while T >= the floor, and
  // frames of all three densities at the frame times
  std::vector<double> mass_im;  ///< [time], NaN below the imaginary-time floor
  std::vector<double> frame_times;
  std::vector<std::vector<double>> frames_fp, frames_qtz, frames_im;
};

/// The imaginary-time side: φ = e^(f/2T)ρ on a periodic grid `gp` whose cells coincide with
/// the FP grid's (shifted by `offset` cells per axis, the box extended so that the wrap sits
/// where ρ is ~1e-4 of its peak), stepped with the f·Ṫ/(2T²) term of the Witten transform.
template <int D>
struct ImaginaryCompanion {
  grids::Grid<D> grid;
  std::size_t offset;
};

template <int D>
SideBySide<D> side_by_side(const potentials::Objective& f, const grids::Grid<D>& g, const Schedule& s, std::array<double, D> centre, double sd,
                           double dt_fp, double dt_qtz, std::size_t M, const std::vector<std::size_t>& prefixes, const std::vector<double>& times,
                           std::uint64_t seed, const ImaginaryCompanion<D>* companion = nullptr, const std::vector<double>& frame_times = {}) {
  potentials::Landscape<D> land(f, g);
  const auto basins = grids::find_basins(g, land.f());
  solver::FokkerPlanckSolver<D> fp(land, s, {dt_fp, solver::FpScheme::extrapolated_euler});
  fp.set_state(gaussian_density<D>(g, centre, sd));
  particles::ParticleOptions o{particles::ParticleDynamics::qtz_dither, dt_qtz, 0.1, 2.0, seed};
  o.clock = particles::QtzClock::fokker_planck;  // m = 4 moves per dt, the default
  particles::ParticleEnsemble<D> p(f, g, s, o);
  p.sample_initial(M, {centre.begin(), centre.end()}, std::vector<double>(D, sd));
  SideBySide<D> r;
  r.times = times;
  r.l1.assign(prefixes.size(), {});
  // the imaginary-time side (optional)
  std::unique_ptr<potentials::Landscape<D>> lp;
  std::unique_ptr<solver::SplitStepSolver<D>> im;
  const double dt_im = 5e-4;
  double T_floor = 0;
  if (companion) {
    lp = std::make_unique<potentials::Landscape<D>>(f, companion->grid);
    im = std::make_unique<solver::SplitStepSolver<D>>(*lp, potentials::PotentialKind::witten, s, split_options(solver::TimeMode::imaginary, dt_im));
    im->set_state(potentials::phi_from_density(lp->f(), gaussian_density<D>(companion->grid, centre, sd), s.T(0)));
    T_floor = potentials::imaginary_time_temperature_floor(basins.minimum_value.back() - basins.minimum_value.front());
  }
  // the companion's density restricted to the FP grid's cells
  auto restricted = [&](const grids::Field<double, D>& big) {
    grids::Field<double, D> out(g.shape());
    const std::size_t shift = companion->offset;
    for (std::size_t i = 0; i < g.size(); ++i) {
      std::size_t rest = i, j = 0, stride = 1;
      for (int a = D - 1; a >= 0; --a) {  // C order: the last axis runs fastest
        j += (rest % g.n(a) + shift) * stride;
        rest /= g.n(a);
        stride *= companion->grid.n(a);
      }
      out[i] = big[j];
    }
    return out;
  };
  for (double t : times) {
    fp.advance(std::lround((t - fp.time()) / dt_fp));
    p.advance(std::lround((t - p.time()) / dt_qtz));
    const auto rho = fp.rho();
    const bool frame = std::find(frame_times.begin(), frame_times.end(), t) != frame_times.end();
    if (companion) {
      // twice the floor: the estimate e^(df/2T) eps = 1e-4 is optimistic on these grids; measured,
      // imaginary time leaves FP at T = 1.3 T_floor (1D) and 1.5 T_floor (2D)
      const bool valid = s.T(t) >= 2 * T_floor;
      if (valid) im->advance(std::lround((t - im->time()) / dt_im));
      const auto rim = valid ? restricted(potentials::density_from_phi(companion->grid, lp->f(), im->phi(), s.T(t))) : grids::Field<double, D>();
      r.mass_im.push_back(valid ? grids::mass_per_basin(g, basins, rim, solver::identity)[0] : std::nan(""));
      if (frame) r.frames_im.push_back(valid ? values(rim) : std::vector<double>(g.size(), std::nan("")));
    }
    if (frame) {
      r.frame_times.push_back(t);
      r.frames_fp.push_back(values(rho));
      r.frames_qtz.push_back(values(p.histogram()));
    }
    for (std::size_t k = 0; k < prefixes.size(); ++k) r.l1[k].push_back(solver::l1_distance(g, p.histogram(prefixes[k]), rho));
    r.sampling_l1.push_back(histogram_sampling_l1(g, rho, static_cast<double>(M)));
    r.mass_fp.push_back(grids::mass_per_basin(g, basins, rho, solver::identity)[0]);
    const auto h = p.histogram();
    r.mass_qtz.push_back(grids::mass_per_basin(g, basins, h, solver::identity)[0]);
    r.T.push_back(s.T(t));
    r.rho_last = rho;
    r.hist_last = h;
  }
  return r;
}

/// Max over t of |mass_qtz − mass_fp| and of the binomial σ of the QTZ mass.
std::pair<double, double> mass_gap(const std::vector<double>& m_fp, const std::vector<double>& m_qtz, std::size_t M) {
  double d = 0, sd = 0;
  for (std::size_t k = 0; k < m_fp.size(); ++k) {
    d = std::max(d, std::abs(m_qtz[k] - m_fp[k]));
    sd = std::max(sd, std::sqrt(m_fp[k] * (1 - m_fp[k]) / static_cast<double>(M)));
  }
  return {d, sd};
}

/// f = F·x: no curvature, so the dithered moves' weak limit has exactly drift −F(1 − κFδ/q) and
/// diffusion q/4 (for Fδ|ξ| ≤ q; the tail beyond |ξ| = q/(Fδ) > 20 is nil): the one bias left
/// is the √dt one.
class Slope final : public potentials::Objective {
 public:
  explicit Slope(double F) : Objective("slope", 1, {{"F", {F}}}), F_(F) {
    lower_ = {0.0};
    upper_ = {1.0};
  }
  double value(std::span<const double> x) const override { return F_ * x[0]; }
  void gradient(std::span<const double>, std::span<double> g) const override { g[0] = F_; }
  double laplacian(std::span<const double>) const override { return 0; }

 private:
  double F_;
};

std::string fmt(const char* f, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

}  // namespace

void v9_qtz_annealing(Experiment& e) {
  const bool quick = e.quick();
  auto f1 = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  const grids::Grid<1> g1({100}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  e.put("x", centres(g1));
  e.put("2d/x",
        {-1.95, -1.85, -1.75, -1.65, -1.55, -1.45, -1.35, -1.25, -1.15, -1.05, -0.95, -0.85, -0.75, -0.65, -0.55, -0.45, -0.35, -0.25, -0.15, -0.05,
         0.05,  0.15,  0.25,  0.35,  0.45,  0.55,  0.65,  0.75,  0.85,  0.95,  1.05,  1.15,  1.25,  1.35,  1.45,  1.55,  1.65,  1.75,  1.85,  1.95});
  const double dt_default = 1e-3;  // particles.dt's default, m = 4 moves per dt

  // 1. Constant T = 0.3 from N(0.96, 0.2²), the default step: L1 against M (prefixes of one run).
  {
    const std::size_t M = quick ? 16000 : 256000;
    // the first three prefixes are sampling-dominated (L1 >= 4x the floor of ~0.011)
    const std::vector<std::size_t> prefixes =
        quick ? std::vector<std::size_t>{M / 64, M / 16, M / 4, M} : std::vector<std::size_t>{M / 256, M / 64, M / 16, M / 4, M};
    const std::vector<double> times = quick ? std::vector<double>{0.125, 0.25, 0.5, 1.0} : std::vector<double>{0.5, 1.0, 2.0, 5.0};
    const auto r = side_by_side<1>(*f1, g1, Schedule::constant(0.3), {0.96}, 0.2, 1e-3, dt_default, M, prefixes, times, 91);
    std::vector<double> Md(prefixes.begin(), prefixes.end()), logM;
    for (double m : Md) logM.push_back(std::log(m));
    e.put("constant_T/times", times);
    e.put("constant_T/M", Md);
    for (std::size_t k = 0; k < prefixes.size(); ++k) e.put("constant_T/l1_M" + std::to_string(prefixes[k]), r.l1[k]);
    e.put("constant_T/sampling_l1_full_M", r.sampling_l1);
    std::string l1s, ss;
    for (std::size_t t = 0; t < times.size(); ++t) {
      l1s += (t ? ", " : "") + number_text(r.l1.back()[t], 3);
      ss += (t ? ", " : "") + number_text(r.sampling_l1[t], 2);
    }
    e.finding("dithered-QTZ particles in Fokker-Planck time follow rho_FP (tilted double well, T = 0.3, default step): L1 = " + l1s + " at t = " +
              number_text(times[0]) + " .. " + number_text(times.back()) + " with M = " + std::to_string(M) + " (sampling alone " + ss + ")");
    e.put("constant_T/rho_fp_last", values(r.rho_last));
    e.put("constant_T/hist_qtz_last", values(r.hist_last));
    for (std::size_t t = 0; t < times.size(); ++t) {
      std::vector<double> y;
      for (std::size_t k = 0; k < 3; ++k) y.push_back(std::log(r.l1[k][t]));
      e.close(fmt("constant T = 0.3: slope of ln L1(QTZ histogram, rho_FP) against ln M for M = %g .. %g", Md[0], Md[2]) + fmt(", t = %g", times[t]),
              fitted_slope({logM.begin(), logM.begin() + 3}, y), -0.5, 0.1,
              "sampling error of M independent particles: M^(-1/2); the weak-limit bias (~0.01 in L1) is below the L1 of these prefixes");
      e.at_most(fmt("constant T = 0.3: L1(QTZ histogram, rho_FP) at the full M, t = %g (sampling alone: %.4f)", times[t], r.sampling_l1[t]),
                r.l1.back()[t], quick ? 1.15 * r.sampling_l1[t] + 0.012 : 0.02,
                quick ? "sampling expectation (x 1.15) plus the weak-limit bias at dt = 1e-3, m = 4 (measured ~0.01 at M = 256000)"
                      : "the issue's acceptance bound for M = 256000 and the default step (sampling alone ~0.011, bias ~0.01)");
    }
  }
  // 2. The bias floor against dt (m = 4 moves per dt).  (a) f = F·x on [0, 3], T = 0.3: the
  // stationary law is e^(−λx) with λ = F(1 − κFε)/T, ε = δ/q = √(dt/(T m))/2, so the measured
  // 1 − λT/F is the weak limit's bias alone: order 1/2 in dt.  (b) The double well at t = 1:
  // the L1 beyond sampling, √(L1² − S²), where the √dt drift bias and the O(dt) curvature
  // bias of the diffusion (−3f''δ²/q relative) have opposite signs.
  {
    const double T = 0.3, F = 1.0, kappa = std::sqrt(2 / kPi);
    const Slope slope(F);
    const grids::Grid<1> gs({150}, {0.0}, {3.0}, grids::Boundary::reflecting);
    const std::size_t M = quick ? 20000 : 40000;
    const std::vector<double> dts{0.032, 0.016, 0.008, 0.004};
    std::vector<double> bias, predicted, logdt, logbias;
    for (double dt : dts) {
      particles::ParticleOptions o{particles::ParticleDynamics::qtz_dither, dt, 0.1, 2.0, 94};
      o.clock = particles::QtzClock::fokker_planck;
      particles::ParticleEnsemble<1> p(slope, gs, Schedule::constant(T), o);
      p.sample_initial(M, {T / F}, {T / F});
      p.advance(std::lround(1.0 / dt));  // ~3 relaxation times T/F² from a start near the law
      double mean = 0;
      const int samples = 8;
      for (int k = 0; k < samples; ++k) {
        p.advance(std::lround(0.25 / dt));
        for (double x : p.positions()) mean += x / static_cast<double>(M * samples);
      }
      const double lambda = 1 / mean;  // e^(−λ·3) ~ 1e-4: the box's finite length is negligible
      bias.push_back(1 - lambda * T / F);
      predicted.push_back(kappa * F * std::sqrt(dt / (T * 4)) / 2);
      logdt.push_back(std::log(dt));
      logbias.push_back(std::log(std::abs(bias.back())));
    }
    e.put("floor/slope_potential/dt", dts);
    e.put("floor/slope_potential/bias_1_minus_lambda_T_over_F", bias);
    e.put("floor/slope_potential/drift_bias_kappa_F_eps", predicted);
    e.close("f = x, T = 0.3: observed order in dt of the weak-limit bias 1 - lambda T/F", fitted_slope(logdt, logbias), 0.5, 0.1,
            "the dithered comparison accepts with probability 1/2 - s + s|s|/2 (s = F delta xi/q): the s|s| term lowers the drift by "
            "kappa F delta/q ~ sqrt(dt); no curvature, so no O(dt) term competes (measured 0.496)");
    // measured/predicted = 0.55 .. 0.61 at every dt: the reflecting wall, within 1/λ = 0.3 of all
    // the mass, adds a boundary-layer bias of the same order δ (not isolated here)
    e.attr("floor/slope_potential/measured_over_drift_only", bias.back() / predicted.back());
    e.finding("the weak limit's bias is O(sqrt(dt)): on f = x the effective drift is lowered by " + number_text(bias.front(), 2) + " .. " +
              number_text(bias.back(), 2) + " for dt = 0.032 .. 0.004 (observed order " + number_text(fitted_slope(logdt, logbias), 3) + "; " +
              number_text(bias.back() / predicted.back(), 2) + " x the drift-only estimate kappa F delta/q, the rest attributed to the wall)");
  }
  {
    const std::size_t M = quick ? 20000 : 200000;
    const std::vector<double> dts{0.04, 0.02, 0.01, 0.005};
    std::vector<double> floor_l1, mass_err, l1, sampling;
    for (double dt : dts) {
      const auto r = side_by_side<1>(*f1, g1, Schedule::constant(0.3), {0.96}, 0.2, 1e-3, dt, M, {M}, {1.0}, 92);
      l1.push_back(r.l1[0][0]);
      sampling.push_back(r.sampling_l1[0]);
      floor_l1.push_back(std::sqrt(std::max(0.0, l1.back() * l1.back() - sampling.back() * sampling.back())));
      mass_err.push_back(r.mass_qtz[0] - r.mass_fp[0]);
    }
    e.put("floor/double_well/dt", dts);
    e.put("floor/double_well/l1", l1);
    e.put("floor/double_well/sampling_l1", sampling);
    e.put("floor/double_well/l1_beyond_sampling", floor_l1);
    e.put("floor/double_well/mass_global_error", mass_err);
    e.finding("on the double well (f'' = 8) the L1 floor falls from " + number_text(floor_l1.front(), 2) + " to " + number_text(floor_l1.back(), 2) +
              " as dt goes from 0.04 to 0.005: slower than sqrt(dt), the O(dt) curvature bias of the "
              "diffusion opposes the sqrt(dt) drift bias at these steps");
    if (!quick)  // at M = 20000 the sampling L1 (0.036) hides a floor of 0.014
      e.at_most("double well, T = 0.3, t = 1: L1 beyond sampling at dt = 0.005 over that at dt = 0.04", floor_l1.back() / floor_l1.front(), 0.75,
                "the floor falls with dt, slower than sqrt(dt) (ratio 0.35) over this range because the curvature bias -3 f'' dt/m of the "
                "diffusion (f'' = 8: 6 % at dt = 0.01) opposes the sqrt(dt) drift bias; measured 0.58 (order 0.28)");
  }

  // 3. Annealing: the mass in the global basin over t in [0, t_end], 1D (three laws) and 2D
  // (the paper's law), at dt = 0.01 (ten times the default: the √dt bias is ~3x the default's).
  struct Law {
    std::string name;
    Schedule s;
  };
  const double dt = 0.01, t_end = quick ? 10 : 40;
  std::vector<double> times;
  for (double t = 0; t <= t_end + 1e-9; t += 0.5) times.push_back(t);
  e.put("annealing/times", times);
  const std::vector<Law> laws{
      {"log_c1.5", Schedule::logarithmic(1.5)}, {"log_c0.4", Schedule::logarithmic(0.4)}, {"paper_Cq2_eta1_tau4", Schedule::paper(2.0, 1.0, 4.0)}};
  auto report = [&](const std::string& name, const auto& r, std::size_t M, bool acceptance) {
    e.put("annealing/" + name + "/T", r.T);
    e.put("annealing/" + name + "/mass_global_fp", r.mass_fp);
    e.put("annealing/" + name + "/mass_global_qtz", r.mass_qtz);
    const auto [d, sd] = mass_gap(r.mass_fp, r.mass_qtz, M);
    double bias = 0;  // the systematic part: the mean signed error over the run
    for (std::size_t k = 0; k < r.mass_fp.size(); ++k) bias += (r.mass_qtz[k] - r.mass_fp[k]) / static_cast<double>(r.mass_fp.size());
    e.attr("annealing/" + name + "/mean_signed_mass_error", bias);
    e.finding("annealing " + name + ": global-basin mass of QTZ particles within " + number_text(d, 2) + " of FP over t in [0, " +
              number_text(r.times.back()) + "] (M = " + std::to_string(M) + ", 4 sigma = " + number_text(4 * sd, 2) + ", mean signed error " +
              number_text(bias, 2) + ", dt = 0.01)");
    e.at_most(name + ": max over t of |mass_global(QTZ) - mass_global(FP)|", d, 4 * sd + std::abs(bias),
              "4 binomial sigma of M = " + std::to_string(M) + " particles plus the measured bias (the mean signed error over t, " +
                  number_text(bias, 3) + ")");
    e.at_most(name + ": |mean signed mass error| (the weak limit's bias at dt = 0.01)", std::abs(bias), 0.02,
              "sqrt(dt) drift bias raises the effective temperature where |f'| is large; at T(t) < barrier it moves the escape rate by "
              "exp(dBarrier/T): measured 0.005 .. 0.013 over the three laws");
    if (acceptance)
      e.at_most(name + ": max over t in [0, 40] of |mass_global(QTZ) - mass_global(FP)| (acceptance)", d, 0.01,
                "the issue's bound; met at dt = 0.01, where the bias is larger than at the default step");
  };
  // frames of the three densities under the paper's law, for the notebooks
  const std::vector<double> frame_times{0, 1, 2, 4, 6, 8, 10};
  e.put("annealing/frame_times", frame_times);
  auto frames = [&](const std::string& name, const auto& r, std::vector<std::size_t> shape) {
    for (std::size_t k = 0; k < r.frame_times.size(); ++k) {
      const std::string base = "annealing/" + name + "/frames/" + std::to_string(k) + "/";
      e.put(base + "rho_fp", r.frames_fp[k], shape);
      e.put(base + "hist_qtz", r.frames_qtz[k], shape);
      e.put(base + "rho_imaginary_time", r.frames_im[k], shape);
    }
    e.put("annealing/" + name + "/mass_global_imaginary_time", r.mass_im);
    double d = 0;
    for (std::size_t k = 0; k < r.mass_im.size(); ++k)
      if (!std::isnan(r.mass_im[k])) d = std::max(d, std::abs(r.mass_im[k] - r.mass_fp[k]));
    const bool one_d = shape.size() == 1;
    e.at_most(name + ": max |mass_global(imaginary time) - mass_global(FP)| while T >= 2 T_floor", d, one_d ? 5e-4 : 4e-3,
              "the third engine on the same schedule: the two PDEs differ by their discretisations (FP O(h^2), h = " +
                  std::string(one_d ? "0.04" : "0.1") + "; split-step O(dt^2)); measured 1.4e-4 (1D), 1.35e-3 (2D)");
  };
  for (const auto& law : laws) {
    const bool paper = law.name.rfind("paper", 0) == 0;
    const std::size_t M = quick ? 10000 : paper ? 64000 : 20000;
    // periodic [−2.52, 2.52]: 126 cells of 0.04 whose centres include the FP grid's (offset 13)
    const ImaginaryCompanion<1> im{grids::Grid<1>({126}, {-2.52}, {2.52}), 13};
    const auto r = side_by_side<1>(*f1, g1, law.s, {0.96}, 0.2, 1e-3, dt, M, {M}, times, 93, paper ? &im : nullptr, frame_times);
    report(law.name, r, M, paper && !quick);
    if (paper) frames(law.name, r, {100});
  }

  // 4. 2D: f = Σ(x_i² − 1)² + 0.3 x_i on [−2, 2]² (one acceptance test for both coordinates,
  // so not two 1D problems): L1 against M at T = 0.5, and the paper's law.
  {
    auto f2 = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
    const grids::Grid<2> g2({40, 40}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
    const std::size_t M = quick ? 16000 : 128000;
    const std::vector<std::size_t> prefixes{M / 64, M / 16, M / 4, M};
    const std::vector<double> t2{0.5, 1.0, 2.0, 3.0};
    const auto r = side_by_side<2>(*f2, g2, Schedule::constant(0.5), {0.96, 0.96}, 0.2, 2e-3, 4e-3, M, prefixes, t2, 95);
    std::vector<double> logM;
    for (std::size_t m : prefixes) logM.push_back(std::log(static_cast<double>(m)));
    e.put("2d/constant_T/times", t2);
    e.put("2d/constant_T/M", std::vector<double>(prefixes.begin(), prefixes.end()));
    for (std::size_t k = 0; k < prefixes.size(); ++k) e.put("2d/constant_T/l1_M" + std::to_string(prefixes[k]), r.l1[k]);
    e.put("2d/constant_T/rho_fp_last", values(r.rho_last), {40, 40});
    e.put("2d/constant_T/hist_qtz_last", values(r.hist_last), {40, 40});
    for (std::size_t t = 0; t < t2.size(); ++t) {
      // full: M/64 .. M/4, where sampling dominates (at the full M the floor shows: slope -0.40
      // at t = 0.25 over all four); quick: M/16 .. M (M/64 = 250 particles on 1600 cells is
      // below the normal limit of the binomial cells, and the quick M never meets the floor)
      const std::size_t k0 = quick ? 1 : 0;
      std::vector<double> x, y;
      for (std::size_t k = k0; k < k0 + 3; ++k) {
        x.push_back(logM[k]);
        y.push_back(std::log(r.l1[k][t]));
      }
      e.close(fmt("2D, T = 0.5: slope of ln L1(QTZ histogram, rho_FP) against ln M from M = %g", static_cast<double>(prefixes[k0])) +
                  fmt(" to %g", static_cast<double>(prefixes[k0 + 2])) + fmt(", t = %g", t2[t]),
              fitted_slope(x, y), -0.5, 0.1,
              "sampling-dominated prefixes of one run: M^(-1/2) (weak-limit bias, FP's O(h^2) on h = 0.1 and cell averages below)");
      e.at_most(fmt("2D, T = 0.5: L1 at the full M over its sampling expectation, t = %g", t2[t]), r.l1.back()[t] / r.sampling_l1[t], 1.6,
                "the floor adds in quadrature: measured ratio <= 1.3");
    }
    const std::size_t Ma = quick ? 8000 : 32000;
    std::vector<double> ta;
    for (double t = 0; t <= (quick ? 10.0 : 20.0) + 1e-9; t += 0.5) ta.push_back(t);
    e.put("2d/annealing/times", ta);
    // periodic [−2.5, 2.5]²: 50² cells of 0.1 whose centres include the FP grid's (offset 5)
    const ImaginaryCompanion<2> im{grids::Grid<2>({50, 50}, {-2.5, -2.5}, {2.5, 2.5}), 5};
    const auto r2 = side_by_side<2>(*f2, g2, Schedule::paper(2.0, 1.0, 4.0), {0.96, 0.96}, 0.2, 2e-3, dt, Ma, {Ma}, ta, 96, &im, frame_times);
    report("2d/paper_Cq2_eta1_tau4", r2, Ma, false);
    frames("2d/paper_Cq2_eta1_tau4", r2, {40, 40});
  }
}

}  // namespace qtzflow::verify
