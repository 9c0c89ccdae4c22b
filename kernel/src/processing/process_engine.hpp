#pragma once
// Processing with context (API.md "Processing with a provider"; the seed's process_with_context):
// the contexts an agent may read — chosen by a query through the selection engine, or named by
// id — rendered into one block (render_context_block), sent with the conversation to a provider
// plugin, and the provider's answer returned.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/access_cache.hpp"
#include "core/auth.hpp"
#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/provider.hpp"
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

struct ProcessOutcome {
  std::string json;  // the answer body
  std::string provider;
  std::string model;
  std::vector<std::string> context_ids;
  sdk::CompletionUsage usage;
  std::int64_t selection_id = 0;  // 0 when no query selected anything
  bool streamed = false;          // the answer went through the stream (done or error event)
  std::optional<sdk::Error> stream_error;  // the error event's, when the stream ended in one
};

class ProcessEngine {
 public:
  // `selection` may be null (then only explicit context_ids work).
  ProcessEngine(AccessCache& access, SelectionEngine* selection,
                std::vector<std::pair<std::string, sdk::Provider*>> providers);

  // `view` is whose read rights decide which contexts may go in. With `"stream": true` the
  // answer goes through `stream` (ContextApi::process) and `request_id` names it in an `error`
  // event; ProcessOutcome::streamed says so.
  sdk::Result<ProcessOutcome> process(const Identity& view, std::string_view body,
                                      std::size_t max_depth, sdk::ProcessStream& stream,
                                      std::string_view request_id);

 private:
  AccessCache& access_;
  sdk::Storage& storage_;
  SelectionEngine* selection_;
  std::vector<std::pair<std::string, sdk::Provider*>> providers_;
};

}  // namespace ctxmgr::kernel
