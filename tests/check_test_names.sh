#!/bin/sh
# Fails if a doctest case name contains ';', '[' or ']' (ctest would split or misread it and
# run nothing under that name).  Usage: check_test_names.sh QTZFLOW_TESTS_BINARY
bad=$("$1" --list-test-cases --no-intro | grep -v -e '^\[doctest\]' -e '^===' | grep -E '[][;]')
if [ -n "$bad" ]; then
  echo "test names that ctest cannot run:"; echo "$bad"; exit 1
fi
