// qtzflow/io/hdf5.hpp — a small checked RAII layer over the HDF5 C API.
//
// Every HDF5 call made by qtzflow goes through this file and is checked once: a failure throws
// io::Hdf5Error naming the operation, the file and the object, with HDF5's own innermost error
// description (HDF5's automatic error printing is switched off).  Handles close themselves.
// Conventions: datasets are written in C order (last index fastest) with native doubles, int64
// or int32; strings are fixed-length, NUL-terminated UTF-8 (h5py returns them as bytes:
// `.decode()`); files use the HDF5 1.10 format, whose metadata is checksummed, and every group and
// dataset keeps its links and attributes in its (checksummed) object header, up to 65535 of each
// (beyond, libhdf5 moves them into a fractal heap whose blocks have no checksum).  Extendible 1D
// datasets are chunked with an unlimited maximum extent.
// Threads: libhdf5 as Debian builds it is not thread-safe; every call of this layer (handles'
// closing included) holds one process-wide lock, lock_hdf5(), so that threads (Python's, say)
// may read and write different files at once.  Code that calls libhdf5 directly takes it too.
// Reading is defensive: every attribute and dataset is checked for type class, rank and size
// before a byte is copied (a 100-value attribute is never read into one double), reads refuse
// sizes beyond the memory limit, and files without metadata checksums (HDF5 superblock < 2)
// are refused by default, since libhdf5 itself can crash on a damaged one.  A file crafted to
// pass the checksums can still reach libhdf5's own bugs: restart only from files you trust.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace qtzflow::io {

/// The process-wide lock around libhdf5 (recursive: a locked call may call another).
[[nodiscard]] std::unique_lock<std::recursive_mutex> lock_hdf5();
/// In a child process forked while its thread held lock_hdf5(): gives the child a new, unlocked
/// lock (the old one's owner is a thread of the parent, which the child cannot release).
void after_fork_in_child();

/// An HDF5 operation failed; what() names the operation, the file and the object.
class Hdf5Error : public core::Error {
 public:
  using core::Error::Error;
};

/// An HDF5 operation failed because the operating system refused a read or a write (a full
/// disk, an I/O error): a run-time failure, never a sign of a damaged file.
class Hdf5IoError : public Hdf5Error {
 public:
  using Hdf5Error::Hdf5Error;
};

using hid = std::int64_t;  // hid_t without including hdf5.h in every user

/// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  enum class Kind { file, group, dataset, dataspace, attribute, datatype, plist };
  Handle() = default;
  Handle(hid id, Kind kind) : id_(id), kind_(kind) {}
  Handle(Handle&& o) noexcept : id_(o.id_), kind_(o.kind_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();
  hid get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void close();
  /// Gives up ownership without closing.
  hid release() {
    const hid id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid id_ = -1;
  Kind kind_ = Kind::file;
};

/// An HDF5 object with attributes: the common part of groups and datasets.
class Object {
 public:
  Object(Handle h, std::string path, std::string file) : h_(std::move(h)), path_(std::move(path)), file_(std::move(file)) {}

  void write_attribute(const std::string& name, double v) const;
  void write_attribute(const std::string& name, std::int64_t v) const;
  void write_attribute(const std::string& name, std::uint64_t v) const;  ///< seeds: the whole range of 64 bits
  void write_attribute(const std::string& name, const std::string& v) const;
  void write_attribute(const std::string& name, std::span<const double> v) const;
  void write_attribute(const std::string& name, const std::vector<std::string>& v) const;
  bool has_attribute(const std::string& name) const;
  double read_double_attribute(const std::string& name) const;
  std::int64_t read_int_attribute(const std::string& name) const;
  std::string read_string_attribute(const std::string& name) const;
  std::vector<double> read_doubles_attribute(const std::string& name) const;
  std::vector<std::string> read_strings_attribute(const std::string& name) const;

  hid id() const { return h_.get(); }
  /// Path of the object inside its file, e.g. "/data/100/meshes".
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

 protected:
  /// Throws Hdf5Error("<what> <file>:<path>/<name>: <HDF5's reason>") when status < 0.
  void check(long long status, const char* what, const std::string& name = "") const;
  std::string child_path(const std::string& name) const;
  Handle h_;
  std::string path_, file_;

 private:
  struct AttributeInfo {
    std::vector<unsigned long long> dims;
    double count = 0;
    int type_class = -1;
    std::size_t type_size = 0;
    bool variable_string = false;
  };
  AttributeInfo attribute_info(const Handle& a, const std::string& name) const;
  enum class Accept { number, integer, string };
  /// Throws unless the attribute is of the accepted class (strings: fixed-length), at most 1D,
  /// and holds `count` values (any count when negative).
  void require_attribute(const AttributeInfo& info, const std::string& name, Accept accept, double count, const char* expected) const;
  Handle open_attribute(const std::string& name) const;
  void replace_attribute(const std::string& name, hid type, hid space, const void* buf) const;
};

/// A dataset: whole-array reads, and appends for extendible 1D datasets.
class Dataset : public Object {
 public:
  using Object::Object;
  std::vector<std::size_t> shape() const;
  std::vector<double> read_doubles() const;
  /// Rows [first_row, first_row + rows) of axis 0, in C order (one rank's block of a field).
  std::vector<double> read_rows(std::size_t first_row, std::size_t rows) const;
  std::vector<std::int64_t> read_int64() const;
  /// How the values are stored: where they live and whether filters transform them.
  struct Storage {
    enum class Layout { compact, contiguous, chunked, virtual_dataset, other };
    Layout layout = Layout::other;
    int external_files = 0;  ///< raw data in other files (external storage)
    int filters = 0;
  };
  Storage storage() const;
  /// Appends values to an extendible 1D dataset.
  void append(std::span<const double> values) const;
  void append(std::span<const std::int64_t> values) const;
  /// Writes rows [first_row, first_row + rows) of axis 0, `values` holding them in C order
  /// (rows = values.size() / the size of one row; empty: this process writes nothing).  In a
  /// file created with Access::all_ranks every rank calls it (a collective MPI-IO transfer),
  /// each with its own rows.
  void write_rows(std::size_t first_row, std::span<const double> values) const;
  void write_rows(std::size_t first_row, std::span<const std::int32_t> values) const;

 private:
  void write_rows_raw(std::size_t first_row, const void* values, std::size_t n, hid mem_type) const;
  /// The file and memory dataspaces of rows [first_row, first_row + rows) of axis 0, `row`
  /// values each (both selecting nothing when rows = 0).
  std::pair<Handle, Handle> row_spaces(std::size_t first_row, std::size_t rows, std::size_t row) const;
  /// The number of values (`count`, or the whole dataset's when negative), after checking the
  /// type class and the memory it needs.
  std::size_t checked_count(bool integer_only, double count = -1) const;
  void append_raw(const void* buf, std::size_t n, hid mem_type) const;
  void read_raw(void* buf, hid mem_type) const;
};

/// A group (the root group of a file included).
class Group : public Object {
 public:
  using Object::Object;

  /// Creates a group; intermediate groups of a path "a/b/c" are created as needed.
  Group create_group(const std::string& name) const;
  Group open_group(const std::string& name) const;
  /// Whether a link of this name exists (name may be a relative path).
  bool exists(const std::string& name) const;
  /// Names of the links in this group, in HDF5's name order.
  std::vector<std::string> children() const;
  /// Whether link `name` is an external link (to another file).
  bool is_external_link(const std::string& name) const;
  enum class LinkKind { hard, soft, external, other };
  /// The kind of link `name` (a link of this group, not a path; not followed).
  LinkKind link_kind(const std::string& name) const;
  /// Whether `name` is a group (links followed).
  bool is_group(const std::string& name) const;

  /// A dataset of the given shape (C order) holding `values` (size = product of shape).
  Dataset write_dataset(const std::string& name, std::span<const double> values, const std::vector<std::size_t>& shape) const;
  Dataset write_dataset(const std::string& name, std::span<const std::int32_t> values, const std::vector<std::size_t>& shape) const;
  Dataset write_dataset(const std::string& name, std::span<const std::int64_t> values, const std::vector<std::size_t>& shape) const;
  enum class Element { float64, int32 };
  /// A dataset of the given shape whose values write_rows() supplies (contiguous, allocated at
  /// creation, never filled with a fill value: write every row).
  Dataset create_dataset(const std::string& name, const std::vector<std::size_t>& shape, Element element = Element::float64) const;
  /// An empty extendible 1D dataset of doubles (int64 when `integer`).
  Dataset create_series(const std::string& name, bool integer = false) const;
  Dataset open_dataset(const std::string& name) const;

  /// A link to object `target_object` in file `target_file` (a path relative to the folder of
  /// this file is resolved by HDF5 relative to it).
  void link_external(const std::string& name, const std::string& target_file, const std::string& target_object) const;
  /// Deep copy of `source_object` (a path in `source`'s file, a group or a dataset) into this
  /// group under `name`: groups, datasets of numbers (in blocks of rows of at most 64 MiB, in
  /// their own element type) and attributes of numbers or fixed-length strings; links are
  /// followed, so the copy holds the data itself.  Anything else is refused.
  void copy_from(const Group& source, const std::string& source_object, const std::string& name) const;

 private:
  /// Creates the missing groups of a path "a/b/c" up to "a/b" (links and attributes kept compact).
  void make_parents(const std::string& name) const;
  Dataset write_raw(const std::string& name, const void* values, std::size_t count, const std::vector<std::size_t>& shape, hid file_type,
                    hid mem_type) const;
};

/// An open HDF5 file; closes on destruction.
class File {
 public:
  /// one_process: this process alone.  all_ranks: every MPI rank opens the file together
  /// through parallel HDF5 (MPI-IO); every call that creates or changes an object is then
  /// collective (all ranks, same arguments), and write_rows() lets each rank write its own rows.
  /// Outside a multi-rank run (core::mpi::active() false) all_ranks is one_process.
  enum class Access { one_process, all_ranks };
  /// Creates (truncates) a file.
  static File create(const std::string& path, Access access = Access::one_process);
  /// checksummed: refuse files whose metadata has no checksums (see the header); any: read
  /// whatever HDF5 opens (files written by other programs, e.g. h5py's defaults).
  enum class Integrity { checksummed, any };
  static File open_read(const std::string& path, Integrity integrity = Integrity::checksummed);
  static File open_write(const std::string& path);

  Group root() const;
  /// Flushes every buffer of this file to the operating system.
  void flush() const;
  /// Closes the file now (checked: every group, dataset and attribute of it must be closed
  /// first, or the close, and the write errors it reports, would be deferred); the destructor
  /// closes silently otherwise.
  void close();
  const std::string& path() const { return path_; }

 private:
  File(Handle h, std::string path) : h_(std::move(h)), path_(std::move(path)) {}
  Handle h_;
  std::string path_;
};

/// Writes a new HDF5 file at `path` whole or not at all: `fill` writes the content under the
/// root group of a temporary sibling, which is closed (checked: a full disk is an error here,
/// not later) and then renamed over `path` (core::replace_file_atomically).
template <class Fill>
void write_file_atomically(const std::string& path, Fill&& fill);

/// The HDF5 library version, e.g. "1.10.8".
std::string hdf5_version();

template <class Fill>
void write_file_atomically(const std::string& path, Fill&& fill) {
  core::replace_file_atomically(path, [&](const std::string& tmp) {
    File f = File::create(tmp);
    {
      const Group root = f.root();
      std::forward<Fill>(fill)(root);
    }  // every object closed before the file
    f.close();
  });
}

}  // namespace qtzflow::io
