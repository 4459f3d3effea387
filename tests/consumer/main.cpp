// A program outside the repository that uses an installed qtzflow (tests/check_install.sh):
// imaginary time relaxes to the witten ground state e^{-f/2T} of the harmonic objective, whose
// decay energy is 0; the split-step error after relaxation is O(dt^2): 2e-8 measured.
#include <cmath>
#include <cstdio>

#include "core/version.hpp"
#include "potentials/sampling.hpp"
#include "solver/split_step.hpp"

int main() {
  using namespace qtzflow;
  auto f = potentials::make_objective("harmonic", 1);
  grids::Grid<1> grid({128}, {-8.0}, {8.0});
  potentials::Landscape<1> land(*f, grid);
  solver::SplitStepOptions opt;
  opt.mode = solver::TimeMode::imaginary;
  opt.dt = 1e-3;
  solver::SplitStepSolver<1> s(land, potentials::PotentialKind::witten, potentials::Schedule::constant(0.5), opt);
  s.set_state(grids::Field<double, 1>(grid.shape(), 1.0));
  s.relax(1e-12, 100000);
  const auto exact = potentials::witten_ground_state(*f, grid, 0.5);
  double err = 0;
  for (std::size_t i = 0; i < grid.size(); ++i) err = std::max(err, std::abs(s.phi()[i] - exact[i]));
  std::printf("qtzflow %s: max |phi - e^(-f/2T)| = %.3g, decay energy %.3g\n", core::version, err, s.decay_energy());
  return err < 1e-7 && std::abs(s.decay_energy()) < 1e-7 ? 0 : 1;  // a few times the measured 2e-8
}
