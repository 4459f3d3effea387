#include "hdf5_surgery.hpp"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace qtzflow::testing::surgery {

namespace {

/// An HDF5 id closed on scope exit (the test tools do not need more than this).
struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Id() {
    if (id >= 0) close(id);
  }
  operator hid_t() const { return id; }
};

Id open_rw(const std::string& file) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return {H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose};
}

bool write_attribute(const std::string& file, const std::string& object, const std::string& name, hid_t type, hid_t space, const void* buf) {
  Id f = open_rw(file);
  if (f < 0) return false;
  Id o{H5Oopen(f, object.c_str(), H5P_DEFAULT), H5Oclose};
  if (o < 0) return false;
  if (H5Aexists(o, name.c_str()) > 0 && H5Adelete(o, name.c_str()) < 0) return false;
  Id a{H5Acreate2(o, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  if (a < 0) return false;
  return buf == nullptr || H5Awrite(a, type, buf) >= 0;
}

}  // namespace

std::vector<std::string> object_paths(const std::string& file) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::vector<std::string> out;
  Id f{H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (f < 0) return out;
  out.emplace_back("/");
  H5Lvisit(
      f, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
        return 0;
      },
      &out);
  return out;
}

std::vector<std::pair<std::string, std::string>> attributes(const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  Id f{H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (f < 0) return out;
  for (const auto& path : object_paths(file)) {
    Id o{H5Oopen(f, path.c_str(), H5P_DEFAULT), H5Oclose};
    if (o < 0) continue;
    std::vector<std::string> names;
    H5Aiterate2(
        o, H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
          return 0;
        },
        &names);
    for (auto& n : names) out.emplace_back(path, n);
  }
  return out;
}

bool set_attribute_doubles(const std::string& file, const std::string& object, const std::string& name, std::size_t n, double value) {
  const hsize_t dims = n;
  Id space{n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nullptr), H5Sclose};
  std::vector<double> v(std::max<std::size_t>(n, 1), value);
  return write_attribute(file, object, name, H5T_NATIVE_DOUBLE, space, v.data());
}

bool set_attribute_int(const std::string& file, const std::string& object, const std::string& name, std::int64_t value) {
  Id space{H5Screate(H5S_SCALAR), H5Sclose};
  return write_attribute(file, object, name, H5T_NATIVE_INT64, space, &value);
}

bool set_attribute_string(const std::string& file, const std::string& object, const std::string& name, const std::string& value, bool variable) {
  Id space{H5Screate(H5S_SCALAR), H5Sclose};
  Id type{H5Tcopy(H5T_C_S1), H5Tclose};
  if (variable) {
    H5Tset_size(type, H5T_VARIABLE);
    const char* p = value.c_str();
    return write_attribute(file, object, name, type, space, &p);
  }
  H5Tset_size(type, value.size() + 1);
  return write_attribute(file, object, name, type, space, value.c_str());
}

bool set_attribute_null(const std::string& file, const std::string& object, const std::string& name) {
  Id space{H5Screate(H5S_NULL), H5Sclose};
  return write_attribute(file, object, name, H5T_NATIVE_DOUBLE, space, nullptr);
}

bool delete_link(const std::string& file, const std::string& path) {
  Id f = open_rw(file);
  return f >= 0 && H5Ldelete(f, path.c_str(), H5P_DEFAULT) >= 0;
}

bool move_link(const std::string& file, const std::string& from, const std::string& to) {
  Id f = open_rw(file);
  return f >= 0 && H5Lmove(f, from.c_str(), f, to.c_str(), H5P_DEFAULT, H5P_DEFAULT) >= 0;
}

