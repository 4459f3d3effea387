// Distributed engines under mpirun (issue 17): every case builds the serial engine and the
// distributed one in the same process and compares this rank's slab with the serial field's rows.
// Run by tests/mpi/run_distributed.sh on 1, 2, 3 and 4 ranks (oversubscribed).  On one rank the
// distributed option is ignored and the two engines must agree bit for bit.
//
// Every assertion follows a collective reduction (allreduce of the measured difference), so all
// ranks take the same branch and reach the same collective calls: a failing rank never leaves the
// others waiting.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>
#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "grids/basins.hpp"
#include "grids/distributed_fft.hpp"
#include "io/snapshot.hpp"
#include "particles/ensemble.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "scenario/engines.hpp"
#include "scenario/problem.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/observables.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;
namespace mpi = core::mpi;

namespace {

/// max |block − rows of whole| / max |whole|, over all ranks.
template <class T, int D>
double relative_block_difference(const grids::Field<T, D>& block, const grids::Field<T, D>& whole) {
  const std::size_t row = whole.size() / whole.extent()[0], first = block.offset()[0] * row;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < block.size(); ++i) diff = std::max(diff, std::abs(block[i] - whole[first + i]));
  for (std::size_t i = 0; i < whole.size(); ++i) scale = std::max(scale, std::abs(whole[i]));
  return mpi::allreduce_max(diff) / scale;
}

/// |a − b| / |b|, the largest over ranks (a differs between ranks only if the engine is broken).
double relative(double a, double b) { return mpi::allreduce_max(std::abs(a - b) / std::abs(b)); }

void report(const std::string& what, double value) {
  if (mpi::rank() == 0) std::printf("  %-58s %.2e (ranks: %d)\n", what.c_str(), value, mpi::size());
}

/// A packet off the centre, moving (real time) or at rest (imaginary time).
template <int D>
grids::Field<std::complex<double>, D> packet(const grids::Grid<D>& g, bool moving) {
  grids::Field<std::complex<double>, D> psi(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double r2 = 0, phase = 0;
    for (int a = 0; a < D; ++a) {
      r2 += (x[a] - 0.4 - 0.1 * a) * (x[a] - 0.4 - 0.1 * a);
      phase += (1.5 + 0.5 * a) * x[a];
    }
    psi[i] = std::polar(std::exp(-r2), moving ? phase : 0.0);
  });
  return psi;
}

template <int D>
grids::Field<double, D> real_part(const grids::Field<std::complex<double>, D>& z) {
  grids::Field<double, D> out(z.extent());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = z[i].real();
  return out;
}

struct Case {
  solver::TimeMode mode;
  solver::SplitScheme scheme;
  bool annealed = false;  // T(t): potentials rebuilt every step
  bool absorber = false;
};

std::string name_of(int D, const Case& c) {
  return std::to_string(D) + "D " + (c.mode == solver::TimeMode::real ? "real" : "imaginary") + " " +
         (c.scheme == solver::SplitScheme::chin4      ? "chin4"
          : c.scheme == solver::SplitScheme::yoshida4 ? "yoshida4"
                                                      : "strang") +
         (c.annealed ? ", annealed T(t)" : "") + (c.absorber ? ", absorbing layer" : "");
}

