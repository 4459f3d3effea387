// qtzflow/potentials/expression.hpp — an objective written as a formula, f(x) = "…", compiled
// by muparser (Debian's libmuparser-dev: a small, fast bytecode compiler for double-valued
// formulas with the usual functions; muparserx adds complex/string types qtzflow does not need,
// exprtk is not packaged).
//
// Syntax (docs/objectives.md, "Your own objective"): variables x, y, z (d ≤ 3) and x0 … x{d−1}
// (any d); the named parameters given with the objective; muparser's operators (+ − * / ^),
// functions (sin cos tan asin acos atan sinh cosh tanh exp ln log log2 log10 sqrt abs sign rint
// min max sum avg) and constants _pi, _e.
//
// Derivatives: central differences of order 8 on the compiled formula, step h = 2.5e-3 × the
// domain's width per axis (h = 0.01 on [−2, 2]): truncation h⁸|f⁽⁹⁾|/630, rounding
// ~1.5 ε|f|/h for ∇f and ~6 ε|f|/h² for Δf — below 1e-8 relative for smooth f whose features
// are wider than ~10 h (tests/unit/test_expression.cpp checks 12 formulas against their
// analytic derivatives: worst 1.6e-11 for ∇f, 1.4e-9 for Δf).  Cost: value 1 evaluation,
// gradient 8d, Laplacian 8d + 1.
//
// Thread safety: value/gradient/laplacian may be called from any number of threads at once (the
// particle engines' OpenMP loops, Python threads): each thread compiles its own copy on first use.
// Limits: no derivatives at kinks (|x| at 0 differs from the one-sided values); no user functions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "potentials/objective.hpp"

namespace qtzflow::potentials {

struct ExpressionSpec {
  std::string formula;                      ///< f in muparser syntax
  Params params;                            ///< named constants (scalars) usable in the formula
  std::vector<double> lower, upper;         ///< the domain, one value per axis
  std::vector<std::vector<double>> minima;  ///< known minima (points); the lowest f is marked global
  std::string key = "objective.f";          ///< the name errors use for the formula
};

/// Compiles the formula in dimension dim.  Throws InvalidArgument naming spec.key: a syntax
/// error (with its column), an unknown name (listing the variables and parameters), a
/// non-scalar parameter, a domain of the wrong length or with upper ≤ lower, a minimum outside
/// the domain, or a formula that is not finite at the domain's centre.
std::unique_ptr<Objective> make_expression_objective(const ExpressionSpec& spec, int dim);

}  // namespace qtzflow::potentials
