// qtzflow/scenario/config.hpp — a run described by one TOML file, parsed once into typed structs.
//
// Sections (every key optional, defaults and accepted ranges in docs/config.md): [grid]
// [objective] [schedule] [initial] [output] and exactly one engine section, [schrodinger],
// [fokker_planck] or [particles], held as one std::variant.  Every word-valued key becomes the
// engine's own enum here, once (grids::Boundary, solver::TimeMode, solver::FpScheme, …): nothing
// downstream compares strings.  Parsing is strict: unknown sections and keys, wrong types, arrays
// of the wrong length and out-of-range values throw core::InvalidArgument whose key() is the key
// path ("grid.n", "schrodinger.dt") and whose message gives the accepted range.
// `--set section.key=value` overrides use TOML value syntax (a bare word is taken as a string).
// Objective parameters ([objective] keys other than `name`) are checked against the objective
// registry when the objective is made (scenario::Problem).
// One definition per option: the words of an enum sit beside the enum (core/names.hpp), a
// default in the struct below, the checks of an engine's options in its check() and the keys a
// choice leaves unused in unused_reason(); the TOML reader (config_reader.cpp), the writer
// (config_writer.cpp) and the Python engines all go through them.
// Why here and not in io/: the configuration is made of the engines' option types, and io/
// knows no engine.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/names.hpp"
#include "grids/fft.hpp"
#include "grids/grid.hpp"
#include "particles/ensemble.hpp"
#include "potentials/objective.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::scenario {

struct GridConfig {
  std::vector<std::size_t> n{128, 128};
  std::vector<double> lower{-2.5, -2.5}, upper{2.5, 2.5};
  grids::Boundary boundary = grids::Boundary::periodic;
  int dim() const { return static_cast<int>(n.size()); }
};

struct ObjectiveConfig {
  std::string name = "double_well";  ///< a built-in, "expression" or "sampled"
  potentials::Params params;         ///< every other numeric key of [objective]
  // name = "expression" only (potentials/expression.hpp)
  std::string formula;               ///< key f
  std::vector<double> lower, upper;  ///< key domain; empty: the grid's box
  // name = "sampled" only (potentials/sampled.hpp, io/grid_samples.hpp)
  std::string file;                         ///< key file: the HDF5 file, made absolute when parsed
  std::string dataset = "f";                ///< key dataset: the path of the samples in it
  std::vector<std::vector<double>> minima;  ///< key minima (expression and sampled)
  bool is_expression() const { return name == "expression"; }
  bool is_sampled() const { return name == "sampled"; }
};

/// The configured objective in dimension dim; an expression without a domain takes
/// [default_lower, default_upper] (the grid's box).  A sampled objective needs its grid: use
/// make_objective(o, grid) of scenario/problem.hpp.
std::unique_ptr<potentials::Objective> make_objective(const ObjectiveConfig& o, int dim, const std::vector<double>& default_lower,
                                                      const std::vector<double>& default_upper);

struct ScheduleConfig {
  potentials::Schedule::Kind kind = potentials::Schedule::Kind::constant;
  double T = 0.5;                               ///< constant T, and T0 of the geometric law
  double c = 1.0;                               ///< logarithmic: T = c / ln(t + 2)
  double gamma = 0.99;                          ///< geometric: T = T · gamma^t
  std::vector<double> table_t, table_T;         ///< table: the knots (from key table or file)
  std::string table_source = "schedule.table";  ///< where they came from, for messages
  std::string file;                             ///< key file: the knots' file, made absolute (empty: none)
  std::string formula;                          ///< expression: T(t)
  double C_q = 2.0;                             ///< paper: T = C_q / (2 eta 2^(t/tau))
  double eta = 1.0;
  double tau = 1.0;
  potentials::Schedule make() const;
  /// Refuses (InvalidArgument naming the key) a value out of its range: T, c, C_q, eta, tau > 0,
  /// gamma in (0, 1).
  void check() const;
  /// Why `key` of [schedule] is not used by this kind ("" if it is).  `qtz_moves`: the engine
  /// is a quantized ensemble on the moves clock, whose Q_p = C_q/(2T) uses C_q under any kind.
  std::string unused_reason(std::string_view key, bool qtz_moves) const;
};

enum class InitialKind { gaussian, uniform, gibbs };
constexpr core::Named<InitialKind> kInitialKindNames[] = {
    {"gaussian", InitialKind::gaussian}, {"uniform", InitialKind::uniform}, {"gibbs", InitialKind::gibbs}};
