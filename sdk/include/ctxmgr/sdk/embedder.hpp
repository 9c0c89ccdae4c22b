#pragma once
// Since ABI 1.8. Embedder plugins turn texts into vectors, so selection can rank contexts by
// meaning (docs/semantic.md). The kernel embeds each context's current version off the write
// path and stores the vector with the model that made it; vectors of different models are never
// compared.
//
// Thread-safety: embed() may be called concurrently from many threads.
// Errors: never thrown; Errc::provider_error (the server's message; rejected credentials say so),
// Errc::rate_limited (field "retry_after" in seconds when the server gave one),
// Errc::provider_timeout, Errc::unavailable (not configured or not reachable). Never a key in a
// message.

#include <cstdint>
#include <string>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE Embedder : public Plugin {
 public:
  ~Embedder() override;
  // What names this instance's vectors: the same id means comparable vectors (same model, same
  // dimensions), so two servers configured alike share them. Fixed for the object's life and
  // known from construction, before start() (the embeddings commands ask without starting it).
  virtual std::string model_id() const = 0;
  // The length of every vector embed() returns; 0 when only the first answer will tell.
  virtual std::int32_t dimensions() const = 0;
  // One vector per text, in order, all of one length. An answer of another shape is an error:
  // the caller stores nothing of it.
  virtual Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) = 0;
};

template <>
struct KindInterface<Kind::embedder> {
  using type = Embedder;
};

}  // namespace ctxmgr::sdk
