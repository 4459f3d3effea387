"""Looking at results: Output.field("psi") as one complex array, negative indices, the PNG summary
of every example's output (qtzflow.plot, `python3 -m qtzflow plot`), optimize and spectrum files
with their metadata, and docs/python.md's tour run as pasted.

Run by ctest (python.plot) with PYTHONPATH at the build tree's python/ and QTZFLOW_CLI set.
"""
import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import qtzflow as q

import matplotlib  # noqa: E402 (run_pytest.sh skips the whole file without it: QTZFLOW_PYTEST_REQUIRES)
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from qtzflow import plot  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("QTZFLOW_CLI", "")
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.toml")))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Every example configuration run to its end (0.1-4 s each)."""
    d = tmp_path_factory.mktemp("examples")
    out = {}
    for cfg in EXAMPLES:
        name = os.path.splitext(os.path.basename(cfg))[0]
        r = q.run(cfg, output=d / f"{name}.h5")
        assert r["status"] == "completed", r
        out[name] = str(d / f"{name}.h5")
    return out


def test_psi_is_one_complex_array_and_negative_indices_count_from_the_end(outputs):
    with q.open(outputs["coherent_state"]) as o:
        last = o.iterations[-1]
        psi = o.field("psi", -1)
        assert psi.dtype == np.complex128
        # exactly the stored parts (no arithmetic between them)
        assert np.array_equal(psi.real, o.field("psi/re", iteration=last))
        assert np.array_equal(psi.imag, o.field("psi/im", iteration=last))
        # psi_abs2 is written as re^2 + im^2; |psi|^2 from the complex array agrees to a few ulp
        np.testing.assert_allclose(np.abs(psi) ** 2, o.field("psi_abs2", -1), rtol=1e-14, atol=1e-300)
        # a negative iteration counts from the end, like an index
        assert o.fields(-1).keys() == o.fields(last).keys()
        assert np.array_equal(o.fields(-2)["psi/re"], o.field("psi/re", -2))
        with pytest.raises(ValueError, match=r"index: .*must be in \[-"):
            o.field("psi", len(o.iterations))
        with pytest.raises(ValueError, match="name: 'nope'"):
            o.field("nope")


def test_imaginary_time_psi_is_the_real_phi(outputs):
    with q.open(outputs["rastrigin_ground_state"]) as o:
        phi = o.field("psi", -1)
        assert phi.dtype == np.float64 and np.array_equal(phi, o.field("psi/re", -1))


@pytest.mark.parametrize("name", [os.path.splitext(os.path.basename(c))[0] for c in EXAMPLES])
def test_every_example_has_a_summary_picture(outputs, name, tmp_path):
    png = q.open(outputs[name]).plot_summary(tmp_path / f"{name}.png")
    img = matplotlib.image.imread(png)
    assert img.shape[0] >= 600 and img.shape[1] >= 900  # 12 x 8.5 inches at 100 dpi
    # non-trivial: many colours (curves, a colour map), not a blank canvas with axes
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200, len(colours)


@pytest.mark.parametrize("name", [os.path.splitext(os.path.basename(c))[0] for c in EXAMPLES])
def test_the_density_panels_draw_the_snapshots_they_name(outputs, name):
    with q.open(outputs[name]) as o:
        for index in (0, -1):
            ax = plt.figure().add_subplot()
            plot.plot_density(o, ax, index)
            shown, a = plot._density(o, index)
            assert str(o.iterations[index]) in ax.get_title()
            if a.ndim == 1:
                assert np.array_equal(ax.lines[0].get_ydata(), a)
            else:
                expect = a.sum(axis=2) if a.ndim == 3 else a
                assert np.array_equal(np.asarray(ax.images[0].get_array()), expect.T)
            plt.close(ax.figure)
        # the basin panel draws /diagnostics' mass_basin_k
        ax = plt.figure().add_subplot()
        plot.plot_basins(o, ax)
        d = o.diagnostics
        basins = [k for k in d if k.startswith("mass_basin_")]
        assert len(ax.lines) == len(basins)
        if basins:
            assert np.array_equal(ax.lines[0].get_ydata(), d["mass_basin_0"])
        plt.close(ax.figure)


