"""qtzflow from Python: the density picture of quantization-based optimization.

The compiled engines (qtzflow._core, pybind11 over the C++ library) and two pure-Python helpers:

    Grid, Schedule                     the grid and temperature schedules
    objective, expression, sampled,    objectives: built-in by name, a formula, values on a grid,
    function, catalog                  a Python function; the list of built-ins
    SplitStepSolver                    Schrödinger equation, real and imaginary time
    FokkerPlanckSolver                 Fokker–Planck equation (structure-preserving finite volumes)
    ParticleEnsemble                   Langevin and quantized-optimizer walkers
    run_once, run_ensemble             the optimizers (qtz, qtz-dither, qtz-local, langevin, sa, qia, pimc,
                                       pagmo-sa, ...; on tours also qtz-nl, qtz-dither-nl, sa-nl, ils) on an
                                       objective or a TSP instance (tsp, tsp_from_coordinates)
    run(config, ...)                   a configured run (dict, TOML text or file) with HDF5 output
    open(path)                         a run's output: iterations in numeric order, coordinates,
                                       fields, diagnostics, configuration

Conventions: arrays in C order with axis 0 slowest (a[i, j] at (x_i, y_j)); engine states are
writable views into the engine's memory; bad input raises ValueError with the CLI's message,
numerical failures RuntimeError. A tour: docs/python.md.
"""
import os
import tomllib

# OpenMP's idle threads sleep instead of spinning, unless the environment says otherwise
# (core/parallel.hpp, kWaitPolicy): libgomp reads this when it is loaded, which is the import of
# _core below, unless another module (torch, say) loaded libgomp first.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "passive"

from ._core import (  # noqa: F401, E402
    FokkerPlanckSolver,
    Grid,
    Objective,
    ParticleEnsemble,
    Schedule,
    SplitStepSolver,
    TspInstance,
    __version__,
    catalog,
    default_config,
    expression,
    function,
    objective,
    run_ensemble,
    run_once,
    sampled,
    set_threads,
    threads,
    tsp,
    tsp_from_coordinates,
)
from . import _core

__all__ = [
    "FokkerPlanckSolver", "Grid", "Objective", "Output", "ParticleEnsemble", "Schedule", "SplitStepSolver",
    "catalog", "default_config", "expression", "function", "objective", "open", "run", "run_ensemble",
    "run_once", "sampled", "set_threads", "threads", "config_text", "TspInstance", "tsp", "tsp_from_coordinates",
]


def _config_source(config):
    """(config, origin, path) for the C++ reader: a dict or TOML text as given, a file by its path
    (read once, by the reader, which then knows it as an input no output may replace)."""
    if config is None:
        return default_config(), "built-in default scenario", ""
    if isinstance(config, dict):
        return config, "config dict", ""
    if isinstance(config, os.PathLike) or (isinstance(config, str) and "\n" not in config and "[" not in config):
        return "", os.fspath(config), os.fspath(config)
    if isinstance(config, str):
        return config, "config text", ""
    raise ValueError(f"config: {type(config).__name__}: must be a dict, TOML text or the path of a TOML file")


def config_text(config=None, overrides=()):
    """The effective configuration (every key the run uses, defaults filled in) as TOML text, as
    `qtzflow run --print-config` prints it. config: a dict {section: {key: value}}, TOML text, a
    path, or None (the built-in default scenario); overrides as in run(). The C++ reader does the
    work: a dict is handed to it as data, with the checks and messages of a TOML file."""
    source, origin, path = _config_source(config)
    return _core._config_text(source, list(overrides), origin, path)


def to_toml(config):
    """Deprecated name of config_text(config): the effective configuration as TOML text."""
    return config_text(config)


def run(config=None, output=None, restart=None, progress=None, overrides=()):
    """Runs a configured scenario to its end, writing HDF5 snapshots (as `qtzflow run`).

    config: a dict {section: {key: value}}, TOML text, a path to a TOML file, or None (the
    built-in default scenario); it is read once, by the same reader as the CLI's. output: the HDF5
    file (default: output.path). restart: continue this output from its last snapshot. progress: a
    function called after every snapshot with a dict (step, total_steps, time, output). overrides:
    "section.key=value" strings, as --set, and "-section.key" strings that remove a key, as --unset.
    Configuration warnings are issued as RuntimeWarning. The GIL is released while it runs.
    Returns a dict: status (completed, stopped, failed), error, step, time, snapshots, output, xdmf.
    """
    source, origin, path = _config_source(config)
    return _core._run_config(source, origin, list(overrides), os.fspath(output) if output else "", os.fspath(restart) if restart else "",
                             progress, path)


