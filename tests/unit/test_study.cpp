// scenario/study.hpp: evaluation counting, seeds per cell (subsets rerun bit for bit), threads,
// agreement with `optimize`, resuming, and the study file's refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "io/hdf5.hpp"
#include "io/tsplib.hpp"
#include "particles/optimizers.hpp"
#include "potentials/cec.hpp"
#include "scenario/study.hpp"
#include "../test_support.hpp"

using namespace qtzflow;

namespace {

bool have_suites() {
  if (!potentials::cec_suites().empty()) return true;
  testing::report_skip("this build has no pagmo2, hence no CEC suites and no study");
  return false;
}

scenario::StudyConfig small_study(std::vector<std::string> algorithms, std::vector<int> functions = {1, 4}) {
  scenario::StudyConfig c;
  c.functions = std::move(functions);
  c.dimensions = {10};
  c.algorithms = std::move(algorithms);
  c.runs = 4;
  c.budget_per_dimension = 300;  // 3000 evaluations: enough for pagmo's populations to restart
  c.seed = 7;
  c.text = "test";
  return c;
}

std::vector<double> flatten(const scenario::StudyCell& cell) {
  std::vector<double> v;
  for (const auto& r : cell.runs) {
    v.insert(v.end(), {r.final_error, double(r.evaluations), double(r.restarts), double(r.stop)});
    v.insert(v.end(), r.errors_at_fractions.begin(), r.errors_at_fractions.end());
    v.insert(v.end(), r.trace_evaluations.begin(), r.trace_evaluations.end());
    v.insert(v.end(), r.trace_errors.begin(), r.trace_errors.end());
  }
  return v;
}

}  // namespace

TEST_CASE("study: every algorithm is charged exactly its budget, its records are consistent") {
  if (!have_suites()) return;
  const auto c = small_study(scenario::default_study_algorithms(), {1});
  const long budget = c.budget_per_dimension * 10;
  for (const auto& a : c.algorithms) {
    CAPTURE(a);
    const auto cell = scenario::run_cell(c, 1, 10, a);
    REQUIRE(cell.runs.size() == 4u);
    for (const auto& r : cell.runs) {
      // restarts are on: a run that stops early starts again, so every run spends its budget
      CHECK(r.evaluations == budget);
      CHECK(r.final_error >= 0);
      REQUIRE(r.errors_at_fractions.size() == c.fractions.size());
      CHECK(r.errors_at_fractions.back() == r.final_error);
      for (std::size_t i = 1; i < r.errors_at_fractions.size(); ++i) CHECK(r.errors_at_fractions[i] <= r.errors_at_fractions[i - 1]);
      REQUIRE(!r.trace_errors.empty());
      CHECK(r.trace_evaluations.front() == 1);  // the first call is an improvement on nothing
      for (std::size_t i = 1; i < r.trace_errors.size(); ++i) {
        CHECK(r.trace_evaluations[i] > r.trace_evaluations[i - 1]);
        // level crossings: each kept error is below the previous one's level 10^(k/5)
        CHECK((r.trace_errors[i] <= 0 || std::ceil(5 * std::log10(r.trace_errors[i])) < std::ceil(5 * std::log10(r.trace_errors[i - 1]))));
      }
      CHECK(r.trace_evaluations.back() <= static_cast<double>(budget));
      // every crossing is kept, so the final error lies at the last kept error's level
      const auto level = [](double e) { return e > 0 ? std::ceil(5 * std::log10(e)) : -INFINITY; };
      CHECK(r.final_error <= r.trace_errors.back());
      CHECK(level(r.final_error) == level(r.trace_errors.back()));
    }
  }
}

