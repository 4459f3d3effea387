#include "potentials/expression.hpp"

#include <muParser.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numbers>
#include <set>
#include <unordered_map>

#include "core/error.hpp"

namespace qtzflow::potentials {

namespace {

// Order-8 central differences: f' ≈ Σ_k d1[k] (f(x + kh) − f(x − kh)) / h,
// f'' ≈ (c0 f(x) + Σ_k d2[k] (f(x + kh) + f(x − kh))) / h².
constexpr double kD1[4] = {4.0 / 5, -1.0 / 5, 4.0 / 105, -1.0 / 280};
constexpr double kD2_0 = -205.0 / 72;
constexpr double kD2[4] = {8.0 / 5, -1.0 / 5, 8.0 / 315, -1.0 / 560};
constexpr double kStepPerWidth = 2.5e-3;

/// Instances alive, by id: a thread's cached compilation of a destroyed objective is dropped.
std::mutex alive_mutex;
std::set<std::uint64_t> alive_ids;
std::atomic<std::uint64_t> next_id{1};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class ExpressionObjective final : public Objective {
 public:
  ExpressionObjective(const ExpressionSpec& spec, int dim)
      : Objective("expression", dim, spec.params), formula_(spec.formula), key_(spec.key), id_(next_id++) {
    const auto d = static_cast<std::size_t>(dim);
    for (const auto& [k, v] : spec.params)
      if (v.size() != 1) core::throw_invalid("objective." + k, std::to_string(v.size()) + " values", "one number (a named constant of " + key_ + ")");
    if (spec.lower.size() != d || spec.upper.size() != d)
      core::throw_invalid("objective.domain", std::to_string(spec.lower.size()) + " axes", std::to_string(d) + " (one [lower, upper] per axis)");
    for (std::size_t a = 0; a < d; ++a) {
      if (!(std::isfinite(spec.lower[a]) && std::isfinite(spec.upper[a]) && spec.lower[a] < spec.upper[a]))
        core::throw_invalid("objective.domain",
                            "[" + core::format_value(spec.lower[a]) + ", " + core::format_value(spec.upper[a]) + "] on axis " + std::to_string(a),
                            "finite bounds with lower < upper");
      step_.push_back(kStepPerWidth * (spec.upper[a] - spec.lower[a]));
    }
    lower_ = spec.lower;
    upper_ = spec.upper;
    {
      const std::lock_guard<std::mutex> lock(alive_mutex);
      alive_ids.insert(id_);
    }
    try {
      check(spec);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(alive_mutex);
      alive_ids.erase(id_);
      throw;
    }
  }

  /// Compiles once here, so every error surfaces at construction with the key named.
  void check(const ExpressionSpec& spec) {
    const auto d = static_cast<std::size_t>(dim_);
    std::vector<double> centre(d);
    for (std::size_t a = 0; a < d; ++a) centre[a] = 0.5 * (lower_[a] + upper_[a]);
    const double fc = value(centre);
    if (!std::isfinite(fc))
      core::throw_invalid(key_, "\"" + core::shorten(formula_, 120) + "\" = " + core::format_value(fc) + " at the domain's centre", "a finite value");
    for (const auto& m : spec.minima) {
      if (m.size() != d) core::throw_invalid("objective.minima", std::to_string(m.size()) + " coordinates", std::to_string(d) + " per minimum");
      for (std::size_t a = 0; a < d; ++a)
        if (!(m[a] >= lower_[a] && m[a] <= upper_[a]))
          core::throw_invalid("objective.minima", core::format_value(m[a]) + " on axis " + std::to_string(a), "inside the domain");
      const double fm = value(m);
      if (!std::isfinite(fm)) core::throw_invalid("objective.minima", "f = " + core::format_value(fm), "a point where f is finite");
      minima_.push_back({m, fm, false});
    }
    // the lowest value first, marked global (with ties to a relative 1e-12)
    std::stable_sort(minima_.begin(), minima_.end(), [](const Minimum& a, const Minimum& b) { return a.f < b.f; });
    for (auto& m : minima_) m.global = m.f <= minima_.front().f + 1e-12 * std::max(1.0, std::abs(minima_.front().f));
  }

  ~ExpressionObjective() override {
    const std::lock_guard<std::mutex> lock(alive_mutex);
    alive_ids.erase(id_);
  }

  double value(std::span<const double> x) const override {
    State& s = state();
    std::copy(x.begin(), x.end(), s.vars.begin());
    return s.parser.Eval();
  }

  void gradient(std::span<const double> x, std::span<double> g) const override {
    State& s = state();
    std::copy(x.begin(), x.end(), s.vars.begin());
    for (std::size_t a = 0; a < s.vars.size(); ++a) {
      const double x0 = x[a], h = step_[a];
      double acc = 0;
      for (int k = 0; k < 4; ++k) {
        s.vars[a] = x0 + (k + 1) * h;
        const double fp = s.parser.Eval();
        s.vars[a] = x0 - (k + 1) * h;
        acc += kD1[k] * (fp - s.parser.Eval());
      }
      s.vars[a] = x0;
      g[a] = acc / h;
    }
  }

  double laplacian(std::span<const double> x) const override {
    State& s = state();
    std::copy(x.begin(), x.end(), s.vars.begin());
    const double f0 = s.parser.Eval();
    double lap = 0;
    for (std::size_t a = 0; a < s.vars.size(); ++a) {
      const double x0 = x[a], h = step_[a];
      double acc = kD2_0 * f0;
      for (int k = 0; k < 4; ++k) {
        s.vars[a] = x0 + (k + 1) * h;
        const double fp = s.parser.Eval();
        s.vars[a] = x0 - (k + 1) * h;
        acc += kD2[k] * (fp + s.parser.Eval());
      }
      s.vars[a] = x0;
      lap += acc / (h * h);
    }
    return lap;
  }

 private:
  struct State {
    mu::Parser parser;
    std::vector<double> vars;
  };

  /// This thread's compiled copy (muparser binds variables by address, so threads cannot share).
  State& state() const {
    thread_local std::unordered_map<std::uint64_t, std::unique_ptr<State>> states;
    auto it = states.find(id_);
    if (it != states.end()) return *it->second;
    if (states.size() >= 16) {  // drop the copies of objectives that no longer exist
      const std::lock_guard<std::mutex> lock(alive_mutex);
      std::erase_if(states, [](const auto& kv) { return !alive_ids.contains(kv.first); });
    }
    auto s = std::make_unique<State>();
    compile(*s);
    return *states.emplace(id_, std::move(s)).first->second;
  }

  void compile(State& s) const {
    const auto names = expression_variables(dim_);
    s.vars.assign(static_cast<std::size_t>(dim_), 0.0);
    try {
      for (std::size_t a = 0; a < s.vars.size(); ++a) s.parser.DefineVar("x" + std::to_string(a), &s.vars[a]);
      const char* short_names[] = {"x", "y", "z"};
      if (dim_ <= 3)
        for (std::size_t a = 0; a < s.vars.size(); ++a) s.parser.DefineVar(short_names[a], &s.vars[a]);
      // muparser 2.3.3 (Debian 12) defines _pi as 3.141592653589: 8e-14 short of π, enough to
      // shift cos(2*_pi*x) by 1e-12 relative; both constants are redefined exactly
      s.parser.DefineConst("_pi", std::numbers::pi);
      s.parser.DefineConst("_e", std::numbers::e);
      for (const auto& [k, v] : params_) {
        if (std::find(names.begin(), names.end(), k) != names.end())
          core::throw_invalid("objective." + k, "a parameter named like a variable", "a name other than " + join(names));
        s.parser.DefineConst(k, v[0]);
      }
      s.parser.SetExpr(formula_);
      s.parser.Eval();  // compiles; reports unknown names and syntax errors
    } catch (const mu::Parser::exception_type& e) {
      std::vector<std::string> params;
      for (const auto& [k, v] : params_) params.push_back(k);
      const std::string where = e.GetPos() >= 0 ? " at column " + std::to_string(e.GetPos() + 1) : "";
      std::string accepted = "a formula in " + join(names) + (params.empty() ? "" : " and the parameters " + join(params)) +
                             " (docs/objectives.md, \"Your own objective\")";
      if (e.GetCode() == mu::ecUNASSIGNABLE_TOKEN)
        core::throw_invalid(key_, "unknown name \"" + e.GetToken() + "\"" + where + " in \"" + core::shorten(formula_, 120) + "\"", accepted);
      if (e.GetCode() == mu::ecINVALID_NAME)
        core::throw_invalid("objective." + e.GetToken(), "an invalid parameter name", "letters, digits and _, starting with a letter");
      core::throw_invalid(key_, "\"" + core::shorten(formula_, 120) + "\": " + e.GetMsg() + " (positions count from 0)", accepted);
    }
  }

  std::string formula_, key_;
  std::uint64_t id_;
  std::vector<double> step_;
};

}  // namespace

std::vector<std::string> expression_variables(int dim) {
  std::vector<std::string> v;
  const char* short_names[] = {"x", "y", "z"};
  if (dim <= 3)
    for (int a = 0; a < dim; ++a) v.emplace_back(short_names[a]);
  for (int a = 0; a < dim; ++a) v.push_back("x" + std::to_string(a));
  return v;
}

std::unique_ptr<Objective> make_expression_objective(const ExpressionSpec& spec, int dim) {
  if (dim < 1) core::throw_invalid("objective dimension", std::to_string(dim), ">= 1");
  if (spec.formula.empty()) core::throw_invalid(spec.key, "an empty formula", "a formula such as \"(x^2-1)^2 + 0.3*x\"");
  return std::make_unique<ExpressionObjective>(spec, dim);
}

}  // namespace qtzflow::potentials
