#!/usr/bin/env bash
# qtzflow under mpirun (core/mpi.hpp): optimizer studies on 1, 2, 3 and 4 ranks (oversubscribed
# beyond the cores) give the results of the run without mpirun, bit for bit; [schrodinger] runs on
# 2-4 ranks (slabs) write the serial run's file to 1e-12 relative, [fokker_planck] runs to 1e-13
# (rho to rounding: the sums over ranks add in another order), [particles] runs bit for bit, restarts on another rank count continue them;
# 1D grids refuse more than one rank (exit 2, naming mpirun -n); one failing rank ends every rank
# (no hang); SIGTERM to mpirun stops every rank at one step with a final snapshot.
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
check "qtz-nl on eil51 (neighbour lists shared by the runs)" --tsp "$src/data/tsplib/eil51.tsp" --algorithm qtz-nl --runs 7 --budget 20000 --seed 3
check "ils on berlin52" --tsp "$src/data/tsplib/berlin52.tsp" --algorithm ils --runs 5 --budget 20000 --seed 3
# an HDF5 result written once, by rank 0, equal to the serial one
"$cli" --threads 1 optimize --objective rastrigin --dim 2 --runs 6 --budget 2000 -o "$work/a.h5" --json > /dev/null
timeout 300 mpirun -n 3 "$cli" --threads 1 optimize --objective rastrigin --dim 2 --runs 6 --budget 2000 -o "$work/b.h5" --json > /dev/null
if ! h5diff -d 0 "$work/a.h5" "$work/b.h5" /optimize > /dev/null; then echo "mpi: the HDF5 results of 3 ranks differ"; fail=1; fi
# a benchmark study (scenario/study.hpp): each cell's runs divided among the ranks, the file of
# 2 and 3 ranks equal to one process's bit for bit (every dataset of every cell)
if "$cli" optimize --objective cec2014:1 --dim 10 --runs 1 --budget 10 > /dev/null 2>&1; then
  printf '[study]\nfunctions = [1, 4]\nalgorithms = ["qtz", "sa", "cmaes", "de1220"]\nruns = 5\nbudget_per_dimension = 300\n' > "$work/study.toml"
  "$cli" --threads 1 study -q "$work/study.toml" -o "$work/study1.h5"
  for n in 2 3; do
    timeout 300 mpirun -n "$n" "$cli" --threads 1 study -q "$work/study.toml" -o "$work/study$n.h5"
    if ! /usr/bin/python3 - "$work/study1.h5" "$work/study$n.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["cells"] for p in sys.argv[1:])
names = []
a.visit(names.append)
for n in names:  # every dataset bit for bit and every seed; wall times differ, of course
    if isinstance(a[n], h5py.Dataset) and not np.array_equal(a[n][()], b[n][()]): sys.exit(n + " differs")
    if "seed" in a[n].attrs and a[n].attrs["seed"] != b[n].attrs["seed"]: sys.exit(n + ": seed differs")
PY
    then echo "mpi: the study on $n ranks differs from one process"; fail=1; fi
  done
  echo "mpi: a study (4 algorithms x 2 functions x 5 runs) on 2 and 3 ranks equals the serial one"
else
  echo "mpi: no CEC suites in this build (pagmo2): the study case is left out"
fi
# the TSPLIB ladder's study: the same, for suite "tsplib"
printf '[study]\nsuite = "tsplib"\ninstances = ["eil51", "st70"]\nbudgets = [3000, 10000]\nalgorithms = ["qtz", "sa-nl", "ils"]\nruns = 5\ndata = "%s"\n' "$src/data/tsplib" > "$work/tsp.toml"
"$cli" --threads 1 study -q "$work/tsp.toml" -o "$work/tsp1.h5"
timeout 300 mpirun -n 3 "$cli" --threads 1 study -q "$work/tsp.toml" -o "$work/tsp3.h5"
if ! /usr/bin/python3 - "$work/tsp1.h5" "$work/tsp3.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["cells"] for p in sys.argv[1:])
names = []
a.visit(names.append)
for n in names:
    if isinstance(a[n], h5py.Dataset) and not np.array_equal(a[n][()], b[n][()]): sys.exit(n + " differs")
