// Reading a configuration: TOML text (strict: unknown keys, wrong types and out-of-range
// values refused with the key named), --set/--unset overrides, one function per section.
#include "scenario/config.hpp"

#include <toml.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "potentials/expression.hpp"
#include "scenario/toml_reader.hpp"

namespace qtzflow::scenario {

namespace {

using namespace toml_reader;  // Value, Table, Section, checked_number, ... (scenario/toml_reader.hpp)
using core::format_value;

/// A two-column text file of (t, T) knots: '#' starts a comment, columns separated by blanks or
/// a comma; errors name FILE:LINE.  At most 1 MiB (a schedule, not a data set).
void read_schedule_file(const std::string& path, ScheduleConfig& s) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw_invalid("schedule.file", "\"" + core::shorten(path, 200) + "\"", "an existing regular file of t T lines (not a pipe or device)");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw_invalid("schedule.file", "\"" + core::shorten(path, 200) + "\" (" + ec.message() + ")", "a readable file of t T lines");
  if (size > (1u << 20))
    throw_invalid("schedule.file", "\"" + core::shorten(path, 200) + "\" of " + std::to_string(size) + " bytes", "at most 1 MiB");
  std::ifstream in(path);
  std::string line;
  for (long n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::vector<std::string> tok;
    for (std::string w; fields >> w;) tok.push_back(w);
    if (tok.empty()) continue;
    const std::string where = core::shorten(path, 200) + ":" + std::to_string(n);
    if (tok.size() != 2) throw_invalid("schedule.file", where + ": " + std::to_string(tok.size()) + " columns", "two columns, t and T");
    double v[2];
    for (int k = 0; k < 2; ++k) {
      char* end = nullptr;
      errno = 0;
      v[k] = std::strtod(tok[static_cast<std::size_t>(k)].c_str(), &end);
      if (end == tok[static_cast<std::size_t>(k)].c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v[k]))
        throw_invalid("schedule.file", where + ": \"" + core::shorten(tok[static_cast<std::size_t>(k)], 40) + "\"", "a finite number");
    }
    s.table_t.push_back(v[0]);
    s.table_T.push_back(v[1]);
  }
  s.table_source = "schedule.file " + core::shorten(path, 200);
  const auto abs = std::filesystem::absolute(path, ec);
  s.file = ec ? path : abs.lexically_normal().string();
}

void require_length(const std::string& key, std::size_t got, std::size_t d) {
  if (got != d) throw_invalid(key, "an array of length " + std::to_string(got), "of length d = " + std::to_string(d) + " (the length of grid.n)");
}

/// Applies "section.key=value" on top of the parsed table.
void apply_override(Table& root, const std::string& spec) {
  if (spec.starts_with('-')) {  // unset_override: "-section.key"
    const std::string path = spec.substr(1);
    const auto dot = path.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == path.size() || path.find('=') != std::string::npos)
      throw_invalid("unset", "\"" + core::shorten(path, 80) + "\"", "of the form section.key");
    const std::string section = path.substr(0, dot), key = path.substr(dot + 1);
    auto sec = root.find(section);
    if (sec == root.end() || !sec->second.is_table() || !sec->second.as_table().contains(key))
      throw_invalid("unset", core::shorten(path, 80), "a key the configuration has (--print-config lists them)");
    sec->second.as_table().erase(key);
    return;
  }
  const auto eq = spec.find('=');
  const std::string path = spec.substr(0, eq);
  const auto dot = path.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == path.size())
    throw_invalid("override", "\"" + spec + "\"", "of the form section.key=value");
  const std::string section = path.substr(0, dot), key = path.substr(dot + 1), text = spec.substr(eq + 1);
  Value v;
  check_toml_shape("v = " + text, "--set " + core::shorten(path, 40));
  try {
    std::istringstream in("v = " + text);
    v = toml::parse<toml::discard_comments, std::map, std::vector>(in, "override").as_table().at("v");
  } catch (const std::exception&) {
    v = Value(text);  // a bare word: take it as a string
  }
  auto& sec = root[section];
  if (!sec.is_table()) sec = Value(Table{});
  sec.as_table()[key] = v;
}

