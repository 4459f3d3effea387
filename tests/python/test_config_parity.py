"""One vocabulary: a Python engine built from keywords has the configuration TOML gives.

For every key of each engine section of the effective configuration (what `qtzflow run
--print-config` prints, the C++ reader's defaults filled in), the Python engine takes a keyword
of the same name, with the same default, and reads back the same value -- at the defaults and
at a non-default value per key. A key added to a section without its keyword fails here.
Keys a stepping engine has no use for (t_end: it advances by n steps; count: the walkers are
placed by sample_initial) are the only exceptions, and they are listed.
"""
import tomllib

import pytest

import qtzflow as q

NOT_KEYWORDS = {"t_end", "count"}
GRID = {"grid": {"n": [16, 16], "lower": [-2.0, -2.0], "upper": [2.0, 2.0]}}
# a non-default value per key, each valid alone
OTHER = {
    "schrodinger": {"mode": "imaginary", "potential": "objective", "scheme": "chin4", "dt": 0.02, "absorber_width": 0.5,
                    "fft_planning": "estimate", "tolerance": 1e-5, "dt_min": 1e-6},
    "fokker_planck": {"scheme": "crank_nicolson", "dt": 0.02, "tolerance": 1e-5, "dt_min": 1e-6},
    "particles": {"algorithm": "qtz-local", "seed": 7, "dt": 0.02, "delta": 0.3, "clock": "moves", "moves_per_dt": 8},
}


def effective(section, keys, boundary):
    """The [section] of the effective configuration for these keys, read by the C++ parser."""
    lines = ["[grid]", "n = [16, 16]", "lower = [-2.0, -2.0]", "upper = [2.0, 2.0]", f'boundary = "{boundary}"', f"[{section}]"]
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in keys.items()]
    return tomllib.loads(q._core._config_text("\n".join(lines) + "\n", [], "parity"))[section]


def engine(section, keywords):
    f = q.objective("double_well", 2)
    if section == "schrodinger":
        return q.SplitStepSolver(q.Grid([16, 16], -2.0, 2.0), f, 0.5, **keywords)
    if section == "fokker_planck":
        return q.FokkerPlanckSolver(q.Grid([16, 16], -2.0, 2.0, boundary="reflecting"), f, 0.5, **keywords)
    return q.ParticleEnsemble(q.Grid([16, 16], -2.0, 2.0, boundary="reflecting"), f, 0.5, **keywords)


def compare(section, keys):
    boundary = "periodic" if section == "schrodinger" else "reflecting"
    toml = {k: v for k, v in effective(section, keys, boundary).items() if k not in NOT_KEYWORDS}
    py = engine(section, keys).config
    py.pop("C_q", None)  # the schedule's key, not the section's
    assert py == toml, f"[{section}] {keys}: Python {py} != TOML {toml}"


@pytest.mark.parametrize("section", ["schrodinger", "fokker_planck", "particles"])
def test_defaults_agree(section):
    compare(section, {})


@pytest.mark.parametrize("section,key", [(s, k) for s, ks in OTHER.items() for k in ks])
def test_each_key_agrees(section, key):
    keys = {key: OTHER[section][key]}
    if section == "particles" and key in ("delta",):
        keys = {"algorithm": "qtz-local", key: OTHER[section][key]}  # delta sizes the moves clock's moves
    if section == "particles" and key == "clock":
        keys = {"algorithm": "qtz-dither", "clock": "moves"}
    if section == "particles" and key == "moves_per_dt":
        keys = {"algorithm": "qtz-dither", key: OTHER[section][key]}
    if section == "fokker_planck" and key in ("tolerance", "dt_min"):
        keys = {"scheme": "extrapolated_euler", "tolerance": 1e-5, key: OTHER[section][key]}  # error control needs the extrapolation
    if section == "schrodinger" and key in ("tolerance", "dt_min"):
        keys = {"scheme": "chin4", "tolerance": 1e-5, key: OTHER[section][key]}
    if section == "schrodinger" and key == "absorber_width":
        keys = {key: 0.5, "absorber_strength": 2.0}
    compare(section, keys)


