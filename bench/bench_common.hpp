// Timing helpers shared by the benchmarks: medians of repeated samples, machine description.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace qtzflow::bench {

/// Median over `samples` of the time per call of f (f is called `reps` times per sample).
template <class F>
double median_seconds(int samples, long reps, F&& f) {
  std::vector<double> t;
  for (int s = 0; s < samples; ++s) {
    const auto a = std::chrono::steady_clock::now();
    for (long r = 0; r < reps; ++r) f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double>(b - a).count() / static_cast<double>(reps));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// "2026-11-23 21:13 UTC": when a benchmark ran, for BENCHMARKS.md.
inline std::string utc_now() { return core::utc_now("%Y-%m-%d %H:%M UTC"); }

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

}  // namespace qtzflow::bench
