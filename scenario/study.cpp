#include "scenario/study.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"
#include "io/tsplib.hpp"
#include "potentials/cec.hpp"
#include "potentials/tsp_neighbours.hpp"
#include "scenario/toml_reader.hpp"

namespace qtzflow::scenario {

namespace {

using namespace toml_reader;

// ---------------------------------------------------------------- the counting objective

/// f as the algorithm sees it, counting every value() call: the error at the fractions of the
/// budget and at the improvements that cross a level 10^(k/5).  One per run (not shared).
class CountingObjective final : public potentials::Objective {
 public:
  CountingObjective(const potentials::Objective& f, double f_star, std::vector<long> checkpoints)
      : Objective(f.name(), f.dim(), f.params()), f_(f), f_star_(f_star), checkpoints_(std::move(checkpoints)) {
    lower_ = f.lower();
    upper_ = f.upper();
    minima_ = f.minima();
  }
  double value(std::span<const double> x) const override {
    const double v = f_.value(x);
    ++calls_;
    if (v < best_) {
      best_ = v;
      const double e = best_ - f_star_;
      const double level = e > 0 ? std::ceil(5 * std::log10(e)) : -INFINITY;  // e ≤ 10^(k/5) ⟺ level ≤ k
      if (level < level_) {
        level_ = level;
        trace_evaluations_.push_back(static_cast<double>(calls_));
        trace_errors_.push_back(e);
      }
    }
    while (next_ < checkpoints_.size() && calls_ >= checkpoints_[next_]) {
      at_checkpoints_.push_back(best_ - f_star_);
      ++next_;
    }
    return v;
  }
  void gradient(std::span<const double>, std::span<double>) const override {
    // a gradient's cost (finite differences on the CEC suites: 8·d calls) is not charged yet
    throw core::Error("study: gradients are not counted; gradient-based algorithms are refused by StudyConfig::check");
  }
  double laplacian(std::span<const double>) const override { throw core::Error("study: the Laplacian is not counted"); }
  double success_tolerance() const override { return f_.success_tolerance(); }

  /// The run's record; fractions the run did not reach (it stopped early) take its final error.
  StudyRun finish(const particles::RunResult& r) const {
    StudyRun s;
    s.final_error = best_ - f_star_;
    s.evaluations = calls_;
    s.restarts = r.restarts;
    s.stop = static_cast<int>(r.stop);
    s.errors_at_fractions = at_checkpoints_;
    s.errors_at_fractions.resize(checkpoints_.size(), s.final_error);
    s.trace_evaluations = trace_evaluations_;
    s.trace_errors = trace_errors_;
    return s;
  }

