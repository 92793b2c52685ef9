# -DDMACYCLE_SANITIZE="address;undefined" (or "thread") instruments every target.
set(DMACYCLE_SANITIZE "" CACHE STRING "Sanitizers to enable, e.g. address;undefined or thread")
if(DMACYCLE_SANITIZE)
  list(JOIN DMACYCLE_SANITIZE "," _dmacycle_sanitizers)
  add_compile_options(-fsanitize=${_dmacycle_sanitizers} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dmacycle_sanitizers})
endif()

# -DDMACYCLE_FUZZ=ON (with clang++): libFuzzer targets in tests/fuzz (scripts/fuzz). Every
# library is instrumented for coverage and ASan/UBSan, so the fuzzers see into our code.
option(DMACYCLE_FUZZ "Build the libFuzzer targets (needs clang++)" OFF)
if(DMACYCLE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DMACYCLE_FUZZ needs clang++ (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
