#include "potentials/tsp.hpp"

#include <cmath>

#include "core/error.hpp"

namespace qtzflow::potentials {

std::string_view to_string(TspMetric m) {
  switch (m) {
    case TspMetric::euclidean:
      return "euclidean";
    case TspMetric::euc_2d:
      return "EUC_2D";
    case TspMetric::ceil_2d:
      return "CEIL_2D";
    case TspMetric::att:
      return "ATT";
    case TspMetric::geo:
      return "GEO";
    case TspMetric::explicit_matrix:
      return "EXPLICIT";
  }
  return "?";
}

namespace {
/// TSPLIB's GEO: DDD.MM → radians (TSPLIB 95 report, §2.4, with its PI = 3.141592).
double geo_radians(double v) {
  constexpr double pi = 3.141592;
  const double deg = std::trunc(v);
  return pi * (deg + 5.0 * (v - deg) / 3.0) / 180.0;
}
}  // namespace

double coordinate_distance(TspMetric metric, double xi, double yi, double xj, double yj) {
  const double dx = xi - xj, dy = yi - yj;
  switch (metric) {
    case TspMetric::euclidean:
      return std::sqrt(dx * dx + dy * dy);
    case TspMetric::euc_2d:
      return std::floor(std::sqrt(dx * dx + dy * dy) + 0.5);
    case TspMetric::ceil_2d:
      return std::ceil(std::sqrt(dx * dx + dy * dy));
    case TspMetric::att: {
      const double r = std::sqrt((dx * dx + dy * dy) / 10.0), t = std::floor(r + 0.5);
      return t < r ? t + 1 : t;
    }
    case TspMetric::geo: {
      const double lat_i = geo_radians(xi), lon_i = geo_radians(yi), lat_j = geo_radians(xj), lon_j = geo_radians(yj);
      const double q1 = std::cos(lon_i - lon_j), q2 = std::cos(lat_i - lat_j), q3 = std::cos(lat_i + lat_j);
      return std::trunc(6378.388 * std::acos(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)) + 1.0);
    }
    case TspMetric::explicit_matrix:
      break;
  }
  return 0;
}

TspInstance TspInstance::from_coordinates(std::string name, std::vector<double> x, std::vector<double> y, TspMetric metric,
                                          std::size_t matrix_cities) {
  const std::size_t n = x.size();
  if (y.size() != n) core::throw_invalid("tsp coordinates", std::to_string(y.size()) + " y values", std::to_string(n) + " (one per city)");
  core::require_at_least("tsp DIMENSION", static_cast<long long>(n), 3);
  if (metric == TspMetric::explicit_matrix) core::throw_invalid("tsp metric", "EXPLICIT", "a coordinate metric");
  std::vector<double> d;
  if (n <= matrix_cities) {
    d.assign(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j) d[i * n + j] = coordinate_distance(metric, x[i], y[i], x[j], y[j]);
  }
  TspInstance t(std::move(name), n, std::move(d), metric);
  t.x_ = std::move(x);
  t.y_ = std::move(y);
  return t;
}

TspInstance TspInstance::from_matrix(std::string name, std::size_t n, std::vector<double> distances) {
  core::require_at_least("tsp DIMENSION", static_cast<long long>(n), 3);
  if (distances.size() != n * n)
    core::throw_invalid("tsp EDGE_WEIGHT_SECTION", std::to_string(distances.size()) + " entries", std::to_string(n * n) + " (n x n)");
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const double v = distances[i * n + j];
      if (!std::isfinite(v) || v < 0)
        core::throw_invalid("tsp EDGE_WEIGHT_SECTION", core::format_value(v) + " at (" + std::to_string(i + 1) + ", " + std::to_string(j + 1) + ")",
                            "finite and >= 0");
      if (v != distances[j * n + i])
        core::throw_invalid(
            "tsp EDGE_WEIGHT_SECTION",
            "d(" + std::to_string(i + 1) + ", " + std::to_string(j + 1) + ") != d(" + std::to_string(j + 1) + ", " + std::to_string(i + 1) + ")",
            "a symmetric matrix (TYPE: TSP)");
    }
  for (std::size_t i = 0; i < n; ++i) distances[i * n + i] = 0;
  return TspInstance(std::move(name), n, std::move(distances), TspMetric::explicit_matrix);
}

double TspInstance::tour_length(std::span<const int> tour) const {
  if (tour.size() != n_) core::throw_invalid("tour", std::to_string(tour.size()) + " cities", std::to_string(n_));
  std::vector<char> seen(n_, 0);
  for (int c : tour) {
    if (c < 0 || static_cast<std::size_t>(c) >= n_ || seen[static_cast<std::size_t>(c)])
      core::throw_invalid("tour", "city " + std::to_string(c), "a permutation of 0.." + std::to_string(n_ - 1));
    seen[static_cast<std::size_t>(c)] = 1;
  }
  double s = 0;
  for (std::size_t k = 0; k < n_; ++k) s += distance(static_cast<std::size_t>(tour[k]), static_cast<std::size_t>(tour[(k + 1) % n_]));
  return s;
}

std::vector<int> TspInstance::nearest_neighbour_tour(std::size_t start) const {
  core::require_in_range("start city", static_cast<double>(start), 0, static_cast<double>(n_ - 1));
  std::vector<int> tour{static_cast<int>(start)};
  std::vector<char> used(n_, 0);
  used[start] = 1;
  std::size_t cur = start;
  for (std::size_t k = 1; k < n_; ++k) {
    std::size_t best = n_;
    for (std::size_t j = 0; j < n_; ++j)
      if (!used[j] && (best == n_ || distance(cur, j) < distance(cur, best))) best = j;
    used[best] = 1;
    tour.push_back(static_cast<int>(best));
    cur = best;
  }
  return tour;
}

}  // namespace qtzflow::potentials
