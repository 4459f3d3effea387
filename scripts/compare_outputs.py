#!/usr/bin/python3
"""Compares two output trees written by scripts/snapshot_outputs.sh: every HDF5 dataset and
attribute bit for bit (external links followed), every text file byte for byte.  Attributes
that describe the run rather than its numbers are skipped: date, gitRevision, fftwWisdom and
softwareVersion.  Prints one line per difference and exits 1 if there is any.

Usage: /usr/bin/python3 scripts/compare_outputs.py BEFORE_DIR AFTER_DIR
"""
import os
import sys

import h5py
import numpy as np

SKIPPED_ATTRIBUTES = {"date", "gitRevision", "fftwWisdom", "softwareVersion"}


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
                if not same(oa.attrs[k], ob.attrs[k]):
                    problems.append(f"{pb}: /{name} attribute {k} differs")


def main():
    before, after = sys.argv[1], sys.argv[2]
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
            elif fn == "summary.json":
                import json
                ja, jb = json.load(open(pa)), json.load(open(pb))
                ja.pop("seconds"), jb.pop("seconds")
                if ja != jb:
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
