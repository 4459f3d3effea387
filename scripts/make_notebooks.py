#!/usr/bin/python3
"""Builds and executes the notebooks in notebooks_out/ from `qtzflow verify` data.

  /usr/bin/python3 scripts/make_notebooks.py [--build build] [--quick] [--skip-verify] [--data DIR] [--out DIR]

1. runs `qtzflow verify [--quick] -o notebooks_out/verify_data` (HDF5 per experiment + summary),
2. writes the six notebooks (Schrodinger, Fokker-Planck, particles vs PDE, annealing,
   tunneling, QTZ against the density picture) from the cell sources below,
3. executes them in place with nbconvert's ExecutePreprocessor (Debian: jupyter-nbconvert,
   python3-ipykernel), so the committed notebooks carry their figures (also saved as PNG in
   notebooks_out/figures/ for the README).
The notebooks read the HDF5 files through qtzflow.open and run their small cases with the
module itself (python/qtzflow, from BUILD/python); they can be re-run by hand from notebooks_out/.
--data DIR: read existing verify data from DIR (no verify run); --out DIR: write the executed
notebooks and figures to DIR instead of notebooks_out/ (the test suite executes every notebook
on `verify --quick` data this way, into a scratch folder).
"""
import argparse
import os
import subprocess
import sys

