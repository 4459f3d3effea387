"""Error-controlled split-step steps: tolerance proportionality and annealing (issue #30).

    PYTHONPATH=build/python /usr/bin/python3 bench/adaptive_split_step.py [--quick] [--json results/adaptive/split_step.json]

Prints Markdown for BENCHMARKS.md and writes the numbers as JSON (bench/adaptive_plot.py draws
error against tolerance from it and from bench/adaptive_fokker_planck.py's JSON).  In-process,
through the Python module, 2 threads unless QTZFLOW_THREADS says otherwise.

1. Tolerance proportionality: for tol = 1e-3 ... 1e-10 the L2 error of the state at t_end
   (relative to its norm, the tolerance's norm) against a reference, with the steps and FFT pairs
   taken (chin4 doubling: 6 pairs per trial step; emb43: 7; fixed chin4: 2 per step):
   (a) the 2D harmonic coherent state of examples/coherent_state.toml (256², one period 2π;
       reference: the exact solution, spatial error < 1e-13);
   (b) imaginary time: the witten ground state of the 2D tilted double well (c = 0.3, T = 0.5,
       96² on [-2.5, 2.5]², from a Gaussian in the shallow well, t_end = 4; reference: fixed
       chin4 at dt = 1e-3 and 5e-4 extrapolated, (16 fine − coarse)/15);
   (c) real time: tunneling in the 1D double well of examples/double_well_tunneling.toml (witten
       potential, T = 0.5, 256 points, from the Gaussian at x = 1, t_end = 10; reference: fixed
       emb43 at dt = 2.5e-4 and 1.25e-4 extrapolated.  Not chin4: its force-gradient term takes
       |∇V|² by finite differences, and the witten potential (∝ x⁶ at the box edge, with a kink
       where it wraps) leaves an order-2 error there, which a chin4 reference inherits).
2. Annealing, imaginary time: T(t) = 0.01^(t/5) (1 → 0.01) on the tilted double well (128² on
   [-2.5, 2.5]², t_end = 5); the witten potential |∇f|²/(4T) grows 100×.  Every scheme freezes T
   at the step's midpoint (order 2), so the reference is fixed chin4 at dt = 2.5e-4 and 1.25e-4
   extrapolated at order 2, (4 fine − coarse)/3.  The adaptive run at each tolerance against the
   best fixed chin4 step chosen after the fact (the largest dt of 0.05·2^(−k/4) reaching the same
   error or better), in FFT pairs and wall time, side by side.
"""
import argparse
import datetime
import json
import os
import platform
import time
import warnings

import numpy as np

import qtzflow as q

PAIRS_PER_TRIAL = {"chin4": 6, "strang": 3, "yoshida4": 9, "emb43": 7}
PAIRS_PER_STEP = {"chin4": 2, "strang": 1, "yoshida4": 3, "emb43": 5}


def l2(a, b, g):
    return float(np.sqrt((np.abs(a - b) ** 2).sum() * g.cell_volume))


class Problem:
    """A split-step problem: grid, objective, temperature, mode, potential, start, t_end."""

    def __init__(self, name, grid, f, T, mode, potential, start, t_end, exact=None, ref_dts=None, ref_scheme="chin4"):
        self.name, self.g, self.f, self.T, self.mode, self.potential = name, grid, f, T, mode, potential
        self.start, self.t_end, self.exact, self.ref_dts, self.ref_scheme = start, t_end, exact, ref_dts, ref_scheme

    def solver(self, dt, scheme, tol=0.0):
        kw = dict(dt=dt, mode=self.mode, potential=self.potential, scheme=scheme, fft_planning="estimate")
        if tol > 0:
            kw.update(tolerance=tol, horizon=self.t_end)
        s = q.SplitStepSolver(self.g, self.f, self.T, **kw)
        s.state = self.start
        return s

    def normalised(self, s):
        u = np.array(s.state)
        return u / np.sqrt((np.abs(u) ** 2).sum() * self.g.cell_volume)

    def fixed(self, dt, scheme="chin4"):
        s = self.solver(dt, scheme)
        n = int(round(self.t_end / dt))
        t0 = time.perf_counter()
        s.advance(n)
        return self.normalised(s), n, time.perf_counter() - t0

    def adaptive(self, tol, scheme, dt_max):
        s = self.solver(dt_max, scheme, tol)
        t0 = time.perf_counter()
        s.advance_to(self.t_end)
        return self.normalised(s), s.step_state, time.perf_counter() - t0

    def reference(self, order):
        if self.exact is not None:
            return self.exact, 0.0
        fine_dt, coarse_dt = self.ref_dts
        fine, _, _ = self.fixed(fine_dt, self.ref_scheme)
        coarse, _, _ = self.fixed(coarse_dt, self.ref_scheme)
        r = 2 ** order
        return (r * fine - coarse) / (r - 1), l2(fine, coarse, self.g) / (r - 1)