bool replace_dataset(const std::string& file, const std::string& path, const std::vector<std::uint64_t>& dims, double value) {
  Id f = open_rw(file);
  if (f < 0) return false;
  if (H5Lexists(f, path.c_str(), H5P_DEFAULT) > 0) H5Ldelete(f, path.c_str(), H5P_DEFAULT);
  std::vector<hsize_t> d(dims.begin(), dims.end());
  Id space{d.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr), H5Sclose};
  Id ds{H5Dcreate2(f, path.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  if (ds < 0) return false;
  std::size_t n = 1;
  for (auto x : dims) n *= x;
  if (n > (std::size_t(1) << 24)) return true;  // a huge extent: declared, never written
  std::vector<double> v(n, value);
  return H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0;
}

bool replace_dataset_with_strings(const std::string& file, const std::string& path, std::size_t n) {
  Id f = open_rw(file);
  if (f < 0) return false;
  if (H5Lexists(f, path.c_str(), H5P_DEFAULT) > 0) H5Ldelete(f, path.c_str(), H5P_DEFAULT);
  const hsize_t d = n;
  Id space{H5Screate_simple(1, &d, nullptr), H5Sclose};
  Id type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type, 4);
  Id ds{H5Dcreate2(f, path.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  if (ds < 0) return false;
  std::vector<char> v(4 * n, 'x');
  return H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0;
}

bool fill_dataset(const std::string& file, const std::string& path, double value) {
  Id f = open_rw(file);
  if (f < 0) return false;
  Id ds{H5Dopen2(f, path.c_str(), H5P_DEFAULT), H5Dclose};
  if (ds < 0) return false;
  Id space{H5Dget_space(ds), H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0 || n > (1 << 24)) return false;
  std::vector<double> v(static_cast<std::size_t>(n), value);
  return H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0;
}

const char* sampled_layout_name(SampledLayout layout) {
  static const char* names[kSampledLayouts] = {"contiguous (h5py default)",
                                               "contiguous (1.10 format)",
                                               "compact",
                                               "chunked",
                                               "deflate",
                                               "shuffle+deflate",
                                               "scale-offset",
                                               "fletcher32",
                                               "virtual",
                                               "virtual (itself)",
                                               "external storage",
                                               "external link",
                                               "soft link"};
  return names[static_cast<int>(layout)];
}

bool sampled_layout_readable(SampledLayout layout) { return static_cast<int>(layout) < static_cast<int>(SampledLayout::virtual_same_file); }

bool write_sampled(const std::string& file, SampledLayout layout, const std::vector<double>& values, const std::vector<std::uint64_t>& shape,
                   const std::vector<double>& lower, const std::vector<double>& upper, const std::string& external) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  using L = SampledLayout;
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  const int rank = static_cast<int>(dims.size());
  Id fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  // h5py's default format (no checksums: version-1 B-trees index the chunks) but for one layout
  if (layout == L::contiguous_checksummed) H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
  Id space{H5Screate_simple(rank, dims.data(), nullptr), H5Sclose};
  Id dcpl{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
  std::vector<hsize_t> chunk(dims);
  for (auto& c : chunk) c = std::max<hsize_t>(1, c / 4);  // several chunks: an index with entries to damage
  bool ok = true;
  switch (layout) {
    case L::compact:
      ok = H5Pset_layout(dcpl, H5D_COMPACT) >= 0;
      break;
    case L::chunked:
      ok = H5Pset_chunk(dcpl, rank, chunk.data()) >= 0;
      break;
    case L::deflate:
      ok = H5Pset_chunk(dcpl, rank, chunk.data()) >= 0 && H5Pset_deflate(dcpl, 6) >= 0;
      break;
    case L::shuffle_deflate:
      ok = H5Pset_chunk(dcpl, rank, chunk.data()) >= 0 && H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 4) >= 0;
      break;
    case L::scale_offset:
      ok = H5Pset_chunk(dcpl, rank, chunk.data()) >= 0 && H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 12) >= 0;
      break;
    case L::fletcher32:
      ok = H5Pset_chunk(dcpl, rank, chunk.data()) >= 0 && H5Pset_fletcher32(dcpl) >= 0;
      break;
    case L::virtual_same_file:
      ok = H5Pset_virtual(dcpl, space, ".", "/source", space) >= 0;
      break;
    case L::virtual_self:
      ok = H5Pset_virtual(dcpl, space, ".", "/f", space) >= 0;
      break;
    case L::external_storage: {
      std::ofstream(external, std::ios::binary).write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 8));
      ok = H5Pset_external(dcpl, external.c_str(), 0, static_cast<hsize_t>(values.size() * 8)) >= 0;
      break;
    }
    default:
      break;
  }
  if (!ok) return false;
  if (layout == L::external_link) {  // the other file holds the dataset; "f" links to it
    std::vector<double> ext_values(values);
    if (!write_sampled(external, L::contiguous_checksummed, ext_values, shape, lower, upper, "")) return false;
  }
  Id f{H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose};
  if (f < 0) return false;
  auto put_box = [&](hid_t d) {
    const hsize_t n = lower.size();
    Id s{H5Screate_simple(1, &n, nullptr), H5Sclose};
    Id lo{H5Acreate2(d, "lower", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    Id hi{H5Acreate2(d, "upper", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    return lo >= 0 && hi >= 0 && H5Awrite(lo, H5T_NATIVE_DOUBLE, lower.data()) >= 0 && H5Awrite(hi, H5T_NATIVE_DOUBLE, upper.data()) >= 0;
  };
  if (layout == L::virtual_same_file || layout == L::soft_link) {
    Id src{H5Dcreate2(f, "source", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
    if (src < 0 || H5Dwrite(src, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0 || !put_box(src)) return false;
  }
  if (layout == L::external_link) return H5Lcreate_external(external.c_str(), "/f", f, "f", H5P_DEFAULT, H5P_DEFAULT) >= 0;
  if (layout == L::soft_link) return H5Lcreate_soft("/source", f, "f", H5P_DEFAULT, H5P_DEFAULT) >= 0;
  Id d{H5Dcreate2(f, "f", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose};
  if (d < 0 || !put_box(d)) return false;
  const bool virtual_layout = layout == L::virtual_same_file || layout == L::virtual_self;
  return virtual_layout || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0;
}

std::pair<std::uint64_t, std::uint64_t> object_header(const std::string& file, const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Id f{H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (f < 0) return {0, 0};
  H5O_info_t info;
  if (H5Oget_info_by_name2(f, path.c_str(), &info, H5O_INFO_BASIC | H5O_INFO_HDR, H5P_DEFAULT) < 0) return {0, 0};
  return {info.addr, info.hdr.space.total};
}

void set_byte(const std::string& file, std::uint64_t offset, unsigned char value) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(value);
  f.write(&c, 1);
}

void flip_byte(const std::string& file, std::uint64_t offset, unsigned char mask) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  if (!f.get(c)) return;
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(static_cast<unsigned char>(c) ^ mask));
}

void truncate(const std::string& file, std::uint64_t size) { std::filesystem::resize_file(file, size); }

std::uint64_t file_size(const std::string& file) { return std::filesystem::file_size(file); }

}  // namespace qtzflow::testing::surgery