/// 100 steps, serial against distributed.  Grids whose axes do not divide by 3 or 4, so FFTW's
/// blocks are uneven; 2D r2c distributes the n1/2 + 1 = 11 spectral rows.
template <int D>
void compare_split_step(const Case& c) {
  typename grids::Grid<D>::Shape n{};
  typename grids::Grid<D>::Point lo{}, hi{};
  for (int a = 0; a < D; ++a) {
    n[a] = D == 2 ? (a == 0 ? 30 : 20) : (a == 0 ? 12 : a == 1 ? 10 : 8);
    lo[a] = -4;
    hi[a] = 4;
  }
  const grids::Grid<D> g(n, lo, hi);
  auto f = potentials::make_objective("double_well", D, {{"c", {0.3}}});
  const potentials::Landscape<D> land(*f, g);
  const auto schedule = c.annealed ? potentials::Schedule::geometric(0.8, 0.995) : potentials::Schedule::constant(0.5);
  solver::SplitStepOptions opt;
  opt.mode = c.mode;
  opt.scheme = c.scheme;
  opt.dt = c.mode == solver::TimeMode::real ? 0.01 : 0.02;
  opt.rigor = grids::PlanRigor::estimate;
  if (c.absorber) {
    opt.absorber_width = 1.0;
    opt.absorber_strength = 2.0;
  }
  solver::SplitStepSolver<D> serial(land, potentials::PotentialKind::witten, schedule, opt);
  opt.distributed = true;
  solver::SplitStepSolver<D> dist(land, potentials::PotentialKind::witten, schedule, opt);
  CHECK(dist.distributed() == (mpi::size() > 1));
  const auto psi0 = packet<D>(g, c.mode == solver::TimeMode::real);
  if (c.mode == solver::TimeMode::real) {
    serial.set_state(psi0);
    dist.set_state(psi0);
  } else {
    serial.set_state(real_part(psi0));
    dist.set_state(real_part(psi0));
  }
  serial.advance(40);
  dist.advance(40);
  serial.advance(60);  // two calls: the merged half-steps join and close twice
  dist.advance(60);
  const double field =
      c.mode == solver::TimeMode::real ? relative_block_difference(dist.psi(), serial.psi()) : relative_block_difference(dist.phi(), serial.phi());
  const double norm = relative(dist.norm(), serial.norm()), energy = relative(dist.energy(), serial.energy());
  report(name_of(D, c) + ": field, rel. max", field);
  report(name_of(D, c) + ": norm, energy, rel.", std::max(norm, energy));
  // Tolerance: the issue's 1e-12 relative after 100 steps.  Measured up to 3e-14 (the transforms
  // add in another order); an error in a spectral index or a sign gives O(1).
  CHECK(field <= 1e-12);
  CHECK(norm <= 1e-12);
  CHECK(energy <= 1e-12);
  if (mpi::size() == 1) CHECK(field == 0);  // the option is ignored on one rank: the same engine
  if (c.mode == solver::TimeMode::imaginary) CHECK(relative(dist.decay_energy(), serial.decay_energy()) <= 1e-12);
}

}  // namespace

TEST_CASE("distributed split-step equals the serial engine after 100 steps, 2D") {
  using solver::SplitScheme;
  using solver::TimeMode;
  for (const Case& c : {Case{TimeMode::real, SplitScheme::strang}, Case{TimeMode::real, SplitScheme::chin4},
                        Case{TimeMode::real, SplitScheme::yoshida4}, Case{TimeMode::real, SplitScheme::chin4, false, true},
                        Case{TimeMode::real, SplitScheme::strang, true}, Case{TimeMode::imaginary, SplitScheme::strang},
                        Case{TimeMode::imaginary, SplitScheme::chin4}, Case{TimeMode::imaginary, SplitScheme::chin4, true}})
    compare_split_step<2>(c);
}

TEST_CASE("distributed split-step equals the serial engine after 100 steps, 3D") {
  using solver::SplitScheme;
  using solver::TimeMode;
  for (const Case& c : {Case{TimeMode::real, SplitScheme::strang}, Case{TimeMode::real, SplitScheme::chin4, false, true},
                        Case{TimeMode::imaginary, SplitScheme::strang}, Case{TimeMode::imaginary, SplitScheme::chin4, true}})
    compare_split_step<3>(c);
}

