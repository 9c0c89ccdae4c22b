# Writes the numbered .sql files SQL_FILES (a list) of SQL_DIR into OUT as C++ initialisers
#   {number, "name", R"ctxsql(text)ctxsql"},
# so a storage plugin carries its migrations inside the .so. Run at build time.
set(files ${SQL_FILES})
list(SORT files)
set(content "// Generated from ${SQL_DIR} by cmake/embed_sql.cmake; do not edit.\n")
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" num "${name}")
  if(num STREQUAL "")
    message(FATAL_ERROR "${f}: migration files must start with their number")
  endif()
  string(REGEX REPLACE "^0+([0-9])" "\\1" num "${num}")
  file(READ ${f} sql)
  string(APPEND content "{${num}, \"${name}\", R\"ctxsql(${sql})ctxsql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "${content}")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
