#!/usr/bin/python3
"""Time to reach L2 error 1e-6 on the 2D harmonic coherent state: XMDS2 against qtzflow, in one run.

Problem (issue #2): i dpsi/dt = -1/2 Lap psi + 1/2 |x|^2 psi on [-10,10]^2, 256^2 points,
psi(0) = pi^(-1/2) exp(-((x-2)^2 + y^2)/2), one period t = 2 pi (exact: psi(2 pi) = psi(0)).
XMDS2 integrates with RK4 in the interaction picture (kinetic operator exact in Fourier space),
the algorithm its documentation recommends for this problem.  For both codes the smallest step
count reaching the target is searched, then that run is timed (XMDS2: its own "Time elapsed for
simulation", median of 5 runs, FFTW wisdom warm; qtzflow: see bench_coherent_2d.cpp).

Then the whole processes, as a user sees them (--whole-process): `qtzflow run` of
examples/coherent_state.toml with every default (measured FFT plans, HDF5 output with a snapshot
every 25 steps, XDMF) at the largest dt reaching the target, against XMDS2's compiled program
with XMDS2's default settings (no <fftw> element: XMDS2 then plans with FFTW_PATIENT and keeps
wisdom in ~/.xmds/wisdom), each timed by wall clock from process start to exit, median of 5 runs
with warm wisdom on both sides; the first (cold) run of each is reported beside it.  XMDS2's
compile step (xmds2 + g++, paid once per script) is reported separately.

With --adaptive (issue #30): both codes under error control at tolerances 1e-4, 1e-6, 1e-8, the
same tolerance on both sides: XMDS2's ARK45 (Cash-Karp 4(5) in the interaction picture, its PI
controller) with `tolerance`, against `qtzflow run examples/coherent_state.toml --set
schrodinger.tolerance=...` (chin4, step doubling; dt = 2π/8 as the first and largest step).
Whole processes with default settings, median of 5 warm runs; the achieved L2 errors beside.

Usage: /usr/bin/python3 bench/xmds2_vs_qtzflow.py [--target 1e-6] [--threads 1] [--build build] [--whole-process] [--adaptive]
Needs the Debian package xmds2 (bash scripts/install-deps.sh --bench).
"""
import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

XMDS = """<?xml version="1.0" encoding="UTF-8"?>
<simulation xmds-version="2">
  <name>coherent2d</name>
  <features>
    <benchmark />
    <fftw plan="measure" threads="{threads}" />
    <globals><![CDATA[ const double x0 = 2.0; ]]></globals>
  </features>
  <geometry>
    <propagation_dimension> t </propagation_dimension>
    <transverse_dimensions>
      <dimension name="x" lattice="256" domain="(-10, 10)" />
      <dimension name="y" lattice="256" domain="(-10, 10)" />
    </transverse_dimensions>
  </geometry>
  <vector name="potential" type="real" dimensions="x y">
    <components> V </components>
    <initialisation><![CDATA[ V = 0.5*(x*x + y*y); ]]></initialisation>
  </vector>
  <vector name="wavefunction" type="complex" dimensions="x y">
    <components> psi </components>
    <initialisation><![CDATA[ psi = exp(-0.5*((x-x0)*(x-x0) + y*y)) / sqrt(M_PI); ]]></initialisation>
  </vector>
  <sequence>
    <integrate algorithm="RK4" interval="6.283185307179586" steps="{steps}">
      <samples>1</samples>
      <operators>
        <operator kind="ip" type="imaginary">
          <operator_names>Tk</operator_names>
          <![CDATA[ Tk = -i*0.5*(kx*kx + ky*ky); ]]>
        </operator>
        <integration_vectors>wavefunction</integration_vectors>
        <dependencies>potential</dependencies>
        <![CDATA[ dpsi_dt = Tk[psi] - i*V*psi; ]]>
      </operators>
    </integrate>
  </sequence>
  <output format="hdf5" filename="coherent2d">
    <sampling_group basis="x y" initial_sample="no">
      <moments> psiR psiI </moments>
      <dependencies>wavefunction</dependencies>
      <![CDATA[ psiR = psi.Re(); psiI = psi.Im(); ]]>
    </sampling_group>
  </output>
</simulation>
"""


