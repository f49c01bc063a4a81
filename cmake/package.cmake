# The C++ package: `cmake --install` puts the library, its public headers, a CMake package config (whose
# find_dependency calls find the same Debian packages the build used) and a pkg-config file under the prefix,
# so that another project takes rnnkit with
#   find_package(rnnkit REQUIRED)
#   target_link_libraries(app PRIVATE rnnkit::rnnkit)
include(CMakePackageConfigHelpers)
set(RNNKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rnnkit)

install(TARGETS rnnkit EXPORT rnnkitTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/rnnkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rnnkitTargets NAMESPACE rnnkit:: DESTINATION ${RNNKIT_CMAKE_DIR})
configure_package_config_file(cmake/rnnkitConfig.cmake.in ${PROJECT_BINARY_DIR}/rnnkitConfig.cmake
                              INSTALL_DESTINATION ${RNNKIT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rnnkitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rnnkitConfig.cmake ${PROJECT_BINARY_DIR}/rnnkitConfigVersion.cmake
        DESTINATION ${RNNKIT_CMAKE_DIR})
file(RELATIVE_PATH RNNKIT_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/rnnkit.pc.in ${PROJECT_BINARY_DIR}/rnnkit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rnnkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(RNNKIT_BUILD_TESTS AND NOT RNNKIT_SANITIZE)
  # Installs this build into a scratch prefix, then configures, builds and runs examples/consumer against it
  # (CMake package and pkg-config). Not under the sanitizers: the consumer is an ordinary build.
  add_test(NAME package.consumer
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -DWORK_DIR=${PROJECT_BINARY_DIR}/package_test -DCXX=${CMAKE_CXX_COMPILER}
                   -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
                   -P ${PROJECT_SOURCE_DIR}/cmake/test_consumer.cmake)
endif()
