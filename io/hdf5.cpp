#include "io/hdf5.hpp"

#include <hdf5.h>

#include <mutex>

namespace qtzflow::io {

namespace {

/// Switches HDF5's automatic error printing off once: errors become exceptions instead.
void init_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

/// The innermost description on HDF5's error stack (then clears the stack).
std::string hdf5_reason() {
  std::string msg;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        auto* m = static_cast<std::string*>(data);
        if (n == 0 && e->desc != nullptr) *m = e->desc;
        return 0;
      },
      &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg.empty() ? "unknown HDF5 error" : msg;
}

[[noreturn]] void fail(const std::string& what, const std::string& where) { throw Hdf5Error("HDF5: " + what + " " + where + ": " + hdf5_reason()); }

hid_t checked_id(hid_t id, const std::string& what, const std::string& where) {
  if (id < 0) fail(what, where);
  return id;
}

Handle make(hid_t id, Handle::Kind kind, const std::string& what, const std::string& where) { return Handle(checked_id(id, what, where), kind); }

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), Handle::Kind::datatype);
  H5Tset_size(static_cast<hid_t>(t.get()), H5T_VARIABLE);
  H5Tset_cset(static_cast<hid_t>(t.get()), H5T_CSET_UTF8);
  return t;
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
  if (status < 0) fail(what, file_ + ":" + (name.empty() ? path_ : child_path(name)));
}

void Object::replace_attribute(const std::string& name, hid type, hid space, const void* buf) const {
  const hid_t loc = static_cast<hid_t>(h_.get());
  const htri_t exists = H5Aexists(loc, name.c_str());
  check(exists, "check attribute", name);
  if (exists > 0) check(H5Adelete(loc, name.c_str()), "delete attribute", name);
  Handle a = make(H5Acreate2(loc, name.c_str(), static_cast<hid_t>(type), static_cast<hid_t>(space), H5P_DEFAULT, H5P_DEFAULT),
                  Handle::Kind::attribute, "create attribute", file_ + ":" + child_path(name));
  check(H5Awrite(static_cast<hid_t>(a.get()), static_cast<hid_t>(type), buf), "write attribute", name);
}

void Object::write_attribute(const std::string& name, double v) const {
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  replace_attribute(name, H5T_NATIVE_DOUBLE, s.get(), &v);
}

void Object::write_attribute(const std::string& name, std::int64_t v) const {
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  replace_attribute(name, H5T_NATIVE_INT64, s.get(), &v);
}

void Object::write_attribute(const std::string& name, const std::string& v) const {
  Handle s = make(H5Screate(H5S_SCALAR), Handle::Kind::dataspace, "create dataspace", file_);
  Handle t = string_type();
  const char* p = v.c_str();
  replace_attribute(name, t.get(), s.get(), &p);
}

void Object::write_attribute(const std::string& name, std::span<const double> v) const {
  Handle s = simple_space({v.size()}, file_);
  replace_attribute(name, H5T_NATIVE_DOUBLE, s.get(), v.data());
}

void Object::write_attribute(const std::string& name, const std::vector<std::string>& v) const {
  Handle s = simple_space({v.size()}, file_);
  Handle t = string_type();
  std::vector<const char*> p;
  for (const auto& x : v) p.push_back(x.c_str());
  replace_attribute(name, t.get(), s.get(), p.data());
}

bool Object::has_attribute(const std::string& name) const {
  const htri_t e = H5Aexists(static_cast<hid_t>(h_.get()), name.c_str());
  check(e, "check attribute", name);
  return e > 0;
}

Handle Object::open_attribute(const std::string& name) const {
  return make(H5Aopen(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::attribute, "open attribute",
              file_ + ":" + child_path(name));
}

double Object::read_double_attribute(const std::string& name) const {
  Handle a = open_attribute(name);
  double v = 0;
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_DOUBLE, &v), "read attribute", name);
  return v;
}

std::int64_t Object::read_int_attribute(const std::string& name) const {
  Handle a = open_attribute(name);
  std::int64_t v = 0;
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_INT64, &v), "read attribute", name);
  return v;
}

std::vector<double> Object::read_doubles_attribute(const std::string& name) const {
  Handle a = open_attribute(name);
  Handle s = make(H5Aget_space(static_cast<hid_t>(a.get())), Handle::Kind::dataspace, "get dataspace", file_ + ":" + child_path(name));
  const hssize_t n = H5Sget_simple_extent_npoints(static_cast<hid_t>(s.get()));
  check(n, "get attribute size", name);
  std::vector<double> v(static_cast<std::size_t>(n));
  check(H5Aread(static_cast<hid_t>(a.get()), H5T_NATIVE_DOUBLE, v.data()), "read attribute", name);
  return v;
}

