#pragma once
// Builds the selection engine from the `selection:` config and the loaded selector instances.

#include <memory>

#include "config/config.hpp"
#include "config/yaml_source.hpp"
#include "plugin/registry.hpp"
#include "selection/selection_engine.hpp"

namespace ctxmgr::kernel {

// An error names the config position (an unknown selector name, an unreadable dictionary).
// `semantic`: the vectors' search when an embedder is configured, else null.
sdk::Result<std::unique_ptr<SelectionEngine>> build_selection(const Config& config,
                                                              const YamlSource& source,
                                                              const Registry& registry,
                                                              const sdk::Clock& clock,
                                                              SemanticSearch* semantic);

}  // namespace ctxmgr::kernel
