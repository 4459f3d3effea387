#include <cstdio>

#include "apps/commands.hpp"
#include "core/mpi.hpp"
#include "scenario/study.hpp"

namespace qtzflow::apps {

int study_command(const StudyArgs& a) {
  static const std::map<std::string, std::string> flags{{"output", "-o"}};
  try {
    const auto config = scenario::load_study(a.study_path);
    std::function<void(const scenario::StudyProgress&)> progress;
    if (!a.quiet)
      progress = [](const scenario::StudyProgress& p) {
        std::fprintf(stderr, "qtzflow study: %ld/%ld runs (%ld/%ld cells, %ld resumed), %s: %.3g evaluations/s, %.0f s left\n",
                     p.cells_done * p.runs_per_cell, p.cells_total * p.runs_per_cell, p.cells_done, p.cells_total, p.cells_resumed, p.last_cell.c_str(),
                     p.evaluations_per_second, p.seconds_left);
      };
    const auto cells = scenario::run_study(config, a.output, progress);
    if (core::mpi::rank() == 0 && !a.quiet)
      std::fprintf(stderr, "qtzflow study: %zu cells in %s and %s; the report: /usr/bin/python3 -m qtzflow.report %s\n", cells.size(), a.output.c_str(),
                   scenario::study_json_path(a.output).c_str(), a.output.c_str());
    return 0;
  } catch (const core::InvalidArgument& e) {
    rethrow_as_flag(e, flags);
  }
}

}  // namespace qtzflow::apps
