"""Expected efficiency of the slab-distributed split-step step at scale (issue 17), on paper.

Model (every number is an input below or a measurement in BENCHMARKS.md):
  compute per rank   t_c = c · N log2 N / P, with c, the cost per point and log2-point of one
                     real-time Strang step, measured on one core (128³: bench_mpi_engines);
  exchange per step  two all-to-alls (FFTW_MPI_TRANSPOSED_OUT/IN), each moving 16 N (1 − 1/P)
                     bytes of complex doubles; a node of r ranks sends 16 N/nodes · (1 − 1/nodes)
                     bytes through its link of bandwidth B, and every rank posts P − 1 messages of
                     latency α; inside one node the exchange runs at the node's copy bandwidth M.
  efficiency         E = t_c / (t_c + t_x): against perfect division of the one-core time.
Slabs need P ≤ n0 (and ≤ n1 for the transposed spectrum); beyond, a pencil decomposition
(P ≤ n0·n1, two exchanges per transform in √P-rank sub-communicators) must replace them.
The Fokker–Planck part (issue 31, below) reads results/fp_scaling/raw.txt (bench/fp_scaling.py).
Usage: mpi_projection.py STEP_SECONDS_128CUBED_ONE_CORE
"""
import math
import sys

import datetime

print(f"Command: /usr/bin/python3 bench/mpi_projection.py {' '.join(sys.argv[1:])} "
      f"({datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})")
