// qtzflow/potentials/cec.hpp — the CEC 2013 and CEC 2014 single-objective benchmark suites as
// objectives, with the shift, rotation and shuffle data that pagmo2 compiles in (available when
// qtzflow is built with pagmo2): cec2013 evaluated by pagmo's port of the competition's C code,
// cec2014 by qtzflow's (potentials/cec2014_functions.hpp: bit-identical values, 2.9× cheaper).
//
//   cec2014: functions 1–30, D ∈ {2, 10, 20, 30, 50, 100}; the hybrid functions 17–22 and the
//            composition functions 29–30 need D ≥ 10 (their shuffles split D into 3–5 parts);
//            f*_i = 100·i at o_i (the first D values of the function's shift data).
//   cec2013: functions 1–28, D ∈ {2, 5, 10, 20, …, 100}; f*_i = −1400 + 100·(i − 1) for
//            i ≤ 14, −1300 + 100·(i − 1) beyond (no 0), at o_i likewise.
// The box is the suites' [−100, 100]^D.  The known minimum is (o_i, f*_i), so an optimizer's
// success is error = f − f* ≤ a tolerance (the competitions' 1e-8).
// Derivatives (what the Schrödinger engine's Witten potential needs) are order-8 central
// differences with steps of 2.5e-3 of the box (0.5): the CEC landscapes are rough at finer
// scales (Weierstrass, Katsuura, the step Rastrigin), so the PDE engines see them smoothed at
// that scale, and the Fokker–Planck engine, which uses f at the grid points only, sees them as
// sampled.
// Thread safety: both evaluations write work arrays; every thread has its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "potentials/objective.hpp"

namespace qtzflow::potentials {

struct CecSuite {
  std::string name;       ///< "cec2014", "cec2013"
  int functions;          ///< numbered 1 … functions
  std::vector<int> dims;  ///< the dimensions the suite's data define
};

/// The suites this build offers (none without pagmo2).
const std::vector<CecSuite>& cec_suites();

/// Whether `name` is a suite's name (whether or not this build has it).
bool is_cec_suite(std::string_view name);

/// Function `function` of suite `suite` in dimension `dim`.  InvalidArgument naming
/// `objective.name` (a suite this build lacks), `objective.function` (the accepted numbers) or
/// `dimension` (the accepted dimensions, and the D ≥ 10 of cec2014's hybrid functions).
std::unique_ptr<Objective> make_cec_objective(std::string_view suite, int function, int dim);

}  // namespace qtzflow::potentials