def test_every_key_is_covered():
    """The lists above name every key of every engine section (a new key must join them)."""
    for section in OTHER:
        boundary = "periodic" if section == "schrodinger" else "reflecting"
        keys = set(effective(section, {"algorithm": "qtz-dither"} if section == "particles" else {"absorber_width": 0.5, "tolerance": 1e-5}
                             if section == "schrodinger" else {"scheme": "extrapolated_euler", "tolerance": 1e-5}, boundary))
        assert keys - NOT_KEYWORDS - {"absorber_strength"} <= set(OTHER[section]), section


@pytest.mark.parametrize("keywords,key", [
    ({"algorithm": "qtz-local", "clock": "fokker_planck"}, "clock"),   # the plain quantizer has no FP limit
    ({"algorithm": "langevin", "delta": 0.2}, "delta"),                # Langevin has no proposal size
    ({"algorithm": "qtz-dither", "delta": 0.2}, "delta"),              # FP clock: moves of 2 sqrt(T dt/m)
    ({"algorithm": "qtz-local", "moves_per_dt": 8}, "moves_per_dt"),   # moves clock: one move per dt
    ({"algorithm": "langevin", "C_q": 3.0}, "C_q"),                    # Q_p = C_q/(2T) is the moves clock's
])
def test_unused_keywords_are_refused_as_in_toml(keywords, key):
    with pytest.raises(ValueError, match=key):
        engine("particles", keywords)
    toml_keys = {k: v for k, v in keywords.items() if k != "C_q"}
    sets = [f"schedule.C_q={keywords['C_q']}"] if "C_q" in keywords else []
    text = "[grid]\nboundary = \"reflecting\"\n[particles]\n" + "".join(f'{k} = {v!r}\n'.replace("'", '"') for k, v in toml_keys.items())
    with pytest.raises(ValueError, match=key):
        q._core._config_text(text, sets, "parity")


def test_c_q_comes_with_the_paper_schedule():
    f = q.objective("double_well", 2)
    g = q.Grid([16, 16], -2.0, 2.0, boundary="reflecting")
    paper = q.Schedule.paper(3.0, 1.0, 1.0)
    assert q.ParticleEnsemble(g, f, paper, algorithm="qtz-local").config["C_q"] == 3.0
    assert q.ParticleEnsemble(g, f, 0.5, algorithm="qtz-local").config["C_q"] == 2.0
    assert q.ParticleEnsemble(g, f, 0.5, algorithm="qtz-local", C_q=4.0).config["C_q"] == 4.0
    with pytest.raises(ValueError, match="C_q"):
        q.ParticleEnsemble(g, f, paper, algorithm="qtz-local", C_q=2.0)


def test_h_schedule_is_a_word_of_the_table():
    f = q.objective("rastrigin", 2)
    acc = q.run_once(f, "qtz", budget=400, seed=3)
    log = q.run_once(f, "qtz", budget=400, seed=3, h_schedule="logarithmic")
    assert acc["final_h"] > 0 and log["final_h"] == 0  # h counts acceptances only under the authors' rule
    assert q.run_once(f, "qtz", budget=400, seed=3, h_schedule="acceptances") == acc
    with pytest.raises(ValueError, match="h_schedule"):
        q.run_once(f, "qtz", budget=400, h_schedule="weekly")


def test_a_dict_goes_through_the_same_reader_as_toml():
    as_dict = {"grid": {"n": [16, 16], "boundary": "reflecting"}, "schedule": {"kind": "logarithmic", "c": 2.0},
               "fokker_planck": {"dt": 0.01, "t_end": 0.1}, "objective": {"name": "double_well", "c": 0.3}}
    as_text = ('[grid]\nn = [16, 16]\nboundary = "reflecting"\n[schedule]\nkind = "logarithmic"\nc = 2.0\n'
               '[fokker_planck]\ndt = 0.01\nt_end = 0.1\n[objective]\nname = "double_well"\nc = 0.3\n')
    assert q.config_text(as_dict) == q.config_text(as_text)
    # the reader's refusals, named as in a file
    for bad, key in [({"grid": {"n": None}}, "grid.n"), ({"schedule": {"T": float("nan")}}, "schedule.T"), ({"grid": 5}, "grid"),
                     ({"schedule": {"kind": "logarithmic", "T": 0.5}, "fokker_planck": {}}, "schedule.T"),
                     ({"grid": {"n": [2**70, 4]}}, "grid.n"), ({"fokker_planck": {"dt": 0.01, "typo": 1}}, "fokker_planck.typo")]:
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            q.config_text(bad)


