// qtzflow/particles/walls.hpp — the walls of every particle move: mirror reflection into an
// interval (a symmetric proposal stays symmetric; the no-flux wall of the Fokker–Planck engine)
// and the periodic wrap.  Internal to the particle engine (namespace detail).
#pragma once

#include <cmath>

namespace qtzflow::particles::detail {

/// Folds v into [lo, hi] by reflecting at both walls (any distance beyond them).
inline double reflect(double v, double lo, double hi) {
  if (v >= lo && v <= hi) return v;
  const double L = hi - lo;
  double y = std::fmod(v - lo, 2 * L);
  if (y < 0) y += 2 * L;
  if (y > L) y = 2 * L - y;
  return lo + y;
}

/// Wraps v into [lo, hi) periodically.
inline double wrap(double v, double lo, double hi) {
  if (v >= lo && v < hi) return v;
  const double L = hi - lo;
  double y = std::fmod(v - lo, L);
  if (y < 0) y += L;
  return lo + y;
}

}  // namespace qtzflow::particles::detail