void read_grid(const Table& root, GridConfig& grid) {
  Section g(section_table(root, "grid"), "grid");
  if (const Value* n = g.find("n")) {
    if (!n->is_array() || n->as_array().empty() || n->as_array().size() > 3)
      throw_invalid("grid.n", show(*n), "an array of 1 to 3 integers (points per axis)");
    grid.n.clear();
    for (const auto& e : n->as_array()) {
      if (!e.is_integer()) throw_invalid("grid.n", show(*n), "an array of integers");
      checked_number(e, "grid.n");
      if (e.as_integer() < 2) throw_invalid("grid.n", show(*n), "integers >= 2");
      grid.n.push_back(static_cast<std::size_t>(e.as_integer()));
    }
  }
  const std::size_t d = grid.n.size();
  // the default box is GridConfig's first axis' interval on every axis
  grid.lower = g.numbers("lower", std::vector<double>(d, GridConfig{}.lower[0]));
  grid.upper = g.numbers("upper", std::vector<double>(d, GridConfig{}.upper[0]));
  require_length("grid.lower", grid.lower.size(), d);
  require_length("grid.upper", grid.upper.size(), d);
  for (std::size_t a = 0; a < d; ++a)
    if (!(grid.lower[a] < grid.upper[a]))
      throw_invalid("grid.upper", format_value(grid.upper[a]) + " on axis " + std::to_string(a), "> grid.lower = " + format_value(grid.lower[a]));
  grid.boundary = g.choice("boundary", grid.boundary);
  g.finish();
}

/// A [lower, upper] pair or one pair per axis ([[lo, hi], ...]) as per-axis bounds.
void read_domain(const Value& dom, std::size_t d, ObjectiveConfig& o) {
  if (!dom.is_array() || dom.as_array().empty()) throw_invalid("objective.domain", show(dom), "[lower, upper] or [[lower, upper], ...]");
  const auto& arr = dom.as_array();
  auto pair = [&](const Value& p) {
    if (!p.is_array() || p.as_array().size() != 2 || !Section::is_number(p.as_array()[0]) || !Section::is_number(p.as_array()[1]))
      throw_invalid("objective.domain", show(dom), "[lower, upper] or [[lower, upper], ...] with numbers");
    o.lower.push_back(checked_number(p.as_array()[0], "objective.domain"));
    o.upper.push_back(checked_number(p.as_array()[1], "objective.domain"));
  };
  if (arr[0].is_array()) {
    for (const auto& p : arr) pair(p);
    require_length("objective.domain", o.lower.size(), d);
  } else {
    pair(dom);
    o.lower.assign(d, o.lower[0]);
    o.upper.assign(d, o.upper[0]);
  }
}

void read_minima(const Value& mins, std::size_t d, ObjectiveConfig& o) {
  if (!mins.is_array()) throw_invalid("objective.minima", show(mins), "an array of points, e.g. [[-1.0], [1.0]]");
  for (const auto& p : mins.as_array()) {
    if (!p.is_array()) throw_invalid("objective.minima", show(mins), "an array of points, e.g. [[-1.0], [1.0]]");
    std::vector<double> x;
    for (const auto& e : p.as_array()) {
      if (!Section::is_number(e)) throw_invalid("objective.minima", show(p), "a point of numbers");
      x.push_back(checked_number(e, "objective.minima"));
    }
    require_length("objective.minima", x.size(), d);
    o.minima.push_back(std::move(x));
  }
}