namespace {
/// 100 Fokker–Planck steps, serial against distributed, from an off-centre Gaussian.
template <int D>
void compare_fokker_planck(solver::FpScheme scheme, grids::Boundary boundary, bool annealed, solver::LineSolve line_solve, std::size_t rows = 0) {
  typename grids::Grid<D>::Shape n{};
  typename grids::Grid<D>::Point lo{}, hi{};
  for (int a = 0; a < D; ++a) {
    n[a] = D == 2 ? (a == 0 ? (rows ? rows : 30) : 22) : (a == 0 ? 13 : a == 1 ? 10 : 9);
    lo[a] = -2.2;
    hi[a] = 2.2;
  }
  const grids::Grid<D> g(n, lo, hi, boundary);
  auto f = potentials::make_objective("double_well", D, {{"c", {0.3}}});
  const potentials::Landscape<D> land(*f, g);
  const auto schedule = annealed ? potentials::Schedule::geometric(0.9, 0.99) : potentials::Schedule::constant(0.4);
  solver::FokkerPlanckOptions opt{0.01, scheme};
  solver::FokkerPlanckSolver<D> serial(land, schedule, opt);
  opt.distributed = true;
  opt.line_solve = line_solve;
  solver::FokkerPlanckSolver<D> dist(land, schedule, opt);
  grids::Field<double, D> rho0(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double r2 = 0;
    for (int a = 0; a < D; ++a) r2 += (x[a] - 0.7 + 0.2 * a) * (x[a] - 0.7 + 0.2 * a);
    rho0[i] = std::exp(-2 * r2);
  });
  serial.set_state(rho0);
  dist.set_state(rho0);
  serial.advance(100);
  dist.advance(60);
  dist.advance(40);
  const double field = relative_block_difference(dist.rho(), serial.rho());
  const double mass = relative(dist.mass(), serial.mass()), fe = relative(dist.free_energy(), serial.free_energy());
  const double out = mpi::allreduce_max(std::abs(dist.outflow() - serial.outflow()));
  const double gibbs = relative_block_difference(dist.gibbs(0.5), serial.gibbs(0.5));
  const std::string name = std::to_string(D) + "D " +
                           (scheme == solver::FpScheme::backward_euler   ? "BE"
                            : scheme == solver::FpScheme::crank_nicolson ? "CN"
                                                                         : "extrapolated") +
                           ", " + grids::to_string(boundary) + (annealed ? ", annealed" : "") + ", " + std::string(core::name_of(line_solve)) +
                           (rows ? ", " + std::to_string(rows) + " rows" : "");
  report("FP " + name + ": rho, rel. max", field);
  report("FP " + name + ": mass, free energy, Gibbs, rel.; outflow abs.", std::max({mass, fe, gibbs, out}));
  // transpose: every line sees the one-rank arithmetic, rho is bit-identical (measured 0).
  // partitioned: the lines are eliminated in another order: rounding only, measured ≤ 2.7e-14
  // after 100 steps on 2-4 ranks (the issue asks 1e-12).  Mass and free energy are sums in
  // another grouping: a few ulp.
  if (line_solve == solver::LineSolve::transpose || mpi::size() == 1)
    CHECK(field == 0);
  else
    CHECK(field <= 1e-13);
  CHECK(mass <= 1e-13);
  CHECK(fe <= 1e-13);
  CHECK(gibbs <= 1e-13);
  CHECK(out <= 1e-14);  // absolute: per-line outflows summed in another grouping (outflow ~0.1)
  CHECK(relative(dist.max_cell_peclet(), serial.max_cell_peclet()) == 0);
}
}  // namespace

TEST_CASE("distributed Fokker-Planck equals the serial engine after 100 steps") {
  using grids::Boundary;
  using solver::FpScheme;
  for (const auto line_solve : {solver::LineSolve::partitioned, solver::LineSolve::transpose}) {
    for (const auto scheme : {FpScheme::backward_euler, FpScheme::crank_nicolson, FpScheme::extrapolated_euler})
      for (const auto boundary : {Boundary::reflecting, Boundary::periodic, Boundary::absorbing})
        compare_fokker_planck<2>(scheme, boundary, false, line_solve);
    compare_fokker_planck<2>(FpScheme::crank_nicolson, Boundary::absorbing, true, line_solve);
    compare_fokker_planck<3>(FpScheme::backward_euler, Boundary::reflecting, true, line_solve);
    compare_fokker_planck<3>(FpScheme::crank_nicolson, Boundary::periodic, false, line_solve);
    compare_fokker_planck<3>(FpScheme::extrapolated_euler, Boundary::absorbing, false, line_solve);
  }
  // 7 rows: FFTW's blocks leave the last rank a single row on 3 and 4 ranks (3, 3, 1 and 2, 2, 2, 1)
  for (const auto boundary : {Boundary::reflecting, Boundary::periodic, Boundary::absorbing}) {
    compare_fokker_planck<2>(FpScheme::backward_euler, boundary, true, solver::LineSolve::partitioned, 7);
    compare_fokker_planck<2>(FpScheme::crank_nicolson, boundary, false, solver::LineSolve::partitioned, 7);
  }
}

