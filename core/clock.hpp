// qtzflow/core/clock.hpp — wall-clock timestamps for provenance (snapshots, verify summaries,
// benchmark tables).  UTC, so files written on different machines compare.
#pragma once

#include <ctime>
#include <string>

namespace qtzflow::core {

/// The current UTC time formatted by strftime (default ISO 8601, "2026-11-30T01:29:13Z").
inline std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ") {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);  // thread-safe, unlike std::gmtime
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace qtzflow::core
