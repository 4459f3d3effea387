// qtzflow/potentials/sampling.hpp — objectives sampled on a grid, and the two potentials of the
// Schrödinger picture (docs/theory.md, "The Witten transform"):
//
//   witten     V_T = |∇f|²/(4T) − Δf/2  [+ f·Ṫ/(2T²) when T = T(t) in imaginary time]
//              H_T = −TΔ + V_T ≥ 0 and H_T e^{−f/(2T)} = 0: the potential equivalent to
//              Fokker–Planck under ρ = e^{−f/(2T)} φ.
//   objective  V = f: the quantum-annealing picture; imaginary time with it is diffusion with
//              killing, NOT Fokker–Planck, and its ground state is not the Gibbs density.
//
// A Landscape samples f, |∇f|² and Δf once (on the whole grid, or on one block of rows), so that a time-dependent T(t) rebuilds V_T with one
// streaming pass and no objective calls.  Non-finite samples raise InvalidArgument naming the
// grid point, so an objective's kink (see objective.hpp) never enters a run silently.
#pragma once

#include <string>

#include "core/names.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/objective.hpp"

namespace qtzflow::potentials {

enum class PotentialKind { witten, objective };
constexpr core::Named<PotentialKind> kPotentialKindNames[] = {{"witten", PotentialKind::witten}, {"objective", PotentialKind::objective}};
constexpr std::span<const core::Named<PotentialKind>> names_of(PotentialKind) { return kPotentialKindNames; }

inline const char* to_string(PotentialKind k) { return core::name_of(k).data(); }

template <int D>
class Landscape {
 public:
  Landscape(const Objective& f, const grids::Grid<D>& grid);
  /// Samples rows [first_row, first_row + rows) of axis 0 only: one rank's block of a
  /// distributed engine (`distributed` marks the fields so), or any slab of interest.
  Landscape(const Objective& f, const grids::Grid<D>& grid, std::size_t first_row, std::size_t rows, bool distributed);

  /// Rows [first_row, first_row + rows) of this whole-grid landscape, as a block landscape (this
  /// landscape itself if it is that block; InvalidArgument for another block).
  Landscape block(std::size_t first_row, std::size_t rows, bool distributed) const;

  const grids::Grid<D>& grid() const { return grid_; }
  const grids::Field<double, D>& f() const { return f_; }
  const grids::Field<double, D>& grad2() const { return grad2_; }
  const grids::Field<double, D>& laplacian() const { return lap_; }

  /// Writes the potential of kind `kind` at temperature T into out (of the landscape's block).  `Tdot` (Ṫ) adds the
  /// f·Ṫ/(2T²) term of a time-dependent witten potential; pass 0 for constant T or real time.
  void potential(PotentialKind kind, double T, double Tdot, grids::Field<double, D>& out) const;
  grids::Field<double, D> potential(PotentialKind kind, double T, double Tdot = 0) const;

 private:
  /// Global flat index of the block's first point.
  std::size_t first_flat() const { return f_.offset()[0] * (grid_.size() / grid_.n(0)); }

  grids::Grid<D> grid_;
  grids::Field<double, D> f_, grad2_, lap_;
};

/// f sampled at the grid's points.
template <int D>
grids::Field<double, D> sample_objective(const Objective& f, const grids::Grid<D>& grid);

/// The witten ground state e^{−f/(2T)}, L²-normalised on the grid (Σ φ² h^D = 1).
template <int D>
grids::Field<double, D> witten_ground_state(const Objective& f, const grids::Grid<D>& grid, double T);

/// Human-readable coordinates of flat grid index i, e.g. "(0.5, -1.25)".
template <int D>
std::string point_string(const grids::Grid<D>& grid, std::size_t i);

}  // namespace qtzflow::potentials