TEST_CASE("distributed eigenstates: the two lowest states of a 2D double well, as on one rank") {
  const grids::Grid<2> g({24, 14}, {-3, -3}, {3, 3});
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  const potentials::Landscape<2> land(*f, g);
  solver::SplitStepOptions opt;
  opt.mode = solver::TimeMode::imaginary;
  opt.dt = 0.01;
  opt.rigor = grids::PlanRigor::estimate;
  solver::SplitStepSolver<2> serial(land, potentials::PotentialKind::witten, potentials::Schedule::constant(0.4), opt);
  opt.distributed = true;
  solver::SplitStepSolver<2> dist(land, potentials::PotentialKind::witten, potentials::Schedule::constant(0.4), opt);
  const grids::Field<double, 2> guess(g.shape(), 1.0);
  // A fixed number of steps (the tolerance is never met): both runs do the same work.
  const auto a = serial.eigenstates(2, guess, 1e-300, 400, 100), b = dist.eigenstates(2, guess, 1e-300, 400, 100);
  for (int k = 0; k < 2; ++k) {
    const double e = relative(b[static_cast<std::size_t>(k)].energy, a[static_cast<std::size_t>(k)].energy);
    const double d = relative_block_difference(b[static_cast<std::size_t>(k)].phi, a[static_cast<std::size_t>(k)].phi);
    report("eigenstate " + std::to_string(k) + ": energy, field, rel.", std::max(e, d));
    // Deflation (Gram–Schmidt every step) and 400 steps: rounding stays ~1e-14; tolerance 1e-11.
    CHECK(e <= 1e-11);
    CHECK(d <= 1e-11);
  }
}

TEST_CASE("moments, integrals and basin masses of a distributed field equal the whole field's") {
  const grids::Grid<2> g({18, 14}, {-2, -1.5}, {2.5, 1.5});
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  const auto fs = potentials::sample_objective(*f, g);
  grids::Field<double, 2> rho(g.shape());
  for (std::size_t i = 0; i < rho.size(); ++i) rho[i] = std::exp(-fs[i] / 0.3);
  const auto block = mpi::block_of(18, mpi::rank(), mpi::size());
  const auto mine = grids::rows_of(rho, static_cast<std::size_t>(block.first), static_cast<std::size_t>(block.last - block.first), true);
  const auto whole = solver::moments(g, rho, solver::identity), split = solver::moments(g, mine, solver::identity);
  double worst = relative(split.mass, whole.mass);
  for (int a = 0; a < 2; ++a) {
    worst = std::max(worst, relative(split.mean[a], whole.mean[a]));
    for (int b = 0; b < 2; ++b) worst = std::max(worst, std::abs(split.covariance(a, b) - whole.covariance(a, b)) / whole.variance(a));
  }
  const auto basins = grids::find_basins(g, fs);
  const auto mw = grids::mass_per_basin(g, basins, rho, solver::identity), ms = grids::mass_per_basin(g, basins, mine, solver::identity);
  for (std::size_t k = 0; k < mw.size(); ++k) worst = std::max(worst, relative(ms[k], mw[k]));
  worst = std::max(worst, relative(solver::integral(g, mine, solver::abs2), solver::integral(g, rho, solver::abs2)));
  report("moments, basin masses, integral: rel.", worst);
  CHECK(mw.size() == 4);  // the 2D double well: one minimum per quadrant
  CHECK(worst <= 1e-13);  // sums in another grouping: a few ulp
}

