// qtzflow_fuzz — a seeded mutation fuzzer for the three readers of user files, run in-process.
//
//   qtzflow_fuzz config  --corpus DIR --runs N [--seed S] [--work DIR]
//   qtzflow_fuzz tsplib  --corpus DIR --runs N ...
//   qtzflow_fuzz restart --corpus DIR --runs N ...
//   qtzflow_fuzz sampled --runs N ...
//
// config:  the TOML reader (scenario::parse_config, with random --set overrides) and, for a
//          configuration it accepts on a small grid, the objective and schedule it names
//          (scenario::Problem), as `qtzflow run` builds them.
// tsplib:  io::parse_tsplib, then a nearest-neighbour tour on what it accepts.
// restart: each corpus config is run once into a valid output; each input is that output
//          damaged by 1-3 edits (an attribute of another type or shape, a deleted or renamed
//          link, a replaced dataset, flipped bytes, a truncation; tests/fuzz/hdf5_surgery.hpp),
//          sometimes with a changed t_end or dt, and is restarted with scenario::run, as
//          `qtzflow run --restart` does.
// sampled: io::read_grid_samples, the reader of objective.file, on files of every layout a user
//          may write (contiguous in h5py's default format without checksums and in the 1.10
//          format, compact, chunked, deflate, shuffle+deflate, scale-offset, fletcher32) and of
//          the ones it must refuse (virtual, external storage, external and soft links), each
//          damaged by byte flips (in the metadata at the start or the end, or anywhere), a
//          truncation or an edited attribute or dataset.  First every undamaged file is checked:
//          the readable layouts give back the values written, the others are refused.
//
// The contract checked: every input either is accepted or throws core::InvalidArgument (what
// the CLI turns into exit code 2 with the key or file:line named).  Any other exception is a
// failure: the input is saved under the work folder and the exit code is 1.  A crash or a hang
// (more than --timeout seconds on one input) ends the process; the input that caused it is the
// work folder's current.* file.  Mutations are drawn from core::RandomStream: a seed fixes every
// input, so any failure replays with the same --seed and --runs.
#include <hdf5.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "hdf5_surgery.hpp"
#include "io/grid_samples.hpp"
#include "io/tsplib.hpp"
#include "scenario/config.hpp"
#include "scenario/problem.hpp"
#include "scenario/run.hpp"

using namespace qtzflow;
namespace fs = std::filesystem;
namespace surgery = qtzflow::testing::surgery;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::vector<std::string> corpus_files(const fs::path& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Seeded text mutations: bit flips, interesting bytes and tokens, deleted, duplicated and
/// spliced spans, replaced numbers, bracket runs.
class Mutator {
 public:
  Mutator(std::uint64_t seed, std::vector<std::string> dictionary) : rng_(seed, 0xF022), dict_(std::move(dictionary)) {}
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_.below(n); }

  std::string mutate(std::string s, const std::vector<std::string>& corpus) {
    const int ops = 1 + static_cast<int>(below(4));
    for (int k = 0; k < ops; ++k) apply(s, corpus);
    if (s.size() > kMaxBytes) s.resize(kMaxBytes);
    return s;
  }

 private:
  static constexpr std::size_t kMaxBytes = 1 << 18;
  void apply(std::string& s, const std::vector<std::string>& corpus) {
    static const char interesting[] = {'\0', '\n', '[', ']', '{', '}', '"', '\'', '=', '.', ',', '#', '-', '9', 'e', '\\', ' ', '\x7f', '\xff'};
    static const char* numbers[] = {"0",
                                    "-1",
                                    "1e400",
                                    "-1e-400",
                                    "nan",
                                    "inf",
                                    "-inf",
                                    "99999999999999999999",
                                    "4294967296",
                                    "1e9",
                                    "1e-9",
                                    "2",
                                    "0x7fffffffffffffff",
                                    "1_0",
                                    "1e20",
                                    "-0.0",
                                    "65536",
                                    "18446744073709551616"};
    const std::size_t pos = below(s.size() + 1);
    switch (below(10)) {
      case 0:
        if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << below(8));
        break;
      case 1:
        if (!s.empty()) s[pos % s.size()] = interesting[below(sizeof interesting)];
        break;
      case 2:
        s.erase(pos, 1 + below(16));
        break;
      case 3: {
        const std::string span = s.substr(pos, 1 + below(64));
        s.insert(below(s.size() + 1), span);
        break;
      }
      case 4:
        s.insert(pos, dict_[below(dict_.size())]);
        break;
      case 5: {  // replace the number that starts at or after pos
        const auto a = s.find_first_of("0123456789", pos);
        if (a == std::string::npos) break;
        const auto b = s.find_first_not_of("0123456789.eE+-_", a);
        s.replace(a, (b == std::string::npos ? s.size() : b) - a, numbers[below(std::size(numbers))]);
        break;
      }
      case 6: {
        const std::string& other = corpus[below(corpus.size())];
        s = s.substr(0, pos) + other.substr(below(other.size() + 1));
        break;
      }
      case 7:
        s.insert(pos, std::string(1 + below(200), below(2) ? '[' : '{'));
        break;
      case 8:
        s.resize(pos);
        break;
      default: {  // a line of another corpus entry in place of one of this one
        const std::string& other = corpus[below(corpus.size())];
        const auto oa = other.rfind('\n', below(other.size() + 1));
        const auto ob = other.find('\n', oa == std::string::npos ? 0 : oa + 1);
        const std::string line = other.substr(oa == std::string::npos ? 0 : oa + 1, ob == std::string::npos ? std::string::npos : ob - oa);
        const auto la = s.rfind('\n', pos);
        const auto lb = s.find('\n', pos);
        const std::size_t from = la == std::string::npos ? 0 : la + 1;
        s.replace(from, (lb == std::string::npos ? s.size() : lb) - from, line);
      }
    }
  }
  core::RandomStream rng_;
  std::vector<std::string> dict_;
};

