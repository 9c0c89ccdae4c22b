#pragma once
// Processing with context (API.md "Processing with a provider"; the seed's process_with_context):
// the contexts an agent may read — chosen by a query through the selection engine, or named by
// id — rendered into one block (render_context_block), sent with the conversation to a provider
// plugin, and the provider's answer returned.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/access_cache.hpp"
#include "core/auth.hpp"
#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/provider.hpp"
#include "ctxmgr/sdk/provider_tools.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "selection/selection_engine.hpp"

namespace ctxmgr::kernel {

// The context block a provider receives, documented in docs/processing.md: per context, in order,
//   <context id="…" owner="…" version="N" updated_at="…">
//   <metadata>{…}</metadata>
//   <data>{…}</data>
//   </context>
// with the documents as stored, separated by a blank line.
std::string render_context_block(const std::vector<sdk::ContextRow>& rows);

// One memory-tool command run for the model (ContextService runs it as the caller): the text the
// model reads back, and whether it was the model's mistake.
struct ToolOutcome {
  std::string content;
  bool is_error = false;
};
using MemoryRunner = std::function<ToolOutcome(std::string_view input_json)>;

struct ProcessOutcome {
  std::string json;  // the answer body
  std::string provider;
  std::string model;
  std::vector<std::string> context_ids;
  sdk::CompletionUsage usage;
  std::int64_t selection_id = 0;  // 0 when no query selected anything
  bool streamed = false;          // the answer went through the stream (done or error event)
  // What ended the request in an error once something had happened: the stream's error event,
  // or a memory loop that failed after running commands (their changes stay; the answer is the
  // error, and the audit names what ran).
  std::optional<sdk::Error> failed;
  std::string memory_log;  // the memory commands run, a JSON array ("" when the loop was off)
  std::size_t memory_commands = 0;  // how many it holds
};

class ProcessEngine {
 public:
  // `selection` may be null (then only explicit context_ids work). `tool_providers`: those of
  // `providers` that run tools; `max_steps`: model calls a memory loop makes at most.
  ProcessEngine(AccessCache& access, SelectionEngine* selection,
                std::vector<std::pair<std::string, sdk::Provider*>> providers,
                std::vector<std::pair<std::string, sdk::ProviderTools*>> tool_providers = {},
                std::int64_t max_steps = 8);

  // `view` is whose read rights decide which contexts may go in. With `"stream": true` the
  // answer goes through `stream` (ContextApi::process) and `request_id` names it in an `error`
  // event; ProcessOutcome::streamed says so. With `"memory": true` the model may call the memory
  // tool, each call run through `memory`, until it ends its turn (docs/memory-tool.md).
  sdk::Result<ProcessOutcome> process(const Identity& view, std::string_view body,
                                      std::size_t max_depth, sdk::ProcessStream& stream,
                                      std::string_view request_id,
                                      const MemoryRunner* memory = nullptr);

 private:
  AccessCache& access_;
  sdk::Storage& storage_;
  SelectionEngine* selection_;
  std::vector<std::pair<std::string, sdk::Provider*>> providers_;
  std::vector<std::pair<std::string, sdk::ProviderTools*>> tool_providers_;
  std::int64_t max_steps_;
};

}  // namespace ctxmgr::kernel
