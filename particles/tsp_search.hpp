// qtzflow/particles/tsp_search.hpp — local search on TSP tours from neighbour lists, and iterated
// local search (the Johnson–McGeoch baseline, "The traveling salesman problem: a case study in
// local optimization", 1997):
//
//   local search: 2-opt and Or-opt (segments of 1–3 cities, both orientations) moves that join a
//     city a to one of its K nearest neighbours b (potentials/tsp_neighbours.hpp), first
//     improvement, with don't-look bits: a city is examined only while one of its tour edges has
//     changed since it last yielded nothing.  A move is tried only if the new edge (a, b) is
//     shorter than the edge at a it replaces (the neighbour-list gain criterion: an improving move
//     has such a city), and each one tried costs one delta (the budget unit).
//   iterated local search: from a local optimum, a random local double bridge (segments of 1–50
//     cities at a random place; one delta), local search from its 6 ends, and the result kept if
//     it is not longer, else the previous tour restored.
//
//   neighbour-list proposals (NeighbourMoveSpace): for a Monte Carlo acceptance rule (QTZ's
//     quantized one, SA's Metropolis one), a random city a, a random one b of its K nearest, and a
//     random move that gives a the edge (a, b): a 2-opt either way or an Or-opt of the 1–3 cities
//     starting or ending at a beside b (both orientations) — the local search's moves, drawn at
//     random instead of searched.
//
// "Improving" means shorter by more than 1e-12 of the tour's length, so that rounding in an
// unrounded metric cannot make the search cycle.  The lengths reported are recomputed from the
// tour (an exact sum for the integer TSPLIB metrics).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/random.hpp"
#include "particles/tsp_tour.hpp"
#include "potentials/tsp.hpp"
#include "potentials/tsp_neighbours.hpp"

namespace qtzflow::particles {

class TspLocalSearch {
 public:
  TspLocalSearch(const potentials::TspInstance& instance, const potentials::TspNeighbours& lists);

  /// Marks city c for examination.
  void wake(int c);
  void wake_all();
  /// Improves `tour`, whose length is `length`, until no listed move improves it (every city's
  /// bit set) or `deltas_left` reaches 0 (each tried move costs 1); returns the new length.
  double run(ArrayTour& tour, double length, long& deltas_left);

 private:
  /// Tries the moves at city a; applies the first improving one (and wakes its ends).
  bool improve_at(ArrayTour& tour, int a, double& length, long& deltas_left);

  const potentials::TspInstance& t_;
  const potentials::TspNeighbours& lists_;
  std::vector<int> queue_;     ///< cities to examine (a ring buffer of n)
  std::vector<char> queued_;   ///< whether a city is in the queue (its don't-look bit off)
  std::size_t head_ = 0, count_ = 0;
};

/// A TSP search space for the acceptance loops of particles/optimizers.cpp (the interface of
/// their TourSpace): the current tour, a pending neighbour-list move and its length change.
class NeighbourMoveSpace {
 public:
  NeighbourMoveSpace(const potentials::TspInstance& instance, const potentials::TspNeighbours& lists, const std::vector<int>& start);
  double start(core::RandomStream&) { return length_ = t_.tour_length(tour_.cities()); }
  /// Draws a valid move (redrawing the rare invalid ones, which cost nothing) and returns the
  /// length the tour would have after it.
  double propose(core::RandomStream& rng);
  void accept();
  double driver_current() const { return 0; }
  double driver_candidate() const { return 0; }
  static constexpr bool has_driver = false;
  void best_state(std::vector<double>& out) const { out.assign(tour_.cities().begin(), tour_.cities().end()); }
  /// The tour the pending move would make (O(n): called on improvements of the best only).
  void best_candidate(std::vector<double>& out);

 private:
  enum class Kind { two_opt, or_opt };
  void apply(ArrayTour& tour) const;
  const potentials::TspInstance& t_;
  const potentials::TspNeighbours& lists_;
  ArrayTour tour_, shadow_;
  double length_ = 0, delta_ = 0;
  Kind kind_ = Kind::two_opt;
  int first_ = 0, second_ = 0;  ///< 2-opt(first, second), or Or-opt(s = first, c = second)
  std::size_t length_of_segment_ = 1;
  bool reversed_ = false;
};

struct TspSearchResult {
  double best = 0;             ///< the best tour's length, recomputed from it
  std::vector<int> best_tour;  ///< a permutation of 0 … n − 1
  long deltas = 0;             ///< moves evaluated (local search moves and kicks)
  long last_improvement = 0;   ///< deltas spent when `best` was last lowered
  long hit = -1;               ///< deltas spent when best first reached `target` (−1: never)
  long kicks = 0;              ///< double bridges made
};

/// Iterated local search from `start` with at most `budget` deltas (≥ 1); `target` is the length
/// whose first reach is recorded; `on_improvement(deltas, length)` is called at each new best.
/// Needs n ≥ 8.
TspSearchResult iterated_local_search(const potentials::TspInstance& instance, const potentials::TspNeighbours& lists, std::vector<int> start,
                                      long budget, core::RandomStream& rng, double target,
                                      const std::function<void(long, double)>& on_improvement = {});

}  // namespace qtzflow::particles
