#include "apps/verify.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <numbers>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "grids/basins.hpp"
#include "io/hdf5.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/particle_ensemble.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::apps {

namespace {

namespace fs = std::filesystem;
using potentials::PotentialKind;
using potentials::Schedule;
constexpr double kPi = std::numbers::pi;

/// Shortest faithful text of a number for the summaries (JSON null for NaN/Inf).
std::string num(double v, int digits = 6) {
  if (!std::isfinite(v)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

/// A measured value with enough digits to show its distance to the expected one (|m − 1| ≤ 1e-6
/// must not print as "1").
std::string measured_text(double m, double tolerance) {
  const int need = tolerance > 0 ? static_cast<int>(std::ceil(-std::log10(tolerance))) + 2 : 6;
  return num(m, std::clamp(need, 6, 15));
}


/// One numerical claim: |measured − expected| ≤ tolerance (kind "close"), measured ≤ expected
/// ("at_most") or measured ≥ expected ("at_least").
struct Check {
  std::string experiment, quantity, kind;
  double measured, expected, tolerance;
  bool pass;
  std::string why;  ///< why this tolerance is right for the discretisation
};

/// An experiment's output file and its checks.
class Experiment {
 public:
  Experiment(std::string name, const fs::path& dir, bool quick, std::vector<Check>& checks)
      : name_(std::move(name)), path_((dir / (name_ + ".h5")).string()), file_(io::File::create(path_ + ".tmp")), quick_(quick), checks_(checks) {
    file_.root().write_attribute("experiment", name_);
    file_.root().write_attribute("quick", std::int64_t{quick});
  }
  ~Experiment() = default;
  bool quick() const { return quick_; }
  io::Group root() const { return file_.root(); }
  /// A 1D dataset of doubles at `path` (groups created as needed).
  void put(const std::string& path, const std::vector<double>& v, std::vector<std::size_t> shape = {}) const {
    if (shape.empty()) shape = {v.size()};
    const io::Group g = group_of(path);
    g.write_dataset(path.substr(path.rfind('/') + 1), v, shape);
  }
  void attr(const std::string& name, double v) const { file_.root().write_attribute(name, v); }
  void close(const std::string& quantity, double measured, double expected, double tolerance, const std::string& why) {
    add(quantity, "close", measured, expected, tolerance, std::abs(measured - expected) <= tolerance, why);
  }
  void at_most(const std::string& quantity, double measured, double bound, const std::string& why) {
    add(quantity, "at_most", measured, bound, 0, measured <= bound, why);
  }
  void at_least(const std::string& quantity, double measured, double bound, const std::string& why) {
    add(quantity, "at_least", measured, bound, 0, measured >= bound, why);
  }
  /// Closes the file and moves it into place (a failed experiment leaves no half file).
  void finish() {
    file_.close();
    fs::rename(path_ + ".tmp", path_);
  }

 private:
  io::Group group_of(const std::string& path) const {
    io::Group g = file_.root();
    std::size_t start = 0;
    for (std::size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', start)) {
      const std::string part = path.substr(start, pos - start);
      g = g.exists(part) ? g.open_group(part) : g.create_group(part);
      start = pos + 1;
    }
    return g;
  }
  void add(const std::string& q, const char* kind, double m, double e, double tol, bool pass, const std::string& why) {
    checks_.push_back({name_, q, kind, m, e, tol, pass && std::isfinite(m), why});
  }
  std::string name_, path_;
  io::File file_;
  bool quick_;
  std::vector<Check>& checks_;
};

// ---- small helpers ----------------------------------------------------------------------------

template <int D>
grids::Field<double, D> gaussian(const grids::Grid<D>& g, const std::array<double, D>& centre, double sd) {
  grids::Field<double, D> r(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double e = 0;
    for (int a = 0; a < D; ++a) e += (x[a] - centre[a]) * (x[a] - centre[a]);
    r[i] = std::exp(-e / (2 * sd * sd));
  });
  const double m = solver::integral(g, r, solver::identity);
  for (double& v : r) v /= m;
  return r;
}

/// Cell centres along axis 0, so notebooks plot against x without rebuilding the grid.
template <int D>
std::vector<double> centres(const grids::Grid<D>& g) {
  std::vector<double> x(g.shape()[0]);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = g.x(0, i);
  return x;
}

template <int D>
std::vector<double> values(const grids::Field<double, D>& f) {
  return {f.begin(), f.end()};
}

solver::SplitStepOptions split_options(solver::TimeMode mode, double dt, solver::SplitScheme scheme = solver::SplitScheme::strang) {
  solver::SplitStepOptions o;
  o.mode = mode;
  o.dt = dt;
  o.scheme = scheme;
  o.rigor = grids::PlanRigor::estimate;  // bit-reproducible verify runs
  return o;
}

/// ρ = e^{−f/2T} φ, normalised to mass 1: the FP density of an imaginary-time state.
template <int D>
grids::Field<double, D> density_of(const grids::Grid<D>& g, const potentials::Landscape<D>& land, const grids::Field<double, D>& phi, double T) {
  grids::Field<double, D> r(g.shape());
  double fmin = land.f()[0];
  for (double v : land.f()) fmin = std::min(fmin, v);
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = std::exp(-(land.f()[i] - fmin) / (2 * T)) * phi[i];
  const double m = solver::integral(g, r, solver::identity);
  for (double& v : r) v /= m;
  return r;
}

/// The inverse map φ ∝ e^{+f/2T} ρ (for starting imaginary time from a density).
template <int D>
grids::Field<double, D> phi_of(const potentials::Landscape<D>& land, const grids::Field<double, D>& rho, double T) {
  grids::Field<double, D> p = rho;
  double fmin = land.f()[0];
  for (double v : land.f()) fmin = std::min(fmin, v);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::exp((land.f()[i] - fmin) / (2 * T)) * rho[i];
  return p;
}

double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

// ---- V1 ---------------------------------------------------------------------------------------

/// Imaginary time for a fixed t_end (chosen from the gap E1 of H_T so that the relaxation error
/// e^{-E1 t_end} is negligible) at two steps dt; the error against e^{-f/2T} must fall at order 2.
/// Rastrigin's barriers (~20 at T = 1) make its gap e^-20-small, so there the start is the exact
/// state deformed inside every well (sin 2πx vanishes at the minima): only the fast intra-well
/// modes (gap ~ f'' ≈ 400) have to relax.
template <int D>
void witten_case(Experiment& e, const std::string& label, const potentials::Objective& f, const grids::Grid<D>& g, double T,
                 std::array<double, 2> dts, double t_end, double bound, bool perturbed_start = false) {
  potentials::Landscape<D> land(f, g);
  const auto exact = potentials::witten_ground_state(f, g, T);
  grids::Field<double, D> start(g.shape(), 1.0);
  if (perturbed_start)
    grids::for_each_point(g, [&](std::size_t i, const auto& x) {
      double p = 1;
      for (int a = 0; a < D; ++a) p *= std::sin(2 * kPi * x[a]);
      start[i] = exact[i] * (1 + 0.3 * p);
    });
  std::vector<double> err;
  grids::Field<double, D> last;
  for (double dt : dts) {
    solver::SplitStepSolver<D> s(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::imaginary, dt));
    s.set_state(start);
    s.advance(std::lround(t_end / dt));
    double num = 0, den = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      num += (s.phi()[i] - exact[i]) * (s.phi()[i] - exact[i]);
      den += exact[i] * exact[i];
    }
    err.push_back(std::sqrt(num / den));
    last = s.phi();
  }
  const double order = std::log2(err[0] / err[1]);
  const std::vector<std::size_t> shape(g.shape().begin(), g.shape().end());
  e.put(label + "/x", centres(g));  // cell centres of axis 0 (every axis is the same here)
  e.put(label + "/phi", values(last), shape);
  e.put(label + "/exact", values(exact), shape);
  e.put(label + "/errors", err);
  e.put(label + "/dts", {dts[0], dts[1]});
  e.attr(label + "_dt_fine", dts[1]);
  e.close(label + ": observed order in dt of |phi - e^(-f/2T)|", order, 2.0, 0.1,
          "Strang splitting's stationary state is exact up to O(dt^2); t_end leaves a relaxation error e^(-E1 t_end) < 1e-12 and space is spectral");
  e.at_most(label + ": relative L2 error at the finer dt", err[1], bound,
            "O(dt^2): the Strang error grows with dt times the spread of V_T (~10 in 1D, ~400 for Rastrigin)");
}