class Output:
    """A qtzflow output file, read with h5py (docs/config.md, "Output layout").

    Run outputs (/data/<iteration>) get the accessors below; any qtzflow HDF5 file (the data of
    `qtzflow verify`, `optimize -o`, `spectrum -o`) opens too, and out["group/dataset"],
    out.keys(), out.attrs reach its objects as h5py does.

        out = qtzflow.open("run.h5")
        out.iterations            # [0, 100, 200, ...] in numeric order
        out.times                 # their times
        out.field("rho", -1)      # a mesh of the last snapshot (index into iterations, or iteration=...)
        out.fields(100)           # every mesh of iteration 100, by name ("psi/re", ...)
        out.coordinates           # per-axis coordinates of the points
        out.grid_fields           # f, grad_f_sq, laplacian_f, V (Schrödinger), basin
        out.diagnostics           # {"iteration": ..., "time": ..., "T": ..., "mass_basin_0": ...}
        out.config                # the run's configuration as a dict (out.config_text: TOML)
        out.particles(100)        # particle records ("ensemble/position/x", ...)
    """

    def __init__(self, path):
        """Opens `path` read-only (ValueError if it is not a qtzflow HDF5 file)."""
        import h5py  # noqa: PLC0415 (h5py is needed only to read outputs)

        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise ValueError(f"path: {self.path!r}: must be an existing qtzflow HDF5 file")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise ValueError(f"path: {self.path!r}: not an HDF5 file ({e})") from None
        software = self._text(self._f.attrs.get("software", b"qtzflow"))  # verify data before 0.2 has none
        if software != "qtzflow":
            self._f.close()
            raise ValueError(f"path: {self.path!r}: written by {software!r}, not qtzflow")
        self.iterations = sorted(int(k) for k in self._f["data"].keys()) if "data" in self._f else []
        self.times = [float(self._f[f"data/{it}"].attrs["time"]) for it in self.iterations]

    def close(self):
        """Closes the file (also at the end of a with block)."""
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if not self.iterations:
            return f"qtzflow.Output({self.path!r}: {sorted(self._f.keys())})"
        return f"qtzflow.Output({self.path!r}: {len(self.iterations)} snapshots, t = {self.times[0]:g} .. {self.times[-1]:g})"

    def __getitem__(self, key):
        """The h5py object at `key` (a group or a dataset: [()] reads it)."""
        return self._f[key]

    def __contains__(self, key):
        return key in self._f

    def keys(self):
        """The names at the file's root."""
        return self._f.keys()

    @property
    def attrs(self):
        """The root attributes, as h5py gives them."""
        return self._f.attrs

    @staticmethod
    def _text(v):
        return v.decode() if isinstance(v, bytes) else str(v)

    @property
    def config_text(self):
        """The run's full configuration (defaults filled in) as TOML text."""
        return self._text(self._f.attrs["config"])

    @property
    def config(self):
        """The run's configuration as a dict {section: {key: value}}."""
        return tomllib.loads(self.config_text)

    @property
    def attributes(self):
        """The root attributes (software, softwareVersion, date, gitRevision, ...) as strings."""
        return {k: self._text(v) for k, v in self._f.attrs.items()}

    def _iteration(self, index=None, iteration=None):
        if not self.iterations:
            raise ValueError(f"{self.path}: holds no snapshots (not a run's output)")
        if iteration is not None and iteration < 0:  # stored iterations are >= 0: a negative one counts from the end
            index, iteration = iteration, None
        if index is not None and not -len(self.iterations) <= index < len(self.iterations):
            raise ValueError(f"index: {index}: must be in [{-len(self.iterations)}, {len(self.iterations) - 1}] "
                             f"({len(self.iterations)} snapshots)")
        if iteration is not None:
            if iteration not in self.iterations:
                raise ValueError(f"iteration: {iteration}: must be one of the stored iterations {self.iterations[:5]}...")
            return iteration
        if index is None:
            index = -1
        return self.iterations[index]

    def fields(self, iteration=None, index=None):
        """Every mesh of one snapshot (default: the last; a negative iteration counts from the end,
        or index= into iterations), by name, as arrays ("psi/re", "psi/im", "rho", ...)."""
        it = self._iteration(index, iteration)
        out = {}
        self._f[f"data/{it}/meshes"].visititems(lambda n, o: out.__setitem__(n, o[()]) if hasattr(o, "shape") else None)
        return out

    def field(self, name, index=-1, iteration=None):
        """Mesh `name` ("rho", "psi" as one complex array, "psi/re", "psi_abs2", "particles_hist")
        of the snapshot at `index` in iterations (negative counts from the end), or of `iteration`."""
        it = self._iteration(index, iteration)
        key = f"data/{it}/meshes/{name}"
        if key not in self._f:
            raise ValueError(f"name: {name!r}: not a mesh of iteration {it}; it has {sorted(self.fields(it))}")
        obj = self._f[key]
        if hasattr(obj, "shape"):
            return obj[()]
        # a complex mesh (psi) is a group of its parts: one complex array (imaginary time stores
        # only the real phi, returned real)
        if "re" in obj and "im" in obj:
            return obj["re"][()] + 1j * obj["im"][()]
        if "re" in obj:
            return obj["re"][()]
        raise ValueError(f"name: {name!r}: a group of {sorted(obj.keys())} in iteration {it}; name one of them ({name}/...)")

    def particles(self, iteration=None, index=None):
        """The particle records of one snapshot (default: the last), e.g. "ensemble/position/x"."""
        it = self._iteration(index, iteration)
        out = {}
        if f"data/{it}/particles" in self._f:
            self._f[f"data/{it}/particles"].visititems(lambda n, o: out.__setitem__(n, o[()]) if hasattr(o, "shape") else None)
        return out

    @property
    def coordinates(self):
        """Per-axis coordinates of the points (from /grid, or rebuilt from the mesh attributes)."""
        if "grid" in self._f:
            labels = ("x", "y", "z")
            return [self._f[f"grid/{a}"][()] for a in labels if f"grid/{a}" in self._f]
        import numpy as np  # noqa: PLC0415

        first = self._f[f"data/{self.iterations[0]}/meshes"]
        d = [o for o in first.values() if hasattr(o, "shape")] or [o for g in first.values() for o in g.values()]
        h, x0, shape = d[0].attrs["gridSpacing"], d[0].attrs["gridGlobalOffset"], d[0].shape
        return [x0[a] + h[a] * np.arange(shape[a]) for a in range(len(shape))]

    @property
    def grid_fields(self):
        """/grid's meshes: f, grad_f_sq, laplacian_f, V (Schrödinger runs), basin."""
        if "grid/meshes" not in self._f:
            return {}
        return {k: v[()] for k, v in self._f["grid/meshes"].items()}

    @property
    def diagnostics(self):
        """Every /diagnostics series (rows: output.diagnostics_every steps and every snapshot)."""
        return {k: v[()] for k, v in self._f["diagnostics"].items()}

    def plot_summary(self, png=None, dpi=100):
        """Writes a PNG summary of this file (qtzflow.plot.summary; default OUT.png) and returns its path."""
        from . import plot  # noqa: PLC0415 (matplotlib only when plotting)

        return plot.summary(self, png, dpi)

    def plot_diagnostics(self, ax=None):
        """Draws the diagnostics over time into `ax` (a new figure if None) and returns the Axes."""
        return self._plot("plot_diagnostics", ax)

    def plot_basins(self, ax=None):
        """Draws the mass per basin of f over time into `ax` and returns the Axes."""
        return self._plot("plot_basins", ax)

    def plot_density(self, index=-1, ax=None):
        """Draws the density of snapshot `index` with f's contours into `ax` and returns the Axes."""
        return self._plot("plot_density", ax, index)

    def _plot(self, what, ax, *args):
        from . import plot  # noqa: PLC0415

        if ax is None:
            ax = plot._pyplot().figure(figsize=(6, 4.5)).add_subplot()
        getattr(plot, what)(self, ax, *args)
        return ax


def open(path):  # noqa: A001 (qtzflow.open, as h5py.File and xarray.open_dataset)
    """Opens a qtzflow output for reading (see Output)."""
    return Output(path)
