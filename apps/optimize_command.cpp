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
  auto o = particles::default_options(particles::algorithm_from_string(a.algorithm));
  const auto proposal = [&](particles::Proposal p) { return a.local ? particles::Proposal::local : p; };
  if (auto* q = std::get_if<particles::QtzOptions>(&o)) {
    if (a.h_schedule == "acceptances")
      q->qp_rule = particles::QpRule::per_acceptance;
    else if (a.h_schedule == "logarithmic")
      q->qp_rule = particles::QpRule::logarithmic;
    else if (a.h_schedule == "fixed")
      q->qp_rule = particles::QpRule::fixed;
    else
      core::throw_invalid("--h-schedule", a.h_schedule, "acceptances, logarithmic or fixed");
    q->qp = a.qp;
    q->proposal = proposal(q->proposal);
    q->delta = a.delta;
    q->eta = a.eta;
  } else if (auto* s = std::get_if<particles::SaOptions>(&o)) {
    s->proposal = proposal(s->proposal);
    s->delta = a.delta;
    s->T0 = a.sa_T0;
    s->cooling = a.sa_cooling;
  } else if (auto* l = std::get_if<particles::LangevinOptions>(&o)) {
    core::require_positive("--T", a.T);
    if (a.schedule == "constant")
      l->schedule = potentials::Schedule::constant(a.T);
    else if (a.schedule == "logarithmic")
      l->schedule = potentials::Schedule::logarithmic(a.T);
    else
      core::throw_invalid("--schedule", a.schedule, "constant or logarithmic");
    l->dt = a.dt;
  } else if (auto* p = std::get_if<particles::PimcOptions>(&o)) {
    p->replicas = a.replicas;
    p->T = a.pimc_T;
    p->gamma0 = a.pimc_gamma0;
  }
  return o;
}

}  // namespace

int optimize_command(OptimizeArgs a) {
  static const std::map<std::string, std::string> flags{{"algorithm", "--algorithm"},
                                                        {"output", "-o"},
                                                        {"budget", "--budget"},
                                                        {"runs", "--runs"},
                                                        {"tolerance", "--tolerance"},
                                                        {"qp", "--qp"},
                                                        {"delta", "--delta"},
                                                        {"eta", "--eta"},
                                                        {"sa.T0", "--sa-T0"},
                                                        {"sa.cooling", "--sa-cooling"},
                                                        {"dt", "--dt"},
                                                        {"replicas", "--replicas"},
                                                        {"pimc.T", "--pimc-T"},
                                                        {"pimc.gamma0", "--pimc-gamma0"},
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
    const auto report = scenario::optimize(a.request);
    if (!a.output.empty() && core::mpi::rank() == 0) scenario::write_optimize_results(a.output, report);  // every rank holds every result
    const std::string text = a.json ? scenario::optimize_json(report, core::thread_count()) : scenario::optimize_table(report, core::thread_count());
    std::fputs(text.c_str(), stdout);
    for (const auto& w : report.warnings) std::fprintf(stderr, "qtzflow optimize: warning: %s\n", w.c_str());
    return 0;
  } catch (const core::InvalidArgument& e) {
    rethrow_as_flag(e, flags);
  }
}

}  // namespace qtzflow::apps
