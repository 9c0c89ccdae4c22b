#pragma once
// The operator's console (docs/console.md): its files, compiled into this plugin from
// plugins/transport-http/console/ (CMakeLists.txt), so the server and its page never part ways
// and the page needs nothing from outside.

#include <string_view>

namespace ctxmgr::http {

struct ConsoleAsset {
  std::string_view name;  // the file's name, e.g. "app.js"
  std::string_view content_type;
  std::string_view body;
};

// The file `name` (no folder), or null.
const ConsoleAsset* console_asset(std::string_view name);

}  // namespace ctxmgr::http
