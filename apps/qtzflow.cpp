// qtzflow — the command line.  `qtzflow run [CONFIG]`, `qtzflow info`; `--help` everywhere.
// Exit codes: 0 success, 1 run-time failure, 2 bad input (the message names the key or the
// argument and the accepted range), 128 + signal after a clean stop on SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "apps/run.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "grids/fft.hpp"
#include "io/config.hpp"
#include "io/hdf5.hpp"

using namespace qtzflow;

namespace {

void print_info() {
  std::printf("qtzflow %s (git %s)\n", QTZFLOW_VERSION, QTZFLOW_GIT_REVISION);
  std::printf("  compiler   GCC %s, C++%ld, build %s, flags: %s\n", __VERSION__, __cplusplus / 100 % 100, QTZFLOW_BUILD_TYPE, QTZFLOW_BUILD_OPTIONS);
  std::printf("  FFTW       %s (OpenMP threads)\n", grids::fftw_version().c_str());
  std::printf("  HDF5       %s\n", io::hdf5_version().c_str());
  std::printf("  OpenMP     %d\n", _OPENMP);
  std::printf("  threads    %d (set with --threads or OMP_NUM_THREADS)\n", core::thread_count());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"qtzflow: the density picture of quantization-based optimization (Schrödinger engine)"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "threads for OpenMP loops and FFTW (default: OMP_NUM_THREADS or all cores)")->check(CLI::PositiveNumber);

  auto* run = app.add_subcommand("run", "run a scenario described by a TOML file (no file: the built-in default scenario)");
  std::string config_path;
  std::vector<std::string> sets;
  apps::RunOptions options;
  run->add_option("CONFIG", config_path, "TOML configuration (keys: docs/config.md)");
  run->add_option("--set", sets, "override a key: --set section.key=value (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("-o,--output", options.output, "HDF5 output file (overrides output.path)");
  run->add_option("--restart", options.restart, "continue this output file from its last snapshot");
  run->add_flag("-q,--quiet", options.quiet, "no progress bar or summary on stderr");
  bool print_config = false;
  run->add_flag("--print-config", print_config, "print the effective configuration (defaults filled in) and exit");

  auto* info = app.add_subcommand("info", "version, compiler, FFTW/HDF5/OpenMP versions and threads");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (threads > 0) core::set_thread_count(threads);
    if (*info) {
      print_info();
      return 0;
    }
    const bool builtin = config_path.empty();
    const io::RunConfig config = builtin ? io::parse_config(io::default_config_text(), sets, "built-in default scenario")
                                         : io::load_config(config_path, sets);
    if (print_config) {
      std::printf("%s", config.text.c_str());
      return 0;
    }
    if (builtin && !options.quiet)
      std::fprintf(stderr, "qtzflow: no CONFIG given: running the built-in default scenario (2D tilted double well: "
                           "relaxation in the shallow well, then real-time tunneling)\n");
    return apps::run(config, options);
  } catch (const core::InvalidArgument& e) {
    std::fprintf(stderr, "qtzflow: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qtzflow: failed: %s\n", e.what());
    return 1;
  }
}