void v1_witten(Experiment& e) {
  auto harmonic = potentials::make_objective("harmonic", 1);
  auto dw = potentials::make_objective("double_well", 1);
  auto tilted = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  // gaps: harmonic E1 = 1; double well (T = 0.5) ≈ 0.23; tilted (T = 0.5) ≈ 0.3
  witten_case<1>(e, "harmonic_T0.5", *harmonic, grids::Grid<1>({128}, {-8.0}, {8.0}), 0.5, {0.04, 0.02}, 40.0, 1e-3);
  witten_case<1>(e, "double_well_T0.5", *dw, grids::Grid<1>({256}, {-2.5}, {2.5}), 0.5, {0.01, 0.005}, 150.0, 1e-3);
  witten_case<1>(e, "tilted_double_well_T0.5", *tilted, grids::Grid<1>({256}, {-2.5}, {2.5}), 0.5, {0.01, 0.005}, 120.0, 1e-3);
  if (!e.quick()) {
    auto ras = potentials::make_objective("rastrigin", 2);
    // [-3.5, 3.5]² keeps e^{-f/2T} < 1e-7 at the edges; 256² resolves the wells (σ ≈ 2.6 h)
    witten_case<2>(e, "rastrigin2d_T1", *ras, grids::Grid<2>({256, 256}, {-3.5, -3.5}, {3.5, 3.5}), 1.0, {1e-3, 5e-4}, 0.2, 5e-3, true);
  }
}

