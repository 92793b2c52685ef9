# -DDMACYCLE_SANITIZE="address;undefined" (or "thread") instruments every target.
set(DMACYCLE_SANITIZE "" CACHE STRING "Sanitizers to enable, e.g. address;undefined or thread")
if(DMACYCLE_SANITIZE)
  list(JOIN DMACYCLE_SANITIZE "," _dmacycle_sanitizers)
  add_compile_options(-fsanitize=${_dmacycle_sanitizers} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dmacycle_sanitizers})
endif()
