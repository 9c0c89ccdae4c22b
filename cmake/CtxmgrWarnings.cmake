# Warnings for the project's own targets (not for third-party headers, which come in as SYSTEM).
add_library(ctxmgr_warnings INTERFACE)
target_compile_options(ctxmgr_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
