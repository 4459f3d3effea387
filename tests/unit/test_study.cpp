// scenario/study.hpp: evaluation counting, seeds per cell (subsets rerun bit for bit), threads,
// agreement with `optimize`, resuming, and the study file's refusals.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "io/hdf5.hpp"
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
