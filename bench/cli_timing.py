#!/usr/bin/python3
"""Wall time of whole `qtzflow` processes as a user runs them: the numbers the README quotes.

Times, from process start to exit (planning, HDF5 output, everything), for
  - `qtzflow info`: what starting a process costs (loading the libraries, their static
    initialisers, qtzflow's own re-execution with its OpenMP wait policy, core/parallel.hpp);
  - `qtzflow run`: the built-in default scenario, with all defaults, and with a diagnostics row
    every step (what output.diagnostics_every = 1 costs, docs/config.md);
  - `qtzflow run examples/coherent_state.toml`, with all defaults;
each with an empty FFTW wisdom cache (the first run on a machine) and then warm (median of 5),
with the default thread count and with one thread.
Usage: /usr/bin/python3 bench/cli_timing.py [--build build] [--repeats 5]
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time


def timed(cmd, cwd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    qtzflow = os.path.join(root, args.build, "apps", "qtzflow")
    work = tempfile.mkdtemp(prefix="qtzflow_cli_timing_")
    cases = [
        ("process start and exit (`qtzflow info`)", ["info"]),
        ("default scenario (`qtzflow run`)", ["run", "-q", "-o", "out.h5"]),
        ("default scenario, a diagnostics row every step (`--set output.diagnostics_every=1`)",
         ["run", "-q", "-o", "out.h5", "--set", "output.diagnostics_every=1"]),
        ("coherent state (`qtzflow run examples/coherent_state.toml`)",
         ["run", os.path.join(root, "examples", "coherent_state.toml"), "-q", "-o", "out.h5"]),
    ]
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    print("| command | threads | first run, empty wisdom cache (s) | warm, median of %d (s) |" % args.repeats)
    print("|---|---|---|---|")
    try:
        for name, argv in cases:
            for threads in (None, 1):
                cache = os.path.join(work, "cache")
                shutil.rmtree(cache, ignore_errors=True)
                env = dict(os.environ, QTZFLOW_WISDOM_DIR=cache)
                cmd = [qtzflow] + ([] if threads is None else ["--threads", str(threads)]) + argv
                first = timed(cmd, work, env)
                warm = statistics.median(timed(cmd, work, env) for _ in range(args.repeats))
                print(f"| {name} | {'default (' + str(os.cpu_count()) + ')' if threads is None else threads} | {first:.2f} | {warm:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
