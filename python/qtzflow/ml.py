"""qtzflow.ml — the data and the network of the paper's image-classification experiment.

    from qtzflow import ml
    train_x, train_y, test_x, test_y = ml.load_fashion_mnist()      # Debian's dataset-fashion-mnist
    images = ml.read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")

read_idx reads an IDX file (Y. LeCun's format of MNIST and Fashion-MNIST, gzip-compressed or
not): a big-endian header of two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of dimensions, one 32-bit
size per dimension, then the values.  Everything is checked before it is used: the magic bytes,
the type code, 1 to 4 dimensions each of size >= 1, and a body of exactly the size the header
announces; a missing, truncated or damaged file raises ValueError naming the file and what was
wrong.  load_fashion_mnist also checks that images are 28 x 28, that the counts of images and
labels agree (60,000 and 10,000) and that labels are in 0..9.

The network (authors_network) is the QTZ authors': Conv2d(1, 32, 3, padding 1) -> ReLU ->
MaxPool 2 -> Conv2d(32, 64, 3, padding 1) -> ReLU -> MaxPool 2 -> Linear(3136, 10), Xavier-uniform
initialisation of the linear layer only (the convolutions keep PyTorch's default), 50,186
parameters; torch is imported only by the functions that need it.
"""
import datetime
import gzip
import json
import os
import time

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array an IDX file holds (see the module docstring); ValueError naming the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise ValueError(f"{path}: cannot be read ({e.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: a damaged gzip stream ({e})") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX header (4 bytes at least)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: magic bytes {raw[0]:#04x} {raw[1]:#04x}, an IDX file starts with 0x00 0x00")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ValueError(f"{path}: type code {code:#04x}, must be one of " + ", ".join(f"{c:#04x}" for c in _TYPES))
    if not 1 <= ndim <= 4:
        raise ValueError(f"{path}: {ndim} dimensions, must be 1 to 4")
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError(f"{path}: the header announces {ndim} dimensions but the file ends after {len(raw)} bytes")
    shape = tuple(int(x) for x in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if any(s < 1 for s in shape):
        raise ValueError(f"{path}: dimensions {shape}, each must be >= 1")
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - head != expected:
        raise ValueError(f"{path}: {len(raw) - head} bytes of values, the header {shape} of {dtype.name} announces {expected}"
                         + (" (truncated)" if len(raw) - head < expected else " (trailing bytes)"))
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(shape).astype(dtype.newbyteorder("="))


def load_fashion_mnist(folder=FASHION_MNIST):
    """(train images, train labels, test images, test labels) as uint8 arrays (N x 28 x 28, N),
    from the four files of Debian's dataset-fashion-mnist (gzip-compressed or not)."""
    def find(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(folder, name)
            if os.path.exists(p):
                return p
        raise ValueError(f"{os.path.join(folder, stem)}[.gz]: no such file (Debian: apt-get install dataset-fashion-mnist)")

    out = []
    for split, count in (("train", 60000), ("t10k", 10000)):
        ip, lp = find(f"{split}-images-idx3-ubyte"), find(f"{split}-labels-idx1-ubyte")
        images, labels = read_idx(ip), read_idx(lp)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"{ip}: images {images.shape} of {images.dtype}, must be N x 28 x 28 unsigned bytes")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise ValueError(f"{lp}: labels {labels.shape} of {labels.dtype}, must be N unsigned bytes")
        if len(images) != len(labels) or len(images) != count:
            raise ValueError(f"{ip}, {lp}: {len(images)} images and {len(labels)} labels, the {split} split has {count} of each")
        if labels.max() > 9:
            raise ValueError(f"{lp}: label {int(labels.max())}, must be 0..9")
        out += [images, labels]
    return tuple(out)


def authors_network(seed=None):
    """The QTZ authors' network (module docstring); with a seed, its initial weights are
    torch.manual_seed(seed)'s."""
    import torch
    from torch import nn
    if seed is not None:
        torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(3136, 10))
    nn.init.xavier_uniform_(net[7].weight)
    return net


# ------------------------------------------------------------------ the experiment (a resumable study)

ARMS = ("sgd", "sgd-momentum", "adam", "qtsgd", "qtadam", "qtadam-round", "qtadam-nopush", "qtadam-gaussian")
PROTOCOLS = ("standard", "authors")
TWINS = {"qtsgd": "sgd", "qtadam": "adam", "qtadam-round": "adam", "qtadam-nopush": "adam", "qtadam-gaussian": "adam"}
BATCH = 100
LR = 1e-3


def make_optimizer(arm, params, seed, epochs, steps_per_epoch, momentum_lr=None):
    """The optimizer of an arm: the authors' baselines (SGD and Adam at lr 1e-3), SGD with
    momentum 0.9 at `momentum_lr` (chosen on a validation split), and the quantized ones with
    the push centred at half the run's epochs."""
    import torch
    from .torch import QtAdam, QtSGD
    q = dict(epochs=epochs, steps_per_epoch=steps_per_epoch)
    if arm == "sgd":
        return torch.optim.SGD(params, lr=LR)
    if arm == "sgd-momentum":
        if momentum_lr is None:
            raise ValueError("sgd-momentum: its learning rate is chosen on a validation split first (tune)")
        return torch.optim.SGD(params, lr=momentum_lr, momentum=0.9)
    if arm == "adam":
        return torch.optim.Adam(params, lr=LR)
    if arm == "qtsgd":
        return QtSGD(params, lr=LR, **q)
    if arm == "qtadam":
        return QtAdam(params, lr=LR, **q)
    if arm == "qtadam-round":
        return QtAdam(params, lr=LR, quantizer="round", **q)
    if arm == "qtadam-nopush":
        return QtAdam(params, lr=LR, push=False, **q)
    if arm == "qtadam-gaussian":
        return QtAdam(params, lr=LR, quantizer="gaussian", seed=seed, **q)
    raise ValueError(f"arm = {arm!r}: must be one of {', '.join(ARMS)}")


def batch_order(n, epoch, seed, protocol):
    """The order of the training images in an epoch: as stored (the authors' protocol: the same
    batches every epoch) or a permutation drawn from (seed, epoch) (the standard protocol)."""
    if protocol == "authors":
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def train_epoch(net, opt, x, y, order):
    """One pass over the batches of `order`; returns (mean training loss, the quantized
    optimizers' mean statistics over the steps or {})."""
    import torch
    net.train()
    total, stats = 0.0, {}
    steps = len(order) // BATCH
    for b in range(steps):
        idx = torch.from_numpy(order[b * BATCH:(b + 1) * BATCH])
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item()
        for s in getattr(opt, "last_statistics", []):
            for k, v in s.items():
                stats[k] = stats.get(k, 0.0) + v / (steps * len(opt.last_statistics))
    return total / steps, stats


def evaluate(net, x, y):
    """(accuracy, mean cross-entropy) of the network on images x, labels y."""
    import torch
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for b in range(0, len(x), 1000):
            out = net(x[b:b + 1000])
            loss += torch.nn.functional.cross_entropy(out, y[b:b + 1000], reduction="sum").item()
            correct += int((out.argmax(1) == y[b:b + 1000]).sum())
    return correct / len(x), loss / len(x)


def as_tensors(images, labels):
    import torch
    return torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def _save_atomically(obj, path):
    import torch
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def run_training(arm, protocol, seed, epochs, data, state_dir, momentum_lr=None, train_range=None, eval_split="test", log=print):
    """One run of an arm, resumed from its checkpoint in state_dir if there is one; returns its
    per-epoch records.  data = load_fashion_mnist(); train_range limits the training images
    (the validation split of the tuning); eval_split "test" or "validation" (the last 10,000
    training images)."""
    import torch
    tx, ty, sx, sy = data
    if eval_split == "validation":
        ex, ey = as_tensors(tx[50000:], ty[50000:])
    else:
        ex, ey = as_tensors(sx, sy)
    lo, hi = train_range or (0, len(tx))
    x, y = as_tensors(tx[lo:hi], ty[lo:hi])
    steps_per_epoch = (hi - lo) // BATCH
    name = f"{arm}_{protocol}_s{seed}_e{epochs}" + (f"_lr{momentum_lr:g}" if momentum_lr else "") + ("_val" if eval_split == "validation" else "")
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, name + ".pt")
    net = authors_network(seed=seed)
    opt = make_optimizer(arm, net.parameters(), seed, epochs, steps_per_epoch, momentum_lr)
    records = []
    if os.path.exists(path):
        ck = torch.load(path)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        records = ck["records"]
    for epoch in range(len(records), epochs):
        t0 = time.perf_counter()
        loss, stats = train_epoch(net, opt, x, y, batch_order(len(x), epoch, seed, protocol))
        train_seconds = time.perf_counter() - t0
        acc, test_loss = evaluate(net, ex, ey)
        records.append({"epoch": epoch + 1, "train_loss": loss, "accuracy": acc, "eval_loss": test_loss, "train_seconds": train_seconds, **stats})
        _save_atomically({"model": net.state_dict(), "optimizer": opt.state_dict(), "records": records}, path)
        log(f"qtzflow.ml: {name} epoch {epoch + 1}/{epochs}: train loss {loss:.4f}, {eval_split} accuracy {100 * acc:.2f} %, {train_seconds:.1f} s")
    return records


