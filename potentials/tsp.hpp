// qtzflow/potentials/tsp.hpp — the travelling-salesman objective: f(tour) = closed tour length.
//
// A TspInstance of up to kMatrixCities cities holds the full n×n distance matrix (row-major,
// symmetric), computed once from coordinates with the metric the instance names or given
// explicitly, so that the length change of a move costs four look-ups; a larger instance with
// coordinates computes each distance when asked (the same function, so the same values), and its
// memory grows linearly with n (pr2392's matrix alone would be 46 MB).  Tours are permutations of 0..n−1, closed (the edge from the
// last city back to the first counts).  Cities are numbered from 0 here, from 1 in TSPLIB files.
// The move of the quantized optimizer and of the authors' SA (docs/theory.md, "The quantized optimizer") is the segment
// reversal: reverse tour[i, i+l) with 2 ≤ l ≤ n−1, 0 ≤ i ≤ n−l.
// Metrics (TSPLIB 95 definitions): euclidean (unrounded, as the QTZ authors use), euc_2d
// (rounded to the nearest integer), ceil_2d, att (pseudo-Euclidean), geo (great circle on a
// sphere of radius 6378.388 km, coordinates as DDD.MM), explicit (a given matrix).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qtzflow::potentials {

enum class TspMetric { euclidean, euc_2d, ceil_2d, att, geo, explicit_matrix };
std::string_view to_string(TspMetric m);

/// The distance of two cities under a coordinate metric (TSPLIB 95 definitions; GEO coordinates
/// as DDD.MM latitude, longitude).  0 for explicit_matrix, which has no coordinates.
double coordinate_distance(TspMetric metric, double xi, double yi, double xj, double yj);
/// Whether the metric is a non-decreasing function of the planar Euclidean distance (euclidean,
/// EUC_2D, CEIL_2D, ATT): what lets a spatial grid find nearest neighbours.
inline bool is_planar(TspMetric m) { return m != TspMetric::geo && m != TspMetric::explicit_matrix; }

class TspInstance {
 public:
  /// The largest instance from coordinates that keeps a distance matrix (8 MB).
  static constexpr std::size_t kMatrixCities = 1000;
  /// From city coordinates (x[i], y[i]) and a coordinate metric; the matrix is made for up to
  /// `matrix_cities` cities.
  static TspInstance from_coordinates(std::string name, std::vector<double> x, std::vector<double> y, TspMetric metric,
                                      std::size_t matrix_cities = kMatrixCities);
  /// From a full symmetric distance matrix (row-major n×n, zero diagonal).
  static TspInstance from_matrix(std::string name, std::size_t n, std::vector<double> distances);

  const std::string& name() const { return name_; }
  std::size_t size() const { return n_; }
  TspMetric metric() const { return metric_; }
  double distance(std::size_t i, std::size_t j) const {
    return d_.empty() ? coordinate_distance(metric_, x_[i], y_[i], x_[j], y_[j]) : d_[i * n_ + j];
  }
  /// Whether distances are looked up in a matrix (else computed from the coordinates).
  bool has_matrix() const { return !d_.empty(); }
  /// The cities' coordinates (empty for an explicit matrix).
  std::span<const double> x() const { return x_; }
  std::span<const double> y() const { return y_; }
  /// A known optimal length, when the instance comes with one (set by the caller).
  std::optional<double> optimum;
  std::string comment;

  /// Closed length of `tour`; throws InvalidArgument if it is not a permutation of 0..n−1.
  double tour_length(std::span<const int> tour) const;
  /// Length change of reversing tour[i, i+l) (indices as in the move above), in O(1).
  double reversal_delta(std::span<const int> tour, std::size_t i, std::size_t l) const {
    const std::size_t n = n_, before = (i + n - 1) % n, after = (i + l) % n;
    const int a = tour[before], b = tour[i], c = tour[i + l - 1], e = tour[after];
    return distance(a, c) + distance(b, e) - distance(a, b) - distance(c, e);
  }
  /// Greedy nearest-neighbour tour from `start` (ties to the lower index).
  std::vector<int> nearest_neighbour_tour(std::size_t start = 0) const;

 private:
  TspInstance(std::string name, std::size_t n, std::vector<double> d, TspMetric m) : name_(std::move(name)), n_(n), metric_(m), d_(std::move(d)) {}
  std::string name_;
  std::size_t n_;
  TspMetric metric_;
  std::vector<double> d_;
  std::vector<double> x_, y_;
};

}  // namespace qtzflow::potentials
