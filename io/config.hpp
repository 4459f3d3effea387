// qtzflow/io/config.hpp — a run described by one TOML file, parsed into typed structs.
//
// Sections and keys (every key optional, defaults in docs/config.md): [grid] [objective]
// [schedule] [initial] [output] and exactly one engine section, [schrodinger],
// [fokker_planck] or [particles].  Parsing is strict: unknown sections and keys, wrong types, arrays of
// the wrong length and out-of-range values throw core::InvalidArgument whose key() is the key
// path ("grid.n", "schrodinger.dt") and whose message gives the accepted range.
// `--set section.key=value` overrides use TOML value syntax (a bare word is taken as a string).
// Objective parameters ([objective] keys other than `name`) are passed on as numbers and
// checked against the objective registry by the application.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace qtzflow::io {

struct GridConfig {
  std::vector<std::size_t> n{128, 128};
  std::vector<double> lower{-2.5, -2.5}, upper{2.5, 2.5};
  std::string boundary = "periodic";
  int dim() const { return static_cast<int>(n.size()); }
};

struct ObjectiveConfig {
  std::string name = "double_well";
  std::map<std::string, std::vector<double>> params;  ///< every other key of [objective]
};

struct ScheduleConfig {
  std::string kind = "constant";  ///< constant | logarithmic | geometric | paper
  double T = 0.5;                 ///< constant T, and T0 of the geometric law
  double c = 1.0;                 ///< logarithmic: T = c / ln(t + 2)
  double gamma = 0.99;            ///< geometric: T = T · gamma^t
  double C_q = 2.0;               ///< paper: T = C_q / (2 eta 2^(t/tau))
  double eta = 1.0;
  double tau = 1.0;
};

struct InitialConfig {
  std::string kind = "gaussian";  ///< gaussian | uniform | gibbs
  std::vector<double> center;     ///< default: the box centre
  std::vector<double> width;      ///< standard deviation of the initial density per axis; default: box/10
  double relax_time = 0;          ///< imaginary-time relaxation of the initial state before the run
};

struct SchrodingerConfig {
  bool enabled = false;          ///< whether the file has a [schrodinger] section
  std::string mode = "real";     ///< real | imaginary
  std::string potential = "witten";  ///< witten | objective
  std::string scheme = "strang";     ///< strang | yoshida4
  double dt = 1e-3;
  double t_end = 1.0;
  double absorber_width = 0, absorber_strength = 0;
  /// estimate: FFTW plans fixed by the sizes alone, so identical runs give identical bits;
  /// measure: FFTW times candidate plans (faster steps, but two runs may round differently;
  /// a restart still reuses the interrupted run's plans).
  std::string fft_planning = "estimate";
};

struct FokkerPlanckConfig {
  bool enabled = false;                ///< whether the file has a [fokker_planck] section
  std::string scheme = "backward_euler";
  double dt = 1e-3;
  double t_end = 1.0;
};

struct ParticlesConfig {
  bool enabled = false;               ///< whether the file has a [particles] section
  std::string algorithm = "langevin";  ///< langevin | qtz-local | qtz-dither
  long count = 100000;                ///< ensemble size M
  long seed = 1;
  double dt = 1e-3;                   ///< Langevin step; for qtz the time per move (schedule clock)
  double t_end = 1.0;
  double delta = 0.1;                 ///< qtz: local proposal size
};

struct OutputConfig {
  std::string path = "qtzflow.h5";
  long every = 100;  ///< a snapshot every N steps, plus the first and the last
};

struct RunConfig {
  GridConfig grid;
  ObjectiveConfig objective;
  ScheduleConfig schedule;
  InitialConfig initial;
  SchrodingerConfig schrodinger;
  FokkerPlanckConfig fokker_planck;
  ParticlesConfig particles;
  OutputConfig output;
  /// The effective configuration (file + overrides, every default filled in) as TOML text;
  /// stored in every output, and parse_config(text) gives this configuration back.
  std::string text;
};

/// Parses TOML text; `overrides` are "section.key=value" strings applied on top.
/// `origin` names the text in messages (a file name or "built-in default").
RunConfig parse_config(const std::string& text, const std::vector<std::string>& overrides = {},
                       const std::string& origin = "config");
/// Reads and parses a file (a missing or unreadable file is an InvalidArgument naming it).
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The built-in default scenario: a 2D tilted double well, imaginary-time relaxation in the
/// shallowest well, then real-time tunneling (runs in well under a minute on 2 cores).
const std::string& default_config_text();

}  // namespace qtzflow::io