def tune_momentum_lr(data, state_dir, seed=0, epochs=2, candidates=(0.003, 0.01, 0.03, 0.1), log=print):
    """SGD with momentum 0.9: the learning rate of the best validation accuracy (training on the
    first 50,000 images for `epochs` shuffled epochs, validating on the last 10,000)."""
    scores = {}
    for lr in candidates:
        rec = run_training("sgd-momentum", "standard", seed, epochs, data, state_dir, momentum_lr=lr, train_range=(0, 50000),
                           eval_split="validation", log=log)
        scores[lr] = rec[-1]["accuracy"]
    return max(scores, key=lambda lr: (scores[lr], -lr)), scores


def write_results(path, runs, meta):
    """The study's HDF5 file (atomically): /runs/<arm>/<protocol>/seed<k>/<record field>[epoch]."""
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as h:
        for k, v in meta.items():
            h.attrs[k] = str(v) if isinstance(v, str) else v  # str(): torch's version string is a subclass h5py cannot store
        for (arm, protocol, seed), records in sorted(runs.items()):
            g = h.require_group(f"runs/{arm}/{protocol}/seed{seed}")
            g.attrs["epochs_done"] = len(records)
            for field in sorted({f for r in records for f in r}):
                g[field] = np.array([r.get(field, np.nan) for r in records], dtype=float)
    os.replace(tmp, path)


