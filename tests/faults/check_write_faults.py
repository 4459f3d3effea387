"""Fault injection: a run whose N-th write to a file fails, for every N of a run, must leave its
output readable with every snapshot that had finished, end with exit code 1 and the system's
reason, never with a signal, and restart.

    check_write_faults.py QTZFLOW FAIL_WRITES_SO WORK_DIR [--stride K]

FAIL_WRITES_SO is tests/faults/fail_writes.c built as a shared library (LD_PRELOAD): the N-th
write to a regular file fails with ENOSPC, and every later one (a disk that stays full), or once
with EIO.  Three cases, each write N of the first FIRST in turn, then every 4th to the run's own
number of writes (--first FIRST, default 100; --stride K multiplies the steps, 1 by default):
  new run     -o OUT.h5 where OUT.h5 holds an earlier run (another temperature): afterwards OUT.h5
              is either that earlier file, byte for byte, or the new run's first snapshots, all
              readable (h5py), and `--restart` completes it
  restart     --restart of an output with 2 snapshots: it keeps at least those 2, readable
  EIO once    one transient error: exit 1 at the failure, the output readable as above
Exit status 0 when every case held, 1 otherwise; 77 without h5py (skipped).
"""
import hashlib
import os
import shutil
import subprocess
import sys

try:
    import h5py
except ImportError:
    print("SKIPPED: h5py not found")
    sys.exit(77)

QTZFLOW, SHIM, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
STRIDE = int(sys.argv[sys.argv.index("--stride") + 1]) if "--stride" in sys.argv else 1
FIRST = int(sys.argv[sys.argv.index("--first") + 1]) if "--first" in sys.argv else 100


def failing_writes(total, first=FIRST, later=4):
    """Write numbers to fail: each of the first `first`, then every `later`-th up to one past the run's last write."""
    return sorted(set(range(1, min(first, total + 1) + 1, STRIDE)) | set(range(first + 1, total + 2, later * STRIDE)))

CONFIG = """[grid]
n = [32, 32]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
boundary = "reflecting"
[objective]
name = "double_well"
c = 0.3
[schedule]
T = {T}
[fokker_planck]
dt = 0.01
t_end = {t_end}
[output]
every = 2
"""


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshots(path):
    """The iterations of a readable output, each snapshot's density read whole; None if it is not readable."""
    try:
        with h5py.File(path, "r") as f:
            its = sorted(int(k) for k in f["data"])
            for it in its:
                rho = f[f"data/{it}/meshes/rho"][...]
                if rho.shape != (32, 32):
                    return None
            return its
    except Exception:
        return None


