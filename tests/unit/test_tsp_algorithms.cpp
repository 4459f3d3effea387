// particles/optimizers.hpp on TSP instances: the neighbour-list algorithms (qtz-nl, qtz-dither-nl,
// sa-nl) and iterated local search (ils) through run_once / run_ensemble, their settings and checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "io/tsplib.hpp"
#include "particles/optimizers.hpp"
#include "particles/tsp_tour.hpp"
#include "potentials/objective.hpp"

using namespace qtzflow;
using particles::Algorithm;

namespace {

const Algorithm kNeighbourAlgorithms[] = {Algorithm::qtz_nl, Algorithm::qtz_dither_nl, Algorithm::sa_nl, Algorithm::ils};

potentials::TspInstance shipped(const std::string& name) {
  auto inst = io::read_tsplib(QTZFLOW_DATA_DIR "/tsplib/" + name + ".tsp");
  inst.optimum = io::tsplib_known_optimum(name);
  return inst;
}

}  // namespace

TEST_CASE("TSP algorithms: every tour reported is a permutation of its length, never below the proven optimum") {
  // st70 (optimum 675, TSPLIB): 10^5 moves from the nearest-neighbour tour.  A reported length
  // that differs from its tour's, or beats the optimum, is a length bug.
  const auto inst = shipped("st70");
  REQUIRE(*inst.optimum == 675);
  const auto start = inst.nearest_neighbour_tour(0);
  const double start_length = inst.tour_length(start);
  for (Algorithm a : kNeighbourAlgorithms) {
    CAPTURE(particles::to_string(a));
    particles::OptimizerOptions o;
    o.algorithm = particles::default_options(a);
    CHECK(particles::algorithm_of(o.algorithm) == a);
    o.budget = 100000;
    const auto rs = particles::run_ensemble(inst, o, 4, start);
    for (const auto& r : rs) {
      const std::vector<int> tour(r.best_x.begin(), r.best_x.end());
      CHECK(inst.tour_length(tour) == r.best);  // tour_length also checks the permutation
      CHECK(r.best >= 675);
      // measured at this budget: ils 0-0.3 %, sa-nl ~3 %, qtz-nl and qtz-dither-nl 3-6 % (a
      // greedy descent once h has grown); the nearest-neighbour start is 20 % above
      CHECK(r.best < 0.95 * start_length);
      CHECK(r.iterations <= o.budget);
      CHECK(r.last_improvement <= r.iterations);
      CHECK(r.success == (r.best <= 675 * (1 + 1e-3)));
    }
  }
}

TEST_CASE("TSP algorithms: ils reaches berlin52's optimum through run_ensemble, and sa-nl spends its whole budget") {
  const auto inst = shipped("berlin52");
  particles::OptimizerOptions o;
  o.algorithm = particles::IlsOptions{};
  o.budget = 100000;  // measured: every seed of the direct test reaches 7542 within 26,000 deltas
  core::RandomStream shuffle(5, 0);
  const auto rs = particles::run_ensemble(inst, o, 10, particles::random_tour(inst.size(), shuffle));
  for (const auto& r : rs) {
    CHECK(r.best == 7542);
    CHECK(r.success);
    CHECK(r.hit_iteration >= 0);
    CHECK(r.hit_iteration <= r.iterations);
  }
  o.algorithm = particles::default_options(Algorithm::sa_nl);
  o.budget = 20000;
  const auto sa = particles::run_once(inst, o, 0, inst.nearest_neighbour_tour(0));
  CHECK(sa.iterations == 20000);  // the fitted schedule has no early stop
  CHECK(sa.stop == particles::StopReason::budget);
}

TEST_CASE("TSP algorithms: the improvement observer sees every new best, in order, ending at the best") {
  const auto inst = shipped("eil51");
  const auto start = inst.nearest_neighbour_tour(0);
  for (Algorithm a : {Algorithm::qtz, Algorithm::sa, Algorithm::qtz_nl, Algorithm::sa_nl, Algorithm::ils}) {
    CAPTURE(particles::to_string(a));
    particles::OptimizerOptions o;
    o.algorithm = particles::default_options(a);
    o.budget = 30000;
    std::vector<long> at;
    std::vector<double> length;
    const auto r = particles::run_once(inst, o, 3, start, nullptr, [&](long it, double l) {
      at.push_back(it);
      length.push_back(l);
    });
    REQUIRE(!at.empty());
    for (std::size_t i = 1; i < at.size(); ++i) {
      CHECK(at[i] >= at[i - 1]);
      CHECK(length[i] < length[i - 1]);
    }
    CHECK(length.back() == r.best);  // integer EUC_2D lengths: the accumulated deltas are exact
    CHECK(at.back() == r.last_improvement);
  }
}

