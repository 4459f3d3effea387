#include "io/hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/memory.hpp"
#include "core/mpi.hpp"
#include "core/version.hpp"
#if QTZFLOW_HAVE_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#ifndef H5_HAVE_PARALLEL
#error "qtzflow with MPI writes its output with parallel HDF5: build io against libhdf5-openmpi-dev"
#endif
#endif

namespace qtzflow::io {

namespace {
std::recursive_mutex*& hdf5_mutex() {
  static auto* m = new std::recursive_mutex;  // replaced, never destroyed (see after_fork_in_child)
  return m;
}
}  // namespace

void after_fork_in_child() { hdf5_mutex() = new std::recursive_mutex; }

std::unique_lock<std::recursive_mutex> lock_hdf5() {
  // The first call, before any other call into libhdf5: errors become exceptions instead of
  // printed stacks, no filter plugin is ever loaded, and libhdf5 registers no exit handler.  Its handler closes the files still
  // open at exit, and a file whose close failed (a full disk) crashes it (libhdf5 1.10,
  // H5F__close_cb); qtzflow closes every file it writes itself, checked.
  static const bool initialised = [] {
    H5dont_atexit();
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    H5PLset_loading_state(0);  // no filter plugins: a file cannot make qtzflow load a library
    return true;
  }();
  (void)initialised;
  return std::unique_lock<std::recursive_mutex>(*hdf5_mutex());
}

namespace {

/// The innermost description on HDF5's error stack, and whether it is the operating system's
/// refusal of a read or a write (the file driver's failed system call); then clears the stack.
struct Reason {
  std::string text;
  bool io = false;
};
Reason hdf5_reason() {
  Reason r;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        auto* reason = static_cast<Reason*>(data);
        if (n != 0) return 0;
        if (e->desc != nullptr) reason->text = e->desc;
        // the file driver's own failure of a system call: its description carries the errno
        // (a checksum error higher up the stack, "after all read attempts", is the file's fault)
        reason->io = (e->maj_num == H5E_IO || e->maj_num == H5E_VFL) && reason->text.find("errno = ") != std::string::npos;
        return 0;
      },
      &r);
  H5Eclear2(H5E_DEFAULT);
  std::string& msg = r.text;
  if (msg.empty()) {
    msg = "unknown HDF5 error";
    return r;
  }
  // The file drivers' descriptions run over several lines (time, buffer address, sizes); the
  // system's message is what a user acts on: "file write failed: No space left on device".
  const std::string tag = "error message = '";
  if (const auto at = msg.find(tag); at != std::string::npos) {
    const auto end = msg.find('\'', at + tag.size());
    const auto colon = msg.find(':');
    msg =
        msg.substr(0, std::min(colon, at)) + ": " + msg.substr(at + tag.size(), end == std::string::npos ? std::string::npos : end - at - tag.size());
    return r;
  }
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return r;
}

[[noreturn]] void fail(const std::string& what, const std::string& where) {
  const Reason r = hdf5_reason();
  const std::string msg = "HDF5: " + what + " " + where + ": " + r.text;
  if (r.io) throw Hdf5IoError(msg);
  throw Hdf5Error(msg);
}

hid_t checked_id(hid_t id, const std::string& what, const std::string& where) {
  if (id < 0) fail(what, where);
  return id;
}

Handle make(hid_t id, Handle::Kind kind, const std::string& what, const std::string& where) { return Handle(checked_id(id, what, where), kind); }

/// Fixed-length, NUL-terminated UTF-8 strings of `size` bytes (the NUL included).  Not
/// variable-length: those live in HDF5's global heap, which has no checksum, and a damaged
/// global heap crashes libhdf5 1.10 inside H5Aread.
Handle string_type(std::size_t size) {
  Handle t(H5Tcopy(H5T_C_S1), Handle::Kind::datatype);
  H5Tset_size(static_cast<hid_t>(t.get()), std::max<std::size_t>(size, 1));
  H5Tset_strpad(static_cast<hid_t>(t.get()), H5T_STR_NULLTERM);
  H5Tset_cset(static_cast<hid_t>(t.get()), H5T_CSET_UTF8);
  return t;
}

/// What a reader accepts before it allocates: no attribute or dataset read by qtzflow is larger.
constexpr double kMaxAttributeBytes = 64.0 * 1024 * 1024;

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ENUM:
      return "enum";
    default:
      return "other";
  }
}

/// The shape of a dataspace, refusing anything but a simple or scalar one.
std::vector<hsize_t> extent_of(hid_t space, const std::string& where) {
  const H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls == H5S_SCALAR) return {};
  if (cls != H5S_SIMPLE) throw Hdf5Error("HDF5: " + where + ": a null or unknown dataspace, expected values");
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || rank > 32) throw Hdf5Error("HDF5: " + where + ": a dataspace of rank " + std::to_string(rank));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) fail("get extent", where);
  return dims;
}

/// Number of values of a shape, computed in double so that a damaged extent cannot wrap.
double count_of(const std::vector<hsize_t>& dims) {
  double n = 1;
  for (auto d : dims) n *= static_cast<double>(d);
  return n;
}

