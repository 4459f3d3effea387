#include "grids/basins.hpp"

#include "core/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "core/mpi.hpp"

namespace qtzflow::grids {

namespace {

/// The steepest-descent step of every point: the neighbour offsets {-1,0,1}^D \ {0} with their
/// distances, and the rule that picks the target (first steepest in offset order; itself when
/// no neighbour is lower).  Shared by the whole-grid and the distributed labelling, so that both
/// pick the same targets bit for bit.
template <int D>
struct DescentRule {
  bool periodic = false;
  std::array<long long, D> n{}, stride{};
  std::vector<std::array<int, D>> offs;
  std::vector<double> dist;

  explicit DescentRule(const Grid<D>& grid) : periodic(grid.boundary() == Boundary::periodic) {
    for (int a = D - 1; a >= 0; --a) {
      n[a] = static_cast<long long>(grid.n(a));
      stride[a] = (a == D - 1) ? 1 : stride[a + 1] * n[a + 1];
    }
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
  }

  /// The descent target (a global flat index) of global point i; f_at(j) is f at global point j.
  template <class FAt>
  std::size_t target(long long i, FAt&& f_at) const {
    std::array<long long, D> idx{};
    long long r = i;
    for (int a = D - 1; a >= 0; --a) {
      idx[a] = r % n[a];
      r /= n[a];
    }
    const double fi = f_at(i);
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
      const double slope = (f_at(flat) - fi) / dist[m];
      if (slope < best) {
        best = slope;
        target = static_cast<std::size_t>(flat);
      }
    }
    return target;
  }
};

/// The first non-finite point of this rank's values (global flat index), agreed over ranks:
/// every rank throws the same error together.
template <int D>
void require_finite(const Field<double, D>& f, std::size_t first_flat) {
  double bad = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < f.size(); ++i)
    if (!std::isfinite(f[i])) {
      bad = static_cast<double>(first_flat + i);
      break;
    }
  if (f.distributed()) bad = core::mpi::allreduce_min(bad);
  if (std::isfinite(bad)) throw core::NumericalError("find_basins: f is not finite at grid point " + std::to_string(static_cast<std::size_t>(bad)));
}

