// qtzflow/particles/tsp_tour.hpp — a TSP tour as an array with each city's position, and the
// moves that neighbour lists propose on it:
//
//   2-opt(a, b):  remove the edges (a, a⁺) and (b, b⁺), add (a, b) and (a⁺, b⁺)
//                 Δ = d(a, b) + d(a⁺, b⁺) − d(a, a⁺) − d(b, b⁺)
//   double bridge(p, B, C): the segments B (from position p + 1) and C (after B) of lengths
//                 1 … (n − 2)/2 swap places: A B C D → A C B D, which no 2-opt or Or-opt undoes in
//                 one move; the perturbation of iterated local search (a "local" double bridge:
//                 short segments keep its cost O(|B| + |C|))
//   Or-opt(s, L, c, reversed): move the segment S = s … e of L ∈ {1, 2, 3} consecutive cities
//                 (e the L-th from s) between c and c⁺ (both outside S), as c s … e c⁺ or, reversed,
//                 c e … s c⁺;  with p = s⁻, q = e⁺:
//                 Δ = d(p, q) + d(c, s|e) + d(e|s, c⁺) − d(p, s) − d(e, q) − d(c, c⁺)
//
// x⁺ and x⁻ are the next and previous city in the array's order (cyclic).  A tour is a cycle:
// which way the array runs is not part of it, so a 2-opt reverses the shorter of the two paths it
// may reverse (a⁺ … b or b⁺ … a: at most n/2 cities move) and an Or-opt shifts the shorter of
// the two stretches between the segment and its new place; either way the cost is O(min(k,
// n − k)), not O(n), and the orientation of the array may flip.  Deltas take O(1) distances.
// Limits: n ≥ 5 for Or-opt (a segment of 3 and two more cities); the caller proposes valid
// moves (the predicates below say which are).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "core/random.hpp"
#include "potentials/tsp.hpp"

namespace qtzflow::particles {

class ArrayTour {
 public:
  /// From a permutation of 0 … n − 1 (checked: InvalidArgument naming `tour`).
  explicit ArrayTour(std::vector<int> cities);

  std::size_t size() const { return city_.size(); }
  std::span<const int> cities() const { return city_; }
  std::size_t position(int c) const { return pos_[static_cast<std::size_t>(c)]; }
  int next(int c) const { return city_[wrap(position(c) + 1)]; }
  int prev(int c) const { return city_[wrap(position(c) + size() - 1)]; }
  /// The city `steps` places after s.
  int ahead(int s, std::size_t steps) const { return city_[wrap(position(s) + steps)]; }

  /// Whether 2-opt(a, b) changes the tour (a ≠ b and the two edges share no city).
  bool two_opt_valid(int a, int b) const { return a != b && next(a) != b && next(b) != a; }
  double two_opt_delta(const potentials::TspInstance& t, int a, int b) const;
  void apply_two_opt(int a, int b);

  /// Whether Or-opt(s, L, c) is a move: c and c⁺ outside the segment, and c not s⁻ (the segment
  /// would stay where it is).
  bool or_opt_valid(int s, std::size_t length, int c) const;
  double or_opt_delta(const potentials::TspInstance& t, int s, std::size_t length, int c, bool reversed) const;
  void apply_or_opt(int s, std::size_t length, int c, bool reversed);

  /// Whether the double bridge fits: p a position, |B|, |C| ≥ 1 and at least one city in A D besides.
  bool double_bridge_valid(std::size_t p, std::size_t b, std::size_t c) const { return p < size() && b >= 1 && c >= 1 && b + c + 2 <= size(); }
  double double_bridge_delta(const potentials::TspInstance& t, std::size_t p, std::size_t b, std::size_t c) const;
  void apply_double_bridge(std::size_t p, std::size_t b, std::size_t c);
  /// The cities of the edges a double bridge changes: A's last, B's first and last, C's first
  /// and last, D's first.
  std::array<int, 6> double_bridge_ends(std::size_t p, std::size_t b, std::size_t c) const;

  /// Replaces the tour by `cities` (a permutation of the same n cities, not checked again).
  void assign(std::span<const int> cities);

 private:
  std::size_t wrap(std::size_t p) const { return p >= size() ? p - size() : p; }
  /// Reverses the cyclic range of `count` positions from `first`.
  void reverse_range(std::size_t first, std::size_t count);
  void put(std::size_t p, int c) {
    city_[p] = c;
    pos_[static_cast<std::size_t>(c)] = p;
  }
  std::vector<int> city_;
  std::vector<std::size_t> pos_;
  std::vector<int> scratch_;  ///< the double bridge's segments
};

// The deltas and the Or-opt predicate are the proposal loops' hot path: inline.

inline double ArrayTour::two_opt_delta(const potentials::TspInstance& t, int a, int b) const {
  const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
  const auto na = static_cast<std::size_t>(next(a)), nb = static_cast<std::size_t>(next(b));
  return t.distance(ua, ub) + t.distance(na, nb) - t.distance(ua, na) - t.distance(ub, nb);
}

inline bool ArrayTour::or_opt_valid(int s, std::size_t length, int c) const {
  if (length < 1 || length > 3 || size() < length + 2) return false;
  // c must lie outside the segment and not be s⁻ (no move); c⁺ then lies outside too unless c = e
  const std::size_t pc = position(c), ps = position(s);
  const std::size_t offset = pc >= ps ? pc - ps : pc + size() - ps;  // c's place counted from s (no division: a hot path)
  return offset >= length && c != prev(s);
}

inline double ArrayTour::or_opt_delta(const potentials::TspInstance& t, int s, std::size_t length, int c, bool reversed) const {
  const int e = ahead(s, length - 1), p = prev(s), q = next(e), d = next(c);
  auto dist = [&](int x, int y) { return t.distance(static_cast<std::size_t>(x), static_cast<std::size_t>(y)); };
  const double joined = reversed ? dist(c, e) + dist(s, d) : dist(c, s) + dist(e, d);
  return dist(p, q) + joined - dist(p, s) - dist(e, q) - dist(c, d);
}

/// A uniformly random permutation of 0 … n − 1 (Fisher–Yates, n − 1 draws from rng).
std::vector<int> random_tour(std::size_t n, core::RandomStream& rng);

}  // namespace qtzflow::particles
