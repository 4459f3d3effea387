"""How fast the Fashion-MNIST training loop runs with the Debian torch (issue #29).

    PYTHONPATH=build/python /usr/bin/python3 bench/ml_training_loop.py [--steps 300] [--repeats 2]

Every configuration runs in a fresh process (the same start for all), QtAdam on the QTZ authors'
network with batches of 100, `--steps` training steps timed by qtzflow.ml.train_epoch (the
study's own loop) or by a torch DataLoader loop, then one evaluation on the 10,000 test images.
The configurations are run in turn `--repeats` times, interleaved, so that a drifting machine
falls on all alike; the table gives the median.  "epoch" is 600 x (the time per step) + the
evaluation, the time an epoch of the study takes in-process.

Configurations:
  memory-1t        qtzflow.ml's loop (all images in one float32 tensor, a batch is an index
                   gather), 1 torch thread
  memory-2t        the same, 2 threads: what `python3 -m qtzflow.ml study` does by default
  channels-last    memory-2t with the network and the images in torch.channels_last
  no-mkldnn        memory-2t with torch.backends.mkldnn disabled (torch's own convolutions)
  dataloader       memory-2t but batches from torch.utils.data.DataLoader(TensorDataset,
                   batch_size=100, shuffle=True), what most training scripts do
  pair-1t          two memory-1t runs side by side (both cores busy): the wall time of the
                   pair, given per run (the throughput of a study run as two processes)
Then the whole process a user runs: `python3 -m qtzflow.ml study --arms qtadam --seeds 0
--epochs 1` (import, reading the gzip IDX files, one epoch, evaluation, checkpoint, HDF5), wall
time from outside.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONFIGS = ("memory-1t", "memory-2t", "channels-last", "no-mkldnn", "dataloader")


def worker(config, steps):
    import numpy as np
    import torch
    from qtzflow import ml
    from qtzflow.torch import QtAdam
    torch.set_num_threads(1 if config == "memory-1t" else 2)
    if config == "no-mkldnn":
        torch.backends.mkldnn.enabled = False
    tx, ty, sx, sy = ml.load_fashion_mnist()
    x, y = ml.as_tensors(tx, ty)
    ex, ey = ml.as_tensors(sx, sy)
    net = ml.authors_network(seed=0)
    if config == "channels-last":
        net = net.to(memory_format=torch.channels_last)
        x, ex = x.contiguous(memory_format=torch.channels_last), ex.contiguous(memory_format=torch.channels_last)
    opt = QtAdam(net.parameters(), epochs=1, steps_per_epoch=600)
    order = ml.batch_order(len(x), 0, 0, "standard")[:steps * ml.BATCH]
    ml.train_epoch(net, opt, x, y, order[:5 * ml.BATCH])  # warm-up: the first steps allocate
    t0 = time.perf_counter()
    if config == "dataloader":
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=ml.BATCH, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        net.train()
        for b, (bx, by) in enumerate(loader):
            if b == steps:
                break
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(bx), by)
            loss.backward()
            opt.step()
            loss.item()
    else:
        ml.train_epoch(net, opt, x, y, order)
    t1 = time.perf_counter()
    ml.evaluate(net, ex, ey)
    t2 = time.perf_counter()
    print(json.dumps({"step": (t1 - t0) / steps, "eval": t2 - t1}))


def run_worker(config, steps):
    out = subprocess.run([sys.executable, __file__, "--worker", config, "--steps", str(steps)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_pair(steps):
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "memory-1t", "--steps", str(steps)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("a worker failed")
    # each run's own times, measured while the other ran: two epochs of this length finish together
    return {"step": statistics.mean(o["step"] for o in outs), "eval": statistics.mean(o["eval"] for o in outs)}


def whole_process():
    folder = tempfile.mkdtemp(prefix="qtzflow_ml_bench_")
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qtzflow.ml", "study", "--arms", "qtadam", "--seeds", "0", "--epochs", "1", "-o",
                        os.path.join(folder, "one.h5")], check=True, capture_output=True)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(folder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--worker", choices=CONFIGS)
    args = ap.parse_args()
    if args.steps < 10 or args.repeats < 1:
        ap.error("--steps must be >= 10 and --repeats >= 1")
    if args.worker:
        worker(args.worker, args.steps)
        return
    import torch
    results = {c: [] for c in CONFIGS + ("pair-1t",)}
    process = []
    for _ in range(args.repeats):
        for c in CONFIGS:
            results[c].append(run_worker(c, args.steps))
        results["pair-1t"].append(run_pair(args.steps))
        process.append(whole_process())
    print(f"Command ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}): "
          f"`PYTHONPATH=build/python /usr/bin/python3 bench/ml_training_loop.py --steps {args.steps} --repeats {args.repeats}`\n")
    base = statistics.median(r["step"] for r in results["memory-2t"])
    print("| configuration | ms per step (median) | vs memory-2t | evaluation (s) | epoch (s) | epochs per hour, whole machine |")
    print("|---|---|---|---|---|---|")
    for c, rs in results.items():
        step, ev = statistics.median(r["step"] for r in rs), statistics.median(r["eval"] for r in rs)
        epoch = 600 * step + ev
        runs_at_once = 2 if c == "pair-1t" else 1
        print(f"| {c} | {1e3 * step:.1f} | {step / base:.2f} | {ev:.2f} | {epoch:.1f} | {3600 * runs_at_once / epoch:.0f} |")
    print(f"\nWhole process, `python3 -m qtzflow.ml study --arms qtadam --seeds 0 --epochs 1` (2 threads), wall: "
          f"{', '.join(f'{p:.1f}' for p in process)} s (median {statistics.median(process):.1f} s).")


if __name__ == "__main__":
    main()
