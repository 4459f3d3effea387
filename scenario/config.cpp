// The configuration's structs: their checks, the keys their choices leave unused, the engine
// options they make, and the built-in default scenario.  Reading TOML: config_reader.cpp;
// writing it: config_writer.cpp.
#include "scenario/config.hpp"

#include "core/error.hpp"
#include "core/memory.hpp"
#include "potentials/expression.hpp"

namespace qtzflow::scenario {

using core::format_value;
using core::throw_invalid;

namespace {

/// The run counts steps in 64-bit integers and times as step·dt: beyond 2^53 steps neither is exact.
void require_steps(const std::string& section, double dt, double t_end) {
  core::require_positive(section + ".dt", dt);
  core::require_positive(section + ".t_end", t_end);
  if (t_end < dt) throw_invalid(section + ".t_end", format_value(t_end), ">= " + section + ".dt = " + format_value(dt));
  constexpr double kMaxSteps = 9007199254740992.0;  // 2^53
  if (!(t_end / dt <= kMaxSteps))
    throw_invalid(section + ".t_end", format_value(t_end) + " (t_end/dt = " + format_value(t_end / dt) + " steps)",
                  "at most 2^53 = 9.0e15 steps of " + section + ".dt = " + format_value(dt));
}

}  // namespace

void ScheduleConfig::check() const {
  core::require_positive("schedule.C_q", C_q);
  core::require_positive("schedule.eta", eta);
  core::require_positive("schedule.tau", tau);
  core::require_positive("schedule.T", T);
  core::require_positive("schedule.c", c);
  if (!(gamma > 0 && gamma < 1)) throw_invalid("schedule.gamma", format_value(gamma), "in (0, 1)");
}

std::string ScheduleConfig::unused_reason(std::string_view key, bool qtz_moves) const {
  using K = potentials::Schedule::Kind;
  const std::string_view k = core::name_of(kind);
  auto only = [&](std::initializer_list<K> kinds, const char* law) -> std::string {
    for (K x : kinds)
      if (x == kind) return "";
    return std::string("not used by kind = \"") + std::string(k) + "\"; " + law;
  };
  if (key == "T") return only({K::constant, K::geometric}, "T belongs to constant and geometric (T0)");
  if (key == "c") return only({K::logarithmic}, "c belongs to logarithmic, T = c/ln(t + 2)");
  if (key == "gamma") return only({K::geometric}, "gamma belongs to geometric, T = T0 gamma^t");
  if (key == "eta" || key == "tau") return only({K::paper}, "eta and tau belong to paper, T = C_q/(2 eta 2^(t/tau))");
  if (key == "C_q")
    return qtz_moves ? "" : only({K::paper}, "C_q belongs to paper, and to quantized particles on the moves clock (Q_p = C_q/(2T))");
  return "";
}

std::string InitialConfig::unused_reason(std::string_view key, bool schrodinger) const {
  if ((key == "center" || key == "width") && kind != InitialKind::gaussian)
    return std::string("not used by kind = \"") + std::string(core::name_of(kind)) + "\" (center and width shape the gaussian)";
  if (key == "relax_time" && !schrodinger) return "used by the [schrodinger] engine only (relaxation is a Schrodinger device)";
  return "";
}

void SchrodingerConfig::check() const {
  require_steps("schrodinger", dt, t_end);
  solver_options().check();
}

std::string SchrodingerConfig::unused_reason(std::string_view key) const {
  if (key == "absorber_strength" && absorber_width == 0) return "not used without an absorber (absorber_width = 0)";
  if (key == "dt_min" && !(tolerance > 0)) return "dt_min bounds the error-controlled steps: it needs tolerance > 0";
  return "";
}

solver::SplitStepOptions SchrodingerConfig::solver_options() const {
  solver::SplitStepOptions so;
  so.mode = mode;
  so.scheme = scheme;
  so.dt = dt;
  so.absorber_width = absorber_width;
  so.absorber_strength = absorber_strength;
  so.rigor = fft_planning;
  so.control = {tolerance, dt_min, t_end};  // the errors add up over the run: from 0 to t_end
  return so;
}

void FokkerPlanckConfig::check() const {
  require_steps("fokker_planck", dt, t_end);
  solver_options().check();
}

std::string FokkerPlanckConfig::unused_reason(std::string_view key) const {
  if (key == "dt_min" && !(tolerance > 0)) return "dt_min bounds the error-controlled steps: it needs tolerance > 0";
  return "";
}

solver::FokkerPlanckOptions FokkerPlanckConfig::solver_options() const {
  solver::FokkerPlanckOptions o{dt, scheme};
  o.control = {tolerance, dt_min, t_end};  // the errors add up over the run: from 0 to t_end
  o.line_solve = line_solve;
  return o;
}

particles::QtzClock ParticlesConfig::natural_clock(particles::ParticleDynamics a) {
  return a == particles::ParticleDynamics::qtz_local ? particles::QtzClock::moves : particles::QtzClock::fokker_planck;
}

void ParticlesConfig::check() const {
  core::require_at_least("particles.count", count, 1);
  core::require_at_least("particles.seed", seed, 0);
  require_steps("particles", dt, t_end);
  core::require_positive("particles.delta", delta);
  core::require_at_least("particles.moves_per_dt", moves_per_dt, 1);
  if (moves_per_dt > 1000000) throw_invalid("particles.moves_per_dt", std::to_string(moves_per_dt), "at most 10^6");
  if (clock != natural_clock(algorithm) && algorithm != particles::ParticleDynamics::qtz_dither)
    throw_invalid("particles.clock", "\"" + std::string(core::name_of(clock)) + "\"",
                  algorithm == particles::ParticleDynamics::langevin ? "\"fokker_planck\" for langevin (its step is Fokker-Planck time)"
                                                                     : "\"moves\" for qtz-local (the plain quantizer has no Fokker-Planck limit)");
}

std::string ParticlesConfig::unused_reason(std::string_view key) const {
  const std::string on = std::string(core::name_of(algorithm)) + " on the " + std::string(core::name_of(clock)) + " clock";
  if (key == "delta" && !qtz_moves())
    return "not used by " + on + " (the move size is 2 sqrt(T dt/m) there; delta sizes the moves of the moves clock)";
  if (key == "moves_per_dt" && (algorithm == particles::ParticleDynamics::langevin || clock != particles::QtzClock::fokker_planck))
    return "not used by " + on + " (moves per dt belong to qtz-dither on the fokker_planck clock)";
  return "";
}

particles::ParticleOptions ParticlesConfig::ensemble_options(double C_q) const {
  particles::ParticleOptions o;
  o.dynamics = algorithm;
  o.dt = dt;
  o.delta = delta;
  o.C_q = C_q;
  o.seed = static_cast<std::uint64_t>(seed);
  if (algorithm != particles::ParticleDynamics::langevin) o.clock = clock;  // Langevin's step is FP time already
  o.moves_per_step = static_cast<int>(moves_per_dt);
  return o;
}

std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig& o, int dim, const std::vector<double>& default_lower,
                                                      const std::vector<double>& default_upper) {
  if (o.is_sampled())
    core::throw_invalid("objective.name", "\"sampled\" here",
                        "an objective defined without a grid (a built-in or an expression): samples need the run's [grid]");
  if (!o.is_expression()) return potentials::make_objective(o.name, dim, o.params);
  potentials::ExpressionSpec spec;
  spec.formula = o.formula;
  spec.params = o.params;
  spec.lower = o.lower.empty() ? default_lower : o.lower;
  spec.upper = o.upper.empty() ? default_upper : o.upper;
  spec.minima = o.minima;
  return potentials::make_expression_objective(spec, dim);
}
void require_engine_memory(EngineKind engine, double points, int dims, double particles, bool error_control, solver::SplitScheme scheme) {
  // Per grid point: the landscape (f, |grad f|^2, Laplacian) and the basin labels, ~28 B, plus
  // the engine's arrays: split-step ~20 doubles (state, phases, potential, FFT work, output),
  // Fokker-Planck ~8 + 12 d doubles (density, work, the coefficients of every axis' factors),
  // particles a histogram.
  const double d = static_cast<double>(dims);
  // Error control (Fokker-Planck) adds two copies of the density and the thirds' factors (6 d).
  const double fp = 8 + 12 * d + (error_control ? 2 + 6 * d : 0);
  // Split-step: emb43 keeps 5 complex V phases (10 doubles) where the others keep 2-3; error
  // control adds the start state and the trial (4) and the half-steps' or the partner's phases
  // (6 complex for emb43, 2 for the others).
  const bool emb = scheme == solver::SplitScheme::emb43;
  const double ss = 20 + (emb ? 6 : 0) + (error_control ? 4 + (emb ? 12 : 4) : 0);
  const double per_point = engine == EngineKind::fokker_planck ? 28 + 8 * fp : engine == EngineKind::particles ? 28 + 16 : 28 + 8 * ss;
  core::require_memory("grid.n", points * per_point, "a grid of " + core::format_value(points) + " points");
  if (engine == EngineKind::particles)
    core::require_memory("particles.count", particles * (16 * d + 8) + points * per_point,
                         core::format_value(particles) + " particles (positions, their output copy, acceptance counts)");
}

