// qtzflow/potentials/tsp_neighbours.hpp — candidate lists for TSP moves: the K nearest cities of
// every city,
//
//   N_K(i) = the K cities j ≠ i smallest in (d(i, j), j)      (ties to the lower index),
//
// sorted by that order.  Moves proposed from these lists (2-opt, Or-opt) join a city to one of
// its near neighbours, where uniform random moves mostly try long, hopeless edges.
//
// Built in O(n K log K) on average for the planar metrics (euclidean, EUC_2D, CEIL_2D, ATT: a
// uniform grid of about two cities per cell, searched ring by ring around each city until no
// unsearched city can enter its list: the metric is a non-decreasing function of the planar
// distance, so a ring whose nearest point is farther than the K-th candidate's distance allows
// stops the search), in O(n² log K) for GEO and explicit matrices.  Memory: n K indices and
// distances, and the grid (n + cells indices) while building.
// Limits: 1 ≤ K ≤ n − 1 (InvalidArgument naming `neighbours` otherwise).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "potentials/tsp.hpp"

namespace qtzflow::potentials {

struct TspNeighbours {
  std::size_t k = 0;
  std::vector<int> city;         ///< row i (K entries): the neighbours of city i, nearest first
  std::vector<double> distance;  ///< d(i, city[i K + r])
  std::span<const int> of(std::size_t i) const { return {city.data() + i * k, k}; }
  std::span<const double> distances_of(std::size_t i) const { return {distance.data() + i * k, k}; }
};

/// The K nearest neighbours of every city of `instance` (see above).
TspNeighbours nearest_neighbours(const TspInstance& instance, std::size_t k);

/// The same by examining every pair: O(n² log K), the reference the grid search is tested against.
TspNeighbours nearest_neighbours_brute_force(const TspInstance& instance, std::size_t k);

}  // namespace qtzflow::potentials