t128 = float(sys.argv[1]) if len(sys.argv) > 1 else 43.6e-3
n128 = 128**3
c = t128 / (n128 * math.log2(n128))
r, B, alpha, M = 64, 12.5e9, 2e-6, 50e9  # ranks per node, link bytes/s, latency, node copy bytes/s
print(f"c = {c:.3g} s per point per log2 point (from {t128 * 1e3:.1f} ms per 128^3 step on one core)")
print(f"assumed: {r} ranks per node, link {B / 1e9:.1f} GB/s per node, latency {alpha * 1e6:.0f} us, node copy {M / 1e9:.0f} GB/s")
n = 1024
N = n**3
print(f"1024^3: {c * N * math.log2(N):.1f} s per step on one core; slabs allow at most {n} ranks")
print("   P   nodes  compute/rank  exchange/step  efficiency  decomposition")
for P in (64, 512, 4096):
    nodes = max(1, P // r)
    tc = c * N * math.log2(N) / P
    if nodes == 1:
        tx = 2 * 16 * N * (1 - 1 / P) / M + 2 * (P - 1) * alpha
    else:
        tx = 2 * (16 * N / nodes * (1 - 1 / nodes) / B + (P - 1) * alpha)
    kind = "slabs" if P <= n else "pencils needed (P > n0 = 1024)"
    if P > n:  # pencils: two exchanges per transform, each among sqrt(P) ranks, same bytes per node
        q = int(math.isqrt(P))
        tx = 2 * 2 * (16 * N / nodes * (1 - 1 / nodes) / B + (q - 1) * alpha)
    print(f"{P:5d} {nodes:6d} {tc * 1e3:11.1f} ms {tx * 1e3:11.1f} ms {tc / (tc + tx):10.2f}   {kind}")


# ---------------------------------------------------------------------------------------------
# The Fokker–Planck engine (issue 31): the partitioned line solve, checked against this machine's
# measurements, then projected to 1024³.
#
# Model of one backward-Euler step on P slabs of an N-cell D-dimensional grid (m = N / n0 lines
# along axis 0):
#   compute per rank  t_c = s · N/P · (D − 1 + κ): s the one-core time per cell and axis sweep
#                     (from the one-rank step, s = step₁ / (D·N)); the D − 1 sweeps inside the slab
#                     cost what they cost on one rank, the partitioned axis-0 sweep κ times as much
#                     per cell (its elimination, back substitution and packing; κ is fitted to the
#                     2-rank measurements, then checked on the other sizes and rank counts);
#   exchange          two all-to-alls per step; a rank sends 7 doubles per line (2 right-hand
#                     sides and 2 sums out; the 2 interface values and the line's scale back),
#                     56·m bytes, whatever P: a node of r ranks moves r·56·m bytes, through its link
#                     (bandwidth B) for the part bound for other nodes and at its copy bandwidth M
#                     inside; every rank posts 2(P − 1) messages of latency α.
#   transpose path    the same compute with κ = 1, and two global transposes per step that move
#                     the whole slab, 2·8·N/P bytes per rank, as the split-step model above.
# With r ranks on C < r cores (oversubscribed, as measured here) the compute of r/C ranks runs on
# each core one after another.
# Slabs need P ≤ n0: for 4096 ranks on 1024³ the projection uses 2D blocks P = P0·P1 (P0 = r
# ranks of a node along axis 0, P1 nodes along axis 1; both axes partitioned) — a layout the
# engine does not have yet.
import os
import re

raw_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "fp_scaling", "raw.txt")
if os.path.exists(raw_path):
    text = open(raw_path).read()
    pat = re.compile(r"^(\S+)\s+FP \(BE(?:, (partitioned|transpose))?\)\s+ranks (\d+) x threads (\d+)\s+step\s+([\d.]+) ms", re.M)
    meas = {}
    for g, way, P, th, ms in pat.findall(text):
        meas[(g, way or "partitioned", int(P), int(th))] = float(ms) * 1e-3
    cores = 2
    alpha_here, M_here = 5e-6, 5e9  # this VM: shared-memory messages, one core's copy bandwidth

    def cells(g):
        return math.prod(int(v) for v in g.split("x"))

    def lines(g):
        return cells(g) // int(g.split("x")[0])

    def dim(g):
        return len(g.split("x"))

    def predict(g, P, kappa, transpose=False):
        N, m, D = cells(g), lines(g), dim(g)
        s = meas[(g, "partitioned", 1, 1)] / (D * N)
        k = 1.0 if transpose else kappa
        compute = s * N / P * (D - 1 + k) * max(1.0, P / cores)
        sent = 2 * 8 * N / P if transpose else 56 * m
        return compute + 2 * (P - 1) * alpha_here + P * sent / M_here

    grids_here = sorted({k[0] for k in meas if k[2] == 1 and k[3] == 1}, key=cells)
    # κ from the 2-rank steps: least squares of step₂ − exchange = s·N/2·(D − 1 + κ)
    num = den = 0.0
    for g in grids_here:
        if (g, "partitioned", 2, 1) not in meas:
            continue
        N, D, m = cells(g), dim(g), lines(g)
        s = meas[(g, "partitioned", 1, 1)] / (D * N)
        a = s * N / 2
        y = meas[(g, "partitioned", 2, 1)] - 2 * alpha_here - 2 * 56 * m / M_here - a * (D - 1)
        num += a * y
        den += a * a
    kappa = num / den if den else 1.5
    print()
    print(f"Fokker-Planck, partitioned line solve: kappa = {kappa:.2f} (the axis-0 sweep's cost per cell against a sweep inside the slab,")
    print(f"fitted to the 2-rank steps of {raw_path.split('results/')[-1]})")
    print("check against the measured steps (P > 2: P ranks on 2 cores):")
    print("  grid         P  way           measured   model   model/measured")
    worst = 0.0
    for g in grids_here:
        for P in (2, 4, 8):
            for way in ("partitioned", "transpose"):
                if (g, way, P, 1) not in meas:
                    continue
                got, model = meas[(g, way, P, 1)], predict(g, P, kappa, way == "transpose")
                if way == "partitioned":
                    worst = max(worst, abs(model / got - 1))
                print(f"  {g:12s} {P}  {way:12s} {got * 1e3:8.2f} ms {model * 1e3:7.2f} ms   {model / got:5.2f}")
    print(f"largest deviation of the partitioned model from a measured step: {worst * 100:.0f} %")
    # the projection: 1024³, 64 ranks per node, the split-step model's network and node constants
    g256 = "256x256x256"
    s = meas[(g256, "partitioned", 1, 1)] / (3 * cells(g256))
    n0 = 1024
    N, m = n0**3, n0**2
    print()
    print(f"1024^3 backward-Euler step: s = {s * 1e9:.2f} ns per cell and sweep (one-core 256^3 step), kappa = {kappa:.2f};")
    print(f"assumed as above: {r} ranks per node, link {B / 1e9:.1f} GB/s, latency {alpha * 1e6:.0f} us, node copy {M / 1e9:.0f} GB/s")
    print("   P  nodes  layout            compute/rank  exchange/step  efficiency   (transpose path: exchange, efficiency)")
    for P in (64, 512, 4096):
        nodes = max(1, P // r)
        ideal = s * N * 3 / P
        if P <= n0:
            tc = s * N / P * (2 + kappa)
            per_rank = 56 * m
            tx = r * per_rank * (1 - 1 / nodes) / B + r * per_rank / nodes / M + 2 * (P - 1) * alpha if nodes > 1 else r * per_rank / M + 2 * (P - 1) * alpha
            layout = f"slabs ({n0 // P} rows)"
            tr_bytes = 2 * 8 * N / P
            ttx = (r * tr_bytes * (1 - 1 / nodes) / B + 2 * (P - 1) * alpha) if nodes > 1 else r * tr_bytes / M + 2 * (P - 1) * alpha
            tr = f"{ttx * 1e3:8.1f} ms  {ideal / (s * N * 3 / P + ttx):5.2f}"
        else:
            P0, P1 = r, P // r  # a node's ranks along axis 0, the nodes along axis 1
            tc = s * N / P * (1 + 2 * kappa)
            l0, l1 = (n0 // P1) * n0, (n0 // P0) * n0  # lines per rank along axes 0 and 1
            tx = r * 56 * l0 / M + 2 * (P0 - 1) * alpha + r * 56 * l1 / B + 2 * (P1 - 1) * alpha
            layout = f"2D blocks {P0}x{P1}*"
            tr = "   (slabs impossible: P > n0)"
        print(f"{P:5d} {nodes:5d}  {layout:17s} {tc * 1e3:9.1f} ms {tx * 1e3:11.1f} ms {ideal / (tc + tx):9.2f}   {tr}")
    print("* not built: the engine distributes slabs only.  Efficiency: the ideal division of the one-core step, s·N·3/P, over the model's step.")
    # what the slabs would give at 64 ranks with 4 doubles per line instead of 7 (the 2 right-hand
    # sides out, the 2 interface values back; the per-line mass projection's 2 sums and scale
    # replaced by a whole-field projection applied in the next sweep: not built)
    P = 64
    tc = s * N / P * (2 + kappa)
    tx = r * 32 * m / M + 2 * (P - 1) * alpha
    print(f"   64 ranks, slabs, 4 doubles per line instead of 7 (not built): exchange {tx * 1e3:.1f} ms, efficiency {s * N * 3 / P / (tc + tx):.2f}")
else:
    print(f"\n(no {raw_path}: run bench/fp_scaling.py for the Fokker-Planck part)")
