#include "potentials/formula.hpp"

#include <cctype>

#include <muParser.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <numbers>
#include <set>
#include <unordered_map>

#include "core/error.hpp"

namespace qtzflow::potentials {

namespace {

/// Formulas alive, by id: a thread's cached compilation of a destroyed one is dropped.
std::mutex alive_mutex;
std::set<std::uint64_t> alive_ids;
std::atomic<std::uint64_t> next_id{1};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

struct Formula::State {
  mu::Parser parser;
  std::vector<double> vars;
};

Formula::Formula(std::string text, std::vector<std::vector<std::string>> slots, const Params& constants, std::string key)
    : text_(std::move(text)), key_(std::move(key)), slots_(std::move(slots)), constants_(constants), id_(next_id++) {
  const auto dot = key_.rfind('.');
  constant_prefix_ = dot == std::string::npos ? "" : key_.substr(0, dot + 1);
  if (text_.empty()) core::throw_invalid(key_, "an empty formula", "a formula (docs/objectives.md, \"Your own objective\")");
  for (const auto& [k, v] : constants_)
    if (v.size() != 1)
      core::throw_invalid(constant_prefix_ + k, std::to_string(v.size()) + " values", "one number (a named constant of " + key_ + ")");
  {
    const std::lock_guard<std::mutex> lock(alive_mutex);
    alive_ids.insert(id_);
  }
  try {
    state();  // compiles: every error surfaces here, with the key named
  } catch (...) {
    const std::lock_guard<std::mutex> lock(alive_mutex);
    alive_ids.erase(id_);
    throw;
  }
}

Formula::~Formula() {
  const std::lock_guard<std::mutex> lock(alive_mutex);
  alive_ids.erase(id_);
}

double Formula::evaluate(std::span<const double> vars) const {
  State& s = state();
  std::copy(vars.begin(), vars.end(), s.vars.begin());
  return s.parser.Eval();
}

double Formula::evaluate_shifted(std::span<const double> vars, std::size_t slot, double value) const {
  State& s = state();
  std::copy(vars.begin(), vars.end(), s.vars.begin());
  s.vars[slot] = value;
  return s.parser.Eval();
}

Formula::State& Formula::state() const {
  thread_local std::unordered_map<std::uint64_t, std::unique_ptr<State>> states;
  if (auto it = states.find(id_); it != states.end()) return *it->second;
  if (states.size() >= 16) {  // drop the copies of formulas that no longer exist
    const std::lock_guard<std::mutex> lock(alive_mutex);
    std::erase_if(states, [](const auto& kv) { return !alive_ids.contains(kv.first); });
  }
  auto s = std::make_unique<State>();
  std::vector<std::string> names;
  for (const auto& slot : slots_) names.insert(names.end(), slot.begin(), slot.end());
  s->vars.assign(slots_.size(), 0.0);
  try {
    for (std::size_t k = 0; k < slots_.size(); ++k)
      for (const auto& name : slots_[k]) s->parser.DefineVar(name, &s->vars[k]);
    // muparser 2.3.3 (Debian 12) defines _pi as 3.141592653589: 8e-14 short of π, enough to
    // shift cos(2*_pi*x) by 1e-12 relative; both constants are redefined exactly
    s->parser.DefineConst("_pi", std::numbers::pi);
    s->parser.DefineConst("_e", std::numbers::e);
    for (const auto& [k, v] : constants_) {
      const bool word = !k.empty() && std::isalpha(static_cast<unsigned char>(k[0])) &&
                        std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
      if (!word) core::throw_invalid(constant_prefix_ + k, "an invalid constant name", "letters, digits and _, starting with a letter");
      if (std::find(names.begin(), names.end(), k) != names.end())
        core::throw_invalid(constant_prefix_ + k, "a constant named like a variable", "a name other than " + join(names));
      s->parser.DefineConst(k, v[0]);
    }
    s->parser.SetExpr(text_);
    s->parser.Eval();  // compiles; reports unknown names and syntax errors
  } catch (const mu::Parser::exception_type& e) {
    std::vector<std::string> consts;
    for (const auto& [k, v] : constants_) consts.push_back(k);
    const std::string accepted = "a formula in " + join(names) + (consts.empty() ? "" : " and the constants " + join(consts)) +
                                 " (docs/objectives.md, \"Your own objective\")";
    if (e.GetCode() == mu::ecUNASSIGNABLE_TOKEN) {
      // a coordinate of a higher dimension (y in a 1-D formula): the dimension is what is wrong
      static const std::vector<std::string> axes{"x", "y", "z"};
      const std::string& t = e.GetToken();
      std::size_t axis = static_cast<std::size_t>(std::find(axes.begin(), axes.end(), t) - axes.begin());
      bool coordinate = axis < axes.size();
      if (!coordinate && t.size() > 1 && t.size() < 9 && t[0] == 'x' &&
          std::all_of(t.begin() + 1, t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        axis = static_cast<std::size_t>(std::stoul(t.substr(1)));
        coordinate = true;
      }
      const std::string hint = coordinate && axis >= slots_.size()
                                   ? "; \"" + t + "\" is coordinate " + std::to_string(axis) + " (from 0): the formula has " +
                                         std::to_string(slots_.size()) + " dimension(s), set " + std::to_string(axis + 1) +
                                         " or more (optimize: --dim; a run: grid.n with one value per axis; Python: the dim argument)"
                                   : "";
      core::throw_invalid(key_, "unknown name \"" + t + "\" at column " + std::to_string(e.GetPos() + 1) + " in \"" + core::shorten(text_, 120) + "\"",
                          accepted + hint);
    }
    if (e.GetCode() == mu::ecINVALID_NAME)
      core::throw_invalid(constant_prefix_ + e.GetToken(), "an invalid constant name", "letters, digits and _, starting with a letter");
    core::throw_invalid(key_, "\"" + core::shorten(text_, 120) + "\": " + e.GetMsg() + " (positions count from 0)", accepted);
  }
  return *states.emplace(id_, std::move(s)).first->second;
}

}  // namespace qtzflow::potentials
