// qtzflow/scenario/toml_reader.hpp — what every strict TOML reader of qtzflow shares (the run
// configuration, scenario/config_reader.cpp; the study file, scenario/study.cpp): numbers
// re-read from their tokens (toml11 silently saturates 1e400 and wraps big integers), a shape
// check before toml11's recursive parser sees the text, and Section, which reads one table's
// keys and refuses the ones nobody asked for.  Internal to scenario/ (not installed API).
#pragma once

#include <toml.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/names.hpp"
#include "scenario/config.hpp"

namespace qtzflow::scenario::toml_reader {

using core::throw_invalid;

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;
using Table = Value::table_type;
using core::format_value;
using core::throw_invalid;

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

inline std::string type_name(const Value& v) {
  std::ostringstream o;
  o << v.type();
  return o.str();
}

/// A value as TOML text for messages, cut to a readable length (an input may be huge).
inline std::string show(const Value& v) {
  std::ostringstream o;
  o << v;
  std::string s = o.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return core::shorten(s, 80);
}

/// The text of a number as written in the TOML source (toml11 keeps the token's location).
inline std::string token_of(const Value& v) {
  const auto loc = v.location();
  const std::string line = loc.line_str();
  if (loc.column() == 0 || loc.column() - 1 >= line.size()) return show(v);
  std::string t = line.substr(loc.column() - 1, loc.region());
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  return t;
}

/// A TOML number as a double, refusing what the conversion would silently change: toml11 reads
/// 1e400 as DBL_MAX, 1e-400 as 0 and integers beyond 2^63 wrapped, so the token is re-read here.
inline double checked_number(const Value& v, const std::string& key) {
  const std::string token = token_of(v);
  errno = 0;
  if (v.is_integer()) {
    (void)std::strtoll(token.c_str(), nullptr, token.rfind("0x", 0) == 0 ? 16 : 10);
    if (errno == ERANGE) throw_invalid(key, core::shorten(token, 40), "an integer within [-2^63, 2^63)");
    return static_cast<double>(v.as_integer());
  }
  const double x = v.as_floating();
  if (std::isfinite(x)) {
    const double again = std::strtod(token.c_str(), nullptr);
    if (errno == ERANGE && (std::abs(again) == HUGE_VAL || std::abs(x) == std::numeric_limits<double>::max()))
      throw_invalid(key, core::shorten(token, 40), "a number of magnitude <= 1.7976931348623157e308");
    if (errno == ERANGE && again == 0) throw_invalid(key, core::shorten(token, 40), "0 or a number of magnitude >= 2.2250738585072014e-308");
  }
  return x;
}

/// Refuses, before toml11 sees it, text that would make its recursive parser run out of stack or
/// time: brackets or braces nested deeper than kMaxNesting, dotted keys longer than
/// kMaxKeyParts, and texts beyond kMaxConfigBytes.  Strings and comments are skipped.
constexpr int kMaxNesting = 32;
constexpr int kMaxKeyParts = 16;
constexpr std::size_t kMaxConfigBytes = std::size_t(1) << 20;

inline void check_toml_shape(const std::string& text, const std::string& origin) {
  if (text.size() > kMaxConfigBytes)
    throw core::InvalidArgument("config", origin + ": more than " + core::format_bytes(double(kMaxConfigBytes)) +
                                              " of text; a configuration must be at most " + core::format_bytes(double(kMaxConfigBytes)));
  int depth = 0, dots = 0, line = 1;
  bool in_key = true;  // at the start of a line, before '=': a key or a table header
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    auto at = [&] { return origin + ":" + std::to_string(line); };
    if (ch == '\n') {
      ++line;
      if (depth == 0) in_key = true, dots = 0;
    } else if (ch == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (ch == '"' || ch == '\'') {
      const bool triple = text.compare(i, 3, std::string(3, ch)) == 0;
      const std::string close = triple ? std::string(3, ch) : std::string(1, ch);
      std::size_t j = i + close.size();
      while (j < text.size() && text.compare(j, close.size(), close) != 0) {
        if (text[j] == '\n') {
          if (!triple) break;  // an unterminated string: toml11 reports it
          ++line;
        }
        j += (ch == '"' && text[j] == '\\') ? 2 : 1;
      }
      i = std::min(text.size(), j + close.size()) - 1;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxNesting)
        throw core::InvalidArgument("config", at() + ": arrays or inline tables nested deeper than " + std::to_string(kMaxNesting) + " levels");
      if (ch == '{') in_key = true, dots = 0;
    } else if (ch == ']' || ch == '}') {
      depth = std::max(0, depth - 1);
    } else if (ch == '=') {
      in_key = false;
    } else if (ch == ',' && depth > 0) {
      in_key = true, dots = 0;  // the next key of an inline table (harmless inside arrays)
    } else if (ch == '.' && in_key) {
      if (++dots >= kMaxKeyParts)
        throw core::InvalidArgument("config", at() + ": a dotted key of more than " + std::to_string(kMaxKeyParts) + " parts");
    }
  }
}