/// Labels of one rank's rows of a distributed f.  Descent targets leave a block only to the
/// neighbouring rows (one row above or below), so a point whose target lies on another rank
/// learns its minimum from that rank's first or last row, exchanged in rounds until every
/// point knows its minimum (as many rounds as a descent path crosses block edges, plus one).
/// Minima are then numbered over all ranks by (f, index): the whole-grid order.
template <int D>
Basins<D> find_basins_distributed(const Grid<D>& grid, const Field<double, D>& f) {
  const DescentRule<D> rule(grid);
  const std::size_t row = grid.size() / grid.n(0), n0 = grid.n(0);
  const std::size_t first = f.offset()[0], rows = f.extent()[0], first_flat = first * row, local = f.size();
  require_finite(f, first_flat);
  // the rows just outside the block (wrapped on a periodic grid; none beyond a wall)
  std::vector<long> halo_rows;
  const bool periodic = grid.boundary() == Boundary::periodic;
  const long below = first == 0 ? (periodic ? static_cast<long>(n0) - 1 : -1) : static_cast<long>(first) - 1;
  const long above = first + rows == n0 ? (periodic ? 0 : -1) : static_cast<long>(first + rows);
  for (const long r : {below, above})
    if (r >= 0) halo_rows.push_back(r);
  std::vector<double> halo(halo_rows.size() * row);
  core::mpi::fetch_rows(f.values(), row, static_cast<long>(first), halo_rows, halo);
  auto slot_of = [&](std::size_t flat) -> long {  // where a global point's row sits in halo (-1: local)
    const auto r = static_cast<long>(flat / row);
    for (std::size_t h = 0; h < halo_rows.size(); ++h)
      if (halo_rows[h] == r) return static_cast<long>(h);
    return -1;
  };
  auto f_at = [&](long long flat) {
    const auto j = static_cast<std::size_t>(flat);
    if (j >= first_flat && j < first_flat + local) return f[j - first_flat];
    return halo[static_cast<std::size_t>(slot_of(j)) * row + j % row];
  };
  std::vector<std::size_t> next(local);
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
  for (long long i = 0; i < static_cast<long long>(local); ++i)
    next[static_cast<std::size_t>(i)] = rule.target(static_cast<long long>(first_flat) + i, f_at);

  // root[i]: the global index of point i's minimum, -1 while unknown (as doubles: exchanged as rows)
  std::vector<double> root(local, -1.0), halo_root(halo.size(), -1.0);
  std::vector<std::size_t> order(local);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return f[a] < f[b]; });
  for (long round = 0;; ++round) {
    // by increasing f, a local target is settled before the points that descend to it
    long unknown = 0;
    for (std::size_t i : order) {
      if (root[i] >= 0) continue;
      const std::size_t t = next[i];
      if (t == first_flat + i)
        root[i] = static_cast<double>(t);
      else if (t >= first_flat && t < first_flat + local)
        root[i] = root[t - first_flat];
      else
        root[i] = halo_root[static_cast<std::size_t>(slot_of(t)) * row + t % row];
      unknown += root[i] < 0;
    }
    if (core::mpi::allreduce_sum(static_cast<double>(unknown)) == 0) break;
    if (round > static_cast<long>(n0) * core::mpi::size())  // every round settles at least one block crossing of every path
      throw core::Error("find_basins: the distributed labelling did not settle (a bug)");
    core::mpi::fetch_rows(root, row, static_cast<long>(first), halo_rows, halo_root);
  }

  // minima numbered by (f, index) over all ranks, as the whole-grid labelling numbers them
  std::vector<double> mine;
  for (std::size_t i = 0; i < local; ++i)
    if (next[i] == first_flat + i) {
      mine.push_back(f[i]);
      mine.push_back(static_cast<double>(first_flat + i));
    }
  const std::vector<double> all = core::mpi::allgather(mine);
  std::vector<std::pair<double, std::size_t>> minima;
  for (std::size_t k = 0; k + 1 < all.size(); k += 2) minima.emplace_back(all[k], static_cast<std::size_t>(all[k + 1]));
  std::sort(minima.begin(), minima.end());
  Basins<D> b;
  for (const auto& [value, index] : minima) {
    b.minimum_index.push_back(index);
    b.minimum_value.push_back(value);
  }
  b.label = Field<std::int32_t, D>(f.global_extent(), f.extent(), f.offset(), true, 0, -1);
  // labels by minimum index: a sorted copy of (index, label) to look roots up
  std::vector<std::pair<std::size_t, std::int32_t>> label_of;
  for (std::size_t k = 0; k < b.minimum_index.size(); ++k) label_of.emplace_back(b.minimum_index[k], static_cast<std::int32_t>(k));
  std::sort(label_of.begin(), label_of.end());
  for (std::size_t i = 0; i < local; ++i) {
    const auto r = static_cast<std::size_t>(root[i]);
    b.label[i] = std::lower_bound(label_of.begin(), label_of.end(), std::make_pair(r, std::int32_t{-1}))->second;
  }
  return b;
}

}  // namespace

template <int D>
Basins<D> find_basins(const Grid<D>& grid, const Field<double, D>& f) {
  if (f.distributed() && core::mpi::active()) {
    if (f.global_extent() != grid.shape()) require_shape("f", f, grid.shape());
    return find_basins_distributed(grid, f);
  }
  require_shape("f", f, grid.shape());
  const std::size_t N = grid.size();
  require_finite(f, 0);
  const DescentRule<D> rule(grid);
  // Descent pointer of every point (itself for a minimum).
  std::vector<std::size_t> next(N);
  auto f_at = [&](long long j) { return f[static_cast<std::size_t>(j)]; };
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
  for (long long i = 0; i < static_cast<long long>(N); ++i) next[static_cast<std::size_t>(i)] = rule.target(i, f_at);

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