PY
then echo "mpi: the tsplib study on 3 ranks differs from one process"; fail=1; fi
echo "mpi: a tsplib study (3 algorithms x 2 instances x 2 budgets x 5 runs) on 3 ranks equals the serial one"
# ---- qtzflow run: every engine distributed; rank 0 gathers and writes ----
compare() { /usr/bin/python3 "$src/tests/mpi/compare_runs.py" "$@"; }
# against_serial TAG TOLERANCE "RANKS" RUN-ARGS...: the run on one rank, then under mpirun -n for
# each of RANKS; every output must equal the serial one to TOLERANCE (relative; 0: bit for bit)
against_serial() {
  local tag=$1 tol=$2 ranks=$3; shift 3
  "$cli" --threads 1 run -q -o "$work/$tag.h5" "$@"
  for n in $ranks; do
    timeout 300 mpirun -n "$n" "$cli" --threads 1 run -q -o "$work/$tag-$n.h5" "$@"
    if ! compare "$work/$tag.h5" "$work/$tag-$n.h5" "$tol"; then echo "mpi: $tag on $n ranks differs from the serial run"; fail=1; fi
  done
}
# restarted TAG TOLERANCE KEY=HALF RUN-ARGS...: 2 ranks (1 thread) to the half, continued on 3 ranks
# (2 threads each), against against_serial's output of TAG
restarted() {
  local tag=$1 tol=$2 half=$3; shift 3
  timeout 300 mpirun -n 2 "$cli" --threads 1 run -q -o "$work/$tag-r.h5" "$@" --set "$half"
  timeout 300 mpirun -n 3 "$cli" --threads 2 run -q --restart "$work/$tag-r.h5" "$@"
  if ! compare "$work/$tag.h5" "$work/$tag-r.h5" "$tol" --last-only; then echo "mpi: $tag restarted from 2 on 3 ranks differs"; fail=1; fi
}
# restarted_across TAG TOLERANCE KEY=HALF RUN-ARGS...: one process without mpirun to the half,
# continued on 2 ranks, and 2 ranks to the half, continued without mpirun (FFTW's wisdom cannot
# cross that line: the continuation plans anew), each against against_serial's output of TAG
restarted_across() {
  local tag=$1 tol=$2 half=$3; shift 3
  "$cli" --threads 1 run -q -o "$work/$tag-s.h5" "$@" --set "$half"
  timeout 300 mpirun -n 2 "$cli" --threads 1 run -q --restart "$work/$tag-s.h5" "$@"
  if ! compare "$work/$tag.h5" "$work/$tag-s.h5" "$tol" --last-only; then echo "mpi: $tag restarted from 1 process on 2 ranks differs"; fail=1; fi
  timeout 300 mpirun -n 2 "$cli" --threads 1 run -q -o "$work/$tag-m.h5" "$@" --set "$half"
  "$cli" --threads 1 run -q --restart "$work/$tag-m.h5" "$@"
  if ! compare "$work/$tag.h5" "$work/$tag-m.h5" "$tol" --last-only; then echo "mpi: $tag restarted from 2 ranks on 1 process differs"; fail=1; fi
}
# [schrodinger], slabs of axis 0.  Tolerance: the issue's 1e-12 after 100 steps (measured ~1e-13).
# The default scenario (2D real time, yoshida4, imaginary-time relaxation first), 100 steps:
against_serial default-2d 1e-12 "2 3 4" --set schrodinger.t_end=1 --set output.every=25 --set output.diagnostics_every=5
# 3D imaginary time, chin4 under a cooling schedule (potential rebuilt every step, |grad V|^2 halos)
cat > "$work/im3.toml" <<'TOML'
[grid]
n = [14, 12, 10]
lower = [-2.5, -2.5, -2.5]
upper = [2.5, 2.5, 2.5]
[objective]
name = "double_well"
c = 0.3
[schedule]
kind = "geometric"
T = 0.8
gamma = 0.99
[initial]
kind = "gaussian"
center = [0.5, 0.5, 0.5]
width = [0.6, 0.6, 0.6]
[schrodinger]
mode = "imaginary"
scheme = "chin4"
dt = 0.01
t_end = 1
[output]
every = 20
TOML
against_serial imaginary-3d 1e-12 "2 3 4" "$work/im3.toml"
restarted imaginary-3d 1e-12 schrodinger.t_end=0.5 "$work/im3.toml"
restarted_across imaginary-3d 1e-12 schrodinger.t_end=0.5 "$work/im3.toml"
echo "mpi: [schrodinger] runs on 2-4 ranks and 2 -> 3, 1 -> 2 and 2 -> 1 rank restarts equal the serial runs"
# [particles]: blocks of particles per rank, bit for bit the serial run (histograms, positions,
# diagnostics), also qtz-dither in 3D
part=("$src/examples/particles_vs_fokker_planck.toml" --set particles.count=5001 --set particles.t_end=0.2 --set output.every=50)
against_serial langevin-2d 0 "2 3 4" "${part[@]}"
restarted langevin-2d 0 particles.t_end=0.1 "${part[@]}"
restarted_across langevin-2d 0 particles.t_end=0.1 "${part[@]}"
cat > "$work/qd3.toml" <<'TOML'
[grid]
n = [12, 10, 8]
lower = [-2, -2, -2]
upper = [2, 2, 2]
[objective]
name = "rastrigin"
[schedule]
kind = "geometric"
T = 1.0
gamma = 0.999
[initial]
kind = "uniform"
[particles]
algorithm = "qtz-dither"
count = 777
dt = 0.01
t_end = 1
[output]
every = 25
TOML
against_serial qtz-dither-3d 0 "3" "$work/qd3.toml"
echo "mpi: [particles] runs on 2-4 ranks and 2 -> 3, 1 -> 2 and 2 -> 1 rank restarts equal the serial runs bit for bit"
# SIGKILL of every rank mid-run: rank 0's file keeps its finished snapshots and continues on 3 ranks
(timeout 120 mpirun -n 2 "$cli" --threads 1 run -q -o "$work/k.h5" --set schrodinger.t_end=400 --set output.every=50 > /dev/null 2>&1 &)
last_snapshot() { /usr/bin/python3 -c "import h5py; print(max(map(int, h5py.File('$work/k.h5', 'r')['data'].keys())))" 2> /dev/null || echo -1; }
for _ in $(seq 120); do  # kill once a few snapshots have landed (at most 60 s)
  [[ $(last_snapshot) -ge 200 ]] && break
  sleep 0.5