std::vector<std::string> RunConfig::input_files() const {
  std::vector<std::string> in;
  for (const std::string* f : {&source_path, &objective.file, &schedule.file})
    if (!f->empty()) in.push_back(*f);
  return in;
}
const std::string& default_config_text() {
  static const std::string text = R"(# qtzflow's built-in default scenario: tunneling out of the metastable well of a
# 2D tilted double well f = sum (x_i^2 - 1)^2 + 0.3 x_i at T = 0.5 (hbar = 2T = 1).
# The initial Gaussian sits in the shallowest of the four wells; a short imaginary-time
# relaxation (initial.relax_time) turns it into that well's quasi-stationary state, then the
# real-time run shows the probability tunneling into the deeper basins.

[grid]
n = [128, 128]
lower = [-2.5, -2.5]
upper = [2.5, 2.5]
boundary = "periodic"

[objective]
name = "double_well"
c = 0.3

[schedule]
kind = "constant"
T = 0.5

[initial]
kind = "gaussian"
center = [0.96, 0.96]
width = [0.16, 0.16]
relax_time = 2.0

[schrodinger]
mode = "real"
potential = "witten"
scheme = "yoshida4"
dt = 0.01
t_end = 40.0

[output]
path = "qtzflow_default.h5"
every = 100
)";
  return text;
}

potentials::Schedule ScheduleConfig::make() const {
  switch (kind) {
    case potentials::Schedule::Kind::constant:
      return potentials::Schedule::constant(T);
    case potentials::Schedule::Kind::logarithmic:
      return potentials::Schedule::logarithmic(c);
    case potentials::Schedule::Kind::geometric:
      return potentials::Schedule::geometric(T, gamma);
    case potentials::Schedule::Kind::paper:
      return potentials::Schedule::paper(C_q, eta, tau);
    case potentials::Schedule::Kind::table:
      return potentials::Schedule::table(table_t, table_T, table_source);
    case potentials::Schedule::Kind::expression:
      return potentials::Schedule::expression(formula, {}, "schedule.formula");
    case potentials::Schedule::Kind::function:
      break;  // a callable has no TOML form (the Python module makes such schedules directly)
  }
  throw core::Error("scenario: unknown schedule kind");
}

double RunConfig::dt() const {
  return std::visit([](const auto& e) { return e.dt; }, engine);
}

double RunConfig::t_end() const {
  return std::visit([](const auto& e) { return e.t_end; }, engine);
}

}  // namespace qtzflow::scenario