constexpr std::span<const core::Named<InitialKind>> names_of(InitialKind) { return kInitialKindNames; }

struct InitialConfig {
  InitialKind kind = InitialKind::gaussian;
  std::vector<double> center;  ///< default: the box centre
  std::vector<double> width;   ///< standard deviation of the initial density per axis; default: box/10
  double relax_time = 0;       ///< imaginary-time relaxation of the initial state before the run
  /// Why `key` of [initial] is not used ("" if it is): center and width belong to the Gaussian,
  /// relax_time to the [schrodinger] engine.
  std::string unused_reason(std::string_view key, bool schrodinger) const;
};

/// [schrodinger]: the split-step engine.
struct SchrodingerConfig {
  solver::TimeMode mode = solver::TimeMode::real;
  potentials::PotentialKind potential = potentials::PotentialKind::witten;
  solver::SplitScheme scheme = solver::SplitScheme::strang;
  double dt = 1e-3;  ///< the step; with a tolerance, the first and largest step
  double t_end = 1.0;
  double absorber_width = 0, absorber_strength = 0;
  /// > 0: error-controlled steps aiming at this L² error of the state at t_end, relative to its
  /// norm (core/step_control.hpp, solver/split_step.hpp)
  double tolerance = 0;
  double dt_min = 0;  ///< with a tolerance: the smallest step before the run stops (0: 1e-12 dt)
  /// measure (default) / patient: FFTW times candidate plans, or takes them from the wisdom
  /// cache (grids/fft.hpp), so runs sharing a cache, and restarts, are bit-identical;
  /// estimate: plans from the sizes alone (no timing, no cache; up to 6x slower steps).
  grids::PlanRigor fft_planning = grids::PlanRigor::measure;
  /// Refuses bad values and combinations (dt, t_end > 0, absorber >= 0, yoshida4 or emb43 in
  /// imaginary time, a bad tolerance or dt_min).
  void check() const;
  /// Why `key` is not used ("" if it is): absorber_strength without an absorber_width, dt_min
  /// without a tolerance.
  std::string unused_reason(std::string_view key) const;
  /// The solver's options (not distributed).
  solver::SplitStepOptions solver_options() const;
};

/// [fokker_planck]: the finite-volume engine.
struct FokkerPlanckConfig {
  solver::FpScheme scheme = solver::FpScheme::backward_euler;
  double dt = 1e-3;  ///< the step; with a tolerance, the first and largest step
  double t_end = 1.0;
  /// > 0: error-controlled steps (extrapolated_euler only) aiming at this L1 error of the density
  /// at t_end, relative to the probability (core/step_control.hpp, solver/fokker_planck.hpp)
  double tolerance = 0;
  double dt_min = 0;  ///< with a tolerance: the smallest step before the run stops (0: 1e-12 dt)
  /// Under mpirun with several ranks: how the lines of axis 0 are solved across the slabs
  /// (partitioned: scales; transpose: bit-identical to one rank).  One rank: not used.
  solver::LineSolve line_solve = solver::LineSolve::partitioned;
  /// Refuses dt, t_end <= 0, a bad tolerance or dt_min, and a tolerance without extrapolated_euler.
  void check() const;
  /// Why `key` is not used: dt_min without a tolerance.
  std::string unused_reason(std::string_view key) const;
  solver::FokkerPlanckOptions solver_options() const;
};

/// [particles]: an ensemble whose histogram is the density.
struct ParticlesConfig {
  particles::ParticleDynamics algorithm = particles::ParticleDynamics::langevin;
  long count = 100000;  ///< ensemble size M
  long seed = 1;
  double dt = 1e-3;  ///< Langevin step; for qtz the time per move (schedule clock)
  double t_end = 1.0;
  double delta = 0.1;  ///< qtz with clock = moves: local proposal size
  /// qtz-dither: fokker_planck (default) runs in FP time and temperature (Q_p = 1/(4T), moves of
  /// 2√(T dt/m)); moves (qtz-local's only clock): one raw move per dt at Q_p = C_q/(2T), size delta.
  particles::QtzClock clock = particles::QtzClock::fokker_planck;
  long moves_per_dt = 4;  ///< m, fokker_planck clock
  /// The clock an algorithm runs on unless told otherwise: moves for qtz-local (the plain
  /// quantizer has no Fokker-Planck limit), fokker_planck for qtz-dither and langevin.
  static particles::QtzClock natural_clock(particles::ParticleDynamics a);
  /// Refuses bad values and combinations (a clock the algorithm cannot run on, count, dt, ...).
  void check() const;
  /// Why `key` is not used ("" if it is): delta on the fokker_planck clock, moves_per_dt on the
  /// moves clock or with langevin.
  std::string unused_reason(std::string_view key) const;
  /// The ensemble's options (not distributed); C_q from the schedule.
  particles::ParticleOptions ensemble_options(double C_q) const;
  /// Whether the engine quantizes on the moves clock (and so uses schedule.C_q).
  bool qtz_moves() const { return algorithm != particles::ParticleDynamics::langevin && clock == particles::QtzClock::moves; }
};