done
pkill -9 -f -- "-o $work/k.h5" || true
sleep 1
last=$(last_snapshot)
if [[ $last -lt 50 ]]; then echo "mpi: a killed 2-rank run left no readable snapshot (last iteration $last)"; fail=1
else
  timeout 300 mpirun -n 3 "$cli" --threads 1 run -q --restart "$work/k.h5" --set "schrodinger.t_end=$(( last / 100 + 1 ))" --set output.every=50 ||
    { echo "mpi: the killed run (last iteration $last) did not continue on 3 ranks"; fail=1; }
  echo "mpi: killed at iteration $last on 2 ranks, continued on 3"
fi
# [fokker_planck]: slabs, axis-0 lines by the partitioned solve (the default) or through a global
# transpose (line_solve = "transpose"); rho equal to the serial run's to rounding (~2e-16 at the
# start, ≤ 1e-14 later: the elimination order, the normalisation and the sums over ranks), hence
# 1e-13.  CN with absorbing walls under cooling in 2D, BE in 3D; restarts across rank counts.
fp=("$src/examples/fokker_planck_escape.toml" --set fokker_planck.t_end=0.5 --set fokker_planck.dt=0.005 --set output.every=25
    --set fokker_planck.scheme=crank_nicolson --set grid.boundary=absorbing --set schedule.kind=geometric --set schedule.gamma=0.99
    --set "grid.n=[60, 44]")
