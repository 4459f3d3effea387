# Warnings and tuning for qtzflow's own targets, applied PRIVATE to each of them so that none of
# these flags reaches a project that links qtzflow.
function(qtzflow_target_options target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wno-restrict  # GCC 12 false positive inside std::string (GCC bug 105329)
    # std::complex multiplication otherwise calls __muldc3 for C99 Annex G Inf handling;
    # our fields are checked for non-finite values instead.
    -fcx-limited-range)
  if(QTZFLOW_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(QTZFLOW_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# qtzflow_library(NAME SOURCES... [PUBLIC deps...] [PRIVATE deps...]): the library target
# qtzflow_NAME with the alias qtzflow::NAME (the name consumers of an installed qtzflow use
# too), its headers installed under include/qtzflow/NAME/.
function(qtzflow_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(qtzflow_${name} ${arg_SOURCES})
  add_library(qtzflow::${name} ALIAS qtzflow_${name})
  set_target_properties(qtzflow_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(qtzflow_${name} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
  target_compile_features(qtzflow_${name} PUBLIC cxx_std_20)  # the headers use std::span, std::numbers
  # Eigen's heap alignment is ABI (cmake/qtzflow_dependencies.cmake): consumers must agree with it
  target_compile_definitions(qtzflow_${name} PUBLIC ${qtzflow_eigen_definitions})
  qtzflow_target_options(qtzflow_${name})
  if(QTZFLOW_SANITIZE)
    # a static library compiled with the sanitizers needs their runtimes wherever it is linked
    target_link_options(qtzflow_${name} INTERFACE -fsanitize=address,undefined)
  endif()
  file(GLOB headers RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
  install(FILES ${headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtzflow/${name})
  set_property(GLOBAL APPEND PROPERTY QTZFLOW_LIBRARIES qtzflow_${name})
endfunction()
