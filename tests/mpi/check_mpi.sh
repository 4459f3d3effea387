#!/usr/bin/env bash
# qtzflow under mpirun (core/mpi.hpp): optimizer studies on 1, 2, 3 and 4 ranks (oversubscribed
# beyond the cores) give the results of the run without mpirun, bit for bit; engines refuse more
# than one rank (exit 2, naming mpirun -n); one failing rank ends every rank (no hang).
# Usage: check_mpi.sh QTZFLOW_CLI SOURCE_DIR      exit 77 (ctest: skipped) without mpirun
set -euo pipefail
cli=$1; src=$2
if ! command -v mpirun > /dev/null; then echo "SKIPPED: no mpirun (Debian: openmpi-bin)"; exit 77; fi
if ! "$cli" info | grep -q "built with MPI"; then echo "SKIPPED: qtzflow built without MPI"; exit 77; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
# containers without ptrace permission: shared memory without the CMA single-copy path
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d /tmp/qtzflow-mpi-XXXXXX)
trap 'rm -rf "$work"' EXIT
results() {  # the per-run results of a --json report, without wall time and thread count
  /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(d['results'], sort_keys=True)); print(d['mean'], d['best'], d['success_rate'])"
}
fail=0
check() {  # name, then the optimize arguments
  local name=$1; shift
  "$cli" --threads 1 optimize "$@" --json | results > "$work/serial.txt"
  for n in 1 2 3 4; do
    timeout 300 mpirun -n "$n" "$cli" --threads 1 optimize "$@" --json | results > "$work/mpi$n.txt"
    if ! cmp -s "$work/serial.txt" "$work/mpi$n.txt"; then echo "mpi: $name on $n ranks differs from the serial run"; fail=1; fi
  done
  echo "mpi: $name: ranks 1-4 equal the serial run ($(head -c 60 "$work/serial.txt")...)"
}
check "qtz on 2D rastrigin, 10 runs" --objective rastrigin --dim 2 --algorithm qtz --runs 10 --budget 4000 --seed 4
check "qtz-dither, 7 runs (fewer than 2 per rank)" --objective double_well --dim 3 --param c=0.3 --algorithm qtz-dither --runs 7 --budget 3000 --seed 9
check "sa on the random10 TSP" --tsp "$src/data/tsp/random10.tsp" --unrounded --algorithm sa --runs 9 --budget 5000 --seed 2
check "pimc on the random10 TSP" --tsp "$src/data/tsp/random10.tsp" --unrounded --algorithm pimc --runs 5 --budget 3000 --seed 2
# an HDF5 result written once, by rank 0, equal to the serial one
"$cli" --threads 1 optimize --objective rastrigin --dim 2 --runs 6 --budget 2000 -o "$work/a.h5" --json > /dev/null
timeout 300 mpirun -n 3 "$cli" --threads 1 optimize --objective rastrigin --dim 2 --runs 6 --budget 2000 -o "$work/b.h5" --json > /dev/null
if ! h5diff -d 0 "$work/a.h5" "$work/b.h5" /optimize > /dev/null; then echo "mpi: the HDF5 results of 3 ranks differ"; fail=1; fi
# engines on more than one rank: exit 2 naming mpirun -n, every rank leaving
set +e
msg=$(timeout 120 mpirun -n 2 "$cli" run -q -o "$work/r.h5" 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $msg != *"mpirun -n"* ]]; then echo "mpi: qtzflow run on 2 ranks: expected exit 2 naming mpirun -n, got $rc: $msg"; fail=1; fi
if [[ -e "$work/r.h5" ]]; then echo "mpi: the refused run wrote its output"; fail=1; fi
# bad input on every rank: exit 2 from all, one message
set +e
msg=$(timeout 120 mpirun -n 3 "$cli" optimize --objective rastrign --runs 4 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $(grep -c "objective" <<< "$msg") -lt 1 ]]; then echo "mpi: bad input on 3 ranks: expected exit 2, got $rc: $msg"; fail=1; fi
exit $fail
