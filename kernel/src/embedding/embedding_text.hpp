#pragma once
// The text an embedder receives for a context version (docs/semantic.md: What is embedded): its
// JSON's keys and string values, in the stored order, one `key: value` line per string, nested
// keys on a line of their own, array strings as `- value` lines. Numbers, booleans and nulls say
// little about meaning and are left out; the structure's punctuation too.

#include <string>
#include <string_view>

namespace ctxmgr::kernel {

// `context_data` is a stored JSON object text; text that does not parse is embedded as written.
std::string embedding_text(std::string_view context_data);

}  // namespace ctxmgr::kernel
