"""Compares two qtzflow run outputs written by different rank counts (tests/mpi/check_mpi.sh).

Usage: compare_runs.py A.h5 B.h5 TOLERANCE [--last-only]

By default the files must have the same layout (every group, dataset and attribute name, the
same shapes; run-specific attributes such as the date aside), the same iterations, and every
dataset under /data (meshes, particle records) and every /diagnostics series equal to TOLERANCE
relative to the largest magnitude of that array or series.  Covariances are measured against
sqrt(var_a var_b), since they vanish by symmetry.  Every dataset under /grid (coordinates, f and
its derivatives, V, the basin labels: sampled point by point, whatever rank holds the point) must
be bit-identical.
--last-only (B a restarted run): B holds every iteration of A and may hold more (the snapshot
where it was interrupted); only the last snapshot and diagnostics row are compared.
Prints the worst difference and where it is; exit 1 on any mismatch.
"""
import sys

import h5py
import numpy as np


def layout(f):
    names = []

    def visit(name, obj):
        shape = getattr(obj, "shape", None)
        names.append((name, shape, tuple(sorted(k for k in obj.attrs.keys() if k not in ("date", "fftwWisdom", "gitRevision", "restartHistory")))))

    f.visititems(visit)
    return names


def main():
    a_path, b_path, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
    last_only = "--last-only" in sys.argv
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        if last_only:  # a restarted run: its extra snapshot where it was interrupted is allowed
            ia, ib = sorted(a["data"].keys(), key=int), sorted(b["data"].keys(), key=int)
            if ia[-1] != ib[-1] or not set(ia) <= set(ib):
                print(f"iterations differ: {ia} against {ib}")
                return 1
        elif layout(a) != layout(b):
            la, lb = set(layout(a)), set(layout(b))
            print(f"layouts differ: only in A {sorted(la - lb)[:5]}, only in B {sorted(lb - la)[:5]}")
            return 1
        grid = []
        a["grid"].visititems(lambda name, obj: grid.append(name) if isinstance(obj, h5py.Dataset) else None)
        for key in grid:
            if not np.array_equal(a["grid"][key][()], b["grid"][key][()]):
                print(f"grid/{key} differs")
                return 1
        iterations = sorted(a["data"].keys(), key=int)
        worst, where = 0.0, "-"
        for it in iterations[-1:] if last_only else iterations:
            datasets = []  # meshes and particle records
            a["data"][it].visititems(lambda name, obj: datasets.append(name) if isinstance(obj, h5py.Dataset) else None)
            for key in datasets:
                x, y = a["data"][it][key][()], b["data"][it][key][()]
                if x.shape != y.shape:
                    print(f"data/{it}/{key}: shapes {x.shape} and {y.shape}")
                    return 1
                scale = max(float(np.abs(x).max()), 1e-300) if x.size else 1.0
                d = float(np.abs(x - y).max() / scale) if x.size else 0.0
                if d > worst:
                    worst, where = d, f"data/{it}/{key}"
        for key, ds in a["diagnostics"].items():
            x, y = ds[()], b["diagnostics"][key][()]
            series_scale = float(np.abs(x).max()) if x.size else 0.0  # of the whole series
            if last_only:
                x, y = x[-1:], y[-1:]
            if x.dtype.kind in "iu":
                if not np.array_equal(x, y):
                    print(f"diagnostics/{key} differ")
                    return 1
                continue
            scale = max(series_scale, 1e-300)
            if key.startswith("cov_"):  # ~0 by symmetry: measured against sqrt(var_a var_b)
                va, vb = (a["diagnostics"][f"var_{c}"][()] for c in key[4:6])
                scale = max(scale, float(np.sqrt(va * vb).max()))
            d = float(np.abs(x - y).max() / scale)
            if d > worst:
                worst, where = d, f"diagnostics/{key}"
        print(f"{len(iterations)} snapshots, worst relative difference {worst:.2e} in {where} (tolerance {tol:.0e})")
        return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
