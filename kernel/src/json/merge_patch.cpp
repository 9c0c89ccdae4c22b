#include "json/merge_patch.hpp"

namespace ctxmgr::kernel {

void merge_patch(boost::json::value& target, const boost::json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = boost::json::object();
  auto& obj = target.get_object();
  for (const auto& kv : patch.get_object()) {
    if (kv.value().is_null()) {
      obj.erase(kv.key());
    } else if (auto* existing = obj.if_contains(kv.key())) {
      merge_patch(*existing, kv.value());
    } else {
      boost::json::value fresh;
      merge_patch(fresh, kv.value());
      obj.emplace(kv.key(), std::move(fresh));
    }
  }
}

}  // namespace ctxmgr::kernel
