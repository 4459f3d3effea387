// Helpers shared by the tests that touch files: scratch folders and the h5py layout check.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qtzflow::testing {

/// A fresh, empty folder under the system temp folder, unique per process and name.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("qtzflow_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

struct CliResult {
  int code;  ///< the exit status, -1 when the process did not exit normally (a signal)
  std::string err, out;
};

/// Runs `qtzflow ARGS` (in `dir`), capturing stderr and stdout.
inline CliResult run_cli(const std::string& args, const std::filesystem::path& dir) {
  const auto err = dir / "stderr.txt", out = dir / "stdout.txt";
  const std::string cmd = "cd " + dir.string() + " && " QTZFLOW_CLI " " + args + " 2> " + err.string() + " > " + out.string();
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err), read_file(out)};
}

/// max |a − b| / max |a| over two arrays of one length (the size mismatch is a failed REQUIRE).
inline double relative_max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    norm = std::max(norm, std::abs(a[i]));
  }
  return diff / norm;
}

/// Reports that (part of) a test could not run for lack of an optional tool.  The line goes to
/// stdout, where ctest's SKIP_REGULAR_EXPRESSION ("SKIPPED:", tests/CMakeLists.txt) marks the test
/// "Skipped", so a missing tool never counts as a pass.
inline void report_skip(const std::string& why) {
  std::printf("SKIPPED: %s\n", why.c_str());
  std::fflush(stdout);
}

/// Runs tests/python/check_output.py on `file` from another working folder (so that external
/// links must resolve relative to the file); returns its exit status, or -1 when Debian's
/// Python with h5py is not installed (the caller then skips with a message).
inline int h5py_check(const std::filesystem::path& file, const std::string& extra = "") {
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) return -1;
  const std::string cmd =
      "cd / && /usr/bin/python3 " QTZFLOW_SOURCE_DIR "/tests/python/check_output.py " + file.string() + " " + extra + " > /dev/null";
  return WEXITSTATUS(std::system(cmd.c_str()));
}

/// The h5py layout check of `file` as one assertion, or a reported skip without h5py.
inline void check_h5py_layout(const std::filesystem::path& file, const std::string& extra = "") {
  const int rc = h5py_check(file, extra);
  if (rc < 0)
    report_skip("h5py check: /usr/bin/python3 with h5py not found");
  else
    CHECK_MESSAGE(rc == 0, "tests/python/check_output.py " << file.string() << " " << extra);
}

}  // namespace qtzflow::testing
