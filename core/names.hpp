// qtzflow/core/names.hpp — the words that name an enum's values, written once beside the enum.
//
// An enum E that a front end (TOML, --set, CLI flags, Python keywords, stored outputs) spells
// as words declares, in its own header and namespace,
//
//     constexpr core::Named<E> kENames[] = {{"word", E::value}, ...};
//     constexpr std::span<const core::Named<E>> names_of(E) { return kENames; }
//
// and every front end reads and writes it through core::name_of / core::parse_name, found by
// argument-dependent lookup.  The first entry is not special: defaults live in the structs the
// enum configures.  A word not in the table is an UnknownName whose message lists the table in
// its order (the order docs/config.md gives).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace qtzflow::core {

template <class E>
struct Named {
  std::string_view name;
  E value;
};

/// The table of E (names_of found by argument-dependent lookup).
template <class E>
constexpr auto name_table() {
  return names_of(E{});
}

/// The word of value v; a value missing from its table is a bug (core::Error).
template <class E>
std::string_view name_of(E v) {
  for (const auto& n : name_table<E>())
    if (n.value == v) return n.name;
  throw Error("core::name_of: an enum value without a name in its table");
}

/// The table's words, each quoted, joined by ", ": "\"strang\", \"yoshida4\", \"chin4\"".
template <class E>
std::string quoted_names() {
  std::string s;
  for (const auto& n : name_table<E>()) s += (s.empty() ? "\"" : ", \"") + std::string(n.name) + "\"";
  return s;
}

/// The value `word` names; UnknownName(key, "key = \"word\": must be one of …") otherwise.
template <class E>
E parse_name(std::string_view word, std::string_view key) {
  for (const auto& n : name_table<E>())
    if (n.name == word) return n.value;
  std::string shown(word.substr(0, 60));
  if (word.size() > 60) shown += "...";
  throw UnknownName(std::string(key), std::string(key) + " = \"" + shown + "\": must be one of " + quoted_names<E>());
}

}  // namespace qtzflow::core
