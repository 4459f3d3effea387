#!/usr/bin/env bash
# Runs every example (the TOML scenarios in full, the default scenario, the C++ example programs,
# an optimize ensemble of each algorithm), `qtzflow verify --quick` and the Python module's
# engines (scripts/snapshot_python.py, when the build has it) from a build tree into OUT,
# so that two builds can be compared with scripts/compare_outputs.py (a refactoring must leave
# every number unchanged).  Usage: scripts/snapshot_outputs.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(realpath "$1"); out=$2; src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"; out=$(realpath "$out")
cli=$build/apps/qtzflow
cd "$out"
for toml in "$src"/examples/*.toml; do
  name=$(basename "$toml" .toml)
  "$cli" --threads 2 run "$toml" -q -o "$out/$name.h5"
done
"$cli" --threads 2 run -q -o "$out/default.h5"
"$build"/examples/tilted_double_well 4 > "$out/tilted_double_well.txt"
"$build"/examples/qtz_own_loop 1 > "$out/qtz_own_loop.txt"
for algo in qtz qtz-local qtz-dither langevin sa qia pagmo-sa; do
  "$cli" --threads 2 optimize --objective rastrigin --dim 2 --algorithm "$algo" --runs 6 --budget 3000 --json -o "$out/optimize_$algo.h5" \
    | sed 's/"wall_seconds": [0-9.e+-]*/"wall_seconds": 0/' > "$out/optimize_$algo.json"
done
"$cli" --threads 2 optimize --tsp "$src"/data/tsp/random100.tsp --unrounded --algorithm pimc --runs 2 --budget 3000 --json -o "$out/optimize_pimc.h5" \
  | sed 's/"wall_seconds": [0-9.e+-]*/"wall_seconds": 0/' > "$out/optimize_pimc.json"
"$cli" --threads 2 verify --quick -q -o "$out/verify" > /dev/null
if [ -d "$build/python/qtzflow" ]; then
  PYTHONPATH="$build/python" /usr/bin/python3 -W ignore "$src/scripts/snapshot_python.py" "$out/python.npz"
fi
