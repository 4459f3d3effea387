// qtzflow/core/error.hpp — the typed exceptions of qtzflow and the always-on argument checks.
//
// Every public entry point validates its input with the helpers below, in Release builds too:
// a bad argument throws InvalidArgument whose message names the parameter, the value received
// and the accepted range, e.g.  "T = -1: must be finite and > 0".  Numerical failures (NaN/Inf
// appearing in a field) throw NumericalError.  Applications map InvalidArgument to exit code 2
// and every other qtzflow::Error to exit code 1.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace qtzflow::core {

/// Base of every exception qtzflow throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: names the offending parameter (`key()`) and the accepted range.  The key is named
/// once: what() is the message as given when it begins with the key ("T = -1: must be …"), and
/// "<key>: <message>" otherwise.
class InvalidArgument : public Error {
 public:
  InvalidArgument(std::string key, const std::string& message) : Error(named(key, message)), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }
  /// The message without its key: "<value>: must be …" for "<key> = <value>: must be …", the
  /// text after "<key>: " otherwise (what a front end puts after its own name for the key).
  std::string detail() const;
  /// Whether the message has the form "<key> = <value>…".
  bool names_value() const;

 private:
  static std::string named(const std::string& key, const std::string& message) {
    return message.starts_with(key) && (message.size() == key.size() || message[key.size()] == ' ' || message[key.size()] == ':')
               ? message
               : key + ": " + message;
  }
  std::string key_;
};

/// A name (objective, parameter, scheme, ...) that is not known; the message lists the known ones.
class UnknownName : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// A run-time numerical failure: non-finite values, a solver that did not converge.
class NumericalError : public Error {
 public:
  using Error::Error;
};

/// Formats a double the way messages show it (shortest round-trip form).
std::string format_value(double v);

/// s as the inside of a JSON string literal (quotes, backslashes and control characters escaped).
std::string json_escape(std::string_view s);

/// v as a JSON number that reads back to the same double (%.17g); NaN and ±Inf, which JSON
/// cannot spell, become null.
std::string json_number(double v);

/// s itself when at most max_chars long, else its start and its length: messages stay readable
/// whatever the input held.
std::string shorten(std::string_view s, std::size_t max_chars);

/// Throws InvalidArgument(key, "<key> = <v>: must be <accepted>"); key and value are shortened
/// to 200 characters.
[[noreturn]] void throw_invalid(std::string_view key, std::string_view value, std::string_view accepted);

/// v finite and > 0.
void require_positive(std::string_view key, double v);
/// v finite and >= 0.
void require_non_negative(std::string_view key, double v);
/// v finite and lo <= v <= hi.
void require_in_range(std::string_view key, double v, double lo, double hi);
/// v finite.
void require_finite(std::string_view key, double v);
/// Integer count n with n >= min.
void require_at_least(std::string_view key, long long n, long long min);

}  // namespace qtzflow::core
