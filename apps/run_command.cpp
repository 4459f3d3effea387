#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "apps/commands.hpp"
#include "core/mpi.hpp"
#include "scenario/run.hpp"

namespace qtzflow::apps {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

/// SIGINT and SIGTERM recorded (not acted on) while the object lives: the run looks at the
/// record between steps, writes a snapshot and stops.  A second signal of either kind ends the
/// process at once (the default action), for a user who will not wait.  Under mpirun, Open MPI
/// forwards SIGTERM to every rank and SIGKILLs them odls_base_sigkill_timeout seconds later
/// (1 s by default): docs/developing.md, "Under MPI", says how to allow the final snapshot time.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;  // the second signal takes the default action
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

/// Messages on stderr and a one-line progress bar with ETA (only when stderr is a terminal).
class TerminalObserver : public scenario::RunObserver {
 public:
  explicit TerminalObserver(bool quiet) : quiet_(quiet), bar_(!quiet && isatty(STDERR_FILENO)), start_(clock::now()) {}
  void on_warning(const std::string& m) override { std::fprintf(stderr, "qtzflow: warning: %s\n", m.c_str()); }
  void on_restart(const scenario::RunProgress& p) override {
    if (!quiet_) std::fprintf(stderr, "qtzflow: restarting from %s, iteration %ld, t = %g\n", p.output_path.c_str(), p.step, p.time);
  }
  void on_snapshot(const scenario::RunProgress& p) override {
    if (!bar_) return;
    const double frac = p.total_steps > 0 ? static_cast<double>(p.step) / static_cast<double>(p.total_steps) : 1.0;
    const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%-*s] %3.0f%%  t = %-10.4g ETA %5.0f s ", width, std::string(static_cast<std::size_t>(filled), '#').c_str(), 100 * frac,
                 p.time, eta);
    std::fflush(stderr);
    drawn_ = true;
  }
  void end_line() {
    if (drawn_) std::fprintf(stderr, "\n");
  }

 private:
  using clock = std::chrono::steady_clock;
  bool quiet_, bar_, drawn_ = false;
  clock::time_point start_;
};

}  // namespace

int run_command(const scenario::RunConfig& config, const RunArgs& args) {
  const bool speaks = core::mpi::rank() == 0;  // under mpirun rank 0 reports for all
  TerminalObserver terminal(args.quiet || !speaks);
  scenario::RunOptions opt;
  opt.output = args.output;
  opt.restart = args.restart;
  opt.observers = {&terminal};
  opt.stop_requested = [] { return static_cast<int>(g_stop_signal); };
  scenario::RunOutcome out;
  try {
    const StopSignals signals;
    out = scenario::run(config, opt);
  } catch (const core::InvalidArgument& e) {
    rethrow_as_flag(e, {{"restart", "--restart"}, {"output", "-o"}});
  }
  terminal.end_line();
  switch (out.status) {
    case scenario::RunOutcome::Status::failed:
      if (speaks)
        std::fprintf(stderr, "qtzflow: run stopped: %s\nqtzflow: the last good snapshot (iteration %ld) is in %s\n", out.error.c_str(), out.step,
                     out.output_path.c_str());
      return 1;
    case scenario::RunOutcome::Status::stopped:
      if (speaks)
        std::fprintf(stderr,
                     out.snapshots > 0 ? "qtzflow: stopped by signal %d after a final snapshot at iteration %ld (t = %g) in %s\n"
                                       : "qtzflow: stopped by signal %d before the first step (iteration %ld, t = %g); nothing written to %s\n",
                     out.stop_value, out.step, out.time, out.output_path.c_str());
      return 128 + out.stop_value;
    case scenario::RunOutcome::Status::completed:
      if (!args.quiet && speaks)
        std::fprintf(stderr,
                     "qtzflow: %zu snapshots (t = 0 .. %g) written to %s\n"
                     "         ParaView: open %s    Python: h5py.File('%s')['data'].keys()\n",
                     out.snapshots, out.time, out.output_path.c_str(), out.xdmf_path.c_str(), out.output_path.c_str());
      return 0;
  }
  return 1;
}

void rethrow_as_flag(const core::InvalidArgument& e, const std::map<std::string, std::string>& flags) {
  const auto it = flags.find(e.key());
  if (it == flags.end()) throw e;
  throw core::InvalidArgument(it->second, it->second + (e.names_value() ? " = " : ": ") + e.detail());
}

}  // namespace qtzflow::apps
