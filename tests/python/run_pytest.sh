#!/bin/sh
# Runs the Python module's tests with the interpreter the module was built for; exit 77 (ctest:
# skipped) when that interpreter has no pytest (Debian's python3-pytest).
python="$1"; shift
if ! "$python" -c "import pytest, numpy" >/dev/null 2>&1; then
  echo "SKIPPED: $python has no pytest or numpy (Debian: python3-pytest python3-numpy)"
  exit 77
fi
exec "$python" -m pytest -q -p no:cacheprovider "$@"