/// Reads the keys of one section, remembering which were used so that the rest can be
/// reported as unknown.
class Section {
 public:
  Section(const Table* t, std::string name) : t_(t), name_(std::move(name)) {}
  std::string key(const std::string& k) const { return name_ + "." + k; }
  const Value* find(const std::string& k) {
    known_.push_back(k);
    if (t_ == nullptr) return nullptr;
    const auto it = t_->find(k);
    return it == t_->end() ? nullptr : &it->second;
  }
  static bool is_number(const Value& v) { return v.is_integer() || v.is_floating(); }
  static double as_number(const Value& v) { return v.is_integer() ? static_cast<double>(v.as_integer()) : v.as_floating(); }

  double number(const std::string& k, double def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!is_number(*v)) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "a number");
    const double x = checked_number(*v, key(k));
    core::require_finite(key(k), x);
    return x;
  }
  long integer(const std::string& k, long def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!v->is_integer()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "an integer");
    checked_number(*v, key(k));
    return static_cast<long>(v->as_integer());
  }
  std::string word(const std::string& k, const std::string& def, const std::vector<std::string>& allowed = {}) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!v->is_string()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "a string");
    std::string s = v->as_string().str;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      throw_invalid(key(k), "\"" + s + "\"", "one of " + join(allowed));
    return s;
  }
  /// A word of E's table (core/names.hpp), returned as its enum value.
  template <class E>
  E choice(const std::string& k, E def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    if (!v->is_string()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "a string");
    return core::parse_name<E>(v->as_string().str, key(k));
  }
  std::vector<double> numbers(const std::string& k, std::vector<double> def) {
    const Value* v = find(k);
    if (v == nullptr) return def;
    std::vector<double> out;
    if (!v->is_array()) throw_invalid(key(k), show(*v) + " (" + type_name(*v) + ")", "an array of numbers");
    for (const auto& e : v->as_array()) {
      if (!is_number(e)) throw_invalid(key(k), show(*v), "an array of numbers");
      out.push_back(checked_number(e, key(k)));
      core::require_finite(key(k), out.back());
    }
    return out;
  }
  bool has(const std::string& k) const { return t_ != nullptr && t_->contains(k); }
  /// A key given although the configuration's choices leave it unused (`reason` non-empty):
  /// refused, naming it and why, or dropped (UnusedKeys::drop).
  void refuse_unused(const std::string& k, const std::string& reason, UnusedKeys unused) const {
    if (!reason.empty() && has(k) && unused == UnusedKeys::refuse)
      throw_invalid(key(k), show(t_->at(k)), "absent: " + reason);
  }
  /// Keys not asked for are errors.
  void finish() const {
    if (t_ == nullptr) return;
    for (const auto& [k, v] : *t_)
      if (std::find(known_.begin(), known_.end(), k) == known_.end())
        throw core::InvalidArgument(key(k), key(k) + ": unknown key; known keys of [" + name_ + "]: " + join(known_));
  }

 private:
  const Table* t_;
  std::string name_;
  std::vector<std::string> known_;
};

inline const Table* section_table(const Table& root, const std::string& name) {
  const auto it = root.find(name);
  if (it == root.end()) return nullptr;
  if (!it->second.is_table()) throw_invalid(name, show(it->second), "a table ([" + name + "])");
  return &it->second.as_table();
}

/// Parses TOML text (after check_toml_shape); a syntax error is an InvalidArgument of key
/// "config" with toml11's file:line message.
inline Value parse_toml(const std::string& text, const std::string& origin) {
  check_toml_shape(text, origin);
  try {
    std::istringstream in(text);
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, origin);
  } catch (const toml::exception& e) {
    throw core::InvalidArgument("config", "TOML syntax error in " + core::shorten(e.what(), 600));
  }
}

}  // namespace qtzflow::scenario::toml_reader