def xmds_script(steps, threads, default_settings=False, tolerance=None):
    text = XMDS.format(steps=steps, threads=threads)
    if tolerance is not None:  # ARK45 with its error control instead of fixed RK4 steps
        text = text.replace(f'algorithm="RK4" interval="6.283185307179586" steps="{steps}"',
                            f'algorithm="ARK45" interval="6.283185307179586" tolerance="{tolerance:g}"')
    if default_settings:  # XMDS2's defaults: no <fftw> element (FFTW_PATIENT, one thread), no <benchmark/>
        text = text.replace(f'    <fftw plan="measure" threads="{threads}" />\n', "").replace("    <benchmark />\n", "")
    return text


def xmds_run(work, steps, threads, repeats=1, default_settings=False, whole_process=False, tolerance=None):
    """Compiles and runs the XMDS2 script with `steps` steps; returns (L2 error, median seconds,
    seconds of the first run, compile seconds).  Seconds are XMDS2's own "Time elapsed for
    simulation", or with whole_process the wall time of the program from start to exit."""
    with open(os.path.join(work, "coherent2d.xmds"), "w") as f:
        f.write(xmds_script(steps, threads, default_settings, tolerance))
    t0 = time.perf_counter()
    subprocess.run(["xmds2", "coherent2d.xmds"], cwd=work, check=True, capture_output=True)
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(["./coherent2d"], cwd=work, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t0
        times.append(wall if whole_process else float(re.search(r"Time elapsed for simulation is: ([0-9.eE+-]+) seconds", out).group(1)))
    with h5py.File(os.path.join(work, "coherent2d.h5"), "r") as h:
        g = h["1"]
        x, y = g["x"][:], g["y"][:]
        psi = (g["psiR"][...] + 1j * g["psiI"][...]).reshape(len(x), len(y))
    X, Y = np.meshgrid(x, y, indexing="ij")
    exact = np.exp(-0.5 * ((X - 2) ** 2 + Y ** 2)) / math.sqrt(math.pi)
    err = math.sqrt(np.sum(np.abs(psi - exact) ** 2) * (x[1] - x[0]) * (y[1] - y[0]))
    if not math.isfinite(err):
        err = math.inf
    return err, statistics.median(times[1:] if len(times) > 1 else times), times[0], compile_s


def qtzflow_run(root, build, work, steps, threads, cache, tolerance=None):
    """`qtzflow run examples/coherent_state.toml` with every default but dt (and the tolerance);
    returns (L2 error at t = 2 pi, wall seconds of the whole process)."""
    out = os.path.join(work, "coherent_state.h5")
    cmd = [os.path.join(root, build, "apps", "qtzflow"), "--threads", str(threads), "run",
           os.path.join(root, "examples", "coherent_state.toml"), "-q", "-o", out,
           "--set", f"schrodinger.dt={2 * math.pi / steps!r}"]
    if tolerance is not None:
        cmd += ["--set", f"schrodinger.tolerance={tolerance!r}", "--set", "output.every=1"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, QTZFLOW_WISDOM_DIR=cache), capture_output=True)
    wall = time.perf_counter() - t0
    with h5py.File(out, "r") as h:
        it = max(h["data"].keys(), key=int)
        g = h[f"data/{it}/meshes/psi"]
        psi = g["re"][...] + 1j * g["im"][...]
        dx, dy = g["re"].attrs["gridSpacing"]
        x0, y0 = g["re"].attrs["gridGlobalOffset"]
    x = x0 + dx * np.arange(psi.shape[0])
    y = y0 + dy * np.arange(psi.shape[1])
    X, Y = np.meshgrid(x, y, indexing="ij")
    exact = np.exp(-0.5 * ((X - 2) ** 2 + Y ** 2)) / math.sqrt(math.pi)
    return math.sqrt(np.sum(np.abs(psi - exact) ** 2) * dx * dy), wall