against_serial fokker-planck-2d 1e-13 "2 3 4" "${fp[@]}"
restarted fokker-planck-2d 1e-13 fokker_planck.t_end=0.25 "${fp[@]}"
restarted_across fokker-planck-2d 1e-13 fokker_planck.t_end=0.25 "${fp[@]}"
sed -e 's/\[schrodinger\]/[fokker_planck]/' -e 's/^mode = .*//' -e 's/^scheme = .*/scheme = "backward_euler"/' "$work/im3.toml" > "$work/fp3.toml"
against_serial fokker-planck-3d 1e-13 "3" "$work/fp3.toml"
against_serial fokker-planck-2d-transpose 1e-13 "3" "${fp[@]}" --set fokker_planck.line_solve=transpose
echo "mpi: [fokker_planck] runs on 2-4 ranks and 2 -> 3, 1 -> 2 and 2 -> 1 rank restarts equal the serial runs"
# SIGTERM to mpirun: Open MPI 4.1 sends the ranks SIGCONT, then SIGTERM odls_base_sigkill_timeout
# seconds later, then SIGKILL as long again (1 s by default; 3 s here, docs/developing.md).  The
# ranks agree at their next stop check (one reduction every 2^22 point updates) on the step,
# write a final snapshot together and exit 143.  The stopped run continues on one process
# (that such a continuation equals the uninterrupted run is checked in one process:
# tests/regression/test_hardening.cpp).  `timeout --foreground` passes the TERM to mpirun alone:
# without it, timeout signals its whole process group, the ranks stop at once while mpirun is
# tearing down, and their last words were sometimes lost (a flaky failure, seen in CI).
cat > "$work/term.toml" <<'TOML'
[grid]
n = [128, 128]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
boundary = "reflecting"
[objective]
name = "double_well"
c = 0.3
[schedule]
T = 0.5
[fokker_planck]
dt = 0.01
t_end = 30000.0
[output]
every = 100000000
TOML
OMPI_MCA_odls_base_sigkill_timeout=3 timeout --foreground 300 mpirun -n 2 "$cli" --threads 1 run "$work/term.toml" -o "$work/term.h5" 2> "$work/term.err" &
mpirun_pid=$!
# the first snapshot means every rank is stepping with its handlers set; a busy machine may
# take long to start two ranks, so wait up to a minute and say so if they never started
started=0
for _ in $(seq 600); do [[ -e "$work/term.h5" ]] && { started=1; break; }; sleep 0.1; done
sleep 1
kill -TERM $mpirun_pid
set +e
wait $mpirun_pid
term_status=$?
set -e
if (( ! started )); then echo "mpi: SIGTERM to mpirun: the run wrote no first snapshot within 60 s (exit $term_status): $(tail -3 "$work/term.err")"; fail=1
elif ! grep -q "stopped by signal 15 after a final snapshot" "$work/term.err"; then echo "mpi: SIGTERM to mpirun: no final snapshot (exit $term_status): $(tail -3 "$work/term.err")"; fail=1
else
  stopped=$(/usr/bin/python3 -c "import h5py; print(max(map(int, h5py.File('$work/term.h5', 'r')['data'].keys())))")
  if (( stopped % 256 != 0 || stopped == 0 )); then echo "mpi: SIGTERM: the final snapshot at $stopped is not at a stop check (every 256 steps)"; fail=1; fi
  if [[ -e "$work/term.h5.parts" || -e "$work/term.h5.lock" ]]; then echo "mpi: SIGTERM: parts or lock left behind"; fail=1; fi
  end=$(/usr/bin/python3 -c "print(($stopped + 512) / 100)")
  if ! "$cli" --threads 1 run -q "$work/term.toml" --restart "$work/term.h5" --set "fokker_planck.t_end=$end"; then
    echo "mpi: the run stopped by SIGTERM on 2 ranks did not continue on one process"; fail=1
  fi
  echo "mpi: SIGTERM to mpirun: every rank stopped at step $stopped with a final snapshot, continued on one process"
