"""qtzflow.report: the statistics on synthetic data with known answers, and the report of a small
study run by the CLI (QTZFLOW_CLI), its numbers checked against the study's HDF5 file."""
import json
import os
import subprocess

import numpy as np
import pytest

from qtzflow import report


def test_rank_sum_identical_samples_tie():
    a = np.linspace(1, 2, 51)
    p, direction = report.rank_sum(a, a.copy())
    assert (p, direction) == (1.0, 0)
    p, direction = report.rank_sum(np.zeros(51), np.zeros(51))  # all zero errors: a tie
    assert (p, direction) == (1.0, 0)


def test_rank_sum_shifted_sample_is_a_win_below_the_threshold():
    rng = np.random.default_rng(3)
    a = rng.normal(0.0, 1.0, 51)
    b = a + 3.0  # b's errors larger: a wins
    p, direction = report.rank_sum(a, b)
    assert direction == -1 and p < 1e-10  # 3 sigma apart, 51 each: p ~ 1e-17 (normal approximation)
    p2, direction2 = report.rank_sum(b, a)
    assert direction2 == 1 and p2 == pytest.approx(p, rel=1e-12)  # symmetric
    # against scipy's exact statistic on a small case: [1,2,3] vs [4,5,6] gives U = 0
    p3, d3 = report.rank_sum([1, 2, 3], [4, 5, 6])
    assert d3 == -1 and 0.04 < p3 < 0.1  # asymptotic two-sided p for U = 0, n = m = 3: 0.0495


def test_signed_rank_known_answers():
    a = np.array([1.0, 5.0, 0.0, 7.0])
    assert report.signed_rank(a, a.copy()) == (1.0, 0)  # every pair equal: nothing to test
    # a lower than b on all 10 pairs, differences 1..10: R- = 55, R+ = 0, exact two-sided p = 2/2^10
    a = np.zeros(10)
    b = np.arange(1.0, 11.0)
    p, direction = report.signed_rank(a, b)
    assert direction == -1 and p == pytest.approx(2.0 / 1024, rel=1e-12)
    p2, direction2 = report.signed_rank(b, a)
    assert direction2 == 1 and p2 == pytest.approx(p, rel=1e-12)
    # a tiny loss on one pair does not change the side: R+ = 1, R- = 54
    a[0] = 1.5
    b[0] = 1.0
    b[1:] = np.arange(2.0, 11.0) * 10
    assert report.signed_rank(a, b)[1] == -1


def test_claim_lines_criterion():
    # q beats baseline x on more functions than it loses, but not baseline "y vs z" (a name with
    # " vs " in it: the rule reads the pair from the fields, not from the label): the claim fails, naming it
    r = {"comparisons": {"a": {"variant": "qtz", "baseline": "x", "wins": 3, "ties": 1, "losses": 1, "signs": [-1] * 3 + [0] + [1]},
                         "b": {"variant": "qtz", "baseline": "y vs z", "wins": 2, "ties": 1, "losses": 2, "signs": [-1, -1, 0, 1, 1]},
                         "c": {"variant": "qtz", "baseline": "qtz-dither", "wins": 0, "ties": 5, "losses": 0, "signs": [0] * 5}}}
    (line,) = report.claim_lines(r)
    assert "does not hold" in line and "not ahead of y vs z." in line and "5 wins, 2 ties, 3 losses over 2 baselines" in line
    r["comparisons"]["b"].update(wins=3, losses=1)
    (line,) = report.claim_lines(r)
    assert " holds:" in line and "not ahead" not in line


def test_holm_matches_hand_computed_values():
    # p = (0.01, 0.04, 0.03, 0.005): sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    adjusted = report.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02], rtol=1e-15)
    assert report.holm([0.9, 0.8])[0] == 1.0  # capped at 1


def test_friedman_ranks_and_ties():
    scores = [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [0.0, 0.0, 5.0]]
    np.testing.assert_allclose(report.friedman_ranks(scores), [(1 + 3 + 1.5) / 3, (2 + 2 + 1.5) / 3, (3 + 1 + 3) / 3], rtol=1e-15)


def test_wins_ties_losses_counts():
    rng = np.random.default_rng(5)
    base = [rng.lognormal(0, 1, 51) for _ in range(6)]
    better = [x / 100 for x in base[:3]] + [x.copy() for x in base[3:]]
    w, t, l, adjusted, signs = report.wins_ties_losses(better, base)
    assert (w, t, l) == (3, 3, 0)
    assert signs == [-1, -1, -1, 0, 0, 0]
    w, t, l, _, _ = report.wins_ties_losses(base, better)
    assert (w, t, l) == (0, 3, 3)


def test_cec_errors_floor():
    np.testing.assert_array_equal(report.cec_errors([1e-9, 1e-8, 2.0, 0.0]), [0.0, 1e-8, 2.0, 0.0])


