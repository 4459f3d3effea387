// qtzflow/verify/verify.hpp — `qtzflow verify`: the QTZ theory (docs/theory.md, "What the
// theory predicts") checked numerically with all three engines.
//
// Experiments V1…V8 (names v1_witten … v8_tunneling, experiments.hpp), each writing its data to
// DIR/<name>.h5 and adding checks (measured, expected, tolerance, pass) with the reason for the
// tolerance.  The summary goes to DIR/summary.md and DIR/summary.json (each replaced atomically)
// and to stdout.  `quick` shrinks the problems (well under 2 minutes on 2 cores); the full run
// reports its own duration.  An experiment that throws is recorded as a failed check.
// Returns 0 when every check passes, 1 otherwise; bad options throw core::InvalidArgument.
#pragma once

#include <string>

namespace qtzflow::verify {

struct VerifyOptions {
  bool quick = false;
  std::string only;  ///< run only this experiment (a name or its V-number, e.g. "v3")
  std::string dir = "qtzflow_verify";
  bool quiet = false;  ///< no progress on stderr
};

int run_verify(const VerifyOptions& options);

}  // namespace qtzflow::verify
