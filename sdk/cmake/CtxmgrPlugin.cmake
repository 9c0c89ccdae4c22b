# ctxmgr_add_plugin(<target> SOURCES <src>... [LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>]
#                   [NO_INSTALL])
# Builds <target>.so as a Context Manager plugin: a MODULE named exactly <target>.so (the loader
# looks for <kind>-<name>.so), hidden visibility, undefined symbols refused at link time instead
# of at load time, statically linked third-party code kept private, and installed into the
# plugin folder. In the ctxmgr tree it also lands in the build tree's plugin folder.
function(ctxmgr_add_plugin target)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON)
  target_link_libraries(${target} PRIVATE ctxmgr::sdk ${P_LIBRARIES})
  target_link_options(${target} PRIVATE -Wl,-z,defs -Wl,--exclude-libs,ALL)
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  elseif(DEFINED CTXMGR_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CTXMGR_PLUGIN_BUILD_DIR})
  endif()
  if(TARGET ctxmgr_warnings)
    target_link_libraries(${target} PRIVATE ctxmgr_warnings)
  endif()
  if(NOT P_NO_INSTALL)
    # Always lib/ (not a multiarch libdir): ctxmgr looks for <prefix>/lib/ctxmgr/plugins.
    install(TARGETS ${target} LIBRARY DESTINATION lib/ctxmgr/plugins COMPONENT server)
  endif()
endfunction()
