#include "grids/fft.hpp"

#include <fftw3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include "core/atomic_file.hpp"
#include "core/parallel.hpp"
#include "grids/fft_planning.hpp"

namespace qtzflow::grids {

namespace detail {

// FFTW's planner is not thread-safe; all planning goes through this lock.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

void init_fftw_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (fftw_init_threads() == 0) throw core::NumericalError("FFTW: fftw_init_threads failed");
  });
}

unsigned flags_of(PlanRigor r) {
  switch (r) {
    case PlanRigor::estimate:
      return FFTW_ESTIMATE;
    case PlanRigor::measure:
      return FFTW_MEASURE;
    case PlanRigor::patient:
      return FFTW_PATIENT;
  }
  return FFTW_MEASURE;
}

// ---- the wisdom cache ----------------------------------------------------------------------
std::string& cache_directory() {
  static std::string dir;
  return dir;
}

namespace {
/// The processor's model name: wisdom timed on one CPU model says little about another.
const std::string& machine_id() {
  static const std::string id = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 1);
    return std::string("unknown cpu");
  }();
  return id;
}
}  // namespace

/// Threads for a transform of `points` values: one below core::kParallelThreshold, like qtzflow's
/// own loops.  A small transform gains nothing from threads, and each execution would wake them:
/// when another process holds the other cores, every such wake-up costs a scheduler time slice.
int plan_threads(std::size_t points) { return static_cast<std::ptrdiff_t>(points) >= core::kParallelThreshold ? core::thread_count() : 1; }

std::string cache_file(const std::string& kind, const std::vector<std::size_t>& extent, int threads, unsigned flags) {
  if (cache_directory().empty()) return {};
  std::string key = std::string(::fftw_version) + "|" + machine_id() + "|" + kind + "|" + std::to_string(threads) + "|" + std::to_string(flags);
  std::string shape;
  for (auto n : extent) shape += (shape.empty() ? "" : "x") + std::to_string(n);
  key += "|" + shape;
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  char name[64];
  std::snprintf(name, sizeof name, "-%016llx.wisdom", static_cast<unsigned long long>(h));
  return (std::filesystem::path(cache_directory()) / (kind + "-" + shape + name)).string();
}

void write_wisdom_file(const std::string& file) {
  if (file.empty()) return;
  try {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
    char* w = fftw_export_wisdom_to_string();
    const std::string text = w ? w : "";
    std::free(w);
    core::write_text_atomically(file, text);
  } catch (const std::exception&) {
  }
}

/// Makes a plan, preferring wisdom to timing: the wisdom already in the process (a restart's),
/// then the cache file of this transform, then FFTW's planner, whose wisdom is then cached.
/// Called with the planner lock held.  A cache that cannot be read or written is ignored: it
/// only saves time.
fftw_plan plan_with_wisdom(const std::function<fftw_plan(unsigned)>& make, unsigned flags, const std::string& file) {
  if (flags & FFTW_ESTIMATE) return make(flags);
  if (fftw_plan p = make(flags | FFTW_WISDOM_ONLY)) return p;
  if (!file.empty() && fftw_import_wisdom_from_filename(file.c_str()) != 0)
    if (fftw_plan p = make(flags | FFTW_WISDOM_ONLY)) return p;
  fftw_plan p = make(flags);
  if (p != nullptr) write_wisdom_file(file);
  return p;
}

void* checked(fftw_plan p, const char* what) {
  if (p == nullptr) throw core::NumericalError(std::string("FFTW: could not create plan: ") + what);
  return p;
}

PlanHandle& PlanHandle::operator=(PlanHandle&& o) noexcept {
  if (this != &o) {
    this->~PlanHandle();
    plan_ = o.plan_;
    o.plan_ = nullptr;
  }
  return *this;
}
PlanHandle::~PlanHandle() {
  if (plan_ != nullptr) {
    std::lock_guard lock(planner_mutex());
    fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  }
  plan_ = nullptr;
}
}  // namespace detail

namespace {
using namespace detail;

template <int D>
std::array<int, D> dims_of(const std::array<std::size_t, D>& e) {
  std::array<int, D> n{};
  for (int a = 0; a < D; ++a) n[a] = static_cast<int>(e[a]);
  return n;
}

template <int D>
std::string serial_cache_file(const char* kind, const std::array<std::size_t, D>& extent, unsigned flags) {
  return cache_file(kind, std::vector<std::size_t>(extent.begin(), extent.end()), plan_threads(Field<double, D>::product(extent)), flags);
}
}  // namespace

template <int D>
ComplexFft<D>::ComplexFft(const Shape& extent, PlanRigor rigor) : extent_(extent) {
  init_fftw_threads();
  Field<complex, D> scratch(extent);
  const auto n = dims_of<D>(extent);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(plan_threads(Field<double, D>::product(extent)));
  const unsigned flags = flags_of(rigor);
  const std::string file = serial_cache_file<D>("c2c", extent, flags);
  auto plan = [&](int sign) {
    return plan_with_wisdom([&](unsigned f) { return fftw_plan_dft(D, n.data(), as_fftw(scratch.data()), as_fftw(scratch.data()), sign, f); }, flags,
                            file);
  };
  fwd_ = detail::PlanHandle(checked(plan(FFTW_FORWARD), "c2c forward"));
  bwd_ = detail::PlanHandle(checked(plan(FFTW_BACKWARD), "c2c backward"));
}

