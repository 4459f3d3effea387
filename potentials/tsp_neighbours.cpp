#include "potentials/tsp_neighbours.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace qtzflow::potentials {

namespace {

/// (distance, city): ordered by distance, then by the lower index.
struct Candidate {
  double d;
  int city;
  bool operator<(const Candidate& o) const { return d < o.d || (d == o.d && city < o.city); }
};

/// The K best candidates seen so far: a max-heap on the order above (its top is the K-th best).
class Best {
 public:
  explicit Best(std::size_t k) : k_(k) { heap_.reserve(k); }
  void clear() { heap_.clear(); }
  bool full() const { return heap_.size() == k_; }
  const Candidate& worst() const { return heap_.front(); }
  void offer(Candidate c) {
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (c < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end());
    }
  }
  /// Writes the candidates, nearest first, to row i of `out`.
  void write(TspNeighbours& out, std::size_t i) {
    std::sort_heap(heap_.begin(), heap_.end());
    for (std::size_t r = 0; r < k_; ++r) {
      out.city[i * k_ + r] = heap_[r].city;
      out.distance[i * k_ + r] = heap_[r].d;
    }
  }

 private:
  std::size_t k_;
  std::vector<Candidate> heap_;
};

TspNeighbours make_lists(const TspInstance& t, std::size_t k) {
  const std::size_t n = t.size();
  if (k < 1 || k >= n)
    core::throw_invalid("neighbours", std::to_string(k), "1 to " + std::to_string(n - 1) + " (fewer than the " + std::to_string(n) + " cities)");
  TspNeighbours out;
  out.k = k;
  out.city.resize(n * k);
  out.distance.resize(n * k);
  return out;
}

}  // namespace

TspNeighbours nearest_neighbours_brute_force(const TspInstance& t, std::size_t k) {
  TspNeighbours out = make_lists(t, k);
  const std::size_t n = t.size();
  Best best(k);
  for (std::size_t i = 0; i < n; ++i) {
    best.clear();
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) best.offer({t.distance(i, j), static_cast<int>(j)});
    best.write(out, i);
  }
  return out;
}

TspNeighbours nearest_neighbours(const TspInstance& t, std::size_t k) {
  if (!is_planar(t.metric()) || t.x().empty()) return nearest_neighbours_brute_force(t, k);
  TspNeighbours out = make_lists(t, k);
  const std::size_t n = t.size();
  const auto x = t.x(), y = t.y();
  const auto [x_lo, x_hi] = std::minmax_element(x.begin(), x.end());
  const auto [y_lo, y_hi] = std::minmax_element(y.begin(), y.end());
  const double x0 = *x_lo, y0 = *y_lo;
  const double width = std::max(*x_hi - x0, 0.0), height = std::max(*y_hi - y0, 0.0);
  // about two cities per cell over the bounding box, and at most 2n + 1 cells along either side
  // (a long thin box; one point): the grid has O(n) cells
  const double longest = std::max(width, height);
  double side = std::sqrt(2.0 * width * height / static_cast<double>(n));
  side = std::max(side, longest / (2.0 * static_cast<double>(n)));
  if (!(side > 0)) side = 1.0;  // every city at one point
  const auto cells_along = [&](double extent) { return static_cast<std::size_t>(extent / side) + 1; };
  const std::size_t cx = cells_along(width), cy = cells_along(height);
  // the bound below must not be spoilt by the rounding of (v − v0)/side near a cell's edge
  const double slack = 1e-9 * (longest + std::abs(x0) + std::abs(y0));
  auto cell_of = [&](double v, double v0, std::size_t cells) {
    const auto c = static_cast<std::size_t>(std::max(0.0, (v - v0) / side));
    return std::min(c, cells - 1);
  };
  // cities sorted by cell (counting sort): start[c] … start[c + 1] in `members`
  std::vector<std::size_t> start(cx * cy + 1, 0), members(n), cell(n);
  for (std::size_t i = 0; i < n; ++i) {
    cell[i] = cell_of(y[i], y0, cy) * cx + cell_of(x[i], x0, cx);
    ++start[cell[i] + 1];
  }
  for (std::size_t c = 0; c < cx * cy; ++c) start[c + 1] += start[c];
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) members[fill[cell[i]]++] = i;
  }
  Best best(k);
  const auto metric = t.metric();
  const std::size_t max_ring = std::max(cx, cy);
  for (std::size_t i = 0; i < n; ++i) {
    best.clear();
    const auto ix = static_cast<long>(cell[i] % cx), iy = static_cast<long>(cell[i] / cx);
    for (std::size_t ring = 0; ring <= max_ring; ++ring) {
      const auto r = static_cast<long>(ring);
      auto visit = [&](long gx, long gy) {
        if (gx < 0 || gy < 0 || gx >= static_cast<long>(cx) || gy >= static_cast<long>(cy)) return;
        const std::size_t c = static_cast<std::size_t>(gy) * cx + static_cast<std::size_t>(gx);
        for (std::size_t m = start[c]; m < start[c + 1]; ++m) {
          const std::size_t j = members[m];
          if (j != i) best.offer({t.distance(i, j), static_cast<int>(j)});
        }
      };
      if (r == 0) {
        visit(ix, iy);
      } else {
        for (long g = -r; g <= r; ++g) {
          visit(ix + g, iy - r);
          visit(ix + g, iy + r);
        }
        for (long g = -r + 1; g <= r - 1; ++g) {
          visit(ix - r, iy + g);
          visit(ix + r, iy + g);
        }
      }
      // every city not yet seen lies in ring + 1 or beyond: at least ring·side away in the
      // plane, so at least metric(ring·side) away (the metric does not decrease with distance);
      // it can enter the list only if that does not exceed the K-th candidate's distance
      if (best.full()) {
        const double reach = coordinate_distance(metric, 0.0, 0.0, std::max(0.0, static_cast<double>(ring) * side - slack), 0.0);
        if (reach > best.worst().d) break;
      }
    }
    best.write(out, i);
  }
  return out;
}

}  // namespace qtzflow::potentials
