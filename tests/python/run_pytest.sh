#!/bin/sh
# Runs the Python module's tests with the interpreter the module was built for; exit 77 (ctest:
# skipped) when that interpreter has no pytest or numpy (Debian's python3-pytest, python3-numpy),
# or lacks a module named in QTZFLOW_PYTEST_REQUIRES (e.g. "h5py matplotlib").
python="$1"; shift
for m in pytest numpy $QTZFLOW_PYTEST_REQUIRES; do
  if ! "$python" -c "import $m" >/dev/null 2>&1; then
    echo "SKIPPED: $python has no $m (Debian: python3-$m)"
    exit 77
  fi
done
exec "$python" -m pytest -q -p no:cacheprovider "$@"