def test_report_of_a_small_study(tmp_path):
    h5py = pytest.importorskip("h5py")
    pytest.importorskip("matplotlib")
    pytest.importorskip("scipy")
    cli = os.environ.get("QTZFLOW_CLI")
    if not cli:
        pytest.skip("QTZFLOW_CLI not set")
    (tmp_path / "s.toml").write_text('[study]\nfunctions = [1, 3]\nalgorithms = ["qtz", "sa"]\nruns = 5\nbudget_per_dimension = 200\n')
    r = subprocess.run([cli, "study", "s.toml", "-o", "s.h5", "-q"], cwd=tmp_path, capture_output=True, text=True)
    if r.returncode == 2 and "pagmo2" in r.stderr:
        pytest.skip("this build has no CEC suites (no pagmo2)")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert len(summary["cells"]) == 4
    assert report.main([str(tmp_path / "s.h5"), "-o", str(tmp_path / "rep"), "--reference", os.path.join(os.path.dirname(__file__), "../../data/cec2014")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    analysis = json.loads((tmp_path / "rep" / "analysis.json").read_text())
    with h5py.File(tmp_path / "s.h5", "r") as h:
        e = h["cells/f3_d10/sa/final_error"][()]
    expected = report.cec_errors(e).mean()
    assert analysis["dimensions"]["10"]["table"]["3"]["sa"]["mean"] == pytest.approx(expected, rel=1e-15)
    # the published entrants are compared only at the competition's budget, not at 200 D
    assert "L-SHADE" not in analysis["dimensions"]["10"]["columns"]
    assert "qtz vs sa" in md and "Friedman" in md
    for png in ("convergence_d10.png", "ecdf_d10.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 10000
    # the README's verdict: only the study's own section is replaced
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- verdict:s:begin -->\nPLACEHOLDER\n<!-- verdict:s:end -->\n<!-- verdict:t:begin -->\nkeep\n<!-- verdict:t:end -->\n")
    assert report.main([str(tmp_path / "s.h5"), "-o", str(tmp_path / "rep"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "PLACEHOLDER" not in text and "keep" in text and text.startswith("intro\n")
    section = text[text.index("verdict:s:begin"):text.index("verdict:s:end")]
    assert "Friedman mean ranks" in section and "qtz vs sa" in section and "rep/report.md" in section
    # bad input: exit 2 naming the file; a README without the study's markers is refused
    # before anything is written
    assert report.main([str(tmp_path / "s.toml")]) == 2
    readme.write_text("no markers\n")
    assert report.main([str(tmp_path / "s.h5"), "-o", str(tmp_path / "rep2"), "--readme", str(readme)]) == 2
    assert not (tmp_path / "rep2").exists() and readme.read_text() == "no markers\n"


def test_report_of_a_small_tsplib_study(tmp_path):
    h5py = pytest.importorskip("h5py")
    pytest.importorskip("matplotlib")
    pytest.importorskip("scipy")
    cli = os.environ.get("QTZFLOW_CLI")
    if not cli:
        pytest.skip("QTZFLOW_CLI not set")
    data = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../data/tsplib"))
    (tmp_path / "t.toml").write_text(f'[study]\nsuite = "tsplib"\ninstances = ["eil51", "berlin52"]\nbudgets = [2000, 20000]\n'
                                     f'algorithms = ["qtz-nl", "sa-nl", "ils"]\nruns = 5\ndata = "{data}"\n')
    r = subprocess.run([cli, "study", "t.toml", "-o", "t.h5", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "t.json").read_text())
    assert len(summary["cells"]) == 12
    assert {c["optimum"] for c in summary["cells"]} == {426, 7542}  # TSPLIB's proven optima
    assert report.main([str(tmp_path / "t.h5"), "-o", str(tmp_path / "rep")]) == 0
    analysis = json.loads((tmp_path / "rep" / "analysis.json").read_text())
    with h5py.File(tmp_path / "t.h5", "r") as h:
        g = h["cells/berlin52_b20000/ils/final_error"][()]
        ev = h["cells/berlin52_b20000/ils/trace_evaluations"][()]
        er = h["cells/berlin52_b20000/ils/trace_errors"][()]
        off = h["cells/berlin52_b20000/ils/trace_offsets"][()]
    cell = analysis["budget_levels"]["20000"]["table"]["berlin52"]["ils"]
    assert cell["mean_gap"] == pytest.approx(g.mean(), rel=1e-15)
    assert cell["hits"] == int(np.sum(g == 0))
    first = [ev[off[i]:off[i + 1]][np.flatnonzero(er[off[i]:off[i + 1]] <= 1e-2)] for i in range(5)]
    reached = [f[0] for f in first if f.size]
    assert cell["reached_1pct"] == len(reached)
    if len(reached) == 5:
        assert cell["median_moves_to_1pct"] == pytest.approx(float(np.median(reached)), rel=1e-15)
    assert "qtz-nl vs ils" in analysis["budget_levels"]["20000"]["comparisons"]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "TSPLIB" in md and "to 0.1 %" in md
    for png in ("ecdf_gap.png", "ecdf_moves.png", "gap_vs_budget.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 10000
    # published CEC results make no sense for a TSP study: refused, exit 2
    assert report.main([str(tmp_path / "t.h5"), "-o", str(tmp_path / "rep3"), "--reference", data]) == 2
