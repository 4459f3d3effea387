// qtzflow/potentials/cec2014_functions.hpp — the 30 functions of the CEC 2014 single-objective
// suite (Liang, Qu, Suganthan 2013, "Problem definitions and evaluation criteria for the CEC
// 2014 special session"), evaluated operation for operation as the competition's C code and its
// port in pagmo2 (pagmo::cec2014) do, so that every value is bit-identical to theirs:
//
//   f_i(x) = g_i(M_i · s_i · (x − o_i)) + 100·i,     i = 1 … 30,  x ∈ [−100, 100]^D,
//
// with g_i a basic function (f1–f16: elliptic, bent cigar, discus, Rosenbrock, Ackley,
// Weierstrass, Griewank, Rastrigin, Schwefel, Katsuura, HappyCat, HGBat, Griewank–Rosenbrock,
// expanded Schaffer F6), a hybrid of 3–5 basic functions on a shuffled split of the coordinates
// (f17–f22), or a composition: a distance-weighted sum of 3–5 shifted, rotated and biased
// components (f23–f30).  o_i, M_i and the shuffles are the competition's data, which this class
// takes as given (cec.cpp reads them from pagmo, which compiles them in).
//
// Why not call pagmo: its Weierstrass function recomputes 0.5^k and 3^k (pow) and the constant
// Σ_k 0.5^k cos(π 3^k) on every coordinate of every call (840 pow and 420 cos at D = 10, where
// 210 cos are needed), Katsuura recomputes 2^j 320 times, and every call allocates its result
// vector.  Those made f6, f12, f19, f26, f27 and f29 cost 5–25 µs per call at D = 10, 69 % of
// the whole CEC2014 study's time.  Here the powers and constants are computed once with the same
// expressions, which keeps every value bit-identical (tested against pagmo at random points of
// every function and dimension; the file is compiled with -ffp-contract=off so that no multiply–
// add is fused differently from pagmo's build).
//
// Limits: D ∈ {2, 10, 20, 30, 50, 100} and the hybrid and composition functions 17–22, 29, 30
// need D ≥ 10 — the caller checks (make_cec_objective).  evaluate() writes the work arrays it is
// given: one Work per thread.
#pragma once

#include <vector>

namespace qtzflow::potentials {

class Cec2014Function {
 public:
  /// The competition's data for function `function` in dimension `dim`, laid out as pagmo's
  /// cec2014 holds them: `shift` the first `dim` values of each of the function's shift rows
  /// (one row per composition component), `rotation` the row-major D×D matrices one after the
  /// other, `shuffle` the 1-based permutations of the hybrid functions (empty for the others).
  Cec2014Function(int function, int dim, std::vector<double> shift, std::vector<double> rotation, std::vector<int> shuffle);

  /// A thread's scratch: the shifted/scaled (y) and rotated (z) coordinates.
  struct Work {
    std::vector<double> y, z;
  };
  Work make_work() const { return {std::vector<double>(nx_), std::vector<double>(nx_)}; }

  /// f_i(x) for x of `dim` values.
  double evaluate(const double* x, Work& w) const;

  int function() const { return function_; }
  int dim() const { return static_cast<int>(nx_); }

 private:
  // The basic functions, as the competition's C code has them: x of nx values, shifted by os if
  // `shift`, scaled, rotated by mr if `rotate`; the result goes through w.z (and w.y).
  double ellips(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double bent_cigar(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double discus(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double rosenbrock(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double ackley(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double weierstrass(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double griewank(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double rastrigin(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double schwefel(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double katsuura(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double happycat(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double hgbat(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double grie_rosen(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  double escaffer6(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const;
  /// Hybrid function k (1–6) with the shuffle s.
  double hybrid(int k, const double* x, const double* os, const double* mr, const int* s, bool shift, bool rotate, Work& w) const;
  /// Composition function k (1–8).
  double composition(int k, const double* x, Work& w) const;
  /// The composition's weighting of its biased components' values fit[0 … n).
  double weigh(const double* x, const double* delta, const double* bias, double* fit, int n) const;
  /// z = M·(s·(x − o)) with the shift and the rotation optional; y holds s·(x − o) when rotating.
  void shift_rotate(const double* x, double* out, unsigned nx, const double* os, const double* mr, double rate, bool shift, bool rotate,
                    Work& w) const;

  int function_;
  unsigned nx_;
  std::vector<double> shift_, rotation_;
  std::vector<int> shuffle_;
  std::vector<std::vector<double>> ellips_weights_;  ///< [nx][i] = 10^(6 i/(nx − 1)), for every part size nx ≤ D
  std::vector<double> griewank_root_;                ///< [i] = √(1 + i)
};

}  // namespace qtzflow::potentials
