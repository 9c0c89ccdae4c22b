#pragma once
// Identifiers: context ids are UUIDv7 (time-ordered, RFC 9562) in lower-case text; request ids
// are generated the same way when the client sends none.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctxmgr::kernel {

// A new UUIDv7 for the given time (milliseconds since the epoch) with 74 random bits.
std::string new_uuid_v7(std::int64_t unix_ms);

// A UUIDv8 (RFC 9562, custom) made from the SHA-256 of `name`: the same name always gives the
// same id. Idempotent creates use it (docs/reliability.md).
std::string uuid_v8_from(std::string_view name);
// The canonical lower-case form of a UUID written as 8-4-4-4-12 hex digits, or nothing.
std::optional<std::string> canonical_uuid(std::string_view text);

// An agent id of API.md: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$
bool valid_agent_id(std::string_view id);

// A client-sent X-Request-Id is reused when it is 1–128 visible ASCII characters.
bool valid_request_id(std::string_view id);

}  // namespace ctxmgr::kernel
