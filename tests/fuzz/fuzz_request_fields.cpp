// What the context service checks before it touches storage: request bodies (object, allowed
// fields, nesting), metadata (priority, tags, expires_at), path ids, If-Match, limits, booleans.
#include <boost/json/value.hpp>

#include "core/request_parsing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctxmgr::kernel;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto body = parse_body_object(text, 64, {"agent_id", "context_data", "metadata"});
      if (body) {
        if (const auto* m = body->if_contains("metadata")) (void)validate_metadata(*m);
      }
      break;
    }
    case 1: {
      auto id = parse_context_id(text);
      // A valid id comes back canonical (lower case), and the canonical form parses to itself.
      if (id) {
        auto again = parse_context_id(*id);
        if (!again || *again != *id) __builtin_trap();
        for (char c : *id) {
          if (c >= 'A' && c <= 'Z') __builtin_trap();
        }
      }
      break;
    }
    case 2:
      (void)parse_agent_id(text, "agent_id");
      break;
    case 3: {
      auto v = parse_if_match(text);
      if (v && *v && **v < 1) __builtin_trap();
      break;
    }
    case 4: {
      auto l = parse_limit(std::string(text), 50);
      if (l && (*l < 1 || *l > 1000)) __builtin_trap();
      (void)parse_bool(std::string(text), "include_deleted", false);
      break;
    }
    default: {
      auto p = parse_positive(text, "version");
      if (p && *p < 1) __builtin_trap();
    }
  }
  return 0;
}
