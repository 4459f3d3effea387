// Particle-engine throughput (issue #5 goal: >= 1e7 per second per core for both):
//  - Langevin particle-steps per second on 2D Rastrigin (ParticleEnsemble, 1e5 particles,
//    100 Euler–Maruyama steps per sample, reflecting box [-5.12, 5.12]², T = 1);
//  - QTZ proposals per second on the authors' 150-city instance (run_ensemble, the authors'
//    algorithm from the nearest-neighbour tour; a run ends at h = 1023 or the budget, so the
//    rate counts the proposals actually made).
// 1 and 2 threads; medians of 7 samples.  Usage: bench_particles [DATA_DIR]
#include <cstdio>
#include <numeric>
#include <string>

#include "bench_common.hpp"
#include "core/parallel.hpp"
#include "io/tsplib.hpp"
#include "particles/ensemble.hpp"
#include "particles/optimizers.hpp"
#include "potentials/objective.hpp"

using namespace qtzflow;

int main(int argc, char** argv) {
  const std::string data = argc > 1 ? argv[1] : QTZFLOW_DATA_DIR;
  std::printf("bench_particles — %s, %s\n\n", bench::cpu_model().c_str(), bench::utc_now().c_str());
  std::printf("| workload | threads | rate (per s) | per core (per s) |\n|---|---|---|---|\n");
  auto f = potentials::make_objective("rastrigin", 2);
  grids::Grid<2> g({64, 64}, {-5.12, -5.12}, {5.12, 5.12}, grids::Boundary::reflecting);
  const auto inst = io::read_tsplib(data + "/tsp/random150.tsp", true);
  const auto start = inst.nearest_neighbour_tour(0);
  for (int threads : {1, 2}) {
    core::set_thread_count(threads);
    particles::ParticleEnsemble<2> e(*f, g, potentials::Schedule::constant(1.0), {particles::ParticleDynamics::langevin, 1e-3, 0.1, 2.0, 1});
    const std::size_t M = 100000;
    const long steps = 100;
    e.sample_initial(M, {}, {});
    const double t = bench::median_seconds(7, 1, [&] { e.advance(steps); });
    const double rate = static_cast<double>(M) * static_cast<double>(steps) / t;
    std::printf("| Langevin particle-steps, 2D Rastrigin, 1e5 particles | %d | %.3g | %.3g |\n", threads, rate, rate / threads);

    // dithered QTZ in Fokker-Planck time (the V9/V10 workload): moves per second
    auto dw = potentials::make_objective("double_well", 1, {{"c", {0.3}}});
    grids::Grid<1> g1({100}, {-2.0}, {2.0}, grids::Boundary::reflecting);
    particles::ParticleOptions qo{particles::ParticleDynamics::qtz_dither, 1e-3, 0.1, 2.0, 1};
    qo.clock = particles::QtzClock::fokker_planck;
    particles::ParticleEnsemble<1> q(*dw, g1, potentials::Schedule::constant(0.3), qo);
    q.sample_initial(M, {0.96}, {0.2});
    const double tq1 = bench::median_seconds(7, 1, [&] { q.advance(steps); });
    const double qrate1 = static_cast<double>(M) * static_cast<double>(steps * qo.moves_per_step) / tq1;
    std::printf("| dithered QTZ moves (Fokker-Planck clock), 1D tilted double well, 1e5 particles | %d | %.3g | %.3g |\n", threads, qrate1,
                qrate1 / threads);

    particles::OptimizerOptions o;
    o.algorithm = particles::QtzOptions{};
    o.budget = 1000000;
    long proposals = 0;
    const long runs = 16;
    const double tq = bench::median_seconds(7, 1, [&] {
      const auto rs = particles::run_ensemble(inst, o, runs, start);
      proposals = 0;
      for (const auto& r : rs) proposals += r.iterations;
    });
    const double qrate = static_cast<double>(proposals) / tq;
    std::printf("| QTZ proposals, random150 TSP, %ld runs (%ld proposals) | %d | %.3g | %.3g |\n", runs, proposals, threads, qrate, qrate / threads);
    o.algorithm = particles::SaOptions{};
    o.budget = 100000;
    const double ts = bench::median_seconds(7, 1, [&] {
      const auto rs = particles::run_ensemble(inst, o, runs, start);
      proposals = 0;
      for (const auto& r : rs) proposals += r.iterations;
    });
    std::printf("| SA proposals, random150 TSP, %ld runs (%ld proposals) | %d | %.3g | %.3g |\n", runs, proposals, threads,
                static_cast<double>(proposals) / ts, static_cast<double>(proposals) / ts / threads);
    std::fflush(stdout);
  }
}