fi
# a 1D grid on more than one rank: exit 2 naming mpirun -n, nothing written
printf '[grid]\nn = [64]\nlower = [-2]\nupper = [2]\n[objective]\nname = "double_well"\n[initial]\ncenter = [0.5]\nwidth = [0.3]\n[fokker_planck]\nt_end = 0.1\n' > "$work/one.toml"
set +e
msg=$(timeout 120 mpirun -n 2 "$cli" run -q -o "$work/r.h5" "$work/one.toml" 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $msg != *"mpirun -n"* ]]; then echo "mpi: a 1D run on 2 ranks: expected exit 2 naming mpirun -n, got $rc: $msg"; fail=1; fi
if [[ -e "$work/r.h5" ]]; then echo "mpi: the refused run wrote its output"; fail=1; fi
# a grid that leaves a rank without rows: exit 2 naming grid.n[0] and the rank count, nothing written
set +e
msg=$(timeout 120 mpirun -n 3 "$cli" run -q -o "$work/r.h5" --set "grid.n=[2, 64]" 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $msg != *"grid.n[0]"* || $msg != *"3 MPI ranks"* ]]; then echo "mpi: 2 rows on 3 ranks: expected exit 2 naming grid.n[0], got $rc: $msg"; fail=1; fi
if [[ -e "$work/r.h5" ]]; then echo "mpi: the refused run wrote its output"; fail=1; fi
# bad input found by one rank only (f not finite on the last rank's rows, x > 2): exit 2 from all
set +e
msg=$(timeout 120 mpirun -n 2 "$cli" run -q -o "$work/r.h5" --set objective.name=expression --set 'objective.f="x^2 + y^2 + log(2 - x)"' 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $msg != *"objective.f"* ]]; then echo "mpi: f not finite on rank 1's rows: expected exit 2 naming objective.f, got $rc: $msg"; fail=1; fi
if [[ -e "$work/r.h5" ]]; then echo "mpi: the refused run wrote its output"; fail=1; fi
# restarts refused on 2 ranks, the file untouched: not an HDF5 file, and another grid
echo "not HDF5" > "$work/bad.h5"
for args in "--restart $work/bad.h5" "--restart $work/default-2d.h5 --set grid.n=[64,64]"; do
  before=$(md5sum "$work/bad.h5" "$work/default-2d.h5")
  set +e
  msg=$(timeout 120 mpirun -n 2 "$cli" run -q $args 2>&1); rc=$?
  set -e
  if [[ $rc -ne 2 || $msg != *"restart"* ]]; then echo "mpi: $args on 2 ranks: expected exit 2 naming restart, got $rc: $msg"; fail=1; fi
  if [[ $(md5sum "$work/bad.h5" "$work/default-2d.h5") != "$before" ]]; then echo "mpi: the refused restart $args changed a file"; fail=1; fi
done
# bad input on every rank: exit 2 from all, one message
set +e
msg=$(timeout 120 mpirun -n 3 "$cli" optimize --objective rastrign --runs 4 2>&1); rc=$?
set -e
if [[ $rc -ne 2 || $(grep -c "objective" <<< "$msg") -lt 1 ]]; then echo "mpi: bad input on 3 ranks: expected exit 2, got $rc: $msg"; fail=1; fi
exit $fail
