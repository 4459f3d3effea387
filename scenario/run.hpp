// qtzflow/scenario/run.hpp — the run loop: a configured scenario (any engine, 1–3D) advanced to
// its end time with HDF5 snapshots, observers attached from outside, clean stops and restarts.
//
//   problem = grid + objective + schedule + initial state (problem.hpp)
//   engine  = the configured section's adapter (engines.hpp)
//   loop    = advance in chunks that end on multiples of output.every, a snapshot after each
//             (plus one at the start): so a restart from any snapshot repeats the uninterrupted
//             run's chunks exactly and its fields are bit-identical.
// Observers (a progress bar, a logger, a notebook callback) see every snapshot and the
// configuration warnings; the loop prints nothing itself.  A stop request (a signal, Ctrl-C in
// Python) is looked for every `stop_check_steps` steps (about 4·10⁶ point updates, tens of
// milliseconds): the run then writes a snapshot at the step it reached and returns `stopped`.
// Those checks are chunk boundaries too, a function of the step alone, so a restart from such a
// snapshot is still bit-identical to the uninterrupted run.  Under MPI the ranks agree on the
// request at each check (one reduction), so that all stop at the same step and write together.
// A non-finite field (NumericalError) ends the run too: the snapshots before it stay in the
// file, and the outcome says why.
// Bad input (an unreadable restart file, a restart of another engine or grid, an output name
// that differs from the restarted file) throws core::InvalidArgument before anything is written.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "scenario/config.hpp"

namespace qtzflow::scenario {

/// Where a run stands, as observers see it.
struct RunProgress {
  long step = 0, total_steps = 0;
  double time = 0;
  std::string output_path;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// Advice about the configuration (cell Péclet number, the imaginary-time floor), before the first step.
  virtual void on_warning(const std::string& /*message*/) {}
  /// The run continues an earlier output (restart) from this point.
  virtual void on_restart(const RunProgress&) {}
  /// After every snapshot but the initial one.
  virtual void on_snapshot(const RunProgress&) {}
};

struct RunOptions {
  std::string output;   ///< overrides output.path (empty: output.path)
  std::string restart;  ///< continue this output from its last snapshot (empty: a new run)
  std::vector<RunObserver*> observers;
  /// A stop request: returns its signal number (SIGINT, SIGTERM), or 0 to go on; called between
  /// steps (every stop_check_steps of them) on every rank.  Empty: never stop.
  std::function<int()> stop_requested;
};

struct RunOutcome {
  enum class Status { completed, stopped, failed };
  Status status = Status::completed;
  int stop_value = 0;         ///< the stop flag's value when stopped (the signal number)
  std::string error;          ///< failed: the numerical failure
  long step = 0;              ///< the last snapshot's step
  double time = 0;            ///< the engine's time at the end
  std::size_t snapshots = 0;  ///< snapshots in the output
  std::string output_path, xdmf_path;
};

/// Runs the configured scenario.
RunOutcome run(const RunConfig& config, const RunOptions& options = {});

/// The steps between two looks for a stop request (core::steps_per_stop_check of the grid's
/// points, or of the particle moves per step): a function of the configuration alone.
long stop_check_steps(const RunConfig& config);

}  // namespace qtzflow::scenario
