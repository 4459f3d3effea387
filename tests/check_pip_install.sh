#!/usr/bin/env bash
# The Python package as pip users get it, offline, with Debian's build backend (python3-skbuild):
#   1. `python3 -m build --no-isolation --wheel` on a copy of the source tree (the files git
#      knows, so that nothing of a local build leaks in);
#   2. `pip install` of that wheel into a fresh venv (--system-site-packages: Debian's NumPy);
#   3. from outside the source tree: the package is the venv's, an engine runs, a run writes an
#      output, `python -m qtzflow plot` draws it, and every optimizer runs.
# The wheel is built without pagmo2 (CMAKE_ARGS=-DQTZFLOW_WITH_PAGMO=OFF, which also checks that
# CMAKE_ARGS reaches the build): pagmo2 is optional, and this one build also shows that every
# other algorithm runs without it and that pagmo-sa is refused naming the algorithm.
# Usage: tests/check_pip_install.sh   (CI runs it; ~4 min on 2 cores)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/qtzflow-pip-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src")

cd "$work/src"
CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DQTZFLOW_WITH_PAGMO=OFF" /usr/bin/python3 -m build --no-isolation --wheel > "$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
grep -q "qtzflow: pagmo2 baselines .* OFF" "$work/build.log" || { echo "pip: CMAKE_ARGS did not reach CMake"; exit 1; }
wheel=$(ls dist/qtzflow-*.whl)
/usr/bin/python3 - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert any(n.startswith("qtzflow/_core") for n in names) and "qtzflow/plot.py" in names, names
extra = [n for n in names if not n.startswith(("qtzflow/", "qtzflow-"))]
assert not extra, f"pip: the wheel holds more than the package: {extra[:5]}"
EOF

/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --no-index --no-deps -q "$wheel"
cd /
"$work/venv/bin/python" - "$work" <<'EOF'
import os, subprocess, sys
import qtzflow as q
work = sys.argv[1]
assert q.__file__.startswith(os.path.join(work, "venv")), q.__file__
fp = q.FokkerPlanckSolver(q.Grid([64], -2.0, 2.0, boundary="reflecting"), q.objective("double_well", 1, c=0.3), 0.5, dt=1e-2)
import numpy as np
fp.rho = np.full(64, 0.25)
fp.advance(100)
assert abs(fp.mass() - 1) < 1e-12, fp.mass()  # the scheme conserves mass to round-off
out = os.path.join(work, "fp.h5")
r = q.run({"grid": {"n": [64], "lower": [-2.0], "upper": [2.0], "boundary": "reflecting"},
           "objective": {"name": "double_well", "c": 0.3}, "schedule": {"kind": "constant", "T": 0.5},
           "fokker_planck": {"dt": 0.01, "t_end": 1.0}, "output": {"every": 50}}, output=out)
assert r["status"] == "completed", r
png = subprocess.run([sys.executable, "-m", "qtzflow", "plot", out], check=True, capture_output=True, text=True).stdout.strip()
assert os.path.getsize(png) > 10000, png
for algo in ("qtz", "qtz-local", "qtz-dither", "langevin", "sa", "qia"):
    q.run_once(q.objective("rastrigin", 2), algo, budget=1000, seed=1)
try:
    q.run_once(q.objective("rastrigin", 2), "pagmo-sa", budget=10, seed=1)
    raise SystemExit("pip: pagmo-sa ran in a build without pagmo2")
except ValueError as e:
    refusal = str(e)
assert "algorithm" in refusal and "pagmo" in refusal, refusal
for algo in ("cmaes", "de1220", "sade", "xnes", "pso"):  # refused as pagmo-sa is
    try:
        q.run_once(q.objective("rastrigin", 2), algo, budget=10, seed=1)
        raise SystemExit(f"pip: {algo} ran in a build without pagmo2")
    except ValueError as e:
        assert "pagmo2" in str(e), str(e)
try:
    q.objective("cec2014:1", 10)
    raise SystemExit("pip: a CEC function was made in a build without pagmo2")
except ValueError as e:
    assert "pagmo2" in str(e), str(e)
print("pip: installed", q.__version__, "in a venv from", os.path.basename(sys.argv[1]),
      "; engine, run, plot and 6 algorithms work; pagmo-sa, cmaes, de1220, sade, xnes, pso and the CEC suites refused:", refusal)
EOF
