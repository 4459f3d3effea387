#!/usr/bin/python3
"""qtzflow's Fokker-Planck engine against what users run today: SciPy, in one run.

Problem (issue #4): d rho/dt = div(rho grad f + T grad rho), f = sum (x_i^2 - 1)^2 + 0.3 x_i,
T = 0.5, 256^2 cells on [-2, 2]^2, reflecting walls, rho(0) a Gaussian (std 0.2) in the
shallow well at (0.96, 0.96), propagated to t = 5.  Both codes use the same finite-volume
(Scharfetter-Gummel) generator L, built here with scipy.sparse exactly as qtzflow builds it.

Measured:
  1. SciPy's sparse exponential, expm_multiply(5 L, rho0): the semi-discrete solution to
     round-off, used as the tight-tolerance reference and timed;
  2. a reference SciPy implicit step: splu of (I - dt L) once, then one solve per step;
  3. qtzflow (`qtzflow run`), backward Euler and extrapolated Euler (order 2), each at the
     largest dt of a halving sequence whose L1 error against the reference is <= the target,
     timed as a whole process (start-up and HDF5 output included).
Usage: /usr/bin/python3 bench/scipy_fokker_planck.py [--n 256] [--target 1e-3] [--build build]
"""
import argparse
import math
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def bernoulli(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 1e-6
    out[small] = 1 - x[small] / 2 + x[small] ** 2 / 12
    out[~small] = x[~small] / np.expm1(x[~small])
    return out


def generator(n, T, lo=-2.0, hi=2.0, c=0.3):
    """L of the Scharfetter-Gummel scheme, reflecting walls, C order (axis 0 slowest)."""
    h = (hi - lo) / n
    x = lo + (np.arange(n) + 0.5) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    f = (X ** 2 - 1) ** 2 + c * X + (Y ** 2 - 1) ** 2 + c * Y
    N = n * n
    idx = np.arange(N).reshape(n, n)
    rows, cols, vals = [], [], []
    diag = np.zeros(N)
    for axis in (0, 1):
        i = idx[:-1, :] if axis == 0 else idx[:, :-1]
        j = idx[1:, :] if axis == 0 else idx[:, 1:]
        fi = f.ravel()[i.ravel()]
        fj = f.ravel()[j.ravel()]
        d = (fj - fi) / T
        rate_ij = T / h ** 2 * bernoulli(d)   # i -> j
        rate_ji = T / h ** 2 * bernoulli(-d)  # j -> i
        rows += [j.ravel(), i.ravel()]
        cols += [i.ravel(), j.ravel()]
        vals += [rate_ij, rate_ji]
        np.add.at(diag, i.ravel(), -rate_ij)
        np.add.at(diag, j.ravel(), -rate_ji)
    rows.append(np.arange(N))
    cols.append(np.arange(N))
    vals.append(diag)
    L = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))
    return L, x, h


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--target", type=float, default=1e-3)
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    n, T, t_end = args.n, 0.5, 5.0
    L, x, h = generator(n, T)
    X, Y = np.meshgrid(x, x, indexing="ij")
    rho0 = np.exp(-((X - 0.96) ** 2 + (Y - 0.96) ** 2) / (2 * 0.2 ** 2)).ravel()
    rho0 /= rho0.sum() * h * h

    t0 = time.perf_counter()
    ref = spla.expm_multiply(L * t_end, rho0)
    t_expm = time.perf_counter() - t0

    dt_step = 0.01
    A = (sp.identity(n * n, format="csc") - dt_step * L).tocsc()
    t0 = time.perf_counter()
    lu = spla.splu(A)
    t_factor = time.perf_counter() - t0
    r = rho0.copy()
    steps = 20
    t0 = time.perf_counter()
    for _ in range(steps):
        r = lu.solve(r)
    t_splu_step = (time.perf_counter() - t0) / steps

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cli = os.path.join(root, args.build, "apps", "qtzflow")
    cfg = f"""[grid]
n = [{n}, {n}]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
boundary = "reflecting"
[objective]
name = "double_well"
c = 0.3
[schedule]
T = {T}
[initial]
kind = "gaussian"
center = [0.96, 0.96]
width = [0.2, 0.2]
[fokker_planck]
scheme = "backward_euler"
dt = 0.01
t_end = {t_end}
[output]
path = "fp.h5"
every = 1000000
"""
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "fp.toml"), "w") as fh:
            fh.write(cfg)
        for scheme, dt0 in (("backward_euler", 0.05), ("extrapolated_euler", 0.5)):
            results = []
            dt = dt0
            while dt > 1e-4:
                t0 = time.perf_counter()
                subprocess.run([cli, "--threads", "1", "run", "fp.toml", "-q", "--set", f"fokker_planck.dt={dt}",
                                "--set", f"fokker_planck.scheme=\"{scheme}\""], cwd=tmp, check=True)
                wall = time.perf_counter() - t0
                with h5py.File(os.path.join(tmp, "fp.h5"), "r") as fh:
                    last = max(fh["data"].keys(), key=int)
                    rho = fh[f"data/{last}/meshes/rho"][...].ravel()
                err = np.abs(rho - ref).sum() * h * h
                results.append((dt, err, wall))
                if err <= args.target:
                    break
                dt /= 2
            found[scheme] = results
    print(f"SciPy {scipy.__version__}, n = {n}^2, t_end = {t_end}, T = {T}, target L1 error {args.target:g}; "
          "one thread for qtzflow (SciPy's sparse code is serial)")
    print()
    print("| method | time (s) | L1 error vs expm_multiply | expm_multiply time / this |")
    print("|---|---|---|---|")
    print(f"| SciPy expm_multiply (reference, to round-off) | {t_expm:.2f} | 0 | 1 |")
    dt_be = found["backward_euler"][-1][0]
    t_splu = t_factor + t_splu_step * round(t_end / dt_be)
    print(f"| SciPy splu: factor once + {round(t_end / dt_be)} solves at dt = {dt_be:g} | {t_splu:.2f} | (= qtzflow BE's up to splitting) | {t_expm / t_splu:.1f}x |")
    for scheme, results in found.items():
        dt, err, wall = results[-1]
        print(f"| qtzflow {scheme}, dt = {dt:g} ({round(t_end / dt)} steps, whole process) | {wall:.2f} | {err:.2e} | {t_expm / wall:.0f}x |")
    print()
    print(f"SciPy implicit step (splu solve, dt = {dt_step}): {t_splu_step * 1e3:.2f} ms; factorisation {t_factor:.2f} s")
    for scheme, results in found.items():
        print(f"qtzflow {scheme} runs tried: " + ", ".join(f"dt={d:g}: L1 {e:.2e} in {w:.2f} s" for d, e, w in results))

if __name__ == "__main__":
    main()
