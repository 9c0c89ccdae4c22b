# No source file of the kernel, the SDK or the plugins grows past 600 lines: past that a file holds
# more than one purpose, and a newcomer cannot read it in one sitting (issue 19).
#   cmake -DROOT=<repo> -P cmake/source_lengths.cmake
set(limit 600)
get_filename_component(ROOT "${ROOT}" ABSOLUTE)
file(GLOB_RECURSE sources "${ROOT}/kernel/*.cpp" "${ROOT}/kernel/*.hpp" "${ROOT}/sdk/*.cpp"
     "${ROOT}/sdk/*.hpp" "${ROOT}/sdk/*.h" "${ROOT}/plugins/*.cpp" "${ROOT}/plugins/*.hpp")
set(found "")
foreach(f ${sources})
  file(READ "${f}" text)
  string(REGEX REPLACE "[^\n]" "" newlines "${text}")
  string(LENGTH "${newlines}" n)
  if(n GREATER limit)
    file(RELATIVE_PATH rel "${ROOT}" "${f}")
    string(APPEND found "  ${rel}: ${n} lines\n")
  endif()
endforeach()
if(found)
  message(FATAL_ERROR "source files over ${limit} lines (cut them into files of one purpose):\n${found}")
endif()
