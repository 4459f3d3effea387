"""Error against tolerance, one line per engine and problem (issue #30).

    /usr/bin/python3 bench/adaptive_plot.py [--out results/adaptive/error_vs_tolerance.png]

Reads results/adaptive/split_step.json (bench/adaptive_split_step.py) and
results/adaptive/fokker_planck.json (bench/adaptive_fokker_planck.py); draws the achieved error
at t_end against the tolerance on log axes, with the band [0.3, 3]·tol the issue asks for.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/adaptive/error_vs_tolerance.png")
    ap.add_argument("--inputs", nargs="*", default=["results/adaptive/split_step.json", "results/adaptive/fokker_planck.json"])
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    tmin, tmax = 1, 0
    for path in args.inputs:
        if not os.path.exists(path):
            raise SystemExit(f"{path}: missing; run the benchmark named in bench/adaptive_plot.py's docstring first")
        with open(path) as f:
            data = json.load(f)
        for res in data["results"]:
            if res.get("annealing"):
                continue
            for scheme in sorted({r["scheme"] for r in res["rows"]}):
                rows = [r for r in res["rows"] if r["scheme"] == scheme and "error" in r]  # stalled runs have none
                tols = [r["tolerance"] for r in rows]
                tmin, tmax = min(tmin, *tols), max(tmax, *tols)
                ax.loglog(tols, [r["error"] for r in rows], "o-", label=f"{res['problem']}: {scheme}")
    band = [tmin, tmax]
    ax.loglog(band, band, "k-", lw=0.8, label="error = tolerance")
    ax.fill_between(band, [0.3 * t for t in band], [3 * t for t in band], color="0.9", label="[0.3, 3] × tolerance")
    ax.set_xlabel("tolerance")
    ax.set_ylabel("achieved error at t_end (relative L2; Fokker–Planck: L1)")
    ax.set_title("qtzflow error control: achieved error against tolerance")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
