// qtzflow/potentials/formula.hpp — a compiled formula of a few double variables, the one place
// qtzflow uses muparser (Debian's libmuparser-dev): the expression objective f(x) and the
// expression schedule T(t) are both Formulas.
//
// Syntax: muparser's operators (+ − * / ^), functions (sin cos tan asin acos atan sinh cosh tanh
// exp ln log log2 log10 sqrt abs sign rint min max sum avg) and constants _pi, _e (redefined to
// full double precision: muparser 2.3.3 ships _pi = 3.141592653589), plus the variables and the
// named constants given at construction.
// Thread safety: evaluate() may be called from any number of threads at once; muparser binds
// variables by address, so each thread compiles its own copy on first use (cached per thread,
// dropped once the Formula is destroyed).  A Formula is not copyable; share it by pointer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "potentials/objective.hpp"

namespace qtzflow::potentials {

class Formula {
 public:
  /// `slots[k]` lists the names of variable k (aliases, e.g. {"x", "x0"}); `constants` are
  /// scalar named values.  Compiles once: throws InvalidArgument naming `key` for a syntax error
  /// (with muparser's position), an unknown name (with its column and the accepted names), a
  /// constant named like a variable (key objective.<name>) or a non-scalar constant.
  Formula(std::string text, std::vector<std::vector<std::string>> slots, const Params& constants, std::string key);
  ~Formula();
  Formula(const Formula&) = delete;
  Formula& operator=(const Formula&) = delete;

  /// f(vars): vars.size() must be the number of slots.
  double evaluate(std::span<const double> vars) const;
  /// The same, with variable `slot` moved to `value` (the derivative stencils).
  double evaluate_shifted(std::span<const double> vars, std::size_t slot, double value) const;

  const std::string& text() const { return text_; }
  const std::string& key() const { return key_; }
  std::size_t variables() const { return slots_.size(); }

 private:
  struct State;
  State& state() const;
  std::string text_, key_;
  std::vector<std::vector<std::string>> slots_;
  Params constants_;
  std::string constant_prefix_;
  std::uint64_t id_;
};

}  // namespace qtzflow::potentials
