// The configuration as canonical TOML (to_toml) and the comparison of two canonical texts
// (config_differences).  The canonical text holds every key the configuration uses, defaults
// included, one "key = value" per line under "[section]", and no key its choices leave unused
// (the *::unused_reason functions of config.cpp decide, as they do for the reader).
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "scenario/config.hpp"

namespace qtzflow::scenario {

namespace {

using core::format_value;

std::string quoted(std::string_view s) {
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

template <class E>
std::string word(E v) {
  return quoted(core::name_of(v));
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

void write_objective(std::ostream& o, const ObjectiveConfig& obj) {
  o << "[objective]\nname = " << quoted(obj.name) << "\n";
  if (obj.is_expression()) {
    o << "f = " << quoted(obj.formula) << "\n";
    if (!obj.lower.empty()) {
      o << "domain = [";
      for (std::size_t a = 0; a < obj.lower.size(); ++a)
        o << (a ? ", " : "") << "[" << format_value(obj.lower[a]) << ", " << format_value(obj.upper[a]) << "]";
      o << "]\n";
    }
  }
  if (obj.is_sampled()) o << "file = " << quoted(obj.file) << "\ndataset = " << quoted(obj.dataset) << "\n";
  if (!obj.minima.empty()) {
    o << "minima = [";
    for (std::size_t k = 0; k < obj.minima.size(); ++k) o << (k ? ", " : "") << array(obj.minima[k]);
    o << "]\n";
  }
  for (const auto& [k, v] : obj.params) o << k << " = " << (v.size() == 1 ? format_value(v[0]) : array(v)) << "\n";
  o << "\n";
}

void write_schedule(std::ostream& o, const ScheduleConfig& s, bool qtz_moves) {
  o << "[schedule]\nkind = " << word(s.kind) << "\n";
  const std::pair<const char*, double> numbers[] = {{"T", s.T}, {"c", s.c}, {"gamma", s.gamma}, {"C_q", s.C_q}, {"eta", s.eta}, {"tau", s.tau}};
  for (const auto& [key, value] : numbers)
    if (s.unused_reason(key, qtz_moves).empty()) o << key << " = " << format_value(value) << "\n";
  if (s.kind == potentials::Schedule::Kind::table) {  // the knots themselves, also when read from a file
    o << "table = [";
    for (std::size_t k = 0; k < s.table_t.size(); ++k)
      o << (k ? ", " : "") << "[" << format_value(s.table_t[k]) << ", " << format_value(s.table_T[k]) << "]";
    o << "]\n";
  }
  if (s.kind == potentials::Schedule::Kind::expression) o << "formula = " << quoted(s.formula) << "\n";
  o << "\n";
}

void write_initial(std::ostream& o, const InitialConfig& i, bool schrodinger) {
  o << "[initial]\nkind = " << word(i.kind) << "\n";
  if (i.unused_reason("center", schrodinger).empty()) o << "center = " << array(i.center) << "\nwidth = " << array(i.width) << "\n";
  if (i.unused_reason("relax_time", schrodinger).empty()) o << "relax_time = " << format_value(i.relax_time) << "\n";
  o << "\n";
}

void write_engine(std::ostream& o, const SchrodingerConfig& s) {
  o << "[schrodinger]\nmode = " << word(s.mode) << "\npotential = " << word(s.potential) << "\nscheme = " << word(s.scheme)
    << "\ndt = " << format_value(s.dt) << "\nt_end = " << format_value(s.t_end) << "\nabsorber_width = " << format_value(s.absorber_width) << "\n";
  if (s.unused_reason("absorber_strength").empty()) o << "absorber_strength = " << format_value(s.absorber_strength) << "\n";
  if (s.tolerance > 0) o << "tolerance = " << format_value(s.tolerance) << "\n";
  if (s.unused_reason("dt_min").empty()) o << "dt_min = " << format_value(s.dt_min) << "\n";
  o << "fft_planning = " << word(s.fft_planning) << "\n\n";
}

void write_engine(std::ostream& o, const FokkerPlanckConfig& f) {
  o << "[fokker_planck]\nscheme = " << word(f.scheme) << "\ndt = " << format_value(f.dt) << "\nt_end = " << format_value(f.t_end) << "\n";
  if (f.tolerance > 0) o << "tolerance = " << format_value(f.tolerance) << "\n";
  if (f.unused_reason("dt_min").empty()) o << "dt_min = " << format_value(f.dt_min) << "\n";
  if (f.line_solve != solver::LineSolve::partitioned) o << "line_solve = " << word(f.line_solve) << "\n";
  o << "\n";
}

void write_engine(std::ostream& o, const ParticlesConfig& p) {
  o << "[particles]\nalgorithm = " << word(p.algorithm) << "\ncount = " << p.count << "\nseed = " << p.seed << "\ndt = " << format_value(p.dt)
    << "\nt_end = " << format_value(p.t_end) << "\n";
  if (p.unused_reason("delta").empty()) o << "delta = " << format_value(p.delta) << "\n";
  if (p.algorithm == particles::ParticleDynamics::qtz_dither) o << "clock = " << word(p.clock) << "\n";  // the others have one clock
  if (p.unused_reason("moves_per_dt").empty()) o << "moves_per_dt = " << p.moves_per_dt << "\n";
  o << "\n";
}

}  // namespace

std::string to_toml(const RunConfig& c) {
  std::ostringstream o;
  o << "[grid]\nn = " << array(c.grid.n) << "\nlower = " << array(c.grid.lower) << "\nupper = " << array(c.grid.upper)
    << "\nboundary = " << word(c.grid.boundary) << "\n\n";
  write_objective(o, c.objective);
  const auto* particles = std::get_if<ParticlesConfig>(&c.engine);
  write_schedule(o, c.schedule, particles != nullptr && particles->qtz_moves());
  write_initial(o, c.initial, std::holds_alternative<SchrodingerConfig>(c.engine));
  std::visit([&](const auto& e) { write_engine(o, e); }, c.engine);
  o << "[output]\npath = " << quoted(c.output.path) << "\nevery = " << c.output.every << "\ndiagnostics_every = " << c.output.diagnostics_every
    << "\n";
  if (!c.output.particle_positions) o << "particle_positions = false\n";  // written only when off: older outputs compare equal
  return o.str();
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

}  // namespace qtzflow::scenario
