# Third-party libraries, all from Debian 12 packages (scripts/install-deps.sh installs them).
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json)
find_package(yaml-cpp REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)

find_package(ZLIB REQUIRED)
find_package(CURL REQUIRED)

# hnswlib (libhnswlib-dev) is header-only: the kernel's vector index (embedding/vector_index.cpp).
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)

# Snowball stemmers (libstemmer-dev) and GNU libunistring ship no CMake package.
find_path(STEMMER_INCLUDE_DIR libstemmer.h REQUIRED)
find_library(STEMMER_LIBRARY stemmer REQUIRED)
add_library(Stemmer::Stemmer UNKNOWN IMPORTED)
set_target_properties(Stemmer::Stemmer PROPERTIES IMPORTED_LOCATION ${STEMMER_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${STEMMER_INCLUDE_DIR})
find_path(UNISTRING_INCLUDE_DIR unistr.h REQUIRED)
find_library(UNISTRING_LIBRARY unistring REQUIRED)
add_library(Unistring::Unistring UNKNOWN IMPORTED)
set_target_properties(Unistring::Unistring PROPERTIES IMPORTED_LOCATION ${UNISTRING_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${UNISTRING_INCLUDE_DIR})

# Apertium's lttoolbox (lttoolbox-dev) reads the compiled bilingual dictionary of
# apertium-eng-spa (selection/apertium_lexicon.cpp); it speaks ICU's UTF-16.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LTTOOLBOX REQUIRED IMPORTED_TARGET lttoolbox icu-uc)

# Boost.DLL is header-only; use std::filesystem instead of Boost.Filesystem.
add_library(ctxmgr_boost_dll INTERFACE)
target_link_libraries(ctxmgr_boost_dll INTERFACE Boost::headers ${CMAKE_DL_LIBS})
target_compile_definitions(ctxmgr_boost_dll INTERFACE BOOST_DLL_USE_STD_FS)

# SOCI 4.0.3 ships no CMake package: find its headers and libraries here.
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_LIBRARY soci_core)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql)
if(SOCI_INCLUDE_DIR AND SOCI_CORE_LIBRARY)
  add_library(soci::core UNKNOWN IMPORTED)
  set_target_properties(soci::core PROPERTIES IMPORTED_LOCATION ${SOCI_CORE_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${SOCI_INCLUDE_DIR})
  foreach(backend sqlite3 postgresql)
    string(TOUPPER ${backend} up)
    if(SOCI_${up}_LIBRARY)
      add_library(soci::${backend} UNKNOWN IMPORTED)
      set_target_properties(soci::${backend} PROPERTIES IMPORTED_LOCATION ${SOCI_${up}_LIBRARY}
        INTERFACE_LINK_LIBRARIES soci::core)
    endif()
  endforeach()
endif()

# ctxmgr_embed_schemas(<target> <dialect>): compiles schemas/<dialect>/*.sql into <target> as
# the generated include "schema_migrations.inc".
function(ctxmgr_embed_schemas target dialect)
  set(dir ${PROJECT_SOURCE_DIR}/schemas/${dialect})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/schema_migrations.inc)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  # The files are named on the command line: a file removed changes the command, and the build
  # tool writes the include again (as DEPENDS alone, a file gone would leave it stale).
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} "-DSQL_FILES=${sql_files}" -DSQL_DIR=${dir} -DOUT=${out}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_sql.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/embed_sql.cmake
    COMMENT "Embedding ${dialect} schemas"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
  set_source_files_properties(${out} PROPERTIES HEADER_FILE_ONLY ON)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()

# SOCI's headers use classes whose typeinfo libsoci does not export, so UBSan's vptr check cannot
# link in code that includes them; it stays on everywhere else.
function(ctxmgr_soci_sanitizer_compat target)
  if(CTXMGR_SANITIZE)
    target_compile_options(${target} PRIVATE -fno-sanitize=vptr)
  endif()
endfunction()
