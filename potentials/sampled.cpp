#include "potentials/sampled.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "grids/fft.hpp"
#include "potentials/sampling.hpp"

namespace qtzflow::potentials {

namespace {

/// Strides of a C-order array: stride[a] = Π_{b > a} n_b.
template <int D>
std::array<std::size_t, D> strides_of(const std::array<std::size_t, D>& n) {
  std::array<std::size_t, D> s{};
  std::size_t acc = 1;
  for (int a = D - 1; a >= 0; --a) {
    s[static_cast<std::size_t>(a)] = acc;
    acc *= n[static_cast<std::size_t>(a)];
  }
  return s;
}

template <int D>
GridDerivatives<D> spectral_derivatives(const grids::Grid<D>& grid, const grids::Field<double, D>& f) {
  GridDerivatives<D> out;
  const auto& n = grid.shape();
  // planned once per objective, so the planning rigor hardly matters; estimate keeps it instant
  const grids::RealFft<D> fft(n, grids::PlanRigor::estimate);
  const auto half = fft.spectral_extent();
  const auto hs = strides_of<D>(half);
  grids::Field<grids::complex, D> F(half), G(half);
  fft.forward(f, F);
  const double norm = fft.normalisation();
  // wavenumber of spectral index j along a (the half axis D−1 holds j = 0 … n/2 only)
  auto k_of = [&](std::size_t flat, int a, bool& nyquist) {
    const std::size_t j = (flat / hs[static_cast<std::size_t>(a)]) % half[static_cast<std::size_t>(a)];
    nyquist = grid.n(a) % 2 == 0 && j == grid.n(a) / 2;
    return grid.wavenumber(a, j);
  };
  for (int a = 0; a < D; ++a) {
    for (std::size_t p = 0; p < F.size(); ++p) {
      bool nyq = false;
      const double k = k_of(p, a, nyq);
      G[p] = nyq ? grids::complex(0) : grids::complex(0, k * norm) * F[p];  // i k_a: odd, so the Nyquist mode has none
    }
    out.gradient[static_cast<std::size_t>(a)] = grids::Field<double, D>(n);
    fft.backward(G, out.gradient[static_cast<std::size_t>(a)]);
  }
  for (std::size_t p = 0; p < F.size(); ++p) {
    double k2 = 0;
    for (int a = 0; a < D; ++a) {
      bool nyq = false;
      const double k = k_of(p, a, nyq);
      k2 += k * k;
    }
    G[p] = -k2 * norm * F[p];
  }
  out.laplacian = grids::Field<double, D>(n);
  fft.backward(G, out.laplacian);
  return out;
}

// 4th-order stencils, f at offsets relative to the point (divide by 12 h or 12 h²).
constexpr double kCentral1[5] = {1, -8, 0, 8, -1};              // offsets −2 … 2
constexpr double kCentral2[5] = {-1, 16, -30, 16, -1};          // offsets −2 … 2
constexpr double kEdge1_0[5] = {-25, 48, -36, 16, -3};          // at the edge point, offsets 0 … 4
constexpr double kEdge1_1[5] = {-3, -10, 18, -6, 1};            // one in, offsets −1 … 3
constexpr double kEdge2_0[6] = {45, -154, 214, -156, 61, -10};  // offsets 0 … 5
constexpr double kEdge2_1[6] = {10, -15, -4, 14, -6, 1};        // offsets −1 … 4

template <int D>
GridDerivatives<D> difference_derivatives(const grids::Grid<D>& grid, const grids::Field<double, D>& f) {
  GridDerivatives<D> out;
  const auto& n = grid.shape();
  const auto st = strides_of<D>(n);
  out.laplacian = grids::Field<double, D>(n, 0.0);
  for (int a = 0; a < D; ++a) {
    const std::size_t s = st[static_cast<std::size_t>(a)], na = n[static_cast<std::size_t>(a)];
    const double h = grid.spacing(a);
    auto& g = out.gradient[static_cast<std::size_t>(a)];
    g = grids::Field<double, D>(n);
    const double* v = f.data();
    for (std::size_t p = 0; p < f.size(); ++p) {
      const std::size_t i = (p / s) % na;
      // the stencil's first point (as an offset from p, in points along a) and its weights;
      // the far edge mirrors the near one (first derivative changes sign)
      double d1 = 0, d2 = 0;
      auto at = [&](long off) { return v[static_cast<std::size_t>(static_cast<long>(p) + off * static_cast<long>(s))]; };
      if (i >= 2 && i + 2 < na) {
        for (int k = 0; k < 5; ++k) {
          d1 += kCentral1[k] * at(k - 2);
          d2 += kCentral2[k] * at(k - 2);
        }
      } else if (i < 2) {
        const double* w1 = i == 0 ? kEdge1_0 : kEdge1_1;
        const double* w2 = i == 0 ? kEdge2_0 : kEdge2_1;
        const long first = -static_cast<long>(i);
        for (int k = 0; k < 5; ++k) d1 += w1[k] * at(first + k);
        for (int k = 0; k < 6; ++k) d2 += w2[k] * at(first + k);
      } else {
        const std::size_t r = na - 1 - i;  // 0 at the last point
        const double* w1 = r == 0 ? kEdge1_0 : kEdge1_1;
        const double* w2 = r == 0 ? kEdge2_0 : kEdge2_1;
        const long first = static_cast<long>(r);  // mirrored: weight k sits at offset first − k
        for (int k = 0; k < 5; ++k) d1 -= w1[k] * at(first - k);
        for (int k = 0; k < 6; ++k) d2 += w2[k] * at(first - k);
      }
      g[p] = d1 / (12 * h);
      out.laplacian[p] += d2 / (12 * h * h);
    }
  }
  return out;
}

/// Cubic Lagrange weights through the points at offsets −1, 0, 1, 2, evaluated at t.
inline void cubic_weights(double t, double w[4]) {
  w[0] = -t * (t - 1) * (t - 2) / 6;
  w[1] = (t + 1) * (t - 1) * (t - 2) / 2;
  w[2] = -(t + 1) * t * (t - 2) / 2;
  w[3] = (t + 1) * t * (t - 1) / 6;
}

template <int D>
class SampledObjective final : public Objective {
 public:
  SampledObjective(const grids::Grid<D>& grid, const SampledSpec& spec)
      : Objective("sampled", D, {}), grid_(grid), f_(grid.shape()), strides_(strides_of<D>(grid.shape())) {
    if (spec.values.size() != grid.size())
      core::throw_invalid(spec.key, std::to_string(spec.values.size()) + " values" + (spec.source.empty() ? "" : " in " + spec.source),
                          std::to_string(grid.size()) + " (one per grid point)");
    for (std::size_t i = 0; i < grid.size(); ++i)
      if (!std::isfinite(spec.values[i]))
        core::throw_invalid(
            spec.key,
            (spec.source.empty() ? std::string("f") : spec.source) + " = " + core::format_value(spec.values[i]) + " at x = " + point_string(grid, i),
            "finite at every grid point");
    periodic_ = grid.boundary() == grids::Boundary::periodic;
    for (int a = 0; a < D; ++a)
      if (!periodic_ && grid.n(a) < 6)
        core::throw_invalid("grid.n", std::to_string(grid.n(a)) + " points on axis " + std::to_string(a) + " (with " + spec.key + ")",
                            ">= 6 on a non-periodic grid (the one-sided 4th-order stencils of a sampled objective)");
    std::copy(spec.values.begin(), spec.values.end(), f_.begin());
    d_ = grid_derivatives(grid, f_);
    for (int a = 0; a < D; ++a) {
      lower_.push_back(grid.lower()[a]);
      upper_.push_back(grid.upper()[a]);
    }
    set_known_minima(spec.minima);
  }

