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

namespace qtzflow::scenario {

namespace {

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;
using Table = Value::table_type;
using core::format_value;
using core::throw_invalid;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string type_name(const Value& v) {
  std::ostringstream o;
  o << v.type();
  return o.str();
}

/// A value as TOML text for messages, cut to a readable length (an input may be huge).
std::string show(const Value& v) {
  std::ostringstream o;
  o << v;
  std::string s = o.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return core::shorten(s, 80);
}

/// The text of a number as written in the TOML source (toml11 keeps the token's location).
std::string token_of(const Value& v) {
  const auto loc = v.location();
  const std::string line = loc.line_str();
  if (loc.column() == 0 || loc.column() - 1 >= line.size()) return show(v);
  std::string t = line.substr(loc.column() - 1, loc.region());
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  return t;
}

/// A TOML number as a double, refusing what the conversion would silently change: toml11 reads
/// 1e400 as DBL_MAX, 1e-400 as 0 and integers beyond 2^63 wrapped, so the token is re-read here.
double checked_number(const Value& v, const std::string& key) {
  const std::string token = token_of(v);
  errno = 0;
  if (v.is_integer()) {
    (void)std::strtoll(token.c_str(), nullptr, token.rfind("0x", 0) == 0 ? 16 : 10);
    if (errno == ERANGE) throw_invalid(key, core::shorten(token, 40), "an integer within [-2^63, 2^63)");
    return static_cast<double>(v.as_integer());
  }
  const double x = v.as_floating();
  if (std::isfinite(x)) {
    const double again = std::strtod(token.c_str(), nullptr);
    if (errno == ERANGE && (std::abs(again) == HUGE_VAL || std::abs(x) == std::numeric_limits<double>::max()))
      throw_invalid(key, core::shorten(token, 40), "a number of magnitude <= 1.7976931348623157e308");
    if (errno == ERANGE && again == 0) throw_invalid(key, core::shorten(token, 40), "0 or a number of magnitude >= 2.2250738585072014e-308");
  }
  return x;
}

/// Refuses, before toml11 sees it, text that would make its recursive parser run out of stack or
/// time: brackets or braces nested deeper than kMaxNesting, dotted keys longer than
/// kMaxKeyParts, and texts beyond kMaxConfigBytes.  Strings and comments are skipped.
constexpr int kMaxNesting = 32;
constexpr int kMaxKeyParts = 16;
constexpr std::size_t kMaxConfigBytes = std::size_t(1) << 20;

void check_toml_shape(const std::string& text, const std::string& origin) {
  if (text.size() > kMaxConfigBytes)
    throw core::InvalidArgument("config", origin + ": more than " + core::format_bytes(double(kMaxConfigBytes)) +
                                              " of text; a configuration must be at most " + core::format_bytes(double(kMaxConfigBytes)));
  int depth = 0, dots = 0, line = 1;
  bool in_key = true;  // at the start of a line, before '=': a key or a table header
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    auto at = [&] { return origin + ":" + std::to_string(line); };
    if (ch == '\n') {
      ++line;
      if (depth == 0) in_key = true, dots = 0;
    } else if (ch == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (ch == '"' || ch == '\'') {
      const bool triple = text.compare(i, 3, std::string(3, ch)) == 0;
      const std::string close = triple ? std::string(3, ch) : std::string(1, ch);
      std::size_t j = i + close.size();
      while (j < text.size() && text.compare(j, close.size(), close) != 0) {
        if (text[j] == '\n') {
          if (!triple) break;  // an unterminated string: toml11 reports it
          ++line;
        }
        j += (ch == '"' && text[j] == '\\') ? 2 : 1;
      }
      i = std::min(text.size(), j + close.size()) - 1;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxNesting)
        throw core::InvalidArgument("config", at() + ": arrays or inline tables nested deeper than " + std::to_string(kMaxNesting) + " levels");
      if (ch == '{') in_key = true, dots = 0;
    } else if (ch == ']' || ch == '}') {
      depth = std::max(0, depth - 1);
    } else if (ch == '=') {
      in_key = false;
    } else if (ch == ',' && depth > 0) {
      in_key = true, dots = 0;  // the next key of an inline table (harmless inside arrays)
    } else if (ch == '.' && in_key) {
      if (++dots >= kMaxKeyParts)
        throw core::InvalidArgument("config", at() + ": a dotted key of more than " + std::to_string(kMaxKeyParts) + " parts");
    }
  }
}

template <class E>
using NameTable = std::pair<std::string_view, E>;

// The configuration's spelling of every enum, in the order docs/config.md lists them.
constexpr NameTable<grids::Boundary> kBoundaries[] = {
    {"periodic", grids::Boundary::periodic}, {"reflecting", grids::Boundary::reflecting}, {"absorbing", grids::Boundary::absorbing}};
constexpr NameTable<potentials::Schedule::Kind> kScheduleKinds[] = {
    {"constant", potentials::Schedule::Kind::constant},   {"logarithmic", potentials::Schedule::Kind::logarithmic},
    {"geometric", potentials::Schedule::Kind::geometric}, {"paper", potentials::Schedule::Kind::paper},
    {"table", potentials::Schedule::Kind::table},         {"expression", potentials::Schedule::Kind::expression}};
constexpr NameTable<InitialKind> kInitialKinds[] = {
    {"gaussian", InitialKind::gaussian}, {"uniform", InitialKind::uniform}, {"gibbs", InitialKind::gibbs}};
constexpr NameTable<solver::TimeMode> kModes[] = {{"real", solver::TimeMode::real}, {"imaginary", solver::TimeMode::imaginary}};
constexpr NameTable<potentials::PotentialKind> kPotentials[] = {{"witten", potentials::PotentialKind::witten},
                                                                {"objective", potentials::PotentialKind::objective}};
constexpr NameTable<solver::SplitScheme> kSplitSchemes[] = {
    {"strang", solver::SplitScheme::strang}, {"yoshida4", solver::SplitScheme::yoshida4}, {"chin4", solver::SplitScheme::chin4}};
constexpr NameTable<grids::PlanRigor> kPlanning[] = {
    {"estimate", grids::PlanRigor::estimate}, {"measure", grids::PlanRigor::measure}, {"patient", grids::PlanRigor::patient}};
constexpr NameTable<solver::FpScheme> kFpSchemes[] = {{"backward_euler", solver::FpScheme::backward_euler},
                                                      {"crank_nicolson", solver::FpScheme::crank_nicolson},
                                                      {"extrapolated_euler", solver::FpScheme::extrapolated_euler}};
constexpr NameTable<particles::QtzClock> kClocks[] = {{"fokker_planck", particles::QtzClock::fokker_planck}, {"moves", particles::QtzClock::moves}};
constexpr NameTable<particles::ParticleDynamics> kDynamics[] = {{"langevin", particles::ParticleDynamics::langevin},
                                                                {"qtz-local", particles::ParticleDynamics::qtz_local},
                                                                {"qtz-dither", particles::ParticleDynamics::qtz_dither}};

template <class E, std::size_t N>
std::string_view name_of(const NameTable<E> (&table)[N], E value) {
  for (const auto& [name, v] : table)
    if (v == value) return name;
  throw core::Error("scenario: an enum value without a configuration name");  // a table is incomplete: a bug
}

/// Reads the keys of one section, remembering which were used so that the rest can be
/// reported as unknown.
class Section {
 public:
  Section(const Table* t, std::string name) : t_(t), name_(std::move(name)) {}
  std::string key(const std::string& k) const { return name_ + "." + k; }
  const Value* find(const std::string& k) {
    known_.push_back(k);
    if (t_ == nullptr) return nullptr;
    const auto it = t_->find(k);
    return it == t_->end() ? nullptr : &it->second;
  }
  static bool is_number(const Value& v) { return v.is_integer() || v.is_floating(); }
  static double as_number(const Value& v) { return v.is_integer() ? static_cast<double>(v.as_integer()) : v.as_floating(); }