/// The one engine a run uses.
using EngineConfig = std::variant<SchrodingerConfig, FokkerPlanckConfig, ParticlesConfig>;

struct OutputConfig {
  std::string path = "qtzflow.h5";
  long every = 100;                ///< a snapshot every N steps, plus the first and the last
  long diagnostics_every = 100;    ///< a /diagnostics row every N steps (default: output.every), plus one per snapshot
  bool particle_positions = true;  ///< particle runs: store every particle's position (what --restart needs)
};

struct RunConfig {
  GridConfig grid;
  ObjectiveConfig objective;
  ScheduleConfig schedule;
  InitialConfig initial;
  EngineConfig engine = SchrodingerConfig{};
  OutputConfig output;
  /// The effective configuration (file + overrides, every default filled in) as TOML text;
  /// stored in every output, and parse_config(text) gives this configuration back.
  std::string text;
  /// The file it was read from (load_config), empty otherwise: an output must not replace it.
  std::string source_path;

  /// The files the run reads (the configuration, objective.file, schedule.file): no output may
  /// replace one of them.
  std::vector<std::string> input_files() const;
  /// The engine's step and end time.
  double dt() const;
  double t_end() const;
};

enum class EngineKind { schrodinger, fokker_planck, particles };
/// Refuses (InvalidArgument naming grid.n, or particles.count) an engine whose arrays cannot
/// fit the memory limit, before anything is allocated: the estimate of every front end.
/// `error_control`: the engine keeps the extra copies of an error-controlled run; `scheme` (split-step) counts its phase arrays.
void require_engine_memory(EngineKind engine, double points, int dims, double particles = 0, bool error_control = false,
                           solver::SplitScheme scheme = solver::SplitScheme::strang);

/// An override that removes a key: "-section.key" (what `--unset section.key` passes).  No
/// section name begins with '-', so the form cannot be taken for a "section.key=value".
std::string unset_override(const std::string& path);

/// What a key that the configuration's choices do not use (schedule.T under kind =
/// "logarithmic", particles.delta on the fokker_planck clock, ...) gets: refused (InvalidArgument
/// naming it and why), or dropped, for the configurations stored in outputs of versions that
/// wrote every key (a restart reads them).
enum class UnusedKeys { refuse, drop };

/// Parses TOML text; `overrides` are "section.key=value" strings applied on top, and
/// unset_override(path) strings, which remove a key (refused, naming it, if it is absent).
/// `origin` names the text in messages (a file name or "built-in default scenario").
RunConfig parse_config(const std::string& text, const std::vector<std::string>& overrides = {}, const std::string& origin = "config",
                       UnusedKeys unused = UnusedKeys::refuse);
/// A configuration given as data rather than text (the Python module's dict): sections of keys
/// whose values are booleans, integers, numbers, strings or arrays of them.  It goes through the
/// same reader as TOML text (its effective text is the same for the same content).
struct ConfigValue {
  std::variant<bool, long long, double, std::string, std::vector<ConfigValue>> value;
};
using ConfigSection = std::vector<std::pair<std::string, ConfigValue>>;
using ConfigData = std::vector<std::pair<std::string, ConfigSection>>;
RunConfig parse_config(const ConfigData& data, const std::vector<std::string>& overrides = {}, const std::string& origin = "config data");

/// Reads and parses a file (a missing or unreadable file is an InvalidArgument naming it).
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The configuration as TOML that parse_config reads back: every key it uses, defaults included,
/// and no other (the canonical text stored in outputs).
std::string to_toml(const RunConfig& c);

/// The keys whose values differ, as "section.key: <was> -> <now>" (sections present in one only
/// appear as "(present)" / "(absent)").  Used to hold a restart to the configuration it continues.
std::vector<std::string> config_differences(const RunConfig& was, const RunConfig& now);

/// The built-in default scenario: a 2D tilted double well, imaginary-time relaxation in the
/// shallowest well, then real-time tunneling (a few seconds on 2 cores).
const std::string& default_config_text();

}  // namespace qtzflow::scenario
