# Every third-party package qtzflow's libraries use, found once.  cmake/qtzflowConfig.cmake.in
# repeats the link-time ones for consumers of an installed qtzflow (the libraries are static).
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
# Eigen's heap alignment is part of the ABI: with -march=native (AVX: 32 bytes) Eigen allocates
# through its own aligned allocator, with plain x86-64 (16 bytes) through malloc.  pagmo's cmaes
# and xnes keep Eigen members that libpagmo (built for plain x86-64) fills and qtzflow's code
# destroys: particles/pagmo_baseline.cpp is therefore compiled for plain x86-64
# (particles/CMakeLists.txt), and 16 bytes for every target keeps the Eigen functions that
# translation unit shares with the rest (one copy survives linking) one ABI.  Eigen also turns
# to its own allocator under AddressSanitizer: there EIGEN_MALLOC_ALREADY_ALIGNED=1 keeps malloc
# (ASan's malloc aligns to 16 bytes on x86-64).  Not in optimized builds, where it is implied:
# defined there explicitly, the release build's Spectra shift-invert test crashed (not understood
# yet; qtzflow_eigen_definitions keeps the two cases apart).
set(qtzflow_eigen_definitions EIGEN_MAX_ALIGN_BYTES=16)
if(QTZFLOW_SANITIZE)
  list(APPEND qtzflow_eigen_definitions EIGEN_MALLOC_ALREADY_ALIGNED=1)
endif()
add_compile_definitions(${qtzflow_eigen_definitions})
find_package(Spectra REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(toml11 REQUIRED)
find_package(muparser REQUIRED)  # the expression objective (potentials/expression.hpp)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET GLOBAL fftw3)
# Debian's FFTW3 CMake config is incomplete; pkg-config has no entry for the OpenMP library.
find_library(FFTW3_OMP_LIBRARY NAMES fftw3_omp REQUIRED HINTS ${FFTW3_LIBRARY_DIRS})

if(QTZFLOW_WITH_PAGMO STREQUAL "OFF")
  set(QTZFLOW_HAVE_PAGMO OFF)
else()
  if(QTZFLOW_WITH_PAGMO STREQUAL "ON")
    find_package(pagmo REQUIRED)
  else()
    find_package(pagmo QUIET)
  endif()
  set(QTZFLOW_HAVE_PAGMO ${pagmo_FOUND})
endif()
message(STATUS "qtzflow: pagmo2 baselines (pagmo-sa, cmaes, de1220, sade, xnes, pso) and the CEC suites ${QTZFLOW_HAVE_PAGMO}")

# MPI (Open MPI from Debian): one build whose CLI runs on one rank without mpirun and divides its
# work under mpirun (core/mpi.hpp).
set(QTZFLOW_MPI "AUTO" CACHE STRING "MPI for runs under mpirun: AUTO (if found), ON (required), OFF")
set_property(CACHE QTZFLOW_MPI PROPERTY STRINGS AUTO ON OFF)
set(QTZFLOW_HAVE_MPI OFF)
if(NOT QTZFLOW_MPI STREQUAL "OFF")
  if(QTZFLOW_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS C)
  else()
    find_package(MPI QUIET COMPONENTS C)
  endif()
  set(QTZFLOW_HAVE_MPI ${MPI_C_FOUND})
  if(QTZFLOW_HAVE_MPI)
    # FFTW's MPI transforms (libfftw3-mpi-dev) distribute the split-step engine's fields.
    if(QTZFLOW_MPI STREQUAL "ON")
      find_library(FFTW3_MPI_LIBRARY NAMES fftw3_mpi REQUIRED HINTS ${FFTW3_LIBRARY_DIRS})
    else()
      find_library(FFTW3_MPI_LIBRARY NAMES fftw3_mpi HINTS ${FFTW3_LIBRARY_DIRS})
      if(NOT FFTW3_MPI_LIBRARY)
        message(STATUS "qtzflow: libfftw3_mpi not found: building without MPI")
        set(QTZFLOW_HAVE_MPI OFF)
      endif()
    endif()
  endif()
endif()
if(QTZFLOW_HAVE_MPI)
  # Parallel HDF5 (libhdf5-openmpi-dev): all ranks write their rows of one output file
  # (io/snapshot.hpp).  Debian versions its symbols apart from the serial library's, so the Python
  # module may share a process with h5py.
  if(QTZFLOW_MPI STREQUAL "ON")
    pkg_check_modules(HDF5_MPI REQUIRED IMPORTED_TARGET GLOBAL hdf5-openmpi)
  else()
    pkg_check_modules(HDF5_MPI QUIET IMPORTED_TARGET GLOBAL hdf5-openmpi)
    if(NOT HDF5_MPI_FOUND)
      message(STATUS "qtzflow: parallel HDF5 (hdf5-openmpi) not found: building without MPI")
      set(QTZFLOW_HAVE_MPI OFF)
    endif()
  endif()
endif()
message(STATUS "qtzflow: MPI ${QTZFLOW_HAVE_MPI}")
# The one HDF5 library of the build: parallel with MPI, serial otherwise (io and the tests that
# edit HDF5 files directly link this one, never both).
if(QTZFLOW_HAVE_MPI)
  set(QTZFLOW_HDF5_TARGET PkgConfig::HDF5_MPI)
else()
  set(QTZFLOW_HDF5_TARGET hdf5::hdf5)
endif()

# The Python module: pybind11 (Debian's pybind11-dev) with the interpreter the tests and
# notebooks use, /usr/bin/python3 (Debian's numpy, h5py); Python_EXECUTABLE overrides it.
set(QTZFLOW_BUILD_PYTHON OFF)
if(NOT QTZFLOW_PYTHON STREQUAL "OFF")
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3)
  endif()
  set(PYBIND11_FINDPYTHON ON)
  if(QTZFLOW_PYTHON STREQUAL "ON")
    find_package(Python REQUIRED COMPONENTS Interpreter Development.Module)
    find_package(pybind11 CONFIG REQUIRED)
  else()
    find_package(Python QUIET COMPONENTS Interpreter Development.Module)
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(pybind11_FOUND AND Python_FOUND)
    set(QTZFLOW_BUILD_PYTHON ON)
  endif()
endif()
message(STATUS "qtzflow: Python module ${QTZFLOW_BUILD_PYTHON} (${Python_EXECUTABLE})")