 private:
  const potentials::Objective& f_;
  double f_star_;
  std::vector<long> checkpoints_;
  mutable long calls_ = 0;
  mutable std::size_t next_ = 0;
  mutable double best_ = INFINITY, level_ = INFINITY;
  mutable std::vector<double> at_checkpoints_, trace_evaluations_, trace_errors_;
};

// ---------------------------------------------------------------- seeds

std::uint64_t mix(std::uint64_t z) {  // splitmix64's finaliser
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 0xCBF29CE484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}
std::uint64_t fnv1a(const std::string& s) { return fnv1a(s.data(), s.size()); }

// ---------------------------------------------------------------- packing (MPI, partial file)

void pack(const StudyRun& r, std::vector<double>& out) {
  out.insert(out.end(), {r.final_error, static_cast<double>(r.evaluations), static_cast<double>(r.restarts), static_cast<double>(r.stop),
                         static_cast<double>(r.errors_at_fractions.size()), static_cast<double>(r.trace_errors.size())});
  out.insert(out.end(), r.errors_at_fractions.begin(), r.errors_at_fractions.end());
  out.insert(out.end(), r.trace_evaluations.begin(), r.trace_evaluations.end());
  out.insert(out.end(), r.trace_errors.begin(), r.trace_errors.end());
}

/// Unpacks `count` runs from v at `at`; false if v is too short or inconsistent (a damaged record).
bool unpack(const std::vector<double>& v, std::size_t& at, long count, std::vector<StudyRun>& out) {
  for (long i = 0; i < count; ++i) {
    if (at + 6 > v.size()) return false;
    StudyRun r;
    r.final_error = v[at];
    r.evaluations = static_cast<long>(v[at + 1]);
    r.restarts = static_cast<long>(v[at + 2]);
    r.stop = static_cast<int>(v[at + 3]);
    const double nf = v[at + 4], nt = v[at + 5];
    if (!(nf >= 0 && nt >= 0 && at + 6 + nf + 2 * nt <= static_cast<double>(v.size()))) return false;
    at += 6;
    const auto take = [&](std::vector<double>& dst, std::size_t n) {
      dst.assign(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    };
    take(r.errors_at_fractions, static_cast<std::size_t>(nf));
    take(r.trace_evaluations, static_cast<std::size_t>(nt));
    take(r.trace_errors, static_cast<std::size_t>(nt));
    out.push_back(std::move(r));
  }
  return true;
}

// The partial file: a header record (the study's identity), then one record per finished cell.
// A record is [u64 length][payload][u64 FNV-1a of the payload]; a cut or damaged last record
// (a kill mid-write) is ignored, and the file is rewritten without it before appending.
constexpr char kPartialMagic[] = "qtzflow-study-partial-2";

std::string identity_of(const StudyConfig& c) {
  return std::string(kPartialMagic) + "\n" + c.text + "\nbudget_per_dimension=" + std::to_string(c.budget_per_dimension) +
         " runs=" + std::to_string(c.runs) + " seed=" + std::to_string(c.seed) + " restarts=" + std::to_string(c.restarts);
}

std::string frame(const std::string& payload) {
  std::string rec(8, '\0');
  const std::uint64_t n = payload.size(), h = fnv1a(payload);
  std::memcpy(rec.data(), &n, 8);
  rec += payload;
  rec.append(reinterpret_cast<const char*>(&h), 8);
  return rec;
}

std::string cell_payload(const StudyCell& cell) {
  std::vector<double> d{static_cast<double>(cell.function), static_cast<double>(cell.dimension), cell.wall_seconds,
                        static_cast<double>(cell.budget), static_cast<double>(cell.runs.size())};
  for (const auto& r : cell.runs) pack(r, d);
  std::string p;
  const std::uint64_t name_len = cell.algorithm.size(), seed = cell.seed, nd = d.size();
  p.append(reinterpret_cast<const char*>(&name_len), 8);
  p += cell.algorithm;
  p.append(reinterpret_cast<const char*>(&seed), 8);
  p.append(reinterpret_cast<const char*>(&nd), 8);
  p.append(reinterpret_cast<const char*>(d.data()), d.size() * sizeof(double));
  return p;
}

bool parse_cell(const std::string& p, StudyCell& cell) {
  std::size_t at = 0;
  auto u64 = [&](std::uint64_t& v) {
    if (at + 8 > p.size()) return false;
    std::memcpy(&v, p.data() + at, 8);
    at += 8;
    return true;
  };
  std::uint64_t name_len = 0, nd = 0;
  if (!u64(name_len) || name_len > 64 || at + name_len > p.size()) return false;
  cell.algorithm = p.substr(at, name_len);
  at += name_len;
  if (!u64(cell.seed) || !u64(nd) || nd < 5 || at + nd * sizeof(double) != p.size()) return false;
  std::vector<double> d(nd);
  std::memcpy(d.data(), p.data() + at, nd * sizeof(double));
  cell.function = static_cast<int>(d[0]);
  cell.dimension = static_cast<int>(d[1]);
  cell.wall_seconds = d[2];
  cell.budget = static_cast<long>(d[3]);
  std::size_t k = 5;
  return unpack(d, k, static_cast<long>(d[4]), cell.runs) && k == d.size();
}

/// The cells of a partial file written by the same study; a partial file of another study is
/// refused (naming it), a damaged tail dropped.
std::vector<StudyCell> read_partial(const std::string& path, const StudyConfig& c) {
  std::vector<StudyCell> cells;
  std::ifstream in(path, std::ios::binary);
  if (!in) return cells;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  auto next = [&](std::string& payload) {
    std::uint64_t n = 0, h = 0;
    if (at + 8 > all.size()) return false;
    std::memcpy(&n, all.data() + at, 8);
    if (n > all.size() || at + 16 + n > all.size()) return false;
    payload = all.substr(at + 8, n);
    std::memcpy(&h, all.data() + at + 8 + n, 8);
    if (h != fnv1a(payload)) return false;
    at += 16 + n;
    return true;
  };
  std::string payload;
  if (!next(payload) || payload != identity_of(c))
    throw core::InvalidArgument("output", "output: " + core::shorten(path, 200) +
                                              " holds the partial results of a different study (or is damaged); remove it to start afresh, "
                                              "or give the study file that wrote it");
  while (next(payload)) {
    StudyCell cell;
    if (!parse_cell(payload, cell)) break;
    cells.push_back(std::move(cell));
  }
  return cells;
}

void append_synced(const std::string& path, const std::string& bytes, bool truncate) {
  std::FILE* f = std::fopen(path.c_str(), truncate ? "wb" : "ab");
  if (f == nullptr) throw core::Error("study: cannot write " + path + ": " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok) throw core::Error("study: cannot write " + path + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------- statistics for the summary

struct Stats {
  double mean, median, std, min, max, success;
};
Stats stats_of(const std::vector<StudyRun>& runs) {
  std::vector<double> e;
  for (const auto& r : runs) e.push_back(r.final_error);
  std::sort(e.begin(), e.end());
  const double n = static_cast<double>(e.size());
  Stats s{};
  s.mean = std::accumulate(e.begin(), e.end(), 0.0) / n;
  s.median = e.size() % 2 ? e[e.size() / 2] : 0.5 * (e[e.size() / 2 - 1] + e[e.size() / 2]);
  double v = 0;
  for (double x : e) v += (x - s.mean) * (x - s.mean);
  s.std = e.size() > 1 ? std::sqrt(v / (n - 1)) : 0;
  s.min = e.front();
  s.max = e.back();
  s.success = static_cast<double>(std::count_if(e.begin(), e.end(), [](double x) { return x <= 1e-8; })) / n;
  return s;
}

/// The instance file of a tsplib study.
std::string instance_path(const StudyConfig& c, const std::string& name) { return (std::filesystem::path(c.data) / (name + ".tsp")).string(); }

std::string reproduce_command(const StudyConfig& c, const StudyCell& cell) {
  if (c.is_tsp())
    return "qtzflow optimize --tsp " + instance_path(c, c.instances.at(static_cast<std::size_t>(cell.function - 1))) + " --algorithm " + cell.algorithm +
           " --seed " + std::to_string(cell.seed) + " --budget " + std::to_string(cell.budget) + " --runs " + std::to_string(c.runs);
  return "qtzflow optimize --objective " + c.suite + ":" + std::to_string(cell.function) + " --dim " + std::to_string(cell.dimension) +
         " --algorithm " + cell.algorithm + " --seed " + std::to_string(cell.seed) + " --budget " +
         std::to_string(c.budget_per_dimension * cell.dimension - 1) + (c.restarts ? " --restarts" : "") + " --runs " + std::to_string(c.runs);
}

/// The optimizer options of a cell's runs (run_cell uses them; the output stores them).
particles::OptimizerOptions cell_options(const StudyConfig& c, const StudyProblem& p, const std::string& algorithm) {
  particles::OptimizerOptions o;
  o.algorithm = particles::algorithm_options(algorithm, particles::AlgorithmSettings{});
  o.budget = c.is_tsp() ? p.budget : p.budget - 1;  // CEC: candidates after the start, budget evaluations in all
  o.restarts = c.restarts;
  o.seed = cell_seed(c, p, algorithm);
  o.tolerance = c.is_tsp() ? 0 : 1e-8;  // tsplib: a hit is the optimum itself
  return o;
}

const StudyProblem& problem_of(const std::vector<StudyProblem>& problems, const StudyCell& cell) {
  for (const auto& p : problems)
    if (p.function == cell.function && p.dimension == cell.dimension && p.budget == cell.budget) return p;
  throw core::Error("study: a cell of no problem of the study");
}

std::string machine() {
  char host[256] = "unknown";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " cores online, " + std::to_string(core::thread_count()) +
         " threads x " + std::to_string(core::mpi::size()) + " ranks";
}

void write_outputs(const StudyConfig& c, const std::vector<StudyCell>& cells, const std::string& output, double wall) {
  std::vector<std::string> algorithms = c.algorithms;
  const auto problems = study_problems(c);
  io::write_file_atomically(output, [&](const io::Group& root) {
    const std::map<std::string, std::string> attrs{{"software", "qtzflow"},
                                                   {"softwareVersion", core::version},
                                                   {"date", core::utc_now()},
                                                   {"gitRevision", std::string(core::git_revision())},
                                                   {"buildOptions", std::string(core::build_options())},
                                                   {"machine", machine()},
                                                   {"study", c.text},
                                                   {"suite", c.suite},
                                                   {"errorDefinition", c.is_tsp() ? "(L_best - L_opt) / L_opt, L_opt the instance's proven optimal tour length"
                                                                                  : "f_best - f*, f* the suite's optimum value"},
                                                   {"budgetUnit", c.is_tsp() ? "move deltas evaluated per run" : "fitness evaluations per run"}};
    for (const auto& [k, v] : attrs) root.write_attribute(k, v);
    root.write_attribute("runs", static_cast<std::int64_t>(c.runs));
    root.write_attribute("budgetPerDimension", static_cast<std::int64_t>(c.budget_per_dimension));
    root.write_attribute("seed", static_cast<std::uint64_t>(c.seed));
    root.write_attribute("restarts", static_cast<std::int64_t>(c.restarts));
    root.write_attribute("fractions", std::span<const double>(c.fractions));
    root.write_attribute("algorithms", algorithms);
    if (c.is_tsp()) {
      root.write_attribute("instances", c.instances);
      std::vector<double> bs(c.budgets.begin(), c.budgets.end()), optima, cities;
      for (const auto& p : problems)
        if (p.budget == c.budgets.front()) {
          optima.push_back(p.optimum);
          cities.push_back(p.dimension);
        }
      root.write_attribute("budgets", std::span<const double>(bs));
      root.write_attribute("optima", std::span<const double>(optima));
      root.write_attribute("cities", std::span<const double>(cities));
    } else {
      std::vector<double> fs(c.functions.begin(), c.functions.end()), ds(c.dimensions.begin(), c.dimensions.end());
      root.write_attribute("functions", std::span<const double>(fs));
      root.write_attribute("dimensions", std::span<const double>(ds));
    }
    root.write_attribute("wallSeconds", wall);
    std::vector<std::string> stops;
    for (auto s : {particles::StopReason::budget, particles::StopReason::h_limit, particles::StopReason::sa_stop_rule, particles::StopReason::converged})
      stops.emplace_back(particles::to_string(s));
    root.write_attribute("stopReasons", stops);
    const io::Group all = root.create_group("cells");
    for (const auto& cell : cells) {
      const StudyProblem& sp = problem_of(problems, cell);
      const std::string& problem = sp.name;
      const bool fresh_group = !all.exists(problem);
      const io::Group pg = fresh_group ? all.create_group(problem) : all.open_group(problem);
      if (fresh_group && c.is_tsp()) {
        pg.write_attribute("instance", sp.instance);
        pg.write_attribute("optimum", sp.optimum);
        pg.write_attribute("cities", static_cast<std::int64_t>(sp.dimension));
        pg.write_attribute("budget", static_cast<std::int64_t>(sp.budget));
      }
      const io::Group g = pg.create_group(cell.algorithm);
      const std::size_t n = cell.runs.size(), nf = c.fractions.size();
      std::vector<double> fin(n), at(n * nf), tev, ter;
      std::vector<std::int64_t> evals(n), restarts(n), stop(n), offsets(n + 1, 0);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& r = cell.runs[i];
        fin[i] = r.final_error;
        evals[i] = r.evaluations;
        restarts[i] = r.restarts;
        stop[i] = r.stop;
        std::copy(r.errors_at_fractions.begin(), r.errors_at_fractions.end(), at.begin() + static_cast<std::ptrdiff_t>(i * nf));
        tev.insert(tev.end(), r.trace_evaluations.begin(), r.trace_evaluations.end());
        ter.insert(ter.end(), r.trace_errors.begin(), r.trace_errors.end());
        offsets[i + 1] = static_cast<std::int64_t>(tev.size());
      }
      g.write_dataset("final_error", fin, {n});
      g.write_dataset("errors_at_fractions", at, {n, nf});
      g.write_dataset("evaluations", evals, {n});
      g.write_dataset("restarts", restarts, {n});
      g.write_dataset("stop", stop, {n});
      g.write_dataset("trace_offsets", offsets, {n + 1});
      g.write_dataset("trace_evaluations", tev, {tev.size()});
      g.write_dataset("trace_errors", ter, {ter.size()});
      g.write_attribute("seed", static_cast<std::uint64_t>(cell.seed));
      g.write_attribute("wallSeconds", cell.wall_seconds);
      g.write_attribute("reproduce", reproduce_command(c, cell));
      for (const auto& v : particles::option_values(cell_options(c, sp, cell.algorithm))) {
        if (v.name == "seed") continue;  // written above, exactly (a double cannot hold every seed)
        if (const auto* x = std::get_if<double>(&v.value))
          g.write_attribute("option_" + v.name, *x);
        else
          g.write_attribute("option_" + v.name, std::get<std::string>(v.value));
      }
    }
  });
  std::string j = "{\"software\": \"qtzflow\", \"version\": \"" + std::string(core::version) + "\", \"gitRevision\": \"" +
                  core::json_escape(core::git_revision()) + "\", \"date\": \"" + core::utc_now() + "\", \"machine\": \"" + core::json_escape(machine()) +
                  "\",\n \"suite\": \"" + c.suite + "\", \"runs\": " + std::to_string(c.runs) + ", \"budget_per_dimension\": " +
                  (c.is_tsp() ? std::string("null") : std::to_string(c.budget_per_dimension)) + ", \"seed\": " + std::to_string(c.seed) + ", \"restarts\": " + (c.restarts ? "true" : "false") +
                  ", \"wall_seconds\": " + core::json_number(wall) + ",\n \"cells\": [";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& cell = cells[i];
    const Stats s = stats_of(cell.runs);
    const StudyProblem& sp = problem_of(problems, cell);
    const std::string tsp = c.is_tsp() ? ", \"instance\": \"" + sp.instance + "\", \"optimum\": " + core::json_number(sp.optimum) : std::string();
    j += std::string(i ? "," : "") + "\n  {\"function\": " + std::to_string(cell.function) + ", \"dimension\": " + std::to_string(cell.dimension) +
         ", \"budget\": " + std::to_string(cell.budget) + tsp +
         ", \"algorithm\": \"" + cell.algorithm + "\", \"seed\": " + std::to_string(cell.seed) + ", \"mean\": " + core::json_number(s.mean) +
         ", \"median\": " + core::json_number(s.median) + ", \"std\": " + core::json_number(s.std) + ", \"min\": " + core::json_number(s.min) +
         ", \"max\": " + core::json_number(s.max) + ", \"success_rate\": " + core::json_number(s.success) + ", \"wall_seconds\": " + core::json_number(cell.wall_seconds) +
         ", \"reproduce\": \"" + core::json_escape(reproduce_command(c, cell)) + "\"}";
  }
  core::write_text_atomically(study_json_path(output), j + "]}\n");
}

}  // namespace

std::vector<std::string> default_study_algorithms() {
  std::vector<std::string> a{"qtz", "qtz-dither", "sa"};
  if (particles::have_pagmo()) a.insert(a.end(), {"pagmo-sa", "cmaes", "de1220", "sade", "xnes", "pso"});
  return a;
}

std::vector<std::string> default_tsp_study_algorithms() { return {"qtz", "qtz-dither", "sa", "qtz-nl", "qtz-dither-nl", "sa-nl", "ils"}; }

namespace {
/// The tsplib part of StudyConfig::check (instances readable, with a known optimum).
void check_tsp_study(const StudyConfig& c) {
  if (c.instances.empty()) core::throw_invalid("study.instances", "[]", "at least one TSPLIB instance name (files NAME.tsp in study.data)");
  if (c.budgets.empty()) core::throw_invalid("study.budgets", "[]", "at least one budget (move deltas per run)");
  for (long b : c.budgets) core::require_at_least("study.budgets", b, 1);
  for (std::size_t i = 0; i < c.budgets.size(); ++i)
    if (std::find(c.budgets.begin(), c.budgets.begin() + static_cast<std::ptrdiff_t>(i), c.budgets[i]) != c.budgets.begin() + static_cast<std::ptrdiff_t>(i))
      core::throw_invalid("study.budgets", std::to_string(c.budgets[i]) + " twice", "each budget once");
  for (std::size_t i = 0; i < c.instances.size(); ++i) {
    const auto& name = c.instances[i];
    if (std::find(c.instances.begin(), c.instances.begin() + static_cast<std::ptrdiff_t>(i), name) != c.instances.begin() + static_cast<std::ptrdiff_t>(i))
      core::throw_invalid("study.instances", "\"" + name + "\" twice", "each instance once");
    if (io::tsplib_known_optimum(name) <= 0)
      core::throw_invalid("study.instances", "\"" + name + "\"", "an instance with a known optimum (data/tsplib/optima.txt, dantzig42, gr120, ulysses16, ulysses22)");
    std::error_code ec;
    const std::string path = instance_path(c, name);
    if (!std::filesystem::is_regular_file(path, ec)) core::throw_invalid("study.data", "\"" + core::shorten(path, 200) + "\"", "a folder holding " + name + ".tsp");
  }
  const std::vector<std::string> allowed = default_tsp_study_algorithms();
  if (c.algorithms.empty()) core::throw_invalid("study.algorithms", "[]", "at least one algorithm");
  for (std::size_t i = 0; i < c.algorithms.size(); ++i) {
    const auto& a = c.algorithms[i];
    if (std::find(allowed.begin(), allowed.end(), a) == allowed.end())
      core::throw_invalid("study.algorithms", "\"" + a + "\"",
                          "one of qtz, qtz-dither, sa, qtz-nl, qtz-dither-nl, sa-nl, ils for suite \"tsplib\" (qia is sa on a tour; pimc's improvements are not traced)");
    if (std::find(c.algorithms.begin(), c.algorithms.begin() + static_cast<std::ptrdiff_t>(i), a) != c.algorithms.begin() + static_cast<std::ptrdiff_t>(i))
      core::throw_invalid("study.algorithms", "\"" + a + "\" twice", "each algorithm once");
  }
  if (c.restarts) core::throw_invalid("study.restarts", "true", "false for suite \"tsplib\" (restarts are for continuous problems)");
  double moves = 0;
  for (long b : c.budgets) moves += static_cast<double>(b);
  moves *= static_cast<double>(c.instances.size() * c.algorithms.size()) * static_cast<double>(c.runs);
  if (moves > 1e14) core::throw_invalid("study", core::format_value(moves) + " moves", "at most 1e14 (years of computing)");
}
}  // namespace

void StudyConfig::check() const {
  if (is_tsp()) {
    core::require_at_least("study.runs", runs, 1);
    check_tsp_study(*this);
    if (fractions.empty() || fractions.back() != 1.0)
      core::throw_invalid("study.fractions", "not ending at 1", "increasing fractions of the budget in (0, 1], the last 1");
    for (std::size_t i = 0; i < fractions.size(); ++i)
      if (!(fractions[i] > 0 && fractions[i] <= 1) || (i > 0 && !(fractions[i] > fractions[i - 1])))
        core::throw_invalid("study.fractions", core::format_value(fractions[i]), "increasing fractions of the budget in (0, 1]");
    return;
  }
  const auto& suites = potentials::cec_suites();
  const auto suite_it = std::find_if(suites.begin(), suites.end(), [&](const potentials::CecSuite& s) { return s.name == suite; });
  if (suite_it == suites.end())
    core::throw_invalid("study.suite", "\"" + suite + "\"",
                        suites.empty() ? "\"tsplib\", or a CEC suite of this build (qtzflow was built without pagmo2, which brings them)"
                                       : "\"cec2014\", \"cec2013\" or \"tsplib\"");
  core::require_at_least("study.runs", runs, 1);
  core::require_at_least("study.budget_per_dimension", budget_per_dimension, 1);
  if (algorithms.empty()) core::throw_invalid("study.algorithms", "[]", "at least one algorithm");
  for (std::size_t i = 0; i < algorithms.size(); ++i) {
    particles::Algorithm a{};
    try {
      a = particles::algorithm_from_string(algorithms[i]);
    } catch (const core::InvalidArgument&) {
      core::throw_invalid("study.algorithms", "\"" + algorithms[i] + "\"", "one of " + core::quoted_names<particles::Algorithm>());
    }
    if (a == particles::Algorithm::langevin || a == particles::Algorithm::pimc || a == particles::Algorithm::qia)
      core::throw_invalid("study.algorithms", "\"" + algorithms[i] + "\"",
                          a == particles::Algorithm::langevin ? "an algorithm that uses values only (langevin's gradients are not counted as evaluations yet)"
                          : a == particles::Algorithm::pimc   ? "a continuous optimizer (pimc is for TSP instances)"
                                                              : "one of the study's (qia's driver term is not an evaluation of f; use sa)");
    if ((a == particles::Algorithm::pagmo_sa || particles::is_pagmo_population(a)) && !particles::have_pagmo())
      core::throw_invalid("study.algorithms", "\"" + algorithms[i] + "\"", "an algorithm of this build (qtzflow was built without pagmo2)");
    if (std::find(algorithms.begin(), algorithms.begin() + static_cast<std::ptrdiff_t>(i), algorithms[i]) != algorithms.begin() + static_cast<std::ptrdiff_t>(i))
      core::throw_invalid("study.algorithms", "\"" + algorithms[i] + "\" twice", "each algorithm once");
  }
  if (functions.empty()) core::throw_invalid("study.functions", "[]", "at least one function number");
  if (dimensions.empty()) core::throw_invalid("study.dimensions", "[]", "at least one dimension");
  for (int d : dimensions)
    for (int f : functions) (void)potentials::make_cec_objective(suite, f, d);  // names objective.function or dimension
  if (fractions.empty() || fractions.back() != 1.0) core::throw_invalid("study.fractions", "not ending at 1", "increasing fractions of the budget in (0, 1], the last 1");
  for (std::size_t i = 0; i < fractions.size(); ++i)
    if (!(fractions[i] > 0 && fractions[i] <= 1) || (i > 0 && !(fractions[i] > fractions[i - 1])))
      core::throw_invalid("study.fractions", core::format_value(fractions[i]), "increasing fractions of the budget in (0, 1]");
  const double evaluations = static_cast<double>(functions.size()) * static_cast<double>(algorithms.size()) * static_cast<double>(runs) *
                             static_cast<double>(budget_per_dimension) * std::accumulate(dimensions.begin(), dimensions.end(), 0.0);
  if (evaluations > 1e13) core::throw_invalid("study", core::format_value(evaluations) + " evaluations", "at most 1e13 (years of computing)");
}

StudyConfig parse_study(const std::string& text, const std::string& origin) {
  Value root = parse_toml(text, origin);
  for (const auto& [k, v] : root.as_table())
    if (k != "study") throw core::InvalidArgument(k, k + ": unknown section of a study file; a study file has one table, [study]");
  StudyConfig c;
  c.text = text;
  Section s(section_table(root.as_table(), "study"), "study");
  c.suite = s.word("suite", c.suite);
  if (c.is_tsp()) {
    c.restarts = false;
    for (const char* cec_key : {"functions", "dimensions", "budget_per_dimension"})
      if (s.find(cec_key) != nullptr)
        throw_invalid(std::string("study.") + cec_key, "given", "absent for suite \"tsplib\" (its keys: instances, budgets, data)");
    if (const Value* a = s.find("instances")) {
      if (!a->is_array()) throw_invalid("study.instances", show(*a), "an array of TSPLIB instance names");
      for (const auto& e : a->as_array()) {
        if (!e.is_string()) throw_invalid("study.instances", show(*a), "an array of TSPLIB instance names");
        c.instances.push_back(e.as_string().str);
      }
    }
    for (double b : s.numbers("budgets", {})) {
      if (!(b == std::floor(b) && b >= 1 && b <= 1e15)) throw_invalid("study.budgets", core::format_value(b), "whole numbers of moves in [1, 1e15]");
      c.budgets.push_back(static_cast<long>(b));
    }
    const std::string data = s.word("data", "data/tsplib");
    const std::filesystem::path base = std::filesystem::path(origin).parent_path();
    c.data = std::filesystem::path(data).is_absolute() || origin.empty() ? data : (base / data).lexically_normal().string();
  } else {
    for (const char* tsp_key : {"instances", "budgets", "data"})
      if (s.find(tsp_key) != nullptr) throw_invalid(std::string("study.") + tsp_key, "given", "absent for a CEC suite (suite = \"tsplib\" takes it)");
  }
  const auto whole = [&](const char* key, const std::vector<double>& v) {
    std::vector<int> out;
    for (double x : v) {
      if (!(x == std::floor(x) && std::abs(x) < 1e6)) throw_invalid(std::string("study.") + key, core::format_value(x), "whole numbers");
      out.push_back(static_cast<int>(x));
    }
    return out;
  };
  if (!c.is_tsp()) {
    c.functions = whole("functions", s.numbers("functions", {}));
    c.dimensions = whole("dimensions", s.numbers("dimensions", {10}));
  } else {
    c.dimensions.clear();
  }
  if (const Value* a = s.find("algorithms")) {
    if (!a->is_array()) throw_invalid("study.algorithms", show(*a), "an array of algorithm names");
    for (const auto& e : a->as_array()) {
      if (!e.is_string()) throw_invalid("study.algorithms", show(*a), "an array of algorithm names");
      c.algorithms.push_back(e.as_string().str);
    }
  } else {
    c.algorithms = c.is_tsp() ? default_tsp_study_algorithms() : default_study_algorithms();
  }
  c.runs = s.integer("runs", c.runs);
  if (!c.is_tsp()) c.budget_per_dimension = s.integer("budget_per_dimension", c.budget_per_dimension);
  const long seed = s.integer("seed", static_cast<long>(c.seed));
  if (seed < 0) throw_invalid("study.seed", std::to_string(seed), ">= 0");
  c.seed = static_cast<std::uint64_t>(seed);
  if (const Value* r = s.find("restarts")) {
    if (!r->is_boolean()) throw_invalid("study.restarts", show(*r), "true or false");
    c.restarts = r->as_boolean();
  }
  c.fractions = s.numbers("fractions", c.fractions);
  s.finish();
  if (c.functions.empty() && !c.is_tsp()) {
    for (const auto& suite : potentials::cec_suites())
      if (suite.name == c.suite)
        for (int f = 1; f <= suite.functions; ++f) c.functions.push_back(f);
  }
  c.check();
  return c;
}

StudyConfig load_study(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) core::throw_invalid("study_file", "\"" + core::shorten(path, 200) + "\"", "an existing regular TOML file");
  std::ifstream in(path, std::ios::binary);
  std::string text(std::size_t(1) << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return parse_study(text, path);
}

std::vector<StudyProblem> study_problems(const StudyConfig& c) {
  std::vector<StudyProblem> out;
  if (c.is_tsp()) {
    std::vector<int> cities;
    for (const auto& name : c.instances) cities.push_back(static_cast<int>(io::read_tsplib(instance_path(c, name)).size()));
    for (long b : c.budgets)
      for (std::size_t i = 0; i < c.instances.size(); ++i)
        out.push_back({static_cast<int>(i + 1), cities[i], b, c.instances[i] + "_b" + std::to_string(b), c.instances[i], io::tsplib_known_optimum(c.instances[i])});
    return out;
  }
  for (int d : c.dimensions)
    for (int f : c.functions) out.push_back({f, d, c.budget_per_dimension * d, "f" + std::to_string(f) + "_d" + std::to_string(d), "", 0});
  return out;
}

std::uint64_t cell_seed(const StudyConfig& c, const StudyProblem& p, const std::string& algorithm) {
  if (!c.is_tsp()) return cell_seed(c, p.function, p.dimension, algorithm);
  std::uint64_t h = mix(c.seed);
  h = mix(h ^ fnv1a(c.suite));
  h = mix(h ^ fnv1a(p.instance));
  h = mix(h ^ static_cast<std::uint64_t>(p.budget));
  h = mix(h ^ fnv1a(algorithm));
  return h >> 11;
}

std::uint64_t cell_seed(const StudyConfig& c, int function, int dimension, const std::string& algorithm) {
  std::uint64_t h = mix(c.seed);
  h = mix(h ^ fnv1a(c.suite));
  h = mix(h ^ static_cast<std::uint64_t>(function));
  h = mix(h ^ static_cast<std::uint64_t>(dimension));
  h = mix(h ^ fnv1a(algorithm));
  return h >> 11;  // below 2^53: exact as a double in JSON and HDF5 readers that take numbers as doubles
}

StudyCell run_cell(const StudyConfig& c, int function, int dimension, const std::string& algorithm) {
  if (c.is_tsp()) throw core::Error("study: run_cell(function, dimension) is for the CEC suites; give the StudyProblem");
  return run_cell(c, StudyProblem{function, dimension, c.budget_per_dimension * dimension, "", "", 0}, algorithm);
}

namespace {

/// A tsplib run's record from the optimizer's improvements: the gap at the checkpoints and at
/// each crossing of a level 10^(k/5), the start's gap at 0 moves.
class GapRecorder {
 public:
  GapRecorder(double optimum, double start_length, const std::vector<long>& checkpoints) : optimum_(optimum), checkpoints_(checkpoints) {
    record(0, start_length);
  }
  void record(long moves, double length) {
    const double e = (length - optimum_) / optimum_;
    while (next_ < checkpoints_.size() && checkpoints_[next_] < moves) {  // the best before this move
      at_checkpoints_.push_back(best_);
      ++next_;
    }
    best_ = e;
    const double level = e > 0 ? std::ceil(5 * std::log10(e)) : -INFINITY;
    if (level < level_) {
      level_ = level;
      run_.trace_evaluations.push_back(static_cast<double>(moves));
      run_.trace_errors.push_back(e);
    }
  }
  StudyRun finish(const particles::RunResult& r) {
    run_.final_error = (r.best - optimum_) / optimum_;  // the best tour's length, recomputed
    run_.evaluations = r.iterations;
    run_.stop = static_cast<int>(r.stop);
    run_.errors_at_fractions = at_checkpoints_;
    run_.errors_at_fractions.resize(checkpoints_.size(), run_.final_error);
    return run_;
  }

