#!/usr/bin/python3
"""The Python module's costs, measured side by side in one run (BENCHMARKS.md, "Python module").

1. One advance(1) call from Python against the same call from C++ (bench_step_call): 64² periodic
   grid, tilted double well, witten potential, real time, Strang, FFTW_ESTIMATE, one thread.
   Median over 21 blocks of 2000 calls each; the overhead is the difference.
2. QTZ proposals per second with the objective built in, as an expression (4 runs x 10^6
   candidates) and as a Python function (4 runs x 5·10^4), run_ensemble on one thread.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py build/bench/bench_step_call
"""
import statistics
import subprocess
import sys
import time

import qtzflow as q


def python_call_us():
    q.set_threads(1)
    g = q.Grid([64, 64], -2.5, 2.5)
    s = q.SplitStepSolver(g, q.objective("double_well", 2, c=0.3), 0.5, dt=0.01, fft_planning="estimate")
    s.state = [[1.0] * 64] * 64
    blocks = []
    for _ in range(21):
        t0 = time.perf_counter()
        for _ in range(2000):
            s.advance(1)
        blocks.append((time.perf_counter() - t0) / 2000 * 1e6)
    return statistics.median(blocks)


def proposals_per_second(f, runs=4, budget=50000):
    t0 = time.perf_counter()
    r = q.run_ensemble(f, "qtz", runs=runs, budget=budget, seed=1)
    return r["iterations"].sum() / (time.perf_counter() - t0), r["iterations"].sum()


def main():
    cpp = sys.argv[1]
    c1 = float(subprocess.run([cpp], check=True, capture_output=True, text=True).stdout)
    p = python_call_us()
    c2 = float(subprocess.run([cpp], check=True, capture_output=True, text=True).stdout)
    c = min(c1, c2)
    print(f"advance(1) on 64^2: C++ {c1:.2f} / {c2:.2f} us, Python {p:.2f} us: overhead {p - c:.2f} us per call")
    q.set_threads(1)
    builtin = q.objective("double_well", 2, c=0.3)
    expr = q.expression("(x^2-1)^2 + 0.3*x + (y^2-1)^2 + 0.3*y", 2, domain=[-2, 2])
    py = q.function(lambda x: (x[0] * x[0] - 1) ** 2 + 0.3 * x[0] + (x[1] * x[1] - 1) ** 2 + 0.3 * x[1], [-2, -2], [2, 2])
    for name, f, budget in (("built-in", builtin, 10**6), ("expression", expr, 10**6), ("Python function", py, 50000)):
        rate, n = proposals_per_second(f, budget=budget)
        print(f"QTZ on the 2D tilted double well, {name}: {rate:,.0f} proposals/s ({n} proposals)")


if __name__ == "__main__":
    main()
