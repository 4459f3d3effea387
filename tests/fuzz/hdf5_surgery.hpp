// tests/fuzz/hdf5_surgery.hpp — damage an HDF5 file the way a fuzzer (or a bad disk, or a hand
// edit in h5py) would: replace an attribute by one of another type or shape, delete or rename a
// link, replace a dataset, flip bytes, truncate.  Used by the restart fuzz target and by the
// regression tests that pin each case the fuzzer or a user found.
//
// These helpers call the HDF5 C API directly, on purpose: they must be able to write what
// qtzflow's own checked layer (io/hdf5) refuses to write.  Each returns false when HDF5 refuses
// the edit (the file is then unchanged or, for byte edits, changed as asked).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qtzflow::testing::surgery {

/// Every object path in the file ("/", "/data", "/data/10/meshes/rho", ...), links not followed.
std::vector<std::string> object_paths(const std::string& file);
/// Every (object path, attribute name) pair.
std::vector<std::pair<std::string, std::string>> attributes(const std::string& file);

/// Replaces attribute `name` of `object` by `n` doubles all equal to `value` (n = 0: a scalar).
bool set_attribute_doubles(const std::string& file, const std::string& object, const std::string& name, std::size_t n, double value);
/// Replaces attribute `name` of `object` by a scalar 64-bit integer.
bool set_attribute_int(const std::string& file, const std::string& object, const std::string& name, std::int64_t value);
/// Replaces attribute `name` of `object` by a string (variable-length when `variable`).
bool set_attribute_string(const std::string& file, const std::string& object, const std::string& name, const std::string& value, bool variable);
/// Replaces attribute `name` of `object` by one with a null dataspace (no values at all).
bool set_attribute_null(const std::string& file, const std::string& object, const std::string& name);
/// Deletes a link (a group, a dataset, with everything under it).
bool delete_link(const std::string& file, const std::string& path);
/// Renames (moves) a link.
bool move_link(const std::string& file, const std::string& from, const std::string& to);
/// Replaces dataset `path` by a dataset of doubles of shape `dims`, every value `value`.
bool replace_dataset(const std::string& file, const std::string& path, const std::vector<std::uint64_t>& dims, double value);
/// Replaces dataset `path` by a dataset of fixed-length strings.
bool replace_dataset_with_strings(const std::string& file, const std::string& path, std::size_t n);
/// Sets every value of dataset `path` (read and written back as doubles) to `value`.
bool fill_dataset(const std::string& file, const std::string& path, double value);

/// How a sampled objective's file stores dataset "f" (the layouts a user's h5py can write, and
/// the ones qtzflow refuses: values in other files, or reached through other links).
enum class SampledLayout {
  contiguous_h5py_default,  ///< superblock 0, no checksums (h5py's default)
  contiguous_checksummed,   ///< the 1.10 format
  compact,
  chunked,
  deflate,
  shuffle_deflate,
  scale_offset,
  fletcher32,
  virtual_same_file,  ///< a virtual dataset over /source of the same file: refused
  virtual_self,       ///< a virtual dataset whose source is itself: refused
  external_storage,   ///< raw data in the file `external` (beside it): refused
  external_link,      ///< "f" an external link to /f of the file `external`: refused
  soft_link,          ///< "f" a soft link to /source: refused
};
constexpr int kSampledLayouts = 13;
const char* sampled_layout_name(SampledLayout layout);
/// Writes dataset "f" (doubles of `shape`, C order) with attributes lower/upper in `layout`;
/// `external` names the other file the external layouts use (written too).  False if HDF5
/// refused.
bool write_sampled(const std::string& file, SampledLayout layout, const std::vector<double>& values, const std::vector<std::uint64_t>& shape,
                   const std::vector<double>& lower, const std::vector<double>& upper, const std::string& external);
/// Whether qtzflow reads `layout` (the others it must refuse).
bool sampled_layout_readable(SampledLayout layout);

/// Where the object header of `path` lies in the file: {offset, size} of its first chunk and
/// continuations as libhdf5 reports them ({0, 0} if it cannot be read).
std::pair<std::uint64_t, std::uint64_t> object_header(const std::string& file, const std::string& path);

/// Byte edits of the file itself.
void flip_byte(const std::string& file, std::uint64_t offset, unsigned char mask);
void set_byte(const std::string& file, std::uint64_t offset, unsigned char value);
void truncate(const std::string& file, std::uint64_t size);
std::uint64_t file_size(const std::string& file);

}  // namespace qtzflow::testing::surgery
