"""A picture of any qtzflow output in one call: `python3 -m qtzflow plot OUT.h5` or
`qtzflow.open("OUT.h5").plot_summary()`.

What the summary shows depends on what the file holds:

    run output (/data)        diagnostics over time (T, norm or mass, energy or free energy, ...),
                              the basin masses over time, and the first and last density
                              (rho, |psi|^2 or the particle histogram) with the objective's contours
                              (1D: f on a second axis; 3D: the density summed over z)
    optimize -o (/optimize)   the success curve (fraction of runs that reached the target by
                              iteration k) and the distribution of each run's best value against
                              the reference
    spectrum -o (/spectrum)   the Fokker-Planck eigenvalues and Witten energies against T

The panels are also available one by one (plot_diagnostics, plot_basins, plot_density,
plot_optimize, plot_spectrum), each drawing into a matplotlib Axes.  matplotlib is needed only
here (python3-matplotlib); the figures use the Agg backend, so no display is needed.
"""
import os

import numpy as np


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415
    except ImportError:
        raise ImportError("qtzflow.plot needs matplotlib (Debian: python3-matplotlib; pip: qtzflow[plot])") from None
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


# the densities a snapshot may hold, in the order they are preferred for the picture
_DENSITIES = ("rho", "psi_abs2", "particles_hist", "psi")


def density_name(out, index=-1):
    """The mesh that shows the density in snapshot `index`: rho, psi_abs2, particles_hist, or psi."""
    names = out.fields(index=index)
    for n in _DENSITIES:
        if n in names or any(k.startswith(n + "/") for k in names):
            return n
    raise ValueError(f"{out.path}: snapshot {out.iterations[index]} holds no density (meshes: {sorted(names)})")


def _density(out, index):
    name = density_name(out, index)
    a = out.field(name, index)
    if np.iscomplexobj(a):
        a = np.abs(a) ** 2
        name = "|psi|^2"
    elif name == "psi":  # imaginary time: the real phi
        a = a * a
        name = "phi^2"
    return name, a


def plot_diagnostics(out, ax):
    """The diagnostics that describe the run as a whole (T and the engine's own), over time."""
    d = out.diagnostics
    t = d["time"]
    keys = [k for k in ("T", "norm", "mass", "energy", "free_energy", "acceptance") if k in d]
    for k in keys:
        y = np.asarray(d[k], dtype=float)
        # each series scaled to its own range, so that one axis shows them all; a series constant
        # to round-off (a conserved mass or norm, a constant T) is drawn flat at 1/2, not its noise
        lo, hi = np.nanmin(y), np.nanmax(y)
        scale = max(abs(lo), abs(hi), np.finfo(float).tiny)
        if hi - lo <= 1e-9 * scale:
            ax.plot(t, np.full_like(y, 0.5), ls="--", label=f"{k} = {hi:.6g} (constant to {(hi - lo) / scale:.0e})")
        else:
            ax.plot(t, (y - lo) / (hi - lo), label=f"{k}  [{lo:.3g}, {hi:.3g}]")
    ax.set_xlabel("t")
    ax.set_ylabel("each series scaled to [0, 1]")
    ax.set_title("diagnostics (range in brackets)")
    if keys:
        ax.legend(fontsize="small")


def plot_basins(out, ax):
    """The mass in each basin of f (0 = the global minimum's) over time."""
    d = out.diagnostics
    keys = sorted((k for k in d if k.startswith("mass_basin_")), key=lambda k: int(k.rsplit("_", 1)[1]))
    for k in keys:
        ax.plot(d["time"], d[k], label="basin " + k.rsplit("_", 1)[1] + (" (global)" if k.endswith("_0") else ""))
    ax.set_xlabel("t")
    ax.set_ylabel("mass")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("mass per basin of f")
    if keys:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no basins recorded", ha="center", transform=ax.transAxes)