try:
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor
except ImportError as e:  # ctest reads 77 as "skipped"
    print(f"SKIPPED: {e} (Debian: jupyter-nbconvert, python3-ipykernel)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "notebooks_out")

COMMON = """\
import json
import os
import sys
sys.path.insert(0, os.environ.get("QTZFLOW_PYTHON", "../build/python"))  # the module in the build tree
import qtzflow as q
import numpy as np
import matplotlib
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
plt.rcParams.update({"figure.dpi": 90, "figure.figsize": (9, 3.6), "axes.grid": True})
DATA = os.environ.get("QTZFLOW_VERIFY_DATA", "verify_data")
summary = json.load(open(f"{DATA}/summary.json"))
def show_checks(prefix):
    rows = [c for c in summary["checks"] if c["experiment"].startswith(prefix)]
    md = "| quantity | measured | expected | tolerance | pass |\\n|---|---|---|---|---|\\n"
    for c in rows:
        md += f"| {c['quantity']} | {c['measured']:.10g} | {c['kind']} {c['expected']:.6g} | {c['tolerance']:.3g} | {'yes' if c['pass'] else '**NO**'} |\\n"
    display(Markdown(md))
print("verify run:", "quick" if summary["quick"] else "full", f"({summary['seconds']:.0f} s, {summary['threads']} threads)")"""

NOTEBOOKS = {
    "schrodinger.ipynb": [
        ("md", "# Schrödinger picture: witten ground states and the spectral gap\n\n"
               "Imaginary time with the witten potential V_T = |∇f|²/(4T) − Δf/2 relaxes to e^(−f/2T) (V1); "
               "the first gap E1 − E0 of H_T equals the slowest Fokker–Planck rate λ1 and the angular frequency of "
               "real-time tunneling (V3). Data: `qtzflow verify`, experiments v1 and v3."),
        ("code", COMMON),
        ("code", """\
with q.open(f"{DATA}/v1_witten.h5") as f:
    cases = [k for k in f.keys()]
    fig, axes = plt.subplots(1, len(cases), figsize=(4 * len(cases), 3.4))
    for ax, k in zip(np.atleast_1d(axes), cases):
        phi, exact, x = f[k]["phi"][...], f[k]["exact"][...], f[k]["x"][...]
        if phi.ndim == 2:  # (x, y) in C order: axis 0 is x, drawn horizontally
            d = phi - exact; m = np.abs(d).max(); h = x[1] - x[0]
            im = ax.imshow(d.T, origin="lower", extent=(x[0] - h / 2, x[-1] + h / 2) * 2, cmap="RdBu", vmin=-m, vmax=m)
            ax.set_title(f"{k}: phi - exact"); ax.set_xlabel("x"); ax.set_ylabel("y"); ax.grid(False)
            plt.colorbar(im, ax=ax)
        else:
            ax.plot(x, exact, "k", lw=3, alpha=.4, label="e^(-f/2T)"); ax.plot(x, phi, "r--", label="imaginary time")
            ax.set_title(k); ax.set_xlabel("x"); ax.legend()
        print(k, "relative L2 error at dt =", f[k]["dts"][...], ":", f[k]["errors"][...])
plt.tight_layout(); plt.savefig("figures/v1_witten.png", dpi=72); plt.show()
show_checks("v1")"""),
        ("md", "A small case run here, with the module: the 1D tilted double well at T = 0.5, imaginary time "
               "from a uniform start, against e^(−f/2T) at two steps (the error falls as dt²)."),
        ("code", """\
grid = q.Grid(128, -2.5, 2.5)
f = q.objective("double_well", 1, c=0.3)
x = grid.coordinates(0)
exact = np.exp(-np.array([f([v]) for v in x]) / (2 * 0.5)); exact /= np.sqrt((exact**2).sum() * grid.cell_volume)
fig, (a, b) = plt.subplots(1, 2)
a.plot(x, exact, "k", lw=3, alpha=.4, label="e^(-f/2T)")
for dt in (0.02, 0.01):
    s = q.SplitStepSolver(grid, f, 0.5, dt=dt, mode="imaginary")
    s.advance(int(150 / dt))
    a.plot(x, s.state, "--", label=f"imaginary time, dt = {dt}")
    b.semilogy(x, np.abs(s.state - exact) + 1e-16, label=f"dt = {dt}: max {np.abs(s.state - exact).max():.2e}")
a.legend(); a.set_xlabel("x"); b.legend(); b.set_xlabel("x"); b.set_title("|phi - e^(-f/2T)|")
plt.tight_layout(); plt.show()"""),
        ("code", """\
with q.open(f"{DATA}/v3_spectral_gap.h5") as f:
    x = f["mean_x_real_time"][...]; dt = f.attrs["dt_real_time"]
    E1, lam, om = f.attrs["E1"], f.attrs["lambda1"], f.attrs["omega"]
    t = dt * np.arange(1, x.size + 1)
    fig, (a, b) = plt.subplots(1, 2)
    xg = f["x"][...]
    a.plot(xg, f["phi0"][...], label="phi0"); a.plot(xg, f["phi1"][...], label="phi1"); a.legend(); a.set_xlabel("x"); a.set_title("two lowest eigenstates of H_T")
    b.plot(t, x, label="<x>(t), real time"); b.plot(t, x[0] * np.cos(E1 * t), "k:", label="cos((E1-E0) t)"); b.legend()
    b.set_xlabel("t"); b.set_title(f"E1 = {E1:.8f}, lambda1 = {lam:.8f}, omega = {om:.8f}")
plt.tight_layout(); plt.savefig("figures/v3_spectral_gap.png", dpi=72); plt.show()
show_checks("v3")"""),
    ],
    "fokker_planck.ipynb": [
        ("md", "# Fokker–Planck: Gibbs, the transformed imaginary time, and Eyring–Kramers\n\n"
               "V2: the discrete Gibbs state is stationary and the long-time limit; along the trajectory the FP "
               "density equals e^(−f/2T)·φ of imaginary time, the difference falling at order 2 in h. "
               "V4: λ1 against the Eyring–Kramers 2k and the Arrhenius slope."),
        ("code", COMMON),
        ("code", """\
with q.open(f"{DATA}/v2_fokker_planck.h5") as f:
    g = f["gibbs"]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.6))
    a.semilogy(5 * 0.5 * np.arange(1, g["l1_to_gibbs"].size + 1), g["l1_to_gibbs"][...]); a.set_xlabel("t"); a.set_title("L1(rho(t), Gibbs), 2D tilted double well")
    xg = g["x"][...]; h = xg[1] - xg[0]
    b.imshow(g["rho_final"][...].T, origin="lower", extent=(xg[0] - h / 2, xg[-1] + h / 2) * 2, cmap="viridis")
    b.set_title("rho(t = 200)"); b.set_xlabel("x"); b.set_ylabel("y"); b.grid(False)
    tr = f["trajectory"]; times = tr["times"][...]
    for n in (45, 135, 405):
        c.loglog(times, tr[f"n{n}/l1"][...], "o-", label=f"n = {n}")
    c.set_xlabel("t"); c.set_title("L1(rho_FP, e^(-f/2T) phi)"); c.legend()
plt.tight_layout(); plt.savefig("figures/v2_fokker_planck.png", dpi=72); plt.show()
show_checks("v2")"""),
        ("md", "Run here with the module: the 2D tilted double well cooled logarithmically from a packet in the "
               "shallow well; the masses per basin of attraction, and the density's distance to the Gibbs state "
               "at the current temperature."),
        ("code", """\
grid = q.Grid([64, 64], -2.2, 2.2, boundary="reflecting")
f = q.objective("double_well", 2, c=0.3)
fp = q.FokkerPlanckSolver(grid, f, q.Schedule.logarithmic(1.0), dt=0.02)
X, Y = np.meshgrid(grid.coordinates(0), grid.coordinates(1), indexing="ij")
rho = np.exp(-((X - 0.96)**2 + (Y - 0.96)**2) / 0.08); fp.rho = rho / (rho.sum() * grid.cell_volume)
times, wells, dist = [], [], []
for k in range(100):
    fp.advance(10)
    r = fp.rho
    times.append(fp.time)
    wells.append([(r[(X < 0) & (Y < 0)]).sum(), (r[(X > 0) & (Y > 0)]).sum()])
    dist.append(np.abs(r - fp.gibbs()).sum() * grid.cell_volume)
wells = np.array(wells) * grid.cell_volume
fig, (a, b) = plt.subplots(1, 2)
a.plot(times, wells[:, 0], label="deepest well (x, y < 0)"); a.plot(times, wells[:, 1], label="start well (x, y > 0)")
a.set_xlabel("t"); a.legend(); a.set_title("mass per well, T = 1/ln(t+2)")
b.semilogy(times, dist); b.set_xlabel("t"); b.set_title("L1(rho, Gibbs at T(t))")
plt.tight_layout(); plt.show()
print("mass", fp.mass(), " lambda_k at the final T:", fp.spectrum(3))"""),
        ("code", """\
with q.open(f"{DATA}/v4_kramers.h5") as f:
    fig, (a, b) = plt.subplots(1, 2)
    for d in ("1d", "2d"):
        T = f[d]["T"][...]; lam = f[d]["lambda1"][...]
        ratio = f[d]["ratio_to_2k"][...]
        a.plot(T, ratio, "o-", label=d); b.semilogy(1 / T, lam, "o-", label=f"lambda1, {d}")
        b.semilogy(1 / T, lam / ratio, "k:", label=f"2k (Eyring-Kramers), {d}")
    a.axhline(1, color="k", lw=.5); a.set_xlabel("T"); a.set_ylabel("lambda1 / 2k"); a.legend()
    b.set_xlabel("1/T"); b.legend()
plt.tight_layout(); plt.savefig("figures/v4_kramers.png", dpi=72); plt.show()
show_checks("v4")"""),
    ],
    "particles_vs_pde.ipynb": [
        ("md", "# Particles against the PDE\n\n"
               "V5: histograms of Langevin ensembles against the Fokker–Planck density, L1 ∝ M^(−1/2). "
               "V6: the effective temperature of quantized local search at fixed Q_p, C_q = 2·Q_p·T_eff, for the plain "
               "and the dithered quantizer."),
        ("code", COMMON),
        ("code", """\
with q.open(f"{DATA}/v5_particles.h5") as f:
    times = f["times"][...]; M = f["M"][...]
    xc = f["x"][...]  # cell centres
    fig, (a, b) = plt.subplots(1, 2)
    for k, t in enumerate(times):
        a.plot(xc, f[f"fp/rho_t{k}"][...], label=f"FP t = {t:g}")
        a.step(xc, f[f"particles/hist_t{k}"][...], where="mid", alpha=.6)
    a.set_title(f"FP density and a histogram of M = {int(M[-1])}"); a.legend()
    for k, t in enumerate(times):
        b.loglog(M, [f[f"l1/M{int(m)}"][k] for m in M], "o-", label=f"t = {t:g}")
    b.loglog(M, f[f"l1/M{int(M[0])}"][0] * (M / M[0]) ** -0.5, "k:", label="M^(-1/2)")
    b.set_xlabel("M"); b.set_title("L1(histogram, rho_FP)"); b.legend()
plt.tight_layout(); plt.savefig("figures/v5_particles.png", dpi=72); plt.show()
show_checks("v5")"""),
        ("md", "Run here with the module: 10⁵ dithered-QTZ walkers in Fokker–Planck time beside the "
               "Fokker–Planck density, 1D tilted double well at T = 0.4, from the shallow well."),
        ("code", """\
grid = q.Grid(80, -2.0, 2.0, boundary="reflecting")
f = q.objective("double_well", 1, c=0.3)
x = grid.coordinates(0)
fp = q.FokkerPlanckSolver(grid, f, 0.4, dt=0.005)
rho0 = np.exp(-(x - 0.96)**2 / (2 * 0.15**2)); fp.rho = rho0 / (rho0.sum() * grid.cell_volume)
walkers = q.ParticleEnsemble(grid, f, 0.4, algorithm="qtz-dither", dt=0.005, seed=3)
walkers.sample_initial(100_000, center=[0.96], width=[0.15])
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for ax, t in zip(axes, (0.5, 2.0, 8.0)):
    n = int(round((t - fp.time) / 0.005))
    fp.advance(n); walkers.advance(n)
    h = walkers.histogram()
    ax.plot(x, fp.rho, "k", lw=2, alpha=.5, label="Fokker-Planck"); ax.step(x, h, where="mid", label="QTZ walkers")
    ax.set_title(f"t = {t:g}: L1 = {np.abs(h - fp.rho).sum() * grid.cell_volume:.3f}"); ax.set_xlabel("x"); ax.legend()
plt.tight_layout(); plt.show()"""),
        ("code", """\
with q.open(f"{DATA}/v6_effective_temperature.h5") as f:
    d = f["deltas"][...]
    fig, (a, b) = plt.subplots(1, 2)
    a.semilogx(d, f["plain/C_q"][...], "o-", label="plain quantizer")
    a.semilogx(d, f["dithered/C_q"][...], "s-", label="dithered quantizer")
    a.axhline(0.5, color="k", ls=":", label="white noise, small delta: 1/2"); a.axhline(2 / 3, color="gray", ls=":", label="lowest band uniform: 2/3")
    a.set_xlabel("proposal size delta"); a.set_ylabel("C_q = 2 Q_p T_eff"); a.legend()
    xc = f["x"][...]  # cell centres
    b.plot(xc, f[f"plain/hist_delta{d[0]:g}"][...], label=f"plain, delta = {d[0]:g}")
    b.plot(xc, f[f"dithered/hist_delta{d[0]:g}"][...], label=f"dithered, delta = {d[0]:g}")
    b.set_xlim(-0.8, 0.8); b.legend(); b.set_title("stationary histograms, f = x^2/2, Q_p = 10")
plt.tight_layout(); plt.savefig("figures/v6_effective_temperature.png", dpi=72); plt.show()
show_checks("v6")"""),
    ],
    "annealing.ipynb": [
        ("md", "# Annealing: mass in the global basin\n\n"
               "V7: the 1D tilted double well (critical depth 0.717) under T = c/ln(t+2) with c above and below "
               "the depth, and under the paper's geometric law, from the Fokker–Planck engine, imaginary-time "
               "Schrödinger with the same T(t) (f·Ṫ/2T² term), Langevin particles, and (V9) the quantized "
               "optimizer's own particles: dithered QTZ in Fokker–Planck time (Q_p = 1/(4T), four moves of "
               "2√(T dt/4) per dt). The imaginary-time "
               "curve stops where T falls under T_floor: there the basins' weights in φ = ρ·e^(f/2T) differ by more "
               "than 1e-4/ε_machine and the weaker basin drowns in round-off (a limit of the transformation, not of "
               "the solver)."),
        ("code", COMMON),
        ("code", """\
with q.open(f"{DATA}/v7_annealing.h5") as f:
    t = f["times"][...]
    laws = [k for k in f.keys() if k != "times"]
    T_floor = f.attrs["imaginary_time_T_floor"]
    fig, axes = plt.subplots(1, len(laws), figsize=(4.4 * len(laws), 3.6), sharey=True)
    for ax, law in zip(axes, laws):
        g = f[law]
        ax.plot(t, g["mass_global_fp"][...], "k", lw=3, alpha=.4, label="Fokker-Planck")
        ax.plot(t, g["mass_global_schrodinger"][...], "r--", label=f"imaginary time (T >= {T_floor:.3g})")
        ax.plot(t, g["mass_global_particles"][...], "b.", ms=4, label="Langevin particles")
        with q.open(f"{DATA}/v9_qtz_annealing.h5") as v9:  # V9: the quantized optimizer's own particles
            if law in v9["annealing"]:
                ax.plot(v9["annealing/times"][...], v9[f"annealing/{law}/mass_global_qtz"][...], "g+", ms=4,
                        label="QTZ particles (dithered, FP clock)")
        ax.set_title(law); ax.set_xlabel("t")
        ax2 = ax.twinx(); ax2.plot(t, g["T"][...], color="gray", lw=.8); ax2.set_ylabel("T(t)", color="gray")
    axes[0].set_ylabel("mass in the global basin"); axes[0].legend()
plt.tight_layout(); plt.savefig("figures/v7_annealing.png", dpi=72); plt.show()
show_checks("v7")
show_checks("v9")"""),
    ],
    "qtz_vs_density.ipynb": [
        ("md", "# The quantized optimizer against the density picture\n\n"
               "qtzflow's reason to exist in one place. The same problem and schedule in three engines: the "
               "Fokker–Planck density, the imaginary-time Schrödinger state mapped back by ρ = e^(−f/2T)φ, and the "
               "quantized optimizer's own particles (dithered QTZ in Fokker–Planck time: Q_p = 1/(4T), m moves of "
               "δ = 2√(T dt/m) per dt, docs/theory.md). Then the escape rate of QTZ particles between two wells "
               "against the spectral gap λ1 = E1, and the authors' optimizer as published against the picture. "
               "Data: `qtzflow verify`, experiments v9, v10, v11 (HDF5)."),
        ("code", COMMON),
        ("md", "## 1D tilted double well under the paper's law T = 2^(−t/4)\n\n"
               "Densities at the frame times (the imaginary-time curve is absent below its temperature floor), then "
               "the mass in the global basin over the whole run."),
        ("code", """\
with q.open(f"{DATA}/v9_qtz_annealing.h5") as f:
    x = f["x"][...]; ft = f["annealing/frame_times"][...]
    g = f["annealing/paper_Cq2_eta1_tau4"]
    fig, axes = plt.subplots(1, len(ft), figsize=(2.6 * len(ft), 3), sharey=True)
    for k, ax in enumerate(axes):
        fr = g[f"frames/{k}"]
        ax.plot(x, fr["rho_fp"][...], "k", lw=3, alpha=.35, label="Fokker-Planck")
        ax.plot(x, fr["rho_imaginary_time"][...], "r--", label="imaginary time")
        ax.step(x, fr["hist_qtz"][...], "g", where="mid", lw=.8, label="QTZ particles")
        ax.set_title(f"t = {ft[k]:g}, T = {2 ** (-ft[k] / 4):.3g}"); ax.set_xlabel("x")
    axes[0].set_ylabel("density"); axes[0].legend(fontsize=7)
    plt.tight_layout(); plt.savefig("figures/v9_frames_1d.png", dpi=72); plt.show()
    t = f["annealing/times"][...]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(t, g["mass_global_fp"][...], "k", lw=3, alpha=.35, label="Fokker-Planck")
    ax.plot(t, g["mass_global_imaginary_time"][...], "r--", label="imaginary time")
    ax.plot(t, g["mass_global_qtz"][...], "g+", label="QTZ particles")
    ax.set_xlabel("t"); ax.set_ylabel("mass in the global basin"); ax.legend()
    ax2 = ax.twinx(); ax2.plot(t, g["T"][...], color="gray", lw=.8); ax2.set_ylabel("T(t)", color="gray")
    plt.tight_layout(); plt.show()"""),
        ("md", "## 2D tilted double well Σ(x_i² − 1)² + 0.3 x_i, the same law\n\n"
               "Rows: Fokker–Planck, imaginary time, QTZ particles (one acceptance test for both coordinates)."),
        ("code", """\
with q.open(f"{DATA}/v9_qtz_annealing.h5") as f:
    x2 = f["2d/x"][...]; ft = f["annealing/frame_times"][...]
    g = f["annealing/2d/paper_Cq2_eta1_tau4"]
    show = [k for k in range(len(ft)) if f"frames/{k}" in g]
    fig, axes = plt.subplots(3, len(show), figsize=(2.3 * len(show), 6.6))
    ext = (x2[0] - .05, x2[-1] + .05) * 2
    for j, k in enumerate(show):
        fr = g[f"frames/{k}"]
        vmax = np.nanmax(fr["rho_fp"][...])
        for i, (key, name) in enumerate([("rho_fp", "FP"), ("rho_imaginary_time", "imag. time"), ("hist_qtz", "QTZ")]):
            a = axes[i, j]; a.imshow(fr[key][...].T, origin="lower", extent=ext, vmin=0, vmax=vmax); a.grid(False)
            a.set_xticks([]); a.set_yticks([])
            if j == 0: a.set_ylabel(name)
        axes[0, j].set_title(f"t = {ft[k]:g}")
    plt.tight_layout(); plt.savefig("figures/v9_frames_2d.png", dpi=72); plt.show()
    t = f["2d/annealing/times"][...]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(t, g["mass_global_fp"][...], "k", lw=3, alpha=.35, label="Fokker-Planck")
    ax.plot(t, g["mass_global_imaginary_time"][...], "r--", label="imaginary time")
    ax.plot(t, g["mass_global_qtz"][...], "g+", label="QTZ particles")
    ax.set_xlabel("t"); ax.set_ylabel("mass in the global basin (2D)"); ax.legend(); plt.tight_layout(); plt.show()"""),
        ("md", "## Sampling and the weak limit's floor\n\n"
               "L1(QTZ histogram, ρ_FP) for prefixes of one ensemble (constant T = 0.3) against M: M^(−1/2) down to the "
               "floor the weak limit leaves; the floor's dependence on dt (f = x: the √dt drift bias alone; the double "
               "well: √dt drift bias against the O(dt) curvature term)."),
        ("code", """\
with q.open(f"{DATA}/v9_qtz_annealing.h5") as f:
    c = f["constant_T"]; M = c["M"][...]; tt = c["times"][...]
    fig, (a, b) = plt.subplots(1, 2)
    for k, t in enumerate(tt):
        a.loglog(M, [c[f"l1_M{int(m)}"][k] for m in M], "o-", label=f"t = {t:g}")
    a.loglog(M, 0.9 * (M / M[0]) ** -0.5 * c[f"l1_M{int(M[0])}"][0], "k:", label="M^(-1/2)")
    a.set_xlabel("M"); a.set_ylabel("L1"); a.legend(fontsize=7)
    s = f["floor/slope_potential"]; d = f["floor/double_well"]
    b.loglog(s["dt"][...], s["bias_1_minus_lambda_T_over_F"][...], "o-", label="f = x: 1 - lambda T/F")
    b.loglog(s["dt"][...], s["drift_bias_kappa_F_eps"][...], "k:", label="kappa F delta/q (drift only)")
    b.loglog(d["dt"][...], d["l1_beyond_sampling"][...], "s-", label="double well: L1 beyond sampling")
    b.set_xlabel("dt"); b.legend(fontsize=7)
    plt.tight_layout(); plt.show()
show_checks("v9")"""),
        ("md", "## Escape = the spectral gap (V10)\n\n"
               "An ensemble started in the left well of (x² − 1)²: its imbalance ⟨sign x⟩ decays as e^(−λ1 t). The fitted "
               "QTZ rate at four temperatures against λ1 of the Fokker–Planck generator, E1 of H_T (imaginary-time "
               "deflation) and the Eyring–Kramers 2k."),
        ("code", """\
with q.open(f"{DATA}/v10_escape_rate.h5") as f:
    T = f["T"][...]; lam = f["lambda1_fp"][...]; E1 = f["E1_imaginary_time"][...]
    r = f["rate_qtz"][...]; s = f["rate_qtz_sigma"][...]
    fig, (a, b) = plt.subplots(1, 2)
    Tf = np.linspace(T.min() * 0.95, T.max() * 1.05, 100)
    a.semilogy(1 / Tf, 2 * 4 / (2 * np.pi) * np.sqrt(2) * np.exp(-1 / Tf), "k:", label="Kramers 2k")
    a.semilogy(1 / T, lam, "ks", mfc="none", ms=9, label="lambda1 (FP generator)")
    a.semilogy(1 / T, E1, "r+", ms=9, label="E1 (imaginary time)")
    a.errorbar(1 / T, r, yerr=4 * s, fmt="go", ms=4, label="QTZ particles (4 sigma)")
    a.set_xlabel("1/T"); a.set_ylabel("rate"); a.legend(fontsize=7)
    for Tk in T:
        g = f[f"T{Tk:.3g}"]
        b.semilogy(g["times"][...], -g["imbalance_qtz"][...], ".", ms=4)
        b.semilogy(g["times"][...], -g["imbalance_fp"][...], "k-", lw=.7)
    b.set_xlabel("t"); b.set_ylabel("-<sign x> (dots: QTZ, lines: FP)")
    plt.tight_layout(); plt.savefig("figures/v10_escape_rate.png", dpi=72); plt.show()
show_checks("v10")"""),
        ("md", "## The authors' optimizer against the picture (V11)\n\n"
               "QTZ as published (blind proposals, plain quantizer, Q_p = η·2^h per acceptance), 2·10⁴ runs: the law of "
               "the current point at level h against Gibbs at the paper's T(h) = C_q/(2Q_p(h)), C_q = 2; the fitted "
               "C_q,eff = 2Q_p(h)T_fit(h); the mass in the global basin; and the Kolmogorov–Smirnov distance of the "
               "quantization errors from U(−½, ½) for accepted comparisons and for an arbitrary evaluation."),
        ("code", """\
with q.open(f"{DATA}/v11_authors_optimizer.h5") as f:
    cases = [k for k in f.keys()]
    fig, axes = plt.subplots(len(cases), 3, figsize=(13, 3.3 * len(cases)))
    for row, name in zip(axes, cases):
        g = f[name]; h = g["h"][...]
        row[0].semilogy(h, g["C_q_effective"][...], "o-", label="C_q,eff (all runs)")
        row[0].semilogy(h, g["C_q_effective_in_global_basin"][...], "s-", ms=3, label="within the global basin")
        row[0].axhline(2, color="k", ls=":", label="paper: 2"); row[0].set_xlabel("h"); row[0].legend(fontsize=7); row[0].set_title(name)
        row[1].plot(h, g["p_global_measured"][...], "o-", label="measured P(global)")
        row[1].plot(h, g["gibbs_global_mass_at_T_paper"][...], "k--", label="Gibbs at T(h) (paper)")
        row[1].plot(h, g["gibbs_global_mass_at_T_fit"][...], "g:", label="Gibbs at T_fit(h)")
        row[1].set_xlabel("h"); row[1].legend(fontsize=7)
        n = g["n_accepted_comparisons"][...]
        row[2].semilogy(h, g["ks_u_candidate"][...] * np.sqrt(n), "o-", label="accepted candidates")
        row[2].semilogy(h, g["ks_sqrt_n_u_first_candidate"][...], "s-", label="an arbitrary candidate")
        row[2].axhline(1.63, color="k", ls=":", label="1 % critical"); row[2].set_xlabel("h"); row[2].set_ylabel("sqrt(n) KS")
        row[2].legend(fontsize=7)
    plt.tight_layout(); plt.savefig("figures/v11_authors_optimizer.png", dpi=72); plt.show()
    name = cases[0]; g = f[name]; xb = g["law_x"][...]
    fig, axes = plt.subplots(1, 4, figsize=(13, 2.8))
    for ax, lvl in zip(axes, [2, 6, 10, 14]):
        if f"law_h{lvl}" not in g: continue
        ax.step(xb, g[f"law_h{lvl}/histogram"][...], where="mid", label="x_h")
        ax.plot(xb, g[f"law_h{lvl}/gibbs_at_T_paper"][...], "k--", lw=.8, label="Gibbs, paper's T(h)")
        ax.set_title(f"{name}, h = {lvl}"); ax.set_xlabel("x")
    axes[0].legend(fontsize=7); plt.tight_layout(); plt.show()
show_checks("v11")
display(Markdown("\\n".join(f"- {x['text']}" for x in summary.get("findings", []) if x["experiment"][:3] in ("v9_", "v10", "v11"))))"""),
    ],
    "tunneling.ipynb": [
        ("md", "# Real-time tunneling\n\n"
               "V8: probability in the global basin of the tilted double well under real-time H_T, from a state "
               "localised in the metastable well, against the two-level estimate built from E0, E1 and their "
               "eigenstates."),
        ("code", COMMON),
        ("code", """\
with q.open(f"{DATA}/v8_tunneling.h5") as f:
    t = f["t"][...]
    fig, (a, b) = plt.subplots(1, 2)
    a.plot(t, f["P_global_real_time"][...], label="real time (Yoshida-4)")
    a.plot(t, f["P_global_two_level"][...], "k:", label="two-level estimate")
    a.set_xlabel("t"); a.set_ylabel("P(global basin)"); a.legend()
    a.set_title(f"E1 - E0 = {f.attrs['E1_minus_E0']:.6f}, weight outside: {f.attrs['weight_outside_two_levels']:.2e}")
    xg = f["x"][...]
    b.plot(xg, f["phi0"][...], label="phi0"); b.plot(xg, f["phi1"][...], label="phi1"); b.legend(); b.set_xlabel("x"); b.set_title("eigenstates")
plt.tight_layout(); plt.savefig("figures/v8_tunneling.png", dpi=72); plt.show()
show_checks("v8")"""),
    ],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="use `verify --quick` data")
    ap.add_argument("--skip-verify", action="store_true", help="reuse notebooks_out/verify_data")
    ap.add_argument("--data", help="existing verify data to read (implies --skip-verify)")
    ap.add_argument("--out", default=OUT, help="where the executed notebooks and figures go")
    ap.add_argument("--python", help="the folder holding the qtzflow package (default: BUILD/python)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.environ["QTZFLOW_PYTHON"] = os.path.abspath(args.python or os.path.join(ROOT, args.build, "python"))  # the kernels inherit it
    os.makedirs(os.path.join(out, "figures"), exist_ok=True)
    if args.data:
        os.environ["QTZFLOW_VERIFY_DATA"] = os.path.abspath(args.data)  # the kernels inherit it
    elif not args.skip_verify:
        cmd = [os.path.join(ROOT, args.build, "apps", "qtzflow"), "verify", "-o", os.path.join(out, "verify_data")]
        if args.quick:
            cmd.append("--quick")
        rc = subprocess.run(cmd).returncode
        if rc not in (0, 1):  # 1: some check failed; the notebooks show which
            sys.exit(rc)
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src) for kind, src in cells]
        ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(nb, {"metadata": {"path": out}})
        with open(os.path.join(out, name), "w") as fh:
            nbformat.write(nb, fh)
        print("executed", os.path.join(out, name))


if __name__ == "__main__":
    main()
