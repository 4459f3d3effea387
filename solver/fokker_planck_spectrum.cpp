// The spectrum of the Fokker–Planck generator (dense, Eigen).  A file of its own because GCC 12
// warns falsely (-Wmaybe-uninitialized) inside its AVX-512 intrinsics when inlining Eigen.
// Dense eigenproblems of <= 4096 points gain little from threads, and Eigen's OpenMP products
// degrade badly when the cores are shared: keep them serial.
#define EIGEN_DONT_PARALLELIZE
#include <Eigen/Dense>

#include "core/error.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/fokker_planck_detail.hpp"

namespace qtzflow::solver {

using namespace fp_detail;

template <int D>
std::vector<double> FokkerPlanckSolver<D>::spectrum(int count) const {
  const std::size_t N = grid_.size();
  if (N > 4096) core::throw_invalid("grid size", std::to_string(N) + " points", "<= 4096 for the dense spectrum");
  core::require_at_least("count", count, 1);
  const double T = schedule_.T(t_);
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(N), static_cast<Eigen::Index>(N));
  // symmetric coupling of a face: c·B(Δ)·e^{Δ/2} = c·Δ/(2 sinh(Δ/2)), Δ = (f_j − f_i)/T
  auto coupling = [](double d) { return std::abs(d) < 1e-8 ? 1.0 : d / (2 * std::sinh(d / 2)); };
  for (int a = 0; a < D; ++a) {
    const Lines L = lines_of(grid_, a);
    const double c = T / (grid_.spacing(a) * grid_.spacing(a));
    for (std::size_t line = 0; line < L.count; ++line) {
      const std::size_t b0 = L.base(line), n = L.n;
      for (std::size_t k = 0; k < n; ++k) {
        if (k + 1 == n && !periodic) break;
        const auto i = static_cast<Eigen::Index>(b0 + k * L.stride), j = static_cast<Eigen::Index>(b0 + ((k + 1) % n) * L.stride);
        const double d = (f_[static_cast<std::size_t>(j)] - f_[static_cast<std::size_t>(i)]) / T;
        const double w = c * coupling(d);
        S(i, j) += w;
        S(j, i) += w;
        S(i, i) -= c * bernoulli(d);   // rate i → j
        S(j, j) -= c * bernoulli(-d);  // rate j → i
      }
      if (absorbing) {
        const auto i0 = static_cast<Eigen::Index>(b0), i1 = static_cast<Eigen::Index>(b0 + (n - 1) * L.stride);
        S(i0, i0) -= c * bernoulli((f_[b0] - f_[b0 + L.stride]) / T);
        S(i1, i1) -= c * bernoulli((f_[b0 + (n - 1) * L.stride] - f_[b0 + (n - 2) * L.stride]) / T);
      }
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(-S, Eigen::EigenvaluesOnly);
  if (es.info() != Eigen::Success) throw core::NumericalError("fokker-planck: the eigensolver did not converge");
  std::vector<double> out;
  for (int k = 0; k < count && k < static_cast<int>(N); ++k) out.push_back(es.eigenvalues()(k));
  return out;
}

template std::vector<double> FokkerPlanckSolver<1>::spectrum(int) const;
template std::vector<double> FokkerPlanckSolver<2>::spectrum(int) const;
template std::vector<double> FokkerPlanckSolver<3>::spectrum(int) const;

}  // namespace qtzflow::solver