def study(output, arms=ARMS, seeds=(0, 1, 2), epochs=3, protocol="standard", threads=2, folder=FASHION_MNIST, plan=None, log=print):
    """Runs (or resumes) the runs of `plan` — a list of (arm, protocol, seed, epochs), by default
    every arm x seed under `protocol` for `epochs` — checkpointing each run after every epoch in
    OUTPUT.state/ (a killed study loses at most the epoch it was in), and rewrites OUTPUT (HDF5)
    after every run.  Reproducible for a given torch thread count."""
    import torch
    torch.set_num_threads(threads)
    data = load_fashion_mnist(folder)
    state_dir = output + ".state"
    os.makedirs(state_dir, exist_ok=True)
    plan = plan or [(a, protocol, s, epochs) for s in seeds for a in arms]
    for a, p, _, _ in plan:
        if a not in ARMS or p not in PROTOCOLS:
            raise ValueError(f"plan: ({a!r}, {p!r}): arms are {', '.join(ARMS)}; protocols {', '.join(PROTOCOLS)}")
    meta = {"software": "qtzflow", "torch": torch.__version__, "threads": threads, "batch": BATCH, "lr": LR,
            "plan": json.dumps(plan), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    # what an earlier session finished is read back from OUTPUT (the checkpoints of finished runs
    # may be gone: OUTPUT is what is kept with the results)
    finished, old_meta = read_results(output) if os.path.exists(output) else ({}, {})
    momentum_lr = None
    if any(a == "sgd-momentum" for a, *_ in plan):
        if "sgd_momentum_lr" in old_meta:
            momentum_lr = float(old_meta["sgd_momentum_lr"])
            meta["sgd_momentum_validation"] = str(old_meta.get("sgd_momentum_validation", ""))
        else:
            momentum_lr, scores = tune_momentum_lr(data, state_dir, log=log)
            meta["sgd_momentum_validation"] = json.dumps({str(k): v for k, v in scores.items()})
        meta["sgd_momentum_lr"] = momentum_lr
    runs = {}
    for a, p, s, e in plan:
        old = finished.get((a, p, s))
        if old is not None and len(old["accuracy"]) >= e:
            runs[(a, p, s)] = [{k: float(v[i]) for k, v in old.items()} for i in range(e)]
            continue
        runs[(a, p, s)] = run_training(a, p, s, e, data, state_dir, momentum_lr=momentum_lr if a == "sgd-momentum" else None, log=log)
        write_results(output, runs, meta)
    write_results(output, runs, meta)
    return runs


# The minimum: every arm x 3 seeds x 3 epochs on the standard protocol, then the
# authors' full protocol (15 epochs, no shuffling) for Adam and QtAdam x 2 seeds.
PLANS = {
    "minimum": [(a, "standard", s, 3) for s in (0, 1, 2) for a in ARMS] + [(a, "authors", s, 15) for s in (0, 1) for a in ("adam", "qtadam")],
    "smoke": [(a, "standard", 0, 1) for a in ("sgd", "qtsgd", "adam", "qtadam")],
}


def read_results(path):
    """{(arm, protocol, seed): {field: array over epochs}} and the root attributes of a study file."""
    import h5py
    try:
        h = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file ({e})") from None
    with h:
        if "runs" not in h:
            raise ValueError(f"{path}: not a qtzflow.ml study file (no /runs)")
        runs = {}
        for arm in h["runs"]:
            for protocol in h["runs"][arm]:
                for seed in h["runs"][arm][protocol]:
                    g = h["runs"][arm][protocol][seed]
                    runs[(arm, protocol, int(seed[4:]))] = {k: g[k][()] for k in g}
        return runs, dict(h.attrs)


def report(path, out):
    """results/ml/fashion_mnist.md from a study file: the final test accuracy per arm and
    protocol (mean ± sd over seeds), Welch t-tests of each quantized arm against its unquantized
    twin and against tuned SGD with momentum, training seconds per epoch."""
    from scipy.stats import ttest_ind
    runs, meta = read_results(path)
    lines = [f"# Fashion-MNIST: the paper's quantized optimizers against their twins and tuned SGD", "",
             f"Generated by `python3 -m qtzflow.ml report {path} -o {out}` from the study written {meta.get('date', '?')} "
             f"(torch {meta.get('torch', '?')}, {meta.get('threads', '?')} threads, batch {meta.get('batch', '?')}, lr {meta.get('lr', '?')}).  "
             f"SGD with momentum 0.9: lr {meta.get('sgd_momentum_lr', '—')} chosen on a validation split "
             f"(last 10,000 training images; accuracies {meta.get('sgd_momentum_validation', '—')}).", ""]
    groups = {}
    for (arm, protocol, seed), r in runs.items():
        groups.setdefault((protocol, arm), []).append(r)
    for protocol in PROTOCOLS:
        arms = [a for a in ARMS if (protocol, a) in groups]
        if not arms:
            continue
        lines += [f"## Protocol: {protocol}" + (" (batches shuffled each epoch)" if protocol == "standard" else " (the same batch order every epoch, the final model)"), ""]
        lines += ["| arm | runs | epochs | test accuracy (mean ± sd) | final training loss | training s/epoch |", "|---|---|---|---|---|---|"]
        final = {}
        for a in arms:
            rs = groups[(protocol, a)]
            epochs = min(len(r["accuracy"]) for r in rs)
            acc = np.array([r["accuracy"][epochs - 1] for r in rs])
            final[a] = acc
            loss = np.mean([r["train_loss"][epochs - 1] for r in rs])
            secs = np.mean([np.mean(r["train_seconds"][:epochs]) for r in rs])
            sd = acc.std(ddof=1) if len(acc) > 1 else float("nan")
            lines.append(f"| {a} | {len(rs)} | {epochs} | {100 * acc.mean():.2f} ± {100 * sd:.2f} % | {loss:.4f} | {secs:.1f} |")
        lines += ["", "Welch t-tests on the final test accuracies (two-sided; difference = arm − baseline):", "",
                  "| arm | baseline | difference | p |", "|---|---|---|---|"]
        for a in arms:
            for b in (TWINS.get(a), "sgd-momentum" if a in TWINS else None):
                if b is None or b not in final or len(final[a]) < 2 or len(final[b]) < 2:
                    continue
                t = ttest_ind(final[a], final[b], equal_var=False)
                lines.append(f"| {a} | {b} | {100 * (final[a].mean() - final[b].mean()):+.2f} points | {t.pvalue:.2g} |")
        lines.append("")
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return out


def main(argv=None):
    import argparse
    import sys
    ap = argparse.ArgumentParser(prog="python3 -m qtzflow.ml", description="the image-classification experiment (issue #29)")
    sub = ap.add_subparsers(dest="command", required=True)
    st = sub.add_parser("study", help="run or resume a study; checkpoints in OUTPUT.state/")
    st.add_argument("-o", "--output", required=True)
    st.add_argument("--plan", choices=sorted(PLANS), help="a named plan (minimum: the issue's)")
    st.add_argument("--arms", default=",".join(ARMS))
    st.add_argument("--seeds", default="0,1,2")
    st.add_argument("--epochs", type=int, default=3)
    st.add_argument("--protocol", choices=PROTOCOLS, default="standard")
    st.add_argument("--threads", type=int, default=2)
    st.add_argument("--data", default=FASHION_MNIST)
    rp = sub.add_parser("report", help="the Markdown report of a study file")
    rp.add_argument("study")
    rp.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    try:
        if args.command == "study":
            if args.epochs < 1 or args.threads < 1:
                raise ValueError("--epochs and --threads: must be >= 1")
            seeds = [int(s) for s in args.seeds.split(",")]
            study(args.output, arms=args.arms.split(","), seeds=seeds, epochs=args.epochs, protocol=args.protocol, threads=args.threads,
                  folder=args.data, plan=PLANS.get(args.plan))
        else:
            print(report(args.study, args.output))
    except ValueError as e:
        print(f"qtzflow.ml: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
