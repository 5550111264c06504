# SchemeWarnings.cmake - the warning set of STYLE.md, -Werror on request,
# the sanitizer build, and link-time optimisation where neither is asked.
#
#   -DSCHEME_WERROR=ON     warnings are errors (CI)
#   -DSCHEME_SANITIZE=ON   ASan + UBSan, no recovery from UB
option(SCHEME_WERROR "Treat warnings as errors" OFF)
option(SCHEME_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

add_compile_options(
  -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings
  -Wshadow -Wformat=2 -Wno-unused-parameter)
if(SCHEME_WERROR)
  add_compile_options(-Werror)
endif()

# Link-time optimisation for the preload and proto/: a read's or a
# write's path crosses client, channel and wire code, which the client's
# sc_read and sc_write flatten into one function each (preload/hot.h).
# Not in sanitizer or fuzz builds, which measure nothing.
set(SCHEME_LTO OFF)
if(NOT SCHEME_SANITIZE AND NOT SCHEME_FUZZ)
  include(CheckIPOSupported)
  check_ipo_supported(RESULT SCHEME_LTO LANGUAGES C)
endif()

# Turn it on for target: its objects stay usable without it (fat), as
# proto/'s are by the daemons and nm reads them (test/layers.py).
function(scheme_lto target)
  if(SCHEME_LTO)
    set_property(TARGET ${target} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
    target_compile_options(${target} PRIVATE -ffat-lto-objects)
  endif()
endfunction()

set(SCHEME_ASAN_RUNTIME "")
if(SCHEME_SANITIZE)
  add_compile_options(-fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # A sanitized preload inside an unsanitized program needs the runtime
  # loaded first: LD_PRELOAD=libasan.so:libscheme-preload.so.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE SCHEME_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
  get_filename_component(SCHEME_ASAN_RUNTIME "${SCHEME_ASAN_RUNTIME}" REALPATH)
endif()
