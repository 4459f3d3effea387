#include "potentials/sampling.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "potentials/gibbs.hpp"

namespace qtzflow::potentials {

namespace {
template <int D>
void require_dimension(const Objective& f) {
  if (f.dim() != D) core::throw_invalid("objective dimension", std::to_string(f.dim()), "equal to the grid's dimension " + std::to_string(D));
}

/// Key "objective" (the scenario layer names the configuration key: objective.f, objective.file,
/// objective.name).  A finite f with an infinite |grad f|^2 has values too large to differentiate
/// in doubles, not a singular point.
template <int D>
[[noreturn]] void non_finite(const char* what, double v, double f, const grids::Grid<D>& g, std::size_t i) {
  const bool overflow = std::isfinite(f);
  core::throw_invalid("objective", std::string(what) + " = " + core::format_value(v) + " at x = " + point_string(g, i) +
                                       (overflow && what != std::string_view("f") ? " where f = " + core::format_value(f) : ""),
                      overflow && what != std::string_view("f")
                          ? "finite at every grid point: f is finite there, but too large for its derivatives in doubles (scale f down)"
                          : "finite at every grid point (move the grid off the objective's singular points)");
}
}  // namespace

template <int D>
std::string point_string(const grids::Grid<D>& grid, std::size_t i) {
  std::array<std::size_t, D> idx{};
  for (int a = D - 1; a >= 0; --a) {
    idx[a] = i % grid.n(a);
    i /= grid.n(a);
  }
  std::string s = "(";
  for (int a = 0; a < D; ++a) s += (a ? ", " : "") + core::format_value(grid.x(a, idx[a]));
  return s + ")";
}

template <int D>
grids::Field<double, D> sample_objective(const Objective& f, const grids::Grid<D>& grid) {
  require_dimension<D>(f);
  grids::Field<double, D> out(grid.shape());
  grids::for_each_point(grid, [&](std::size_t i, const auto& x) { out[i] = f.value(x); });
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!std::isfinite(out[i])) non_finite("f", out[i], out[i], grid, i);
  return out;
}

template <int D>
Landscape<D>::Landscape(const Objective& f, const grids::Grid<D>& grid) : Landscape(f, grid, 0, grid.n(0), false) {}

template <int D>
Landscape<D>::Landscape(const Objective& f, const grids::Grid<D>& grid, std::size_t first_row, std::size_t rows, bool distributed) : grid_(grid) {
  require_dimension<D>(f);
  if (first_row + rows > grid.n(0))
    core::throw_invalid("rows", std::to_string(first_row) + ".." + std::to_string(first_row + rows),
                        "within the grid's " + std::to_string(grid.n(0)) + " rows");
  auto extent = grid.shape();
  typename grids::Grid<D>::Shape offset{};
  extent[0] = rows;
  offset[0] = first_row;
  f_ = grids::Field<double, D>(grid.shape(), extent, offset, distributed);
  grad2_ = f_;
  lap_ = f_;
  grids::for_each_point_of_rows(grid, first_row, rows, [&](std::size_t i, const auto& x) {
    std::array<double, D> g{};
    f.gradient(x, g);
    double g2 = 0;
    for (double v : g) g2 += v * v;
    f_[i] = f.value(x);
    grad2_[i] = g2;
    lap_[i] = f.laplacian(x);
  });
  const std::size_t first = first_flat();
  for (std::size_t i = 0; i < f_.size(); ++i) {
    if (!std::isfinite(f_[i])) non_finite("f", f_[i], f_[i], grid, first + i);
    if (!std::isfinite(grad2_[i])) non_finite("|grad f|^2", grad2_[i], f_[i], grid, first + i);
  }
}

template <int D>
Landscape<D> Landscape<D>::block(std::size_t first_row, std::size_t rows, bool distributed) const {
  Landscape out(*this);
  out.f_ = grids::as_block("landscape", f_, first_row, rows, distributed);
  out.grad2_ = grids::as_block("landscape", grad2_, first_row, rows, distributed);
  out.lap_ = grids::as_block("landscape", lap_, first_row, rows, distributed);
  return out;
}

template <int D>
void Landscape<D>::potential(PotentialKind kind, double T, double Tdot, grids::Field<double, D>& out) const {
  grids::require_shape("potential", out, f_.extent());
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(out.size());
  if (kind == PotentialKind::objective) {
    std::copy(f_.begin(), f_.end(), out.begin());
    return;
  }
  core::require_positive("T", T);
  core::require_finite("Tdot", Tdot);
  const double a = 1.0 / (4 * T), b = Tdot / (2 * T * T);
  const double *f = f_.data(), *g2 = grad2_.data(), *lap = lap_.data();
  double* v = out.data();
  core::parallel_for(n, [=](std::ptrdiff_t i) { v[i] = a * g2[i] - 0.5 * lap[i] + b * f[i]; });
  for (std::ptrdiff_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i]))
      core::throw_invalid("T", core::format_value(T) + ": V_T = " + core::format_value(v[i]) + " at x = " + point_string(grid_, first_flat() + static_cast<std::size_t>(i)),
                          "a temperature at which V_T = |grad f|^2/(4T) - lap f/2 + Tdot f/(2T^2) is finite at every grid point");
}

template <int D>
grids::Field<double, D> Landscape<D>::potential(PotentialKind kind, double T, double Tdot) const {
  grids::Field<double, D> out(f_);
  potential(kind, T, Tdot, out);
  return out;
}

template <int D>
grids::Field<double, D> witten_ground_state(const Objective& f, const grids::Grid<D>& grid, double T) {
  core::require_positive("T", T);
  auto phi = boltzmann_factor(sample_objective(f, grid), 2 * T);  // shifted by min f: no underflow at low T
  const double norm2 = core::parallel_sum(static_cast<std::ptrdiff_t>(phi.size()),
                                          [&](std::ptrdiff_t i) { return phi[static_cast<std::size_t>(i)] * phi[static_cast<std::size_t>(i)]; }) *
                       grid.cell_volume();
  const double s = 1.0 / std::sqrt(norm2);
  for (double& v : phi) v *= s;
  return phi;
}

#define QTZFLOW_INSTANTIATE(D)                                                                           \
  template class Landscape<D>;                                                                           \
  template grids::Field<double, D> sample_objective(const Objective&, const grids::Grid<D>&);            \
  template grids::Field<double, D> witten_ground_state(const Objective&, const grids::Grid<D>&, double); \
  template std::string point_string(const grids::Grid<D>&, std::size_t);
QTZFLOW_INSTANTIATE(1)
QTZFLOW_INSTANTIATE(2)
QTZFLOW_INSTANTIATE(3)
#undef QTZFLOW_INSTANTIATE

}  // namespace qtzflow::potentials
