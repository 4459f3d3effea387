// qtzflow/apps/run.hpp — `qtzflow run`: a configured run of the Schrödinger engine with HDF5
// snapshots, progress on stderr, clean stops on SIGINT/SIGTERM and restarts.
//
// Exit codes: 0 done; 1 run-time failure (NaN/Inf in a field, I/O error: the snapshots written
// before stay in the file); 2 bad input is reported by the caller from core::InvalidArgument;
// 128 + signal number when stopped by SIGINT (130) or SIGTERM (143) after a final snapshot.
#pragma once

#include <string>

#include "io/config.hpp"

namespace qtzflow::apps {

struct RunOptions {
  std::string output;   ///< -o: overrides output.path
  std::string restart;  ///< --restart: continue this output from its last snapshot
  bool quiet = false;
};

/// Runs the configured scenario; returns the exit code.
int run(const io::RunConfig& config, const RunOptions& options);

}  // namespace qtzflow::apps