void read_objective(const Table& root, std::size_t d, ObjectiveConfig& obj) {
  const Table* t = section_table(root, "objective");
  Section o(t, "objective");
  obj.name = o.word("name", obj.name);
  const bool expression = obj.is_expression(), sampled = obj.is_sampled();
  if (expression) {
    obj.formula = o.word("f", "");
    if (obj.formula.empty()) throw_invalid("objective.f", "missing or empty", "a formula in x, y, z (or x0, x1, ...), e.g. f = \"(x^2-1)^2 + 0.3*x\"");
    if (const Value* dom = o.find("domain")) read_domain(*dom, d, obj);
  }
  if (sampled) {
    const std::string file = o.word("file", "");
    if (file.empty()) throw_invalid("objective.file", "missing or empty", "an HDF5 file holding f on the run's grid, e.g. file = \"f.h5\"");
    std::error_code ec;
    const auto abs = std::filesystem::absolute(file, ec);  // the stored config then works from any folder
    obj.file = ec ? file : abs.lexically_normal().string();
    obj.dataset = o.word("dataset", obj.dataset);
    if (obj.dataset.empty()) throw_invalid("objective.dataset", "\"\"", "the path of a dataset in objective.file, e.g. \"f\"");
  }
  if (expression || sampled)
    if (const Value* mins = o.find("minima")) read_minima(*mins, d, obj);
  if (t == nullptr) return;
  // every other key is a parameter of the objective (checked against its registry when it is made)
  for (const auto& [k, v] : *t) {
    const bool expression_key = k == "f" || k == "domain", sampled_key = k == "file" || k == "dataset";
    if (k == "name" || (expression && expression_key) || (sampled && sampled_key) || ((expression || sampled) && k == "minima")) continue;
    if (expression_key)
      throw_invalid("objective." + k, show(v), "absent unless objective.name = \"expression\" (a built-in has its own formula and domain)");
    if (sampled_key) throw_invalid("objective." + k, show(v), "absent unless objective.name = \"sampled\"");
    if (k == "minima") throw_invalid("objective." + k, show(v), "absent unless objective.name = \"expression\" or \"sampled\" (a built-in knows its minima)");
    if (sampled) throw_invalid("objective." + k, show(v), "absent: objective.name = \"sampled\" takes file, dataset and minima only");
    if (Section::is_number(v))
      obj.params[k] = {checked_number(v, "objective." + k)};
    else if (v.is_array())
      obj.params[k] = o.numbers(k, {});
    else
      throw_invalid("objective." + k, show(v) + " (" + type_name(v) + ")", "a number or an array of numbers");
  }
}

/// [schedule]; the keys its kind leaves unused are checked by check_unused_keys once the engine is known.
void read_schedule(const Table& root, ScheduleConfig& s) {
  Section sec(section_table(root, "schedule"), "schedule");
  s.kind = sec.choice("kind", s.kind);
  s.T = sec.number("T", s.T);
  s.c = sec.number("c", s.c);
  s.gamma = sec.number("gamma", s.gamma);
  s.C_q = sec.number("C_q", s.C_q);
  s.eta = sec.number("eta", s.eta);
  s.tau = sec.number("tau", s.tau);
  s.check();
  using SK = potentials::Schedule::Kind;
  const Value* tab = sec.find("table");
  const Value* file = sec.find("file");
  const Value* formula = sec.find("formula");
  if (s.kind == SK::table) {
    if ((tab == nullptr) == (file == nullptr))
      throw_invalid("schedule.table", tab ? "both table and file" : "neither table nor file", "one of schedule.table = [[t, T], ...] or schedule.file");
    if (tab) {
      if (!tab->is_array()) throw_invalid("schedule.table", show(*tab), "an array of [t, T] pairs");
      for (const auto& p : tab->as_array()) {
        if (!p.is_array() || p.as_array().size() != 2 || !Section::is_number(p.as_array()[0]) || !Section::is_number(p.as_array()[1]))
          throw_invalid("schedule.table", show(p), "a [t, T] pair of numbers");
        s.table_t.push_back(checked_number(p.as_array()[0], "schedule.table"));
        s.table_T.push_back(checked_number(p.as_array()[1], "schedule.table"));
      }
    } else {
      if (!file->is_string()) throw_invalid("schedule.file", show(*file), "a file name (two columns: t and T)");
      read_schedule_file(file->as_string().str, s);
    }
  } else if (tab || file) {
    throw_invalid(tab ? "schedule.table" : "schedule.file", "given", "absent unless schedule.kind = \"table\"");
  }
  if (s.kind == SK::expression) {
    if (formula == nullptr || !formula->is_string() || formula->as_string().str.empty())
      throw_invalid("schedule.formula", formula ? show(*formula) : "missing", "a formula in t, e.g. formula = \"0.5/ln(t + 2)\"");
    s.formula = formula->as_string().str;
  } else if (formula) {
    throw_invalid("schedule.formula", show(*formula), "absent unless schedule.kind = \"expression\"");
  }
  s.make();  // knots and formula checked here, with their keys
  sec.finish();
}

