// qtzflow/apps/optimize.hpp — `qtzflow optimize`: ensembles of independent optimizer runs on a
// built-in objective or a TSPLIB instance, summarised as a table (or JSON) and stored in HDF5.
//
// Exit codes: 0 done; 2 bad input (reported by the caller from core::InvalidArgument: unknown
// objective or algorithm, malformed TSP file with its line, impossible parameters).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "solver/optimizers.hpp"

namespace qtzflow::apps {

struct OptimizeArgs {
  std::string objective;               ///< --objective NAME (or)
  std::string tsp;                     ///< --tsp FILE
  int dim = 1;
  std::vector<std::string> params;     ///< --param name=value (objective parameters)
  std::vector<double> lower, upper;    ///< box override (length 1 or dim)
  bool unrounded = false;              ///< EUC_2D read unrounded (the QTZ authors' convention)
  double optimum = -1;                 ///< TSP: known optimal length (< 0: built-in table or none)
  long runs = 30;
  bool json = false;
  std::string output;                  ///< -o OUT.h5
  std::string h_schedule = "acceptances";  ///< qtz: acceptances | logarithmic | fixed
  solver::OptimizerOptions opt;
  double T = 0.1;                      ///< langevin: constant temperature (or logarithmic c)
  std::string schedule = "constant";   ///< langevin: constant | logarithmic
};

/// Runs the ensemble, prints the summary on stdout; returns the exit code.
int optimize(const OptimizeArgs& args);

}  // namespace qtzflow::apps
