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
echo "install: headers $(find "$work/prefix/include/qtzflow" -name '*.hpp' | wc -l), libraries $(ls "$work/prefix"/lib*/libqtzflow_*.a | wc -l), consumer built and ran"
