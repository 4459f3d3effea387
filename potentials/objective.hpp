// qtzflow/potentials/objective.hpp — the objectives f : Ω ⊂ R^d → R that qtzflow minimises.
//
// Each objective gives its value, gradient and Laplacian (analytic, checked against finite
// differences in tests/unit/test_objectives.cpp), its default domain Ω = ∏[lower_i, upper_i] and
// its known minima.  The catalogue is docs/objectives.md; objectives are made by name with
// `make_objective(name, dim, params)`, which validates the dimension and every parameter.
//
// Smoothness: ackley and salomon have a cone at 0 and xin_she_yang4 kinks on every axis
// (|x_i|^{1/2}); there the gradient returns the symmetric choice (0 at the kink) and the
// Laplacian returns +inf where the pointwise Laplacian diverges (d >= 2 at the cone) or the
// smooth part's one-sided limit (d = 1), never NaN.  Potentials built from such points are
// rejected as non-finite, so grids must not sample them (an even n on a symmetric box does not).
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qtzflow::potentials {

/// A known local minimum; `global` marks the global one(s).
struct Minimum {
  std::vector<double> x;
  double f;
  bool global;
};

/// Parameters by name; a scalar parameter is a vector of length 1, a per-axis one of length 1 or d.
using Params = std::map<std::string, std::vector<double>>;

class Objective {
 public:
  virtual ~Objective() = default;
  Objective(const Objective&) = delete;
  Objective& operator=(const Objective&) = delete;

  const std::string& name() const { return name_; }
  int dim() const { return dim_; }
  /// Default search domain per axis.
  const std::vector<double>& lower() const { return lower_; }
  const std::vector<double>& upper() const { return upper_; }
  /// Known minima, global ones first.
  const std::vector<Minimum>& minima() const { return minima_; }
  /// The parameters in use (defaults filled in).
  const Params& params() const { return params_; }

  virtual double value(std::span<const double> x) const = 0;
  /// Writes ∇f(x) into g (size dim).
  virtual void gradient(std::span<const double> x, std::span<double> g) const = 0;
  virtual double laplacian(std::span<const double> x) const = 0;
  /// An optimizer's default success threshold: error f − f* ≤ this (1e-3; the CEC suites use
  /// their competitions' 1e-8).
  virtual double success_tolerance() const { return 1e-3; }

 protected:
  Objective(std::string name, int dim, Params params) : name_(std::move(name)), dim_(dim), params_(std::move(params)) {}
  /// Records user-given minima (objectives of your own): each point checked to have dim
  /// coordinates inside [lower_, upper_] and a finite f; the lowest f first, marked global (ties
  /// to a relative 1e-12).  Errors name the key `objective.minima`.  Call after lower_/upper_.
  void set_known_minima(const std::vector<std::vector<double>>& points);
  std::string name_;
  int dim_;
  Params params_;
  std::vector<double> lower_, upper_;
  std::vector<Minimum> minima_;
};

/// Description of one objective in the registry.
struct ObjectiveInfo {
  std::string name;
  std::string formula;
  int min_dim, max_dim;  ///< accepted dimensions
  Params defaults;       ///< parameter names with their default values
};

/// All objectives qtzflow knows, in catalogue order.
const std::vector<ObjectiveInfo>& objective_catalog();

/// Makes objective `name` in dimension `dim`.  Throws UnknownName for an unknown objective or
/// parameter (the message lists the known ones) and InvalidArgument for a dimension or a
/// parameter value out of range; keys are named `objective.name`, `objective.<param>`.
/// The CEC suites (potentials/cec.hpp) are named "cec2014" or "cec2013" with the parameter
/// `function` = N, or "cec2014:N" in one word.
std::unique_ptr<Objective> make_objective(std::string_view name, int dim, const Params& params = {});

}  // namespace qtzflow::potentials