def coherent_2d():
    g = q.Grid([256, 256], -10.0, 10.0)
    x, y = np.meshgrid(g.coordinates(0), g.coordinates(1), indexing="ij")
    psi0 = np.exp(-0.5 * ((x - 2) ** 2 + y ** 2)) / np.sqrt(np.pi)
    # one period: ψ(2π) = e^{−i·2π·D/2} ψ(0) = ψ(0) for D = 2
    return Problem("coherent state 2D (real time, 256²)", g, q.objective("harmonic", 2), 0.5, "real", "objective", psi0, 2 * np.pi, exact=psi0)


def witten_ground_state():
    g = q.Grid([96, 96], -2.5, 2.5)
    x, y = np.meshgrid(g.coordinates(0), g.coordinates(1), indexing="ij")
    phi0 = np.exp(-((x - 1) ** 2 + (y - 1) ** 2) / (2 * 0.3 ** 2))
    return Problem("witten ground state, tilted double well 2D (imaginary time, 96²)", g, q.objective("double_well", 2, c=0.3), 0.5, "imaginary",
                   "witten", phi0, 4.0, ref_dts=(5e-4, 1e-3))


def tunneling_1d():
    g = q.Grid([256], -2.5, 2.5)
    x = g.coordinates(0)
    psi0 = np.exp(-(x - 1) ** 2 / (4 * 0.25 ** 2)).astype(complex)
    return Problem("double-well tunneling 1D (real time, witten, 256)", g, q.objective("double_well", 1, c=0.0), 0.5, "real", "witten", psi0, 10.0,
                   ref_dts=(1.25e-4, 2.5e-4), ref_scheme="emb43")


