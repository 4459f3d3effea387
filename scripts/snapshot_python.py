#!/usr/bin/python3
"""The Python module's numbers for scripts/compare_outputs.py: every engine class (each scheme),
the particle ensembles, the optimizers and a configured run, written to one .npz.  FFT plans by
estimate (the same plans in any process).  Works with modules whose split-step keyword was
`planning` (before the one-vocabulary change) and `fft_planning`.
Usage: PYTHONPATH=BUILD/python /usr/bin/python3 scripts/snapshot_python.py OUT.npz
"""
import sys, inspect, numpy as np, qtzflow as q, tempfile, os
out = {}
g = q.Grid([32, 32], -2.0, 2.0); gr = q.Grid([32, 32], -2.0, 2.0, boundary="reflecting")
f = q.objective("double_well", 2, c=0.3)
kw = "fft_planning" if "fft_planning" in (q.SplitStepSolver.__init__.__doc__ or "") else "planning"
for scheme in ("strang", "yoshida4", "chin4"):
    s = q.SplitStepSolver(g, f, 0.5, dt=0.01, scheme=scheme, **{kw: "estimate"})
    x = np.linspace(-2, 2, 32); s.state = np.exp(-((x[:, None] - 1) ** 2 + (x[None, :] - 1) ** 2) / 0.1).astype(complex)
    s.advance(50); out[f"ss_{scheme}"] = np.array(s.state)
s = q.SplitStepSolver(g, f, 0.5, dt=0.01, mode="imaginary", **{kw: "estimate"}); out["relax"] = s.relax(1e-8, 2000)["phi"]
for scheme in ("backward_euler", "crank_nicolson", "extrapolated_euler"):
    fp = q.FokkerPlanckSolver(gr, f, q.Schedule.logarithmic(1.0), dt=0.01, scheme=scheme); fp.rho = fp.gibbs(2.0); fp.advance(50); out[f"fp_{scheme}"] = np.array(fp.rho)
for algo, extra in (("langevin", {}), ("qtz-dither", {}), ("qtz-local", {"delta": 0.1})):
    e = q.ParticleEnsemble(gr, f, 0.5, algorithm=algo, dt=0.01, seed=3, **extra); e.sample_initial(2000, [1.0, 1.0], [0.2, 0.2]); e.advance(20)
    out[f"p_{algo}"] = e.histogram()
for algo in ("qtz", "qtz-local", "qtz-dither", "langevin", "sa", "qia"):
    r = q.run_ensemble(q.objective("rastrigin", 2), algo, runs=4, budget=2000, seed=5); out[f"opt_{algo}"] = r["best"]
d = tempfile.mkdtemp()
cfg = {"grid": {"n": [32, 32], "boundary": "reflecting"}, "fokker_planck": {"dt": 0.01, "t_end": 0.2}, "output": {"every": 10}}
q.run(cfg, output=os.path.join(d, "r.h5"))
with q.open(os.path.join(d, "r.h5")) as o: out["run_rho"] = o.field("rho")
np.savez(sys.argv[1], **out)