/// A creation property list (group, dataset or file) that keeps links and attributes in the
/// object header, up to 65535 of each (HDF5's most).  The header is checksummed; past 8 links
/// or attributes libhdf5's default moves them into a fractal heap whose blocks carry no
/// checksum, and one flipped bit there crashes libhdf5 when the group is listed.
Handle compact_plist(hid_t cls, const std::string& where) {
  constexpr unsigned kMostCompact = 65535;
  Handle p = make(H5Pcreate(cls), Handle::Kind::plist, "create property list", where);
  if (cls != H5P_DATASET_CREATE && H5Pset_link_phase_change(static_cast<hid_t>(p.get()), kMostCompact, 0) < 0)
    fail("keep links in the object header", where);
  if (H5Pset_attr_phase_change(static_cast<hid_t>(p.get()), kMostCompact, 0) < 0) fail("keep attributes in the object header", where);
  return p;
}

Handle simple_space(const std::vector<std::size_t>& shape, const std::string& where) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return make(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), Handle::Kind::dataspace, "create dataspace", where);
}

}  // namespace

// ---- Handle -----------------------------------------------------------------------------------
Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    close();
    id_ = o.id_;
    kind_ = o.kind_;
    o.id_ = -1;
  }
  return *this;
}

Handle::~Handle() { close(); }

void Handle::close() {
  const auto guard = lock_hdf5();
  if (id_ < 0) return;
  const hid_t id = static_cast<hid_t>(id_);
  switch (kind_) {
    case Kind::file:
      H5Fclose(id);
      break;
    case Kind::group:
      H5Gclose(id);
      break;
    case Kind::dataset:
      H5Dclose(id);
      break;
    case Kind::dataspace:
      H5Sclose(id);
      break;
    case Kind::attribute:
      H5Aclose(id);
      break;
    case Kind::datatype:
      H5Tclose(id);
      break;
    case Kind::plist:
      H5Pclose(id);
      break;
  }
  id_ = -1;
}

// ---- Object: attributes -------------------------------------------------------------------------
std::string Object::child_path(const std::string& name) const { return path_ == "/" ? "/" + name : path_ + "/" + name; }

void Object::check(long long status, const char* what, const std::string& name) const {
  const auto guard = lock_hdf5();
  if (status < 0) fail(what, file_ + ":" + (name.empty() ? path_ : child_path(name)));
}

void Object::replace_attribute(const std::string& name, hid type, hid space, const void* buf) const {
  const auto guard = lock_hdf5();
  const hid_t loc = static_cast<hid_t>(h_.get());
  const htri_t exists = H5Aexists(loc, name.c_str());
  check(exists, "check attribute", name);
  if (exists > 0) check(H5Adelete(loc, name.c_str()), "delete attribute", name);
  Handle a = make(H5Acreate2(loc, name.c_str(), static_cast<hid_t>(type), static_cast<hid_t>(space), H5P_DEFAULT, H5P_DEFAULT),
                  Handle::Kind::attribute, "create attribute", file_ + ":" + child_path(name));
  check(H5Awrite(static_cast<hid_t>(a.get()), static_cast<hid_t>(type), buf), "write attribute", name);
}

void Object::write_attribute(const std::string& name, double v) const {
  const auto guard = lock_hdf5();
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  replace_attribute(name, H5T_NATIVE_DOUBLE, s.get(), &v);
}

void Object::write_attribute(const std::string& name, std::int64_t v) const {
  const auto guard = lock_hdf5();
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  replace_attribute(name, H5T_NATIVE_INT64, s.get(), &v);
}

void Object::write_attribute(const std::string& name, std::uint64_t v) const {
  const auto guard = lock_hdf5();
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  replace_attribute(name, H5T_NATIVE_UINT64, s.get(), &v);
}

void Object::write_attribute(const std::string& name, const std::string& v) const {
  const auto guard = lock_hdf5();
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  Handle t = string_type(v.size() + 1);
  replace_attribute(name, t.get(), s.get(), v.c_str());
}

void Object::write_attribute(const std::string& name, std::span<const double> v) const {
  const auto guard = lock_hdf5();
  Handle s = simple_space({v.size()}, file_);
  replace_attribute(name, H5T_NATIVE_DOUBLE, s.get(), v.data());
}

void Object::write_attribute(const std::string& name, const std::vector<std::string>& v) const {
  const auto guard = lock_hdf5();
  Handle s = simple_space({v.size()}, file_);
  std::size_t width = 1;
  for (const auto& x : v) width = std::max(width, x.size() + 1);
  Handle t = string_type(width);
  std::vector<char> packed(width * v.size(), '\0');
  for (std::size_t i = 0; i < v.size(); ++i) std::copy(v[i].begin(), v[i].end(), packed.begin() + static_cast<std::ptrdiff_t>(i * width));
  replace_attribute(name, t.get(), s.get(), packed.data());
}

bool Object::has_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  const htri_t e = H5Aexists(static_cast<hid_t>(h_.get()), name.c_str());
  check(e, "check attribute", name);
  return e > 0;
}

Handle Object::open_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  return make(H5Aopen(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::attribute, "open attribute",
              file_ + ":" + child_path(name));
}

Object::AttributeInfo Object::attribute_info(const Handle& a, const std::string& name) const {
  const auto guard = lock_hdf5();
  const std::string where = file_ + ":" + child_path(name);
  Handle space = make(H5Aget_space(static_cast<hid_t>(a.get())), Handle::Kind::dataspace, "get dataspace", where);
  Handle type = make(H5Aget_type(static_cast<hid_t>(a.get())), Handle::Kind::datatype, "get type", where);
  AttributeInfo info;
  info.dims = extent_of(static_cast<hid_t>(space.get()), "attribute " + where);
  info.count = count_of(info.dims);
  info.type_class = static_cast<int>(H5Tget_class(static_cast<hid_t>(type.get())));
  info.type_size = H5Tget_size(static_cast<hid_t>(type.get()));
  info.variable_string = info.type_class == H5T_STRING && H5Tis_variable_str(static_cast<hid_t>(type.get())) > 0;
  if (info.type_size == 0 || info.count * static_cast<double>(info.type_size) > kMaxAttributeBytes)
    throw Hdf5Error("HDF5: attribute " + where + ": " + core::format_value(info.count) + " values of " + std::to_string(info.type_size) +
                    " bytes, more than a qtzflow attribute holds");
  return info;
}

