#include <doctest/doctest.h>

#include <omp.h>
#include <cmath>
#include <limits>

#include "../check.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/parallel.hpp"

using namespace qtzflow;

TEST_CASE("argument checks name the key, the value and the accepted range") {
  try {
    core::require_positive("schedule.T", -1.0);
    FAIL("no exception");
  } catch (const core::InvalidArgument& e) {
    CHECK(e.key() == "schedule.T");
    CHECK(std::string(e.what()).find("-1") != std::string::npos);
    CHECK(std::string(e.what()).find("> 0") != std::string::npos);
  }
  CHECK_THROWS_AS(core::require_positive("dt", std::numeric_limits<double>::quiet_NaN()), core::InvalidArgument);
  CHECK_THROWS_AS(core::require_in_range("x", 2.0, 0.0, 1.0), core::InvalidArgument);
  CHECK_THROWS_AS(core::require_at_least("grid.n[0]", 1, 2), core::InvalidArgument);
  CHECK_NOTHROW(core::require_non_negative("w", 0.0));
}

TEST_CASE("json_escape leaves a valid JSON string literal") {
  CHECK(core::json_escape("plain") == "plain");
  CHECK(core::json_escape("a \"b\" c\\d") == "a \\\"b\\\" c\\\\d");
  CHECK(core::json_escape("x\ny\t") == "x\\u000ay\\u0009");
}

TEST_CASE("parallel_sum is bit-identical for 1 and 2 threads") {
  const std::ptrdiff_t n = 1 << 18;
  auto f = [](std::ptrdiff_t i) { return std::sin(0.001 * static_cast<double>(i)) / (1.0 + static_cast<double>(i)); };
  const int saved = core::thread_count();
  core::set_thread_count(1);
  const double s1 = core::parallel_sum(n, f);
  core::set_thread_count(2);
  const double s2 = core::parallel_sum(n, f);
  core::set_thread_count(saved);
  CHECK(s1 == s2);
  double serial = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i) serial += f(i);
  CHECK_ABS(s1, serial, 1e-13 * (1 + std::abs(serial)));  // absolute 1e-13·(1 + |sum|): chunked vs serial summation order
}

TEST_CASE("memory guard: needs beyond the limit are refused with the key, sizes that fit pass") {
  const double limit = core::memory_limit_bytes();
  MESSAGE("memory limit " << core::format_bytes(limit));
  REQUIRE(limit > 0);  // cgroup limit or MemTotal: readable on Linux
  CHECK_NOTHROW(core::require_memory("grid.n", 1e6, "a small grid"));
  CHECK_THROWS_WITH_AS(core::require_memory("grid.n", 2 * limit, "a huge grid"), doctest::Contains("grid.n: a huge grid needs about"),
                       core::InvalidArgument);
  CHECK_THROWS_AS(core::require_memory("runs", INFINITY, "results"), core::InvalidArgument);  // a product that overflowed
  CHECK(core::format_bytes(1536) == "1.5 KiB");
  CHECK(core::format_bytes(3 * 1024.0 * 1024 * 1024) == "3 GiB");
}
