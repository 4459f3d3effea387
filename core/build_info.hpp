// qtzflow/core/build_info.hpp — what built this library: the git revision (read at build
// time by cmake/git_revision.cmake, "unknown" outside a git checkout, with "-dirty" when the
// tree had changes), the build type and options.  Stamped into every output file.
#pragma once

#include <string_view>

namespace qtzflow::core {

std::string_view git_revision();
std::string_view build_type();
/// "native=ON sanitize=OFF pagmo=ON"
std::string_view build_options();

}  // namespace qtzflow::core
