// qtzflow/apps/commands.hpp — the subcommands of the qtzflow CLI, each a thin layer: command-line
// arguments in, a call into scenario/ or verify/, messages and an exit code out.
//
// Exit codes: 0 success; 1 run-time failure (NaN/Inf in a field, an I/O error: the snapshots
// written before stay in the file); 2 bad input (reported by main from core::InvalidArgument,
// whose message names the key or argument and the accepted range); 128 + signal number after a
// clean stop on SIGINT (130) or SIGTERM (143), a final snapshot written first.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "scenario/config.hpp"
#include "scenario/optimize.hpp"
#include "scenario/spectrum.hpp"

namespace qtzflow::apps {

/// `qtzflow run`: runs the scenario with a progress bar (on a terminal), stderr messages and
/// clean stops on SIGINT/SIGTERM; returns the exit code.
struct RunArgs {
  std::string output;   ///< -o
  std::string restart;  ///< --restart
  bool quiet = false;
};
int run_command(const scenario::RunConfig& config, const RunArgs& args);

/// `qtzflow optimize`: the study's table or JSON on stdout, results in HDF5 with -o.
struct OptimizeArgs {
  scenario::OptimizeRequest request;
  std::vector<std::string> params;  ///< --param name=value[,value...]
  std::vector<std::string> minima;  ///< --minimum x[,y,...]
  std::string algorithm = "qtz";
  particles::AlgorithmSettings settings;                                     ///< the flags' defaults are its members'
  std::string h_schedule{core::name_of(particles::AlgorithmSettings{}.h_schedule)};  ///< qtz: kQpRuleNames
  double T = 0.1;                     ///< langevin: T (constant) or c (logarithmic)
  std::vector<std::string> given;     ///< the AlgorithmSettings members whose flags were given
  std::string schedule = "constant";  ///< langevin: constant | logarithmic
  bool json = false;
  std::string output;
};
int optimize_command(OptimizeArgs args);

/// `qtzflow spectrum`: λ_k of the FP generator and E_k of H_T per temperature, as a table or
/// JSON on stdout and in HDF5 with -o.
struct SpectrumArgs {
  std::string config_path;
  std::vector<std::string> sets;  ///< --set overrides
  std::vector<double> temperatures;
  int count = 4;
  double dt = 1e-3;
  std::string only;  ///< "", fokker_planck, schrodinger
  bool json = false;
  std::string output;
  bool quiet = false;  ///< no progress lines on stderr
};
int spectrum_command(const SpectrumArgs& args);

/// `qtzflow study STUDY.toml -o OUT.h5`: a benchmark study (scenario/study.hpp), resumable;
/// progress on stderr.
struct StudyArgs {
  std::string study_path;
  std::string output;
  bool quiet = false;
};
int study_command(const StudyArgs& args);

/// Re-raises a library InvalidArgument under the command-line flag that set its key
/// (e.g. "budget" -> "--budget"), so the message names what the user typed.
[[noreturn]] void rethrow_as_flag(const core::InvalidArgument& e, const std::map<std::string, std::string>& flags);

}  // namespace qtzflow::apps
