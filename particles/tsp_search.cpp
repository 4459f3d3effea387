#include "particles/tsp_search.hpp"

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace qtzflow::particles {

TspLocalSearch::TspLocalSearch(const potentials::TspInstance& instance, const potentials::TspNeighbours& lists)
    : t_(instance), lists_(lists), queue_(instance.size()), queued_(instance.size(), 0) {}

void TspLocalSearch::wake(int c) {
  const auto uc = static_cast<std::size_t>(c);
  if (queued_[uc]) return;
  queued_[uc] = 1;
  queue_[(head_ + count_) % queue_.size()] = c;
  ++count_;
}

void TspLocalSearch::wake_all() {
  for (std::size_t c = 0; c < queue_.size(); ++c) wake(static_cast<int>(c));
}

double TspLocalSearch::run(ArrayTour& tour, double length, long& deltas_left) {
  while (count_ > 0 && deltas_left > 0) {
    const int a = queue_[head_];
    head_ = (head_ + 1) % queue_.size();
    --count_;
    queued_[static_cast<std::size_t>(a)] = 0;
    if (improve_at(tour, a, length, deltas_left)) wake(a);  // a may have more to give
  }
  return length;
}

bool TspLocalSearch::improve_at(ArrayTour& tour, int a, double& length, long& deltas_left) {
  auto dist = [&](int x, int y) { return t_.distance(static_cast<std::size_t>(x), static_cast<std::size_t>(y)); };
  const double eps = 1e-12 * length;
  const std::size_t n = tour.size();
  const auto row = lists_.of(static_cast<std::size_t>(a));
  const auto row_d = lists_.distances_of(static_cast<std::size_t>(a));
  // tries one move: pays for its delta, applies it if it improves (waking `ends`, read before)
  auto attempt = [&](double delta, auto&& apply, std::initializer_list<int> ends) {
    --deltas_left;
    if (!(delta < -eps)) return false;
    for (int c : ends) wake(c);
    apply();
    length += delta;
    return true;
  };
  for (std::size_t r = 0; r < row.size(); ++r) {
    const int b = row[r];
    const double dab = row_d[r];
    const int an = tour.next(a), ap = tour.prev(a);
    const double d_next = dist(a, an), d_prev = dist(a, ap);
    if (dab >= d_next && dab >= d_prev) break;  // sorted lists: no later b shortens an edge at a
    const int bn = tour.next(b), bp = tour.prev(b);
    if (dab < d_next && tour.two_opt_valid(a, b)) {  // (a, a⁺), (b, b⁺) → (a, b), (a⁺, b⁺)
      if (deltas_left <= 0) return false;
      if (attempt(tour.two_opt_delta(t_, a, b), [&] { tour.apply_two_opt(a, b); }, {a, an, b, bn})) return true;
    }
    if (dab < d_prev && tour.two_opt_valid(ap, bp)) {  // (a⁻, a), (b⁻, b) → (a⁻, b⁻), (a, b)
      if (deltas_left <= 0) return false;
      if (attempt(tour.two_opt_delta(t_, ap, bp), [&] { tour.apply_two_opt(ap, bp); }, {ap, a, bp, b})) return true;
    }
    // Or-opt: the segment s … e of `len` cities placed between c and c⁺, for each (c, reversed)
    // of `places`; 1 improved, 0 not, −1 out of budget
    auto try_segment = [&](int s, std::size_t len, std::initializer_list<std::pair<int, bool>> places) {
      const int e = tour.ahead(s, len - 1), p = tour.prev(s), q = tour.next(e);
      for (const auto& [c, reversed] : places) {
        if (!tour.or_opt_valid(s, len, c)) continue;
        if (deltas_left <= 0) return -1;
        const int d = tour.next(c);
        if (attempt(tour.or_opt_delta(t_, s, len, c, reversed), [&] { tour.apply_or_opt(s, len, c, reversed); }, {p, s, e, q, c, d})) return 1;
      }
      return 0;
    };
    for (std::size_t len = 1; len <= 3 && len + 2 <= n; ++len) {
      // the segment starting at a, placed so that a meets b: b a … e b⁺ or b⁻ e … a b
      if (dab < d_prev)
        if (const int r1 = try_segment(a, len, {{b, false}, {bp, true}}); r1 != 0) return r1 > 0;
      // the segment ending at a: b⁻ s … a b or b a … s b⁺ (for one city, the same as above)
      if (len > 1 && dab < d_next)
        if (const int r2 = try_segment(tour.ahead(a, n - (len - 1)), len, {{bp, false}, {b, true}}); r2 != 0) return r2 > 0;
    }
  }
  return false;
}

TspSearchResult iterated_local_search(const potentials::TspInstance& t, const potentials::TspNeighbours& lists, std::vector<int> start,
                                      long budget, core::RandomStream& rng, double target, const std::function<void(long, double)>& on_improvement) {
  const std::size_t n = t.size();
  core::require_at_least("tsp DIMENSION", static_cast<long long>(n), 8);  // a double bridge needs 8 cities
  core::require_at_least("budget", budget, 1);
  TspSearchResult res;
  ArrayTour tour(std::move(start));
  double length = t.tour_length(tour.cities());
  res.best = length;
  res.best_tour.assign(tour.cities().begin(), tour.cities().end());
  if (length <= target) res.hit = 0;
  long left = budget;
  auto record = [&] {
    if (!(length < res.best - 1e-12 * res.best)) return;
    res.best = length;
    res.best_tour.assign(tour.cities().begin(), tour.cities().end());
    res.last_improvement = budget - left;
    if (res.hit < 0 && length <= target) res.hit = budget - left;
    if (on_improvement) on_improvement(budget - left, length);
  };
  TspLocalSearch search(t, lists);
  search.wake_all();
  length = search.run(tour, length, left);
  record();
  std::vector<int> saved(n);
  const std::size_t longest = std::min<std::size_t>(50, (n - 2) / 2);
  while (left > 0) {
    saved.assign(tour.cities().begin(), tour.cities().end());
    const double saved_length = length;
    const std::size_t p = rng.below(n), b = 1 + rng.below(longest), c = 1 + rng.below(longest);
    const auto ends = tour.double_bridge_ends(p, b, c);
    length += tour.double_bridge_delta(t, p, b, c);
    --left;
    ++res.kicks;
    tour.apply_double_bridge(p, b, c);
    for (int e : ends) search.wake(e);
    length = search.run(tour, length, left);
    if (length <= saved_length + 1e-12 * saved_length) {
      record();
    } else {
      tour.assign(saved);
      length = saved_length;
    }
  }
  res.deltas = budget - left;
  res.best = t.tour_length(res.best_tour);  // recomputed, and the permutation checked
  return res;
}

NeighbourMoveSpace::NeighbourMoveSpace(const potentials::TspInstance& instance, const potentials::TspNeighbours& lists,
                                       const std::vector<int>& start)
    : t_(instance), lists_(lists), tour_(start), shadow_(start) {
  core::require_at_least("tsp DIMENSION", static_cast<long long>(instance.size()), 5);  // an Or-opt of 3 needs 2 more cities
}

double NeighbourMoveSpace::propose(core::RandomStream& rng) {
  const std::size_t n = tour_.size(), k = lists_.k;
  for (;;) {
    // one 64-bit draw per proposal (the generator is the loop's largest cost): the city a from
    // the high 32 bits, its neighbour's rank from 24 more (multiply-high maps: biases at most
    // n/2³² and K/2²⁴), the way from 3 bits and the coin from 1
    const std::uint64_t u = rng.bits();
    const int a = static_cast<int>(((u >> 32) * n) >> 32);
    const int b = lists_.of(static_cast<std::size_t>(a))[((u & 0xFFFFFFu) * k) >> 24];
    // eight ways to give a the edge (a, b): two 2-opts, and the segments of 1–3 cities starting
    // or ending at a placed beside b (each in the orientation that makes the edge)
    const std::size_t way = (u >> 24) & 7u;
    if (way < 2) {
      kind_ = Kind::two_opt;
      first_ = way == 0 ? a : tour_.prev(a);
      second_ = way == 0 ? b : tour_.prev(b);
      if (!tour_.two_opt_valid(first_, second_)) continue;
      delta_ = tour_.two_opt_delta(t_, first_, second_);
    } else {
      kind_ = Kind::or_opt;
      length_of_segment_ = 1 + (way - 2) / 2;  // 1, 1, 2, 2, 3, 3
      const bool starts_at_a = (way % 2) == 0;
      // starting at a: b a … e b⁺ (c = b) or b⁻ e … a b (c = b⁻, reversed), by a coin
      // ending at a:   b⁻ s … a b (c = b⁻) or b a … s b⁺ (c = b, reversed)
      const bool coin = ((u >> 27) & 1u) != 0;
      first_ = starts_at_a ? a : tour_.ahead(a, n - (length_of_segment_ - 1));
      reversed_ = coin;
      second_ = (starts_at_a != coin) ? b : tour_.prev(b);
      if (!tour_.or_opt_valid(first_, length_of_segment_, second_)) continue;
      delta_ = tour_.or_opt_delta(t_, first_, length_of_segment_, second_, reversed_);
    }
    return length_ + delta_;
  }
}

void NeighbourMoveSpace::apply(ArrayTour& tour) const {
  if (kind_ == Kind::two_opt)
    tour.apply_two_opt(first_, second_);
  else
    tour.apply_or_opt(first_, length_of_segment_, second_, reversed_);
}

void NeighbourMoveSpace::accept() {
  apply(tour_);
  length_ += delta_;
}

void NeighbourMoveSpace::best_candidate(std::vector<double>& out) {
  shadow_.assign(tour_.cities());
  apply(shadow_);
  out.assign(shadow_.cities().begin(), shadow_.cities().end());
}

}  // namespace qtzflow::particles