  double value(std::span<const double> x) const override {
    Stencil s;
    if (!stencil(x, s)) return NAN;
    return interpolate(f_, s);
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    Stencil s;
    const bool ok = stencil(x, s);
    for (int a = 0; a < D; ++a) g[static_cast<std::size_t>(a)] = ok ? interpolate(d_.gradient[static_cast<std::size_t>(a)], s) : NAN;
  }
  double laplacian(std::span<const double> x) const override {
    Stencil s;
    if (!stencil(x, s)) return NAN;
    return interpolate(d_.laplacian, s);
  }

 private:
  struct Stencil {
    std::array<std::array<std::size_t, 4>, D> index;  // flat offsets (index × stride) per axis
    std::array<std::array<double, 4>, D> weight;
  };

  bool stencil(std::span<const double> x, Stencil& s) const {
    for (int a = 0; a < D; ++a) {
      const auto ua = static_cast<std::size_t>(a);
      if (!std::isfinite(x[ua])) return false;
      const auto n = static_cast<long>(grid_.n(a));
      double u = (x[ua] - grid_.x(a, 0)) / grid_.spacing(a);  // position in points
      if (periodic_)
        u -= static_cast<double>(n) * std::floor(u / static_cast<double>(n));
      else
        u = std::clamp(u, -2.0, static_cast<double>(n + 1));  // far outside: extrapolate no further
      long i0 = static_cast<long>(std::floor(u)) - 1;         // the stencil's first point
      if (!periodic_) i0 = std::clamp(i0, 0L, n - 4);
      double w[4];
      cubic_weights(u - static_cast<double>(i0 + 1), w);
      for (int k = 0; k < 4; ++k) {
        long i = i0 + k;
        if (periodic_) i = ((i % n) + n) % n;
        s.index[ua][static_cast<std::size_t>(k)] = static_cast<std::size_t>(i) * strides_[ua];
        s.weight[ua][static_cast<std::size_t>(k)] = w[k];
      }
    }
    return true;
  }