TEST_CASE("distributed basin labels equal the whole grid's exactly: rastrigin 2D and 3D, walls and periodic") {
  // Rastrigin on [-5.12, 5.12]^D has ~10 minima per axis, so descent paths cross block edges
  // (several times on 3-4 ranks) and on a periodic grid wrap around rank 0's first row.
  auto check = [](auto g) {
    constexpr int D = decltype(g)::dim;
    auto f = potentials::make_objective("rastrigin", D);
    const auto whole = potentials::sample_objective(*f, g);
    const auto b = mpi::block_of(static_cast<long>(g.n(0)), mpi::rank(), mpi::size());
    const auto mine = grids::rows_of(whole, static_cast<std::size_t>(b.first), static_cast<std::size_t>(b.last - b.first), true);
    const auto serial = grids::find_basins(g, whole), split = grids::find_basins(g, mine);
    double bad = split.minimum_index != serial.minimum_index || split.minimum_value != serial.minimum_value;
    const std::size_t first = static_cast<std::size_t>(b.first) * (g.size() / g.n(0));
    for (std::size_t i = 0; i < split.label.size(); ++i) bad += split.label[i] != serial.label[first + i];
    bad += split.label.offset()[0] != static_cast<std::size_t>(b.first) || (!split.label.distributed() && mpi::active());
    // masses of a density over block labels equal those over the whole labels
    grids::Field<double, D> rho(g.shape());
    for (std::size_t i = 0; i < rho.size(); ++i) rho[i] = std::exp(-whole[i] / 8.0);
    const auto rho_mine = grids::rows_of(rho, static_cast<std::size_t>(b.first), static_cast<std::size_t>(b.last - b.first), true);
    const auto mw = grids::mass_per_basin(g, serial, rho, solver::identity), ms = grids::mass_per_basin(g, split, rho_mine, solver::identity);
    double worst = 0;
    for (std::size_t k = 0; k < mw.size(); ++k) worst = std::max(worst, relative(ms[k], mw[k]));
    report(std::to_string(D) + "D basins (" + std::to_string(serial.count()) + "): labels differing", mpi::allreduce_sum(bad));
    CHECK(mpi::allreduce_sum(bad) == 0);  // integer labels from the same comparisons: exact
    CHECK(serial.count() >= 50);          // many minima, or the case tests little
    CHECK(worst <= 1e-13);                // sums in another grouping: a few ulp
  };
  for (const auto boundary : {grids::Boundary::reflecting, grids::Boundary::periodic}) {
    check(grids::Grid<2>({41, 37}, {-5.12, -5.12}, {5.12, 5.12}, boundary));
    check(grids::Grid<3>({23, 21, 19}, {-5.12, -5.12, -5.12}, {5.12, 5.12, 5.12}, boundary));
  }
}