TEST_CASE("TSP algorithms: a seed fixes every result for 1 and 2 threads, and runs differ") {
  const auto inst = shipped("ch130");
  const auto start = inst.nearest_neighbour_tour(0);
  const int saved = core::thread_count();
  for (Algorithm a : kNeighbourAlgorithms) {
    CAPTURE(particles::to_string(a));
    particles::OptimizerOptions o;
    o.algorithm = particles::default_options(a);
    o.budget = 20000;
    o.seed = 77;
    std::vector<std::vector<double>> out;
    for (int t : {1, 2}) {
      core::set_thread_count(t);
      std::vector<double> v;
      for (const auto& r : particles::run_ensemble(inst, o, 5, start)) {
        v.insert(v.end(), {r.best, static_cast<double>(r.last_improvement), static_cast<double>(r.iterations)});
        v.insert(v.end(), r.best_x.begin(), r.best_x.end());
      }
      out.push_back(v);
    }
    core::set_thread_count(saved);
    CHECK(out[0] == out[1]);
    const std::size_t width = 3 + inst.size();
    CHECK(!std::equal(out[0].begin(), out[0].begin() + static_cast<std::ptrdiff_t>(width), out[0].begin() + static_cast<std::ptrdiff_t>(width)));
  }
}

TEST_CASE("TSP algorithms: bad settings are refused naming the key and the accepted range") {
  const auto inst = shipped("eil51");
  const auto start = inst.nearest_neighbour_tour(0);
  particles::OptimizerOptions o;
  o.budget = 100;
  // K outside 1 … n − 1
  o.algorithm = particles::QtzOptions{.proposal = particles::Proposal::neighbours, .neighbours = 51};
  CHECK_THROWS_WITH_AS(particles::run_ensemble(inst, o, 2, start), doctest::Contains("neighbours = 51"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(particles::run_ensemble(inst, o, 2, start), doctest::Contains("1 … 50"), core::InvalidArgument);
  o.algorithm = particles::IlsOptions{.neighbours = 0};
  CHECK_THROWS_WITH_AS(particles::run_ensemble(inst, o, 2, start), doctest::Contains("neighbours = 0"), core::InvalidArgument);
  // the TSP algorithms on a continuous problem, local proposals on a tour
  auto f = potentials::make_objective("rastrigin", 2);
  const particles::ContinuousProblem p(*f);
  for (Algorithm a : kNeighbourAlgorithms) {
    o.algorithm = particles::default_options(a);
    const std::string expected = "algorithm = " + std::string(particles::to_string(a));
    CHECK_THROWS_WITH_AS(particles::run_ensemble(p, o, 2), doctest::Contains(expected.c_str()), core::InvalidArgument);
  }
  o.algorithm = particles::SaOptions{.proposal = particles::Proposal::local};
  CHECK_THROWS_WITH_AS(particles::run_ensemble(inst, o, 2, start), doctest::Contains("local = on"), core::InvalidArgument);
  o.algorithm = particles::SaOptions{.T0 = 0, .cooling = 1, .proposal = particles::Proposal::neighbours};
  CHECK_THROWS_WITH_AS(particles::run_ensemble(inst, o, 2, start), doctest::Contains("sa.cooling = 1"), core::InvalidArgument);
  // ils needs 8 cities
  const auto tiny = potentials::TspInstance::from_coordinates("tiny", {0, 1, 2, 3, 4, 5, 6}, {0, 1, 0, 1, 0, 1, 0}, potentials::TspMetric::euclidean);
  o.algorithm = particles::IlsOptions{.neighbours = 3};
  CHECK_THROWS_WITH_AS(particles::run_ensemble(tiny, o, 1, tiny.nearest_neighbour_tour(0)), doctest::Contains("at least 8"), core::InvalidArgument);
}

TEST_CASE("TSP algorithms: settings are used or refused, and stored with the results") {
  particles::AlgorithmSettings s;
  CHECK(particles::unused_setting(Algorithm::ils, s, "neighbours").empty());
  CHECK(particles::unused_setting(Algorithm::qtz_nl, s, "neighbours").empty());
  CHECK(particles::unused_setting(Algorithm::qtz_nl, s, "h_schedule").empty());
  CHECK(!particles::unused_setting(Algorithm::qtz, s, "neighbours").empty());
  CHECK(!particles::unused_setting(Algorithm::sa_nl, s, "sa_T0").empty());
  CHECK(!particles::unused_setting(Algorithm::ils, s, "delta").empty());
  CHECK(!particles::unused_setting(Algorithm::qtz_nl, s, "local").empty());
  s.neighbours = 7;
  s.sa_T0 = 5;  // not taken by sa-nl: its schedule is fitted
  const auto sa = std::get<particles::SaOptions>(particles::algorithm_options("sa-nl", s));
  CHECK(sa.neighbours == 7);
  CHECK(sa.T0 == 0);
  CHECK(sa.proposal == particles::Proposal::neighbours);
  particles::OptimizerOptions o;
  o.algorithm = particles::algorithm_options("qtz-dither-nl", s);
  CHECK(particles::neighbour_count(o) == 7);
  bool stored = false;
  for (const auto& v : particles::option_values(o))
    if (v.name == "neighbours") stored = std::get<double>(v.value) == 7;
  CHECK(stored);
}

TEST_CASE("TSP optima: the shipped table is compiled in, Debian's four kept, unknown names -1") {
  const auto table = io::read_tsp_optima(QTZFLOW_DATA_DIR "/tsplib/optima.txt");
  REQUIRE(table.size() == 15);
  for (const auto& [name, length] : table) {
    CAPTURE(name);
    CHECK(io::tsplib_known_optimum(name) == length);
    CHECK(io::tsplib_known_optimum(name + ".tsp") == length);
  }
  CHECK(io::tsplib_known_optimum("pr2392") == 378032);
  CHECK(io::tsplib_known_optimum("gr120") == 6942);
  CHECK(io::tsplib_known_optimum("nosuch") == -1);
}
