// The spectrum of the Fokker–Planck generator: dense (Eigen) on small grids, shift-invert
// Lanczos (Spectra, sparse LU) on large ones.  A file of its own because GCC 12 warns falsely
// (-Wmaybe-uninitialized) inside its AVX-512 intrinsics when inlining Eigen.  Eigen's OpenMP
// products gain little here and degrade badly when the cores are shared: keep them serial.
#define EIGEN_DONT_PARALLELIZE
#include <Spectra/MatOp/SparseSymShiftSolve.h>
#include <Spectra/SymEigsShiftSolver.h>
#include <Eigen/Dense>
#include <Eigen/Sparse>

#include <algorithm>

#include "core/error.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/fokker_planck_detail.hpp"

namespace qtzflow::solver {

using namespace fp_detail;

template <int D>
std::vector<double> FokkerPlanckSolver<D>::spectrum(int count, SpectrumMethod method) const {
  if (distributed_) core::throw_invalid("spectrum", "a distributed solver", "one rank (the eigensolver needs the whole generator)");
  const std::size_t N = grid_.size();
  core::require_at_least("count", count, 1);
  if (static_cast<std::size_t>(count) >= N) core::throw_invalid("count", std::to_string(count), "< the number of grid points " + std::to_string(N));
  const bool dense =
      method == SpectrumMethod::dense || (method == SpectrumMethod::automatic && (N <= kDenseSpectrumMax || 4 * static_cast<std::size_t>(count) > N));
  if (dense && N > kDenseSpectrumLimit)
    core::throw_invalid("grid size", std::to_string(N) + " points", "<= " + std::to_string(kDenseSpectrumLimit) + " for the dense spectrum");
  if (!dense && 2 * static_cast<std::size_t>(count) + 1 > N)
    core::throw_invalid("count", std::to_string(count), "<= (grid points - 1)/2 = " + std::to_string((N - 1) / 2) + " for the sparse spectrum");
  const double T = schedule_.T(t_);
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  // A = −Π^{−1/2} L Π^{1/2}, symmetric positive semi-definite: the coupling of a face is
  // −c·B(Δ)·e^{Δ/2} = −c·Δ/(2 sinh(Δ/2)), Δ = (f_j − f_i)/T; the diagonal holds the exit rates.
  auto coupling = [](double d) { return std::abs(d) < 1e-8 ? 1.0 : d / (2 * std::sinh(d / 2)); };
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(N * (2 * D + 1));
  std::vector<double> diagonal(N, 0.0);
  for (int a = 0; a < D; ++a) {
    const Lines L = lines_of(grid_, a);
    const double c = T / (grid_.spacing(a) * grid_.spacing(a));
    for (std::size_t line = 0; line < L.count; ++line) {
      const std::size_t b0 = L.base(line), n = L.n;
      for (std::size_t k = 0; k < n; ++k) {
        if (k + 1 == n && !periodic) break;
        const std::size_t i = b0 + k * L.stride, j = b0 + ((k + 1) % n) * L.stride;
        const double d = (f_[j] - f_[i]) / T;
        const double w = c * coupling(d);
        entries.emplace_back(static_cast<int>(i), static_cast<int>(j), -w);
        entries.emplace_back(static_cast<int>(j), static_cast<int>(i), -w);
        diagonal[i] += c * bernoulli(d);   // rate i → j
        diagonal[j] += c * bernoulli(-d);  // rate j → i
      }
      if (absorbing) {
        diagonal[b0] += c * bernoulli((f_[b0] - f_[b0 + L.stride]) / T);
        diagonal[b0 + (n - 1) * L.stride] += c * bernoulli((f_[b0 + (n - 1) * L.stride] - f_[b0 + (n - 2) * L.stride]) / T);
      }
    }
  }
  for (std::size_t i = 0; i < N; ++i) entries.emplace_back(static_cast<int>(i), static_cast<int>(i), diagonal[i]);
  Eigen::SparseMatrix<double> A(static_cast<Eigen::Index>(N), static_cast<Eigen::Index>(N));
  A.setFromTriplets(entries.begin(), entries.end());
  std::vector<double> out;
  if (dense) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Eigen::MatrixXd(A), Eigen::EigenvaluesOnly);
    if (es.info() != Eigen::Success) throw core::NumericalError("fokker-planck: the eigensolver did not converge");
    for (int k = 0; k < count; ++k) out.push_back(es.eigenvalues()(k));
    return out;
  }
  // Shift-invert Lanczos (Spectra) around σ < 0: A − σI is positive definite, and the smallest
  // eigenvalues of A become the largest of (A − σI)^{-1}.  |σ| = 1e-6 of the largest face rate
  // separates λ0 = 0 from λ1 by orders of magnitude even when λ1 is exponentially small, while
  // the factorisation's round-off stays ~ε·‖A‖ in the eigenvalues.
  double cmax = 0;
  for (int a = 0; a < D; ++a) cmax = std::max(cmax, T / (grid_.spacing(a) * grid_.spacing(a)));
  const double sigma = -1e-6 * cmax;
  Spectra::SparseSymShiftSolve<double, Eigen::Lower | Eigen::Upper> op(A);
  const auto nev = static_cast<Eigen::Index>(count);
  const auto ncv = std::min(static_cast<Eigen::Index>(N), std::max<Eigen::Index>(2 * nev + 1, 20));
  Spectra::SymEigsShiftSolver<decltype(op)> eigs(op, nev, ncv, sigma);
  eigs.init();
  eigs.compute(Spectra::SortRule::LargestMagn, 1000, 1e-12, Spectra::SortRule::SmallestAlge);
  if (eigs.info() != Spectra::CompInfo::Successful) throw core::NumericalError("fokker-planck: the sparse eigensolver did not converge");
  const Eigen::VectorXd v = eigs.eigenvalues();
  for (int k = 0; k < count; ++k) out.push_back(v(k));
  return out;
}

template std::vector<double> FokkerPlanckSolver<1>::spectrum(int, SpectrumMethod) const;
template std::vector<double> FokkerPlanckSolver<2>::spectrum(int, SpectrumMethod) const;
template std::vector<double> FokkerPlanckSolver<3>::spectrum(int, SpectrumMethod) const;

}  // namespace qtzflow::solver
