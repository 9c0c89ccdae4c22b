#pragma once
// Since ABI 1.10. The tools capability of a provider: a conversation in which the model may call
// tools that the kernel runs — today Claude's memory tool on the agent's memory files
// (docs/memory-tool.md). A second base class beside Provider (CTXMGR_CAP_PROVIDER_TOOLS).
//
// The kernel runs the loop: it calls complete_with_tools, runs every call the answer holds, and
// calls again with all the rounds so far, until an answer holds no call (or its step limit). A
// provider turns the tools and rounds into its API's wire format (Anthropic: `tools` and
// tool_use / tool_result blocks; OpenAI: function tools, `tool_calls` and `tool` messages) and
// the answer's tool calls back into ToolCalls. Not streamed: the kernel streams only the final
// text.
//
// Thread-safety: as Provider::complete. Errors: as Provider::complete.

#include <string>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/provider.hpp"

namespace ctxmgr::sdk {

// A tool the model may call.
struct ToolSpec {
  std::string name;          // what the model calls it ("memory")
  std::string description;   // for a function tool
  std::string input_schema;  // JSON Schema text of its input, for a function tool
  // The provider's own tool of this type, when the provider has one ("memory_20250818" for
  // Anthropic's memory tool); a provider without it declares a function tool from the above.
  std::string native_type;
};

struct ToolCall {
  std::string id;  // the provider's id of the call, echoed in its result
  std::string name;
  std::string input_json;  // the input as the model wrote it (a JSON object's text, or not)
};

struct ToolResult {
  std::string call_id;
  std::string content;  // what the model reads
  bool is_error = false;
};

// One answer that called tools, and what the calls gave.
struct ToolRound {
  std::string text;  // the model's text beside the calls, may be empty
  std::vector<ToolCall> calls;
  std::vector<ToolResult> results;  // one per call, in the calls' order
};

struct ToolCompletion {
  Completion completion;        // this answer's text, stop_reason, usage, model
  std::vector<ToolCall> calls;  // empty: the model ended its turn
};

class CTXMGR_SDK_VISIBLE ProviderTools {
 public:
  virtual ~ProviderTools();
  ProviderTools() = default;
  ProviderTools(const ProviderTools&) = delete;
  ProviderTools& operator=(const ProviderTools&) = delete;

  // `request` as for complete(); `rounds` follow its messages, oldest first.
  virtual Result<ToolCompletion> complete_with_tools(const CompletionRequest& request,
                                                     const std::vector<ToolSpec>& tools,
                                                     const std::vector<ToolRound>& rounds) = 0;
};

}  // namespace ctxmgr::sdk