const std::vector<std::string> kConfigDictionary{"[grid]",
                                                 "[objective]",
                                                 "[schedule]",
                                                 "[initial]",
                                                 "[schrodinger]",
                                                 "[fokker_planck]",
                                                 "[particles]",
                                                 "[output]",
                                                 "[[grid]]",
                                                 "n = ",
                                                 " = ",
                                                 "\n",
                                                 "[",
                                                 "]",
                                                 "{",
                                                 "}",
                                                 "\"",
                                                 "'''",
                                                 "\"\"\"",
                                                 "#",
                                                 "=",
                                                 ".",
                                                 ",",
                                                 "n = [100000, 100000]",
                                                 "count = ",
                                                 "every = 0",
                                                 "t_end = ",
                                                 "dt = ",
                                                 "kind = \"gibbs\"",
                                                 "boundary = \"absorbing\"",
                                                 "algorithm = \"qtz-dither\"",
                                                 "mode = \"imaginary\"",
                                                 "scheme = \"yoshida4\"",
                                                 "name = \"rastrigin\"",
                                                 "width = [1e-300]",
                                                 "center = [1e300]",
                                                 "T = 0",
                                                 "relax_time = 1e9",
                                                 "true",
                                                 "1979-05-27T07:32:00Z",
                                                 "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1",
                                                 "\\u0000",
                                                 "\xc3\x28",
                                                 "lower = [inf]",
                                                 "upper = [-inf]"};

const std::vector<std::string> kTsplibDictionary{"NAME: x\n",
                                                 "TYPE: TSP\n",
                                                 "DIMENSION: ",
                                                 "DIMENSION: 4294967296\n",
                                                 "DIMENSION: 0\n",
                                                 "DIMENSION: 1\n",
                                                 "EDGE_WEIGHT_TYPE: ",
                                                 "EXPLICIT",
                                                 "EUC_2D",
                                                 "CEIL_2D",
                                                 "ATT",
                                                 "GEO",
                                                 "EDGE_WEIGHT_FORMAT: ",
                                                 "FULL_MATRIX",
                                                 "UPPER_ROW",
                                                 "LOWER_DIAG_COL",
                                                 "NODE_COORD_SECTION\n",
                                                 "EDGE_WEIGHT_SECTION\n",
                                                 "DISPLAY_DATA_SECTION\n",
                                                 "EOF\n",
                                                 ":",
                                                 "\n",
                                                 " ",
                                                 "nan",
                                                 "inf",
                                                 "-1",
                                                 "1e400",
                                                 "99999999999999999999",
                                                 "1.5",
                                                 "0",
                                                 "COMMENT: \xff\xfe\n"};