// ---- V2 ---------------------------------------------------------------------------------------

void v2_fokker_planck(Experiment& e) {
  // (a) the Gibbs state is stationary (2D Rastrigin) and the long-time limit (2D tilted double well)
  {
    auto f = potentials::make_objective("rastrigin", 2);
    const std::size_t n = e.quick() ? 64 : 128;
    grids::Grid<2> g({n, n}, {-2.5, -2.5}, {2.5, 2.5}, grids::Boundary::reflecting);
    potentials::Landscape<2> land(*f, g);
    solver::FokkerPlanckSolver<2> s(land, Schedule::constant(2.0), {0.01});
    const auto pi = s.gibbs(2.0);
    s.set_state(pi);
    s.advance(100);
    double worst = 0;
    for (std::size_t i = 0; i < pi.size(); ++i) worst = std::max(worst, std::abs(s.rho()[i] - pi[i]) / pi[i]);
    e.at_most("Gibbs state: max relative change over 100 steps (2D Rastrigin, T = 2)", worst, 1e-12,
              "the discrete Gibbs vector is in the kernel of every split factor (detailed balance face by face): only round-off moves it");
    e.put("gibbs/gibbs_rastrigin", values(pi), {n, n});
  }
  {
    // the long-time limit from a far start: 2D tilted double well at T = 0.7 (λ1 ≈ 0.2; Rastrigin's
    // barriers of ~20 would need t ~ 1e5), backward Euler with dt = 0.5 contracts by 1/(1 + λ1 dt)
    auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
    const std::size_t n = e.quick() ? 64 : 128;
    grids::Grid<2> g({n, n}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
    potentials::Landscape<2> land(*f, g);
    solver::FokkerPlanckSolver<2> r(land, Schedule::constant(0.7), {0.5});
    const auto pi = r.gibbs(0.7);
    r.set_state(gaussian<2>(g, {1.5, 1.5}, 0.1));
    std::vector<double> dist;
    for (int k = 0; k < 80; ++k) {
      r.advance(5);
      dist.push_back(solver::l1_distance(g, r.rho(), pi));
    }
    e.put("gibbs/l1_to_gibbs", dist);
    e.put("gibbs/x", centres(g));
    e.put("gibbs/rho_final", values(r.rho()), {n, n});
    e.put("gibbs/gibbs", values(pi), {n, n});
    e.at_most("L1(rho(t = 200), Gibbs) from a Gaussian in a corner (2D tilted double well, T = 0.7)", dist.back(), 1e-8,
              "backward Euler contracts to its exact fixed point, the discrete Gibbs state, by 1/(1 + lambda1 dt) per step: ~e^-30 here");
  }
  // (b) along the trajectory: ρ_FP(t) against e^{−f/2T} φ(t) of imaginary time, same ρ(0)
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  const std::vector<double> times{0.25, 0.5, 1.0, 2.0};
  const std::size_t nref = 1215;
  grids::Grid<1> gs({nref}, {-2.5}, {2.5});
  potentials::Landscape<1> ls(*f, gs);
  solver::SplitStepSolver<1> im(ls, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::imaginary, 2.5e-4));
  im.set_state(phi_of(ls, gaussian<1>(gs, {0.9}, 0.2), T));
  std::vector<grids::Field<double, 1>> ref;
  for (double t : times) {
    im.advance(std::lround((t - im.time()) / 2.5e-4));
    ref.push_back(density_of(gs, ls, im.phi(), T));
  }
  std::vector<std::size_t> ns{45, 135, 405};
  std::map<std::size_t, std::vector<double>> err;
  for (std::size_t n : ns) {
    grids::Grid<1> g({n}, {-2.5}, {2.5}, grids::Boundary::reflecting);
    potentials::Landscape<1> land(*f, g);
    solver::FokkerPlanckSolver<1> s(land, Schedule::constant(T), {0.01 * 45.0 / static_cast<double>(n), solver::FpScheme::extrapolated_euler});
    s.set_state(gaussian<1>(g, {0.9}, 0.2));
    const std::size_t r = nref / n;
    for (std::size_t k = 0; k < times.size(); ++k) {
      s.advance(std::lround((times[k] - s.time()) / s.options().dt));
      double d = 0;
      for (std::size_t i = 0; i < n; ++i) d += std::abs(s.rho()[i] - ref[k][r * i + (r - 1) / 2]);
      err[n].push_back(d * g.cell_volume());
    }
    e.put("trajectory/n" + std::to_string(n) + "/l1", err[n]);
    e.put("trajectory/n" + std::to_string(n) + "/rho_final", values(s.rho()));
  }
  e.put("trajectory/times", times);
  e.put("trajectory/reference_final", values(ref.back()));
  for (std::size_t k = 0; k < times.size(); ++k) {
    const double order = std::log(err[135][k] / err[405][k]) / std::log(3.0);
    char q[96];
    std::snprintf(q, sizeof q, "FP vs transformed imaginary time at t = %g: observed order in h", times[k]);
    e.close(q, order, 2.0, 0.25,
            "Scharfetter-Gummel fluxes are second order in h; dt scales with h (extrapolated Euler, O(dt^2)) so the time error keeps the order");
  }
  e.at_most("FP vs transformed imaginary time: max L1 over the trajectory at n = 405", *std::max_element(err[405].begin(), err[405].end()), 2e-3,
            "O(h^2) with h = 0.012 on a density with curvature ~ 1/0.2^2");
}

