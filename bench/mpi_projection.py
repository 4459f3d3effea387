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
Usage: mpi_projection.py STEP_SECONDS_128CUBED_ONE_CORE
"""
import math
import sys

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
