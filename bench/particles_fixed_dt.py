"""Why the particle engines keep a fixed dt under annealing: the measured weak error (issue #30).

    PYTHONPATH=build/python /usr/bin/python3 bench/particles_fixed_dt.py [--count 200000]

Langevin in Fokker-Planck time, x <- x - grad f dt + sqrt(2 T dt) xi, on f = a|x|^2/2 (a = 1, 2D,
a reflecting box [-6, 6]^2 that the walkers never reach), T(t) = 0.01^(t/5) falling 100x over
t_end = 5, from the Gibbs state at T = 1.  The exact variance per axis solves dv/dt = -2 a v + 2 T(t)
(integrated here to 1e-10 with scipy); the ensemble's variance is measured at t = 1 ... 5 (T = 0.4
... 0.01).  Euler-Maruyama's variance bias on a quadratic basin is a dt/2 / (1 - a dt/2) relative,
whatever T: the move sqrt(2 T dt) and the basin's width sqrt(T/a) shrink together, so
move / width = sqrt(2 a dt) stays fixed with a fixed dt -- what "dt following the schedule"
would aim at.  The table shows the relative error at each T for dt = 0.05 and 0.02, beside the
prediction and the sampling error sqrt(2/(2M)).
"""
import argparse
import datetime
import platform

import numpy as np
from scipy.integrate import solve_ivp

import qtzflow as q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200000)
    args = ap.parse_args()
    a, t_end = 1.0, 5.0
    gamma = 0.01 ** (1 / t_end)
    T = lambda t: gamma ** t  # noqa: E731
    ode = solve_ivp(lambda t, v: -2 * a * v + 2 * T(t), (0, t_end), [1.0 / a], rtol=1e-10, atol=1e-14, dense_output=True)
    g = q.Grid([64, 64], -6.0, 6.0, boundary="reflecting")
    f = q.objective("harmonic", 2, a=a)
    times = [1.0, 2.0, 3.0, 4.0, 5.0]
    se = np.sqrt(2 / (2 * args.count))
    print(f"Command ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {platform.machine()}): "
          f"`PYTHONPATH=build/python /usr/bin/python3 bench/particles_fixed_dt.py --count {args.count}`\n")
    print(f"Langevin, f = |x|²/2 in 2D, {args.count} walkers (seed 1), T = 0.01^(t/5); relative error of the variance per axis against "
          f"the exact ODE, sampling error {se:.2%} (one standard deviation)\n")
    print("| dt | predicted bias a·dt/2/(1 − a·dt/2) | " + " | ".join(f"t = {t:g} (T = {T(t):.3g})" for t in times) + " |")
    print("|---|---|" + "---|" * len(times))
    for dt in (0.05, 0.02):
        e = q.ParticleEnsemble(g, f, q.Schedule.geometric(1.0, gamma), algorithm="langevin", dt=dt, seed=1)
        e.sample_initial(args.count, [0.0, 0.0], [1 / np.sqrt(a), 1 / np.sqrt(a)])
        done, cells = 0, []
        for t in times:
            n = int(round(t / dt))
            e.advance(n - done)
            done = n
            x = np.asarray(e.positions).reshape(-1, 2)
            v = x.var(axis=0).mean()
            exact = ode.sol(t)[0]
            cells.append(f"{v / exact - 1:+.2%}")
        pred = a * dt / 2 / (1 - a * dt / 2)
        print(f"| {dt:g} | {pred:+.2%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
