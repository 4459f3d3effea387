// The C++ side of the Python call-overhead benchmark (bench/python_overhead.py): the time of one
// advance(1) call on the problem the Python side builds — a 64² periodic grid on [-2.5, 2.5]²,
// the tilted double well (c = 0.3), witten potential at T = 0.5, real time, Strang, dt = 0.01,
// FFTW_ESTIMATE plans, one thread.  Prints the median over 21 blocks of 2000 calls, in µs.
// Usage: bench_step_call
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/parallel.hpp"
#include "potentials/sampling.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;

int main() {
  core::set_thread_count(1);
  const grids::Grid<2> g({64, 64}, {-2.5, -2.5}, {2.5, 2.5});
  const auto f = potentials::make_objective("double_well", 2, {{"c", {0.3}}});
  const potentials::Landscape<2> land(*f, g);
  solver::SplitStepOptions o;
  o.dt = 0.01;
  o.rigor = grids::PlanRigor::estimate;
  solver::SplitStepSolver<2> s(land, potentials::PotentialKind::witten, potentials::Schedule::constant(0.5), o);
  s.set_state(grids::Field<double, 2>(g.shape(), 1.0));
  const int calls = 2000;
  std::vector<double> us;
  for (int b = 0; b < 21; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < calls; ++k) s.advance(1);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / calls);
  }
  std::nth_element(us.begin(), us.begin() + 10, us.end());
  std::printf("%.3f\n", us[10]);
}