// ---- V3 ---------------------------------------------------------------------------------------

void v3_spectral_gap(Experiment& e) {
  const double T = 0.5;
  auto f = potentials::make_objective("double_well", 1);
  grids::Grid<1> g({256}, {-2.5}, {2.5});
  potentials::Landscape<1> land(*f, g);
  // E1 − E0 of H_T by deflation, Richardson over dt (Strang: O(dt²))
  std::vector<double> gaps;
  std::vector<solver::Eigenstate<1>> states;
  const std::vector<double> dts = e.quick() ? std::vector<double>{2e-3, 1e-3} : std::vector<double>{5e-4, 2.5e-4};
  for (double dt : dts) {
    solver::SplitStepSolver<1> im(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::imaginary, dt));
    states = im.eigenstates(2, grids::Field<double, 1>(g.shape(), 1.0), 1e-14, 2'000'000, 1000);
    gaps.push_back(states[1].energy - states[0].energy);
  }
  const double e1 = (4 * gaps[1] - gaps[0]) / 3;
  // λ1 of the FP generator, refined in h
  std::vector<double> lam;
  for (std::size_t n : {400, 800}) {
    grids::Grid<1> gf({n}, {-2.5}, {2.5}, grids::Boundary::reflecting);
    potentials::Landscape<1> lf(*f, gf);
    solver::FokkerPlanckSolver<1> s(lf, Schedule::constant(T), {0.01});
    lam.push_back(s.spectrum(2)[1]);
  }
  // 2π / period of ⟨x⟩(t) in real time from (φ0 + φ1)/√2 (Yoshida-4), Richardson over dt
  auto frequency = [&](double dt, std::vector<double>* trace) {
    solver::SplitStepSolver<1> re(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::real, dt, solver::SplitScheme::yoshida4));
    grids::Field<double, 1> start(g.shape());
    for (std::size_t i = 0; i < g.size(); ++i) start[i] = (states[0].phi[i] + states[1].phi[i]) / std::sqrt(2.0);
    re.set_state(start);
    std::vector<double> crossings;
    double prev = solver::moments(g, re.psi(), solver::abs2).mean[0];
    while (re.time() < 4 * 2 * kPi / e1) {
      re.advance(1);
      const double cur = solver::moments(g, re.psi(), solver::abs2).mean[0];
      if (trace) trace->push_back(cur);
      if ((prev < 0) != (cur < 0)) crossings.push_back(re.time() - dt * cur / (cur - prev));
      prev = cur;
    }
    return kPi * static_cast<double>(crossings.size() - 1) / (crossings.back() - crossings.front());
  };
  std::vector<double> trace;
  const double dt_rt = e.quick() ? 0.02 : 0.005;
  const double w1 = frequency(dt_rt, nullptr), w2 = frequency(dt_rt / 2, &trace);
  const double omega = (16 * w2 - w1) / 15;
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
  e.close("observed order in h of |lambda1 - E1|", std::log2(std::abs(lam[0] - e1) / std::abs(lam[1] - e1)), 2.0, 0.2,
          "second-order finite volumes");
  e.close("2 pi / period of <x>(t) (real time) / E1", omega / e1, 1.0, e.quick() ? 1e-4 : 1e-6,
          "both sides Richardson-extrapolated: Yoshida O(dt^4) -> O(dt^6), Strang O(dt^2) -> O(dt^4)");
}

