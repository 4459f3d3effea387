# Run at build time (cmake -P): writes OUTPUT, the definition of core::git_revision() and the
# build facts, replacing it only when its text changes (so an unchanged revision rebuilds nothing).
# Inputs: SOURCE_DIR, OUTPUT, BUILD_TYPE, BUILD_OPTIONS, GIT_EXECUTABLE (may be empty).
set(rev "unknown")
if(GIT_EXECUTABLE)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE out OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0)
    set(rev "${out}")
  endif()
endif()
set(text "// generated at build time by cmake/git_revision.cmake\n#include \"core/build_info.hpp\"\n\nnamespace qtzflow::core {\nstd::string_view git_revision() { return \"${rev}\"; }\nstd::string_view build_type() { return \"${BUILD_TYPE}\"; }\nstd::string_view build_options() { return \"${BUILD_OPTIONS}\"; }\n}  // namespace qtzflow::core\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
else()
  set(old "")
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
