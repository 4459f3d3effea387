#!/usr/bin/env bash
# pagmo2 is optional: configure and build the CLI without it, check that every other algorithm
# runs and that pagmo-sa is refused as bad input (exit 2, the message names the algorithm).
# Usage: tests/check_without_pagmo.sh [BUILD_DIR]   (run from the repository root; CI runs it)
set -euo pipefail
build=${1:-build-nopagmo}
cmake -S . -B "$build" -DQTZFLOW_WITH_PAGMO=OFF -DQTZFLOW_BUILD_TESTS=OFF -DQTZFLOW_BUILD_BENCH=OFF -DQTZFLOW_BUILD_EXAMPLES=OFF -DQTZFLOW_PYTHON=OFF > "$build.log"
grep -q "pagmo2 baseline (pagmo-sa) OFF" "$build.log"
cmake --build "$build" -j2 --target qtzflow >> "$build.log"
cli=$build/apps/qtzflow
for algo in qtz qtz-local qtz-dither langevin sa qia; do
  "$cli" optimize --objective rastrigin --dim 2 --algorithm "$algo" --runs 2 --budget 1000 --json > /dev/null
done
"$cli" optimize --tsp data/tsp/random10.tsp --unrounded --algorithm pimc --runs 1 --budget 300 --json > /dev/null
set +e
msg=$("$cli" optimize --objective rastrigin --algorithm pagmo-sa --runs 1 --budget 10 2>&1)
rc=$?
set -e
if [[ $rc -ne 2 || $msg != *"--algorithm"*"pagmo"* ]]; then
  echo "without pagmo: expected exit 2 naming --algorithm, got $rc: $msg" >&2
  exit 1
fi
echo "without pagmo: 7 algorithms run, pagmo-sa refused: $msg"
