#pragma once
// JSON Merge Patch (RFC 7396): applies `patch` to `target` in place. Members set to null are
// removed; objects merge recursively; anything else replaces. Existing keys keep their position
// and new keys go to the end, so key order stays as the client sent it.

#include <boost/json/value.hpp>

namespace ctxmgr::kernel {

void merge_patch(boost::json::value& target, const boost::json::value& patch);

}  // namespace ctxmgr::kernel
