# SchemeDeps.cmake - the libraries we build against, found by pkg-config.
#
#   scheme::bsd          libbsd (link): pidfile, strlcpy in the daemons
#   scheme::bsd_headers  libbsd's overlay headers only (sys/queue.h,
#                        sys/tree.h): for code that runs inside other
#                        programs, which must not drag a library in
#   scheme::check        check, for the test suites
#   scheme::ffi          libffi: the tests call every exported entry point
#                        through its real symbol and calling convention
#                        (variadic open/fcntl included)
find_package(PkgConfig REQUIRED)

function(scheme_require module target)
  pkg_check_modules(${target}_PC REQUIRED IMPORTED_TARGET GLOBAL ${module})
  add_library(scheme::${target} ALIAS PkgConfig::${target}_PC)
endfunction()

scheme_require(libbsd-overlay bsd)
scheme_require(check check)
scheme_require(libffi ffi)

# The overlay's include directories and definitions, without linking.
pkg_get_variable(_bsd_includedir libbsd includedir)
add_library(scheme_bsd_headers INTERFACE)
target_include_directories(scheme_bsd_headers SYSTEM INTERFACE
  ${_bsd_includedir}/bsd)
target_compile_definitions(scheme_bsd_headers INTERFACE LIBBSD_OVERLAY)
add_library(scheme::bsd_headers ALIAS scheme_bsd_headers)
