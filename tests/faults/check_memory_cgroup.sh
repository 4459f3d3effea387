#!/bin/bash
# A job memory limit on the process's own cgroup (as Slurm and containers set it): a run that
# cannot fit must exit 2 naming grid.n and the limit, not be killed by the OOM killer.
# As root, a child memory cgroup of 1 GiB under this shell's own (cgroup v1 or v2); exit 77,
# skipped, where the kernel or the container refuses to make one.
#   check_memory_cgroup.sh QTZFLOW
set -u
Q=$(readlink -f "$1")
export OMP_NUM_THREADS=1 QTZFLOW_WISDOM_DIR=off
[ "$(id -u)" = 0 ] || { echo "SKIPPED: making a memory cgroup needs root"; exit 77; }
if [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then  # v1
  CG=/sys/fs/cgroup/memory$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup | cut -d: -f3)/qtzflow_test_$$
  LIMIT=memory.limit_in_bytes
else  # v2
  CG=/sys/fs/cgroup$(grep '^0::' /proc/self/cgroup | cut -d: -f3)/qtzflow_test_$$
  LIMIT=memory.max
fi
mkdir -p "$CG" 2>/dev/null && echo $((1 << 30)) > "$CG/$LIMIT" 2>/dev/null || { rmdir "$CG" 2>/dev/null; echo "SKIPPED: cannot make a memory cgroup here ($CG)"; exit 77; }
trap 'rmdir "$CG" 2>/dev/null' EXIT
W=$(mktemp -d); cd "$W"
bash -c "echo \$\$ > $CG/cgroup.procs && exec $Q run --set 'grid.n=[4096,4096]' -o out.h5 -q" 2> err.txt; rc=$?
echo "exit $rc: $(tail -1 err.txt)"
fail=0
[ $rc = 2 ] || { echo "FAILURE: exit $rc, expected 2 (137 is the OOM killer)"; fail=1; }
grep -q "grid.n" err.txt && grep -q "more than the 1 GiB this process may use" err.txt || { echo "FAILURE: the message names neither grid.n nor the 1 GiB limit"; fail=1; }
# the same grid outside the cgroup fits this machine's memory: the limit came from the cgroup
$Q run --set 'grid.n=[4096,4096]' --print-config > /dev/null || { echo "FAILURE: the grid does not fit outside the cgroup either: the test proves nothing"; fail=1; }
cd /; rm -rf "$W"
exit $fail
