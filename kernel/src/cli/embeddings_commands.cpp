// ctxmgr embeddings status | rebuild — the vectors of semantic selection (docs/semantic.md): how
// complete they are for the configured embedder's model, and dropping them so that the running
// servers' embedding workers make them again from the stored JSON (after a model's server
// changed its weights under the same name, say).

#include <iostream>

#include "cli/commands.hpp"
#include "cli/storage_session.hpp"
#include "ctxmgr/sdk/embedder.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace {

struct VectorsSession {
  std::unique_ptr<StorageSession> session;
  sdk::StorageVectors* vectors = nullptr;
  std::string embedder;  // instance name, empty when none is configured
  std::string model;
  int exit_code = kExitOk;
};

VectorsSession open_vectors(const CommonOptions& opts) {
  VectorsSession v;
  v.session = open_storage(opts, true);
  if (v.session->exit_code != kExitOk) {
    v.exit_code = v.session->exit_code;
    return v;
  }
  v.vectors = v.session->registry->storage_vectors();
  if (v.vectors == nullptr) {
    v.exit_code = fail("this storage plugin keeps no vectors (SDK ABI 1.8)");
    return v;
  }
  const auto embedders = v.session->registry->of_kind<sdk::Embedder>(sdk::Kind::embedder);
  if (!embedders.empty()) {
    v.embedder = embedders[0].first;
    v.model = embedders[0].second->model_id();
  }
  return v;
}

}  // namespace

int run_embeddings_status(const CommonOptions& opts, bool as_json) {
  auto v = open_vectors(opts);
  if (v.exit_code != kExitOk) return v.exit_code;
  auto stats = v.session->storage->stats();
  if (!stats) return fail(stats.error().message());
  auto models = v.vectors->vector_models();
  if (!models) return fail(models.error().message());
  std::int64_t backlog = 0;
  if (!v.model.empty()) {
    auto b = v.vectors->embedding_backlog(v.model);
    if (!b) return fail(b.error().message());
    backlog = *b;
  }
  const std::int64_t live = stats->contexts;
  if (as_json) {
    std::string stored = "{";
    for (const auto& [model, n] : *models) {
      stored += (stored.size() > 1 ? "," : "") + json_quote(model) + ":" + std::to_string(n);
    }
    std::cout << "{\"embedder\":" << (v.embedder.empty() ? "null" : json_quote(v.embedder))
              << ",\"model\":" << (v.model.empty() ? "null" : json_quote(v.model))
              << ",\"live_contexts\":" << live
              << ",\"current\":" << (v.model.empty() ? 0 : live - backlog)
              << ",\"backlog\":" << (v.model.empty() ? "null" : std::to_string(backlog))
              << ",\"stored\":" << stored << "}}\n";
    return kExitOk;
  }
  if (v.model.empty()) {
    std::cout << "embedder: none configured (semantic selection is off)\n";
  } else {
    std::cout << "embedder: " << v.embedder << ", model " << v.model << "\n"
              << "current: " << live - backlog << " of " << live << " live contexts\n"
              << "backlog: " << backlog << "\n";
  }
  std::cout << "stored vectors by model:";
  if (models->empty()) std::cout << " none";
  for (const auto& [model, n] : *models) std::cout << " " << model << " " << n << ";";
  std::cout << "\n";
  return kExitOk;
}

int run_embeddings_rebuild(const CommonOptions& opts, bool all) {
  auto v = open_vectors(opts);
  if (v.exit_code != kExitOk) return v.exit_code;
  if (!all && v.model.empty()) {
    return fail("no embedder is configured: say --all to drop the vectors of every model",
                kExitUsage);
  }
  auto dropped = v.vectors->drop_vectors(all ? "" : v.model);
  if (!dropped) return fail(dropped.error().message());
  std::cout << "dropped " << *dropped << " vector(s) of "
            << (all ? std::string("every model") : "model " + v.model)
            << "; running servers embed them again from the stored contexts\n";
  return kExitOk;
}

}  // namespace ctxmgr::kernel
