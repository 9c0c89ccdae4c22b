#pragma once
// The JSON bodies of API.md built from storage rows. Documents are inserted as the stored text,
// which the kernel wrote, so nothing is re-encoded on the way out.

#include <string>

#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::kernel {

std::string render_context(const sdk::ContextRow& row);
// A context as it was at one version (for GET ?version=N).
std::string render_context_version(const sdk::ContextRow& current, const sdk::HistoryRow& version);
std::string render_history_item(const sdk::HistoryRow& row);

}  // namespace ctxmgr::kernel
