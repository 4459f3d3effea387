// qtzflow/io/tsplib.hpp — reader for TSPLIB 95 symmetric TSP files.
//
// Accepts TYPE TSP with EDGE_WEIGHT_TYPE EUC_2D, CEIL_2D, ATT, GEO (NODE_COORD_SECTION) or
// EXPLICIT with EDGE_WEIGHT_FORMAT FULL_MATRIX, UPPER_ROW, LOWER_ROW, UPPER_DIAG_ROW,
// LOWER_DIAG_ROW (and their _COL twins, which list the same numbers); DISPLAY_DATA_SECTION is
// skipped.  `unrounded` reads EUC_2D as the unrounded Euclidean metric (the QTZ authors'
// convention for their random instances).  Any malformed content throws InvalidArgument whose
// key is "FILE:LINE", with what was found and what is accepted.
#pragma once

#include <map>
#include <string>

#include "potentials/tsp.hpp"

namespace qtzflow::io {

potentials::TspInstance read_tsplib(const std::string& path, bool unrounded = false);
/// The same from text already in memory (`origin` names it in messages).
potentials::TspInstance parse_tsplib(const std::string& text, const std::string& origin, bool unrounded = false);
/// The proven optimal tour length of a TSPLIB instance by NAME (a ".tsp" suffix is ignored): the
/// 15 instances qtzflow ships (data/tsplib/optima.txt, compiled in) and those Debian ships
/// (glpk-utils' examples: dantzig42 699, gr120 6942, ulysses16 6859, ulysses22 7013); −1 for
/// any other name.  The lengths are TSPLIB's (rounded metrics): not for --unrounded readings.
double tsplib_known_optimum(const std::string& name);
/// A table of known optimal tour lengths (data/tsplib/optima.txt): one "NAME : LENGTH" per line,
/// '#' comments and blank lines skipped.  InvalidArgument naming FILE:LINE for a malformed line,
/// a length that is not a finite number > 0, or a name given twice.
std::map<std::string, double> read_tsp_optima(const std::string& path);
/// The same from text (`origin` names it in messages).
std::map<std::string, double> parse_tsp_optima(const std::string& text, const std::string& origin);

}  // namespace qtzflow::io
