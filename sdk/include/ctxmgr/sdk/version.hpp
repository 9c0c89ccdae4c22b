#pragma once
// The SDK's version and the rule that decides which plugins a host may load.

#include <cstdint>

#include "ctxmgr/sdk/abi.h"

namespace ctxmgr::sdk {

struct AbiVersion {
  std::uint32_t major;
  std::uint32_t minor;
};

inline constexpr AbiVersion kHostAbi{CTXMGR_SDK_ABI_MAJOR, CTXMGR_SDK_ABI_MINOR};

// A host loads plugins of its own major whose minor is not newer than its own: a plugin may rely
// on everything its minor declared, and a host of minor M has all of minors 0..M.
constexpr bool abi_compatible(AbiVersion host, AbiVersion plugin) {
  return host.major == plugin.major && plugin.minor <= host.minor;
}

}  // namespace ctxmgr::sdk
