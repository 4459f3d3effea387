#include "io/tsplib.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace qtzflow::io {

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// Tokens of the text with their line numbers, read section by section.
struct Reader {
  std::vector<std::string> lines;
  std::string origin;
  std::size_t line = 0;  // next line to read (0-based)

  std::string where(std::size_t l) const { return origin + ":" + std::to_string(l + 1); }
  [[noreturn]] void fail(std::size_t l, const std::string& found, const std::string& accepted) const {
    core::throw_invalid(where(l), found, accepted);
  }
  /// Reads `count` numbers starting at the current line; stops early at a keyword line.
  std::vector<double> numbers(std::size_t count) {
    std::vector<double> out;
    out.reserve(count);
    while (out.size() < count) {
      if (line >= lines.size())
        fail(lines.size() - 1, "end of file after " + std::to_string(out.size()) + " numbers", std::to_string(count) + " numbers");
      std::istringstream in(lines[line]);
      std::string tok;
      while (in >> tok) {
        double v = 0;
        const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
        // |v| <= 1e150: squared coordinate differences and sums of a tour's edges stay finite
        if (ec != std::errc() || p != tok.data() + tok.size() || !(std::abs(v) <= 1e150))
          fail(line, "'" + core::shorten(tok, 40) + "' after " + std::to_string(out.size()) + " of " + std::to_string(count) + " numbers",
               "a number of magnitude at most 1e150");
        out.push_back(v);
      }
      ++line;
      if (out.size() > count) fail(line - 1, std::to_string(out.size()) + " numbers", std::to_string(count));
    }
    return out;
  }
};

}  // namespace

