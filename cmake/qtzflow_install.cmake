# `cmake --install build --prefix P` installs the libraries, their headers (include/qtzflow/<folder>/),
# the qtzflow CLI and a CMake package: find_package(qtzflow) then gives the targets
# qtzflow::core, grids, potentials, solver, particles, io, scenario and verify.
include(CMakePackageConfigHelpers)
get_property(qtzflow_libraries GLOBAL PROPERTY QTZFLOW_LIBRARIES)
install(TARGETS ${qtzflow_libraries} EXPORT qtzflowTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/qtzflow)
install(TARGETS qtzflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(QTZFLOW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/qtzflow)
install(EXPORT qtzflowTargets NAMESPACE qtzflow:: DESTINATION ${QTZFLOW_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/qtzflowConfig.cmake.in ${PROJECT_BINARY_DIR}/qtzflowConfig.cmake
                              INSTALL_DESTINATION ${QTZFLOW_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/qtzflowConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qtzflowConfig.cmake ${PROJECT_BINARY_DIR}/qtzflowConfigVersion.cmake DESTINATION ${QTZFLOW_CMAKE_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/qtzflow)