def test_plot_from_the_shell_and_its_refusals(outputs, tmp_path):
    env = dict(os.environ)
    png = tmp_path / "x.png"
    r = subprocess.run([sys.executable, "-m", "qtzflow", "plot", outputs["coherent_state"], "-o", str(png)], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == str(png) and png.stat().st_size > 10000, r.stderr
    r = subprocess.run([sys.executable, "-m", "qtzflow", "plot", str(tmp_path / "missing.h5")], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "missing.h5" in r.stderr, r.stderr
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("not HDF5")
    r = subprocess.run([sys.executable, "-m", "qtzflow", "plot", str(not_h5)], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "text.h5" in r.stderr and "not an HDF5 file" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "qtzflow", "plot", "a.h5", "b.h5", "-o", "c.png"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "-o/--output" in r.stderr, r.stderr


@pytest.mark.skipif(not CLI, reason="QTZFLOW_CLI not set")
def test_optimize_files_keep_numbers_as_numbers_and_every_setting(tmp_path):
    out = tmp_path / "sa.h5"
    subprocess.run([CLI, "optimize", "--objective", "rastrigin", "--dim", "2", "--algorithm", "sa", "--runs", "6",
                    "--budget", "3000", "--seed", "18446744073709551615", "-o", str(out), "--json"], check=True, capture_output=True)
    with q.open(out) as o:
        a = o.attrs
        assert a["seed"] == np.uint64(18446744073709551615) and a["seed"].dtype == np.uint64  # all 64 bits, a number
        assert a["budget"] == 3000 and a["budget"].dtype == np.int64
        assert a["runs"] == 6 and a["runs"].dtype == np.int64
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o.attributes["date"])
        assert o.attributes["gitRevision"] and o.attributes["algorithm"] == "sa"
        g = o["optimize"].attrs
        assert g["sa_T0"] == 1000.0 and g["sa_cooling"] == 0.9995 and g["tolerance"] == 1e-3  # the defaults, as used
        ax_s, ax_b = plt.figure().subplots(1, 2)
        plot.plot_optimize(o, ax_s, ax_b)
        # the success curve ends at the fraction of successful runs
        assert ax_s.lines[0].get_ydata()[-1] == pytest.approx(o["optimize/success"][()].mean(), abs=0)
        assert np.array_equal(ax_b.lines[0].get_ydata(), np.sort(o["optimize/best"][()]))
        plt.close(ax_s.figure)
    png = plot.summary(str(out), tmp_path / "sa.png")
    assert os.path.getsize(png) > 10000


@pytest.mark.skipif(not CLI, reason="QTZFLOW_CLI not set")
def test_qia_on_a_tsp_instance_says_it_is_sa(tmp_path):
    tsp = os.path.join(ROOT, "data", "tsp", "random10.tsp")
    common = ["optimize", "--tsp", tsp, "--unrounded", "--runs", "3", "--budget", "2000", "--json"]
    qia = subprocess.run([CLI] + common + ["--algorithm", "qia"], capture_output=True, text=True, check=True)
    sa = subprocess.run([CLI] + common + ["--algorithm", "sa"], capture_output=True, text=True, check=True)
    assert "qia on a TSP instance is the authors' simulated annealing" in qia.stderr
    # and it is: the same tours, the same numbers
    assert re.search(r'"mean": [^,]+', qia.stdout).group() == re.search(r'"mean": [^,]+', sa.stdout).group()


@pytest.mark.skipif(not CLI, reason="QTZFLOW_CLI not set")
def test_spectrum_files_have_a_picture(tmp_path):
    out = tmp_path / "spec.h5"
    subprocess.run([CLI, "spectrum", os.path.join(ROOT, "examples", "fokker_planck_escape.toml"), "--set", "grid.n=[32, 32]",
                    "--only", "fokker_planck", "-k", "3", "--T", "0.3,0.5", "-o", str(out)], check=True, capture_output=True)
    with q.open(out) as o:
        ax = plt.figure().add_subplot()
        plot.plot_spectrum(o, ax)
        assert len(ax.lines) == 3 and np.array_equal(ax.lines[1].get_ydata(), o["spectrum/lambda_fokker_planck"][()][:, 1])
        plt.close(ax.figure)
    assert os.path.getsize(plot.summary(str(out), tmp_path / "spec.png")) > 10000


def test_tour_runs_as_pasted(tmp_path, monkeypatch):
    """docs/python.md's tour, the first Python block after "## A tour", executed as it stands."""
    text = open(os.path.join(ROOT, "docs", "python.md"), encoding="utf-8").read()
    tour = re.search(r"## A tour\s+```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(tour, "docs/python.md (tour)", "exec"), {"__name__": "tour"})  # noqa: S102
    assert (tmp_path / "fp.h5").stat().st_size > 0 and (tmp_path / "fp.png").stat().st_size > 10000


def test_the_package_lets_idle_openmp_threads_sleep_unless_told_otherwise():
    """python/qtzflow/__init__.py sets core/parallel.hpp's policy before it loads the extension."""
    code = "import os, qtzflow; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split() == \
        [q._core.wait_policy[1], "None"]
    assert q._core.wait_policy[0] == "OMP_WAIT_POLICY"
    env["GOMP_SPINCOUNT"] = "1000"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split() == ["None", "1000"]
