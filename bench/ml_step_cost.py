"""The cost of the quantized optimizer step in a training step (issue #29).

    PYTHONPATH=build/python /usr/bin/python3 bench/ml_step_cost.py [--steps 60] [--threads 1,2]

The QTZ authors' network (qtzflow.ml.authors_network, 50,186 weights) on batches of 100
Fashion-MNIST images (the first 6,000 training images, or random images without the dataset):
per torch thread count, the median time of a whole training step (forward, backward,
optimizer.step) with torch's Adam and with qtzflow's QtAdam, and of optimizer.step() alone,
interleaved step by step so that a drifting machine falls on both alike.  Prints a Markdown
table for BENCHMARKS.md.
"""
import argparse
import datetime
import os
import platform
import time

import numpy as np
import torch

from qtzflow import ml
from qtzflow.torch import QtAdam, QtSGD


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    try:
        x, y, _, _ = ml.load_fashion_mnist()
        x, y, source = x[:6000], y[:6000], "Fashion-MNIST"
    except ValueError:
        rng = np.random.default_rng(0)
        x, y, source = rng.integers(0, 256, (6000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 6000).astype(np.uint8), "random images"
    xs = torch.from_numpy(x.astype(np.float32) / 255).unsqueeze(1)
    ys = torch.from_numpy(y.astype(np.int64))
    print(f"Command ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{source}): `PYTHONPATH=build/python /usr/bin/python3 bench/ml_step_cost.py --steps {args.steps} --threads {args.threads}`\n")
    print("| torch threads | optimizer | training step (ms, median) | optimizer.step (ms, median) | step share |")
    print("|---|---|---|---|---|")
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        nets = {name: ml.authors_network(seed=1) for name in ("Adam", "QtAdam", "QtSGD")}
        opts = {"Adam": torch.optim.Adam(nets["Adam"].parameters(), lr=1e-3), "QtAdam": QtAdam(nets["QtAdam"].parameters()),
                "QtSGD": QtSGD(nets["QtSGD"].parameters())}
        whole = {k: [] for k in opts}
        step_only = {k: [] for k in opts}
        for s in range(args.steps):
            b = s % 60
            for name, opt in opts.items():
                net = nets[name]
                t0 = time.perf_counter()
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(xs[b * 100:(b + 1) * 100]), ys[b * 100:(b + 1) * 100]).backward()
                t1 = time.perf_counter()
                opt.step()
                t2 = time.perf_counter()
                if s >= 5:  # warm-up steps left out
                    whole[name].append(t2 - t0)
                    step_only[name].append(t2 - t1)
        for name in opts:
            w, o = 1e3 * np.median(whole[name]), 1e3 * np.median(step_only[name])
            print(f"| {threads} | {name} | {w:.2f} | {o:.3f} | {100 * o / w:.1f} % |")


if __name__ == "__main__":
    main()
