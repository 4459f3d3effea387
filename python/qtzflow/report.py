"""The report of a benchmark study (``qtzflow study``): tables, statistics and figures.

    python3 -m qtzflow.report STUDY.h5 [--reference data/cec2014] [-o DIR] [--readme README.md]

reads the study's HDF5 file (scenario/study.hpp) and writes DIR/report.md (default: beside
the file, ``<stem>_report/``) with PNG figures.  A CEC study's report:

- errors: as the CEC protocol counts them, an error below 1e-8 is 0;
- a table per function of mean, median and std of the final errors per algorithm, beside the
  published means of L-SHADE and UMOEAS (``--reference``: the competition's raw files, D = 10
  and 30);
- Friedman mean ranks (per function, algorithms ranked by mean final error, ties averaged);
- per-function two-sided Wilcoxon rank-sum tests of each QTZ variant against every other
  algorithm (and the published L-SHADE runs), Holm-corrected over the functions at
  alpha = 0.05: a win when significant and QTZ's errors rank lower, a loss when significant
  and higher, a tie otherwise;
- convergence curves (median and quartiles of the error at the CEC fractions of the budget)
  and COCO-style ECDFs (the fraction of (function, run, target) triples, targets
  10^2 ... 10^-8 at 5 per decade, reached within a number of evaluations).

A tsplib study's report (the TSPLIB ladder): per budget and instance the mean and best gap to
the proven optimum, optimum hits, median moves to a gap of 1 % and 0.1 %, moves per second;
Friedman ranks over the instances; each QTZ variant against each baseline by the same
rank-sum/Holm and signed-rank tests; ECDFs of the final gap per budget, a run-time ECDF of gap
targets 100 % ... 0.1 %, and the mean gap against the budget per instance.

The statistics are plain functions (friedman_ranks, rank_sum, holm, wins_ties_losses), tested
on synthetic data with known answers in tests/python/test_report.py.  Bad input: a message
naming the file or argument, exit code 2.
"""
import argparse
import json
import os
import sys

import numpy as np

CEC_ZERO = 1e-8
TARGETS = 10.0 ** (np.arange(10, -41, -1) / 5.0)  # 10^2 ... 10^-8, 5 per decade: the study's trace levels
QTZ_VARIANTS = ("qtz", "qtz-dither", "qtz-local")


# ------------------------------------------------------------------ statistics

def cec_errors(e):
    """Errors as the CEC protocol reports them: below 1e-8 is 0."""
    e = np.asarray(e, dtype=float)
    return np.where(e < CEC_ZERO, 0.0, e)


def friedman_ranks(scores):
    """Mean rank of each column of `scores` (rows: problems, columns: algorithms; lower is
    better), ties given their average rank."""
    from scipy.stats import rankdata
    scores = np.asarray(scores, dtype=float)
    return np.mean([rankdata(row) for row in scores], axis=0)


def rank_sum(a, b):
    """Two-sided Wilcoxon rank-sum test of samples a and b: (p, direction), direction -1 when
    a's values rank lower (better, for errors), +1 when higher, 0 when the samples are equal."""
    from scipy.stats import mannwhitneyu
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.array_equal(np.sort(a), np.sort(b)) or (np.ptp(np.concatenate([a, b])) == 0):
        return 1.0, 0
    u, p = mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    expected = len(a) * len(b) / 2.0
    return float(p), (-1 if u < expected else 1 if u > expected else 0)


