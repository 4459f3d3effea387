#!/bin/sh
# `cmake --install` of a build tree into an empty prefix, then a consumer project in an empty
# folder outside the repository: find_package(qtzflow), build, run (tests/consumer/).
# Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1; src=$2
work=$(mktemp -d /tmp/qtzflow-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
mkdir "$work/consumer"
cp "$src/tests/consumer/CMakeLists.txt" "$src/tests/consumer/main.cpp" "$work/consumer/"
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer/build" -j2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/consumer/build/consumer"
# the Python package, when the build has it: importable from the prefix alone
if [ -d "$build/python/qtzflow" ]; then
  pkg=$(find "$work/prefix" -type d -name qtzflow -path '*dist-packages*' | head -1)
  [ -n "$pkg" ] || { echo "install: no qtzflow package under $work/prefix"; exit 1; }
  # a sanitizer build's module needs its runtimes loaded first by the interpreter (as in python.hardening_asan)
  preload=$(find "$pkg" -name '_core*.so' -exec ldd {} \; | awk '/lib(asan|ubsan)\.so/ {print $3}' | sort -u | paste -sd: -)
  (cd / && PYTHONPATH=$(dirname "$pkg") LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 /usr/bin/python3 -c "import qtzflow; g = qtzflow.Grid(8, -1, 1); print('install: python', qtzflow.__version__, g)")
fi
echo "install: headers $(find "$work/prefix/include/qtzflow" -name '*.hpp' | wc -l), libraries $(ls "$work/prefix"/lib*/libqtzflow_*.a | wc -l), consumer built and ran"
