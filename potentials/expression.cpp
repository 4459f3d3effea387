#include "potentials/expression.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "potentials/differences.hpp"
#include "potentials/formula.hpp"

namespace qtzflow::potentials {

namespace {

constexpr double kStepPerWidth = 2.5e-3;  // the differences' step, of the domain's width

std::vector<std::vector<std::string>> slots_of(int dim) {
  std::vector<std::vector<std::string>> slots(static_cast<std::size_t>(dim));
  const char* short_names[] = {"x", "y", "z"};
  for (int a = 0; a < dim; ++a) {
    if (dim <= 3) slots[static_cast<std::size_t>(a)].emplace_back(short_names[a]);
    slots[static_cast<std::size_t>(a)].push_back("x" + std::to_string(a));
  }
  return slots;
}

class ExpressionObjective final : public Objective {
 public:
  ExpressionObjective(const ExpressionSpec& spec, int dim)
      : Objective("expression", dim, spec.params), formula_(spec.formula, slots_of(dim), spec.params, spec.key) {
    const auto d = static_cast<std::size_t>(dim);
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
    std::vector<double> centre(d);
    for (std::size_t a = 0; a < d; ++a) centre[a] = 0.5 * (lower_[a] + upper_[a]);
    const double fc = value(centre);
    if (!std::isfinite(fc))
      core::throw_invalid(spec.key, "\"" + core::shorten(spec.formula, 120) + "\" = " + core::format_value(fc) + " at the domain's centre",
                          "a finite value");
    set_known_minima(spec.minima);
  }

  double value(std::span<const double> x) const override { return formula_.evaluate(x); }

  void gradient(std::span<const double> x, std::span<double> g) const override {
    differences::gradient(x, g, step_, [&](std::size_t a, double xa) { return formula_.evaluate_shifted(x, a, xa); });
  }

  double laplacian(std::span<const double> x) const override {
    return differences::laplacian(x, formula_.evaluate(x), step_, [&](std::size_t a, double xa) { return formula_.evaluate_shifted(x, a, xa); });
  }

 private:
  Formula formula_;
  std::vector<double> step_;
};

}  // namespace

std::unique_ptr<Objective> make_expression_objective(const ExpressionSpec& spec, int dim) {
  if (dim < 1) core::throw_invalid("objective dimension", std::to_string(dim), ">= 1");
  return std::make_unique<ExpressionObjective>(spec, dim);
}

}  // namespace qtzflow::potentials
