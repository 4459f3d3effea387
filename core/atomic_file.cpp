#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <system_error>

#include "core/error.hpp"

namespace qtzflow::core {

AtomicReplacement::AtomicReplacement(std::string path) : path_(std::move(path)), temporary_(temporary_of(path_)) {
  require_replaceable("output", path_);
}

AtomicReplacement::~AtomicReplacement() {
  if (committed_) return;
  std::error_code ec;  // best effort: a destructor must not throw
  std::filesystem::remove(temporary_, ec);
}

void AtomicReplacement::commit() {
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) throw Error("cannot rename " + temporary_ + " to " + path_ + ": " + ec.message());
  committed_ = true;
}

void require_replaceable(std::string_view key, const std::string& path, const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);  // follows symbolic links: what a rename would hit is the link, but its target tells the intent
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw_invalid(key, path, "a regular file or a new name (it is a directory, device, pipe or socket, which an output must not replace)");
  struct stat out_st {};
  if (::stat(path.c_str(), &out_st) == 0)
    for (const auto& input : inputs) {
      struct stat in_st {};
      if (!input.empty() && ::stat(input.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
        throw_invalid(key, path, "a file other than the run's input " + input + " (an output would replace it)");
    }
  // The folder must exist already: an output never creates directories (a typo would leave them behind).
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(parent, ec)) throw_invalid(key, path, "a name in an existing folder (" + parent.string() + " is not one)");
  if (::access(parent.c_str(), W_OK) != 0) throw_invalid(key, path, "a name in a folder this process may write (" + parent.string() + " is not)");
}

namespace {

/// This process's claims: lock file -> (descriptor, count).
struct Claims {
  std::mutex m;
  std::map<std::string, std::pair<int, int>> held;
};
Claims& claims() {
  static Claims c;
  return c;
}

std::string owner_of(int fd) {
  char text[256] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string s(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.empty() ? "another process" : s;
}

}  // namespace

OutputLock::OutputLock(std::string_view key, const std::string& path) {
  const std::string lock = lock_path_of(path);
  std::error_code ec;
  id_ = std::filesystem::weakly_canonical(lock, ec).string();
  if (ec) id_ = lock;
  Claims& c = claims();
  const std::lock_guard guard(c.m);
  if (auto it = c.held.find(id_); it != c.held.end()) {
    ++it->second.second;
    return;
  }
  require_replaceable(key, lock);
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_invalid(key, path, "a name beside which the lock file " + lock + " can be made (" + std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        const std::string owner = owner_of(fd);
        ::close(fd);
        throw InvalidArgument(std::string(key), std::string(key) + " = " + shorten(path, 200) + ": is being written by " + owner +
                                                    "; must be an output no other qtzflow process is writing (wait for it, stop it, or "
                                                    "choose another name)");
      }
      ::close(fd);  // ENOLCK and the like: a file system without locks, nothing to refuse
      id_.clear();
      return;
    }
    // A releasing process unlinks its lock file before it unlocks: the file locked here must
    // still be the one of that name, or the claim is on an orphan and is made again.
    struct stat a {
    }, b{};
    if (::fstat(fd, &a) == 0 && ::stat(lock.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      char host[128] = {};
      ::gethostname(host, sizeof host - 1);
      const std::time_t now = std::time(nullptr);
      char when[32] = {};
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
      const std::string owner = "process " + std::to_string(::getpid()) + " on host " + host + " (since " + when + ")\n";
      if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, owner.data(), owner.size(), 0);
      c.held[id_] = {fd, 1};
      return;
    }
    ::close(fd);
    if (attempt > 100) throw Error("cannot claim " + path + ": its lock file " + lock + " keeps being replaced");
  }
}

OutputLock::~OutputLock() {
  if (id_.empty()) return;
  Claims& c = claims();
  const std::lock_guard guard(c.m);
  auto it = c.held.find(id_);
  if (it == c.held.end() || --it->second.second > 0) return;
  ::unlink(id_.c_str());  // first: a process waiting on this file then sees it is an orphan
  ::close(it->second.first);
  c.held.erase(it);
}

void write_text_atomically(const std::string& path, std::string_view text) {
  replace_file_atomically(path, [&](const std::string& tmp) {
    errno = 0;
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw Error("cannot write " + tmp + (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
  });
}

}  // namespace qtzflow::core