def run(args, env_extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", QTZFLOW_WISDOM_DIR="off")
    env.update(env_extra or {})
    return subprocess.run([QTZFLOW, "--threads", "1", "run"] + args, cwd=WORK, env=env, capture_output=True, text=True, timeout=300)


def clean(name):
    for p in (name, name.replace(".h5", ".xdmf"), name + ".lock", name + ".tmp"):
        if os.path.exists(os.path.join(WORK, p)):
            os.remove(os.path.join(WORK, p))
    shutil.rmtree(os.path.join(WORK, name + ".parts"), ignore_errors=True)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
for name, T, t_end in (("new.toml", 0.5, 0.06), ("earlier.toml", 0.3, 0.06), ("two.toml", 0.5, 0.02)):
    with open(os.path.join(WORK, name), "w") as f:
        f.write(CONFIG.format(T=T, t_end=t_end))
assert run(["earlier.toml", "-o", "earlier.h5", "-q"]).returncode == 0
assert run(["two.toml", "-o", "two.h5", "-q"]).returncode == 0
assert run(["new.toml", "-o", "whole.h5", "-q"]).returncode == 0
whole = snapshots(os.path.join(WORK, "whole.h5"))
earlier_sha = sha(os.path.join(WORK, "earlier.h5"))


def writes(args):
    count = os.path.join(WORK, "count.txt")
    if os.path.exists(count):
        os.remove(count)
    assert run(args, {"LD_PRELOAD": SHIM, "QTZFLOW_WRITE_COUNT": count, "ASAN_OPTIONS": "verify_asan_link_order=0"}).returncode == 0
    with open(count) as f:
        return int(f.read().split()[0])


failures, tried = [], {"new run": 0, "restart": 0, "EIO once": 0}
restarts = 0


def check(case, n, r, out, keep_at_least, restart_args):
    global restarts
    tried[case] += 1
    where = f"{case}, write {n} failing"
    if r.returncode < 0 or r.returncode not in (0, 1):
        failures.append(f"{where}: exit {r.returncode}: {r.stderr[-300:]}")
        return
    if r.returncode == 1 and "qtzflow: failed:" not in r.stderr:
        failures.append(f"{where}: exit 1 without a message: {r.stderr[-300:]}")
    path = os.path.join(WORK, out)
    its = snapshots(path)
    if its is None:
        failures.append(f"{where}: {out} is not readable afterwards")
        return
    if keep_at_least == "earlier":
        if sha(path) != earlier_sha and (not its or its != whole[: len(its)]):
            failures.append(f"{where}: {out} is neither the earlier output nor the new run's first snapshots: {its}")
            return
    elif len(its) < keep_at_least:
        failures.append(f"{where}: {out} lost snapshots: {its}")
        return
    # every few cases, the output continues to the end once the disk is fine again
    if r.returncode == 1 and n % 5 == 1 and (keep_at_least != "earlier" or sha(path) != earlier_sha):
        restarts += 1
        rr = run(restart_args + ["--restart", out, "-q"])
        if rr.returncode != 0 or snapshots(path) != whole:
            failures.append(f"{where}: the restart afterwards failed: exit {rr.returncode} {rr.stderr[-300:]}")


fault = {"LD_PRELOAD": SHIM, "ASAN_OPTIONS": "verify_asan_link_order=0"}
total_new = writes(["new.toml", "-o", "count_new.h5", "-q"])
for n in failing_writes(total_new):
    clean("out.h5")
    shutil.copy(os.path.join(WORK, "earlier.h5"), os.path.join(WORK, "out.h5"))
    r = run(["new.toml", "-o", "out.h5", "-q"], dict(fault, QTZFLOW_FAIL_WRITE=str(n)))
    check("new run", n, r, "out.h5", "earlier", ["new.toml"])

clean("count_two.h5")
shutil.copy(os.path.join(WORK, "two.h5"), os.path.join(WORK, "count_two.h5"))
total_restart = writes(["new.toml", "--restart", "count_two.h5", "-q"])
for n in failing_writes(total_restart, first=FIRST // 2):
    clean("out.h5")
    shutil.copy(os.path.join(WORK, "two.h5"), os.path.join(WORK, "out.h5"))
    r = run(["new.toml", "--restart", "out.h5", "-q"], dict(fault, QTZFLOW_FAIL_WRITE=str(n)))
    check("restart", n, r, "out.h5", 2, ["new.toml"])

for n in failing_writes(total_new, first=0, later=16):
    clean("out.h5")
    shutil.copy(os.path.join(WORK, "earlier.h5"), os.path.join(WORK, "out.h5"))
    r = run(["new.toml", "-o", "out.h5", "-q"], dict(fault, QTZFLOW_FAIL_WRITE=str(n), QTZFLOW_FAIL_ERRNO="EIO", QTZFLOW_FAIL_ONCE="1"))
    check("EIO once", n, r, "out.h5", "earlier", ["new.toml"])

print(f"write faults: a new run makes {total_new} writes, a restart {total_restart}; "
      f"{tried['new run']} + {tried['restart']} runs with write N failing (ENOSPC, then every write; each of the first {FIRST} and "
      f"{FIRST // 2}, then every 4th), {tried['EIO once']} with one EIO; "
      f"{restarts} restarts afterwards; {len(failures)} failures")
for f in failures[:20]:
    print("FAILURE:", f)
if not failures:
    shutil.rmtree(WORK, ignore_errors=True)
sys.exit(1 if failures else 0)