def whole_process(root, args, work):
    """Both programs as a user runs them; prints a Markdown table."""
    # qtzflow: the largest dt = 2 pi / steps meeting the target (order 4 predicts, then +2 %)
    cache = tempfile.mkdtemp(prefix="qtzflow_wisdom_")
    try:
        n = 32
        e, _ = qtzflow_run(root, args.build, work, n, args.threads, cache)
        n = int(math.ceil(n * (e / args.target) ** 0.25 * 0.97))
        while True:
            e, _ = qtzflow_run(root, args.build, work, n, args.threads, cache)
            print(f"qtzflow steps {n} error {e:.3e}", file=sys.stderr)
            if e <= args.target:
                break
            n = int(math.ceil(n * 1.02))
        shutil.rmtree(cache)
        os.makedirs(cache)
        runs = [qtzflow_run(root, args.build, work, n, args.threads, cache) for _ in range(6)]
        q_first, q_warm = runs[0][1], statistics.median(r[1] for r in runs[1:])
        q = (n, runs[-1][0], q_first, q_warm)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    # XMDS2 with its defaults: the smallest RK4 step count meeting the target
    n = 400
    e, *_ = xmds_run(work, n, args.threads, default_settings=True, whole_process=True)
    n = int(math.ceil(n * (e / args.target) ** 0.25 * 0.97))
    while True:
        e, *_ = xmds_run(work, n, args.threads, default_settings=True, whole_process=True)
        print(f"xmds2 (defaults) steps {n} error {e:.3e}", file=sys.stderr)
        if e <= args.target:
            break
        n = int(math.ceil(n * 1.02))
    wisdom = os.path.expanduser("~/.xmds/wisdom")
    shutil.rmtree(wisdom, ignore_errors=True)  # the first run plans from nothing, as qtzflow's did
    e, x_warm, x_first, x_compile = xmds_run(work, n, args.threads, repeats=6, default_settings=True, whole_process=True)
    print(f"| program (whole process, wall clock, {args.threads} thread) | steps to L2 <= {args.target:g} | error | first run, cold wisdom (s) | "
          "median of 5 warm runs (s) | XMDS2 / qtzflow (warm) |")
    print("|---|---|---|---|---|---|")
    print(f"| XMDS2 3.1 compiled program, default settings (RK4-IP, FFTW_PATIENT) | {n} | {e:.2e} | {x_first:.2f} | {x_warm:.2f} | 1 |")
    print(f"| `qtzflow run examples/coherent_state.toml`, defaults (Chin 4A, measured plans, HDF5 every 25 steps) | {q[0]} | {q[1]:.2e} | "
          f"{q[2]:.2f} | {q[3]:.2f} | **{x_warm / q[3]:.1f}** |")
    print(f"\nXMDS2's compile step (xmds2 + g++) before its first run: {x_compile:.1f} s.")


