// qtzflow — the command line.  `qtzflow run [CONFIG]`, `qtzflow optimize …`, `qtzflow info`; `--help` everywhere.
// Exit codes: 0 success, 1 run-time failure, 2 bad input (the message names the key or the
// argument and the accepted range), 128 + signal after a clean stop on SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "apps/commands.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "core/version.hpp"
#include "grids/fft.hpp"
#include "io/hdf5.hpp"
#include "particles/optimizers.hpp"
#include "potentials/objective.hpp"
#include "scenario/config.hpp"
#include "verify/verify.hpp"

using namespace qtzflow;

namespace {

void print_info() {
  std::printf("qtzflow %s (git %s)\n", core::version, std::string(core::git_revision()).c_str());
  std::printf("  compiler   GCC %s, C++%ld, build %s, flags: %s\n", __VERSION__, __cplusplus / 100 % 100, std::string(core::build_type()).c_str(),
              std::string(core::build_options()).c_str());
  std::printf("  FFTW       %s (OpenMP threads)\n", grids::fftw_version().c_str());
  std::printf("  HDF5       %s\n", io::hdf5_version().c_str());
  std::printf("  OpenMP     %d\n", _OPENMP);
  std::printf("  threads    %d (set with --threads or OMP_NUM_THREADS)\n", core::thread_count());
  std::printf("  waiting    %s\n", core::wait_policy_description().c_str());
  std::printf("  MPI        %s, %d rank%s (qtzflow optimize divides its runs among ranks)\n",
              core::mpi::built_with_mpi() ? "built with MPI" : "built without MPI", core::mpi::size(), core::mpi::size() == 1 ? "" : "s");
}

/// The built-in objectives as docs/objectives.md lists them: formula, parameters, dimensions,
/// domain and global minimum (in the smallest dimension the objective accepts).
void print_objectives() {
  std::printf("| name | f(x) | parameters (default) | d | domain | global minimum |\n|---|---|---|---|---|---|\n");
  for (const auto& info : potentials::objective_catalog()) {
    const int d = std::max(info.min_dim, 1);
    const auto f = potentials::make_objective(info.name, d);
    std::string params, dims, minimum = "-";
    for (const auto& [k, v] : info.defaults) params += (params.empty() ? "" : ", ") + k + " = " + core::format_value(v.at(0));
    dims = info.max_dim > (1 << 19)
               ? (info.min_dim <= 1 ? "any" : ">= " + std::to_string(info.min_dim))
               : (info.min_dim == info.max_dim ? std::to_string(info.min_dim) : std::to_string(info.min_dim) + " .. " + std::to_string(info.max_dim));
    if (!f->minima().empty()) {
      const auto& m = f->minima().front();
      std::string x;
      for (double c : m.x) x += (x.empty() ? "" : ", ") + core::format_value(c);
      minimum = core::format_value(m.f) + " at (" + x + ")" + (d > 1 || info.max_dim > 1 ? " (d = " + std::to_string(d) + ")" : "");
    }
    std::printf("| %s | %s | %s | %s | [%s, %s] per axis | %s |\n", info.name.c_str(), info.formula.c_str(), params.empty() ? "-" : params.c_str(),
                dims.c_str(), core::format_value(f->lower()[0]).c_str(), core::format_value(f->upper()[0]).c_str(), minimum.c_str());
  }
  std::printf(
      "| expression | your formula: [objective] name = \"expression\", f = \"...\" (or optimize --expression) | named constants | any | "
      "domain = [lo, hi] or the grid's box | minima = [[...], ...] |\n"
      "| sampled | your samples on the run's grid: [objective] name = \"sampled\", file = \"f.h5\", dataset = \"f\" | - | 1-3 | the grid's box | "
      "minima = [[...], ...] |\n");
}

/// The integer checks of the flags (decimal digits within the type, before CLI11 converts).
struct IntegerRanges {
  CLI::Validator seed_range, long_range, int_range;
};

/// `qtzflow optimize`'s flags into `oa`; `settings` pairs each algorithm-setting flag with its
/// AlgorithmSettings member (what particles::unused_setting judges once the flags are parsed).
CLI::App* add_optimize(CLI::App& app, apps::OptimizeArgs& oa, const IntegerRanges& v, std::vector<std::pair<CLI::Option*, std::string>>& settings) {
  auto setting = [&](const char* name, CLI::Option* o) { settings.emplace_back(o, name); };
  auto* opt = app.add_subcommand("optimize",
                                 "ensembles of optimizer runs (QTZ, its variants, SA, QIA, Langevin, PIMC, iterated local search, pagmo's SA, CMA-ES, DE, SaDE, "
                                 "xNES, PSO) on an "
                                 "objective or a TSP instance: a summary table or JSON, per-run results in HDF5");
  auto& rq = oa.request;
  auto* obj_opt = opt->add_option("--objective", rq.objective, "built-in objective (see docs/objectives.md)");
  auto* expr_opt = opt->add_option("--expression", rq.expression,
                                   "your own objective as a formula in x, y, z (or x0, x1, ...) with --param constants, on the box "
                                   "--lower/--upper (docs/objectives.md)")
                       ->excludes(obj_opt);
  opt->add_option("--minimum", oa.minima, "a known minimum of the --expression, x[,y,...] (repeatable; the lowest sets success)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  opt->add_option("--tsp", rq.tsp, "TSPLIB file (EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT)")->excludes(obj_opt)->excludes(expr_opt);
  opt->add_option("--dim", rq.dim, "dimension of the objective")->default_val(1)->check(v.int_range);
  opt->add_option("--param", oa.params, "objective parameter name=value[,value...] (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  opt->add_option("--lower", rq.lower, "search box lower bounds (1 value or one per axis; default: the objective's domain)")->delimiter(',');
  opt->add_option("--upper", rq.upper, "search box upper bounds")->delimiter(',');
  opt->add_flag("--unrounded", rq.unrounded, "read EUC_2D distances unrounded (the QTZ authors' convention for their instances)");
  opt->add_option("--optimum", rq.optimum,
                  "known optimal tour length (default: the shipped table data/tsplib/optima.txt and dantzig42, gr120, ulysses16/22, by the "
                  "instance's NAME)");
  opt->add_option("--algorithm", oa.algorithm, "one of " + core::quoted_names<particles::Algorithm>())->capture_default_str();
  opt->add_option("--runs", rq.runs, "independent runs")->capture_default_str()->check(v.long_range);
  opt->add_option("--budget", rq.options.budget, "candidate evaluations per run (langevin: steps)")->capture_default_str()->check(v.long_range);
  opt->add_option("--seed", rq.options.seed, "seed: fixes every result, for any thread count")->capture_default_str()->check(v.seed_range);
  opt->add_option("--tolerance", rq.options.tolerance, "success: best <= f* + tolerance (TSP: <= optimum * (1 + tolerance))")
      ->default_str("the problem's: 1e-8 on the CEC suites, 1e-3 otherwise");
  setting("h_schedule", opt->add_option("--h-schedule", oa.h_schedule,
                  "qtz: Q_p doubles per acceptance (acceptances, the authors'), grows as eta*log2(t+2) "
                  "(logarithmic), or stays at --qp (fixed)")
      ->capture_default_str());
  setting("qp", opt->add_option("--qp", oa.settings.qp, "fixed resolution Q_p (with --h-schedule fixed)")->capture_default_str());
  setting("delta", opt->add_option("--delta", oa.settings.delta, "local proposal size (qtz-local, --local)")->capture_default_str());
  setting("eta", opt->add_option("--eta", oa.settings.eta, "qtz: Q_p = eta 2^h (default 0: the authors' power of 2 above |f(x0)|)")->capture_default_str());
  setting("sa_T0", opt->add_option("--sa-T0", oa.settings.sa_T0, "sa, qia: initial temperature (the authors': 1000; sa-nl fits its own)")->capture_default_str());
  setting("sa_cooling", opt->add_option("--sa-cooling", oa.settings.sa_cooling, "sa, qia: T <- cooling T per iteration (the authors': 0.9995)")->capture_default_str());
  setting("local", opt->add_flag("--local", oa.settings.local, "local proposals x + delta*N(0,1) for qtz, qtz-dither, sa, qia"));
  setting("dt", opt->add_option("--dt", oa.settings.dt, "langevin time step")->capture_default_str());
  setting("schedule", opt->add_option("--T", oa.T, "langevin temperature (constant) or c (logarithmic)")->default_val(0.1)->check(CLI::Number));
  setting("schedule", opt->add_option("--schedule", oa.schedule, "langevin: constant or logarithmic")->default_val("constant"));
  setting("replicas", opt->add_option("--replicas", oa.settings.replicas, "pimc: Trotter replicas P")->capture_default_str()->check(v.int_range));
  setting("pimc_T", opt->add_option("--pimc-T", oa.settings.pimc_T, "pimc temperature (0: Martonak's 10/3 scaled by the mean edge length)")->capture_default_str());
  setting("pimc_gamma0", opt->add_option("--pimc-gamma0", oa.settings.pimc_gamma0, "pimc initial transverse field (0: 300, scaled likewise)")->capture_default_str());
  setting("neighbours", opt->add_option("--neighbours", oa.settings.neighbours,
                                        "qtz-nl, qtz-dither-nl, sa-nl, ils (TSP): K nearest cities in each candidate list (1 ... n-1)")
                            ->capture_default_str()
                            ->check(v.int_range));
  setting("population", opt->add_option("--population", oa.settings.population,
                                        "cmaes, de1220, sade, xnes, pso: population size (0: cmaes/xnes 4+3ln(d), de1220/sade max(20, 10d), pso 40)")
                            ->capture_default_str()
                            ->check(v.int_range));
  opt->add_flag("--restarts", rq.options.restarts,
                "start again from a new random point when the algorithm stops before the budget (cmaes: doubling its population)");
  opt->add_flag("--json", oa.json, "print JSON instead of the table");
  opt->add_option("-o,--output", oa.output, "write per-run results to this HDF5 file");
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  core::choose_wait_policy(argv);  // before anything else: it may re-execute the program (core/parallel.hpp)
  const core::mpi::Session mpi(argc, argv);  // MPI only under mpirun/srun (core/mpi.hpp)
  if (core::mpi::launched_by_mpirun() && !core::mpi::built_with_mpi()) {
    std::fprintf(stderr,
                 "qtzflow: failed: started by mpirun, but this qtzflow was built without MPI (each process would do the whole job); "
                 "rebuild with Open MPI installed (libopenmpi-dev) or run without mpirun\n");
    return 1;
  }
  if (core::mpi::rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) return 1;  // rank 0 prints for all
  CLI::App app{"qtzflow: the density picture of quantization-based optimization (Schrodinger, Fokker-Planck and particle engines)"};
  app.require_subcommand(1);
  // Integers are checked as text before CLI11 converts them: "-1" would wrap to 2^64 - 1 in an
  // unsigned option, and a number beyond the type saturates silently (two different seeds
  // would give the same results).  Decimal digits only, within [0, most].
  auto integer_at_most = [](unsigned long long most, const char* name) {
    return CLI::Validator(
        [most](std::string& v) -> std::string {
          unsigned long long x = 0;
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
          if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || ec != std::errc() || end != v.data() + v.size() || x > most)
            return "must be an integer in [0, " + std::to_string(most) + "], got " + core::shorten(v, 40);
          return {};
        },
        name);
  };
  const auto seed_range = integer_at_most(std::numeric_limits<std::uint64_t>::max(), "INT in [0, 2^64-1]");
  const auto long_range = integer_at_most(static_cast<unsigned long long>(std::numeric_limits<long>::max()), "INT in [0, 2^63-1]");
  const auto int_range = integer_at_most(static_cast<unsigned long long>(std::numeric_limits<int>::max()), "INT in [0, 2^31-1]");
  int threads = 0;
  app.add_option("--threads", threads, "threads for OpenMP loops and FFTW (default: OMP_NUM_THREADS or all cores)")->check(CLI::PositiveNumber);
  bool no_wisdom_cache = false;
  app.add_flag("--no-wisdom-cache", no_wisdom_cache,
               "plan FFTs afresh, without reading or writing the FFTW wisdom cache ($QTZFLOW_WISDOM_DIR, else ~/.cache/qtzflow/fftw)");

  auto* run = app.add_subcommand("run", "run a scenario described by a TOML file (no file: the built-in default scenario)");
  std::string config_path;
  std::vector<std::string> sets;
  apps::RunArgs options;
  run->add_option("CONFIG", config_path, "TOML configuration (keys: docs/config.md)");
  run->add_option("--set", sets, "override a key: --set section.key=value (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  std::vector<std::string> unsets;
  run->add_option("--unset", unsets, "remove a key: --unset section.key (repeatable; before any --set)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("-o,--output", options.output, "HDF5 output file (overrides output.path)");
  run->add_option("--restart", options.restart, "continue this output file from its last snapshot");
  run->add_flag("-q,--quiet", options.quiet, "no progress bar or summary on stderr");
  bool print_config = false;
  run->add_flag("--print-config", print_config, "print the effective configuration (defaults filled in) and exit");

  auto* info = app.add_subcommand("info", "version, compiler, FFTW/HDF5/OpenMP versions and threads");
  bool list_objectives = false;
  info->add_flag("--objectives", list_objectives, "list the built-in objectives: formula, parameters, dimensions, domain, global minimum");

  auto* ver = app.add_subcommand("verify",
                                 "check the QTZ theory numerically with all three engines (V1-V11): HDF5 data, a summary "
                                 "table (Markdown and JSON); exit 1 if any check fails");
  verify::VerifyOptions vo;
  ver->add_flag("--quick", vo.quick, "smaller problems: under a minute on 2 cores");
  ver->add_option("--only", vo.only, "run one experiment (v1 ... v11 or its full name)");
  ver->add_option("-o,--output", vo.dir, "directory for the data and the summary")->default_val("qtzflow_verify");
  ver->add_flag("-q,--quiet", vo.quiet, "no progress on stderr");

  auto* spec = app.add_subcommand("spectrum",
                                  "the K lowest eigenvalues of the FP generator (lambda_k) and of H_T (E_k, imaginary time) "
                                  "for a configuration's grid and objective, per temperature");
  apps::SpectrumArgs sa;
  spec->add_option("CONFIG", sa.config_path, "TOML configuration (its grid, objective and schedule)")->required();
  spec->add_option("--set", sa.sets, "override a key, key=value (repeatable)")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  spec->add_option("--T", sa.temperatures, "temperatures, comma-separated (default: the schedule's T(0))")->delimiter(',')->check(CLI::Number);  // "" is no temperature (CLI11 would read it as 0)
  spec->add_option("-k,--count", sa.count, "eigenvalues per temperature (2 .. 16)")->default_val(4)->check(int_range);
  spec->add_option("--dt", sa.dt, "imaginary-time step (Richardson with dt/2)")->default_val(1e-3);
  spec->add_option("--only", sa.only, "fokker_planck or schrodinger (default: both)");
  spec->add_flag("--json", sa.json, "JSON instead of the table");
  spec->add_option("-o,--output", sa.output, "also write the eigenvalues to this HDF5 file");
  spec->add_flag("-q,--quiet", sa.quiet, "no progress on stderr");

  auto* stu = app.add_subcommand("study",
                                 "a benchmark study: algorithms x CEC functions x dimensions x runs at 10^4 D evaluations, errors at the "
                                 "CEC fractions and per improvement, in HDF5 and JSON; resumes where it stopped (docs/benchmarks.md)");
  apps::StudyArgs sta;
  stu->add_option("STUDY", sta.study_path, "TOML study file ([study]: suite, functions, dimensions, algorithms, runs, ...)")->required();
  stu->add_option("-o,--output", sta.output, "HDF5 results (the JSON summary beside it)")->required();
  stu->add_flag("-q,--quiet", sta.quiet, "no progress on stderr");

  apps::OptimizeArgs oa;
  std::vector<std::pair<CLI::Option*, std::string>> settings;
  auto* opt = add_optimize(app, oa, {seed_range, long_range, int_range}, settings);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (threads > 0) core::set_thread_count(threads);
    grids::set_wisdom_cache(no_wisdom_cache ? std::string() : grids::default_wisdom_cache());
    if (*info) {
      if (list_objectives)
        print_objectives();
      else
        print_info();
      return 0;
    }
    if (*opt) {
      // the algorithm settings whose flags were given: one the algorithm does not use is refused
      for (const auto& [flag, setting] : settings)
        if (flag->count() > 0) oa.given.push_back(setting);
      return apps::optimize_command(oa);
    }  // runs divided among the ranks
    if (*stu) return apps::study_command(sta);  // each cell's runs divided among the ranks
    if (core::mpi::active() && (*ver || *spec))
      core::throw_invalid("mpirun -n", std::to_string(core::mpi::size()) + " ranks for qtzflow " + (*ver ? "verify" : "spectrum"),
                          "1 rank: in this version qtzflow optimize and [schrodinger] runs divide their work among MPI ranks");
    if (*ver) return verify::run_verify(vo);
    if (*spec) return apps::spectrum_command(sa);
    const bool builtin = config_path.empty();
    for (auto it = unsets.rbegin(); it != unsets.rend(); ++it) sets.insert(sets.begin(), scenario::unset_override(*it));
    const scenario::RunConfig config = builtin ? scenario::parse_config(scenario::default_config_text(), sets, "built-in default scenario")
                                               : scenario::load_config(config_path, sets);
    if (print_config) {
      std::printf("%s", config.text.c_str());
      return 0;
    }
    if (core::mpi::active() && config.grid.dim() < 2 && !std::holds_alternative<scenario::ParticlesConfig>(config.engine))
      core::throw_invalid("mpirun -n", std::to_string(core::mpi::size()) + " ranks for a 1D grid",
                          "1 rank: 1D grids are not divided among MPI ranks (slabs need 2D or 3D grids; a 1D grid fits one node)");
    if (builtin && !options.quiet && core::mpi::rank() == 0)
      std::fprintf(stderr,
                   "qtzflow: no CONFIG given: running the built-in default scenario (2D tilted double well: "
                   "relaxation in the shallow well, then real-time tunneling)\n");
    return apps::run_command(config, options);
  } catch (const core::InvalidArgument& e) {
    // library keys that the command line sets with a flag of its own
    static const std::map<std::string, std::string> flags{
        {"override", "--set"}, {"unset", "--unset"}, {"config_file", "CONFIG"}, {"only", "--only"}, {"dir", "-o"}, {"threads", "--threads"}};
    try {
      apps::rethrow_as_flag(e, flags);
    } catch (const core::InvalidArgument& named) {
      if (core::mpi::rank() == 0) std::fprintf(stderr, "qtzflow: error: %s\n", named.what());  // every rank saw the same input
    }
    return 2;
  } catch (const std::exception& e) {
    if (core::mpi::active()) {
      std::fprintf(stderr, "qtzflow: failed on rank %d: %s\n", core::mpi::rank(), e.what());
      core::mpi::abort_all(1);  // the other ranks may be waiting in a collective call
    }
    std::fprintf(stderr, "qtzflow: failed: %s\n", e.what());
    return 1;
  }
}
