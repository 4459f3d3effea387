#!/usr/bin/python3
"""Checks a qtzflow output file with h5py, as a user would open it.

Usage: check_output.py OUT.h5 [--xdmf] [--expect-snapshots N]
Checks the docs/config.md, "Output layout" layout: root attributes, /data/<iteration> with time and dt, meshes with
gridSpacing/gridGlobalOffset/axisLabels in C order, /grid (coordinates that match the meshes'
geometry, meshes of the mesh shape), /diagnostics series of one length with ascending iterations
and a row for every snapshot; with --xdmf, that the sidecar parses and every dataset it references exists with the
stated dimensions.  Exit status 0 when every check holds; the failures are printed otherwise.
"""
import os
import sys
import xml.etree.ElementTree as ET

import h5py

failures = []


def text(v):
    """qtzflow writes fixed-length UTF-8 strings, which h5py returns as bytes."""
    return v.decode() if isinstance(v, bytes) else v


def check(cond, msg):
    if not cond:
        failures.append(msg)


def main():
    path = sys.argv[1]
    expect = None
    if "--expect-snapshots" in sys.argv:
        expect = int(sys.argv[sys.argv.index("--expect-snapshots") + 1])
    with h5py.File(path, "r") as f:
        for a in ("software", "softwareVersion", "date", "gitRevision", "config"):
            check(a in f.attrs, f"root attribute {a} missing")
        check(text(f.attrs.get("software")) == "qtzflow", "software != qtzflow")
        its = sorted(int(k) for k in f["data"].keys())
        check(len(its) > 0, "no snapshots")
        if expect is not None:
            check(len(its) == expect, f"{len(its)} snapshots, expected {expect}")
        for it in its:
            g = f[f"data/{it}"]
            check("time" in g.attrs and "dt" in g.attrs, f"data/{it}: time or dt missing")
            meshes = []
            g["meshes"].visititems(lambda n, o: meshes.append((n, o)) if isinstance(o, h5py.Dataset) else None)
            check(len(meshes) > 0, f"data/{it}: no meshes")
            for name, d in meshes:
                for a in ("gridSpacing", "gridGlobalOffset", "axisLabels"):
                    check(a in d.attrs, f"data/{it}/meshes/{name}: {a} missing")
                check(len(d.attrs["gridSpacing"]) == d.ndim, f"{name}: gridSpacing length != rank")
                check(text(d.attrs.get("dataOrder")) == "C", f"{name}: dataOrder != C")
                check(d.dtype.kind == "f", f"{name}: not floating point")
        diag = f["diagnostics"]
        rows = diag["iteration"][:]
        for name, d in diag.items():
            check(d.shape == rows.shape, f"diagnostics/{name}: shape {d.shape}, expected {rows.shape}")
            check(d.maxshape == (None,), f"diagnostics/{name}: not extendible")
        check(all(rows[1:] > rows[:-1]), "diagnostics/iteration not ascending")
        check(set(its) <= set(int(r) for r in rows), "a snapshot without a diagnostics row")
        if "grid" in f:
            g = f["grid"]
            first = f[f"data/{its[0]}/meshes"]
            ref = [o for o in first.values() if isinstance(o, h5py.Dataset)] or [o for grp in first.values() for o in grp.values()]
            shape, h, x0 = ref[0].shape, ref[0].attrs["gridSpacing"], ref[0].attrs["gridGlobalOffset"]
            for a, label in enumerate(ref[0].attrs["axisLabels"]):
                c = g[text(label)][:]
                check(len(c) == shape[a], f"grid/{text(label)}: {len(c)} coordinates, mesh has {shape[a]}")
                check(abs(c[0] - x0[a]) <= 1e-12 * (1 + abs(x0[a])), f"grid/{text(label)}[0] != gridGlobalOffset")
                check(len(c) < 2 or abs(c[1] - c[0] - h[a]) <= 1e-12 * (1 + abs(h[a])), f"grid/{text(label)}: spacing != gridSpacing")
            for name, d in g["meshes"].items():
                check(d.shape == shape, f"grid/meshes/{name}: shape {d.shape}, expected {shape}")
                check("gridSpacing" in d.attrs, f"grid/meshes/{name}: gridSpacing missing")
            check("description" in g.attrs, "grid: description missing")
    if "--xdmf" in sys.argv:
        xdmf = os.path.splitext(path)[0] + ".xdmf"
        tree = ET.parse(xdmf)
        items = [e for e in tree.iter("DataItem") if e.get("Format") == "HDF"]
        check(len(items) > 0, "XDMF references no dataset")
        with h5py.File(path, "r") as f:
            for e in items:
                fname, obj = e.text.strip().split(":", 1)
                check(fname == os.path.basename(path), f"XDMF references file {fname}")
                check(obj in f, f"XDMF references missing dataset {obj}")
                if obj in f:
                    dims = [int(v) for v in e.get("Dimensions").split()]
                    n = 1
                    for v in dims:
                        n *= v
                    check(f[obj].size == n, f"{obj}: size {f[obj].size} != XDMF dimensions {dims}")
    for m in failures:
        print("FAIL:", m)
    print(f"{path}: {'ok' if not failures else str(len(failures)) + ' failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
