#!/usr/bin/env bash
# Installs every Debian package that qtzflow's build, tests and notebooks need.
# Idempotent: installs only what is missing, and asks apt nothing when all is there.
# Works as root or through sudo.  Usage: bash scripts/install-deps.sh [--bench]
#   --bench   also install what the benchmarks compare against (XMDS2).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake pkg-config make
  # libraries
  libfftw3-dev libeigen3-dev libhdf5-dev doctest-dev libtoml11-dev libcli11-dev
  librandom123-dev libpagmo-dev libspectra-dev libmuparser-dev
  # command-line tools used by tests and users; TSPLIB instances with proven optima
  hdf5-tools glpk-utils
  # analysis and notebooks (/usr/bin/python3; scripts/make_notebooks.py executes notebooks_out/)
  python3-numpy python3-scipy python3-h5py python3-matplotlib jupyter-nbconvert python3-ipykernel
  # the Python module (python/) and its tests
  pybind11-dev python3-dev python3-pytest
  # `pip install .` and `python3 -m build` of the Python package, offline: the build backend
  # (scikit-build), the wheel builder and venv for a user's environment
  python3-skbuild python3-build python3-venv python3-pip
  # runs under mpirun (core/mpi.hpp), FFTW's distributed transforms (grids/distributed_fft.hpp) and
  # parallel HDF5 (every rank writes its rows of the output, io/snapshot.hpp)
  libopenmpi-dev openmpi-bin libfftw3-mpi-dev libhdf5-openmpi-dev
  # the image-classification experiment (qtzflow.torch, qtzflow.ml): PyTorch (CPU) and the data
  python3-torch dataset-fashion-mnist
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(xmds2)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