TEST_CASE("a distributed run's problem holds only its rows, and they equal the whole problem's exactly") {
  // The same problem twice: as a [fokker_planck] run (distributed on 2+ ranks: FFTW's blocks of
  // rows) and as a [particles] run (whole on every rank, the reference).  Landscape, basin
  // labels, initial densities and the Peclet number over the run must agree exactly: the same
  // arithmetic on the same points (the minima and min f are exchanged, not recomputed).
  const std::string common = R"(
[grid]
n = [41, 30]
lower = [-5.12, -5.12]
upper = [5.12, 5.12]
[objective]
name = "rastrigin"
[schedule]
kind = "geometric"
T = 4.0
gamma = 0.9
[output]
path = "unused.h5"
)";
  for (const std::string initial : {"gaussian\ncenter = [1.0, -2.0]\nwidth = [0.7, 0.9]", "uniform", "gibbs"}) {
    const auto dist_config = scenario::parse_config(common + "[initial]\nkind = \"" + initial.substr(0, initial.find('\n')) + "\"" +
                                                    (initial.find('\n') != std::string::npos ? initial.substr(initial.find('\n')) : "") +
                                                    "\n[fokker_planck]\ndt = 0.01\nt_end = 5.0\n");
    auto whole_config = dist_config;
    whole_config.engine = scenario::ParticlesConfig{};
    const scenario::Problem<2> dist(dist_config), whole(whole_config);
    const std::size_t row = 30, first = dist.rows.first * row;
    double bad = dist.rows.distributed != mpi::active() || whole.rows.distributed;
    bad += dist.landscape.f().size() != dist.rows.count * row || dist.basins.label.size() != dist.rows.count * row;
    for (std::size_t i = 0; i < dist.landscape.f().size(); ++i)
      bad += (dist.landscape.f()[i] != whole.landscape.f()[first + i]) + (dist.landscape.grad2()[i] != whole.landscape.grad2()[first + i]) +
             (dist.landscape.laplacian()[i] != whole.landscape.laplacian()[first + i]) + (dist.basins.label[i] != whole.basins.label[first + i]);
    bad += dist.basins.minimum_index != whole.basins.minimum_index;
    const auto rho_d = scenario::initial_density(dist_config.initial, dist), rho_w = scenario::initial_density(whole_config.initial, whole);
    for (std::size_t i = 0; i < rho_d.size(); ++i) bad += rho_d[i] != rho_w[first + i];
    const auto pe_d = scenario::peclet_over_run(dist, 5.0), pe_w = scenario::peclet_over_run(whole, 5.0);
    bad += pe_d.peclet != pe_w.peclet || pe_d.t != pe_w.t;
    report("problem rows (" + initial.substr(0, initial.find('\n')) + "): values differing", mpi::allreduce_sum(bad));
    CHECK(mpi::allreduce_sum(bad) == 0);
    CHECK(pe_w.peclet > 0);
  }
  // The steepest face lies between rank 0's last row and rank 1's first: the Peclet number must
  // come from the row exchanged between them (on one rank it is an ordinary face).
  const auto parts = static_cast<std::size_t>(std::max(2, mpi::size()));  // one rank: the middle face
  const std::size_t n0 = 40, rank0_rows = (n0 + parts - 1) / parts;       // FFTW's block: ceil(n0 / P)
  const double h = 8.0 / static_cast<double>(n0), face = -4.0 + h * static_cast<double>(rank0_rows);
  const auto step = scenario::parse_config(
      "[grid]\nn = [40, 12]\nlower = [-4.0, -3.0]\nupper = [4.0, 3.0]\n[objective]\nname = \"expression\"\nf = \"3*tanh((x - (" +
      std::to_string(face) +
      "))/0.01) + 0.1*y^2\"\n[schedule]\nT = 1.0\n[initial]\nkind = \"uniform\"\n"
      "[fokker_planck]\ndt = 0.01\nt_end = 1.0\n[output]\npath = \"unused.h5\"\n");
  auto step_whole = step;
  step_whole.engine = scenario::ParticlesConfig{};
  const scenario::Problem<2> sd(step), sw(step_whole);
  const double pe_d = scenario::peclet_over_run(sd, 1.0).peclet, pe_w = scenario::peclet_over_run(sw, 1.0).peclet;
  CHECK(pe_w > 5.9);  // the step of height 6 within one face, at T = 1
  CHECK(mpi::allreduce_max(std::abs(pe_d - pe_w)) == 0);
}

TEST_CASE("distributed particle ensembles equal one rank bit for bit: Langevin and qtz-dither") {
  const grids::Grid<2> g({20, 16}, {-2, -2}, {2, 2}, grids::Boundary::reflecting);
  auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  for (const auto dynamics : {particles::ParticleDynamics::langevin, particles::ParticleDynamics::qtz_dither}) {
    particles::ParticleOptions opt;
    opt.dynamics = dynamics;
    opt.dt = 1e-2;
    opt.seed = 7;
    particles::ParticleEnsemble<2> serial(*f, g, potentials::Schedule::geometric(1.0, 0.99), opt);
    opt.distributed = true;
    particles::ParticleEnsemble<2> dist(*f, g, potentials::Schedule::geometric(1.0, 0.99), opt);
    serial.sample_initial(1001, {0.9, 0.9}, {0.3, 0.3});  // 1001: blocks of unequal size on 2-4 ranks
    dist.sample_initial(1001, {0.9, 0.9}, {0.3, 0.3});
    serial.advance(30);
    dist.advance(17);  // another split of the steps into calls
    dist.advance(13);
    const auto hs = serial.histogram(), hd = dist.histogram(), ps = serial.histogram(333), pd = dist.histogram(333);
    double diff = 0;
    for (std::size_t i = 0; i < hs.size(); ++i) diff += std::abs(hs[i] - hd[i]) + std::abs(ps[i] - pd[i]);
    for (std::size_t i = 0; i < dist.positions().size(); ++i) diff += std::abs(dist.positions()[i] - serial.positions()[dist.first() * 2 + i]);
    const double acc_s = serial.acceptance_rate(), acc_d = dist.acceptance_rate();
    CHECK(mpi::allreduce_max(diff) == 0);  // the same draws for every particle: exactly equal
    CHECK(acc_d == acc_s);
    CHECK(dist.size() == 1001);
  }
}