TEST_CASE("study: a cell is the same for 1 and 2 threads, alone or in a larger study, and equals optimize's runs") {
  if (!have_suites()) return;
  const auto algorithms = particles::have_pagmo() ? std::vector<std::string>{"qtz", "cmaes", "de1220"} : std::vector<std::string>{"qtz"};
  const auto big = small_study(algorithms, {1, 4}), alone = small_study(algorithms, {4});
  const int saved = core::thread_count();
  for (const auto& a : algorithms) {
    CAPTURE(a);
    core::set_thread_count(1);
    const auto one = scenario::run_cell(big, 4, 10, a);
    core::set_thread_count(2);
    const auto two = scenario::run_cell(big, 4, 10, a);
    const auto sub = scenario::run_cell(alone, 4, 10, a);
    CHECK(flatten(one) == flatten(two));
    CHECK(flatten(one) == flatten(sub));
    CHECK(one.seed == scenario::cell_seed(big, 4, 10, a));
    CHECK(scenario::cell_seed(big, 4, 10, a) != scenario::cell_seed(big, 1, 10, a));
    // what `qtzflow optimize --seed CELL_SEED --budget B-1 --restarts` runs
    const auto f = potentials::make_objective("cec2014:4", 10);
    particles::OptimizerOptions o;
    o.algorithm = particles::algorithm_options(a, particles::AlgorithmSettings{});
    o.budget = big.budget_per_dimension * 10 - 1;
    o.seed = one.seed;
    o.restarts = true;
    const auto rs = particles::run_ensemble(particles::ContinuousProblem(*f), o, big.runs);
    for (std::size_t r = 0; r < rs.size(); ++r) {
      CHECK(rs[r].best - 400.0 == one.runs[r].final_error);
      CHECK(rs[r].iterations + 1 == one.runs[r].evaluations);
    }
  }
  core::set_thread_count(saved);
}

TEST_CASE("study: a study stopped between cells resumes where it stopped, a damaged tail is dropped") {
  if (!have_suites()) return;
  const auto d = testing::scratch_dir("study_resume");
  const auto c = small_study({"qtz", "sa"}, {1, 4});
  const std::string whole = (d / "whole.h5").string(), cut = (d / "cut.h5").string();
  scenario::run_study(c, whole);
  CHECK(std::filesystem::exists(d / "whole.json"));
  CHECK(!std::filesystem::exists(whole + ".partial"));
  struct Stop {};
  CHECK_THROWS_AS(scenario::run_study(c, cut,
                                      [](const scenario::StudyProgress& p) {
                                        if (p.cells_done == 3) throw Stop{};  // a kill after the third cell
                                      }),
                  Stop);
  REQUIRE(std::filesystem::exists(cut + ".partial"));
  CHECK(!std::filesystem::exists(cut));
  { std::ofstream(cut + ".partial", std::ios::app | std::ios::binary) << "\x10garbage of a write cut short"; }
  long resumed = -1;
  scenario::run_study(c, cut, [&](const scenario::StudyProgress& p) { resumed = p.cells_resumed; });
  CHECK(resumed == 3);
  auto finals = [](const std::string& path) {
    const auto f = io::File::open_read(path);
    std::vector<double> v;
    for (const char* cell : {"f1_d10/qtz", "f1_d10/sa", "f4_d10/qtz", "f4_d10/sa"})
      for (const char* set : {"final_error", "errors_at_fractions", "trace_errors"}) {
        const auto x = f.root().open_dataset(std::string("cells/") + cell + "/" + set).read_doubles();
        v.insert(v.end(), x.begin(), x.end());
      }
    return v;
  };
  CHECK(finals(whole) == finals(cut));
  // a partial file of another study is refused, naming the output
  const auto other = small_study({"qtz"}, {1});
  testing::write_file(d / "x.h5.partial", "not a study's partial file");
  CHECK_THROWS_WITH_AS(scenario::run_study(other, (d / "x.h5").string()), doctest::Contains("different study"), core::InvalidArgument);
  std::filesystem::remove_all(d);
}

