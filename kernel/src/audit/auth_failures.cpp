#include "audit/auth_failures.hpp"

namespace ctxmgr::kernel {

bool AuthFailureFolder::first(std::string_view transport, std::string_view reason,
                              std::int64_t now_ns) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = windows_.try_emplace({std::string(transport), std::string(reason)});
  if (fresh || now_ns - it->second.opened_ns >= window_ns_) {
    if (!fresh && it->second.folded > 0) {  // the ended window's count is not taken yet
      ++it->second.folded;
      return false;
    }
    it->second = Window{now_ns, 0};
    return true;
  }
  ++it->second.folded;
  return false;
}

std::vector<AuthFailureFolder::Folded> AuthFailureFolder::take(std::int64_t now_ns, bool all) {
  std::vector<Folded> out;
  std::lock_guard lock(mu_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (!all && now_ns - it->second.opened_ns < window_ns_) {
      ++it;
      continue;
    }
    if (it->second.folded > 0)
      out.push_back({it->first.first, it->first.second, it->second.folded});
    it = windows_.erase(it);
  }
  return out;
}

}  // namespace ctxmgr::kernel
