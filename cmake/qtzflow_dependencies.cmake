# Every third-party package qtzflow's libraries use, found once.  cmake/qtzflowConfig.cmake.in
# repeats the link-time ones for consumers of an installed qtzflow (the libraries are static).
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
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
message(STATUS "qtzflow: pagmo2 baseline (pagmo-sa) ${QTZFLOW_HAVE_PAGMO}")