std::vector<std::string> Object::read_strings_attribute(const std::string& name) const {
  Handle a = open_attribute(name);
  Handle s = make(H5Aget_space(static_cast<hid_t>(a.get())), Handle::Kind::dataspace, "get dataspace", file_ + ":" + child_path(name));
  const hssize_t n = H5Sget_simple_extent_npoints(static_cast<hid_t>(s.get()));
  check(n, "get attribute size", name);
  Handle t = string_type();
  std::vector<char*> p(static_cast<std::size_t>(n), nullptr);
  check(H5Aread(static_cast<hid_t>(a.get()), static_cast<hid_t>(t.get()), p.data()), "read attribute", name);
  std::vector<std::string> out;
  for (char* c : p) out.emplace_back(c ? c : "");
  H5Dvlen_reclaim(static_cast<hid_t>(t.get()), static_cast<hid_t>(s.get()), H5P_DEFAULT, p.data());
  return out;
}

std::string Object::read_string_attribute(const std::string& name) const {
  const auto v = read_strings_attribute(name);
  return v.empty() ? std::string() : v.front();
}

// ---- Dataset ------------------------------------------------------------------------------------
std::vector<std::size_t> Dataset::shape() const {
  Handle s = make(H5Dget_space(static_cast<hid_t>(h_.get())), Handle::Kind::dataspace, "get dataspace", file_ + ":" + path_);
  const int rank = H5Sget_simple_extent_ndims(static_cast<hid_t>(s.get()));
  check(rank, "get rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(static_cast<hid_t>(s.get()), dims.data(), nullptr), "get extent");
  return {dims.begin(), dims.end()};
}

void Dataset::read_raw(void* buf, hid mem_type) const {
  check(H5Dread(static_cast<hid_t>(h_.get()), static_cast<hid_t>(mem_type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), "read dataset");
}

std::vector<double> Dataset::read_doubles() const {
  std::size_t n = 1;
  for (auto d : shape()) n *= d;
  std::vector<double> v(n);
  read_raw(v.data(), H5T_NATIVE_DOUBLE);
  return v;
}

std::vector<std::int64_t> Dataset::read_int64() const {
  std::size_t n = 1;
  for (auto d : shape()) n *= d;
  std::vector<std::int64_t> v(n);
  read_raw(v.data(), H5T_NATIVE_INT64);
  return v;
}

void Dataset::append_raw(const void* buf, std::size_t n, hid mem_type) const {
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

void Dataset::append(std::span<const double> values) const { append_raw(values.data(), values.size(), H5T_NATIVE_DOUBLE); }
void Dataset::append(std::span<const std::int64_t> values) const { append_raw(values.data(), values.size(), H5T_NATIVE_INT64); }

// ---- Group --------------------------------------------------------------------------------------
Group Group::create_group(const std::string& name) const {
  Handle lcpl = make(H5Pcreate(H5P_LINK_CREATE), Handle::Kind::plist, "create property list", file_);
  H5Pset_create_intermediate_group(static_cast<hid_t>(lcpl.get()), 1);
  return Group(make(H5Gcreate2(static_cast<hid_t>(h_.get()), name.c_str(), static_cast<hid_t>(lcpl.get()), H5P_DEFAULT, H5P_DEFAULT),
                    Handle::Kind::group, "create group", file_ + ":" + child_path(name)),
               child_path(name), file_);
}

Group Group::open_group(const std::string& name) const {
  return Group(
      make(H5Gopen2(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::group, "open group", file_ + ":" + child_path(name)),
      child_path(name), file_);
}

bool Group::exists(const std::string& name) const {
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
  H5L_info_t info;
  check(H5Lget_info(static_cast<hid_t>(h_.get()), name.c_str(), &info, H5P_DEFAULT), "get link info", name);
  return info.type == H5L_TYPE_EXTERNAL;
}

bool Group::is_group(const std::string& name) const {
  H5O_info_t info;
  check(H5Oget_info_by_name2(static_cast<hid_t>(h_.get()), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), "get object info", name);
  return info.type == H5O_TYPE_GROUP;
}

Dataset Group::write_raw(const std::string& name, const void* values, std::size_t count, const std::vector<std::size_t>& shape, hid file_type,
                         hid mem_type) const {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  if (n != count) fail("write dataset: " + std::to_string(count) + " values for a shape of " + std::to_string(n), file_ + ":" + child_path(name));
  Handle space = simple_space(shape, file_ + ":" + child_path(name));
  Handle lcpl = make(H5Pcreate(H5P_LINK_CREATE), Handle::Kind::plist, "create property list", file_);
  H5Pset_create_intermediate_group(static_cast<hid_t>(lcpl.get()), 1);
  Handle ds = make(H5Dcreate2(static_cast<hid_t>(h_.get()), name.c_str(), static_cast<hid_t>(file_type), static_cast<hid_t>(space.get()),
                              static_cast<hid_t>(lcpl.get()), H5P_DEFAULT, H5P_DEFAULT),
                   Handle::Kind::dataset, "create dataset", file_ + ":" + child_path(name));
  check(H5Dwrite(static_cast<hid_t>(ds.get()), static_cast<hid_t>(mem_type), H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "write dataset", name);
  return Dataset(std::move(ds), child_path(name), file_);
}

Dataset Group::write_dataset(const std::string& name, std::span<const double> values, const std::vector<std::size_t>& shape) const {
  return write_raw(name, values.data(), values.size(), shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}
Dataset Group::write_dataset(const std::string& name, std::span<const std::int32_t> values, const std::vector<std::size_t>& shape) const {
  return write_raw(name, values.data(), values.size(), shape, H5T_STD_I32LE, H5T_NATIVE_INT32);
}
Dataset Group::write_dataset(const std::string& name, std::span<const std::int64_t> values, const std::vector<std::size_t>& shape) const {
  return write_raw(name, values.data(), values.size(), shape, H5T_STD_I64LE, H5T_NATIVE_INT64);
}

Dataset Group::create_series(const std::string& name, bool integer) const {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 256;
  Handle space = make(H5Screate_simple(1, &zero, &unlimited), Handle::Kind::dataspace, "create dataspace", file_);
  Handle dcpl = make(H5Pcreate(H5P_DATASET_CREATE), Handle::Kind::plist, "create property list", file_);
  check(H5Pset_chunk(static_cast<hid_t>(dcpl.get()), 1, &chunk), "set chunk", name);
  Handle lcpl = make(H5Pcreate(H5P_LINK_CREATE), Handle::Kind::plist, "create property list", file_);
  H5Pset_create_intermediate_group(static_cast<hid_t>(lcpl.get()), 1);
  Handle ds = make(H5Dcreate2(static_cast<hid_t>(h_.get()), name.c_str(), integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, static_cast<hid_t>(space.get()),
                              static_cast<hid_t>(lcpl.get()), static_cast<hid_t>(dcpl.get()), H5P_DEFAULT),
                   Handle::Kind::dataset, "create dataset", file_ + ":" + child_path(name));
  return Dataset(std::move(ds), child_path(name), file_);
}

Dataset Group::open_dataset(const std::string& name) const {
  return Dataset(
      make(H5Dopen2(static_cast<hid_t>(h_.get()), name.c_str(), H5P_DEFAULT), Handle::Kind::dataset, "open dataset", file_ + ":" + child_path(name)),
      child_path(name), file_);
}

void Group::link_external(const std::string& name, const std::string& target_file, const std::string& target_object) const {
  Handle lcpl = make(H5Pcreate(H5P_LINK_CREATE), Handle::Kind::plist, "create property list", file_);
  H5Pset_create_intermediate_group(static_cast<hid_t>(lcpl.get()), 1);
  check(H5Lcreate_external(target_file.c_str(), target_object.c_str(), static_cast<hid_t>(h_.get()), name.c_str(), static_cast<hid_t>(lcpl.get()),
                           H5P_DEFAULT),
        "create external link", name);
}

void Group::copy_from(const Group& source, const std::string& source_object, const std::string& name) const {
  Handle ocpypl = make(H5Pcreate(H5P_OBJECT_COPY), Handle::Kind::plist, "create property list", file_);
  check(H5Pset_copy_object(static_cast<hid_t>(ocpypl.get()), H5O_COPY_EXPAND_EXT_LINK_FLAG), "set copy flags", name);
  Handle lcpl = make(H5Pcreate(H5P_LINK_CREATE), Handle::Kind::plist, "create property list", file_);
  H5Pset_create_intermediate_group(static_cast<hid_t>(lcpl.get()), 1);
  check(H5Ocopy(static_cast<hid_t>(source.id()), source_object.c_str(), static_cast<hid_t>(h_.get()), name.c_str(), static_cast<hid_t>(ocpypl.get()),
                static_cast<hid_t>(lcpl.get())),
        "copy object", name);
}

// ---- File ---------------------------------------------------------------------------------------
File File::create(const std::string& path) {
  init_hdf5();
  return File(make(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), Handle::Kind::file, "create file", path), path);
}

File File::open_read(const std::string& path) {
  init_hdf5();
  return File(make(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), Handle::Kind::file, "open file", path), path);
}

File File::open_write(const std::string& path) {
  init_hdf5();
  return File(make(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), Handle::Kind::file, "open file", path), path);
}

Group File::root() const {
  return Group(make(H5Gopen2(static_cast<hid_t>(h_.get()), "/", H5P_DEFAULT), Handle::Kind::group, "open root group", path_), "/", path_);
}

void File::flush() const {
  if (H5Fflush(static_cast<hid_t>(h_.get()), H5F_SCOPE_GLOBAL) < 0) fail("flush file", path_);
}

void File::close() {
  if (!h_.valid()) return;
  const hid_t id = static_cast<hid_t>(h_.release());
  if (H5Fclose(id) < 0) fail("close file", path_);
}

std::string hdf5_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

}  // namespace qtzflow::io
