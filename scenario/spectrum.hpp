// qtzflow/scenario/spectrum.hpp — `qtzflow spectrum`: the lowest eigenvalues of the density
// picture for a configured problem, at one or more temperatures.
//
//   λ_k: the K smallest eigenvalues 0 = λ0 < λ1 ≤ … of −L, the Fokker–Planck generator
//        L ρ = ∇·(ρ∇f + T∇ρ), on the configured grid and boundary (solver/fokker_planck.hpp,
//        FokkerPlanckSolver::spectrum: finite volumes, O(h²));
//   E_k: the K lowest eigenvalues of H_T = −TΔ + |∇f|²/(4T) − Δf/2 by imaginary-time relaxation
//        and deflation on the same points with periodic boundaries (split-step, Strang), at
//        dt and dt/2, Richardson-extrapolated: (4 E(dt/2) − E(dt))/3, O(dt⁴) in the step.
// λ_k = E_k for the continuous problem (docs/theory.md, "The Witten transform"); on a grid they
// agree to the discretisation when ρ is negligible at the walls (the two engines' boundaries
// differ there).  The slowest relaxation rate of the search density is λ1, its escape time 1/λ1.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/config.hpp"

namespace qtzflow::scenario {

struct SpectrumRequest {
  RunConfig config;                  ///< grid and objective; the schedule gives T(0) when no temperature is listed
  std::vector<double> temperatures;  ///< empty: T(0) of the configured schedule
  int count = 4;                     ///< K, 2 … 16
  double dt = 1e-3;                  ///< imaginary-time step (the second run uses dt/2)
  bool fokker_planck = true, schrodinger = true;
  std::string output;  ///< HDF5 file (checked before computing), or empty
  /// Told, before each engine at each temperature, what is computed next (one line, e.g. "T = 0.5:
  /// H_T by imaginary-time deflation, 4 states on 16384 points at dt = 0.001, then 0.0005 ...");
  /// the line for H_T on a large grid says that it may take minutes and how to skip it.
  std::function<void(std::string_view)> progress;
};

struct SpectrumRow {
  double T = 0;
  std::vector<double> lambda;  ///< FP generator, ascending (empty when not asked)
  std::vector<double> energy;  ///< H_T, extrapolated (empty when not asked)
};

struct SpectrumReport {
  std::string problem;  ///< a one-line description
  std::vector<SpectrumRow> rows;
  double seconds = 0;
};

SpectrumReport spectrum(const SpectrumRequest& request);
std::string spectrum_table(const SpectrumReport& report);
std::string spectrum_json(const SpectrumReport& report);
void write_spectrum(const std::string& path, const SpectrumReport& report);

}  // namespace qtzflow::scenario