def holm(pvalues):
    """Holm's step-down adjusted p-values (family-wise error control), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adjusted[i] = running
    return adjusted


def wins_ties_losses(samples_a, samples_b, alpha=0.05):
    """Per problem, a's samples against b's (lists of equal length): the rank-sum tests,
    Holm-corrected over the problems.  Returns (wins, ties, losses, adjusted p-values, signs)."""
    tests = [rank_sum(a, b) for a, b in zip(samples_a, samples_b)]
    adjusted = holm([p for p, _ in tests]) if tests else np.array([])
    wins = ties = losses = 0
    signs = []
    for (p, d), q in zip(tests, adjusted):
        s = d if q < alpha else 0
        signs.append(s)
        wins += s == -1
        losses += s == 1
        ties += s == 0
    return wins, ties, losses, adjusted, signs


def signed_rank(a, b):
    """Two-sided Wilcoxon signed-rank test of paired values a and b (one pair per problem: two
    algorithms' mean errors), the multiple-problem comparison of Derrac, Garcia, Molina and
    Herrera (Swarm Evol. Comput. 1, 2011): (p, direction), direction -1 when a's values are
    lower (R- > R+), +1 when higher, 0 when every pair is equal.  Zero differences are dropped
    (Wilcoxon's rule); p is exact for fewer than 25 non-zero pairs without ties, else normal."""
    from scipy.stats import rankdata, wilcoxon
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a - b
    nz = d[d != 0]
    if nz.size == 0:
        return 1.0, 0
    r = rankdata(np.abs(nz))
    r_plus, r_minus = r[nz > 0].sum(), r[nz < 0].sum()
    import warnings
    with warnings.catch_warnings():  # scipy says when it falls back to the normal approximation (ties, zeros): documented above
        warnings.simplefilter("ignore", UserWarning)
        p = float(wilcoxon(a, b, zero_method="wilcox", alternative="two-sided").pvalue)
    return p, (-1 if r_minus > r_plus else 1 if r_plus > r_minus else 0)


# ------------------------------------------------------------------ data

class Study:
    """A study's HDF5 file as arrays: final[alg][f] (runs), at[alg][f] (runs x fractions),
    trace[alg][f] (per run: evaluations, errors)."""

    def __init__(self, path):
        import h5py
        try:
            h = h5py.File(path, "r")
        except OSError as e:
            raise ValueError(f"{path}: not a readable HDF5 file ({e})") from None
        with h:
            if h.attrs.get("software") not in ("qtzflow", b"qtzflow") or "cells" not in h or "study" not in h.attrs:
                raise ValueError(f"{path}: not a qtzflow study file (no study attribute or /cells group)")
            text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
            self.path = path
            self.suite = text(h.attrs["suite"])
            self.runs = int(h.attrs["runs"])
            self.budget_per_dimension = int(h.attrs["budgetPerDimension"])
            self.fractions = np.asarray(h.attrs["fractions"], dtype=float)
            self.algorithms = [text(a) for a in h.attrs["algorithms"]]
            self.functions = [int(f) for f in h.attrs["functions"]]
            self.dimensions = [int(d) for d in h.attrs["dimensions"]]
            self.meta = {k: text(h.attrs[k]) for k in ("date", "gitRevision", "machine", "softwareVersion")}
            self.wall = float(h.attrs["wallSeconds"])
            self.final, self.at, self.trace, self.seed, self.reproduce, self.evaluations = {}, {}, {}, {}, {}, {}
            self.cell_seconds = {}  # each cell's wall time, whichever process and session ran it
            for d in self.dimensions:
                for f in self.functions:
                    for a in self.algorithms:
                        g = h[f"cells/f{f}_d{d}/{a}"]
                        key = (a, f, d)
                        self.final[key] = g["final_error"][()]
                        self.at[key] = g["errors_at_fractions"][()]
                        self.evaluations[key] = g["evaluations"][()]
                        off, ev, er = g["trace_offsets"][()], g["trace_evaluations"][()], g["trace_errors"][()]
                        self.trace[key] = [(ev[off[i]:off[i + 1]], er[off[i]:off[i + 1]]) for i in range(len(off) - 1)]
                        self.seed[key] = int(g.attrs["seed"])
                        self.reproduce[key] = text(g.attrs["reproduce"])
                        self.cell_seconds[key] = float(g.attrs["wallSeconds"])


def read_reference(folder, name, f, d):
    """The published runs of entrant `name` on function f at D = d: a 14 x 51 array (rows: the
    fractions), or None if the file is absent.  Checked: shape, finite, non-negative."""
    path = os.path.join(folder, name, f"{name}_{f}_{d}.txt")
    if not os.path.exists(path):
        return None
    try:
        a = np.loadtxt(path, ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path}: not a table of numbers ({e})") from None
    if a.shape != (14, 51) or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{path}: expected 14 rows x 51 columns of finite errors >= 0, got shape {a.shape}")
    return a


# ------------------------------------------------------------------ the report

def fmt(x):
    return "0" if x == 0 else f"{x:.3g}"


def analyse(study, reference=None):
    """Everything the report shows, as plain data (also written as JSON)."""
    out = {"suite": study.suite, "runs": study.runs, "algorithms": study.algorithms, "dimensions": {}}
    for d in study.dimensions:
        fs = study.functions
        algs = list(study.algorithms)
        ref = {}
        # the published runs used the competition's budget: compared only at 10^4·D
        if reference and study.budget_per_dimension == 10000:
            for name in ("L-SHADE", "UMOEAS"):
                runs = [read_reference(reference, name, f, d) if study.suite == "cec2014" else None for f in fs]
                if all(r is not None for r in runs):
                    ref[name] = [r[-1] for r in runs]
        table = {}
        for f in fs:
            row = {}
            for a in algs:
                e = cec_errors(study.final[(a, f, d)])
                row[a] = {"mean": float(e.mean()), "median": float(np.median(e)), "std": float(e.std(ddof=1)) if len(e) > 1 else 0.0,
                          "success": float(np.mean(e == 0))}
            for name, runs in ref.items():
                e = cec_errors(runs[fs.index(f)])
                row[name] = {"mean": float(e.mean()), "median": float(np.median(e)), "std": float(e.std(ddof=1)), "success": float(np.mean(e == 0))}
            table[f] = row
        columns = algs + list(ref)
        means = np.array([[table[f][c]["mean"] for c in columns] for f in fs])
        ranks_all = friedman_ranks(means)
        ranks_ours = friedman_ranks(means[:, :len(algs)])
        comparisons = {}
        for q in [a for a in algs if a in QTZ_VARIANTS]:
            for b in columns:
                if b == q:
                    continue
                sb = [cec_errors(study.final[(b, f, d)]) if b in algs else cec_errors(ref[b][fs.index(f)]) for f in fs]
                w, t, l, adj, signs = wins_ties_losses([cec_errors(study.final[(q, f, d)]) for f in fs], sb)
                p_sr, dir_sr = signed_rank([table[f][q]["mean"] for f in fs], [table[f][b]["mean"] for f in fs])
                comparisons[f"{q} vs {b}"] = {"variant": q, "baseline": b, "wins": int(w), "ties": int(t), "losses": int(l),
                                              "p_holm": [float(x) for x in adj], "signs": [int(s) for s in signs],
                                              "p_signed_rank": p_sr, "direction_signed_rank": int(dir_sr)}
        near = {}
        if "L-SHADE" in ref:
            for a in algs:
                ok = 0
                for f in fs:
                    m, lm = table[f][a]["mean"], table[f]["L-SHADE"]["mean"]
                    ok += (m <= 2 * lm) if lm > 0 else (m == 0)
                near[a] = ok
        out["dimensions"][d] = {"table": table, "columns": columns, "friedman_with_published": dict(zip(columns, map(float, ranks_all))),
                                "friedman": dict(zip(algs, map(float, ranks_ours))), "comparisons": comparisons,
                                "within_2x_of_lshade": near}
    return out


def figures(study, outdir, dpi=90):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []
    colors = {a: plt.cm.tab10(i % 10) for i, a in enumerate(study.algorithms)}
    for d in study.dimensions:
        fs = study.functions
        budget = study.budget_per_dimension * d
        cols = min(6, len(fs))
        rows = (len(fs) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False)
        x = study.fractions * budget
        for k, f in enumerate(fs):
            ax = axes[k // cols][k % cols]
            for a in study.algorithms:
                e = np.maximum(cec_errors(study.at[(a, f, d)]), CEC_ZERO / 10)
                q1, med, q3 = np.percentile(e, [25, 50, 75], axis=0)
                ax.plot(x, med, color=colors[a], lw=1.2, label=a)
                ax.fill_between(x, q1, q3, color=colors[a], alpha=0.15, lw=0)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{study.suite} f{f}, D = {d}", fontsize=8)
            ax.tick_params(labelsize=6)
        for k in range(len(fs), rows * cols):
            axes[k // cols][k % cols].axis("off")
        axes[0][0].legend(fontsize=6, loc="lower left")
        fig.supxlabel("evaluations")
        fig.supylabel("error: median, quartiles (0 at 1e-9)")
        fig.tight_layout()
        p = os.path.join(outdir, f"convergence_d{d}.png")
        fig.savefig(p, dpi=dpi)
        plt.close(fig)
        paths.append(p)
        # ECDF of (function, run, target) triples reached within an evaluation count
        fig, ax = plt.subplots(figsize=(7, 4.5))
        grid = np.logspace(0, np.log10(budget), 200)
        for a in study.algorithms:
            hits = []
            for f in fs:
                for ev, er in study.trace[(a, f, d)]:
                    for t in TARGETS:
                        i = np.flatnonzero(er <= t)
                        hits.append(ev[i[0]] if i.size else np.inf)
            hits = np.sort(np.asarray(hits))
            ax.step(grid / d, np.searchsorted(hits, grid, side="right") / len(hits), where="post", color=colors[a], label=a)
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlabel("evaluations / D")
        ax.set_ylabel("fraction of (function, run, target) reached")
        ax.set_title(f"{study.suite}, D = {d}: ECDF over {len(fs)} functions, targets 1e2 ... 1e-8")
        ax.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        p = os.path.join(outdir, f"ecdf_d{d}.png")
        fig.savefig(p, dpi=dpi)
        plt.close(fig)
        paths.append(p)
    return paths


def bold_best_table(corner, rows, columns, text, value):
    """A Markdown table: one row per item of `rows`, one column per item of `columns`, cell
    text(row, column), the cell(s) of lowest value(row, column) in each row in bold."""
    lines = [f"| {corner} | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for r in rows:
        best = min(value(r, c) for c in columns)
        cells = [f"**{text(r, c)}**" if value(r, c) == best else text(r, c) for c in columns]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return lines


def comparison_table(comparisons, over):
    """The wins/ties/losses table of the QTZ variants against the others (`over`: "functions"
    or "instances", what the signed-rank test pairs)."""
    lines = [f"| QTZ variant vs | wins | ties | losses | signed-rank p over {over} |", "|---|---|---|---|---|"]
    for name, c in comparisons.items():
        sr = {-1: "QTZ lower", 1: "QTZ higher", 0: "equal"}[c["direction_signed_rank"]]
        lines.append(f"| {name} | {c['wins']} | {c['ties']} | {c['losses']} | {c['p_signed_rank']:.2g} ({sr}) |")
    return lines


def verdict_lines(study, res):
    """The headline: the paper's claim against the study, in a few Markdown lines."""
    lines = []
    for d, r in res["dimensions"].items():
        ranks = sorted(r["friedman_with_published"].items(), key=lambda kv: kv[1])
        lines.append(f"**{study.suite.upper()}, D = {d}, {len(study.functions)} functions, {study.runs} runs of {study.budget_per_dimension}·D "
                     f"evaluations.** Friedman mean ranks (1 = best, by mean final error): " +
                     ", ".join(f"{a} {v:.2f}" for a, v in ranks) + ".")
        lines.append("")
        lines += comparison_table(r["comparisons"], "functions")
        lines.append("")
        lines.append(f"Wins/ties/losses: per function, two-sided Wilcoxon rank-sum test on the {study.runs} final errors, "
                     "Holm-corrected over the functions at α = 0.05.  Signed-rank p: two-sided Wilcoxon signed-rank test "
                     "on the pairs of mean errors over the functions (Derrac et al. 2011), with the side whose errors are lower.")
        lines.append("")
        lines += claim_lines(r)
        if r["within_2x_of_lshade"]:
            lines.append("")
            lines.append("Functions on which the mean error is within 2× of L-SHADE's (or 0 where L-SHADE's is 0): " +
                         ", ".join(f"{a} {n}/{len(study.functions)}" for a, n in r["within_2x_of_lshade"].items()) + ".")
    return lines


def claim_lines(r):
    """The paper's claim, "consistently outperforms conventional algorithms", read as: against
    every baseline, significantly better on more functions than significantly worse.  One line
    per QTZ variant saying whether that holds, and where it fails."""
    out = []
    variants = sorted({c["variant"] for c in r["comparisons"].values()}, key=QTZ_VARIANTS.index)
    for q in variants:
        rows = {c["baseline"]: c for c in r["comparisons"].values() if c["variant"] == q and c["baseline"] not in QTZ_VARIANTS}
        if not rows:
            continue
        behind = [b for b, c in rows.items() if c["wins"] <= c["losses"]]
        w = sum(c["wins"] for c in rows.values())
        t = sum(c["ties"] for c in rows.values())
        l = sum(c["losses"] for c in rows.values())
        verdict = ("holds" if not behind else "does not hold")
        out.append(f"- **{q}**: \"consistently outperforms\" (more significant wins than losses against every baseline) "
                   f"{verdict}: {w} wins, {t} ties, {l} losses over {len(rows)} baselines × {len(next(iter(rows.values()))['signs'])} functions"
                   + (f"; not ahead of {', '.join(behind)}." if behind else "."))
    return out


def write_report(study, res, outdir, figs):
    md = [f"# {study.suite.upper()} study: {', '.join(study.algorithms)}", "",
          f"Generated by `python3 -m qtzflow.report {os.path.basename(study.path)}` from the study file written on "
          f"{study.meta['date']} by qtzflow {study.meta['softwareVersion']} ({study.meta['gitRevision']}) on {study.meta['machine']}.  "
          f"Run time: {sum(study.cell_seconds.values()):.0f} run-seconds (the sum of the {len(study.cell_seconds)} cells' wall times, "
          f"whichever process or session ran them; on T threads the study takes about that divided by T); the process that "
          f"finished the file ran {study.wall:.0f} s.", "",
          "Protocol: the CEC competitions' — budget 10^4·D evaluations per run (every call of f counted, "
          "initial populations included), errors f − f* below 1e-8 counted as 0, algorithms at their documented "
          "defaults with restarts when they stop early (docs/benchmarks.md).  Each cell's seed and the "
          "`qtzflow optimize` command that reruns it are in the study's JSON and HDF5 files.", ""]
    md += verdict_lines(study, res)
    for d, r in res["dimensions"].items():
        md += ["", f"## Final errors, D = {d} (mean / median / std over {study.runs} runs)", ""]
        t = r["table"]
        md += bold_best_table("f", study.functions, r["columns"], lambda f, c: f"{fmt(t[f][c]['mean'])} / {fmt(t[f][c]['median'])} / {fmt(t[f][c]['std'])}",
                              lambda f, c: t[f][c]["mean"])
        md += ["", "Friedman mean ranks over the functions (by mean final error; published entrants included where given): " +
               ", ".join(f"{a} {v:.2f}" for a, v in sorted(r["friedman_with_published"].items(), key=lambda kv: kv[1])) + "."]
        md += ["", "Per-function tests (Holm-adjusted p; + QTZ better, − worse, = no significant difference):", ""]
        names = list(r["comparisons"])
        md.append("| f | " + " | ".join(names) + " |")
        md.append("|---" * (len(names) + 1) + "|")
        for i, f in enumerate(study.functions):
            cells = []
            for n in names:
                c = r["comparisons"][n]
                cells.append({-1: "+", 0: "=", 1: "−"}[c["signs"][i]] + f" {c['p_holm'][i]:.2g}")
            md.append(f"| {f} | " + " | ".join(cells) + " |")
    md += ["", "## Figures", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in figs]
    path = os.path.join(outdir, "report.md")
    with open(path, "w") as fh:
        fh.write("\n".join(md) + "\n")
    return path


# ------------------------------------------------------------------ the TSPLIB ladder (suite "tsplib")

TSP_TARGETS = 10.0 ** (np.arange(0, -16, -1) / 5.0)  # gaps 100 % ... 0.1 %, 5 per decade: the study's trace levels
TSP_QTZ = ("qtz", "qtz-dither", "qtz-nl", "qtz-dither-nl")


class TspStudy:
    """A tsplib study's HDF5 file as arrays keyed (algorithm, instance, budget): final gaps
    (runs), gaps at the fractions (runs x fractions), traces (per run: moves, gaps), moves
    evaluated (runs) and the cell's wall seconds."""

    def __init__(self, h, path):
        text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
        self.path = path
        self.suite = "tsplib"
        self.runs = int(h.attrs["runs"])
        self.fractions = np.asarray(h.attrs["fractions"], dtype=float)
        self.algorithms = [text(a) for a in h.attrs["algorithms"]]
        self.instances = [text(i) for i in h.attrs["instances"]]
        self.budgets = [int(b) for b in h.attrs["budgets"]]
        self.optima = dict(zip(self.instances, (float(o) for o in h.attrs["optima"])))
        self.cities = dict(zip(self.instances, (int(c) for c in h.attrs["cities"])))
        self.meta = {k: text(h.attrs[k]) for k in ("date", "gitRevision", "machine", "softwareVersion")}
        self.wall = float(h.attrs["wallSeconds"])
        self.final, self.at, self.trace, self.seed, self.reproduce, self.evaluations, self.cell_seconds = {}, {}, {}, {}, {}, {}, {}
        for b in self.budgets:
            for i in self.instances:
                for a in self.algorithms:
                    name = f"cells/{i}_b{b}/{a}"
                    if name not in h:
                        raise ValueError(f"{path}: {name} is missing")
                    g = h[name]
                    key = (a, i, b)
                    self.final[key] = g["final_error"][()]
                    if np.any(self.final[key] < 0) or not np.all(np.isfinite(self.final[key])):
                        raise ValueError(f"{path}: {name}: a gap below 0 (a tour shorter than the proven optimum) or not finite")
                    self.at[key] = g["errors_at_fractions"][()]
                    self.evaluations[key] = g["evaluations"][()]
                    off, ev, er = g["trace_offsets"][()], g["trace_evaluations"][()], g["trace_errors"][()]
                    self.trace[key] = [(ev[off[k]:off[k + 1]], er[off[k]:off[k + 1]]) for k in range(len(off) - 1)]
                    self.seed[key] = int(g.attrs["seed"])
                    self.reproduce[key] = text(g.attrs["reproduce"])
                    self.cell_seconds[key] = float(g.attrs["wallSeconds"])


def first_reach(trace, target):
    """The move count at which a run's gap first fell to `target` or below (inf: never)."""
    ev, er = trace
    i = np.flatnonzero(er <= target)
    return float(ev[i[0]]) if i.size else np.inf


def median_reach(traces, target):
    """(median moves to reach the target over the runs, runs that reached it); the median is
    inf when fewer than half the runs reached it (runs that never did count as inf)."""
    t = np.array([first_reach(tr, target) for tr in traces])
    return float(np.median(t)), int(np.isfinite(t).sum())


def analyse_tsp(study):
    """Everything the tsplib report shows, as plain data (also written as JSON)."""
    out = {"suite": "tsplib", "runs": study.runs, "algorithms": study.algorithms, "instances": study.instances,
           "budgets": study.budgets, "optima": study.optima, "cities": study.cities, "budget_levels": {}}
    algs = study.algorithms
    for b in study.budgets:
        table = {}
        for i in study.instances:
            row = {}
            for a in algs:
                key = (a, i, b)
                g = study.final[key]
                t1, n1 = median_reach(study.trace[key], 1e-2)
                t01, n01 = median_reach(study.trace[key], 1e-3)
                secs = study.cell_seconds[key]
                row[a] = {"mean_gap": float(g.mean()), "best_gap": float(g.min()), "std_gap": float(g.std(ddof=1)) if len(g) > 1 else 0.0,
                          "hits": int(np.sum(g == 0)), "median_moves_to_1pct": t1, "reached_1pct": n1,
                          "median_moves_to_0.1pct": t01, "reached_0.1pct": n01,
                          "moves_per_second": float(study.evaluations[key].sum() / secs) if secs > 0 else float("nan"),
                          "mean_moves": float(study.evaluations[key].mean())}
            table[i] = row
        means = np.array([[table[i][a]["mean_gap"] for a in algs] for i in study.instances])
        comparisons = {}
        for q in [a for a in algs if a in TSP_QTZ]:
            for base in [a for a in algs if a not in TSP_QTZ]:
                w, t, l, adj, signs = wins_ties_losses([study.final[(q, i, b)] for i in study.instances],
                                                       [study.final[(base, i, b)] for i in study.instances])
                p_sr, dir_sr = signed_rank([table[i][q]["mean_gap"] for i in study.instances], [table[i][base]["mean_gap"] for i in study.instances])
                comparisons[f"{q} vs {base}"] = {"variant": q, "baseline": base, "wins": int(w), "ties": int(t), "losses": int(l),
                                                 "p_holm": [float(x) for x in adj], "signs": [int(s) for s in signs],
                                                 "p_signed_rank": p_sr, "direction_signed_rank": int(dir_sr)}
        out["budget_levels"][b] = {"table": table, "friedman": dict(zip(algs, map(float, friedman_ranks(means)))), "comparisons": comparisons}
    return out


def tsp_figures(study, outdir, dpi=90):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = {a: plt.cm.tab10(i % 10) for i, a in enumerate(study.algorithms)}
    paths = []
    floor = 1e-5  # where a gap of 0 (the optimum) is drawn on log axes
    # ECDFs of the final gap, one panel per budget
    fig, axes = plt.subplots(1, len(study.budgets), figsize=(3.6 * len(study.budgets), 3.4), squeeze=False)
    x = np.logspace(np.log10(floor), 0, 300)
    for k, b in enumerate(study.budgets):
        ax = axes[0][k]
        for a in study.algorithms:
            g = np.sort(np.concatenate([np.maximum(study.final[(a, i, b)], floor) for i in study.instances]))
            ax.step(x, np.searchsorted(g, x, side="right") / len(g), where="post", color=colors[a], label=a)
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_title(f"budget {b:.0e} moves", fontsize=9)
        ax.set_xlabel("gap to the optimum (optimum drawn at 1e-5)", fontsize=8)
    axes[0][0].set_ylabel(f"fraction of ({len(study.instances)} instances × {study.runs} runs)")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    p = os.path.join(outdir, "ecdf_gap.png")
    fig.savefig(p, dpi=dpi)
    plt.close(fig)
    paths.append(p)
    # run-time ECDF at the largest budget (COCO style): (instance, run, target) triples reached
    b = max(study.budgets)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    grid = np.logspace(0, np.log10(b), 200)
    for a in study.algorithms:
        hits = np.sort([first_reach(tr, t) for i in study.instances for tr in study.trace[(a, i, b)] for t in TSP_TARGETS])
        ax.step(grid, np.searchsorted(hits, grid, side="right") / len(hits), where="post", color=colors[a], label=a)
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("moves evaluated")
    ax.set_ylabel("fraction of (instance, run, target) reached")
    ax.set_title(f"TSPLIB, budget {b:.0e}: {len(study.instances)} instances, gap targets 100 % ... 0.1 %")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    p = os.path.join(outdir, "ecdf_moves.png")
    fig.savefig(p, dpi=dpi)
    plt.close(fig)
    paths.append(p)
    # mean gap against the budget, one panel per instance
    cols = min(5, len(study.instances))
    rows = (len(study.instances) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False)
    for k, i in enumerate(study.instances):
        ax = axes[k // cols][k % cols]
        for a in study.algorithms:
            ax.plot(study.budgets, [max(study.final[(a, i, bb)].mean(), floor) for bb in study.budgets], "o-", ms=3, color=colors[a], label=a)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{i} ({study.cities[i]} cities)", fontsize=8)
        ax.tick_params(labelsize=6)
    for k in range(len(study.instances), rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].legend(fontsize=5, loc="lower left")
    fig.supxlabel("budget (moves)")
    fig.supylabel("mean gap (0 drawn at 1e-5)")
    fig.tight_layout()
    p = os.path.join(outdir, "gap_vs_budget.png")
    fig.savefig(p, dpi=dpi)
    plt.close(fig)
    paths.append(p)
    return paths


def pct(x):
    return "0" if x == 0 else f"{100 * x:.3g} %"


def moves(x):
    return "—" if not np.isfinite(x) else f"{x:.2g}"


def tsp_claim_lines(r, n_instances):
    """The paper's combinatorial claim at one budget, read as for the CEC suites: against every
    baseline, significantly better on more instances than significantly worse."""
    out = []
    for q in [v for v in TSP_QTZ if any(c["variant"] == v for c in r["comparisons"].values())]:
        rows = {c["baseline"]: c for c in r["comparisons"].values() if c["variant"] == q}
        if not rows:
            continue
        behind = [b for b, c in rows.items() if c["wins"] <= c["losses"]]
        w, t, l = (sum(c[k] for c in rows.values()) for k in ("wins", "ties", "losses"))
        out.append(f"- **{q}**: \"consistently outperforms\" {'holds' if not behind else 'does not hold'}: {w} wins, {t} ties, {l} losses "
                   f"over {len(rows)} baselines × {n_instances} instances" + (f"; not ahead of {', '.join(behind)}." if behind else "."))
    return out


def tsp_verdict_lines(study, res):
    """The headline of a tsplib study, in a few Markdown lines."""
    b = max(study.budgets)
    r = res["budget_levels"][b]
    algs = study.algorithms
    lines = [f"**TSPLIB, {len(study.instances)} instances ({min(study.cities.values())}–{max(study.cities.values())} cities), "
             f"{study.runs} runs per cell from the nearest-neighbour tour, budgets {', '.join(f'{x:.0e}' for x in study.budgets)} moves.** "
             f"At {b:.0e} moves, mean gap to the proven optimum (optimum hits / runs):", ""]
    t = r["table"]
    lines += bold_best_table("instance", study.instances, algs, lambda i, a: f"{pct(t[i][a]['mean_gap'])} ({t[i][a]['hits']}/{study.runs})",
                             lambda i, a: t[i][a]["mean_gap"])
    lines.append("")
    lines.append("Friedman mean ranks over the instances at each budget (1 = best, by mean gap):")
    lines.append("")
    lines.append("| budget | " + " | ".join(algs) + " |")
    lines.append("|---" * (len(algs) + 1) + "|")
    for bb in study.budgets:
        fr = res["budget_levels"][bb]["friedman"]
        lines.append(f"| {bb:.0e} | " + " | ".join(f"{fr[a]:.2f}" for a in algs) + " |")
    lines.append("")
    lines.append(f"QTZ variants against the baselines at {b:.0e} moves (per instance: two-sided Wilcoxon rank-sum test on the "
                 f"{study.runs} final gaps, Holm-corrected over the instances at α = 0.05; signed-rank p: two-sided Wilcoxon "
                 "signed-rank test on the pairs of mean gaps over the instances):")
    lines.append("")
    lines += comparison_table(r["comparisons"], "instances")
    lines.append("")
    lines += tsp_claim_lines(r, len(study.instances))
    return lines


def write_tsp_report(study, res, outdir, figs):
    md = [f"# TSPLIB ladder: {', '.join(study.algorithms)}", "",
          f"Generated by `python3 -m qtzflow.report {os.path.basename(study.path)}` from the study file written on "
          f"{study.meta['date']} by qtzflow {study.meta['softwareVersion']} ({study.meta['gitRevision']}) on {study.meta['machine']}.  "
          f"Run time: {sum(study.cell_seconds.values()):.0f} run-seconds (the sum of the {len(study.cell_seconds)} cells' wall times); "
          f"the process that finished the file ran {study.wall:.0f} s.", "",
          "Protocol (docs/benchmarks.md): every run starts from the nearest-neighbour tour of city 1 and is charged for the "
          "move deltas it evaluates (the candidates of an acceptance loop, the moves iterated local search tries, its kicks); "
          "the gap is (L − L_opt)/L_opt with L the best tour's length recomputed from the permutation and L_opt TSPLIB's "
          "proven optimum.  Algorithms at their defaults (K = 10 neighbours).  Each cell's seed and the `qtzflow optimize` "
          "command that reruns it are in the study's JSON and HDF5 files.", ""]
    md += tsp_verdict_lines(study, res)
    for b in study.budgets:
        r = res["budget_levels"][b]
        md += ["", f"## Budget {b:.0e} moves", "",
               "Mean / best gap, optimum hits, median moves to a gap of 1 % and of 0.1 % (— when fewer than half the runs "
               "got there; in brackets how many did), moves evaluated per second per thread.", ""]
        md.append("| instance | algorithm | mean gap | best gap | hits | to 1 % | to 0.1 % | moves used (mean) | moves/s |")
        md.append("|---|---|---|---|---|---|---|---|---|")
        for i in study.instances:
            for a in study.algorithms:
                c = r["table"][i][a]
                md.append(f"| {i} | {a} | {pct(c['mean_gap'])} | {pct(c['best_gap'])} | {c['hits']}/{study.runs} | "
                          f"{moves(c['median_moves_to_1pct'])} ({c['reached_1pct']}) | {moves(c['median_moves_to_0.1pct'])} ({c['reached_0.1pct']}) | "
                          f"{c['mean_moves']:.3g} | {c['moves_per_second']:.3g} |")
    md += ["", "## Figures", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in figs]
    path = os.path.join(outdir, "report.md")
    with open(path, "w") as fh:
        fh.write("\n".join(md) + "\n")
    return path


def open_study(path):
    """A study file as a Study (CEC suites) or a TspStudy (suite "tsplib"); ValueError naming
    the file when it is not a qtzflow study."""
    import h5py
    try:
        h = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file ({e})") from None
    with h:
        if h.attrs.get("software") not in ("qtzflow", b"qtzflow") or "cells" not in h or "study" not in h.attrs:
            raise ValueError(f"{path}: not a qtzflow study file (no study attribute or /cells group)")
        suite = h.attrs["suite"]
        if (suite.decode() if isinstance(suite, bytes) else str(suite)) == "tsplib":
            return TspStudy(h, path)
    return Study(path)


def json_ready(x):
    """x with every non-finite float replaced by None (JSON has no Infinity)."""
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_ready(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def readme_markers(readme, study_path):
    """The markers of a study's verdict in a Markdown file: <!-- verdict:STEM:begin --> and
    <!-- verdict:STEM:end -->, STEM the study file's name without .h5 (so the D = 10 and D = 30
    studies of one suite have their own sections).  ValueError when the file lacks them."""
    stem = os.path.splitext(os.path.basename(study_path))[0]
    begin, end = f"<!-- verdict:{stem}:begin -->", f"<!-- verdict:{stem}:end -->"
    try:
        with open(readme) as fh:
            text = fh.read()
    except OSError as e:
        raise ValueError(f"--readme: {readme}: {e.strerror}") from None
    if begin not in text or end not in text or text.index(end) < text.index(begin):
        raise ValueError(f"--readme: {readme}: no {begin} ... {end} markers to replace")
    return begin, end


def replace_verdict(readme, study_path, lines, report_path):
    """Replaces the text between the study's markers (readme_markers) with `lines` and a link to
    the full report: the README's claims are generated, never typed."""
    begin, end = readme_markers(readme, study_path)
    with open(readme) as fh:
        text = fh.read()
    link = os.path.relpath(report_path, os.path.dirname(os.path.abspath(readme)))
    body = "\n".join(list(lines) + ["", f"Full tables and figures: [{link}]({link})."])
    text = text[:text.index(begin) + len(begin)] + "\n" + body + "\n" + text[text.index(end):]
    with open(readme, "w") as fh:
        fh.write(text)


def update_readme(readme, study, res, report_path):
    """The study's headline between its markers (replace_verdict)."""
    lines = tsp_verdict_lines(study, res) if study.suite == "tsplib" else verdict_lines(study, res)
    replace_verdict(readme, study.path, lines, report_path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m qtzflow.report", description="the report of a qtzflow study")
    parser.add_argument("study", metavar="STUDY.h5")
    parser.add_argument("--reference", help="folder of published CEC2014 results (data/cec2014: L-SHADE/, UMOEAS/)")
    parser.add_argument("-o", "--output", help="folder for report.md, analysis.json and the figures (default: STEM_report/ beside the file)")
    parser.add_argument("--readme", help="a Markdown file whose <!-- verdict:STEM:begin/end --> section (STEM: the study file's name without .h5) is replaced by the headline")
    parser.add_argument("--dpi", type=int, default=90)
    args = parser.parse_args(argv)
    try:
        if args.reference and not os.path.isdir(args.reference):
            raise ValueError(f"--reference: {args.reference}: not a folder")
        if args.readme:
            readme_markers(args.readme, args.study)  # checked before anything is written
        study = open_study(args.study)
        if study.suite == "tsplib" and args.reference:
            raise ValueError("--reference: published results are for the CEC suites; a tsplib study compares with TSPLIB's optima")
        outdir = args.output or os.path.splitext(args.study)[0] + "_report"
        os.makedirs(outdir, exist_ok=True)
        if study.suite == "tsplib":
            res = analyse_tsp(study)
            figs = tsp_figures(study, outdir, args.dpi)
            path = write_tsp_report(study, res, outdir, figs)
        else:
            res = analyse(study, args.reference)
            figs = figures(study, outdir, args.dpi)
            path = write_report(study, res, outdir, figs)
        with open(os.path.join(outdir, "analysis.json"), "w") as fh:
            json.dump(json_ready(res), fh, indent=1)
        if args.readme:
            update_readme(args.readme, study, res, path)
    except ValueError as e:
        print(f"qtzflow.report: error: {e}", file=sys.stderr)
        return 2
    print(f"qtzflow.report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
