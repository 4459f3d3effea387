#!/usr/bin/python3
"""Compares two output trees written by scripts/snapshot_outputs.sh: every HDF5 dataset and
attribute bit for bit (external links followed), every text file byte for byte.  Attributes
that describe the run rather than its numbers are skipped: date, gitRevision, fftwWisdom,
softwareVersion and wallSeconds (and the dates and durations of verify's summaries).  Prints one
line per difference and exits 1 if there is any.

--config-subset: the stored configuration (the `config` attribute) may have lost keys, as long
as every key it keeps has its former value (a change of the canonical text that writes only the
keys a run uses); the keys dropped are listed.

Usage: /usr/bin/python3 scripts/compare_outputs.py [--config-subset] BEFORE_DIR AFTER_DIR
"""
import json
import os
import sys
import tomllib

import h5py
import numpy as np

SKIPPED_ATTRIBUTES = {"date", "gitRevision", "fftwWisdom", "softwareVersion", "wallSeconds"}
CONFIG_SUBSET = "--config-subset" in sys.argv


def flat(config):
    return {f"{s}.{k}": v for s, keys in config.items() for k, v in keys.items()}


def config_subset(a, b, where, problems):
    """Whether the configuration texts a and b agree on every key b keeps (listing the dropped)."""
    ta, tb = (flat(tomllib.loads(x.decode() if isinstance(x, bytes) else str(x))) for x in (a, b))
    changed = [k for k in tb if ta.get(k) != tb[k]]
    if changed:
        problems.append(f"{where}: config keys changed or added: {changed}")
    else:
        print(f"{where}: config keys dropped: {sorted(set(ta) - set(tb))}")
    return not changed


def without_times(j):
    if isinstance(j, dict):
        return {k: without_times(v) for k, v in j.items() if k not in ("seconds", "date")}
    if isinstance(j, list):
        return [without_times(v) for v in j]
    return j


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return a.tobytes() == b.tobytes()  # bitwise: NaN == NaN, -0 != +0
    return np.array_equal(a, b)


def items(f):
    out = {}

    def visit(name, obj):
        out[name] = obj

    f.visititems(visit)
    return out


def compare_h5(pa, pb, problems):
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        ia, ib = items(a), items(b)
        for name in sorted(set(ia) | set(ib)):
            if name not in ia or name not in ib:
                problems.append(f"{pb}: /{name} only in {'before' if name in ia else 'after'}")
                continue
            oa, ob = ia[name], ib[name]
            if isinstance(oa, h5py.Dataset) != isinstance(ob, h5py.Dataset):
                problems.append(f"{pb}: /{name} kind differs")
                continue
            if isinstance(oa, h5py.Dataset) and not same(oa[()], ob[()]):
                problems.append(f"{pb}: /{name} values differ")
        for name in [""] + sorted(set(ia) & set(ib)):
            oa, ob = (a, b) if name == "" else (ia[name], ib[name])
            ka = set(oa.attrs) - SKIPPED_ATTRIBUTES
            kb = set(ob.attrs) - SKIPPED_ATTRIBUTES
            if ka != kb:
                problems.append(f"{pb}: /{name} attribute names differ: {sorted(ka ^ kb)}")
            for k in sorted(ka & kb):
                if k == "config" and CONFIG_SUBSET and not same(oa.attrs[k], ob.attrs[k]):
                    config_subset(oa.attrs[k], ob.attrs[k], f"{pb}: /{name}", problems)
                elif not same(oa.attrs[k], ob.attrs[k]):
                    problems.append(f"{pb}: /{name} attribute {k} differs")


def main():
    before, after = [a for a in sys.argv[1:] if not a.startswith("--")]
    problems, compared = [], 0
    for root, _, files in os.walk(before):
        for fn in sorted(files):
            pa = os.path.join(root, fn)
            rel = os.path.relpath(pa, before)
            pb = os.path.join(after, rel)
            if not os.path.exists(pb):
                problems.append(f"{rel}: missing after")
                continue
            if ".parts" in rel:
                continue  # reached through the main file's links
            compared += 1
            if fn.endswith(".h5"):
                compare_h5(pa, pb, problems)
            elif fn.endswith(".md") and fn.startswith("summary"):
                # the duration lines are wall-clock times
                strip = lambda t: [l for l in t.splitlines() if "Duration per experiment" not in l and "checks pass;" not in l]
                if strip(open(pa).read()) != strip(open(pb).read()):
                    problems.append(f"{rel}: text differs")
            elif fn.endswith(".npz"):
                na, nb = np.load(pa), np.load(pb)
                for k in sorted(set(na.files) | set(nb.files)):
                    if k not in na.files or k not in nb.files or not same(na[k], nb[k]):
                        problems.append(f"{rel}: array {k} differs")
            elif fn == "summary.json":
                if without_times(json.load(open(pa))) != without_times(json.load(open(pb))):
                    problems.append(f"{rel}: JSON differs")
            else:
                if open(pa, "rb").read() != open(pb, "rb").read():
                    problems.append(f"{rel}: bytes differ")
    for p in problems:
        print(p)
    print(f"compared {compared} files: {'identical' if not problems else f'{len(problems)} differences'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