void read_initial(const Table& root, const GridConfig& grid, InitialConfig& i) {
  Section sec(section_table(root, "initial"), "initial");
  const std::size_t d = grid.n.size();
  i.kind = sec.choice("kind", i.kind);
  std::vector<double> centre(d), width(d);
  for (std::size_t a = 0; a < d; ++a) {  // the defaults: the box centre, a tenth of the box
    centre[a] = 0.5 * (grid.lower[a] + grid.upper[a]);
    width[a] = 0.1 * (grid.upper[a] - grid.lower[a]);
  }
  i.center = sec.numbers("center", centre);
  i.width = sec.numbers("width", width);
  require_length("initial.center", i.center.size(), d);
  require_length("initial.width", i.width.size(), d);
  for (std::size_t a = 0; a < d; ++a) {
    core::require_in_range("initial.center", i.center[a], grid.lower[a], grid.upper[a]);
    core::require_positive("initial.width", i.width[a]);
  }
  i.relax_time = sec.number("relax_time", i.relax_time);
  core::require_non_negative("initial.relax_time", i.relax_time);
  sec.finish();
}

SchrodingerConfig read_engine(Section& s, SchrodingerConfig e) {
  e.mode = s.choice("mode", e.mode);
  e.potential = s.choice("potential", e.potential);
  e.scheme = s.choice("scheme", e.scheme);
  e.dt = s.number("dt", e.dt);
  e.t_end = s.number("t_end", e.t_end);
  e.absorber_width = s.number("absorber_width", e.absorber_width);
  e.absorber_strength = s.number("absorber_strength", e.absorber_strength);
  e.fft_planning = s.choice("fft_planning", e.fft_planning);
  e.tolerance = s.number("tolerance", e.tolerance);
  e.dt_min = s.number("dt_min", e.dt_min);
  return e;
}

FokkerPlanckConfig read_engine(Section& s, FokkerPlanckConfig e) {
  e.scheme = s.choice("scheme", e.scheme);
  e.dt = s.number("dt", e.dt);
  e.t_end = s.number("t_end", e.t_end);
  e.tolerance = s.number("tolerance", e.tolerance);
  e.dt_min = s.number("dt_min", e.dt_min);
  e.line_solve = s.choice("line_solve", e.line_solve);
  return e;
}

ParticlesConfig read_engine(Section& s, ParticlesConfig e) {
  e.algorithm = s.choice("algorithm", e.algorithm);
  e.count = s.integer("count", e.count);
  e.seed = s.integer("seed", e.seed);
  e.dt = s.number("dt", e.dt);
  e.t_end = s.number("t_end", e.t_end);
  e.delta = s.number("delta", e.delta);
  e.clock = s.choice("clock", ParticlesConfig::natural_clock(e.algorithm));
  e.moves_per_dt = s.integer("moves_per_dt", e.moves_per_dt);
  return e;
}

/// The one engine section present (each is read, so that its keys are checked, even when absent).
EngineConfig read_engines(const Table& root, UnusedKeys unused) {
  const char* names[] = {"schrodinger", "fokker_planck", "particles"};
  EngineConfig engines[] = {SchrodingerConfig{}, FokkerPlanckConfig{}, ParticlesConfig{}};
  int present = 0, chosen = 0;
  for (int k = 0; k < 3; ++k) {
    const Table* t = section_table(root, names[k]);
    Section s(t, names[k]);
    std::visit(
        [&](auto& e) {
          e = read_engine(s, e);
          e.check();
          for (const auto& [key, v] : t ? *t : Table{}) s.refuse_unused(key, e.unused_reason(key), unused);
        },
        engines[k]);
    s.finish();
    if (t != nullptr) ++present, chosen = k;
  }
  if (present != 1)
    throw core::InvalidArgument(present > 1 ? names[chosen] : "schrodinger", present > 1 ? "one engine section per run ([schrodinger], [fokker_planck] or [particles])"
                                                                                         : "no engine section: add [schrodinger], [fokker_planck] or [particles]");
  return engines[chosen];
}