void Object::require_attribute(const AttributeInfo& info, const std::string& name, Accept accept, double count, const char* expected) const {
  const auto guard = lock_hdf5();
  const bool class_ok = accept == Accept::number    ? (info.type_class == H5T_FLOAT || info.type_class == H5T_INTEGER)
                        : accept == Accept::integer ? info.type_class == H5T_INTEGER
                                                    : info.type_class == H5T_STRING;
  const bool count_ok = count < 0 || info.count == count;
  if (!class_ok || !count_ok || info.variable_string || info.dims.size() > 1)
    throw Hdf5Error("HDF5: attribute " + file_ + ":" + child_path(name) + " holds " + core::format_value(info.count) + " " +
                    (info.variable_string ? "variable-length string" : class_name(static_cast<H5T_class_t>(info.type_class))) + " value(s) in " +
                    std::to_string(info.dims.size()) + " dimension(s); expected " + expected);
}

double Object::read_double_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  Handle a = open_attribute(name);
  require_attribute(attribute_info(a, name), name, Accept::number, 1, "one number");
  double v = 0;
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_DOUBLE, &v), "read attribute", name);
  return v;
}

std::int64_t Object::read_int_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  Handle a = open_attribute(name);
  require_attribute(attribute_info(a, name), name, Accept::integer, 1, "one integer");
  std::int64_t v = 0;
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_INT64, &v), "read attribute", name);
  return v;
}

std::vector<double> Object::read_doubles_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  Handle a = open_attribute(name);
  const AttributeInfo info = attribute_info(a, name);
  require_attribute(info, name, Accept::number, -1, "a 1D array of numbers");
  std::vector<double> v(static_cast<std::size_t>(info.count));
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_DOUBLE, v.data()), "read attribute", name);
  return v;
}

std::vector<std::string> Object::read_strings_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  Handle a = open_attribute(name);
  const AttributeInfo info = attribute_info(a, name);
  require_attribute(info, name, Accept::string, -1, "fixed-length strings");
  const std::size_t n = static_cast<std::size_t>(info.count), width = info.type_size;
  // read as NUL-padded strings one byte wider, so that every string ends in a NUL
  Handle t = string_type(width + 1);
  std::vector<char> buf(n * (width + 1), '\0');
  check(H5Aread(static_cast<hid_t>(a.get()), static_cast<hid_t>(t.get()), buf.data()), "read attribute", name);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(buf.data() + i * (width + 1));
  return out;
}

std::string Object::read_string_attribute(const std::string& name) const {
  const auto guard = lock_hdf5();
  Handle a = open_attribute(name);
  require_attribute(attribute_info(a, name), name, Accept::string, 1, "one fixed-length string");
  a.close();
  return read_strings_attribute(name).front();
}

// ---- Dataset ------------------------------------------------------------------------------------
std::vector<std::size_t> Dataset::shape() const {
  const auto guard = lock_hdf5();
  Handle s = make(H5Dget_space(static_cast<hid_t>(h_.get())), Handle::Kind::dataspace, "get dataspace", file_ + ":" + path_);
  const auto dims = extent_of(static_cast<hid_t>(s.get()), "dataset " + file_ + ":" + path_);
  return {dims.begin(), dims.end()};
}

std::size_t Dataset::checked_count(bool integer_only, double count) const {
  const auto guard = lock_hdf5();
  const std::string where = file_ + ":" + path_;
  Handle type = make(H5Dget_type(static_cast<hid_t>(h_.get())), Handle::Kind::datatype, "get type", where);
  const H5T_class_t cls = H5Tget_class(static_cast<hid_t>(type.get()));
  if (!(cls == H5T_INTEGER || (!integer_only && cls == H5T_FLOAT)))
    throw Hdf5Error(std::string("HDF5: dataset ") + where + " holds " + class_name(cls) + " values; expected " +
                    (integer_only ? "integers" : "numbers"));
  std::vector<hsize_t> dims;
  for (auto d : shape()) dims.push_back(d);
  const double n = count >= 0 ? count : count_of(dims);
  const double limit = core::memory_limit_bytes();
  if (limit > 0 && n * 8 > limit)
    throw Hdf5Error("HDF5: dataset " + where + ": " + core::format_value(n) + " values need " + core::format_bytes(n * 8) + ", more than the " +
                    core::format_bytes(limit) + " this process may use");
  return static_cast<std::size_t>(n);
}

