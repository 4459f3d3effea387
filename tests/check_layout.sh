#!/bin/sh
# The repository's layout rules, checked on the source tree (ctest: layout.*):
#   includes   every folder includes only the folders below it:
#              core < grids < potentials < solver, particles < io < scenario < verify < apps;
#              python/ (bindings) includes the libraries, never apps/ or verify/
#              (solver/ includes neither particles/, io/ nor scenario/; io/ includes no engine)
#   self       no file refers to anything outside the repository (the project's shared design notes)
#   apps       apps/ holds no engine code: no file over 300 lines, no include of an engine header
# Usage: check_layout.sh SOURCE_DIR (includes|self|apps)
set -eu
src=$1
fail=0
case $2 in
includes)
  allowed() {  # the folders $1 may include
    case $1 in
      core) echo "core" ;;
      grids) echo "core grids" ;;
      potentials) echo "core grids potentials" ;;
      solver) echo "core grids potentials solver" ;;
      particles) echo "core grids potentials particles" ;;
      io) echo "core grids potentials io" ;;
      scenario) echo "core grids potentials solver particles io scenario" ;;
      verify) echo "core grids potentials solver particles io verify" ;;
      apps) echo "core grids potentials io particles scenario verify apps" ;;
      python) echo "core grids potentials solver particles io scenario python" ;;  # bindings of every engine
    esac
  }
  for dir in core grids potentials solver particles io scenario verify apps python; do
    ok=$(allowed $dir)
    for f in "$src/$dir"/*.hpp "$src/$dir"/*.cpp; do
      [ -e "$f" ] || continue
      for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*/\1/p' "$f" | sort -u); do
        case " $ok " in
          *" $inc "*) ;;
          *) echo "layout: $dir/$(basename "$f") includes $inc/ (allowed: $ok)"; fail=1 ;;
        esac
      done
    done
  done ;;
self)
  # the names of the material outside the repository, assembled so that this file holds none of them
  outside="\.\./$(printf '%s' sha red)|$(printf '%s' DES IGN)\.md|$(printf '%s' REF ERENCE)\.md"
  # files tracked by git (or every file when git is absent)
  if command -v git >/dev/null && git -C "$src" rev-parse >/dev/null 2>&1; then
    files=$(git -C "$src" ls-files)
  else
    files=$(cd "$src" && find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||')
  fi
  for f in $files; do
    case $f in *.png|*.h5|*.ipynb) continue ;; esac
    if grep -nE "$outside" "$src/$f" >/dev/null 2>&1; then
      grep -nE "$outside" "$src/$f" | sed "s|^|layout: $f:|"
      fail=1
    fi
  done ;;
apps)
  for f in "$src"/apps/*.cpp "$src"/apps/*.hpp; do
    n=$(wc -l < "$f")
    if [ "$n" -gt 300 ]; then echo "layout: apps/$(basename "$f") has $n lines (at most 300: library code belongs in scenario/ or verify/)"; fail=1; fi
    if grep -nE '#include "solver/' "$f" >/dev/null; then echo "layout: apps/$(basename "$f") includes an engine header"; fail=1; fi
  done ;;
*) echo "usage: $0 SOURCE_DIR (includes|self|apps)"; exit 2 ;;
esac
[ $fail -eq 0 ] && echo "layout $2: ok"
exit $fail
