# The kernel's folders form a stack (docs/architecture.md: The kernel's folders). A folder may
# include its own files and those of folders below it in this list, never one above it; so a
# newcomer can read kernel/src bottom to top, and no cycle between folders can come back.
#   cmake -DKERNEL_SRC=<repo>/kernel/src -P cmake/kernel_layers.cmake
set(layers config log metrics json memory plugin core audit backup embedding selection processing events service cli)

get_filename_component(KERNEL_SRC "${KERNEL_SRC}" ABSOLUTE)
file(GLOB_RECURSE sources "${KERNEL_SRC}/*.hpp" "${KERNEL_SRC}/*.cpp")
set(found "")
foreach(f ${sources})
  file(RELATIVE_PATH rel "${KERNEL_SRC}" "${f}")
  if(NOT rel MATCHES "/")
    continue()  # main.cpp stands on top of everything
  endif()
  string(REGEX REPLACE "/.*" "" folder "${rel}")
  list(FIND layers "${folder}" rank)
  if(rank EQUAL -1)
    string(APPEND found "  ${rel}: its folder '${folder}' is not in the stack of cmake/kernel_layers.cmake\n")
    continue()
  endif()
  file(STRINGS "${f}" includes REGEX "^#include \"[a-z_]+/")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target "${line}")
    if(target STREQUAL "ctxmgr")
      continue()  # the SDK
    endif()
    list(FIND layers "${target}" target_rank)
    if(target_rank GREATER rank OR target_rank EQUAL -1)
      string(APPEND found "  ${rel} (${folder}) includes ${target}/, which is above it\n")
    endif()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "kernel folders out of order:\n${found}")
endif()