void Dataset::read_raw(void* buf, hid mem_type) const {
  const auto guard = lock_hdf5();
  check(H5Dread(static_cast<hid_t>(h_.get()), static_cast<hid_t>(mem_type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), "read dataset");
}

Dataset::Storage Dataset::storage() const {
  const auto guard = lock_hdf5();
  const std::string where = file_ + ":" + path_;
  Handle dcpl = make(H5Dget_create_plist(static_cast<hid_t>(h_.get())), Handle::Kind::plist, "get creation properties", where);
  const hid_t p = static_cast<hid_t>(dcpl.get());
  Storage s;
  switch (H5Pget_layout(p)) {
    case H5D_COMPACT:
      s.layout = Storage::Layout::compact;
      break;
    case H5D_CONTIGUOUS:
      s.layout = Storage::Layout::contiguous;
      break;
    case H5D_CHUNKED:
      s.layout = Storage::Layout::chunked;
      break;
    case H5D_VIRTUAL:
      s.layout = Storage::Layout::virtual_dataset;
      break;
    default:
      s.layout = Storage::Layout::other;
  }
  s.external_files = H5Pget_external_count(p);
  s.filters = H5Pget_nfilters(p);
  if (s.external_files < 0 || s.filters < 0) fail("get storage properties", where);
  return s;
}

std::vector<double> Dataset::read_doubles() const {
  const auto guard = lock_hdf5();
  std::vector<double> v(checked_count(false));
  read_raw(v.data(), H5T_NATIVE_DOUBLE);
  return v;
}

std::pair<Handle, Handle> Dataset::row_spaces(std::size_t first_row, std::size_t rows, std::size_t row) const {
  const auto guard = lock_hdf5();
  const auto dims = shape();
  Handle fs = make(H5Dget_space(static_cast<hid_t>(h_.get())), Handle::Kind::dataspace, "get dataspace", file_ + ":" + path_);
  std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
  start[0] = first_row;
  count[0] = rows;
  const hsize_t flat = rows * row;
  Handle ms = make(H5Screate_simple(1, &flat, nullptr), Handle::Kind::dataspace, "create dataspace", file_ + ":" + path_);
  if (rows == 0) {  // a rank without rows still takes part in a collective transfer
    check(H5Sselect_none(static_cast<hid_t>(fs.get())), "select");
    check(H5Sselect_none(static_cast<hid_t>(ms.get())), "select");
  } else {
    check(H5Sselect_hyperslab(static_cast<hid_t>(fs.get()), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "select");
  }
  return {std::move(fs), std::move(ms)};
}

std::vector<double> Dataset::read_rows(std::size_t first_row, std::size_t rows) const {
  const auto guard = lock_hdf5();
  const auto dims = shape();
  if (dims.empty() || first_row + rows > dims[0])
    throw Hdf5Error("HDF5: read rows " + std::to_string(first_row) + ".." + std::to_string(first_row + rows) + " of " + file_ + ":" + path_ + " (" +
                    (dims.empty() ? std::string("a scalar") : std::to_string(dims[0]) + " rows") + ")");
  std::size_t row = 1;
  for (std::size_t a = 1; a < dims.size(); ++a) row *= dims[a];
  std::vector<double> v(checked_count(false, static_cast<double>(rows) * static_cast<double>(row)));
  const auto [fs, ms] = row_spaces(first_row, rows, row);
  check(H5Dread(static_cast<hid_t>(h_.get()), H5T_NATIVE_DOUBLE, static_cast<hid_t>(ms.get()), static_cast<hid_t>(fs.get()), H5P_DEFAULT, v.data()),
        "read dataset rows");
  return v;
}

std::vector<std::int64_t> Dataset::read_int64() const {
  const auto guard = lock_hdf5();
  std::vector<std::int64_t> v(checked_count(true));
  read_raw(v.data(), H5T_NATIVE_INT64);
  return v;
}

void Dataset::append_raw(const void* buf, std::size_t n, hid mem_type) const {
  const auto guard = lock_hdf5();
  const auto old = shape();
  if (old.size() != 1) fail("append to a dataset that is not 1D", file_ + ":" + path_);
  const hsize_t start = old[0], count = n, total = old[0] + n;
  const hid_t ds = static_cast<hid_t>(h_.get());
  check(H5Dset_extent(ds, &total), "extend dataset");
  Handle fs = make(H5Dget_space(ds), Handle::Kind::dataspace, "get dataspace", file_ + ":" + path_);
  check(H5Sselect_hyperslab(static_cast<hid_t>(fs.get()), H5S_SELECT_SET, &start, nullptr, &count, nullptr), "select");
  Handle ms = make(H5Screate_simple(1, &count, nullptr), Handle::Kind::dataspace, "create dataspace", file_ + ":" + path_);
  check(H5Dwrite(ds, static_cast<hid_t>(mem_type), static_cast<hid_t>(ms.get()), static_cast<hid_t>(fs.get()), H5P_DEFAULT, buf),
        "append to dataset");
}

void Dataset::write_rows(std::size_t first_row, std::span<const double> values) const {
  const auto guard = lock_hdf5();
  write_rows_raw(first_row, values.data(), values.size(), H5T_NATIVE_DOUBLE);
}
void Dataset::write_rows(std::size_t first_row, std::span<const std::int32_t> values) const {
  const auto guard = lock_hdf5();
  write_rows_raw(first_row, values.data(), values.size(), H5T_NATIVE_INT32);
}

void Dataset::write_rows_raw(std::size_t first_row, const void* values, std::size_t n, hid mem_type) const {
  const auto guard = lock_hdf5();
  const hid_t ds = static_cast<hid_t>(h_.get());
  const auto dims = shape();
  if (dims.empty()) fail("write rows of a scalar dataset", file_ + ":" + path_);
  std::size_t row = 1;
  for (std::size_t a = 1; a < dims.size(); ++a) row *= dims[a];
  const std::size_t rows = row == 0 ? 0 : n / row;
  if (rows * row != n || first_row + rows > dims[0])
    throw Hdf5Error("HDF5: write rows " + std::to_string(first_row) + " + " + std::to_string(n) + " values into " + file_ + ":" + path_ + " of " +
                    std::to_string(dims[0]) + " rows of " + std::to_string(row) + " values");
  const auto [fs, ms] = row_spaces(first_row, rows, row);
  Handle dxpl = make(H5Pcreate(H5P_DATASET_XFER), Handle::Kind::plist, "create property list", file_);
#if QTZFLOW_HAVE_MPI
  // a file opened by all ranks: one collective MPI-IO transfer (MPI-IO may aggregate the ranks'
  // rows into fewer, larger writes on a parallel file system)
  const Handle file = make(H5Iget_file_id(ds), Handle::Kind::file, "get file", file_);  // a reference, closed with it
  const Handle fapl = make(H5Fget_access_plist(static_cast<hid_t>(file.get())), Handle::Kind::plist, "get file access", file_);
  if (H5Pget_driver(static_cast<hid_t>(fapl.get())) == H5FD_MPIO)
    check(H5Pset_dxpl_mpio(static_cast<hid_t>(dxpl.get()), H5FD_MPIO_COLLECTIVE), "set collective transfer");
#endif
  check(
      H5Dwrite(ds, static_cast<hid_t>(mem_type), static_cast<hid_t>(ms.get()), static_cast<hid_t>(fs.get()), static_cast<hid_t>(dxpl.get()), values),
      "write dataset rows");
}

void Dataset::append(std::span<const double> values) const { append_raw(values.data(), values.size(), H5T_NATIVE_DOUBLE); }
void Dataset::append(std::span<const std::int64_t> values) const { append_raw(values.data(), values.size(), H5T_NATIVE_INT64); }

// ---- Group --------------------------------------------------------------------------------------
void Group::make_parents(const std::string& name) const {
  const auto guard = lock_hdf5();
  for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    const std::string prefix = name.substr(0, slash);
    const htri_t e = H5Lexists(static_cast<hid_t>(h_.get()), prefix.c_str(), H5P_DEFAULT);
    check(e, "check link", prefix);
    if (e == 0) {
      Handle gcpl = compact_plist(H5P_GROUP_CREATE, file_);
      Handle g = make(H5Gcreate2(static_cast<hid_t>(h_.get()), prefix.c_str(), H5P_DEFAULT, static_cast<hid_t>(gcpl.get()), H5P_DEFAULT),
                      Handle::Kind::group, "create group", file_ + ":" + child_path(prefix));
    }
  }
}

Group Group::create_group(const std::string& name) const {
  const auto guard = lock_hdf5();
  make_parents(name);
  Handle gcpl = compact_plist(H5P_GROUP_CREATE, file_);
  return Group(make(H5Gcreate2(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT, static_cast<hid_t>(gcpl.get()), H5P_DEFAULT),
                    Handle::Kind::group, "create group", file_ + ":" + child_path(name)),
               child_path(name), file_);
}

Group Group::open_group(const std::string& name) const {
  const auto guard = lock_hdf5();
  return Group(
      make(H5Gopen2(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::group, "open group", file_ + ":" + child_path(name)),
      child_path(name), file_);
}

bool Group::exists(const std::string& name) const {
  const auto guard = lock_hdf5();
  // Check each component: H5Lexists fails (rather than answering no) for a missing parent.
  std::string prefix;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = name.find('/', start);
    prefix = name.substr(0, slash);
    const htri_t e = H5Lexists(static_cast<hid_t>(h_.get()), prefix.c_str(), H5P_DEFAULT);
    check(e, "check link", prefix);
    if (e <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

std::vector<std::string> Group::children() const {
  const auto guard = lock_hdf5();
  std::vector<std::string> names;
  check(H5Literate(
            static_cast<hid_t>(h_.get()), H5_INDEX_NAME, H5_ITER_INC, nullptr,
            [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
              static_cast<std::vector<std::string>*>(data)->emplace_back(name);
              return 0;
            },
            &names),
        "list group");
  return names;
}

bool Group::is_external_link(const std::string& name) const {
  const auto guard = lock_hdf5();
  H5L_info_t info;
  check(H5Lget_info(static_cast<hid_t>(h_.get()), name.c_str(), &info, H5P_DEFAULT), "get link info", name);
  return info.type == H5L_TYPE_EXTERNAL;
}

Group::LinkKind Group::link_kind(const std::string& name) const {
  const auto guard = lock_hdf5();
  H5L_info_t info;
  check(H5Lget_info(static_cast<hid_t>(h_.get()), name.c_str(), &info, H5P_DEFAULT), "get link info", name);
  switch (info.type) {
    case H5L_TYPE_HARD:
      return LinkKind::hard;
    case H5L_TYPE_SOFT:
      return LinkKind::soft;
    case H5L_TYPE_EXTERNAL:
      return LinkKind::external;
    default:
      return LinkKind::other;
  }
}

bool Group::is_group(const std::string& name) const {
  const auto guard = lock_hdf5();
  H5O_info_t info;
  check(H5Oget_info_by_name2(static_cast<hid_t>(h_.get()), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), "get object info", name);
  return info.type == H5O_TYPE_GROUP;
}

Dataset Group::write_raw(const std::string& name, const void* values, std::size_t count, const std::vector<std::size_t>& shape, hid file_type,
                         hid mem_type) const {
  const auto guard = lock_hdf5();
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  if (n != count) fail("write dataset: " + std::to_string(count) + " values for a shape of " + std::to_string(n), file_ + ":" + child_path(name));
  Handle space = simple_space(shape, file_ + ":" + child_path(name));
  make_parents(name);
  Handle dcpl = compact_plist(H5P_DATASET_CREATE, file_);
  Handle ds = make(H5Dcreate2(static_cast<hid_t>(h_.get()), name.c_str(), static_cast<hid_t>(file_type), static_cast<hid_t>(space.get()), H5P_DEFAULT,
                              static_cast<hid_t>(dcpl.get()), H5P_DEFAULT),
                   Handle::Kind::dataset, "create dataset", file_ + ":" + child_path(name));
  check(H5Dwrite(static_cast<hid_t>(ds.get()), static_cast<hid_t>(mem_type), H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "write dataset", name);
  return Dataset(std::move(ds), child_path(name), file_);
}

Dataset Group::write_dataset(const std::string& name, std::span<const double> values, const std::vector<std::size_t>& shape) const {
  const auto guard = lock_hdf5();
  return write_raw(name, values.data(), values.size(), shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}
Dataset Group::write_dataset(const std::string& name, std::span<const std::int32_t> values, const std::vector<std::size_t>& shape) const {
  const auto guard = lock_hdf5();
  return write_raw(name, values.data(), values.size(), shape, H5T_STD_I32LE, H5T_NATIVE_INT32);
}
Dataset Group::write_dataset(const std::string& name, std::span<const std::int64_t> values, const std::vector<std::size_t>& shape) const {
  const auto guard = lock_hdf5();
  return write_raw(name, values.data(), values.size(), shape, H5T_STD_I64LE, H5T_NATIVE_INT64);
}

Dataset Group::create_dataset(const std::string& name, const std::vector<std::size_t>& shape, Element element) const {
  const auto guard = lock_hdf5();
  Handle space = simple_space(shape, file_ + ":" + child_path(name));
  make_parents(name);
  // allocated at once and never pre-filled: the rows are written once each, so a fill would
  // write the dataset twice (parallel HDF5 allocates early in any case)
  Handle dcpl = compact_plist(H5P_DATASET_CREATE, file_);
  check(H5Pset_alloc_time(static_cast<hid_t>(dcpl.get()), H5D_ALLOC_TIME_EARLY), "set allocation time", name);
  check(H5Pset_fill_time(static_cast<hid_t>(dcpl.get()), H5D_FILL_TIME_NEVER), "set fill time", name);
  const hid_t type = element == Element::int32 ? H5T_STD_I32LE : H5T_IEEE_F64LE;
  return Dataset(make(H5Dcreate2(static_cast<hid_t>(h_.get()), name.c_str(), type, static_cast<hid_t>(space.get()), H5P_DEFAULT,
                                 static_cast<hid_t>(dcpl.get()), H5P_DEFAULT),
                      Handle::Kind::dataset, "create dataset", file_ + ":" + child_path(name)),
                 child_path(name), file_);
}

Dataset Group::create_series(const std::string& name, bool integer) const {
  const auto guard = lock_hdf5();
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 256;
  Handle space = make(H5Screate_simple(1, &zero, &unlimited), Handle::Kind::dataspace, "create dataspace", file_);
  Handle dcpl = compact_plist(H5P_DATASET_CREATE, file_);
  check(H5Pset_chunk(static_cast<hid_t>(dcpl.get()), 1, &chunk), "set chunk", name);
  make_parents(name);
  Handle ds = make(H5Dcreate2(static_cast<hid_t>(h_.get()), name.c_str(), integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, static_cast<hid_t>(space.get()),
                              H5P_DEFAULT, static_cast<hid_t>(dcpl.get()), H5P_DEFAULT),
                   Handle::Kind::dataset, "create dataset", file_ + ":" + child_path(name));
  return Dataset(std::move(ds), child_path(name), file_);
}

Dataset Group::open_dataset(const std::string& name) const {
  const auto guard = lock_hdf5();
  return Dataset(
      make(H5Dopen2(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::dataset, "open dataset", file_ + ":" + child_path(name)),
      child_path(name), file_);
}

void Group::link_external(const std::string& name, const std::string& target_file, const std::string& target_object) const {
  const auto guard = lock_hdf5();
  make_parents(name);
  check(H5Lcreate_external(target_file.c_str(), target_object.c_str(), static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
        "create external link", name);
}

namespace {

/// The names of the links of a group or the attributes of an object, in name order.
std::vector<std::string> names_of(hid_t loc, bool attributes, const std::string& where) {
  std::vector<std::string> names;
  const herr_t status = attributes ? H5Aiterate2(
                                         loc, H5_INDEX_NAME, H5_ITER_INC, nullptr,
                                         [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
                                           static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                                           return 0;
                                         },
                                         &names)
                                   : H5Literate(
                                         loc, H5_INDEX_NAME, H5_ITER_INC, nullptr,
                                         [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
                                           static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                                           return 0;
                                         },
                                         &names);
  if (status < 0) fail(attributes ? "list attributes" : "list group", where);
  return names;
}

/// A type qtzflow writes and copies: numbers and fixed-length strings.
void require_plain_type(hid_t type, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const bool plain = cls == H5T_INTEGER || cls == H5T_FLOAT || (cls == H5T_STRING && H5Tis_variable_str(type) == 0);
  if (!plain) throw Hdf5Error("HDF5: copy " + where + ": " + class_name(cls) + " values, which qtzflow does not write");
}

void copy_attributes(hid_t from, hid_t to, const std::string& where) {
  for (const auto& name : names_of(from, true, where)) {
    const std::string at = where + " attribute " + name;
    Handle a = make(H5Aopen(from, name.c_str(), H5P_DEFAULT), Handle::Kind::attribute, "open attribute", at);
    Handle type = make(H5Aget_type(static_cast<hid_t>(a.get())), Handle::Kind::datatype, "get type", at);
    Handle space = make(H5Aget_space(static_cast<hid_t>(a.get())), Handle::Kind::dataspace, "get dataspace", at);
    require_plain_type(static_cast<hid_t>(type.get()), at);
    const double bytes = count_of(extent_of(static_cast<hid_t>(space.get()), at)) * static_cast<double>(H5Tget_size(static_cast<hid_t>(type.get())));
    if (!(bytes > 0 && bytes <= kMaxAttributeBytes))
      throw Hdf5Error("HDF5: copy " + at + ": " + core::format_bytes(bytes) + ", more than an attribute holds");
    std::vector<unsigned char> buf(static_cast<std::size_t>(bytes));
    if (H5Aread(static_cast<hid_t>(a.get()), static_cast<hid_t>(type.get()), buf.data()) < 0) fail("read attribute", at);
    Handle b = make(H5Acreate2(to, name.c_str(), static_cast<hid_t>(type.get()), static_cast<hid_t>(space.get()), H5P_DEFAULT, H5P_DEFAULT),
                    Handle::Kind::attribute, "create attribute", at);
    if (H5Awrite(static_cast<hid_t>(b.get()), static_cast<hid_t>(type.get()), buf.data()) < 0) fail("write attribute", at);
  }
}

/// Copies dataset `name` of `from` into `to` in blocks of rows of at most 64 MiB, in the file's
/// own element type (no conversion).
void copy_dataset(hid_t from, const std::string& from_name, hid_t to, const std::string& name, const std::string& where) {
  Handle src = make(H5Dopen2(from, from_name.c_str(), H5P_DEFAULT), Handle::Kind::dataset, "open dataset", where);
  Handle type = make(H5Dget_type(static_cast<hid_t>(src.get())), Handle::Kind::datatype, "get type", where);
  Handle space = make(H5Dget_space(static_cast<hid_t>(src.get())), Handle::Kind::dataspace, "get dataspace", where);
  require_plain_type(static_cast<hid_t>(type.get()), where);
  const auto dims = extent_of(static_cast<hid_t>(space.get()), where);
  // every value of a qtzflow dataset is written: one that declares more values than its file
  // stores is damaged (and would be copied as a flood of fill values)
  const double declared = count_of(dims) * static_cast<double>(H5Tget_size(static_cast<hid_t>(type.get())));
  const double stored = static_cast<double>(H5Dget_storage_size(static_cast<hid_t>(src.get())));
  if (declared > stored)
    throw Hdf5Error("HDF5: copy " + where + ": declares " + core::format_bytes(declared) + " of values but stores " + core::format_bytes(stored) +
                    " (damaged)");
  Handle dcpl = compact_plist(H5P_DATASET_CREATE, where);
  Handle dst = make(H5Dcreate2(to, name.c_str(), static_cast<hid_t>(type.get()), static_cast<hid_t>(space.get()), H5P_DEFAULT,
                               static_cast<hid_t>(dcpl.get()), H5P_DEFAULT),
                    Handle::Kind::dataset, "create dataset", where);
  const std::size_t element = H5Tget_size(static_cast<hid_t>(type.get()));
  if (dims.empty()) {  // a scalar
    std::vector<unsigned char> buf(element);
    if (H5Dread(static_cast<hid_t>(src.get()), static_cast<hid_t>(type.get()), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0 ||
        H5Dwrite(static_cast<hid_t>(dst.get()), static_cast<hid_t>(type.get()), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
      fail("copy dataset", where);
  } else {
    double row = 1;
    for (std::size_t a = 1; a < dims.size(); ++a) row *= static_cast<double>(dims[a]);
    const double row_bytes = row * static_cast<double>(element);
    const hsize_t block = static_cast<hsize_t>(std::max(1.0, std::floor(64.0 * 1024 * 1024 / std::max(row_bytes, 1.0))));
    std::vector<unsigned char> buf;
    for (hsize_t first = 0; first < dims[0]; first += block) {
      std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
      start[0] = first;
      count[0] = std::min<hsize_t>(block, dims[0] - first);
      const hsize_t flat = static_cast<hsize_t>(static_cast<double>(count[0]) * row);
      buf.resize(static_cast<std::size_t>(flat) * element);
      Handle fs = make(H5Scopy(static_cast<hid_t>(space.get())), Handle::Kind::dataspace, "copy dataspace", where);
      Handle ms = make(H5Screate_simple(1, &flat, nullptr), Handle::Kind::dataspace, "create dataspace", where);
      if (H5Sselect_hyperslab(static_cast<hid_t>(fs.get()), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0) fail("select", where);
      if (H5Dread(static_cast<hid_t>(src.get()), static_cast<hid_t>(type.get()), static_cast<hid_t>(ms.get()), static_cast<hid_t>(fs.get()),
                  H5P_DEFAULT, buf.data()) < 0)
        fail("read dataset", where);
      if (H5Dwrite(static_cast<hid_t>(dst.get()), static_cast<hid_t>(type.get()), static_cast<hid_t>(ms.get()), static_cast<hid_t>(fs.get()),
                   H5P_DEFAULT, buf.data()) < 0)
        fail("write dataset", where);
    }
  }
  copy_attributes(static_cast<hid_t>(src.get()), static_cast<hid_t>(dst.get()), where);
}

void copy_group(hid_t from, const std::string& from_name, hid_t to, const std::string& name, const std::string& where) {
  Handle src = make(H5Gopen2(from, from_name.c_str(), H5P_DEFAULT), Handle::Kind::group, "open group", where);
  Handle gcpl = compact_plist(H5P_GROUP_CREATE, where);
  Handle dst =
      make(H5Gcreate2(to, name.c_str(), H5P_DEFAULT, static_cast<hid_t>(gcpl.get()), H5P_DEFAULT), Handle::Kind::group, "create group", where);
  copy_attributes(static_cast<hid_t>(src.get()), static_cast<hid_t>(dst.get()), where);
  for (const auto& child : names_of(static_cast<hid_t>(src.get()), false, where)) {
    H5O_info_t info;
    if (H5Oget_info_by_name2(static_cast<hid_t>(src.get()), child.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
      fail("get object info", where + "/" + child);
    if (info.type == H5O_TYPE_GROUP)
      copy_group(static_cast<hid_t>(src.get()), child, static_cast<hid_t>(dst.get()), child, where + "/" + child);
    else if (info.type == H5O_TYPE_DATASET)
      copy_dataset(static_cast<hid_t>(src.get()), child, static_cast<hid_t>(dst.get()), child, where + "/" + child);
    else
      throw Hdf5Error("HDF5: copy " + where + "/" + child + ": neither a group nor a dataset");
  }
}

}  // namespace

void Group::copy_from(const Group& source, const std::string& source_object, const std::string& name) const {
  const auto guard = lock_hdf5();
  make_parents(name);
  const std::string where = source.file() + ":" + source_object;
  H5O_info_t info;
  if (H5Oget_info_by_name2(static_cast<hid_t>(source.id()), source_object.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    fail("get object info", where);
  // Not H5Ocopy: its error path (a full disk, say) crashes libhdf5 1.10 (H5T_close_real).
  const hid_t from = static_cast<hid_t>(source.id()), to = static_cast<hid_t>(h_.get());
  if (info.type == H5O_TYPE_GROUP)
    copy_group(from, source_object, to, name, where);
  else if (info.type == H5O_TYPE_DATASET)
    copy_dataset(from, source_object, to, name, where);
  else
    throw Hdf5Error("HDF5: copy " + where + ": neither a group nor a dataset");
}

// ---- File ---------------------------------------------------------------------------------------
File File::create(const std::string& path, [[maybe_unused]] Access access) {
  const auto guard = lock_hdf5();
  // The HDF5 1.10 format (superblock 3, object headers 2, extensible-array chunk indexes):
  // every piece of metadata carries a checksum, so a damaged file is an error, not a crash.
  Handle fapl = make(H5Pcreate(H5P_FILE_ACCESS), Handle::Kind::plist, "create property list", path);
  if (H5Pset_libver_bounds(static_cast<hid_t>(fapl.get()), H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) fail("set format version", path);
#if QTZFLOW_HAVE_MPI
  if (access == Access::all_ranks && core::mpi::active()) {
    if (H5Pset_fapl_mpio(static_cast<hid_t>(fapl.get()), MPI_COMM_WORLD, MPI_INFO_NULL) < 0) fail("open with MPI-IO", path);
    // metadata written by all ranks at once rather than by each rank in turn
    if (H5Pset_coll_metadata_write(static_cast<hid_t>(fapl.get()), true) < 0) fail("set collective metadata writes", path);
  }
#endif
  Handle fcpl = compact_plist(H5P_FILE_CREATE, path);  // the root group's links and attributes
  return File(make(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, static_cast<hid_t>(fcpl.get()), static_cast<hid_t>(fapl.get())), Handle::Kind::file,
                   "create file", path),
              path);
}

int superblock_version(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return -1;
  unsigned char head[9] = {};
  const std::size_t got = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (got < sizeof head || std::memcmp(head, signature, sizeof signature) != 0) return -1;
  return head[8];
}

File File::open_read(const std::string& path, Integrity integrity) {
  const auto guard = lock_hdf5();
  if (integrity == Integrity::checksummed) {
    const int v = superblock_version(path);
    if (v >= 0 && v < 2)
      throw Hdf5Error("HDF5: open file " + path + ": written without metadata checksums (superblock version " + std::to_string(v) +
                      ", e.g. by qtzflow 0.1): a damaged copy could not be told from a good one, so qtzflow does not read it");
  }
  return File(make(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), Handle::Kind::file, "open file", path), path);
}

File File::open_write(const std::string& path) {
  const auto guard = lock_hdf5();
  return File(make(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), Handle::Kind::file, "open file", path), path);
}

Group File::root() const {
  const auto guard = lock_hdf5();
  return Group(make(H5Gopen2(static_cast<hid_t>(h_.get()), "/", H5P_DEFAULT), Handle::Kind::group, "open root group", path_), "/", path_);
}

void File::flush() const {
  const auto guard = lock_hdf5();
  if (H5Fflush(static_cast<hid_t>(h_.get()), H5F_SCOPE_GLOBAL) < 0) fail("flush file", path_);
}

void File::close() {
  const auto guard = lock_hdf5();
  if (!h_.valid()) return;
  const hid_t id = static_cast<hid_t>(h_.get());
  // With a group or dataset still open, H5Fclose only marks the file for closing and reports
  // success; the real close (and any write error, a full disk say) would come later, unseen.
  const ssize_t open = H5Fget_obj_count(id, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL);
  if (open != 0)
    throw Hdf5Error("HDF5: close file " + path_ + ": " + std::to_string(open) +
                    " object(s) of it still open, so that a write error could go unseen (a bug in qtzflow: close them first)");
  h_.release();
  if (H5Fclose(id) < 0) fail("close file", path_);
}

std::string hdf5_version() {
  const auto guard = lock_hdf5();
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

}  // namespace qtzflow::io