TEST_CASE("fetch_rows returns any rank's rows, in the order asked") {
  const long rows = 11, width = 3;
  const auto b = mpi::block_of(rows, mpi::rank(), mpi::size());
  std::vector<double> local(static_cast<std::size_t>((b.last - b.first) * width));
  for (long r = b.first; r < b.last; ++r)
    for (long j = 0; j < width; ++j)
      local[static_cast<std::size_t>((r - b.first) * width + j)] = 100.0 * static_cast<double>(r) + static_cast<double>(j);
  const std::vector<long> wanted{10, 0, (b.first + 5) % rows, 7, 7};
  std::vector<double> got(wanted.size() * static_cast<std::size_t>(width));
  mpi::fetch_rows(local, width, b.first, wanted, got);
  double bad = 0;
  for (std::size_t w = 0; w < wanted.size(); ++w)
    for (long j = 0; j < width; ++j)
      bad += got[w * width + static_cast<std::size_t>(j)] != 100.0 * static_cast<double>(wanted[w]) + static_cast<double>(j);
  CHECK(mpi::allreduce_sum(bad) == 0);
}

TEST_CASE("layouts that leave a rank without rows are refused on every rank, naming the axis") {
  // n0 = 2 rows: 3 or more ranks leave one empty.  2D r2c: n1 = 4 gives 3 spectral rows.
  const int p = mpi::size();
  auto refused = [](auto make) -> std::string {
    try {
      make();
    } catch (const core::InvalidArgument& e) {
      return e.what();
    }
    return {};
  };
  const std::string rows = refused([] { return grids::slab_layout<2>({2, 16}, false); });
  const std::string spectral = refused([] { return grids::slab_layout<2>({16, 4}, true); });
  if (p >= 3) {
    CHECK(rows.find("grid.n[0]") != std::string::npos);
    CHECK(rows.find(std::to_string(p) + " MPI ranks") != std::string::npos);
  } else {
    CHECK(rows.empty());
  }
  if (p >= 4)
    CHECK(spectral.find("grid.n[1]") != std::string::npos);
  else
    CHECK(spectral.empty());
  // 1D grids are not distributed: refused under several ranks, the ordinary engine on one.
  const grids::Grid<1> g1({64}, {-4}, {4});
  auto f = potentials::make_objective("harmonic", 1);
  const potentials::Landscape<1> land(*f, g1);
  solver::SplitStepOptions opt;
  opt.distributed = true;
  opt.rigor = grids::PlanRigor::estimate;
  const std::string one_d =
      refused([&] { solver::SplitStepSolver<1>(land, potentials::PotentialKind::witten, potentials::Schedule::constant(1), opt); });
  if (p > 1)
    CHECK(one_d.find("schrodinger.distributed") != std::string::npos);
  else
    CHECK(one_d.empty());
}

