#!/usr/bin/python3
"""The Fokker-Planck engine across ranks (issue 31): strong and weak scaling of one backward-Euler
step, and the whole CLI process of a user's run, for the two ways of solving the axis-0 lines
(partitioned: where they lie; transpose: through two global transposes).

Runs, on this machine's cores, side by side in one session:
  strong   bench_mpi_engines --fp (1024^2, 2048^2, 128^3, 256^3): 1 rank x 1 thread, 1 rank x 2
           threads (OpenMP), mpirun -n 2/4/8 x 1 thread (4 and 8 oversubscribe 2 cores: their
           "per core share" is the time x cores / ranks);
  weak     bench_mpi_engines --fp --weak on P = 1, 2, 4, 8 ranks: one 256 x 256 and one 64^3 slab
           per rank;
  CLI      `qtzflow run examples/fokker_planck_escape.toml --set grid.n=[1024,1024]` (2000 steps,
           21 snapshots) as a whole process: 1 rank x 1 thread, 1 rank x 2 threads, mpirun -n 2
           x 1 thread with each line solve (best of `--repeats`).
Writes results/fp_scaling/scaling.md (tables) and raw.txt (the programs' output).
Usage: /usr/bin/python3 bench/fp_scaling.py [--build build] [--repeats 2] [--quick]
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
ENV.pop("OMP_NUM_THREADS", None)
LINE = re.compile(r"^(\S+)\s+FP \(BE(?:, (partitioned|transpose))?\)\s+ranks (\d+) x threads (\d+)\s+step\s+([\d.]+) ms\s+sent/rank/step\s+([\d.]+) MB")


def run(cmd, raw):
    out = subprocess.run(cmd, env=ENV, check=True, capture_output=True, text=True).stdout
    raw.append("$ " + " ".join(cmd) + "\n" + out)
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows.append({"grid": m[1], "way": m[2] or "one rank", "ranks": int(m[3]), "threads": int(m[4]), "ms": float(m[5]), "MB": float(m[6])})
    return rows


def mpirun(n):
    return ["mpirun", "-n", str(n), "--bind-to", "core" if n <= 2 else "none"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="3 samples per size, no 8-rank runs, CLI once")
    args = ap.parse_args()
    bench = os.path.join(ROOT, args.build, "bench", "bench_mpi_engines")
    cli = os.path.join(ROOT, args.build, "apps", "qtzflow")
    quick = ["--quick"] if args.quick else []
    cores = os.cpu_count()
    raw = []
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    strong = {}
    one = run([bench, "--threads", "1", "--fp"] + quick, raw)
    omp = run([bench, "--threads", "2", "--fp"] + quick, raw)
    ranks = [2, 4] if args.quick else [2, 4, 8]
    dist = {P: run(mpirun(P) + [bench, "--threads", "1", "--fp"] + quick, raw) for P in ranks}
    for r in one:
        strong[r["grid"]] = {"one": r["ms"]}
    for r in omp:
        strong[r["grid"]]["omp"] = r["ms"]
    for P, rows in dist.items():
        for r in rows:
            strong[r["grid"]][(P, r["way"])] = (r["ms"], r["MB"])
    weak = {}
    for P in [1, 2, 4] + ([] if args.quick else [8]):
        for r in run((mpirun(P) if P > 1 else []) + [bench, "--threads", "1", "--fp", "--weak"] + quick, raw):
            weak[(r["grid"].split("x", 1)[1], P, r["way"])] = (r["grid"], r["ms"])
    # the whole CLI process
    work = tempfile.mkdtemp(prefix="qtzflow_fp_scaling_")
    example = os.path.join(ROOT, "examples", "fokker_planck_escape.toml")
    base = ["run", "-q", example, "--set", "grid.n=[1024,1024]", "-o", "out.h5"]
    cases = [("1 rank x 1 thread", [cli, "--threads", "1"] + base),
             ("1 rank x 2 threads (OpenMP)", [cli, "--threads", "2"] + base),
             ("mpirun -n 2 x 1 thread, partitioned", mpirun(2) + [cli, "--threads", "1"] + base),
             ("mpirun -n 2 x 1 thread, transpose", mpirun(2) + [cli, "--threads", "1"] + base + ["--set", "fokker_planck.line_solve=transpose"])]
    repeats = 1 if args.quick else args.repeats
    walls = {name: [] for name, _ in cases}
    for _ in range(repeats):  # interleaved, so that the machine's load falls on all alike
        for name, cmd in cases:
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=work, env=ENV, check=True, capture_output=True)
            walls[name].append(time.perf_counter() - t0)
    finished = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M UTC")
    cmdline = "/usr/bin/python3 bench/fp_scaling.py" + (" --quick" if args.quick else "") + (f" --repeats {args.repeats}" if args.repeats != 2 else "")
    out = [f"Command: `{cmdline}` ({started} – {finished}; {platform.processor() or platform.machine()}, {cores} cores; "
           "`bench_mpi_engines`: the slowest rank's median; FFTW_MEASURE plans; Open MPI without the single-copy path)", ""]
    out += ["### Strong scaling: one backward-Euler step (reflecting walls, double well, dt = 0.01)", "",
            "| grid | 1 rank × 1 thread | 1 rank × 2 threads (OpenMP) | " + " | ".join(f"{P} ranks, partitioned | {P} ranks, transpose" for P in ranks)
            + " | sent per rank per step, partitioned / transpose (2 ranks) |",
            "|---" * (3 + 2 * len(ranks) + 1) + "|"]
    for grid, s in strong.items():
        cells = [grid, f"{s['one']:.2f} ms", f"{s['omp']:.2f} ms ({s['omp'] / s['one']:.2f}×)"]
        for P in ranks:
            for way in ("partitioned", "transpose"):
                ms, _ = s[(P, way)]
                share = ms * min(cores, 2) / P if P > min(cores, 2) else ms  # per core share when oversubscribed
                note = f"{ms:.2f} ms ({share / s['one']:.2f}×" + (", per core share" if P > min(cores, 2) else "") + ")"
                cells.append(note)
        cells.append(f"{s[(2, 'partitioned')][1]:.3f} / {s[(2, 'transpose')][1]:.1f} MB")
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "Ratios are to the one-rank, one-thread step (lower is faster); with 4 and 8 ranks on 2 cores the "
            "per core share (time × 2 / P) is compared.", ""]
    out += ["### Weak scaling: one slab per rank", "", "| block per rank | P | grid | partitioned | per core share | transpose | per core share |", "|---|---|---|---|---|---|---|"]
    blocks = sorted({k[0] for k in weak})
    for blk in blocks:
        for P in sorted({k[1] for k in weak if k[0] == blk}):
            part = weak.get((blk, P, "partitioned")) or weak.get((blk, P, "one rank"))
            tr = weak.get((blk, P, "transpose"))
            share = lambda ms: ms * min(cores, 2) / P if P > min(cores, 2) else ms
            out.append(f"| {blk} | {P} | {part[0]} | {part[1]:.2f} ms | {share(part[1]):.2f} ms | "
                       + (f"{tr[1]:.2f} ms | {share(tr[1]):.2f} ms |" if tr else "— | — |"))
    out += ["", "### The whole CLI process: `qtzflow run examples/fokker_planck_escape.toml --set grid.n=[1024,1024]`", "",
            f"2000 backward-Euler steps, 21 snapshots of 1024² (HDF5); wall time from start to exit, best of {repeats} (interleaved).", "",
            "| how | wall | against 1 rank × 1 thread |", "|---|---|---|"]
    ref = min(walls[cases[0][0]])
    for name, _ in cases:
        w = min(walls[name])
        out.append(f"| {name} | {w:.2f} s | {w / ref:.2f}× |")
    dest = os.path.join(ROOT, "results", "fp_scaling")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "scaling.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    with open(os.path.join(dest, "raw.txt"), "w") as f:
        f.write(f"# {cmdline}, {started}\n" + "\n".join(raw))
    print("\n".join(out))


if __name__ == "__main__":
    main()