TEST_CASE("study: bad study files are refused naming the key") {
  if (!have_suites()) return;
  struct Case {
    const char* text;
    const char* key;
  };
  const Case cases[] = {
      {"[study]\nalgorithms = [\"qtz\", \"nonsense\"]\n", "study.algorithms"},
      {"[study]\nalgorithms = [\"langevin\"]\n", "study.algorithms"},
      {"[study]\nalgorithms = [\"qtz\", \"qtz\"]\n", "study.algorithms"},
      {"[study]\nruns = 0\n", "study.runs"},
      {"[study]\nbudget_per_dimension = 0\n", "study.budget_per_dimension"},
      {"[study]\nfunctions = [31]\n", "objective.function"},
      {"[study]\ndimensions = [7]\n", "dimension"},
      {"[study]\nsuite = \"cec2099\"\n", "study.suite"},
      {"[study]\nfractions = [0.5, 0.2, 1.0]\n", "study.fractions"},
      {"[study]\nfractions = [0.5]\n", "study.fractions"},
      {"[study]\nrunz = 3\n", "study.runz"},
      {"[study]\nrestarts = 1\n", "study.restarts"},
      {"[other]\nx = 1\n", "other"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.text);
    try {
      (void)scenario::parse_study(k.text, "test.toml");
      FAIL("accepted");
    } catch (const core::InvalidArgument& e) {
      CHECK(e.key() == k.key);
    }
  }
  const auto ok = scenario::parse_study("[study]\nfunctions = [2]\nruns = 3\n", "ok.toml");
  CHECK(ok.runs == 3);
  CHECK(ok.algorithms == scenario::default_study_algorithms());
}

// ---------------------------------------------------------------- the TSPLIB ladder (suite "tsplib")

namespace {

scenario::StudyConfig tsp_study(std::vector<std::string> algorithms) {
  return scenario::parse_study("[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\", \"st70\"]\nbudgets = [3000, 20000]\nruns = 4\nseed = 5\nalgorithms = [" +
                                   [&] {
                                     std::string s;
                                     for (const auto& a : algorithms) s += (s.empty() ? "\"" : ", \"") + a + "\"";
                                     return s;
                                   }() +
                                   "]\ndata = \"" QTZFLOW_DATA_DIR "/tsplib\"\n",
                               "tsp_test.toml");
}

}  // namespace

TEST_CASE("tsplib study: gaps recorded at the fractions and at level crossings agree with optimize's runs") {
  const auto c = tsp_study({"qtz", "sa-nl", "ils"});
  const auto problems = scenario::study_problems(c);
  REQUIRE(problems.size() == 4u);  // by budget, then instance
  CHECK(problems[0].instance == "eil51");
  CHECK(problems[1].instance == "st70");
  CHECK(problems[1].budget == 3000);
  CHECK(problems[2].budget == 20000);
  CHECK(problems[1].dimension == 70);
  CHECK(problems[1].optimum == 675);
  const auto& p = problems[3];  // st70, 20000 moves
  const auto inst = [&] {
    auto t = io::read_tsplib(QTZFLOW_DATA_DIR "/tsplib/st70.tsp");
    t.optimum = 675;
    return t;
  }();
  const auto start = inst.nearest_neighbour_tour(0);
  const double start_gap = (inst.tour_length(start) - 675) / 675;
  const int saved = core::thread_count();
  for (const auto& a : c.algorithms) {
    CAPTURE(a);
    core::set_thread_count(1);
    const auto one = scenario::run_cell(c, p, a);
    core::set_thread_count(2);
    const auto two = scenario::run_cell(c, p, a);
    core::set_thread_count(saved);
    CHECK(flatten(one) == flatten(two));
    CHECK(one.seed == scenario::cell_seed(c, p, a));
    CHECK(one.seed != scenario::cell_seed(c, problems[1], a));
    // what `qtzflow optimize --tsp st70.tsp --seed CELL_SEED --budget 20000` runs
    particles::OptimizerOptions o;
    o.algorithm = particles::algorithm_options(a, particles::AlgorithmSettings{});
    o.budget = p.budget;
    o.seed = one.seed;
    const auto rs = particles::run_ensemble(inst, o, c.runs, start);
    REQUIRE(one.runs.size() == rs.size());
    for (std::size_t r = 0; r < rs.size(); ++r) {
      const auto& run = one.runs[r];
      CHECK(run.final_error == (rs[r].best - 675) / 675);
      CHECK(run.final_error >= 0);  // never below TSPLIB's proven optimum
      CHECK(run.evaluations == rs[r].iterations);
      REQUIRE(!run.trace_errors.empty());
      CHECK(run.trace_evaluations.front() == 0);  // the start's gap, at 0 moves
      CHECK(run.trace_errors.front() == start_gap);
      // the last crossing is at the best's level (levels 10^(k/5); a gap of 0 is its own level)
      const auto level = [](double e) { return e > 0 ? std::ceil(5 * std::log10(e)) : -INFINITY; };
      CHECK(level(run.trace_errors.back()) == level(run.final_error));
      CHECK(run.trace_errors.back() >= run.final_error);
      for (std::size_t k = 1; k < run.trace_errors.size(); ++k) {
        CHECK(run.trace_evaluations[k] >= run.trace_evaluations[k - 1]);
        CHECK(std::ceil(5 * std::log10(run.trace_errors[k])) < std::ceil(5 * std::log10(run.trace_errors[k - 1])));  // each a new level
      }
      REQUIRE(run.errors_at_fractions.size() == c.fractions.size());
      for (std::size_t k = 1; k < run.errors_at_fractions.size(); ++k) CHECK(run.errors_at_fractions[k] <= run.errors_at_fractions[k - 1]);
      CHECK(run.errors_at_fractions.back() == run.final_error);
    }
  }
}

