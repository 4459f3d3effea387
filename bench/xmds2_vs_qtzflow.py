#!/usr/bin/python3
"""Time to reach L2 error 1e-6 on the 2D harmonic coherent state: XMDS2 against qtzflow, in one run.

Problem (issue #2): i dpsi/dt = -1/2 Lap psi + 1/2 |x|^2 psi on [-10,10]^2, 256^2 points,
psi(0) = pi^(-1/2) exp(-((x-2)^2 + y^2)/2), one period t = 2 pi (exact: psi(2 pi) = psi(0)).
XMDS2 integrates with RK4 in the interaction picture (kinetic operator exact in Fourier space),
the algorithm its documentation recommends for this problem.  For both codes the smallest step
count reaching the target is searched, then that run is timed (XMDS2: its own "Time elapsed for
simulation", median of 5 runs, FFTW wisdom warm; qtzflow: see bench_coherent_2d.cpp).
Usage: /usr/bin/python3 bench/xmds2_vs_qtzflow.py [--target 1e-6] [--threads 1] [--build build]
Needs the Debian package xmds2 (bash scripts/install-deps.sh --bench).
"""
import argparse
import math
import os
import re
import statistics
import subprocess
import sys

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


def xmds_run(work, steps, threads, repeats=1):
    """Compiles and runs the XMDS2 script with `steps` steps; returns (L2 error, median seconds)."""
    with open(os.path.join(work, "coherent2d.xmds"), "w") as f:
        f.write(XMDS.format(steps=steps, threads=threads))
    subprocess.run(["xmds2", "coherent2d.xmds"], cwd=work, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        out = subprocess.run(["./coherent2d"], cwd=work, check=True, capture_output=True, text=True).stdout
        times.append(float(re.search(r"Time elapsed for simulation is: ([0-9.eE+-]+) seconds", out).group(1)))
    with h5py.File(os.path.join(work, "coherent2d.h5"), "r") as h:
        g = h["1"]
        x, y = g["x"][:], g["y"][:]
        psi = (g["psiR"][...] + 1j * g["psiI"][...]).reshape(len(x), len(y))
    X, Y = np.meshgrid(x, y, indexing="ij")
    exact = np.exp(-0.5 * ((X - 2) ** 2 + Y ** 2)) / math.sqrt(math.pi)
    err = math.sqrt(np.sum(np.abs(psi - exact) ** 2) * (x[1] - x[0]) * (y[1] - y[0]))
    if not math.isfinite(err):
        err = math.inf
    return err, statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = os.path.join(root, "bench", "xmds2_work")
    os.makedirs(work, exist_ok=True)

    # XMDS2: RK4 is only stable for dt·max|V| < 2.8 (max V = 100 at the corners), so start at 400
    # steps, predict with order 4, then step up by 2 % until the target holds.
    n = 400
    e, _ = xmds_run(work, n, args.threads)
    n = int(math.ceil(n * (e / args.target) ** 0.25 * 0.97))
    while True:
        e, _ = xmds_run(work, n, args.threads)
        print(f"xmds2 steps {n} error {e:.3e}", file=sys.stderr)
        if e <= args.target:
            break
        n = int(math.ceil(n * 1.02))
    e, t_xmds = xmds_run(work, n, args.threads, repeats=5)
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
    for name in ("strang", "yoshida4"):
        n, e, t = ours[name]
        print(f"| qtzflow {name} | {n} | {e:.2e} | {t:.3f} | **{xmds[2] / t:.1f}** |")


if __name__ == "__main__":
    main()
