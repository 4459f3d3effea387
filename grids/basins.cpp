#include "grids/basins.hpp"

#include "core/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qtzflow::grids {

template <int D>
Basins<D> find_basins(const Grid<D>& grid, const Field<double, D>& f) {
  require_shape("f", f, grid.shape());
  const std::size_t N = grid.size();
  for (std::size_t i = 0; i < N; ++i)
    if (!std::isfinite(f[i])) throw core::NumericalError("find_basins: f is not finite at grid point " + std::to_string(i));

  const bool periodic = grid.boundary() == Boundary::periodic;
  std::array<long long, D> n{}, stride{};
  for (int a = D - 1; a >= 0; --a) {
    n[a] = static_cast<long long>(grid.n(a));
    stride[a] = (a == D - 1) ? 1 : stride[a + 1] * n[a + 1];
  }
  // Neighbour offsets in {-1,0,1}^D \ {0} with their distances.
  std::vector<std::array<int, D>> offs;
  std::vector<double> dist;
  const int total = static_cast<int>(std::pow(3, D));
  for (int c = 0; c < total; ++c) {
    std::array<int, D> o{};
    int r = c;
    double d2 = 0;
    bool zero = true;
    for (int a = 0; a < D; ++a) {
      o[a] = r % 3 - 1;
      r /= 3;
      zero = zero && o[a] == 0;
      d2 += o[a] * o[a] * grid.spacing(a) * grid.spacing(a);
    }
    if (!zero) {
      offs.push_back(o);
      dist.push_back(std::sqrt(d2));
    }
  }

  // Descent pointer of every point (itself for a minimum).
  std::vector<std::size_t> next(N);
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
  for (long long i = 0; i < static_cast<long long>(N); ++i) {
    std::array<long long, D> idx{};
    long long r = i;
    for (int a = D - 1; a >= 0; --a) {
      idx[a] = r % n[a];
      r /= n[a];
    }
    double best = 0;
    std::size_t target = static_cast<std::size_t>(i);
    for (std::size_t m = 0; m < offs.size(); ++m) {
      long long flat = 0;
      bool inside = true;
      for (int a = 0; a < D; ++a) {
        long long j = idx[a] + offs[m][a];
        if (j < 0 || j >= n[a]) {
          if (!periodic) {
            inside = false;
            break;
          }
          j = (j + n[a]) % n[a];
        }
        flat += j * stride[a];
      }
      if (!inside) continue;
      const double slope = (f[static_cast<std::size_t>(flat)] - f[static_cast<std::size_t>(i)]) / dist[m];
      if (slope < best) {
        best = slope;
        target = static_cast<std::size_t>(flat);
      }
    }
    next[static_cast<std::size_t>(i)] = target;
  }

  // Visit points by increasing f: a point's descent target is lower, hence already labelled.
  std::vector<std::size_t> order(N);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f[a] < f[b]; });
  Basins<D> b;
  b.label = Field<std::int32_t, D>(grid.shape(), -1);
  for (std::size_t i : order) {
    if (next[i] == i) {
      b.label[i] = static_cast<std::int32_t>(b.minimum_index.size());
      b.minimum_index.push_back(i);
      b.minimum_value.push_back(f[i]);
    } else {
      b.label[i] = b.label[next[i]];
    }
  }
  return b;
}

template Basins<1> find_basins(const Grid<1>&, const Field<double, 1>&);
template Basins<2> find_basins(const Grid<2>&, const Field<double, 2>&);
template Basins<3> find_basins(const Grid<3>&, const Field<double, 3>&);

}  // namespace qtzflow::grids
