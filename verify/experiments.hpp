// qtzflow/verify/experiments.hpp — the experiments of `qtzflow verify`, one file each, and their
// registry.  Each writes its data into its Experiment's HDF5 file and adds its checks.
//   V1 witten ground state = e^(−f/2T) (imaginary time): observed order 2 in dt
//   V2 Fokker–Planck: Gibbs stationary and reached; FP = transformed imaginary time (order 2 in h)
//   V3 spectral gap: λ1(FP) = E1(H_T) = 2π / tunneling period of ⟨x⟩(t)
//   V4 Eyring–Kramers: λ1 → 2k as T falls (1D, 2D), barrier from the Arrhenius slope
//   V5 Langevin particles ↔ FP: L1(histogram, ρ_FP) ∝ M^(−1/2)
//   V6 effective temperature of quantized local search: C_q = 2 Q_p T_eff (dithered 1/2, plain: not Gibbs)
//   V7 annealing: mass in the global basin from FP, imaginary time and particles; the imaginary-time floor
//   V8 real-time tunneling against the two-level (E1 − E0) estimate
//   V9 dithered-QTZ particles in FP time ↔ FP under constant T and annealing (1D, 2D): M^(−1/2), √dt floor, basin mass
//   V10 QTZ escape rate between the wells = λ1 of the FP generator = E1 of H_T, at several T (1D, 2D)
//   V11 the authors' optimizer: law of the current point against h, white-noise test, success against basin mass
// To add one: a file vN_name.cpp with `void vN_name(Experiment&)`, declared here and listed in
// kExperiments (verify.cpp); docs/developing.md has the checklist.
#pragma once

#include "verify/harness.hpp"

namespace qtzflow::verify {

void v1_witten(Experiment& e);
void v2_fokker_planck(Experiment& e);
void v3_spectral_gap(Experiment& e);
void v4_kramers(Experiment& e);
void v5_particles(Experiment& e);
void v6_effective_temperature(Experiment& e);
void v7_annealing(Experiment& e);
void v8_tunneling(Experiment& e);
void v9_qtz_annealing(Experiment& e);
void v10_escape_rate(Experiment& e);
void v11_authors_optimizer(Experiment& e);

struct ExperimentEntry {
  const char* name;
  const char* title;
  void (*run)(Experiment&);
};

inline constexpr ExperimentEntry kExperiments[] = {
    {"v1_witten", "witten ground state = e^(-f/2T) (imaginary time)", v1_witten},
    {"v2_fokker_planck", "FP stationary state = Gibbs; FP = transformed imaginary time along the trajectory", v2_fokker_planck},
    {"v3_spectral_gap", "lambda1(FP) = E1(H_T) = 2 pi / tunneling period", v3_spectral_gap},
    {"v4_kramers", "Eyring-Kramers: lambda1 against 2k, barrier from the Arrhenius slope (1D, 2D)", v4_kramers},
    {"v5_particles", "Langevin histograms against the FP density, L1 ~ M^(-1/2)", v5_particles},
    {"v6_effective_temperature", "effective temperature of quantized local search: C_q = 2 Q_p T_eff", v6_effective_temperature},
    {"v7_annealing", "annealing: mass in the global basin from FP, imaginary time and particles", v7_annealing},
    {"v8_tunneling", "real-time tunneling against the two-level (E1 - E0) estimate", v8_tunneling},
    {"v9_qtz_annealing", "dithered QTZ particles in FP time against FP: constant T and annealing, 1D and 2D", v9_qtz_annealing},
    {"v10_escape_rate", "QTZ escape rate between the wells against lambda1 (FP) and E1 (imaginary time)", v10_escape_rate},
    {"v11_authors_optimizer", "the authors' QTZ: law of the current point against h, white noise, success against basin mass", v11_authors_optimizer},
};

}  // namespace qtzflow::verify
