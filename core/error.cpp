#include "core/error.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace qtzflow::core {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string json_escape(std::string_view s) {
  std::string o;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

std::string format_value(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string shorten(std::string_view s, std::size_t max_chars) {
  if (s.size() <= max_chars) return std::string(s);
  return std::string(s.substr(0, max_chars)) + "... (" + std::to_string(s.size()) + " characters)";
}

bool InvalidArgument::names_value() const { return std::string_view(what()).substr(key_.size()).starts_with(" = "); }

std::string InvalidArgument::detail() const {
  const std::string_view rest = std::string_view(what()).substr(key_.size());
  for (std::string_view sep : {" = ", ": ", " "})
    if (rest.starts_with(sep)) return std::string(rest.substr(sep.size()));
  return std::string(rest);
}

void throw_invalid(std::string_view key, std::string_view value, std::string_view accepted) {
  std::string msg;
  msg.append(shorten(key, 200)).append(" = ").append(shorten(value, 200)).append(": must be ").append(accepted);
  throw InvalidArgument(std::string(key), msg);
}

void require_positive(std::string_view key, double v) {
  if (!(std::isfinite(v) && v > 0)) throw_invalid(key, format_value(v), "finite and > 0");
}

void require_non_negative(std::string_view key, double v) {
  if (!(std::isfinite(v) && v >= 0)) throw_invalid(key, format_value(v), "finite and >= 0");
}

void require_in_range(std::string_view key, double v, double lo, double hi) {
  if (!(std::isfinite(v) && v >= lo && v <= hi)) throw_invalid(key, format_value(v), "in [" + format_value(lo) + ", " + format_value(hi) + "]");
}

void require_finite(std::string_view key, double v) {
  if (!std::isfinite(v)) throw_invalid(key, format_value(v), "finite");
}

void require_at_least(std::string_view key, long long n, long long min) {
  if (n < min) throw_invalid(key, std::to_string(n), "an integer >= " + std::to_string(min));
}

}  // namespace qtzflow::core