TEST_CASE("snapshots are written by all ranks together: every rank's rows and particles land in place, across a resume") {
  // A 7 x 5 mesh in uneven blocks of rows, a replicated field, and particles in blocks of which
  // rank 1's is empty.  Values name their global index, so a block written at the wrong rows, a
  // rank's block missing, or another rank's copy of the replicated field shows as a wrong value.
  const std::vector<std::size_t> shape{7, 5};
  const std::size_t row = shape[1];
  const auto b = mpi::block_of(7, mpi::rank(), mpi::size());
  auto particles_of = [](int r) { return r == 1 ? 0L : static_cast<long>(r) + 2; };
  long first_particle = 0, total_particles = 0;
  for (int r = 0; r < mpi::size(); ++r) {
    if (r < mpi::rank()) first_particle += particles_of(r);
    total_particles += particles_of(r);
  }
  auto mesh_value = [](std::int64_t it, std::size_t i) { return 1000.0 * static_cast<double>(it) + static_cast<double>(i); };
  auto particle_value = [](std::int64_t it, long q) { return -1000.0 * static_cast<double>(it) - 0.5 - static_cast<double>(q); };

  std::string dir = (std::filesystem::temp_directory_path() / ("qtzflow-mpi-writer-" + std::to_string(::getpid()))).string();
  mpi::broadcast(dir);  // rank 0's name
  mpi::on_root([&] { std::filesystem::create_directories(dir); });
  const std::string path = dir + "/out.h5";
  io::MeshGeometry mesh;
  mesh.shape = shape;
  mesh.spacing = {0.5, 0.25};
  mesh.offset = {-1.5, -0.5};
  mesh.labels = {"x", "y"};

  auto write = [&](io::SnapshotWriter& w, std::int64_t it) {
    std::vector<double> rows(static_cast<std::size_t>(b.last - b.first) * row), whole(7 * row),
        mine(static_cast<std::size_t>(particles_of(mpi::rank())));
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = mesh_value(it, static_cast<std::size_t>(b.first) * row + i);
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = mpi::rank() == 0 ? -mesh_value(it, i) : 1e300;  // only rank 0's is written
    for (std::size_t q = 0; q < mine.size(); ++q) mine[q] = particle_value(it, first_particle + static_cast<long>(q));
    const std::vector<io::FieldView> fields{{"rho", rows, {}, io::FieldView::Layout::blocks}, {"hist", whole}};
    const std::vector<io::FieldView> parts{{"ensemble/position/x", mine, {}, io::FieldView::Layout::blocks}};
    w.write(it, 0.1 * static_cast<double>(it), 0.1, fields, {{"m", static_cast<double>(it)}}, parts);
  };
  {
    io::SnapshotWriter w(path, mesh, io::RunInfo{"config text", "rev", "", {}});
    std::vector<double> f(7 * row, 2.0);
    w.write_grid({{{0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4}}, {{"f", f}}, {}});
    write(w, 0);
    w.finish();
  }
  {
    // run.cpp's order: rank 0 resumes first (it puts the snapshot back into a part file)
    std::optional<io::SnapshotWriter> w;
    mpi::root_first([&] { w.emplace(io::SnapshotWriter::resume(path)); });
    write(*w, 5);
    w->finish();
  }
  // every rank reads the finished file back whole
  double bad = 0;
  const auto its = io::snapshot_iterations(path);
  CHECK(its == std::vector<std::int64_t>{0, 5});
  for (const std::int64_t it : its) {
    const io::Snapshot s = io::read_snapshot(path, it, {shape, static_cast<std::size_t>(total_particles)});
    const auto& rho = s.fields.at("rho");
    const auto& hist = s.fields.at("hist");
    const auto& x = s.particles.at("ensemble/position/x");
    REQUIRE(rho.size() == 7 * row);
    REQUIRE(x.size() == static_cast<std::size_t>(total_particles));
    for (std::size_t i = 0; i < rho.size(); ++i) bad += (rho[i] != mesh_value(it, i)) + (hist[i] != -mesh_value(it, i));
    for (long q = 0; q < total_particles; ++q) bad += x[static_cast<std::size_t>(q)] != particle_value(it, q);
    bad += s.diagnostics.at("m") != static_cast<double>(it);
  }
  CHECK(mpi::allreduce_sum(bad) == 0);  // exact: the values are copied, never computed
  mpi::on_root([&] { std::filesystem::remove_all(dir); });
}

int main(int argc, char** argv) {
  mpi::Session session(argc, argv);
  doctest::Context context(argc, argv);
  int failed = context.run();
  if (context.shouldExit()) return failed;
  failed = static_cast<int>(mpi::allreduce_max(failed));
  return failed;
}
