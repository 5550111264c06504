# SchemeWarnings.cmake - the warning set of STYLE.md, -Werror on request,
# and the sanitizer build.
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
