#include "verify/physics.hpp"

#include <numeric>

#include "potentials/gibbs.hpp"

namespace qtzflow::verify {

solver::SplitStepOptions split_options(solver::TimeMode mode, double dt, solver::SplitScheme scheme) {
  solver::SplitStepOptions o;
  o.mode = mode;
  o.dt = dt;
  o.scheme = scheme;
  o.rigor = grids::PlanRigor::estimate;  // bit-reproducible verify runs
  return o;
}

double fitted_slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

WittenGap witten_gap(const potentials::Landscape<1>& land, double T, std::array<double, 2> dts, double tolerance, long max_steps) {
  WittenGap w;
  for (std::size_t k = 0; k < 2; ++k) {
    solver::SplitStepSolver<1> im(land, potentials::PotentialKind::witten, potentials::Schedule::constant(T),
                                  split_options(solver::TimeMode::imaginary, dts[k]));
    w.states = im.eigenstates(2, grids::Field<double, 1>(land.grid().shape(), 1.0), tolerance, max_steps, 1000);
    w.gaps[k] = w.states[1].energy - w.states[0].energy;
  }
  w.extrapolated = (4 * w.gaps[1] - w.gaps[0]) / 3;
  return w;
}

Oscillation mean_x_frequency(const potentials::Landscape<1>& land, double T, const grids::Field<double, 1>& start, double dt, double t_end,
                             bool keep_trace) {
  const auto& g = land.grid();
  solver::SplitStepSolver<1> re(land, potentials::PotentialKind::witten, potentials::Schedule::constant(T),
                                split_options(solver::TimeMode::real, dt, solver::SplitScheme::yoshida4));
  re.set_state(start);
  Oscillation o;
  std::vector<double> crossings;
  double prev = solver::moments(g, re.psi(), solver::abs2).mean[0];
  while (re.time() < t_end) {
    re.advance(1);
    const double cur = solver::moments(g, re.psi(), solver::abs2).mean[0];
    if (keep_trace) o.mean_x.push_back(cur);
    if ((prev < 0) != (cur < 0)) crossings.push_back(re.time() - dt * cur / (cur - prev));
    prev = cur;
  }
  o.crossings = crossings.size();
  if (crossings.size() >= 2) o.omega = kPi * static_cast<double>(crossings.size() - 1) / (crossings.back() - crossings.front());
  return o;
}

TrajectoryComparison fp_against_imaginary_time(const potentials::Objective& f, double T, double centre, double sd, std::size_t n_reference,
                                               double dt_reference, const std::vector<double>& times, const std::vector<std::size_t>& ns,
                                               solver::FpScheme scheme, const std::function<double(std::size_t)>& dt_of) {
  grids::Grid<1> gs({n_reference}, {-2.5}, {2.5});
  potentials::Landscape<1> ls(f, gs);
  solver::SplitStepSolver<1> im(ls, potentials::PotentialKind::witten, potentials::Schedule::constant(T),
                                split_options(solver::TimeMode::imaginary, dt_reference));
  im.set_state(potentials::phi_from_density(ls.f(), gaussian_density<1>(gs, {centre}, sd), T));
  std::vector<grids::Field<double, 1>> ref;
  for (double t : times) {
    im.advance(std::lround((t - im.time()) / dt_reference));
    ref.push_back(potentials::density_from_phi(gs, ls.f(), im.phi(), T));
  }
  TrajectoryComparison out;
  for (std::size_t n : ns) {
    grids::Grid<1> g({n}, {-2.5}, {2.5}, grids::Boundary::reflecting);
    potentials::Landscape<1> land(f, g);
    solver::FokkerPlanckSolver<1> s(land, potentials::Schedule::constant(T), {dt_of(n), scheme});
    s.set_state(gaussian_density<1>(g, {centre}, sd));
    const std::size_t r = n_reference / n;
    std::vector<double> l1;
    for (std::size_t k = 0; k < times.size(); ++k) {
      s.advance(std::lround((times[k] - s.time()) / s.options().dt));
      double d = 0;
      for (std::size_t i = 0; i < n; ++i) d += std::abs(s.rho()[i] - ref[k][r * i + (r - 1) / 2]);
      l1.push_back(d * g.cell_volume());
    }
    out.l1.push_back(std::move(l1));
    out.rho_final.push_back(s.rho());
  }
  out.reference_final = ref.back();
  return out;
}

}  // namespace qtzflow::verify