  double interpolate(const grids::Field<double, D>& F, const Stencil& s) const {
    const double* v = F.data();
    double acc = 0;
    if constexpr (D == 1) {
      for (int i = 0; i < 4; ++i) acc += s.weight[0][i] * v[s.index[0][i]];
    } else if constexpr (D == 2) {
      for (int i = 0; i < 4; ++i) {
        double row = 0;
        for (int j = 0; j < 4; ++j) row += s.weight[1][j] * v[s.index[0][i] + s.index[1][j]];
        acc += s.weight[0][i] * row;
      }
    } else {
      for (int i = 0; i < 4; ++i) {
        double plane = 0;
        for (int j = 0; j < 4; ++j) {
          double row = 0;
          for (int k = 0; k < 4; ++k) row += s.weight[2][k] * v[s.index[0][i] + s.index[1][j] + s.index[2][k]];
          plane += s.weight[1][j] * row;
        }
        acc += s.weight[0][i] * plane;
      }
    }
    return acc;
  }

  grids::Grid<D> grid_;
  grids::Field<double, D> f_;
  std::array<std::size_t, D> strides_;
  GridDerivatives<D> d_;
  bool periodic_ = true;
};

}  // namespace

template <int D>
GridDerivatives<D> grid_derivatives(const grids::Grid<D>& grid, const grids::Field<double, D>& f) {
  grids::require_shape("f", f, grid.shape());
  return grid.boundary() == grids::Boundary::periodic ? spectral_derivatives(grid, f) : difference_derivatives(grid, f);
}

template <int D>
std::unique_ptr<Objective> make_sampled_objective(const grids::Grid<D>& grid, const SampledSpec& spec) {
  return std::make_unique<SampledObjective<D>>(grid, spec);
}

template GridDerivatives<1> grid_derivatives(const grids::Grid<1>&, const grids::Field<double, 1>&);
template GridDerivatives<2> grid_derivatives(const grids::Grid<2>&, const grids::Field<double, 2>&);
template GridDerivatives<3> grid_derivatives(const grids::Grid<3>&, const grids::Field<double, 3>&);
template std::unique_ptr<Objective> make_sampled_objective(const grids::Grid<1>&, const SampledSpec&);
template std::unique_ptr<Objective> make_sampled_objective(const grids::Grid<2>&, const SampledSpec&);
template std::unique_ptr<Objective> make_sampled_objective(const grids::Grid<3>&, const SampledSpec&);

}  // namespace qtzflow::potentials
