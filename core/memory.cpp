#include "core/memory.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
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

/// The tightest memory limit of the cgroup this process is in and of its ancestors, read from
/// /proc/self/cgroup: v1 "N:...memory...:/path" (memory.limit_in_bytes under
/// /sys/fs/cgroup/memory) or v2 "0::/path" (memory.max under /sys/fs/cgroup).  A job scheduler
/// (Slurm) or a container sets the limit on the job's own cgroup, not on the hierarchy's root.
/// A path that is not mounted where expected (another cgroup namespace) falls back to the root
/// files.  0 if no limit is set.
double cgroup_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, v1_path, v2_path;
  bool have_v2 = false;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      v2_path = path;
      have_v2 = true;
    }
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "memory") v1_path = path;
  }
  auto tightest = [](const std::string& root, const std::string& path, const char* file) {
    double limit = 0;
    auto consider = [&](const std::string& dir) {
      const double v = read_number((dir + "/" + file).c_str());
      if (v > 0 && (limit <= 0 || v < limit)) limit = v;
    };
    std::string p = path;
    while (!p.empty() && p != "/") {  // the process's cgroup, then each ancestor
      consider(root + p);
      p = p.substr(0, p.rfind('/'));
    }
    consider(root);
    return limit;
  };
  if (std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))  // cgroup v1 (or hybrid)
    return tightest("/sys/fs/cgroup/memory", v1_path, "memory.limit_in_bytes");
  if (have_v2) return tightest("/sys/fs/cgroup", v2_path, "memory.max");
  return 0;
}

}  // namespace

double memory_limit_bytes() {
  const double physical = physical_memory();
  const double limit = cgroup_limit();  // v1's "no limit" is a huge number: physical memory is then smaller
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