/// The combinations across sections: the engine's grid boundary and initial state, and the
/// [schedule] and [initial] keys the engine and the kinds leave unused.
void check_across_sections(const Table& root, const RunConfig& c, UnusedKeys unused) {
  const bool schrodinger = std::holds_alternative<SchrodingerConfig>(c.engine);
  const auto* particles = std::get_if<ParticlesConfig>(&c.engine);
  if (schrodinger && c.grid.boundary != grids::Boundary::periodic)
    throw_invalid("grid.boundary", "\"" + std::string(core::name_of(c.grid.boundary)) + "\"", "\"periodic\" for the [schrodinger] engine");
  if (!schrodinger && c.initial.relax_time != 0)
    throw_invalid("initial.relax_time", format_value(c.initial.relax_time),
                  std::string("0 with [") + (particles ? "particles" : "fokker_planck") + "] (relaxation is a Schrodinger device)");
  if (particles != nullptr && c.initial.kind == InitialKind::gibbs) throw_invalid("initial.kind", "\"gibbs\"", "\"gaussian\" or \"uniform\" with [particles]");
  if (particles != nullptr && c.grid.boundary == grids::Boundary::absorbing)
    throw_invalid("grid.boundary", "\"absorbing\"", "\"reflecting\" or \"periodic\" with [particles]");
  Section schedule(section_table(root, "schedule"), "schedule"), initial(section_table(root, "initial"), "initial");
  for (const char* k : {"T", "c", "gamma", "C_q", "eta", "tau"})
    schedule.refuse_unused(k, c.schedule.unused_reason(k, particles != nullptr && particles->qtz_moves()), unused);
  for (const char* k : {"center", "width", "relax_time"}) initial.refuse_unused(k, c.initial.unused_reason(k, schrodinger), unused);
  Section output(section_table(root, "output"), "output");
  output.refuse_unused("particle_positions", particles ? "" : "used by the [particles] engine only", unused);
}

void read_output(const Table& root, OutputConfig& out) {
  Section o(section_table(root, "output"), "output");
  out.path = o.word("path", out.path);
  if (out.path.empty()) throw_invalid("output.path", "\"\"", "a file name");
  out.every = o.integer("every", out.every);
  core::require_at_least("output.every", out.every, 1);
  out.diagnostics_every = o.integer("diagnostics_every", out.every);  // default: a row per snapshot
  core::require_at_least("output.diagnostics_every", out.diagnostics_every, 1);
  if (const Value* pp = o.find("particle_positions")) {
    if (!pp->is_boolean()) throw_invalid("output.particle_positions", show(*pp), "true or false");
    out.particle_positions = pp->as_boolean();
  }
  o.finish();
}

RunConfig from_table(const Table& root, UnusedKeys unused) {
  static const std::vector<std::string> sections{"grid", "objective", "schedule", "initial", "schrodinger", "fokker_planck", "particles", "output"};
  for (const auto& [name, v] : root) {
    if (std::find(sections.begin(), sections.end(), name) == sections.end())
      throw core::InvalidArgument(name, name + ": unknown section; known sections: " + join(sections));
  }
  RunConfig c;
  read_grid(root, c.grid);
  read_objective(root, c.grid.n.size(), c.objective);
  read_schedule(root, c.schedule);
  read_initial(root, c.grid, c.initial);
  c.engine = read_engines(root, unused);
  check_across_sections(root, c, unused);
  // Memory: refuse a size that cannot fit before anything is allocated.
  double points = 1;
  for (std::size_t n : c.grid.n) points *= static_cast<double>(n);
  const auto* particles = std::get_if<ParticlesConfig>(&c.engine);
  const auto* fp = std::get_if<FokkerPlanckConfig>(&c.engine);
  const auto* ss = std::get_if<SchrodingerConfig>(&c.engine);
  require_engine_memory(fp != nullptr ? EngineKind::fokker_planck : particles != nullptr ? EngineKind::particles : EngineKind::schrodinger, points,
                        c.grid.dim(), particles != nullptr ? static_cast<double>(particles->count) : 0,
                        (fp != nullptr && fp->tolerance > 0) || (ss != nullptr && ss->tolerance > 0),
                        ss != nullptr ? ss->scheme : solver::SplitScheme::strang);
  read_output(root, c.output);
  return c;
}

}  // namespace

namespace {

/// Refuses control characters (a NUL, an escape, ...) in every key and string value: they would
/// be cut or garbled in messages and in the text stored in the output (a NUL ends it, and the
/// output could then never be restarted).  Tabs and line ends are text.
void require_plain_strings(const Value& v, const std::string& key) {
  auto plain = [](const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char ch) {
      const auto u = static_cast<unsigned char>(ch);
      return (u < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || u == 0x7f;
    });
  };
  auto printable = [](const std::string& s) {
    std::string out;
    for (char ch : s) {
      const auto u = static_cast<unsigned char>(ch);
      if (u < 0x20 || u == 0x7f) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", u);
        out += b;
      } else {
        out += ch;
      }
    }
    return out;
  };
  if (v.is_table()) {
    for (const auto& [k, child] : v.as_table()) {
      const std::string sub = key.empty() ? k : key + "." + k;
      if (!plain(k)) throw_invalid(printable(sub), "a key with a control character", "a key of printable characters");
      require_plain_strings(child, sub);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) require_plain_strings(child, key);
  } else if (v.is_string() && !plain(v.as_string().str)) {
    throw_invalid(key, "\"" + core::shorten(printable(v.as_string().str), 80) + "\"",
                  "text without control characters (a NUL or an escape would cut or garble the stored configuration)");
  }
}

}  // namespace