potentials::TspInstance parse_tsplib(const std::string& text, const std::string& origin, bool unrounded) {
  Reader r{{}, origin};
  {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) r.lines.push_back(l);
  }
  if (r.lines.empty()) r.fail(0, "an empty file", "a TSPLIB file");
  std::map<std::string, std::pair<std::string, std::size_t>> spec;  // keyword → (value, line)
  long long n = -1;
  std::vector<double> x, y, weights;
  bool have_coords = false, have_weights = false;
  auto value = [&](const std::string& k) { return spec.count(k) ? spec[k].first : std::string(); };
  auto where_dimension = [&] { return r.where(spec.count("DIMENSION") ? spec["DIMENSION"].second : 0); };
  auto dimension = [&](std::size_t l) {
    if (n < 0) r.fail(l, "a data section before DIMENSION", "DIMENSION: n first");
    return static_cast<std::size_t>(n);
  };
  while (r.line < r.lines.size()) {
    const std::size_t l = r.line;
    const std::string s = trim(r.lines[r.line++]);
    if (s.empty()) continue;
    if (s == "EOF") break;
    if (s == "NODE_COORD_SECTION") {
      const std::size_t m = dimension(l);
      x.assign(m, 0);
      y.assign(m, 0);
      std::vector<char> seen(m, 0);
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t at = r.line;
        const auto v = r.numbers(3);
        const double id = v[0];
        if (id != std::floor(id) || id < 1 || id > static_cast<double>(m) || seen[static_cast<std::size_t>(id) - 1])
          r.fail(at, "node " + core::format_value(id), "each of 1.." + std::to_string(m) + " once");
        seen[static_cast<std::size_t>(id) - 1] = 1;
        x[static_cast<std::size_t>(id) - 1] = v[1];
        y[static_cast<std::size_t>(id) - 1] = v[2];
      }
      have_coords = true;
      continue;
    }
    if (s == "DISPLAY_DATA_SECTION") {
      r.numbers(3 * dimension(l));
      continue;
    }
    if (s == "EDGE_WEIGHT_SECTION") {
      const std::size_t m = dimension(l);
      // the instance keeps the n x n matrix, and reading it holds two more
      const double cities = static_cast<double>(m);
      core::require_memory(where_dimension(), 3 * 8 * cities * cities, "the distance matrices of DIMENSION " + std::to_string(m) + " cities");
      const std::string fmt = value("EDGE_WEIGHT_FORMAT");
      std::size_t count = 0;
      if (fmt == "FULL_MATRIX")
        count = m * m;
      else if (fmt == "UPPER_ROW" || fmt == "LOWER_ROW" || fmt == "UPPER_COL" || fmt == "LOWER_COL")
        count = m * (m - 1) / 2;
      else if (fmt == "UPPER_DIAG_ROW" || fmt == "LOWER_DIAG_ROW" || fmt == "UPPER_DIAG_COL" || fmt == "LOWER_DIAG_COL")
        count = m * (m + 1) / 2;
      else
        r.fail(spec.count("EDGE_WEIGHT_FORMAT") ? spec["EDGE_WEIGHT_FORMAT"].second : l, "EDGE_WEIGHT_FORMAT '" + fmt + "'",
               "FULL_MATRIX, UPPER_ROW, LOWER_ROW, UPPER_DIAG_ROW, LOWER_DIAG_ROW (or a _COL twin)");
      const auto v = r.numbers(count);
      weights.assign(m * m, 0.0);
      std::size_t k = 0;
      // A lower-triangular row listing is the upper-triangular column listing of the same
      // symmetric matrix, so each *_COL format reads as the opposite *_ROW.
      const bool upper = fmt.rfind("UPPER", 0) == 0, by_row = fmt.ends_with("ROW");
      const bool as_upper_rows = (upper == by_row);
      const bool diag = fmt.find("DIAG") != std::string::npos;
      if (fmt == "FULL_MATRIX") {
        weights = v;
      } else {
        for (std::size_t i = 0; i < m; ++i) {
          if (as_upper_rows) {
            for (std::size_t j = diag ? i : i + 1; j < m; ++j, ++k) weights[i * m + j] = weights[j * m + i] = v[k];
          } else {
            for (std::size_t j = 0; j < (diag ? i + 1 : i); ++j, ++k) weights[i * m + j] = weights[j * m + i] = v[k];
          }
        }
      }
      have_weights = true;
      continue;
    }
    const auto colon = s.find(':');
    if (colon == std::string::npos) r.fail(l, "'" + s + "'", "KEYWORD: value, a *_SECTION line or EOF");
    const std::string key = trim(s.substr(0, colon)), val = trim(s.substr(colon + 1));
    spec[key] = {val, l};
    if (key == "DIMENSION") {
      std::size_t m = 0;
      const auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), m);
      if (ec != std::errc() || p != val.data() + val.size() || m < 3) r.fail(l, "DIMENSION '" + val + "'", "an integer >= 3");
      // from coordinates: a matrix up to kMatrixCities cities, and the coordinates (an explicit
      // matrix is checked at its EDGE_WEIGHT_SECTION)
      const double cities = static_cast<double>(m);
      const bool matrix = m <= potentials::TspInstance::kMatrixCities;
      core::require_memory(r.where(l), (matrix ? 8 * cities * cities : 0) + 4 * 8 * cities,
                           "the distance matrix and coordinates of DIMENSION " + val + " cities");
      n = static_cast<long long>(m);
    } else if (key == "TYPE" && val != "TSP") {
      r.fail(l, "TYPE '" + val + "'", "TSP (symmetric)");
    } else if (key != "NAME" && key != "COMMENT" && key != "TYPE" && key != "EDGE_WEIGHT_TYPE" && key != "EDGE_WEIGHT_FORMAT" &&
               key != "DISPLAY_DATA_TYPE" && key != "NODE_COORD_TYPE") {
      r.fail(l, "keyword '" + key + "'", "NAME, TYPE, COMMENT, DIMENSION, EDGE_WEIGHT_TYPE, EDGE_WEIGHT_FORMAT, DISPLAY_DATA_TYPE, NODE_COORD_TYPE");
    }
  }
  if (n < 0) r.fail(r.lines.size() - 1, "no DIMENSION", "a DIMENSION: n line");
  const std::string type = value("EDGE_WEIGHT_TYPE");
  const std::size_t type_line = spec.count("EDGE_WEIGHT_TYPE") ? spec["EDGE_WEIGHT_TYPE"].second : 0;
  const std::string name = value("NAME").empty() ? origin : value("NAME");
  auto finish = [&](potentials::TspInstance inst) {
    inst.comment = value("COMMENT");
    return inst;
  };
  if (type == "EXPLICIT") {
    if (!have_weights) r.fail(r.lines.size() - 1, "no EDGE_WEIGHT_SECTION", "one for EDGE_WEIGHT_TYPE EXPLICIT");
    try {
      return finish(potentials::TspInstance::from_matrix(name, static_cast<std::size_t>(n), std::move(weights)));
    } catch (const core::InvalidArgument& e) {
      r.fail(spec["EDGE_WEIGHT_FORMAT"].second, e.what(), "a valid symmetric matrix");
    }
  }
  potentials::TspMetric metric{};
  if (type == "EUC_2D")
    metric = unrounded ? potentials::TspMetric::euclidean : potentials::TspMetric::euc_2d;
  else if (type == "CEIL_2D")
    metric = potentials::TspMetric::ceil_2d;
  else if (type == "ATT")
    metric = potentials::TspMetric::att;
  else if (type == "GEO")
    metric = potentials::TspMetric::geo;
  else
    r.fail(type_line, "EDGE_WEIGHT_TYPE '" + type + "'", "EUC_2D, CEIL_2D, ATT, GEO or EXPLICIT");
  if (!have_coords) r.fail(r.lines.size() - 1, "no NODE_COORD_SECTION", "one for EDGE_WEIGHT_TYPE " + type);
  return finish(potentials::TspInstance::from_coordinates(name, std::move(x), std::move(y), metric));
}

