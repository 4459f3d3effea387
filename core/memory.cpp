#include "core/memory.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace qtzflow::core {

namespace {

/// The first number in a file ("max" or a missing file: 0).
double read_number(const char* path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word)) return 0;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    return 0;  // "max": no limit
  }
}

double physical_memory() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream s(line.substr(9));
      double kib = 0;
      s >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace

double memory_limit_bytes() {
  const double physical = physical_memory();
  double limit = read_number("/sys/fs/cgroup/memory.max");                               // cgroup v2
  if (!(limit > 0)) limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");  // cgroup v1 (huge when unset)
  if (limit > 0 && (physical <= 0 || limit < physical)) return limit;
  return physical;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  char b[48];
  std::snprintf(b, sizeof b, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return b;
}

void require_memory(std::string_view key, double bytes, std::string_view what) {
  const double limit = memory_limit_bytes();
  if (!std::isfinite(bytes)) throw InvalidArgument(std::string(key), std::string(what) + " would need more memory than can be counted");
  if (limit > 0 && bytes > limit)
    throw InvalidArgument(std::string(key), std::string(what) + " needs about " + format_bytes(bytes) + ", more than the " + format_bytes(limit) +
                                                " this process may use; make it smaller");
}

}  // namespace qtzflow::core