// ---- V4 ---------------------------------------------------------------------------------------

void v4_kramers(Experiment& e) {
  // 1D: f = (x² − 1)², f''(±1) = 8, f''(0) = −4, barrier 1: 2k = 2·√32/(2π)·e^{−1/T}.
  // 2D: f = Σ (x_i² − 1)², four wells, saddles with Hessian diag(−4, 8): k = 4/(2π)·√(64/32)·e^{−1/T},
  //     and the slowest mode of four wells on a square hopping at rate k is λ1 = 2k as well.
  const std::vector<double> Ts = e.quick() ? std::vector<double>{0.25, 0.15, 0.1} : std::vector<double>{0.3, 0.25, 0.2, 0.15, 0.1, 0.075};
  auto run = [&](int dim) {
    std::vector<double> lam, ratio, invT, loglam;
    auto f = potentials::make_objective("double_well", dim);
    for (double T : Ts) {
      double l = 0;
      if (dim == 1) {
        grids::Grid<1> g({1000}, {-2.0}, {2.0}, grids::Boundary::reflecting);
        potentials::Landscape<1> land(*f, g);
        l = solver::FokkerPlanckSolver<1>(land, Schedule::constant(T), {0.01}).spectrum(2)[1];
      } else {
        const std::size_t n = e.quick() ? 64 : 128;  // beyond 2048 points: shift-invert Lanczos
        grids::Grid<2> g({n, n}, {-2.0, -2.0}, {2.0, 2.0}, grids::Boundary::reflecting);
        potentials::Landscape<2> land(*f, g);
        l = solver::FokkerPlanckSolver<2>(land, Schedule::constant(T), {0.01}).spectrum(2)[1];
      }
      const double k2 = 2 * 4 / (2 * kPi) * std::sqrt(2.0) * std::exp(-1 / T);  // = 2·√32/(2π)·e^{−1/T}
      lam.push_back(l);
      ratio.push_back(l / k2);
      invT.push_back(1 / T);
      loglam.push_back(std::log(l));
    }
    const std::string d = std::to_string(dim) + "d";
    e.put(d + "/T", Ts);
    e.put(d + "/lambda1", lam);
    e.put(d + "/ratio_to_2k", ratio);
    const double barrier = -slope(std::vector<double>(invT.end() - 3, invT.end()), std::vector<double>(loglam.end() - 3, loglam.end()));
    e.close(d + ": lambda1 / 2k at the lowest T", ratio.back(), 1.0, 0.1,
            "Eyring-Kramers holds to O(T) (ratio 1 + O(T)); T = 0.075..0.1 leaves a few %; the grids (h = 1/250 in 1D, 1/16..1/32 in 2D) add O(h^2) < 1 %");
    bool monotone = true;
    for (std::size_t k = 0; k + 1 < ratio.size(); ++k) monotone = monotone && std::abs(ratio[k + 1] - 1) < std::abs(ratio[k] - 1);
    e.at_least(d + ": ratio approaches 1 monotonically as T falls (1 = yes)", monotone ? 1 : 0, 1, "the O(T) correction shrinks with T");
    e.close(d + ": barrier from the slope of ln lambda1 against 1/T (three lowest T)", barrier, 1.0, 0.05,
            "d ln(lambda1)/d(1/T) = -dF (1 + O(T^2/dF)) from the prefactor's T-dependence; 5 % over T <= 0.15");
  };
  run(1);
  run(2);
}