potentials::TspInstance read_tsplib(const std::string& path, bool unrounded) {
  std::error_code ec;
  // a regular file only: a FIFO without a writer would block the open forever, a device never end
  if (!std::filesystem::is_regular_file(path, ec))
    core::throw_invalid("tsp", path,
                        std::filesystem::exists(path, ec) ? "a regular TSPLIB file (not a directory, pipe or device)" : "an existing TSPLIB file");
  std::ifstream in(path, std::ios::binary);
  if (!in) core::throw_invalid("tsp", path, "a readable TSPLIB file");
  // Read at most a byte past the limit: /dev/zero or a mistaken multi-GB file is refused unread.
  constexpr std::size_t kMaxBytes = std::size_t(1) << 30;
  std::string text;
  std::vector<char> chunk(std::size_t(1) << 20);
  while (in && text.size() <= kMaxBytes) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (text.size() > kMaxBytes) core::throw_invalid("tsp", path, "a TSPLIB file of at most 1 GiB");
  return parse_tsplib(text, path, unrounded);
}

namespace detail {
extern const char* const kShippedOptima;
}

double tsplib_known_optimum(const std::string& name) {
  static const std::map<std::string, double> table = [] {
    auto t = parse_tsp_optima(detail::kShippedOptima, "data/tsplib/optima.txt");
    t.insert({{"dantzig42", 699}, {"gr120", 6942}, {"ulysses16", 6859}, {"ulysses22", 7013}});
    return t;
  }();
  const auto it = table.find(name.substr(0, name.find('.')));
  return it == table.end() ? -1 : it->second;
}

std::map<std::string, double> read_tsp_optima(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) core::throw_invalid("optima", path, "a readable table of optimal tour lengths");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_tsp_optima(text, path);
}

std::map<std::string, double> parse_tsp_optima(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::map<std::string, double> out;
  std::string line;
  for (std::size_t l = 1; std::getline(in, line); ++l) {
    const std::string s = trim(line);
    if (s.empty() || s[0] == '#') continue;
    const auto colon = s.find(':');
    const std::string where = origin + ":" + std::to_string(l);
    if (colon == std::string::npos) core::throw_invalid(where, "'" + core::shorten(s, 40) + "'", "NAME : LENGTH");
    const std::string name = trim(s.substr(0, colon)), value = trim(s.substr(colon + 1));
    double v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (name.empty() || ec != std::errc() || p != value.data() + value.size() || !std::isfinite(v) || v <= 0)
      core::throw_invalid(where, "'" + core::shorten(s, 40) + "'", "NAME : LENGTH with a finite length > 0");
    if (!out.emplace(name, v).second) core::throw_invalid(where, "'" + name + "' again", "each name once");
  }
  return out;
}

}  // namespace qtzflow::io
