# SchemeInstall.cmake - the header, scheme.pc, a CMake package and the
# manual pages.
#
#   pkg-config --cflags scheme        the provider ABI
#   pkg-config --variable=preload scheme   the preload library's path
#   pkg-config --libs scheme          libscheme (getns, setrens, mkns)
#   find_package(Scheme): Scheme::headers, Scheme::scheme,
#                         SCHEME_PRELOAD_LIBRARY
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/include/scheme/scheme.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/scheme)

file(RELATIVE_PATH SCHEME_PC_TO_PREFIX
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" SCHEME_PC_TO_PREFIX "${SCHEME_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/scheme.pc.in
  ${PROJECT_BINARY_DIR}/scheme.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/scheme.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set_target_properties(scheme_headers PROPERTIES EXPORT_NAME headers)
install(TARGETS scheme_headers EXPORT SchemeTargets)
install(EXPORT SchemeTargets NAMESPACE Scheme::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Scheme)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SchemeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SchemeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Scheme
  PATH_VARS CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SchemeConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SchemeConfig.cmake
  ${PROJECT_BINARY_DIR}/SchemeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Scheme)

# The manual pages: every doc/man/NAME.SECTION (sections 1 to 8) goes to
# man/manSECTION, so a page added there is installed without touching
# this file (the glob is checked again at each build).  A symbolic link
# (setrens.3 -> getns.3) is installed as one.
file(GLOB SCHEME_MAN_PAGES CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/doc/man/*.[1-8])
foreach(page IN LISTS SCHEME_MAN_PAGES)
  string(REGEX REPLACE "^.*\\.([1-8])$" "\\1" section "${page}")
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
