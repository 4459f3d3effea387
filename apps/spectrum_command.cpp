#include <cstdio>

#include "apps/commands.hpp"
#include "core/mpi.hpp"

namespace qtzflow::apps {

int spectrum_command(const SpectrumArgs& a) {
  static const std::map<std::string, std::string> flags{{"count", "-k"}, {"T", "--T"}, {"dt", "--dt"}, {"output", "-o"}, {"engines", "--only"}};
  try {
    scenario::SpectrumRequest q;
    q.config = scenario::load_config(a.config_path, a.sets);
    q.temperatures = a.temperatures;
    q.count = a.count;
    q.dt = a.dt;
    q.output = a.output;
    if (!a.quiet)
      q.progress = [](std::string_view line) {
        if (core::mpi::rank() == 0) std::fprintf(stderr, "qtzflow spectrum: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    if (!a.only.empty()) {
      if (a.only != "fokker_planck" && a.only != "schrodinger") core::throw_invalid("engines", a.only, "fokker_planck or schrodinger");
      q.fokker_planck = a.only == "fokker_planck";
      q.schrodinger = a.only == "schrodinger";
    }
    const auto rep = scenario::spectrum(q);
    if (!a.output.empty()) scenario::write_spectrum(a.output, rep);
    const std::string text = a.json ? scenario::spectrum_json(rep) : scenario::spectrum_table(rep);
    std::fputs(text.c_str(), stdout);
    return 0;
  } catch (const core::InvalidArgument& e) {
    rethrow_as_flag(e, flags);
  }
}

}  // namespace qtzflow::apps