 private:
  double optimum_;
  const std::vector<long>& checkpoints_;
  std::size_t next_ = 0;
  double best_ = INFINITY, level_ = INFINITY;
  std::vector<double> at_checkpoints_;
  StudyRun run_;
};

}  // namespace

StudyCell run_cell(const StudyConfig& c, const StudyProblem& problem, const std::string& algorithm) {
  const long budget = problem.budget;
  std::vector<long> checkpoints;
  for (double q : c.fractions) checkpoints.push_back(std::max<long>(1, static_cast<long>(std::ceil(q * static_cast<double>(budget) - 1e-9))));
  const particles::OptimizerOptions o = cell_options(c, problem, algorithm);
  StudyCell cell;
  cell.function = problem.function;
  cell.dimension = problem.dimension;
  cell.budget = budget;
  cell.algorithm = algorithm;
  cell.seed = o.seed;
  particles::validate(o, c.is_tsp());
  std::unique_ptr<potentials::Objective> f;
  double f_star = 0;
  std::optional<potentials::TspInstance> instance;
  std::vector<int> start;
  potentials::TspNeighbours lists;
  if (c.is_tsp()) {
    instance.emplace(io::read_tsplib(instance_path(c, problem.instance)));
    instance->optimum = problem.optimum;
    start = instance->nearest_neighbour_tour(0);
    if (const int k = particles::neighbour_count(o); k > 0) lists = potentials::nearest_neighbours(*instance, static_cast<std::size_t>(k));
  } else {
    f = potentials::make_objective(c.suite + ":" + std::to_string(problem.function), problem.dimension);
    f_star = f->minima().front().f;
  }
  const auto block = core::mpi::block_of(c.runs, core::mpi::rank(), core::mpi::size());
  std::vector<StudyRun> mine(static_cast<std::size_t>(block.last - block.first));
  std::vector<double> seconds(mine.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic) num_threads(core::thread_count())
  for (long r = block.first; r < block.last; ++r) {
    try {
      const auto t0 = std::chrono::steady_clock::now();
      if (instance) {
        GapRecorder gaps(problem.optimum, instance->tour_length(start), checkpoints);
        const auto result = particles::run_once(*instance, o, static_cast<std::uint64_t>(r), start, lists.k > 0 ? &lists : nullptr,
                                                [&](long moves, double length) { gaps.record(moves, length); });
        mine[static_cast<std::size_t>(r - block.first)] = gaps.finish(result);
      } else {
        CountingObjective counted(*f, f_star, checkpoints);
        const particles::ContinuousProblem p(counted);
        const auto result = particles::run_once(p, o, static_cast<std::uint64_t>(r));
        mine[static_cast<std::size_t>(r - block.first)] = counted.finish(result);
      }
      seconds[static_cast<std::size_t>(r - block.first)] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  cell.wall_seconds = std::accumulate(seconds.begin(), seconds.end(), 0.0);
  if (!core::mpi::active()) {
    if (error) std::rethrow_exception(error);
    cell.runs = std::move(mine);
    return cell;
  }
  const double failed = core::mpi::allreduce_sum(error ? 1.0 : 0.0);
  if (error) std::rethrow_exception(error);
  if (failed > 0) throw core::Error("study: a run failed on another MPI rank (its rank reports why)");
  cell.wall_seconds = core::mpi::allreduce_sum(cell.wall_seconds);
  std::vector<double> packed;
  for (const auto& r : mine) pack(r, packed);
  const auto everything = core::mpi::allgather(packed);
  std::size_t at = 0;
  if (!unpack(everything, at, c.runs, cell.runs)) throw core::Error("study: the gathered runs are inconsistent");
  return cell;
}

std::string study_json_path(const std::string& output) {
  const std::filesystem::path p(output);
  return (p.extension() == ".h5" ? p.parent_path() / p.stem() : p).string() + ".json";
}

std::vector<StudyCell> run_study(const StudyConfig& c, const std::string& output, const std::function<void(const StudyProgress&)>& progress) {
  c.check();
  if (output.empty()) core::throw_invalid("output", "missing", "an HDF5 file for the study's results (-o)");
  const std::string partial = output + ".partial", json = study_json_path(output);
  for (const auto& path : {output, json, partial, core::OutputLock::lock_path_of(output)}) core::require_replaceable("output", path);
  std::optional<core::OutputLock> claim;
  core::mpi::on_root([&] { claim.emplace("output", output); });
  // the cells already done (rank 0 reads; every rank learns which)
  std::vector<StudyCell> done;
  core::mpi::on_root([&] { done = read_partial(partial, c); });
  std::vector<double> done_keys;
  for (const auto& cell : done)
    done_keys.insert(done_keys.end(), {double(cell.function), double(cell.dimension), double(cell.budget), double(fnv1a(cell.algorithm) >> 11)});
  if (core::mpi::active()) core::mpi::broadcast(done_keys);
  auto is_done = [&](const StudyProblem& p, const std::string& a) {
    for (std::size_t i = 0; i + 3 < done_keys.size(); i += 4)
      if (done_keys[i] == p.function && done_keys[i + 1] == p.dimension && done_keys[i + 2] == double(p.budget) && done_keys[i + 3] == double(fnv1a(a) >> 11))
        return true;
    return false;
  };
  const auto problems = study_problems(c);
  core::mpi::on_root([&] {  // rewrite the partial file without a damaged tail, so appends stay readable
    std::string bytes = frame(identity_of(c));
    for (const auto& cell : done) bytes += frame(cell_payload(cell));
    append_synced(partial, bytes, true);
  });
  StudyProgress pr;
  pr.cells_total = static_cast<long>(problems.size() * c.algorithms.size());
  pr.cells_resumed = static_cast<long>(done_keys.size() / 4);
  pr.cells_done = pr.cells_resumed;
  pr.runs_per_cell = c.runs;
  double evaluations = 0, remaining = 0;
  for (const auto& p : problems)
    for (const auto& a : c.algorithms)
      if (!is_done(p, a)) remaining += static_cast<double>(p.budget * c.runs);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<StudyCell> fresh;
  for (const auto& p : problems)
      for (const auto& a : c.algorithms) {
        if (is_done(p, a)) continue;
        StudyCell cell = run_cell(c, p, a);
        core::mpi::on_root([&] { append_synced(partial, frame(cell_payload(cell)), false); });
        const double cell_evals = static_cast<double>(p.budget * c.runs);
        evaluations += cell_evals;
        remaining -= cell_evals;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++pr.cells_done;
        pr.evaluations_per_second = evaluations / std::max(elapsed, 1e-9);
        pr.seconds_left = remaining / std::max(pr.evaluations_per_second, 1e-9);
        pr.last_cell = c.is_tsp() ? p.instance + " budget " + std::to_string(p.budget) + " " + a
                                  : c.suite + " f" + std::to_string(p.function) + " D=" + std::to_string(p.dimension) + " " + a;
        if (progress) core::mpi::on_root([&] { progress(pr); });
        fresh.push_back(std::move(cell));
      }
  // in the study's order, done and fresh together
  std::vector<StudyCell> cells;
  for (const auto& p : problems)
      for (const auto& a : c.algorithms) {
        auto match = [&](const StudyCell& x) { return x.function == p.function && x.dimension == p.dimension && x.budget == p.budget && x.algorithm == a; };
        if (auto it = std::find_if(fresh.begin(), fresh.end(), match); it != fresh.end())
          cells.push_back(std::move(*it));
        else if (auto jt = std::find_if(done.begin(), done.end(), match); jt != done.end())
          cells.push_back(std::move(*jt));
      }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::mpi::on_root([&] {
    write_outputs(c, cells, output, wall);
    std::error_code ec;
    std::filesystem::remove(partial, ec);
  });
  return cells;
}

}  // namespace qtzflow::scenario
