// potentials/tsp*.hpp: candidate lists (the K nearest neighbours of every city).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "io/tsplib.hpp"
#include "potentials/tsp.hpp"
#include "potentials/tsp_neighbours.hpp"

using namespace qtzflow;

namespace {

/// Exact equality of two candidate lists, with the first difference named.
void check_same_lists(const potentials::TspNeighbours& a, const potentials::TspNeighbours& b) {
  REQUIRE(a.k == b.k);
  REQUIRE(a.city.size() == b.city.size());
  std::size_t differing = 0, first = a.city.size();
  for (std::size_t m = 0; m < a.city.size(); ++m)
    if (a.city[m] != b.city[m] || a.distance[m] != b.distance[m]) {
      ++differing;
      first = std::min(first, m);
    }
  CAPTURE(first / std::max<std::size_t>(a.k, 1));
  CHECK(differing == 0);
}

/// A random planar instance: `kind` 0 uniform reals, 1 integers on a small lattice (many equal
/// distances and repeated cities), 2 clusters, 3 all on one line, 4 all at one point.
potentials::TspInstance random_instance(int kind, std::size_t n, potentials::TspMetric metric, std::uint64_t seed) {
  core::RandomStream rng(seed, static_cast<std::uint64_t>(kind));
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: x[i] = rng.uniform(-500, 1500), y[i] = rng.uniform(0, 300); break;
      case 1: x[i] = static_cast<double>(rng.below(12)), y[i] = static_cast<double>(rng.below(9)); break;
      case 2: {
        const double cx = 1000.0 * static_cast<double>(rng.below(4)), cy = 700.0 * static_cast<double>(rng.below(3));
        x[i] = cx + rng.uniform(0, 20), y[i] = cy + rng.uniform(0, 20);
        break;
      }
      case 3: x[i] = rng.uniform(0, 1000), y[i] = 42; break;
      default: x[i] = 3, y[i] = 4;
    }
  }
  return potentials::TspInstance::from_coordinates("random", std::move(x), std::move(y), metric);
}

}  // namespace

TEST_CASE("TSP neighbour lists: the grid search finds exactly the brute-force K nearest, ties to the lower index") {
  using potentials::TspMetric;
  int cases = 0;
  for (TspMetric metric : {TspMetric::euclidean, TspMetric::euc_2d, TspMetric::ceil_2d, TspMetric::att})
    for (int kind = 0; kind < 5; ++kind)
      for (std::size_t n : {5, 60, 400}) {
        const auto t = random_instance(kind, n, metric, 11 + n);
        for (std::size_t k : {std::size_t(1), std::size_t(4), std::size_t(10), n - 1}) {
          if (k >= n) continue;
          CAPTURE(potentials::to_string(metric));
          CAPTURE(kind);
          CAPTURE(n);
          CAPTURE(k);
          check_same_lists(potentials::nearest_neighbours(t, k), potentials::nearest_neighbours_brute_force(t, k));
          ++cases;
        }
      }
  CHECK(cases == 4 * 5 * 11);
}

TEST_CASE("TSP neighbour lists: each row is sorted, holds K distinct other cities and their distances") {
  const auto t = random_instance(1, 300, potentials::TspMetric::euc_2d, 5);
  const auto nb = potentials::nearest_neighbours(t, 10);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto row = nb.of(i);
    const auto d = nb.distances_of(i);
    for (std::size_t r = 0; r < row.size(); ++r) {
      CHECK(row[r] != static_cast<int>(i));
      CHECK(d[r] == t.distance(i, static_cast<std::size_t>(row[r])));
      if (r > 0) CHECK((d[r - 1] < d[r] || (d[r - 1] == d[r] && row[r - 1] < row[r])));
    }
  }
}

TEST_CASE("TSP neighbour lists: K outside 1 to n - 1 is refused naming neighbours") {
  const auto t = random_instance(0, 20, potentials::TspMetric::euc_2d, 1);
  for (std::size_t k : {std::size_t(0), std::size_t(20), std::size_t(100)}) {
    CAPTURE(k);
    try {
      (void)potentials::nearest_neighbours(t, k);
      FAIL("accepted");
    } catch (const core::InvalidArgument& e) {
      CHECK(e.key() == "neighbours");
      CHECK(std::string(e.what()).find("1 to 19") != std::string::npos);
    }
  }
}

TEST_CASE("TSP neighbour lists: the shipped TSPLIB instances (51 to 2392 cities), grid against brute force") {
  const std::string dir = QTZFLOW_DATA_DIR "/tsplib/";
  int read = 0;
  for (const char* name : {"eil51", "berlin52", "st70", "eil76", "pr76", "kroA100", "ch130", "ch150", "kroA200", "a280", "lin318", "pcb442",
                           "rat783", "pr1002", "pr2392"}) {
    CAPTURE(name);
    const auto t = io::read_tsplib(dir + name + ".tsp");
    CHECK(t.metric() == potentials::TspMetric::euc_2d);
    CHECK(t.name() == name);
    check_same_lists(potentials::nearest_neighbours(t, 10), potentials::nearest_neighbours_brute_force(t, 10));
    ++read;
  }
  CHECK(read == 15);
}

TEST_CASE("TSP instances: beyond kMatrixCities distances are computed from the coordinates, the same values as the matrix's") {
  const auto with = io::read_tsplib(QTZFLOW_DATA_DIR "/tsplib/rat783.tsp");
  REQUIRE(with.has_matrix());
  const auto without = potentials::TspInstance::from_coordinates(
      "rat783", std::vector<double>(with.x().begin(), with.x().end()), std::vector<double>(with.y().begin(), with.y().end()), with.metric(), 0);
  CHECK_FALSE(without.has_matrix());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < with.size(); ++i)
    for (std::size_t j = 0; j < with.size(); ++j) differing += with.distance(i, j) != without.distance(i, j);
  CHECK(differing == 0);  // exact: one function computes both
  const auto tour = with.nearest_neighbour_tour(0);
  CHECK(with.tour_length(tour) == without.tour_length(tour));
  for (std::size_t i = 0; i + 50 <= with.size(); i += 97) CHECK(with.reversal_delta(tour, i, 50) == without.reversal_delta(tour, i, 50));
  // the largest shipped instance keeps no matrix: its memory is linear in n
  CHECK_FALSE(io::read_tsplib(QTZFLOW_DATA_DIR "/tsplib/pr2392.tsp").has_matrix());
}

TEST_CASE("TSP optima table: the shipped one reads, and a malformed line is refused naming FILE:LINE") {
  const auto table = io::read_tsp_optima(QTZFLOW_DATA_DIR "/tsplib/optima.txt");
  CHECK(table.size() == 15);
  CHECK(table.at("eil51") == 426);
  CHECK(table.at("pr2392") == 378032);
  const auto dir = std::filesystem::temp_directory_path() / "qtzflow_test_optima";
  std::filesystem::create_directories(dir);
  for (const auto& [text, line] : std::vector<std::pair<std::string, int>>{{"# c\na : 5\nb 7\n", 3},
                                                                          {"a : 5\nb : -1\n", 2},
                                                                          {"a : 5\nb : nan\n", 2},
                                                                          {"a : 5\na : 6\n", 2},
                                                                          {"a : 5x\n", 1}}) {
    const auto file = dir / "optima.txt";
    {
      std::ofstream(file) << text;
    }
    CAPTURE(text);
    try {
      (void)io::read_tsp_optima(file.string());
      FAIL("accepted");
    } catch (const core::InvalidArgument& e) {
      CHECK(e.key() == file.string() + ":" + std::to_string(line));
    }
  }
  std::filesystem::remove_all(dir);
}
