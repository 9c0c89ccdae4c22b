# The Debian package (CPack DEB): `cpack -G DEB` in a tree configured with the `package` preset
# (CMAKE_INSTALL_PREFIX=/usr). Only the `server` component goes in: the binary, the plugins,
# libctxmgr-sdk.so, the default configuration, the schemas for reference, the systemd unit, the
# sysusers.d entry; the SDK's headers and CMake package (component `sdk`) stay for `cmake --install`.
set(_pkg ${CMAKE_CURRENT_LIST_DIR})

# Files only the package carries. Absolute destinations: these paths are fixed by Debian and
# systemd, whatever the prefix.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  install(FILES ${_pkg}/ctxmgr.service DESTINATION /lib/systemd/system COMPONENT server)
  install(FILES ${_pkg}/ctxmgr.sysusers DESTINATION lib/sysusers.d RENAME ctxmgr.conf
          COMPONENT server)
  install(FILES ${_pkg}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
  # Debian wants the changelog and the manual page compressed with no timestamp (gzip -n). The
  # manual page is help2man's rendering of `ctxmgr --help`, so it never drifts from the CLI.
  set(_changelog ${PROJECT_BINARY_DIR}/changelog.gz)
  set(_man ${PROJECT_BINARY_DIR}/ctxmgr.1.gz)
  add_custom_command(OUTPUT ${_changelog}
    COMMAND sh -c "gzip -9nc '${_pkg}/changelog' > '${_changelog}'"
    DEPENDS ${_pkg}/changelog VERBATIM)
  add_custom_command(OUTPUT ${_man}
    COMMAND sh -c "help2man --no-info --no-discard-stderr --section=1 \
      --name='context store for AI agents' '$<TARGET_FILE:ctxmgr>' | gzip -9n > '${_man}'"
    DEPENDS ctxmgr VERBATIM)
  add_custom_target(ctxmgr_package_docs ALL DEPENDS ${_changelog} ${_man})
  install(FILES ${_changelog} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
  install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)
  install(FILES ${_pkg}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
          RENAME ctxmgr COMPONENT server)
endif()

set(CPACK_PACKAGE_NAME ctxmgr)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CTXMGR_PACKAGE_CONTACT "Context Manager developers <maintainers@context-manager.example.org>"
    CACHE STRING "the Maintainer of the Debian package")
set(CPACK_PACKAGE_CONTACT "${CTXMGR_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "context store for AI agents")
set(CPACK_PACKAGE_DESCRIPTION
    "Context Manager keeps the context of AI agents: agents store context in it,\nshare it with other agents under access rules, see every version of it, and\nask it for the pieces relevant to a query before they call a model. REST and\nMCP transports, SQLite or PostgreSQL storage, Anthropic and OpenAI providers.")
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
  "dict-freedict-spa-eng, dict-freedict-eng-spa, apertium-eng-spa")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql, mythes-es, mythes-en-us")
# shlibs for libctxmgr-sdk.so.1 and the ldconfig trigger (the library is in the loader's path).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_pkg}/postinst ${_pkg}/postrm ${_pkg}/conffiles
    ${_pkg}/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
