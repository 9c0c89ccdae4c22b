# The SDK's ABI lock (PLUGINS.md §8.3): a hash of every public SDK header, recorded in
# sdk/abi.lock beside the ABI number it belongs to. A header change without an ABI bump fails
# the test `sdk_abi_lock`, so a plugin built for "1.0" can never meet a different 1.0.
#   cmake -DSDK_DIR=<repo>/sdk -DMODE=check  -P cmake/sdk_abi_lock.cmake
#   cmake -DSDK_DIR=<repo>/sdk -DMODE=update -P cmake/sdk_abi_lock.cmake   (after a bump, or for
#                                                                         a change that provably
#                                                                         keeps the ABI)
get_filename_component(SDK_DIR "${SDK_DIR}" ABSOLUTE)
file(GLOB_RECURSE headers "${SDK_DIR}/include/*.h" "${SDK_DIR}/include/*.hpp")
list(SORT headers)
set(all "")
foreach(h ${headers})
  file(RELATIVE_PATH rel "${SDK_DIR}" "${h}")
  file(READ "${h}" text)
  string(APPEND all "== ${rel}\n${text}")
endforeach()
string(SHA256 hash "${all}")
file(STRINGS "${SDK_DIR}/include/ctxmgr/sdk/abi.h" lines REGEX "#define CTXMGR_SDK_ABI_(MAJOR|MINOR) ")
string(REGEX MATCH "MAJOR ([0-9]+)" _ "${lines}")
set(major ${CMAKE_MATCH_1})
string(REGEX MATCH "MINOR ([0-9]+)" _ "${lines}")
set(abi "${major}.${CMAKE_MATCH_1}")
set(lock "${SDK_DIR}/abi.lock")
set(line "ctxmgr-sdk ABI ${abi} headers sha256 ${hash}")

if(MODE STREQUAL "update")
  file(WRITE "${lock}" "${line}\n")
  message(STATUS "sdk/abi.lock: ${line}")
  return()
endif()
file(STRINGS "${lock}" recorded LIMIT_COUNT 1)
if(recorded STREQUAL line)
  message(STATUS "SDK ABI ${abi}: headers match the lock")
  return()
endif()
string(REGEX MATCH "ABI ([0-9]+\\.[0-9]+)" _ "${recorded}")
if(CMAKE_MATCH_1 STREQUAL abi)
  message(FATAL_ERROR "The public SDK headers changed but CTXMGR_SDK_ABI is still ${abi}. "
    "Adding to an interface changes the ABI: bump CTXMGR_SDK_ABI_MINOR (or MAJOR for a break, "
    "or put new methods in a new interface), then run "
    "cmake -DSDK_DIR=sdk -DMODE=update -P cmake/sdk_abi_lock.cmake. "
    "Recorded: ${recorded}; now: ${line}")
endif()
message(FATAL_ERROR "CTXMGR_SDK_ABI is ${abi} but sdk/abi.lock records ${CMAKE_MATCH_1}: "
  "run cmake -DSDK_DIR=sdk -DMODE=update -P cmake/sdk_abi_lock.cmake to record the new ABI.")