// ---- V5 ---------------------------------------------------------------------------------------

void v5_particles(Experiment& e) {
  // Langevin ensembles against the FP density of the same problem (1D tilted double well,
  // T = 0.5, reflecting box): L1(histogram, ρ_FP) at several times for growing M.
  const double T = 0.5, dt = 2e-3;
  auto f = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
  grids::Grid<1> g({100}, {-2.0}, {2.0}, grids::Boundary::reflecting);
  potentials::Landscape<1> land(*f, g);
  const std::vector<double> times = e.quick() ? std::vector<double>{0.25, 0.5, 1.0} : std::vector<double>{0.25, 0.5, 1.0, 2.0};
  const std::vector<std::size_t> Ms = e.quick() ? std::vector<std::size_t>{1000, 4000, 16000, 64000}
                                                : std::vector<std::size_t>{1000, 4000, 16000, 64000, 256000};
  const int seeds = 3;
  solver::FokkerPlanckSolver<1> fp(land, Schedule::constant(T), {dt, solver::FpScheme::extrapolated_euler});
  fp.set_state(gaussian<1>(g, {0.96}, 0.2));
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
  for (std::size_t M : Ms) {
    std::vector<double> mean_l1(times.size(), 0.0);
    for (int s = 0; s < seeds; ++s) {
      solver::ParticleEnsemble<1> p(*f, g, Schedule::constant(T), {solver::ParticleDynamics::langevin, dt, 0.1, 2.0, 1000 + static_cast<std::uint64_t>(s)});
      p.sample_initial(M, {0.96}, {0.2});
      for (std::size_t k = 0; k < times.size(); ++k) {
        p.advance(std::lround((times[k] - p.time()) / dt));
        const auto h = p.histogram();
        mean_l1[k] += solver::l1_distance(g, h, rho[k]) / seeds;
        if (M == Ms.back() && s == 0) e.put("particles/hist_t" + std::to_string(k), values(h));
      }
    }
    e.put("l1/M" + std::to_string(M), mean_l1);
    logM.push_back(std::log(static_cast<double>(M)));
    for (std::size_t k = 0; k < times.size(); ++k) logL1[k].push_back(std::log(mean_l1[k]));
  }
  std::vector<double> Md(Ms.begin(), Ms.end());
  e.put("M", Md);
  for (std::size_t k = 0; k < times.size(); ++k) {
    char q[96];
    std::snprintf(q, sizeof q, "slope of ln L1(histogram, rho_FP) against ln M at t = %g", times[k]);
    e.close(q, slope(logM, logL1[k]), -0.5, 0.1,
            "pure sampling error of a histogram falls as M^(-1/2); the biases (Euler-Maruyama O(dt), FP O(h^2), ~1e-3) stay below the L1 at the largest M (~0.01)");
  }
}

// ---- V6 ---------------------------------------------------------------------------------------

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
  for (auto dyn : {solver::ParticleDynamics::qtz_local, solver::ParticleDynamics::qtz_dither}) {
    const std::string name = dyn == solver::ParticleDynamics::qtz_local ? "plain" : "dithered";
    std::vector<double> cq, acc, misfit;
    for (double d : deltas) {
      solver::ParticleEnsemble<1> p(*f, g, sched, {dyn, 1.0, d, 2.0, 7});
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
    if (dyn == solver::ParticleDynamics::qtz_dither) {
      e.close("dithered quantizer: C_q = 2 Q_p T_eff at the smallest delta", cq.front(), 0.5, 0.05,
              "diffusion limit of the white-noise hypothesis (derivation above); corrections O((delta f'/q)^2) < 1 %, sampling sqrt(2/M) < 1 %");
      e.at_most("dithered quantizer: L1 misfit to the fitted Gibbs density at the smallest delta", misfit.front(), 0.05,
                "Gibbs within sampling noise (histogram L1 ~ 0.02 for this M)");
    } else {
      e.close("plain quantizer: 2 Q_p <x^2> at the smallest delta (uniform on the lowest band: 2/3)", cq.front(), 2.0 / 3.0, 0.03,
              "uniform law on |x| < sqrt(q) has variance q/3; sampling sqrt(2/M) ~ 1 %");
      e.at_least("plain quantizer: L1 misfit to the best Gibbs density (not Gibbs)", misfit.front(), 0.1,
                 "a flat band against a Gaussian of the same variance differs by ~0.2 in L1");
    }
  }
}

