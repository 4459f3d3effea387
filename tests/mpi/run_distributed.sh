#!/usr/bin/env bash
# Runs the distributed-engine tests (tests/mpi/test_distributed.cpp) under mpirun on 1, 2, 3 and 4
# ranks (oversubscribed beyond the cores).  Usage: run_distributed.sh TEST_BINARY
# Exit 77 (ctest: skipped) without mpirun or without an MPI build (no binary given).
set -euo pipefail
bin=${1:-}
if [[ -z "$bin" ]]; then echo "SKIPPED: qtzflow built without MPI"; exit 77; fi
if ! command -v mpirun > /dev/null; then echo "SKIPPED: no mpirun (Debian: openmpi-bin)"; exit 77; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
fail=0
for n in 1 2 3 4; do
  echo "== mpirun -n $n"
  if ! timeout 600 mpirun -n "$n" "$bin" --no-colors=true; then echo "distributed tests failed on $n ranks"; fail=1; fi
done
exit $fail
