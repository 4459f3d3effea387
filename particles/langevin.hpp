// qtzflow/particles/langevin.hpp — one overdamped Langevin step, the particle picture of the
// Fokker–Planck equation ∂ρ/∂t = ∇·(ρ∇f + T∇ρ):
//
//     x_a ← fold_a( x_a − ∂_a f(x) dt + √(2T dt) z_a ),   z_a standard normal
//
// (Euler–Maruyama: weak order 1 in dt).  `fold` puts a coordinate back into the box (mirror
// reflection, the no-flux wall, or the periodic wrap: particles/walls.hpp).  The normals come
// from the caller, so that each user keeps its own random-stream convention: an optimizer run
// draws from one sequential stream per run; an ensemble addresses its draws by (step, particle)
// so that a restart at any step continues without replaying the stream.
#pragma once

#include <cstddef>

#include "potentials/objective.hpp"

namespace qtzflow::particles {

/// One step for the point x (D coordinates, any container with operator[] and size D); g is
/// scratch for the gradient.  normal(a) gives z_a, called for a = 0, 1, … in order.
template <class Point, class Normal, class Fold>
inline void langevin_step(const potentials::Objective& f, Point& x, Point& g, std::size_t dim, double dt, double amplitude, Normal&& normal,
                          Fold&& fold) {
  f.gradient(x, g);
  for (std::size_t a = 0; a < dim; ++a) x[a] = fold(x[a] - g[a] * dt + amplitude * normal(a), a);
}

}  // namespace qtzflow::particles