def proportionality(p, schemes, tols, dt_max, out, slow=None):
    """`slow`: {scheme: smallest tolerance} for schemes whose tightest runs would take minutes."""
    ref, ref_err = p.reference(4)
    print(f"**{p.name}**, t_end = {p.t_end:g}, dt ≤ {dt_max:g}; reference: "
          + ("the exact solution" if p.exact is not None else f"fixed {p.ref_scheme} extrapolated, its fine run off by {ref_err:.1e}") + "\n")
    print("| scheme | tolerance | achieved L2 error | error / tolerance | accepted | rejected | FFT pairs | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for scheme in schemes:
        for tol in tols:
            if slow and tol < slow.get(scheme, 0):
                continue
            try:
                u, st, wall = p.adaptive(tol, scheme, dt_max)
            except RuntimeError as err:  # a stall below dt_min: reported, not hidden
                print(f"| {scheme} | {tol:.0e} | stopped: {str(err).split('(')[0].strip()} | | | | | |")
                rows.append(dict(scheme=scheme, tolerance=tol, stopped=str(err)))
                continue
            e = l2(u, ref, p.g)
            pairs = PAIRS_PER_TRIAL[scheme] * (st["accepted"] + st["rejected"])
            print(f"| {scheme} | {tol:.0e} | {e:.3g} | {e / tol:.3g} | {st['accepted']} | {st['rejected']} | {pairs} | {wall:.2f} |")
            rows.append(dict(scheme=scheme, tolerance=tol, error=e, accepted=st["accepted"], rejected=st["rejected"], fft_pairs=pairs, wall=wall))
    out.append(dict(problem=p.name, reference_error=ref_err, rows=rows))
    print()


def annealing(tols, n, out):
    g = q.Grid([n, n], -2.5, 2.5)
    x, y = np.meshgrid(g.coordinates(0), g.coordinates(1), indexing="ij")
    phi0 = np.exp(-((x - 1) ** 2 + (y - 1) ** 2) / (2 * 0.3 ** 2))
    sched = q.Schedule.geometric(1.0, 0.01 ** (1 / 5))
    p = Problem(f"annealed witten ground state (imaginary time, {n}²)", g, q.objective("double_well", 2, c=0.3), sched, "imaginary", "witten", phi0,
                5.0, ref_dts=(1.25e-4, 2.5e-4))
    ref, ref_err = p.reference(2)
    ladder = [0.05 * 2 ** (-k / 4) for k in range(0, 40)]
    fixed_runs = {}

    def fixed_error(dt):
        if dt not in fixed_runs:
            u, steps, wall = p.fixed(dt)
            fixed_runs[dt] = (l2(u, ref, g), steps, wall)
        return fixed_runs[dt]

    print(f"**Annealing** ({p.name}: T = 0.01^(t/5), 1 → 0.01 over t_end = 5; reference: fixed chin4 at 1.25e-4 and 2.5e-4 extrapolated at "
          f"order 2, its fine run off by {ref_err:.1e}).  Fixed: the largest dt of 0.05·2^(−k/4) whose chin4 run is at least as accurate\n")
    print("| tolerance | adaptive error | trial steps (accepted + rejected) | adaptive FFT pairs | adaptive wall (s) | best fixed dt | its error | "
          "fixed FFT pairs | fixed wall (s) | FFT pairs ratio (fixed / adaptive) | wall ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for tol in tols:
        u, st, _ = p.adaptive(tol, "chin4", 0.05)
        e = l2(u, ref, g)
        trials = st["accepted"] + st["rejected"]
        pairs = PAIRS_PER_TRIAL["chin4"] * trials
        best = next(((dt, *fixed_error(dt)) for dt in ladder if fixed_error(dt)[0] <= e), None)
        if best is None:
            print(f"| {tol:.0e} | {e:.3g} | {st['accepted']} + {st['rejected']} | {pairs} | | (none down to {ladder[-1]:.2g}) | | | | | |")
            continue
        dt, fe, steps, _ = best
        # side by side once more, so that the wall ratio sees one machine state
        _, _, wall = p.adaptive(tol, "chin4", 0.05)
        _, _, fw = p.fixed(dt)
        fpairs = PAIRS_PER_STEP["chin4"] * steps
        print(f"| {tol:.0e} | {e:.3g} | {st['accepted']} + {st['rejected']} | {pairs} | {wall:.2f} | {dt:.3g} | {fe:.3g} | {fpairs} | {fw:.2f} | "
              f"**{fpairs / pairs:.2f}** | {fw / wall:.2f} |")
        rows.append(dict(tolerance=tol, error=e, accepted=st["accepted"], rejected=st["rejected"], fft_pairs=pairs, wall=wall, fixed_dt=dt,
                         fixed_error=fe, fixed_fft_pairs=fpairs, fixed_wall=fw))
    out.append(dict(problem=p.name, annealing=True, reference_error=ref_err, rows=rows))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="three tolerances per problem, no annealing")
    ap.add_argument("--json", default="results/adaptive/split_step.json")
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # the imaginary-time floor advice at T = 0.01
    print(f"Command ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {platform.machine()}, qtzflow threads {q.threads()}): "
          f"`PYTHONPATH=build/python /usr/bin/python3 bench/adaptive_split_step.py{' --quick' if args.quick else ''}`\n")
    tols = [1e-4, 1e-6, 1e-8] if args.quick else [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
    out = []
    # emb43 below 1e-8 on 256²: minutes (its steps grow as tol^(-1/3))
    proportionality(coherent_2d(), ["chin4", "emb43"], tols, 1.0, out, slow={"emb43": 1e-8})
    proportionality(witten_ground_state(), ["chin4"], tols, 0.5, out)
    proportionality(tunneling_1d(), ["chin4", "yoshida4", "emb43"], tols, 0.5, out)
    if not args.quick:
        annealing([1e-3, 1e-4, 1e-5, 1e-6], 128, out)
    os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(dict(command="bench/adaptive_split_step.py" + (" --quick" if args.quick else ""), date=f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M}",
                       results=out), f, indent=1)


if __name__ == "__main__":
    main()