  double number(const std::string& k, double def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!is_number(*v)) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "a number");
    const double x = checked_number(*v, key(k));
    core::require_finite(key(k), x);
    return x;
  }
  long integer(const std::string& k, long def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!v->is_integer()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "an integer");
    checked_number(*v, key(k));
    return static_cast<long>(v->as_integer());
  }
  std::string word(const std::string& k, const std::string& def, const std::vector<std::string>& allowed = {}) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!v->is_string()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "a string");
    std::string s = v->as_string().str;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      throw_invalid(key(k), "\"" + s + "\"", "one of " + join(allowed));
    return s;
  }
  /// A word from `table`, returned as its enum value.
  template <class E, std::size_t N>
  E choice(const std::string& k, E def, const NameTable<E> (&table)[N]) {
    std::vector<std::string> allowed;
    for (const auto& [name, v] : table) allowed.emplace_back(name);
    const std::string w = word(k, std::string(name_of(table, def)), allowed);
    for (const auto& [name, v] : table)
      if (name == w) return v;
    return def;  // unreachable: word() accepts only the table's names
  }
  std::vector<double> numbers(const std::string& k, std::vector<double> def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    std::vector<double> out;
    if (!v->is_array()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "an array of numbers");
    for (const auto& e : v->as_array()) {
      if (!is_number(e)) throw_invalid(key(k), show(*v), "an array of numbers");
      out.push_back(checked_number(e, key(k)));
      core::require_finite(key(k), out.back());
    }
    return out;
  }
  /// Keys not asked for are errors.
  void finish() const {
    if (t_ == nullptr) return;
    for (const auto& [k, v] : *t_)
      if (std::find(known_.begin(), known_.end(), k) == known_.end())
        throw core::InvalidArgument(key(k), key(k) + ": unknown key; known keys of [" + name_ + "]: " + join(known_));
  }

 private:
  const Table* t_;
  std::string name_;
  std::vector<std::string> known_;
};