def adaptive(root, args, work):
    """Both codes under error control; prints two Markdown tables: at the same tolerance, and at
    equal achieved error (for each XMDS2 run, the loosest qtzflow tolerance of 10^(-k/2) whose
    achieved error is at most XMDS2's)."""
    cache = tempfile.mkdtemp(prefix="qtzflow_wisdom_")
    rows, matched = [], []
    ladder = [10 ** (-k / 2) for k in range(6, 24)]  # 1e-3 ... 3e-12
    q_errors = {}

    def q_error(tol):
        if tol not in q_errors:
            q_errors[tol] = qtzflow_run(root, args.build, work, 8, args.threads, cache, tolerance=tol)[0]
        return q_errors[tol]

    def q_time(tol):
        shutil.rmtree(cache)
        os.makedirs(cache)
        runs = [qtzflow_run(root, args.build, work, 8, args.threads, cache, tolerance=tol) for _ in range(6)]
        return runs[-1][0], runs[0][1], statistics.median(r[1] for r in runs[1:])

    try:
        for tol in (1e-4, 1e-6, 1e-8):
            shutil.rmtree(os.path.expanduser("~/.xmds/wisdom"), ignore_errors=True)
            xe, x_warm, x_first, x_compile = xmds_run(work, 0, args.threads, repeats=6, default_settings=True, whole_process=True, tolerance=tol)
            qe, q_first, q_warm = q_time(tol)
            print(f"tol {tol:g}: xmds2 error {xe:.3e} {x_warm:.3f} s, qtzflow error {qe:.3e} {q_warm:.3f} s", file=sys.stderr)
            rows.append((tol, xe, x_first, x_warm, qe, q_first, q_warm, x_compile))
            match = next((t for t in ladder if q_error(t) <= xe), None)
            if match is not None:
                me, _, m_warm = q_time(match)
                matched.append((tol, xe, x_warm, match, me, m_warm))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print("At the same tolerance:\n")
    print(f"| tolerance | XMDS2 ARK45 error | XMDS2 first / warm (s) | qtzflow chin4 error | qtzflow first / warm (s) | "
          f"XMDS2 / qtzflow time (warm) | XMDS2 / qtzflow error |")
    print("|---|---|---|---|---|---|---|")
    for tol, xe, xf, xw, qe, qf, qw, _ in rows:
        print(f"| {tol:.0e} | {xe:.2e} | {xf:.2f} / {xw:.2f} | {qe:.2e} | {qf:.2f} / {qw:.2f} | **{xw / qw:.1f}** | {xe / qe:.2g} |")
    print("\nAt equal achieved error (qtzflow at the loosest tolerance of 10^(-k/2) reaching XMDS2's error or better):\n")
    print("| XMDS2 tolerance | XMDS2 error | XMDS2 warm (s) | qtzflow tolerance | qtzflow error | qtzflow warm (s) | XMDS2 / qtzflow time |")
    print("|---|---|---|---|---|---|---|")
    for tol, xe, xw, mt, me, mw in matched:
        print(f"| {tol:.0e} | {xe:.2e} | {xw:.2f} | {mt:.1e} | {me:.2e} | {mw:.2f} | **{xw / mw:.1f}** |")
    print(f"\nXMDS2's compile step (xmds2 + g++) before its first run: {rows[-1][7]:.1f} s per tolerance.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--build", default="build")
    ap.add_argument("--whole-process", action="store_true", help="also time both programs as whole processes with default settings")
    ap.add_argument("--adaptive", action="store_true", help="only the error-controlled comparison (ARK45 against chin4 with a tolerance)")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = os.path.join(root, "bench", "xmds2_work")
    os.makedirs(work, exist_ok=True)
    if args.adaptive:
        adaptive(root, args, work)
        return

    # XMDS2: RK4 is only stable for dt·max|V| < 2.8 (max V = 100 at the corners), so start at 400
    # steps, predict with order 4, then step up by 2 % until the target holds.
    n = 400
    e, *_ = xmds_run(work, n, args.threads)
    n = int(math.ceil(n * (e / args.target) ** 0.25 * 0.97))
    while True:
        e, *_ = xmds_run(work, n, args.threads)
        print(f"xmds2 steps {n} error {e:.3e}", file=sys.stderr)
        if e <= args.target:
            break
        n = int(math.ceil(n * 1.02))
    e, t_xmds, *_ = xmds_run(work, n, args.threads, repeats=6)
    xmds = (n, e, t_xmds)

    ours = {}
    out = subprocess.run([os.path.join(root, args.build, "bench", "bench_coherent_2d"), str(args.target), str(args.threads)],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"qtzflow (\S+) steps (\d+) error (\S+) setup_s (\S+) steps_s (\S+) total_s (\S+)", line)
        if m:
            ours[m.group(1)] = (int(m.group(2)), float(m.group(3)), float(m.group(6)))

    print(f"| code / scheme | steps to L2 error <= {args.target:g} | error | time (s) | XMDS2 time / this |")
    print("|---|---|---|---|---|")
    print(f"| XMDS2 3.1 RK4 (interaction picture) | {xmds[0]} | {xmds[1]:.2e} | {xmds[2]:.3f} | 1 |")
    for name in ("strang", "yoshida4", "chin4"):
        n, e, t = ours[name]
        print(f"| qtzflow {name} | {n} | {e:.2e} | {t:.3f} | **{xmds[2] / t:.1f}** |")
    if args.whole_process:
        print()
        whole_process(root, args, work)


if __name__ == "__main__":
    main()
