#include <cstdio>
#include <sstream>

#include "apps/commands.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"

namespace qtzflow::apps {

namespace {

/// "v1,v2,..." as numbers; `flag` names the option in errors.
std::vector<double> parse_numbers(const std::string& text, const std::string& flag) {
  std::vector<double> v;
  std::stringstream in(text);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != tok.size()) core::throw_invalid(flag, tok, "a number");
    v.push_back(x);
  }
  if (v.empty()) core::throw_invalid(flag, "\"" + text + "\"", "one or more comma-separated numbers");
  return v;
}

potentials::Params parse_params(const std::vector<std::string>& items) {
  potentials::Params p;
  for (const auto& s : items) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) core::throw_invalid("--param", s, "name=value or name=v1,v2,...");
    p[s.substr(0, eq)] = parse_numbers(s.substr(eq + 1), "--param " + s.substr(0, eq));
  }
  return p;
}

std::vector<double> parse_point(const std::string& text) { return parse_numbers(text, "--minimum"); }

/// The options of the chosen algorithm from the flags that concern it.
particles::AlgorithmOptions algorithm_options(const OptimizeArgs& a) {
  particles::AlgorithmSettings st = a.settings;
  st.h_schedule = core::parse_name<particles::QpRule>(a.h_schedule, "h_schedule");
  const auto algorithm = particles::algorithm_from_string(a.algorithm);
  for (const auto& setting : a.given)  // a flag the algorithm does not use is refused, never ignored
    if (const auto why = particles::unused_setting(algorithm, st, setting); !why.empty())
      throw core::InvalidArgument(setting, setting + ": " + why + "; leave it out");
  if (particles::algorithm_from_string(a.algorithm) == particles::Algorithm::langevin) {
    core::require_positive("--T", a.T);
    if (a.schedule == "constant")
      st.schedule = potentials::Schedule::constant(a.T);
    else if (a.schedule == "logarithmic")
      st.schedule = potentials::Schedule::logarithmic(a.T);
    else
      core::throw_invalid("--schedule", a.schedule, "constant or logarithmic");
  }
  return particles::algorithm_options(a.algorithm, st);
}

}  // namespace

int optimize_command(OptimizeArgs a) {
  static const std::map<std::string, std::string> flags{{"algorithm", "--algorithm"},
                                                        {"output", "-o"},
                                                        {"budget", "--budget"},
                                                        {"runs", "--runs"},
                                                        {"tolerance", "--tolerance"},
                                                        {"qp", "--qp"},
                                                        {"h_schedule", "--h-schedule"},
                                                        {"delta", "--delta"},
                                                        {"eta", "--eta"},
                                                        {"sa.T0", "--sa-T0"},
                                                        {"sa.cooling", "--sa-cooling"},
                                                        {"sa_T0", "--sa-T0"},
                                                        {"sa_cooling", "--sa-cooling"},
                                                        {"pimc_T", "--pimc-T"},
                                                        {"pimc_gamma0", "--pimc-gamma0"},
                                                        {"local", "--local"},
                                                        {"schedule", "--T/--schedule"},
                                                        {"dt", "--dt"},
                                                        {"replicas", "--replicas"},
                                                        {"pimc.T", "--pimc-T"},
                                                        {"pimc.gamma0", "--pimc-gamma0"},
                                                        {"dimension", "--dim"},
                                                        {"population", "--population"},
                                                        {"neighbours", "--neighbours"},
                                                        {"restarts", "--restarts"},
                                                        {"lower", "--lower"},
                                                        {"upper", "--upper"},
                                                        {"tsp", "--tsp"},
                                                        {"optimum", "--optimum"},
                                                        {"expression", "--expression"},
                                                        {"objective.minima", "--minimum"},
                                                        {"objective/expression/tsp", "--objective/--expression/--tsp"}};
  try {
    a.request.params = parse_params(a.params);
    for (const auto& m : a.minima) a.request.minima.push_back(parse_point(m));
    a.request.output = a.output;
    a.request.options.algorithm = algorithm_options(a);
    const auto report = scenario::optimize(a.request);  // writes -o too
    const std::string text = a.json ? scenario::optimize_json(report, core::thread_count()) : scenario::optimize_table(report, core::thread_count());
    std::fputs(text.c_str(), stdout);
    for (const auto& w : report.warnings) std::fprintf(stderr, "qtzflow optimize: warning: %s\n", w.c_str());
    return 0;
  } catch (const core::InvalidArgument& e) {
    rethrow_as_flag(e, flags);
  }
}

}  // namespace qtzflow::apps