const Table* section_table(const Table& root, const std::string& name) {
  const auto it = root.find(name);
  if (it == root.end()) return nullptr;
  if (!it->second.is_table()) throw_invalid(name, show(it->second), "a table ([" + name + "])");
  return &it->second.as_table();
}

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

/// The run counts steps in 64-bit integers and times as step·dt: beyond 2^53 steps neither is exact.
void require_step_count(const std::string& section, double t_end, double dt) {
  constexpr double kMaxSteps = 9007199254740992.0;  // 2^53
  if (!(t_end / dt <= kMaxSteps))
    throw_invalid(section + ".t_end", format_value(t_end) + " (t_end/dt = " + format_value(t_end / dt) + " steps)",
                  "at most 2^53 = 9.0e15 steps of " + section + ".dt = " + format_value(dt));
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

RunConfig from_table(const Table& root) {
  static const std::vector<std::string> sections{"grid", "objective", "schedule", "initial", "schrodinger", "fokker_planck", "particles", "output"};
  for (const auto& [name, v] : root) {
    if (std::find(sections.begin(), sections.end(), name) == sections.end())
      throw core::InvalidArgument(name, name + ": unknown section; known sections: " + join(sections));
  }
  RunConfig c;

  Section g(section_table(root, "grid"), "grid");
  {
    const Value* n = g.find("n");
    if (n != nullptr) {
      if (!n->is_array() || n->as_array().empty() || n->as_array().size() > 3)
        throw_invalid("grid.n", show(*n), "an array of 1 to 3 integers (points per axis)");
      c.grid.n.clear();
      for (const auto& e : n->as_array()) {
        if (!e.is_integer()) throw_invalid("grid.n", show(*n), "an array of integers");
        checked_number(e, "grid.n");
        if (e.as_integer() < 2) throw_invalid("grid.n", show(*n), "integers >= 2");
        c.grid.n.push_back(static_cast<std::size_t>(e.as_integer()));
      }
    }
    const std::size_t d = c.grid.n.size();
    c.grid.lower = g.numbers("lower", std::vector<double>(d, -2.5));
    c.grid.upper = g.numbers("upper", std::vector<double>(d, 2.5));
    require_length("grid.lower", c.grid.lower.size(), d);
    require_length("grid.upper", c.grid.upper.size(), d);
    for (std::size_t a = 0; a < d; ++a)
      if (!(c.grid.lower[a] < c.grid.upper[a]))
        throw_invalid("grid.upper", format_value(c.grid.upper[a]) + " on axis " + std::to_string(a),
                      "> grid.lower = " + format_value(c.grid.lower[a]));
    c.grid.boundary = g.choice("boundary", grids::Boundary::periodic, kBoundaries);
    g.finish();
  }
  const std::size_t d = c.grid.n.size();

  {
    const Table* t = section_table(root, "objective");
    Section o(t, "objective");
    c.objective.name = o.word("name", "double_well");
    const bool expression = c.objective.is_expression(), sampled = c.objective.is_sampled();
    if (expression) {
      c.objective.formula = o.word("f", "");
      if (c.objective.formula.empty())
        throw_invalid("objective.f", "missing or empty", "a formula in x, y, z (or x0, x1, ...), e.g. f = \"(x^2-1)^2 + 0.3*x\"");
      // domain = [lo, hi] (every axis) or [[lo, hi], ...] (one pair per axis)
      if (const Value* dom = o.find("domain")) {
        if (!dom->is_array() || dom->as_array().empty()) throw_invalid("objective.domain", show(*dom), "[lower, upper] or [[lower, upper], ...]");
        const auto& arr = dom->as_array();
        auto pair = [&](const Value& p) {
          if (!p.is_array() || p.as_array().size() != 2 || !Section::is_number(p.as_array()[0]) || !Section::is_number(p.as_array()[1]))
            throw_invalid("objective.domain", show(*dom), "[lower, upper] or [[lower, upper], ...] with numbers");
          c.objective.lower.push_back(checked_number(p.as_array()[0], "objective.domain"));
          c.objective.upper.push_back(checked_number(p.as_array()[1], "objective.domain"));
        };
        if (arr[0].is_array()) {
          for (const auto& p : arr) pair(p);
          require_length("objective.domain", c.objective.lower.size(), d);
        } else {
          pair(*dom);
          c.objective.lower.assign(d, c.objective.lower[0]);
          c.objective.upper.assign(d, c.objective.upper[0]);
        }
      }
    }
    if (sampled) {
      const std::string file = o.word("file", "");
      if (file.empty()) throw_invalid("objective.file", "missing or empty", "an HDF5 file holding f on the run's grid, e.g. file = \"f.h5\"");
      std::error_code ec;
      const auto abs = std::filesystem::absolute(file, ec);  // the stored config then works from any folder
      c.objective.file = ec ? file : abs.lexically_normal().string();
      c.objective.dataset = o.word("dataset", "f");
      if (c.objective.dataset.empty()) throw_invalid("objective.dataset", "\"\"", "the path of a dataset in objective.file, e.g. \"f\"");
    }
    if (expression || sampled) {
      if (const Value* mins = o.find("minima")) {
        if (!mins->is_array()) throw_invalid("objective.minima", show(*mins), "an array of points, e.g. [[-1.0], [1.0]]");
        for (const auto& p : mins->as_array()) {
          if (!p.is_array()) throw_invalid("objective.minima", show(*mins), "an array of points, e.g. [[-1.0], [1.0]]");
          std::vector<double> x;
          for (const auto& e : p.as_array()) {
            if (!Section::is_number(e)) throw_invalid("objective.minima", show(p), "a point of numbers");
            x.push_back(checked_number(e, "objective.minima"));
          }
          require_length("objective.minima", x.size(), d);
          c.objective.minima.push_back(std::move(x));
        }
      }
    }
    if (t != nullptr)
      for (const auto& [k, v] : *t) {
        const bool expression_key = k == "f" || k == "domain", sampled_key = k == "file" || k == "dataset";
        if (k == "name" || (expression && expression_key) || (sampled && sampled_key) || ((expression || sampled) && k == "minima")) continue;
        if (expression_key)
          throw_invalid("objective." + k, show(v), "absent unless objective.name = \"expression\" (a built-in has its own formula and domain)");
        if (sampled_key) throw_invalid("objective." + k, show(v), "absent unless objective.name = \"sampled\"");
        if (k == "minima")
          throw_invalid("objective." + k, show(v), "absent unless objective.name = \"expression\" or \"sampled\" (a built-in knows its minima)");
        if (sampled) throw_invalid("objective." + k, show(v), "absent: objective.name = \"sampled\" takes file, dataset and minima only");
        if (Section::is_number(v))
          c.objective.params[k] = {checked_number(v, "objective." + k)};
        else if (v.is_array())
          c.objective.params[k] = o.numbers(k, {});
        else
          throw_invalid("objective." + k, show(v) + " (" + type_name(v) + ")", "a number or an array of numbers");
      }
  }

  {
    Section s(section_table(root, "schedule"), "schedule");
    c.schedule.kind = s.choice("kind", potentials::Schedule::Kind::constant, kScheduleKinds);
    c.schedule.T = s.number("T", 0.5);
    c.schedule.c = s.number("c", 1.0);
    c.schedule.gamma = s.number("gamma", 0.99);
    c.schedule.C_q = s.number("C_q", 2.0);
    c.schedule.eta = s.number("eta", 1.0);
    c.schedule.tau = s.number("tau", 1.0);
    core::require_positive("schedule.C_q", c.schedule.C_q);
    core::require_positive("schedule.eta", c.schedule.eta);
    core::require_positive("schedule.tau", c.schedule.tau);
    core::require_positive("schedule.T", c.schedule.T);
    core::require_positive("schedule.c", c.schedule.c);
    if (!(c.schedule.gamma > 0 && c.schedule.gamma < 1)) throw_invalid("schedule.gamma", format_value(c.schedule.gamma), "in (0, 1)");
    using SK = potentials::Schedule::Kind;
    const Value* tab = s.find("table");
    const Value* file = s.find("file");
    const Value* formula = s.find("formula");
    if (c.schedule.kind == SK::table) {
      if ((tab == nullptr) == (file == nullptr))
        throw_invalid("schedule.table", tab ? "both table and file" : "neither table nor file",
                      "one of schedule.table = [[t, T], ...] or schedule.file");
      if (tab) {
        if (!tab->is_array()) throw_invalid("schedule.table", show(*tab), "an array of [t, T] pairs");
        for (const auto& p : tab->as_array()) {
          if (!p.is_array() || p.as_array().size() != 2 || !Section::is_number(p.as_array()[0]) || !Section::is_number(p.as_array()[1]))
            throw_invalid("schedule.table", show(p), "a [t, T] pair of numbers");
          c.schedule.table_t.push_back(checked_number(p.as_array()[0], "schedule.table"));
          c.schedule.table_T.push_back(checked_number(p.as_array()[1], "schedule.table"));
        }
      } else {
        if (!file->is_string()) throw_invalid("schedule.file", show(*file), "a file name (two columns: t and T)");
        read_schedule_file(file->as_string().str, c.schedule);
      }
    } else if (tab || file) {
      throw_invalid(tab ? "schedule.table" : "schedule.file", "given", "absent unless schedule.kind = \"table\"");
    }
    if (c.schedule.kind == SK::expression) {
      if (formula == nullptr || !formula->is_string() || formula->as_string().str.empty())
        throw_invalid("schedule.formula", formula ? show(*formula) : "missing", "a formula in t, e.g. formula = \"0.5/ln(t + 2)\"");
      c.schedule.formula = formula->as_string().str;
    } else if (formula) {
      throw_invalid("schedule.formula", show(*formula), "absent unless schedule.kind = \"expression\"");
    }
    c.schedule.make();  // knots and formula checked here, with their keys
    s.finish();
  }

  {
    Section i(section_table(root, "initial"), "initial");
    c.initial.kind = i.choice("kind", InitialKind::gaussian, kInitialKinds);
    std::vector<double> centre(d), width(d);
    for (std::size_t a = 0; a < d; ++a) {
      centre[a] = 0.5 * (c.grid.lower[a] + c.grid.upper[a]);
      width[a] = 0.1 * (c.grid.upper[a] - c.grid.lower[a]);
    }
    c.initial.center = i.numbers("center", centre);
    c.initial.width = i.numbers("width", width);
    require_length("initial.center", c.initial.center.size(), d);
    require_length("initial.width", c.initial.width.size(), d);
    for (std::size_t a = 0; a < d; ++a) {
      core::require_in_range("initial.center", c.initial.center[a], c.grid.lower[a], c.grid.upper[a]);
      core::require_positive("initial.width", c.initial.width[a]);
    }
    c.initial.relax_time = i.number("relax_time", 0.0);
    core::require_non_negative("initial.relax_time", c.initial.relax_time);
    i.finish();
  }

  // The engine sections: each is read (so that its keys are checked) even when absent; exactly one
  // must be present.
  const Table* ts = section_table(root, "schrodinger");
  const Table* tf = section_table(root, "fokker_planck");
  const Table* tp = section_table(root, "particles");
  const int engines = int(ts != nullptr) + int(tf != nullptr) + int(tp != nullptr);
  SchrodingerConfig sc;
  {
    Section s(ts, "schrodinger");
    sc.mode = s.choice("mode", solver::TimeMode::real, kModes);
    sc.potential = s.choice("potential", potentials::PotentialKind::witten, kPotentials);
    sc.scheme = s.choice("scheme", solver::SplitScheme::strang, kSplitSchemes);
    sc.dt = s.number("dt", 1e-3);
    sc.t_end = s.number("t_end", 1.0);
    sc.absorber_width = s.number("absorber_width", 0.0);
    sc.absorber_strength = s.number("absorber_strength", 0.0);
    sc.fft_planning = s.choice("fft_planning", grids::PlanRigor::measure, kPlanning);
    core::require_positive("schrodinger.dt", sc.dt);
    core::require_positive("schrodinger.t_end", sc.t_end);
    if (sc.t_end < sc.dt) throw_invalid("schrodinger.t_end", format_value(sc.t_end), ">= schrodinger.dt = " + format_value(sc.dt));
    require_step_count("schrodinger", sc.t_end, sc.dt);
    core::require_non_negative("schrodinger.absorber_width", sc.absorber_width);
    core::require_non_negative("schrodinger.absorber_strength", sc.absorber_strength);
    if (sc.mode == solver::TimeMode::imaginary && sc.scheme == solver::SplitScheme::yoshida4)
      throw_invalid("schrodinger.scheme", "\"yoshida4\"",
                    "\"strang\" or \"chin4\" in imaginary time (the triple jump's negative sub-step is ill-posed there)");
    if (ts != nullptr && c.grid.boundary != grids::Boundary::periodic)
      throw_invalid("grid.boundary", "\"" + std::string(config_name(c.grid.boundary)) + "\"", "\"periodic\" for the [schrodinger] engine");
    s.finish();
  }
  FokkerPlanckConfig fc;
  {
    Section s(tf, "fokker_planck");
    fc.scheme = s.choice("scheme", solver::FpScheme::backward_euler, kFpSchemes);
    fc.dt = s.number("dt", 1e-3);
    fc.t_end = s.number("t_end", 1.0);
    core::require_positive("fokker_planck.dt", fc.dt);
    core::require_positive("fokker_planck.t_end", fc.t_end);
    if (fc.t_end < fc.dt) throw_invalid("fokker_planck.t_end", format_value(fc.t_end), ">= fokker_planck.dt = " + format_value(fc.dt));
    require_step_count("fokker_planck", fc.t_end, fc.dt);
    if (tf != nullptr && c.initial.relax_time != 0)
      throw_invalid("initial.relax_time", format_value(c.initial.relax_time), "0 with [fokker_planck] (relaxation is a Schrodinger device)");
    s.finish();
  }
  ParticlesConfig pc;
  {
    Section s(tp, "particles");
    auto& p = pc;
    p.algorithm = s.choice("algorithm", particles::ParticleDynamics::langevin, kDynamics);
    p.count = s.integer("count", 100000);
    p.seed = s.integer("seed", 1);
    p.dt = s.number("dt", 1e-3);
    p.t_end = s.number("t_end", 1.0);
    p.delta = s.number("delta", 0.1);
    // the dithered quantizer runs in Fokker-Planck time by default; the plain one has no such
    // limit (its lowest-band law), Langevin is in FP time by construction
    const auto natural = p.algorithm == particles::ParticleDynamics::qtz_local ? particles::QtzClock::moves : particles::QtzClock::fokker_planck;
    p.clock = s.choice("clock", natural, kClocks);
    p.moves_per_dt = s.integer("moves_per_dt", 4);
    core::require_at_least("particles.moves_per_dt", p.moves_per_dt, 1);
    if (p.moves_per_dt > 1000000) throw_invalid("particles.moves_per_dt", std::to_string(p.moves_per_dt), "at most 10^6");
    if (p.clock != natural && p.algorithm != particles::ParticleDynamics::qtz_dither)
      throw_invalid("particles.clock", "\"" + std::string(name_of(kClocks, p.clock)) + "\"",
                    p.algorithm == particles::ParticleDynamics::langevin
                        ? "\"fokker_planck\" for langevin (its step is Fokker-Planck time)"
                        : "\"moves\" for qtz-local (the plain quantizer has no Fokker-Planck limit)");
    core::require_at_least("particles.count", p.count, 1);
    core::require_at_least("particles.seed", p.seed, 0);
    core::require_positive("particles.dt", p.dt);
    core::require_positive("particles.t_end", p.t_end);
    core::require_positive("particles.delta", p.delta);
    if (p.t_end < p.dt) throw_invalid("particles.t_end", format_value(p.t_end), ">= particles.dt = " + format_value(p.dt));
    require_step_count("particles", p.t_end, p.dt);
    if (tp != nullptr && c.initial.relax_time != 0)
      throw_invalid("initial.relax_time", format_value(c.initial.relax_time), "0 with [particles] (relaxation is a Schrodinger device)");
    if (tp != nullptr && c.initial.kind == InitialKind::gibbs)
      throw_invalid("initial.kind", "\"gibbs\"", "\"gaussian\" or \"uniform\" with [particles]");
    if (tp != nullptr && c.grid.boundary == grids::Boundary::absorbing)
      throw_invalid("grid.boundary", "\"absorbing\"", "\"reflecting\" or \"periodic\" with [particles]");
    s.finish();
  }
  if (engines != 1)
    throw core::InvalidArgument(ts != nullptr ? (tf != nullptr ? "fokker_planck" : "particles")
                                : engines     ? "particles"
                                              : "schrodinger",
                                engines > 1 ? "one engine section per run ([schrodinger], [fokker_planck] or [particles])"
                                            : "no engine section: add [schrodinger], [fokker_planck] or [particles]");
  if (tf != nullptr)
    c.engine = fc;
  else if (tp != nullptr)
    c.engine = pc;
  else
    c.engine = sc;

  // Memory: refuse a size that cannot fit before anything is allocated.
  double points = 1;
  for (std::size_t n : c.grid.n) points *= static_cast<double>(n);
  require_engine_memory(tf != nullptr   ? EngineKind::fokker_planck
                        : tp != nullptr ? EngineKind::particles
                                        : EngineKind::schrodinger,
                        points, d, tp != nullptr ? static_cast<double>(pc.count) : 0);

  {
    Section o(section_table(root, "output"), "output");
    c.output.path = o.word("path", "qtzflow.h5");
    if (c.output.path.empty()) throw_invalid("output.path", "\"\"", "a file name");
    c.output.every = o.integer("every", 100);
    core::require_at_least("output.every", c.output.every, 1);
    c.output.diagnostics_every = o.integer("diagnostics_every", c.output.every);
    core::require_at_least("output.diagnostics_every", c.output.diagnostics_every, 1);
    if (const Value* pp = o.find("particle_positions")) {
      if (!pp->is_boolean()) throw_invalid("output.particle_positions", show(*pp), "true or false");
      c.output.particle_positions = pp->as_boolean();
    }
    o.finish();
  }
  return c;
}

std::string quoted(std::string_view s) {
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

template <class T>
std::string array(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      s += (i ? ", " : "") + format_value(v[i]);
    else
      s += (i ? ", " : "") + std::to_string(v[i]);
  }
  return s + "]";
}

/// Every key of the configuration, defaults included, as TOML that parse_config reads back.
std::string to_toml(const RunConfig& c) {
  std::ostringstream o;
  o << "[grid]\nn = " << array(c.grid.n) << "\nlower = " << array(c.grid.lower) << "\nupper = " << array(c.grid.upper)
    << "\nboundary = " << quoted(name_of(kBoundaries, c.grid.boundary)) << "\n\n";
  o << "[objective]\nname = " << quoted(c.objective.name) << "\n";
  if (c.objective.is_expression()) {
    o << "f = " << quoted(c.objective.formula) << "\n";
    if (!c.objective.lower.empty()) {
      o << "domain = [";
      for (std::size_t a = 0; a < c.objective.lower.size(); ++a)
        o << (a ? ", " : "") << "[" << format_value(c.objective.lower[a]) << ", " << format_value(c.objective.upper[a]) << "]";
      o << "]\n";
    }
  }
  if (c.objective.is_sampled()) o << "file = " << quoted(c.objective.file) << "\ndataset = " << quoted(c.objective.dataset) << "\n";
  if (!c.objective.minima.empty()) {
    o << "minima = [";
    for (std::size_t k = 0; k < c.objective.minima.size(); ++k) o << (k ? ", " : "") << array(c.objective.minima[k]);
    o << "]\n";
  }
  for (const auto& [k, v] : c.objective.params) o << k << " = " << (v.size() == 1 ? format_value(v[0]) : array(v)) << "\n";
  o << "\n[schedule]\nkind = " << quoted(name_of(kScheduleKinds, c.schedule.kind)) << "\nT = " << format_value(c.schedule.T)
    << "\nc = " << format_value(c.schedule.c) << "\ngamma = " << format_value(c.schedule.gamma) << "\nC_q = " << format_value(c.schedule.C_q)
    << "\neta = " << format_value(c.schedule.eta) << "\ntau = " << format_value(c.schedule.tau) << "\n";
  if (c.schedule.kind == potentials::Schedule::Kind::table) {  // the knots themselves, also when read from a file
    o << "table = [";
    for (std::size_t k = 0; k < c.schedule.table_t.size(); ++k)
      o << (k ? ", " : "") << "[" << format_value(c.schedule.table_t[k]) << ", " << format_value(c.schedule.table_T[k]) << "]";
    o << "]\n";
  }
  if (c.schedule.kind == potentials::Schedule::Kind::expression) o << "formula = " << quoted(c.schedule.formula) << "\n";
  o << "\n";
  o << "[initial]\nkind = " << quoted(name_of(kInitialKinds, c.initial.kind)) << "\ncenter = " << array(c.initial.center)
    << "\nwidth = " << array(c.initial.width) << "\nrelax_time = " << format_value(c.initial.relax_time) << "\n\n";
  if (const auto* f = std::get_if<FokkerPlanckConfig>(&c.engine)) {
    o << "[fokker_planck]\nscheme = " << quoted(name_of(kFpSchemes, f->scheme)) << "\ndt = " << format_value(f->dt)
      << "\nt_end = " << format_value(f->t_end) << "\n\n";
  } else if (const auto* p = std::get_if<ParticlesConfig>(&c.engine)) {
    o << "[particles]\nalgorithm = " << quoted(name_of(kDynamics, p->algorithm)) << "\ncount = " << p->count << "\nseed = " << p->seed
      << "\ndt = " << format_value(p->dt) << "\nt_end = " << format_value(p->t_end) << "\ndelta = " << format_value(p->delta)
      << "\nclock = " << quoted(name_of(kClocks, p->clock)) << "\nmoves_per_dt = " << p->moves_per_dt << "\n\n";
  } else {
    const auto& s = std::get<SchrodingerConfig>(c.engine);
    o << "[schrodinger]\nmode = " << quoted(name_of(kModes, s.mode)) << "\npotential = " << quoted(name_of(kPotentials, s.potential))
      << "\nscheme = " << quoted(name_of(kSplitSchemes, s.scheme)) << "\ndt = " << format_value(s.dt) << "\nt_end = " << format_value(s.t_end)
      << "\nabsorber_width = " << format_value(s.absorber_width) << "\nabsorber_strength = " << format_value(s.absorber_strength)
      << "\nfft_planning = " << quoted(name_of(kPlanning, s.fft_planning)) << "\n\n";
  }
  o << "[output]\npath = " << quoted(c.output.path) << "\nevery = " << c.output.every << "\ndiagnostics_every = " << c.output.diagnostics_every
    << "\n";
  if (!c.output.particle_positions) o << "particle_positions = false\n";  // written only when off: older outputs compare equal
  return o.str();
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

RunConfig parse_config(const std::string& text, const std::vector<std::string>& overrides, const std::string& origin) {
  check_toml_shape(text, origin);
  Value v;
  try {
    std::istringstream in(text);
    v = toml::parse<toml::discard_comments, std::map, std::vector>(in, origin);
  } catch (const toml::exception& e) {
    throw core::InvalidArgument("config", "TOML syntax error in " + core::shorten(e.what(), 600));
  }
  Table& root = v.as_table();
  // --set objective.name=X choosing another objective: the old one's keys (its parameters, f,
  // file, ...) would not fit it, so the [objective] table starts empty and holds only what the
  // overrides give it, in any order.  Restating the objective's own name changes nothing.
  Table overridden;
  for (const auto& o : overrides)
    if (!o.starts_with('-')) apply_override(overridden, o);
  const auto old_objective = root.find("objective");
  const auto new_objective = overridden.find("objective");
  if (new_objective != overridden.end() && new_objective->second.is_table() && new_objective->second.as_table().contains("name") &&
      (old_objective == root.end() || !old_objective->second.is_table() || !old_objective->second.as_table().contains("name") ||
       old_objective->second.as_table().at("name") != new_objective->second.as_table().at("name")))
    root["objective"] = Value(Table{});
  for (const auto& o : overrides) apply_override(root, o);
  require_plain_strings(v, "");
  RunConfig c = from_table(root);
  c.schedule.make().require_positive_until(c.t_end(), c.dt());
  c.text = to_toml(c);
  return c;
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

void require_engine_memory(EngineKind engine, double points, int dims, double particles) {
  // Per grid point: the landscape (f, |grad f|^2, Laplacian) and the basin labels, ~28 B, plus
  // the engine's arrays: split-step ~20 doubles (state, phases, potential, FFT work, output),
  // Fokker-Planck ~8 + 12 d doubles (density, work, the coefficients of every axis' factors),
  // particles a histogram.
  const double d = static_cast<double>(dims);
  const double per_point = engine == EngineKind::fokker_planck ? 28 + 8 * (8 + 12 * d) : engine == EngineKind::particles ? 28 + 16 : 28 + 8 * 20;
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

std::vector<std::string> config_differences(const RunConfig& was, const RunConfig& now) {
  // Both texts are to_toml's canonical form: one "key = value" per line under "[section]".
  auto keyed = [](const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line, section;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line.front() == '[') {
        section = line.substr(1, line.size() - 2);
        out[section] = "";  // an engine section present in one text only shows as a difference
        continue;
      }
      const auto eq = line.find(" = ");
      if (eq != std::string::npos) out[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
    }
    return out;
  };
  const auto a = keyed(was.text), b = keyed(now.text);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<std::string> diff;
  for (const auto& k : keys) {
    // keys of a section only one side has: the section's own line says it
    const auto dot = k.find('.');
    if (dot != std::string::npos && (a.count(k.substr(0, dot)) == 0 || b.count(k.substr(0, dot)) == 0)) continue;
    const auto ia = a.find(k), ib = b.find(k);
    const std::string va = ia == a.end() ? "(absent)" : ia->second.empty() ? "(present)" : ia->second;
    const std::string vb = ib == b.end() ? "(absent)" : ib->second.empty() ? "(present)" : ib->second;
    if (va != vb) diff.push_back(k + ": " + core::shorten(va, 60) + " -> " + core::shorten(vb, 60));
  }
  return diff;
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

namespace {
template <class E, std::size_t N>
E parse_word(const NameTable<E> (&table)[N], std::string_view word, const std::string& key) {
  std::string allowed;
  for (const auto& [name, v] : table) {
    if (name == word) return v;
    allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  }
  core::throw_invalid(key, "\"" + core::shorten(std::string(word), 60) + "\"", "one of " + allowed);
}
}  // namespace

grids::Boundary parse_boundary(std::string_view w, const std::string& key) { return parse_word(kBoundaries, w, key); }
solver::TimeMode parse_time_mode(std::string_view w, const std::string& key) { return parse_word(kModes, w, key); }
potentials::PotentialKind parse_potential(std::string_view w, const std::string& key) { return parse_word(kPotentials, w, key); }
solver::SplitScheme parse_split_scheme(std::string_view w, const std::string& key) { return parse_word(kSplitSchemes, w, key); }
grids::PlanRigor parse_planning(std::string_view w, const std::string& key) { return parse_word(kPlanning, w, key); }
solver::FpScheme parse_fp_scheme(std::string_view w, const std::string& key) { return parse_word(kFpSchemes, w, key); }
particles::QtzClock parse_clock(std::string_view w, const std::string& key) { return parse_word(kClocks, w, key); }
particles::ParticleDynamics parse_dynamics(std::string_view w, const std::string& key) { return parse_word(kDynamics, w, key); }

std::string_view config_name(grids::Boundary v) { return name_of(kBoundaries, v); }
std::string_view config_name(particles::ParticleDynamics v) { return name_of(kDynamics, v); }

}  // namespace qtzflow::scenario