def plot_density(out, ax, index=-1):
    """The density of snapshot `index` with the objective f (1D: on a second axis; 2D, 3D: contours)."""
    name, a = _density(out, index)
    x = out.coordinates
    f = out.grid_fields.get("f")
    it, t = out.iterations[index], out.times[index]
    if a.ndim == 3:  # projected onto (x, y)
        a = a.sum(axis=2)
        f = f.min(axis=2) if f is not None else None
        name += " summed over z"
    if a.ndim == 1:
        ax.plot(x[0], a, color="C0")
        ax.set_xlabel("x")
        ax.set_ylabel(name, color="C0")
        if f is not None:
            ax2 = ax.twinx()
            ax2.plot(x[0], f, color="0.5", lw=0.8)
            ax2.set_ylabel("f", color="0.5")
    else:
        extent = (x[0][0], x[0][-1], x[1][0], x[1][-1])
        im = ax.imshow(a.T, origin="lower", extent=extent, aspect="auto", cmap="viridis")
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        if f is not None:
            ax.contour(x[0], x[1], f.T, levels=12, colors="w", linewidths=0.5, alpha=0.7)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    ax.set_title(f"{name}, iteration {it} (t = {t:.4g})")


def plot_optimize(out, ax_success, ax_best):
    """optimize -o: the fraction of runs that reached the target by iteration k, and the sorted best values."""
    g = out["optimize"]
    hit = np.asarray(g["hit_iteration"][()])
    iters = np.asarray(g["iterations"][()])
    best = np.sort(np.asarray(g["best"][()], dtype=float))
    n = len(best)
    reached = np.sort(hit[hit >= 0])
    k_max = max(int(iters.max()) if n else 1, 1)
    ks = np.concatenate(([0], reached, [k_max]))
    frac = np.concatenate(([0], np.arange(1, len(reached) + 1), [len(reached)])) / max(n, 1)
    ax_success.step(ks, frac, where="post")
    ax_success.set_xlabel("iteration")
    ax_success.set_ylabel("fraction of runs at the target")
    ax_success.set_ylim(-0.02, 1.02)
    ax_success.set_title(f"success: {len(reached)} of {n} runs")
    ax_best.plot(np.arange(1, n + 1) / max(n, 1), best, marker=".", ls="-")
    ref = float(out.attrs.get("reference", np.nan))  # f* or the optimal tour (files before 0.2 have none)
    if np.isfinite(ref):
        ax_best.axhline(ref, color="0.4", ls=":", label=f"reference {ref:.6g}")
        ax_best.legend(fontsize="small")
    ax_best.set_xlabel("fraction of runs")
    ax_best.set_ylabel("best value found")
    ax_best.set_title("best value per run (sorted)")


def plot_spectrum(out, ax):
    """spectrum -o: the Fokker-Planck eigenvalues and the Witten energies against T."""
    g = out["spectrum"]
    T = g["T"][()]
    for key, marker in (("lambda_fokker_planck", "o"), ("E_witten", "x")):
        if key in g:
            v = g[key][()]
            for k in range(v.shape[1]):
                ax.plot(T, v[:, k], marker=marker, ls="-" if marker == "o" else ":", label=f"{key}[{k}]")
    ax.set_xscale("log")
    ax.set_xlabel("T")
    ax.set_ylabel("eigenvalue")
    ax.set_title("spectrum")
    ax.legend(fontsize="small")


def summary(out, png=None, dpi=100):
    """Writes a PNG summary of `out` (an Output or a path) and returns its path (default: OUT.png)."""
    from . import Output  # noqa: PLC0415

    plt = _pyplot()
    own = not isinstance(out, Output)
    if own:
        out = Output(out)
    try:
        png = os.fspath(png) if png else os.path.splitext(out.path)[0] + ".png"
        title = os.path.basename(out.path)
        if out.iterations:
            fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
            plot_diagnostics(out, axes[0, 0])
            plot_basins(out, axes[0, 1])
            plot_density(out, axes[1, 0], 0)
            plot_density(out, axes[1, 1], -1)
            cfg = out.config
            engine = next((e for e in ("schrodinger", "fokker_planck", "particles") if e in cfg), "")
            title += f": {cfg.get('objective', {}).get('name', '')} {engine}, {len(out.iterations)} snapshots"
        elif "optimize" in out:
            fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
            plot_optimize(out, axes[0], axes[1])
            a = out.attributes
            title += f": {a.get('algorithm', '')} on {a.get('problem', '')}"
        elif "spectrum" in out:
            fig, ax = plt.subplots(figsize=(7, 5))
            plot_spectrum(out, ax)
            title += f": {out.attributes.get('problem', '')}"
        else:
            raise ValueError(f"path: {out.path!r}: neither a run's output (/data), an optimize nor a spectrum file; "
                             f"it holds {sorted(out.keys())}")
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(png, dpi=dpi)
        plt.close(fig)
        return png
    finally:
        if own:
            out.close()
