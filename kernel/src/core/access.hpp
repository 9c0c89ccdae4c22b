#pragma once
// The access rules of API.md, in one place: the owner and admins may do everything; a `read`
// grant (of the context, or of all its owner's contexts) lets an agent read it, a `write` grant
// also patch and revert it. What the caller may not read is 404 (its existence is not leaked);
// what it may read but not change is 403.

#include <string_view>

#include "core/access_cache.hpp"
#include "core/auth.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace ctxmgr::kernel {

enum class Access { none = 0, read = 1, write = 2, owner = 3 };

// What `who` may do with `row` (owner covers admins).
sdk::Result<Access> access_of(AccessCache& access, const Identity& who, const sdk::ContextRow& row);

// OK when `have` covers `need`; else 404 (nothing readable) or 403 naming what is missing.
sdk::Status require(Access have, Access need, std::string_view context_id, std::string_view what);

// An agent's own business (its view for selection, its selection records, the grants it
// received): that agent's and the admins'; else 403 "only <agent> or an admin may <what>".
sdk::Status require_self_or_admin(const Identity& who, std::string_view agent,
                                  std::string_view what);

// What `who` may see of an owner's contexts: all of them (owner, admin, an owner grant) or only
// those shared with it one by one.
sdk::Result<bool> sees_all_of_owner(AccessCache& access, const Identity& who,
                                    std::string_view owner_id);

}  // namespace ctxmgr::kernel
