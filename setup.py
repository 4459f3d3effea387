"""The qtzflow Python package, built by CMake through scikit-build (see pyproject.toml).

    pip install --no-build-isolation .                 # into the current environment
    python3 -m build --no-isolation --wheel            # dist/qtzflow-<version>-*.whl

Only the Python module is built and installed (the CMake target install-python: the package
python/qtzflow and its extension _core); the C++ libraries, headers and the qtzflow CLI come from
`cmake --install` (docs/python.md).  Extra CMake options: CMAKE_ARGS="-D..." in the environment
(scikit-build reads it), e.g. CMAKE_ARGS="-DQTZFLOW_NATIVE=ON" for a wheel tuned to this machine.
"""
import pathlib
import re

from skbuild import setup

root = pathlib.Path(__file__).resolve().parent
# the version is said once, in CMakeLists.txt's project()
version = re.search(r"project\(qtzflow VERSION (\S+)", (root / "CMakeLists.txt").read_text()).group(1)

setup(
    name="qtzflow",
    version=version,
    description="Density picture of quantization-based optimization: Schrödinger and Fokker-Planck "
    "solvers, the quantized optimizer and its baselines",
    long_description=(root / "docs" / "python.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"plot": ["matplotlib"], "files": ["h5py"]},
    packages=["qtzflow"],
    package_dir={"": "python"},
    cmake_install_dir="python",
    cmake_install_target="install-python",
    cmake_args=[
        "-DCMAKE_BUILD_TYPE=Release",
        "-DQTZFLOW_PYTHON=ON",
        "-DQTZFLOW_PYTHON_INSTALL_DIR=.",
        "-DQTZFLOW_NATIVE=OFF",  # a wheel runs on any x86-64, not only on the machine that built it
        "-DQTZFLOW_BUILD_TESTS=OFF",
        "-DQTZFLOW_BUILD_BENCH=OFF",
        "-DQTZFLOW_BUILD_EXAMPLES=OFF",
    ],
)