// ---- V7 ---------------------------------------------------------------------------------------

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
  const double T_floor = df / (2 * std::log(1e-4 / std::numeric_limits<double>::epsilon()));
  e.attr("imaginary_time_T_floor", T_floor);
  const std::size_t M = e.quick() ? 20000 : 100000;
  struct Law {
    std::string name;
    Schedule s;
  };
  const std::vector<Law> laws{{"log_c1.5", Schedule::logarithmic(1.5)}, {"log_c0.4", Schedule::logarithmic(0.4)},
                              {"paper_Cq2_eta1_tau4", Schedule::paper(2.0, 1.0, 4.0)}};
  std::vector<double> times;
  for (double t = 0; t <= t_end + 1e-9; t += every) times.push_back(t);
  e.put("times", times);
  std::map<std::string, double> final_mass;
  for (const auto& law : laws) {
    const auto rho0 = gaussian<1>(gr, {0.96}, 0.2);
    solver::FokkerPlanckSolver<1> fp(lr, law.s, {2e-3, solver::FpScheme::extrapolated_euler});
    fp.set_state(rho0);
    solver::SplitStepSolver<1> im(lp, PotentialKind::witten, law.s, split_options(solver::TimeMode::imaginary, 5e-4));
    im.set_state(phi_of(lp, rho0, law.s.T(0)));
    solver::ParticleEnsemble<1> pe(*f, gr, law.s, {solver::ParticleDynamics::langevin, 2e-3, 0.1, 2.0, 11});
    pe.sample_initial(M, {0.96}, {0.2});
    std::vector<double> m_fp, m_im, m_pe, temp;
    for (double t : times) {
      fp.advance(std::lround((t - fp.time()) / 2e-3));
      const bool im_valid = law.s.T(t) >= T_floor;
      if (im_valid) im.advance(std::lround((t - im.time()) / 5e-4));
      pe.advance(std::lround((t - pe.time()) / 2e-3));
      m_fp.push_back(grids::mass_per_basin(gr, basins, fp.rho(), solver::identity)[0]);
      if (im_valid) {
        const auto rim = density_of(gp, lp, im.phi(), law.s.T(im.time()));
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
    e.at_most(law.name + ": max |mass_global(imaginary time) - mass_global(FP)| over t while T >= T_floor", d_im, 5e-3,
              "the same PDE in two discretisations: FP O(h^2 + dt^2), split-step O(dt^2) with the f*Tdot/(2T^2) term; h = 0.02. "
              "Compared up to t = " + num(times[im_times - 1]) + ": below T_floor = " + num(T_floor) +
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
  e.at_least("global mass at t_end: log c = 1.5 minus log c = 0.4", final_mass["log_c1.5"] - final_mass["log_c0.4"], 0.0,
             "below the critical depth the metastable basin can freeze; reported, with the paper's law, as measured");
  for (const auto& [k, v] : final_mass) e.attr("final_mass_global_" + k, v);
}

// ---- V8 ---------------------------------------------------------------------------------------

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
  solver::SplitStepSolver<1> re(land, PotentialKind::witten, Schedule::constant(T), split_options(solver::TimeMode::real, 0.01, solver::SplitScheme::yoshida4));
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

// ---- driver -----------------------------------------------------------------------------------

struct Entry {
  const char* name;
  const char* title;
  void (*run)(Experiment&);
};

constexpr Entry kExperiments[] = {
    {"v1_witten", "witten ground state = e^(-f/2T) (imaginary time)", v1_witten},
    {"v2_fokker_planck", "FP stationary state = Gibbs; FP = transformed imaginary time along the trajectory", v2_fokker_planck},
    {"v3_spectral_gap", "lambda1(FP) = E1(H_T) = 2 pi / tunneling period", v3_spectral_gap},
    {"v4_kramers", "Eyring-Kramers: lambda1 against 2k, barrier from the Arrhenius slope (1D, 2D)", v4_kramers},
    {"v5_particles", "Langevin histograms against the FP density, L1 ~ M^(-1/2)", v5_particles},
    {"v6_effective_temperature", "effective temperature of quantized local search: C_q = 2 Q_p T_eff", v6_effective_temperature},
    {"v7_annealing", "annealing: mass in the global basin from FP, imaginary time and particles", v7_annealing},
    {"v8_tunneling", "real-time tunneling against the two-level (E1 - E0) estimate", v8_tunneling},
};

std::string relation(const Check& c) {
  if (c.kind == "close") return "|m - " + num(c.expected) + "| <= " + num(c.tolerance);
  if (c.kind == "at_most") return "<= " + num(c.expected);
  return ">= " + num(c.expected);
}

}  // namespace

int verify(const VerifyOptions& o) {
  std::vector<const Entry*> selected;
  for (const auto& x : kExperiments) {
    const std::string name = x.name, prefix = name.substr(0, name.find('_'));
    if (o.only.empty() || o.only == name || o.only == prefix) selected.push_back(&x);
  }
  if (selected.empty()) {
    std::string known;
    for (const auto& x : kExperiments) known += (known.empty() ? "" : ", ") + std::string(x.name);
    core::throw_invalid("--only", o.only, "one of " + known + " (or v1 ... v8)");
  }
  const fs::path dir(o.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) core::throw_invalid("-o", o.dir, "a directory that can be created (" + ec.message() + ")");
  std::vector<Check> checks;
  std::vector<std::pair<std::string, double>> durations;
  const auto t0 = std::chrono::steady_clock::now();
  for (const Entry* x : selected) {
    const auto a = std::chrono::steady_clock::now();
    if (!o.quiet) std::fprintf(stderr, "qtzflow verify: %s — %s ...", x->name, x->title);
    try {
      Experiment e(x->name, dir, o.quick, checks);
      x->run(e);
      e.finish();
    } catch (const core::InvalidArgument&) {
      throw;
    } catch (const std::exception& err) {
      checks.push_back({x->name, std::string("ran to the end (") + err.what() + ")", "at_least", 0, 1, 0, false, "an experiment must complete"});
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    durations.emplace_back(x->name, secs);
    if (!o.quiet) std::fprintf(stderr, " %.1f s\n", secs);
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long failed = 0;
  for (const auto& c : checks) failed += c.pass ? 0 : 1;

  std::ostringstream md;
  md << "# qtzflow verify" << (o.quick ? " --quick" : "") << "\n\n"
     << checks.size() - static_cast<std::size_t>(failed) << " of " << checks.size() << " checks pass; " << core::thread_count() << " threads, "
     << num(total) << " s.\n\n"
     << "| experiment | quantity | measured | expected | pass | why this tolerance |\n|---|---|---|---|---|---|\n";
  for (const auto& c : checks)
    md << "| " << c.experiment << " | " << c.quantity << " | " << measured_text(c.measured, c.kind == "close" ? c.tolerance : 0) << " | " << relation(c) << " | " << (c.pass ? "yes" : "**NO**") << " | "
       << c.why << " |\n";
  md << "\nDuration per experiment (s): ";
  for (std::size_t k = 0; k < durations.size(); ++k) md << (k ? ", " : "") << durations[k].first << " " << num(durations[k].second);
  md << "\n";
  std::ostringstream js;
  js << "{\"quick\": " << (o.quick ? "true" : "false") << ", \"seconds\": " << num(total) << ", \"threads\": " << core::thread_count()
     << ", \"passed\": " << (failed == 0 ? "true" : "false") << ",\n \"checks\": [";
  for (std::size_t k = 0; k < checks.size(); ++k) {
    const auto& c = checks[k];
    js << (k ? "," : "") << "\n  {\"experiment\": \"" << c.experiment << "\", \"quantity\": \"" << core::json_escape(c.quantity) << "\", \"kind\": \"" << c.kind
       << "\", \"measured\": " << num(c.measured, 17) << ", \"expected\": " << num(c.expected, 17) << ", \"tolerance\": " << num(c.tolerance, 17)
       << ", \"pass\": " << (c.pass ? "true" : "false") << ", \"why\": \"" << core::json_escape(c.why) << "\"}";
  }
  js << "]}\n";
  for (const auto& [name, text] : {std::pair{"summary.md", md.str()}, std::pair{"summary.json", js.str()}}) {
    const fs::path p = dir / name;
    {
      std::FILE* fh = std::fopen((p.string() + ".tmp").c_str(), "w");
      if (!fh) throw core::Error("cannot write " + p.string());
      std::fputs(text.c_str(), fh);
      std::fclose(fh);
    }
    fs::rename(p.string() + ".tmp", p);
  }
  std::printf("%s", md.str().c_str());
  if (!o.quiet) std::fprintf(stderr, "qtzflow verify: %s (%ld failed); data and summary in %s\n", failed ? "FAILED" : "all checks pass", failed, o.dir.c_str());
  return failed ? 1 : 0;
}

}  // namespace qtzflow::apps
