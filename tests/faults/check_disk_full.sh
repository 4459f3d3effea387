#!/bin/bash
# A full disk, for real: a 2 MiB tmpfs (as root; exit 77, skipped, where the kernel refuses the
# mount).  A 64 x 64 Fokker-Planck run with a snapshot every 2 steps fills it:
#   - qtzflow exits 1 naming the write that failed ("No space left on device"), no signal;
#   - OUT.h5 stays the last complete version: readable, every snapshot in it whole, and a restart
#     completes it once there is room (copied to a larger folder);
#   - another output in the same folder is untouched;
# and a run on a disk full from the start exits 1 with the reason, leaving nothing behind.
#   check_disk_full.sh QTZFLOW WORK_DIR
set -u
Q=$(readlink -f "$1"); W=$2
export OMP_NUM_THREADS=1 QTZFLOW_WISDOM_DIR=off
rm -rf "$W"; mkdir -p "$W/small" "$W/large"; cd "$W"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2m tmpfs small 2>/dev/null; then
  echo "SKIPPED: mounting a 2 MiB tmpfs needs root and a kernel that allows it"; exit 77
fi
trap 'umount "$W/small" 2>/dev/null' EXIT
fail=0
config() {
  cat <<TOML
[grid]
n = [64, 64]
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
t_end = $1
[output]
every = 2
TOML
}
config 0.02 > earlier.toml; config 2.0 > run.toml
"$Q" run earlier.toml -o small/earlier.h5 -q || { echo "FAILURE: the earlier run failed"; exit 1; }
before=$(sha256sum < small/earlier.h5)
"$Q" run run.toml -o small/run.h5 -q 2> err.txt; rc=$?
echo "full disk mid-run: exit $rc: $(tail -1 err.txt)"
[ $rc = 1 ] || { echo "FAILURE: exit $rc, expected 1"; fail=1; }
grep -q "No space left on device" err.txt || { echo "FAILURE: the message does not name the reason"; fail=1; }
[ "$(sha256sum < small/earlier.h5)" = "$before" ] || { echo "FAILURE: another output in the folder changed"; fail=1; }
n=$(/usr/bin/python3 - small/run.h5 <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    its = sorted(int(k) for k in f["data"])
    for it in its:
        assert f[f"data/{it}/meshes/rho"].shape == (64, 64)
        f[f"data/{it}/meshes/rho"][...]
print(len(its))
PY
) || { echo "FAILURE: small/run.h5 is not readable"; fail=1; n=0; }
echo "the output kept $n snapshots"
[ "${n:-0}" -ge 1 ] || { echo "FAILURE: no snapshot kept"; fail=1; }
cp -r small/run.h5 small/run.h5.parts large/ 2>/dev/null
"$Q" run run.toml --restart large/run.h5 -q 2> err2.txt || { echo "FAILURE: the restart with room failed: $(tail -1 err2.txt)"; fail=1; }
umount small; mount -t tmpfs -o size=2m tmpfs small
dd if=/dev/zero of=small/filler bs=1k count=2040 2>/dev/null
"$Q" run run.toml -o small/run2.h5 -q 2> err3.txt; rc=$?
echo "full disk from the start: exit $rc: $(tail -1 err3.txt)"
[ $rc = 1 ] || { echo "FAILURE: exit $rc, expected 1"; fail=1; }
grep -q "No space left on device" err3.txt || { echo "FAILURE: the message does not name the reason"; fail=1; }
left=$(ls -A small | grep -v '^filler$')
[ -z "$left" ] || { echo "FAILURE: left behind: $left"; fail=1; }
exit $fail
