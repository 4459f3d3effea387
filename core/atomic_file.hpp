// qtzflow/core/atomic_file.hpp — files replaced whole or not at all.
//
// Every file qtzflow writes (snapshots, summaries, optimizer results, verify data) is written
// under a temporary sibling name, `path + ".tmp"`, and renamed over `path` once complete:
// rename(2) is atomic within one file system, so a reader (or a crash) sees either the old
// file or the new one, never half of one.  If the writing fails, the temporary is removed and
// `path` is untouched.
// Two processes never write one output: OutputLock claims it for a whole run (a lock file
// beside it), and the commands take that claim before they compute or write anything.
// Limits: the temporary lives beside `path` (same directory, hence same file system).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qtzflow::core {

/// A pending replacement of `path`: write to temporary(), then commit().  Destroyed without
/// commit() (an exception, an early return), it removes the temporary.
class AtomicReplacement {
 public:
  explicit AtomicReplacement(std::string path);
  ~AtomicReplacement();
  AtomicReplacement(const AtomicReplacement&) = delete;
  AtomicReplacement& operator=(const AtomicReplacement&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temporary() const { return temporary_; }
  /// The temporary name of `path` (other processes writing the temporary together, say).
  static std::string temporary_of(const std::string& path) { return path + ".tmp"; }
  /// Renames the temporary over path (throws core::Error naming both if that fails).
  void commit();

 private:
  std::string path_, temporary_;
  bool committed_ = false;
};

/// Calls write(temporary_path), then renames the temporary over `path`.
template <class Write>
void replace_file_atomically(const std::string& path, Write&& write) {
  AtomicReplacement r(path);
  std::forward<Write>(write)(r.temporary());
  r.commit();
}

/// An exclusive claim on an output, for the life of this object: the lock file `path + ".lock"`,
/// holding the owner's process id and host, locked with flock(2).  The kernel releases the lock
/// when the process ends, however it ends, so a lock file left by a killed run is stale and
/// simply taken over.  A claim on an output that another process holds throws
/// InvalidArgument(key, "<path> is being written by process N on host H ..."), before anything
/// is written.  Claims within one process nest (counted).  On a file system without flock
/// (ENOLCK) the claim is given up silently: nothing to refuse.
class OutputLock {
 public:
  OutputLock(std::string_view key, const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  static std::string lock_path_of(const std::string& path) { return path + ".lock"; }

 private:
  std::string id_;
};

/// Replaces `path` by `text`.
void write_text_atomically(const std::string& path, std::string_view text);

/// Checks, before anything is computed or written, that `path` may be replaced by an output:
/// it is not an existing directory, device, pipe or socket (a rename as root would replace a
/// device node), and not one of the run's `inputs` (its configuration file, objective file,
/// schedule file, ...: compared as files, by device and inode, so that another spelling or a
/// hard link of an input is caught too).  Throws InvalidArgument(key, ...) otherwise.
/// AtomicReplacement applies the first check itself.
void require_replaceable(std::string_view key, const std::string& path, const std::vector<std::string>& inputs = {});

}  // namespace qtzflow::core