TEST_CASE("tsplib study: the whole study writes its cells, each instance's optimum and budget") {
  const auto d = testing::scratch_dir("study_tsp");
  const auto c = tsp_study({"qtz-nl", "ils"});
  const std::string out = (d / "ladder.h5").string();
  const auto cells = scenario::run_study(c, out);
  CHECK(cells.size() == 8u);
  const auto f = io::File::open_read(out);
  for (const char* group : {"cells/eil51_b3000/ils", "cells/st70_b20000/qtz-nl"}) {
    CAPTURE(group);
    const auto x = f.root().open_dataset(std::string(group) + "/final_error").read_doubles();
    CHECK(x.size() == 4u);
  }
  CHECK(std::filesystem::exists(d / "ladder.json"));
  std::filesystem::remove_all(d);
}

TEST_CASE("tsplib study: bad study files are refused naming the key") {
  const std::string data = "data = \"" QTZFLOW_DATA_DIR "/tsplib\"\n";
  struct Case {
    std::string text;
    const char* key;
  };
  const Case cases[] = {
      {"[study]\nsuite = \"tsplib\"\nbudgets = [100]\n" + data, "study.instances"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\n" + data, "study.budgets"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [0]\n" + data, "study.budgets"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100, 100]\n" + data, "study.budgets"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"nosuch\"]\nbudgets = [100]\n" + data, "study.instances"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\ndata = \"/nonexistent\"\n", "study.data"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\nalgorithms = [\"cmaes\"]\n" + data, "study.algorithms"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\nalgorithms = [\"pimc\"]\n" + data, "study.algorithms"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\nrestarts = true\n" + data, "study.restarts"},
      {"[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\ndimensions = [10]\n" + data, "study.dimensions"},
      {"[study]\nsuite = \"cec2014\"\ninstances = [\"eil51\"]\n", "study.instances"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.text);
    try {
      (void)scenario::parse_study(k.text, "test.toml");
      FAIL("accepted");
    } catch (const core::InvalidArgument& e) {
      CHECK(e.key() == k.key);
    }
  }
  // a relative data folder is the study file's
  const auto rel = scenario::parse_study("[study]\nsuite = \"tsplib\"\ninstances = [\"eil51\"]\nbudgets = [100]\ndata = \"tsplib\"\n",
                                         QTZFLOW_DATA_DIR "/study.toml");
  CHECK(rel.algorithms == scenario::default_tsp_study_algorithms());
  CHECK(std::filesystem::equivalent(rel.data, QTZFLOW_DATA_DIR "/tsplib"));
}
