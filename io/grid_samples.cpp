#include "io/grid_samples.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "io/hdf5.hpp"

namespace qtzflow::io {

std::string GridSamples::describe() const {
  std::string n, box;
  for (std::size_t a = 0; a < shape.size(); ++a) {
    n += (a ? ", " : "") + std::to_string(shape[a]);
    box += std::string(a ? " x " : "") + "[" + core::format_value(lower(a)) + ", " + core::format_value(upper(a)) + "]";
  }
  return "n = [" + n + "], box " + box;
}

namespace {

// ---- the reading: what the child process does -----------------------------------------------

/// A refusal found while reading: what is wrong and what is expected (InvalidArgument's parts).
struct Refusal {
  std::string what, expected;
};

/// Opens the dataset and checks everything but the values; fills the geometry of `s`.
Dataset open_checked(const File& f, const std::string& name, GridSamples& s) {
  const Group root = f.root();
  // Every component of the path must be a hard link of this file: an external link would open
  // another file (any file the process may read, or a FIFO that blocks), and is refused before
  // anything below it is looked up.
  for (std::size_t start = 0;;) {
    const std::size_t slash = name.find('/', start);
    const std::string prefix = name.substr(0, slash);
    if (!root.exists(prefix)) throw Refusal{"no such dataset", "the path of a dataset in the file (objective.dataset)"};
    const auto kind = root.link_kind(prefix);
    if (kind != Group::LinkKind::hard)
      throw Refusal{
          "/" + prefix + " is " + (kind == Group::LinkKind::external ? "an external link (to another file)" : "a soft or user-defined link"),
          "a dataset stored in the file itself, reached by hard links"};
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (root.is_group(name)) throw Refusal{"a group, not a dataset", "the path of a dataset in the file (objective.dataset)"};
  Dataset d = root.open_dataset(name);
  const auto storage = d.storage();
  if (storage.layout == Dataset::Storage::Layout::virtual_dataset)
    throw Refusal{"a virtual dataset (its values live in other datasets or files)", "a dataset whose values are stored in the file itself"};
  if (storage.external_files > 0)
    throw Refusal{"a dataset with external raw storage (its values live in " + std::to_string(storage.external_files) + " other file(s))",
                  "a dataset whose values are stored in the file itself"};
  if (storage.layout == Dataset::Storage::Layout::other) throw Refusal{"a dataset of an unknown layout", "contiguous, compact or chunked storage"};
  s.shape = d.shape();
  const std::size_t rank = s.shape.size();
  if (rank < 1 || rank > 3) throw Refusal{std::to_string(rank) + " axes", "1, 2 or 3 axes (C order, axis 0 slowest)"};
  for (std::size_t a = 0; a < rank; ++a)
    if (s.shape[a] < 2) throw Refusal{std::to_string(s.shape[a]) + " points on axis " + std::to_string(a), ">= 2 points per axis"};
  auto per_axis = [&](const char* attr) {
    const auto v = d.read_doubles_attribute(attr);
    if (v.size() != rank)
      throw Refusal{std::string("attribute ") + attr + " of " + std::to_string(v.size()) + " values", "one per axis, " + std::to_string(rank)};
    for (double x : v)
      if (!std::isfinite(x)) throw Refusal{std::string("attribute ") + attr + " holds " + core::format_value(x), "finite values"};
    return v;
  };
  if (d.has_attribute("lower") && d.has_attribute("upper")) {
    const auto lo = per_axis("lower"), hi = per_axis("upper");
    for (std::size_t a = 0; a < rank; ++a) {
      if (!(lo[a] < hi[a]))
        throw Refusal{"upper = " + core::format_value(hi[a]) + " <= lower = " + core::format_value(lo[a]) + " on axis " + std::to_string(a),
                      "lower < upper"};
      s.spacing.push_back((hi[a] - lo[a]) / static_cast<double>(s.shape[a]));
      s.offset.push_back(lo[a] + 0.5 * s.spacing.back());
    }
  } else if (d.has_attribute("gridSpacing") && d.has_attribute("gridGlobalOffset")) {
    s.spacing = per_axis("gridSpacing");
    s.offset = per_axis("gridGlobalOffset");
    for (std::size_t a = 0; a < rank; ++a)
      if (!(s.spacing[a] > 0)) throw Refusal{"gridSpacing = " + core::format_value(s.spacing[a]) + " on axis " + std::to_string(a), "> 0"};
  } else {
    throw Refusal{"no grid attributes", "attributes lower and upper (the box) or gridSpacing and gridGlobalOffset (openPMD) on the dataset"};
  }
  return d;
}

// ---- the pipe between the two processes ---------------------------------------------------------
// Messages: a kind byte and a 64-bit length, then the payload.
//   'G' geometry: rank, then per axis points (uint64), spacing and offset (double)
//   'R' refusal: what, a NUL, expected
//   'V' values: the doubles
// The parent answers the geometry with one byte: 'r' (read the values) or 'q' (quit).

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Reads exactly n bytes; false at the end of the stream (the child died) or on an error.
bool read_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool send(int fd, char kind, const void* payload, std::uint64_t n) {
  return write_all(fd, &kind, 1) && write_all(fd, &n, sizeof n) && (n == 0 || write_all(fd, payload, n));
}

/// The child: reads, answers, and ends with _exit (no destructors, no exit handlers of the
/// parent's libraries: MPI, Python, HDF5).
[[noreturn]] void child(const std::string& path, const std::string& name, int to_parent, int from_parent) {
  int status = 0;
  try {
    GridSamples s;
    const File f = File::open_read(path, File::Integrity::any);
    Dataset d = [&] {
      try {
        return open_checked(f, name, s);
      } catch (const Refusal& r) {
        const std::string text = r.what + '\0' + r.expected;
        send(to_parent, 'R', text.data(), text.size());
        _exit(0);
      }
    }();
    std::vector<char> g;
    auto put = [&](const void* p, std::size_t n) { g.insert(g.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n); };
    const std::uint64_t rank = s.shape.size();
    put(&rank, sizeof rank);
    for (std::size_t a = 0; a < rank; ++a) {
      const std::uint64_t n = s.shape[a];
      put(&n, sizeof n);
      put(&s.spacing[a], sizeof(double));
      put(&s.offset[a], sizeof(double));
    }
    if (!send(to_parent, 'G', g.data(), g.size())) _exit(3);
    char answer = 0;
    if (!read_all(from_parent, &answer, 1) || answer != 'r') _exit(0);
    const std::vector<double> values = d.read_doubles();
    if (!send(to_parent, 'V', values.data(), values.size() * sizeof(double))) _exit(3);
  } catch (const std::exception& e) {
    const std::string text = std::string(e.what()) + '\0' + "a readable dataset of numbers with its grid's attributes";
    send(to_parent, 'R', text.data(), text.size());
  } catch (...) {
    status = 4;
  }
  _exit(status);
}

/// A running child reading the file; the destructor kills it (if still running) and reaps it.
class Reader {
 public:
  Reader(const std::string& path, const std::string& name) {
    int up[2], down[2];
    if (::pipe2(up, O_CLOEXEC) != 0) throw core::Error("cannot read " + path + ": pipe: " + std::strerror(errno));
    if (::pipe2(down, O_CLOEXEC) != 0) {
      ::close(up[0]);
      ::close(up[1]);
      throw core::Error("cannot read " + path + ": pipe: " + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    {
      // libhdf5 is not thread-safe: no other thread of this process may be inside it while the
      // child's copy of its state is made
      const auto hdf5 = lock_hdf5();
      pid_ = ::fork();
      if (pid_ == 0) {
        after_fork_in_child();
        ::close(up[0]);
        ::close(down[1]);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the reader
        if (::getppid() != parent) _exit(5);
        ::signal(SIGINT, SIG_DFL);  // Ctrl-C ends it, whatever handler the parent has
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGPIPE, SIG_DFL);
        child(path, name, up[1], down[0]);
      }
    }
    const int fork_errno = errno;
    ::close(up[1]);
    ::close(down[0]);
    from_child_ = up[0];
    to_child_ = down[1];
    if (pid_ < 0) {
      ::close(from_child_);
      ::close(to_child_);
      throw core::Error("cannot read " + path + ": fork: " + std::strerror(fork_errno));
    }
  }
  ~Reader() {
    ::close(from_child_);
    ::close(to_child_);
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// The next message; false if the child ended without sending one.
  bool receive(char& kind, std::vector<char>& payload, std::uint64_t most) {
    std::uint64_t n = 0;
    if (!read_all(from_child_, &kind, 1) || !read_all(from_child_, &n, sizeof n) || n > most) return false;
    payload.resize(static_cast<std::size_t>(n));
    return n == 0 || read_all(from_child_, payload.data(), payload.size());
  }
  /// The values (n bytes, into data): true; or false with `refusal` holding the child's
  /// message when it sent one instead.
  bool receive_into(void* data, std::uint64_t n, std::vector<char>& refusal) {
    char kind = 0;
    std::uint64_t got = 0;
    if (!read_all(from_child_, &kind, 1) || !read_all(from_child_, &got, sizeof got)) return false;
    if (kind == 'V' && got == n) return read_all(from_child_, data, n);
    if (kind == 'R' && got <= (1u << 20)) {
      refusal.resize(static_cast<std::size_t>(got));
      if (!read_all(from_child_, refusal.data(), refusal.size())) refusal.clear();
    }
    return false;
  }
  void answer(char a) {
    (void)write_all(to_child_, &a, 1);
    ::close(to_child_);
    to_child_ = -1;
  }
  /// How the child ended: "" for a clean exit, else the reason.
  std::string wait() {
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (WIFSIGNALED(st))
      return std::string("libhdf5 crashed reading it (signal ") + std::to_string(WTERMSIG(st)) + ", " + strsignal(WTERMSIG(st)) + ")";
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0) return "its reader ended with status " + std::to_string(WEXITSTATUS(st));
    return {};
  }

 private:
  pid_t pid_ = -1;
  int from_child_ = -1, to_child_ = -1;
  bool reaped_ = false;
};

}  // namespace

GridSamples read_grid_samples(const std::string& path, const std::string& dataset, const std::string& key,
                              const std::function<void(const GridSamples&)>& before_reading) {
  GridSamples s;
  std::string name = dataset;
  while (!name.empty() && name.front() == '/') name.erase(name.begin());
  s.source = path + ":/" + name;
  auto bad = [&](const std::string& what, const std::string& expected) {
    core::throw_invalid(key, core::shorten(s.source, 200) + ": " + what, expected);
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) core::throw_invalid(key, "\"" + core::shorten(path, 200) + "\"", "a readable HDF5 file");
  if (name.empty()) bad("no dataset named", "a dataset path, e.g. objective.dataset = \"f\"");

  Reader reader(path, name);
  const std::string damaged = "an intact HDF5 file (read it with h5py, or write it again)";
  char kind = 0;
  std::vector<char> msg;
  if (!reader.receive(kind, msg, 1 << 20)) {
    const std::string why = reader.wait();
    bad(why.empty() ? "its reader ended without an answer" : why, damaged);
  }
  if (kind == 'R') {
    reader.wait();
    const auto nul = std::find(msg.begin(), msg.end(), '\0');
    const std::string what(msg.begin(), nul), expected(nul == msg.end() ? nul : nul + 1, msg.end());
    bad(what, expected.empty() ? damaged : expected);
  }
  // the geometry: rank, then per axis points, spacing, offset
  std::uint64_t rank = 0;
  if (kind != 'G' || msg.size() < sizeof rank) bad("an unreadable answer of its reader", damaged);
  std::memcpy(&rank, msg.data(), sizeof rank);
  if (rank < 1 || rank > 3 || msg.size() != sizeof rank + rank * (sizeof(std::uint64_t) + 2 * sizeof(double)))
    bad("an unreadable answer of its reader", damaged);
  const char* p = msg.data() + sizeof rank;
  double points = 1;
  for (std::uint64_t a = 0; a < rank; ++a) {
    std::uint64_t n = 0;
    double h = 0, x0 = 0;
    std::memcpy(&n, p, sizeof n);
    std::memcpy(&h, p + sizeof n, sizeof h);
    std::memcpy(&x0, p + sizeof n + sizeof h, sizeof x0);
    p += sizeof n + 2 * sizeof(double);
    s.shape.push_back(static_cast<std::size_t>(n));
    s.spacing.push_back(h);
    s.offset.push_back(x0);
    points *= static_cast<double>(n);
  }
  try {
    if (before_reading) before_reading(s);
    core::require_memory(key, points * sizeof(double), "the " + core::format_value(points) + " values of " + core::shorten(s.source, 200));
    s.values.resize(static_cast<std::size_t>(points));
  } catch (...) {
    reader.answer('q');
    throw;
  }
  reader.answer('r');
  std::vector<char> refusal;
  const bool got = reader.receive_into(s.values.data(), s.values.size() * sizeof(double), refusal);
  const std::string why = reader.wait();
  if (!refusal.empty()) bad(std::string(refusal.begin(), std::find(refusal.begin(), refusal.end(), '\0')), damaged);
  if (!got || !why.empty()) bad(why.empty() ? "its values could not be read" : why, damaged);
  return s;
}

}  // namespace qtzflow::io