# ---- numerical advice: the library's warnings reach the Python engines ---------------------------


def test_peclet_warning_reaches_the_python_fokker_planck_solver():
    """The CLI's case (tests/regression/test_cli.cpp): the paper's law cools a 64-cell double well
    below its resolution by t = 20; T(0) = 1 is resolved."""
    import warnings

    g = q.Grid([64], -2.0, 2.0, boundary="reflecting")
    f = q.objective("double_well", 1, c=0.3)
    paper = q.Schedule.paper(2.0, 1.0, 2.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fp = q.FokkerPlanckSolver(g, f, paper, dt=0.01)
        fp.rho = fp.gibbs()
        fp.advance(100)  # to t = 1: still resolved
        assert not [w for w in caught if "Peclet" in str(w.message)]
        fp.advance(1900)  # to t = 20
    peclet = [w for w in caught if "cell Peclet number" in str(w.message)]
    assert len(peclet) == 1 and peclet[0].category is RuntimeWarning  # once per engine


def test_imaginary_time_floor_warning_reaches_the_python_split_step_solver():
    import warnings

    g = q.Grid([64], -2.0, 2.0)
    f = q.objective("double_well", 1, c=0.3)  # basin minima 0.6 apart: the floor is ~0.0085
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q.SplitStepSolver(g, f, 0.5, dt=0.01, mode="imaginary")
        assert not caught
        q.SplitStepSolver(g, f, 0.004, dt=0.01, mode="imaginary")
    assert any("loses the lower ones to round-off" in str(w.message) for w in caught)


def test_one_objective_rule_for_every_front_end():
    # an expression's domain: the grid's box in a configuration, required elsewhere (as optimize's --lower/--upper)
    with pytest.raises(ValueError, match="domain"):
        q.expression("(x^2-1)^2", 1)
    # f finite at every grid point, for every engine (a [particles] run checks it; the Python ensemble did not)
    f = q.expression("log(x)", 1, domain=[0, 2])
    g = q.Grid([16], -1.0, 1.0, boundary="reflecting")
    for make in (lambda: q.FokkerPlanckSolver(g, f, 0.5), lambda: q.ParticleEnsemble(g, f, 0.5),
                 lambda: q.SplitStepSolver(q.Grid([16], -1.0, 1.0), f, 0.5)):
        with pytest.raises(ValueError, match="finite at every grid point"):
            make()


@pytest.mark.parametrize("algorithm,keywords,key", [
    ("qtz", {"delta": 0.2}, "delta"),                 # blind proposals have no size
    ("qtz", {"qp": 4.0}, "qp"),                       # Q_p is held only by the fixed h-schedule
    ("qtz-local", {"local": True}, "local"),          # qtz-local is local already
    ("sa", {"delta": 0.2}, "delta"),
])
def test_optimizer_keywords_the_algorithm_leaves_unused_are_refused_as_the_cli_flags(algorithm, keywords, key):
    with pytest.raises(ValueError, match=key):
        q.run_once(q.objective("rastrigin", 2), algorithm, budget=100, **keywords)
    q.run_once(q.objective("rastrigin", 2), "qtz", budget=100, local=True, delta=0.2)  # used: accepted
    q.run_once(q.objective("rastrigin", 2), "qtz", budget=100, h_schedule="fixed", qp=4.0)


def test_study_warnings_reach_python_as_the_cli_prints_them():
    import warnings

    tsp = q.tsp_from_coordinates([0.0, 1.0, 1.0, 0.0, 0.5], [0.0, 0.0, 1.0, 1.0, 0.5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q.run_ensemble(tsp, "qia", runs=2, budget=200)
    assert any("qia on a TSP instance is the authors' simulated annealing" in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q.run_ensemble(q.objective("rastrigin", 2), "sa", runs=2, budget=10**7, T0=1.0, cooling=0.5)  # the SA stop rule ends it early
    assert any("the budget went unused" in str(w.message) for w in caught)
