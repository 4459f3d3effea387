// qtzflow/potentials/sampled.hpp — an objective known only by its samples on a grid
// (objective.name = "sampled": values from an HDF5 file, a NumPy array, another code's output).
//
// Given f_i at the points of a Grid<D> (cell centres, C order, axis 0 slowest), the derivatives
// are computed once, on the grid:
//   periodic grid      spectral: ∂_a f = F⁻¹[i k_a F f] (the Nyquist mode of an even n dropped,
//                      as it has no real odd derivative), Δf = F⁻¹[−|k|² F f].  Exact for
//                      trigonometric polynomials of degree < n/2; for smooth periodic f the error
//                      falls faster than any power of h.  Data that are not smooth AND periodic
//                      (a jump across the box's edge, a kink) ring (Gibbs): use a non-periodic grid.
//   reflecting /       4th-order finite differences: central 5-point stencils inside, one-sided
//   absorbing grid     4th-order stencils (5 points for ∂, 6 for ∂²) on the two cells next to each
//                      edge.  Error O(h⁴) everywhere (tests/unit/test_sampled.cpp measures the
//                      order: 4.0 for ∇f and Δf).  Needs n ≥ 6 on every axis.
// Between grid points (particles, optimizers) f, ∂_a f and Δf are interpolated by tensor-product
// cubic Lagrange polynomials through the 4 nearest points per axis: exact at the grid points,
// O(h⁴) between them, continuous but with kinks in the interpolant's own slope at the points (so
// the gradient used between points is the interpolated spectral/FD gradient, not the derivative
// of the interpolated f).  Non-periodic grids extrapolate the outermost cubic into the half cell
// between the last point and the box's edge; periodic grids wrap.
// Domain: the grid's box; minima: the ones given (none by default).
// Limits: D = 1, 2, 3 (the grids qtzflow has); memory 3 + D fields of the grid's size.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/objective.hpp"

namespace qtzflow::potentials {

struct SampledSpec {
  std::vector<double> values;               ///< f at the grid's points, C order (grid.size() of them)
  std::vector<std::vector<double>> minima;  ///< known minima (points); the lowest f is marked global
  std::string key = "objective.file";       ///< the name errors use for the data
  std::string source;                       ///< where the values came from ("f.h5:/f"), for messages
};

/// An objective from its samples on `grid`.  Throws InvalidArgument naming spec.key for a wrong
/// number of values, a non-finite value (the point named), a non-periodic axis with fewer than
/// 6 points, or a minimum outside the grid's box.
template <int D>
std::unique_ptr<Objective> make_sampled_objective(const grids::Grid<D>& grid, const SampledSpec& spec);

/// The derivatives a sampled objective uses on its grid (spectral or 4th-order, see above):
/// gradient[a] = ∂_a f and the Laplacian, at the grid's points.
template <int D>
struct GridDerivatives {
  std::array<grids::Field<double, D>, D> gradient;
  grids::Field<double, D> laplacian;
};
template <int D>
GridDerivatives<D> grid_derivatives(const grids::Grid<D>& grid, const grids::Field<double, D>& f);

}  // namespace qtzflow::potentials