// ---- outcomes ---------------------------------------------------------------------------------
struct Tally {
  long accepted = 0, refused = 0, failures = 0;
  std::map<std::string, long> keys;  // refused inputs by the key their message names
};

/// Runs one input; classifies the outcome.  Returns false on a contract failure.
template <class F>
bool attempt(Tally& t, F&& f, std::string& failure) {
  try {
    f();
    ++t.accepted;
    return true;
  } catch (const core::InvalidArgument& e) {
    ++t.refused;
    ++t.keys[core::shorten(e.key(), 40)];
    if (std::strlen(e.what()) > 4096) {
      failure = "a message of " + std::to_string(std::strlen(e.what())) + " characters (more than 4096): " + core::shorten(e.what(), 200);
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    failure = std::string("an exception other than InvalidArgument: ") + typeid(e).name() + ": " + core::shorten(e.what(), 400);
    return false;
  }
}

// ---- hang watchdog ----------------------------------------------------------------------------
const char* g_current = "";
void on_alarm(int) {
  const char msg[] = "qtzflow_fuzz: HANG: one input ran past the time limit; it is ";
  [[maybe_unused]] auto r1 = write(2, msg, sizeof msg - 1);
  [[maybe_unused]] auto r2 = write(2, g_current, std::strlen(g_current));
  [[maybe_unused]] auto r3 = write(2, "\n", 1);
  _exit(3);
}

template <int D>
void build_problem(const scenario::RunConfig& c) {
  const scenario::Problem<D> p(c);
  (void)scenario::initial_density(c.initial, p);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: qtzflow_fuzz config|tsplib|restart|sampled --corpus DIR --runs N [--seed S] [--work DIR] [--timeout SECONDS]\n");
    return 2;
  }
  const std::string target = argv[1];
  std::map<std::string, std::string> opt{{"--runs", "10000"}, {"--seed", "1"}, {"--work", "fuzz_work"}, {"--timeout", "20"}};
  for (int i = 2; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
  const long runs = std::stol(opt["--runs"]);
  const std::uint64_t seed = std::stoull(opt["--seed"]);
  const fs::path work = fs::absolute(opt["--work"]) / target;
  const unsigned timeout = static_cast<unsigned>(std::stoul(opt["--timeout"]));
  fs::remove_all(work);
  fs::create_directories(work);
  signal(SIGALRM, on_alarm);
  core::set_thread_count(1);  // tiny inputs: threads would only add start-up cost

  Tally tally;
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](const std::string& why, const fs::path& input_copy) {
    ++tally.failures;
    std::fprintf(stderr, "qtzflow_fuzz %s: FAILURE (%s): input saved as %s\n", target.c_str(), why.c_str(), input_copy.c_str());
  };

  if (target == "config" || target == "tsplib") {
    const bool config = target == "config";
    std::vector<std::string> corpus;
    for (const auto& f : corpus_files(opt.at("--corpus"), config ? ".toml" : ".tsp")) corpus.push_back(read_file(f));
    if (corpus.empty()) throw std::runtime_error("empty corpus in " + opt.at("--corpus"));
    Mutator m(seed, config ? kConfigDictionary : kTsplibDictionary);
    const fs::path current = work / (config ? "current.toml" : "current.tsp");
    const std::string current_name = current.string();
    g_current = current_name.c_str();
    for (long k = 0; k < runs; ++k) {
      const std::string input = m.mutate(corpus[m.below(corpus.size())], corpus);
      std::vector<std::string> overrides;
      if (config && m.below(3) == 0) {  // a --set built from a mutated "section.key=value"
        static const char* keys[] = {"grid.n",         "grid.lower",   "schedule.T",  "particles.count",
                                     "schrodinger.dt", "output.every", "objective.c", "initial.width"};
        overrides.push_back(std::string(keys[m.below(std::size(keys))]) + "=" + m.mutate("[16, 16]", corpus).substr(0, 300));
      }
      write_file(current, input);
      std::string why;
      alarm(timeout);
      const bool ok = attempt(
          tally,
          [&] {
            if (config) {
              const auto c = scenario::parse_config(input, overrides, "fuzz");
              double points = 1;
              for (auto n : c.grid.n) points *= static_cast<double>(n);
              if (points <= 1e5) {
                if (c.grid.dim() == 1) build_problem<1>(c);
                if (c.grid.dim() == 2) build_problem<2>(c);
                if (c.grid.dim() == 3) build_problem<3>(c);
              }
            } else {
              const auto inst = io::parse_tsplib(input, "fuzz", m.below(2) == 0);
              const auto tour = inst.nearest_neighbour_tour(0);
              (void)inst.tour_length(tour);
            }
          },
          why);
      alarm(0);
      if (!ok) {
        const fs::path saved = work / ("failure-" + std::to_string(k) + current.extension().string());
        fs::copy_file(current, saved, fs::copy_options::overwrite_existing);
        if (!overrides.empty()) write_file(saved.string() + ".set", overrides.front());
        fail(why, saved);
      }
    }
  } else if (target == "restart") {
    // one valid output per corpus config, made by the run loop itself
    struct Base {
      scenario::RunConfig config;
      fs::path file;
      std::vector<std::string> objects;  // what the edits aim at
      std::vector<std::pair<std::string, std::string>> attributes;
    };
    std::vector<Base> bases;
    for (const auto& f : corpus_files(opt.at("--corpus"), ".toml")) {
      Base b{scenario::load_config(f), work / (fs::path(f).stem().string() + "_base.h5"), {}, {}};
      scenario::RunOptions ro;
      ro.output = b.file.string();
      scenario::run(b.config, ro);
      b.objects = surgery::object_paths(b.file.string());
      b.attributes = surgery::attributes(b.file.string());
      bases.push_back(std::move(b));
    }
    if (bases.empty()) throw std::runtime_error("empty corpus in " + opt.at("--corpus"));
    Mutator m(seed, {"x"});
    const fs::path input = work / "current.h5", pristine = work / "current-input.h5";
    const std::string input_name = input.string(), pristine_name = pristine.string() + " (with current-input.txt)";
    g_current = pristine_name.c_str();
    for (long k = 0; k < runs; ++k) {
      const Base& b = bases[m.below(bases.size())];
      fs::copy_file(b.file, input, fs::copy_options::overwrite_existing);
      fs::remove(work / "current.xdmf");
      const auto& objects = b.objects;
      const auto& attrs = b.attributes;
      // structural edits through HDF5 first, byte edits last (HDF5 cannot edit a damaged file)
      const int edits = static_cast<int>(m.below(4));
      static const double values[] = {NAN, INFINITY, -1.0, 0.0, 1e300, 0.03, 7.0, -1e-300};
      for (int e = 0; e < edits; ++e) {
        const auto& [obj, name] = attrs[m.below(attrs.size())];
        const std::string& path = objects[m.below(objects.size())];
        const double v = values[m.below(std::size(values))];
        switch (m.below(8)) {
          case 0:
            surgery::set_attribute_doubles(input_name, obj, name, m.below(3) == 0 ? 0 : m.below(200), v);
            break;
          case 1:
            surgery::set_attribute_int(input_name, obj, name, static_cast<std::int64_t>(m.below(1000)) - 500);
            break;
          case 2:
            surgery::set_attribute_string(input_name, obj, name, std::string(m.below(100), 'a'), m.below(2) == 0);
            break;
          case 3:
            surgery::set_attribute_null(input_name, obj, name);
            break;
          case 4:
            if (path != "/") surgery::delete_link(input_name, path);
            break;
          case 5: {
            static const char* names[] = {"abc", "-3", "99999999999999999999", "0010", "1e3", " 3", "3", "00"};
            if (path != "/") surgery::move_link(input_name, path, path.substr(0, path.rfind('/') + 1) + names[m.below(std::size(names))]);
            break;
          }
          case 6: {
            std::vector<std::uint64_t> dims(m.below(4));
            for (auto& d : dims) d = m.below(4) == 0 ? (std::uint64_t(1) << (20 + m.below(40))) : m.below(40);
            if (path != "/") surgery::replace_dataset(input_name, path, dims, v);
            break;
          }
          default:
            if (path != "/")
              (m.below(2) ? surgery::fill_dataset(input_name, path, v) : surgery::replace_dataset_with_strings(input_name, path, m.below(20)));
        }
      }
      if (edits == 0 || m.below(3) == 0) {
        const auto size = surgery::file_size(input_name);
        if (m.below(4) == 0) {
          surgery::truncate(input_name, m.below(size));
        } else {
          const int flips = 1 + static_cast<int>(m.below(8));
          for (int i = 0; i < flips; ++i) surgery::flip_byte(input_name, m.below(size), static_cast<unsigned char>(1u << m.below(8)));
        }
      }
      // the damaged input as made, kept beside the copy the run continues (and so changes)
      fs::copy_file(input, pristine, fs::copy_options::overwrite_existing);
      scenario::RunConfig c = b.config;
      std::vector<std::string> overrides;
      const std::string engine = std::holds_alternative<scenario::SchrodingerConfig>(c.engine)    ? "schrodinger"
                                 : std::holds_alternative<scenario::FokkerPlanckConfig>(c.engine) ? "fokker_planck"
                                                                                                  : "particles";
      if (m.below(8) == 0) overrides.push_back(engine + ".t_end=" + (m.below(2) ? "0.09" : "0.03"));
      if (m.below(16) == 0) overrides.push_back(engine + ".dt=0.02");
      if (!overrides.empty()) c = scenario::parse_config(c.text, overrides, "fuzz");
      write_file(work / "current-input.txt", "restart of " + b.file.string() + " with --set " + (overrides.empty() ? "(none)" : overrides.front()) +
                                                 (overrides.size() > 1 ? " " + overrides.back() : "") + "\n");
      std::string why;
      alarm(timeout);
      bool ok = attempt(
          tally,
          [&] {
            scenario::RunOptions ro;
            ro.restart = input_name;
            scenario::run(c, ro);
          },
          why);
      alarm(0);
      if (!ok)
        fail(why, [&] {
          const fs::path saved = work / ("failure-" + std::to_string(k) + ".h5");
          fs::copy_file(pristine, saved, fs::copy_options::overwrite_existing);
          fs::copy_file(work / "current-input.txt", saved.string() + ".txt", fs::copy_options::overwrite_existing);
          return saved;
        }());
    }
  } else if (target == "sampled") {
    const std::vector<std::uint64_t> shape{16, 12};
    const std::vector<double> lower{-2, -1}, upper{2, 1};
    std::vector<double> values(16 * 12);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37 * static_cast<double>(i)) + 0.01 * static_cast<double>(i);
    // the run's grid as scenario::make_objective checks it, before any value is read
    auto same_grid = [&](const io::GridSamples& g) {
      bool same = g.shape == std::vector<std::size_t>{16, 12};
      for (std::size_t a = 0; same && a < 2; ++a) {
        const double h = (upper[a] - lower[a]) / static_cast<double>(shape[a]);
        same = std::abs(g.spacing[a] - h) <= 1e-9 * h && std::abs(g.offset[a] - (lower[a] + 0.5 * h)) <= 1e-9 * h;
      }
      if (!same) core::throw_invalid("objective.file", g.describe(), "the run's grid");
    };
    struct Base {
      surgery::SampledLayout layout;
      fs::path file;
    };
    std::vector<Base> bases;
    for (int k = 0; k < surgery::kSampledLayouts; ++k) {
      const auto layout = static_cast<surgery::SampledLayout>(k);
      const fs::path file = work / ("base" + std::to_string(k) + ".h5"), other = work / ("other" + std::to_string(k) + ".bin");
      if (!surgery::write_sampled(file.string(), layout, values, shape, lower, upper, other.string()))
        throw std::runtime_error(std::string("cannot write a file of layout ") + surgery::sampled_layout_name(layout));
      // the undamaged file: the values written, or a refusal naming objective.file
      try {
        const auto got = io::read_grid_samples(file.string(), "f", "objective.file", same_grid);
        if (!surgery::sampled_layout_readable(layout)) fail(std::string("accepted a file of layout ") + surgery::sampled_layout_name(layout), file);
        for (std::size_t i = 0; i < values.size(); ++i)
          if (std::abs(got.values[i] - values[i]) > (layout == surgery::SampledLayout::scale_offset ? 1e-11 : 0.0)) {
            fail(std::string("wrong values from layout ") + surgery::sampled_layout_name(layout), file);
            break;
          }
      } catch (const core::InvalidArgument& e) {
        if (surgery::sampled_layout_readable(layout) || e.key() != "objective.file")
          fail(std::string("refused layout ") + surgery::sampled_layout_name(layout) + ": " + e.what(), file);
      }
      bases.push_back({layout, file});
    }
    Mutator m(seed, {"x"});
    const fs::path input = work / "current.h5";
    const std::string input_name = input.string();
    g_current = input_name.c_str();
    long crashes_contained = 0;
    std::map<std::string, long> by_layout;
    for (long k = 0; k < runs; ++k) {
      const Base& b = bases[m.below(bases.size())];
      fs::copy_file(b.file, input, fs::copy_options::overwrite_existing);
      const auto size = surgery::file_size(input_name);
      switch (m.below(8)) {
        case 0:
          surgery::truncate(input_name, m.below(size));
          break;
        case 1:
          surgery::set_attribute_doubles(input_name, "/f", m.below(2) ? "lower" : "upper", m.below(4), m.below(2) ? NAN : 1e300);
          break;
        case 2:
          // a small shape, or a huge one declared but never written (refused before a value is read)
          surgery::replace_dataset(input_name, "/f", {m.below(40), m.below(2) ? m.below(40) : std::uint64_t(1) << (30 + m.below(30))}, 1.0);
          break;
        default: {  // 1-5 bytes flipped or set (0, 0xff, any): in the metadata at the start or the end, or anywhere
          const int edits = 1 + static_cast<int>(m.below(5));
          const int where = static_cast<int>(m.below(3));
          for (int i = 0; i < edits; ++i) {
            const std::uint64_t span = std::min<std::uint64_t>(size, 2048);
            const std::uint64_t at = where == 0 ? m.below(span) : where == 1 ? size - 1 - m.below(span) : m.below(size);
            switch (m.below(4)) {
              case 0:
                surgery::set_byte(input_name, at, 0);
                break;
              case 1:
                surgery::set_byte(input_name, at, 0xff);
                break;
              case 2:
                surgery::set_byte(input_name, at, static_cast<unsigned char>(m.below(256)));
                break;
              default:
                surgery::flip_byte(input_name, at, static_cast<unsigned char>(1u << m.below(8)));
            }
          }
        }
      }
      std::string why;
      alarm(timeout);
      const bool ok = attempt(
          tally,
          [&] {
            try {
              (void)io::read_grid_samples(input_name, "f", "objective.file", same_grid);
            } catch (const core::InvalidArgument& e) {
              if (std::string(e.what()).find("crashed") != std::string::npos) ++crashes_contained;
              throw;
            }
          },
          why);
      alarm(0);
      ++by_layout[surgery::sampled_layout_name(b.layout)];
      if (!ok) {
        const fs::path saved = work / ("failure-" + std::to_string(k) + ".h5");
        fs::copy_file(input, saved, fs::copy_options::overwrite_existing);
        fail(why, saved);
      }
    }
    std::printf("qtzflow_fuzz sampled: libhdf5 crashed in the reading process on %ld inputs, each refused with objective.file named\n",
                crashes_contained);
    std::printf("  inputs per layout:");
    for (const auto& [name, n] : by_layout) std::printf(" %s=%ld", name.c_str(), n);
    std::printf("\n");
  } else {
    std::fprintf(stderr, "qtzflow_fuzz: unknown target '%s' (config, tsplib, restart or sampled)\n", target.c_str());
    return 2;
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("qtzflow_fuzz %s: %ld inputs (seed %llu) in %.1f s: %ld accepted, %ld refused with a named key, %ld failures\n", target.c_str(), runs,
              static_cast<unsigned long long>(seed), seconds, tally.accepted, tally.refused, tally.failures);
  std::vector<std::pair<long, std::string>> top;
  for (const auto& [key, n] : tally.keys) top.emplace_back(-n, key);
  std::sort(top.begin(), top.end());
  std::printf("  most refused keys (of %zu):", top.size());
  for (std::size_t i = 0; i < std::min<std::size_t>(top.size(), 10); ++i) std::printf(" %s=%ld", top[i].second.c_str(), -top[i].first);
  std::printf("\n");
  if (tally.failures == 0) fs::remove_all(work);
  return tally.failures == 0 ? 0 : 1;
}