std::string unset_override(const std::string& path) { return "-" + path; }

namespace {

/// Overrides, the strings check, the sections and the effective text: every front end's path
/// once its input is a TOML table.
RunConfig from_root(Value& v, const std::vector<std::string>& overrides, UnusedKeys unused) {
  Table& root = v.as_table();
  // --set objective.name=X choosing another objective, or schedule.kind=X another law: the old
  // one's keys (its parameters, f, file; T, c, table, ...) would not fit it, so the table starts
  // empty and holds only what the overrides give it, in any order.  Restating the same word
  // changes nothing.
  Table overridden;
  for (const auto& o : overrides)
    if (!o.starts_with('-')) apply_override(overridden, o);
  const std::tuple<std::string, std::string, std::string> choosers[] = {{"objective", "name", ObjectiveConfig{}.name},
                                                                         {"schedule", "kind", std::string(core::name_of(ScheduleConfig{}.kind))}};
  for (const auto& [section, key, default_word] : choosers) {
    const auto old_section = root.find(section);
    const auto new_section = overridden.find(section);
    if (new_section == overridden.end() || !new_section->second.is_table() || !new_section->second.as_table().contains(key)) continue;
    const bool had = old_section != root.end() && old_section->second.is_table() && old_section->second.as_table().contains(key);
    const Value was = had ? old_section->second.as_table().at(key) : Value(default_word);  // absent: the default
    if (was != new_section->second.as_table().at(key)) root[section] = Value(Table{});
  }
  for (const auto& o : overrides) apply_override(root, o);
  require_plain_strings(v, "");
  RunConfig c = from_table(root, unused);
  c.schedule.make().require_positive_until(c.t_end(), c.dt());
  c.text = to_toml(c);
  return c;
}

Value value_of(const ConfigValue& x) {
  return std::visit(
      [](const auto& v) -> Value {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::vector<ConfigValue>>) {
          Value::array_type a;
          for (const auto& e : v) a.push_back(value_of(e));
          return Value(std::move(a));
        } else if constexpr (std::is_same_v<V, long long>) {
          return Value(static_cast<toml::integer>(v));
        } else {
          return Value(v);
        }
      },
      x.value);
}

}  // namespace

RunConfig parse_config(const std::string& text, const std::vector<std::string>& overrides, const std::string& origin, UnusedKeys unused) {
  Value v = parse_toml(text, origin);
  return from_root(v, overrides, unused);
}

RunConfig parse_config(const ConfigData& data, const std::vector<std::string>& overrides, const std::string& origin) {
  Value v = Value(Table{});  // braces would make an array of one table
  for (const auto& [section, keys] : data) {
    if (v.as_table().contains(section)) throw_invalid(section, "given twice", "one table per section (" + origin + ")");
    Table t;
    for (const auto& [key, value] : keys) t[key] = value_of(value);
    v.as_table()[section] = Value(std::move(t));
  }
  return from_root(v, overrides, UnusedKeys::refuse);
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  // a regular file only: a FIFO without a writer would block the open forever, a device never end
  if (!std::filesystem::is_regular_file(path, ec))
    core::throw_invalid("config_file", "\"" + core::shorten(path, 200) + "\"",
                        std::filesystem::exists(path, ec) ? "a regular TOML file (not a directory, pipe or device)" : "an existing TOML file");
  std::ifstream in(path, std::ios::binary);
  if (!in) core::throw_invalid("config_file", "\"" + path + "\"", "a readable TOML file");
  // Read at most one byte past the limit, so that a huge file is refused without reading it all.
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  RunConfig c = parse_config(text, overrides, path);
  c.source_path = path;
  return c;
}
}  // namespace qtzflow::scenario