template <int D>
void ComplexFft<D>::forward(Field<complex, D>& f) const {
  require_shape("fft field", f, extent_);
  fftw_execute_dft(static_cast<fftw_plan>(fwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
void ComplexFft<D>::backward(Field<complex, D>& f) const {
  require_shape("fft field", f, extent_);
  fftw_execute_dft(static_cast<fftw_plan>(bwd_.get()), as_fftw(f.data()), as_fftw(f.data()));
}

template <int D>
RealFft<D>::RealFft(const Shape& real_extent, PlanRigor rigor) : real_(real_extent), spectral_(half_spectrum_extent<D>(real_extent)) {
  init_fftw_threads();
  Field<double, D> r(real_);
  Field<complex, D> c(spectral_);
  const auto n = dims_of<D>(real_);
  std::lock_guard lock(planner_mutex());
  fftw_plan_with_nthreads(plan_threads(Field<double, D>::product(real_extent)));
  const unsigned flags = flags_of(rigor);
  const std::string file = serial_cache_file<D>("r2c", real_extent, flags);
  fwd_ = detail::PlanHandle(
      checked(plan_with_wisdom([&](unsigned f) { return fftw_plan_dft_r2c(D, n.data(), r.data(), as_fftw(c.data()), f); }, flags, file), "r2c"));
  bwd_ = detail::PlanHandle(
      checked(plan_with_wisdom([&](unsigned f) { return fftw_plan_dft_c2r(D, n.data(), as_fftw(c.data()), r.data(), f); }, flags, file), "c2r"));
}

template <int D>
void RealFft<D>::forward(const Field<double, D>& in, Field<complex, D>& spectrum) const {
  require_shape("fft input", in, real_);
  require_shape("fft spectrum", spectrum, spectral_);
  // r2c does not modify its input (FFTW guarantees this for out-of-place r2c).
  fftw_execute_dft_r2c(static_cast<fftw_plan>(fwd_.get()), const_cast<double*>(in.data()), as_fftw(spectrum.data()));
}

template <int D>
void RealFft<D>::backward(Field<complex, D>& spectrum, Field<double, D>& out) const {
  require_shape("fft spectrum", spectrum, spectral_);
  require_shape("fft output", out, real_);
  fftw_execute_dft_c2r(static_cast<fftw_plan>(bwd_.get()), as_fftw(spectrum.data()), out.data());
}

std::string fftw_version() { return ::fftw_version; }

std::string export_wisdom() {
  std::lock_guard lock(planner_mutex());
  char* w = fftw_export_wisdom_to_string();
  std::string out = w ? w : "";
  std::free(w);
  return out;
}

namespace {
/// "(fftw-3.3.10 fftw_wisdom #x… #x… #x… #x…": the version and the configuration hash that open
/// every wisdom text (empty when the text does not open so).
std::string wisdom_stamp(const std::string& text) {
  const auto open = text.find("fftw_wisdom");
  if (text.rfind("(fftw-", 0) != 0 || open == std::string::npos) return {};
  std::size_t end = open + 11;
  for (int word = 0; word < 4; ++word) {
    end = text.find_first_not_of(" \t\r\n", end);
    if (end == std::string::npos || text.compare(end, 2, "#x") != 0) return {};
    end = text.find_first_of(" \t\r\n()", end);
    if (end == std::string::npos) return {};
  }
  return text.substr(0, end);
}
}  // namespace

bool import_wisdom(const std::string& wisdom) {
  init_fftw_threads();
  detail::init_fftw_mpi_if_running();  // wisdom of distributed plans names FFTW-MPI's solvers
  std::lock_guard lock(planner_mutex());
  if (fftw_import_wisdom_from_string(wisdom.c_str()) != 0) return true;
  char* own = fftw_export_wisdom_to_string();
  const std::string here = wisdom_stamp(own ? own : ""), there = wisdom_stamp(wisdom);
  std::free(own);
  // the same FFTW version stamped by another configuration: readable, but not by this process
  if (!there.empty() && !here.empty() && there != here && there.substr(0, there.find(' ')) == here.substr(0, here.find(' '))) return false;
  core::throw_invalid("fftw wisdom", "the stored text", "wisdom FFTW can read (written by the same FFTW)");
}

void set_wisdom_cache(const std::string& directory) {
  std::lock_guard lock(planner_mutex());
  cache_directory() = directory;
}

std::string wisdom_cache() {
  std::lock_guard lock(planner_mutex());
  return cache_directory();
}

std::string default_wisdom_cache() {
  if (const char* env = std::getenv("QTZFLOW_WISDOM_DIR"); env != nullptr && *env != '\0')
    return std::string(env) == "off" ? std::string() : std::string(env);
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/qtzflow/fftw";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return std::string(home) + "/.cache/qtzflow/fftw";
  return {};
}

template class ComplexFft<1>;
template class ComplexFft<2>;
template class ComplexFft<3>;
template class RealFft<1>;
template class RealFft<2>;
template class RealFft<3>;

}  // namespace qtzflow::grids
