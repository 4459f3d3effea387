#!/usr/bin/python3
"""Wall time of whole `qtzflow` processes on a quiet machine and next to one busy process.

A user's laptop or a shared node is rarely quiet: another process takes one core while qtzflow
runs with its default thread count (every core).  An OpenMP team whose idle threads spin
(libgomp's default wait: ~300000 spins before sleeping) then fights that process for the cores.
qtzflow sets its own wait policy (core/parallel.hpp, `wait_policy`); this program measures it
against libgomp's default, side by side in one run:

    policy "qtzflow"      what a user gets: nothing set in the environment
    policy "libgomp"      libgomp's default restored (GOMP_SPINCOUNT=300000: qtzflow leaves an
                          explicit setting alone), i.e. qtzflow before it chose a policy

for the built-in default scenario (`qtzflow run`), the same on a 512² grid (large enough to be
threaded) and `qtzflow verify --quick`, each quiet and
with one busy process (a Python loop spinning on one core), default threads; median of
--repeats runs (verify: --verify-repeats).  Then, quiet, one thread against two on grids of
128² to 1024² points: where a second thread starts to pay (core::kParallelThreshold).  The goals (issue #26): busy <= 1.5x quiet, and the
quiet time within 1.1x of libgomp's default.
Usage: /usr/bin/python3 bench/busy_machine.py [--build build] [--repeats 5] [--verify-repeats 1]
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

POLICIES = {"qtzflow": {}, "libgomp": {"GOMP_SPINCOUNT": "300000"}}


def timed(cmd, cwd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def busy_process():
    """One process spinning on one core until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--verify-repeats", type=int, default=1)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    qtzflow = os.path.join(root, args.build, "apps", "qtzflow")
    work = tempfile.mkdtemp(prefix="qtzflow_busy_")
    cases = [("default scenario (`qtzflow run`)", ["run", "-q", "-o", "out.h5"], args.repeats),
             ("default scenario on 512² (threaded; `--set grid.n=[512,512] --set schrodinger.t_end=2.5`)",
              ["run", "-q", "-o", "out.h5", "--set", "grid.n=[512, 512]", "--set", "schrodinger.t_end=2.5"], args.repeats),
             ("`qtzflow verify --quick`", ["verify", "--quick", "-q", "-o", "verify_out"], args.verify_repeats)]
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    base["QTZFLOW_WISDOM_DIR"] = os.path.join(work, "cache")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; default threads ({os.cpu_count()})")
    print()
    print("| command | wait policy | quiet (s) | next to 1 busy process (s) | busy / quiet | quiet / libgomp's quiet |")
    print("|---|---|---|---|---|---|")
    try:
        for name, argv, repeats in cases:
            subprocess.run([qtzflow] + argv, cwd=work, env=base, check=True, capture_output=True)  # warm the wisdom cache
            quiet, busy = {}, {}
            # interleaved (policy by policy inside each repeat), so that drifts of a shared machine
            # fall on both policies alike
            samples = {(p, b): [] for p in POLICIES for b in (False, True)}
            for _ in range(repeats):
                for b in (False, True):
                    hog = busy_process() if b else None
                    try:
                        if hog:
                            time.sleep(0.3)
                        for p, extra in POLICIES.items():
                            samples[(p, b)].append(timed([qtzflow] + argv, work, dict(base, **extra)))
                    finally:
                        if hog:
                            hog.kill()
                            hog.wait()
            for p in POLICIES:
                quiet[p] = statistics.median(samples[(p, False)])
                busy[p] = statistics.median(samples[(p, True)])
            for p in POLICIES:
                print(f"| {name} | {p} | {quiet[p]:.2f} | {busy[p]:.2f} | {busy[p] / quiet[p]:.2f} | "
                      f"{quiet[p] / quiet['libgomp']:.2f} |", flush=True)
        # Where a second thread pays (core::kParallelThreshold): the default scenario's split-step
        # run on n x n grids (t_end scaled to keep n^2 x steps), quiet, one thread against two.
        print()
        print("| grid (default scenario, t_end scaled) | 1 thread (s) | 2 threads (s) | 2 threads / 1 |")
        print("|---|---|---|---|")
        for n in (128, 256, 512, 1024):
            argv = ["run", "-q", "-o", "out.h5", "--set", f"grid.n=[{n}, {n}]", "--set", f"schrodinger.t_end={40 * 128 * 128 / (n * n):g}"]
            subprocess.run([qtzflow] + argv, cwd=work, env=base, check=True, capture_output=True)  # plans into the cache
            t = {th: [] for th in (1, 2)}
            for _ in range(args.repeats):
                for th in (1, 2):
                    t[th].append(timed([qtzflow, "--threads", str(th)] + argv, work, base))
            one, two = statistics.median(t[1]), statistics.median(t[2])
            print(f"| {n}² | {one:.2f} | {two:.2f} | {two / one:.2f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
