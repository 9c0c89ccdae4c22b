// ctxmgr serve: load, configure, start (transports last); on SIGINT/SIGTERM stop (transports
// first, so they stop accepting and drain), destroy, unload.

#include <csignal>
#include <iostream>

#include "audit/audit_chain.hpp"
#include "cli/commands.hpp"
#include "cli/selection_setup.hpp"
#include "ctxmgr/sdk/provider.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/transport.hpp"
#include "embedding/embedding_worker.hpp"
#include "events/event_hub.hpp"
#include "events/webhook_dispatcher.hpp"
#include "log/logging.hpp"
#include "plugin/registry.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

namespace {

// Block the stop signals before any thread exists, so every thread inherits the mask and the
// main thread alone receives them through sigwait.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // not a stop: reopens the log file (logrotate)
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

int serve(const Config& config, const YamlSource& source, const Environment& env,
          sigset_t stop_signals);

}  // namespace

int run_serve(const CommonOptions& opts) {
  const sigset_t stop_signals = block_stop_signals();
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    return kExitUsage;
  }
  return serve(boot->loaded.config, *boot->loaded.source, *boot->env, stop_signals);
}

int run_mcp(const CommonOptions& opts) {
  const sigset_t stop_signals = block_stop_signals();
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    return kExitUsage;
  }
  // The configured transports stay off: this process speaks MCP on its stdio, as the client's
  // child, with the identity the client gave it through the environment.
  Config config = boot->loaded.config;
  std::erase_if(config.plugins,
                [](const PluginEntry& e) { return e.kind == sdk::Kind::transport; });
  PluginEntry mcp;
  mcp.kind = sdk::Kind::transport;
  mcp.plugin = "mcp";
  mcp.name = "mcp";
  mcp.yaml_path = "mcp";
  YAML::Node options(YAML::NodeType::Map);
  options["mode"] = "stdio";
  options["server_version"] = CTXMGR_VERSION_TEXT;
  const auto agent = boot->env->get("CTXMGR_AGENT");
  const auto token = boot->env->get("CTXMGR_TOKEN");
  if (agent) options["agent"] = *agent;
  if (token) options["token"] = *token;
  mcp.options = options;
  mcp.node = options;
  config.plugins.push_back(mcp);
  return serve(config, *boot->loaded.source, *boot->env, stop_signals);
}

namespace {

int serve(const Config& config, const YamlSource& source, const Environment& env,
          sigset_t stop_signals) {
  if (auto st = configure_logging(config.log); !st) {
    std::cerr << "ctxmgr: " << st.error().message() << "\n";
    return kExitUsage;
  }
  auto& log = kernel_log();
  log.info("ctxmgr " CTXMGR_VERSION_TEXT " starting with {}", config.file.string());

  MetricsRegistry metrics;
  Registry registry(metrics);
  registry.load(config, source);
  if (!registry.ok()) {
    log.error("a required plugin failed to load; not starting");
    return kExitUsage;
  }
  // Storage first: open, bring the schema up to date, then build the service on it.
  auto storages = registry.of_kind<sdk::Storage>(sdk::Kind::storage);
  SystemClock clock;  // outlives everything below that reads the time, however this returns
  std::unique_ptr<AuditBatcher> batcher;
  std::unique_ptr<RateLimiter> rate_limiter;  // outlives the service that points to it
  std::unique_ptr<AccessCache> access;        // outlives the service and the process engine
  std::unique_ptr<GroupCommit> group_commit;  // outlives the service
  // Semantic selection's parts outlive the selection engine and the service that use them.
  std::unique_ptr<VectorIndex> vector_index;
  std::unique_ptr<SemanticSearch> semantic;
  std::unique_ptr<EmbeddingWorker> embedding;   // nudged by the service after each change
  std::unique_ptr<EventHub> events;             // woken by the service after each change
  std::unique_ptr<WebhookDispatcher> webhooks;  // follows `events`; stops before it
  // The storage stops calling the hub before the hub goes, whichever way this function returns.
  struct ChangeWakeGuard {
    sdk::StorageChangeWake* storage = nullptr;
    ~ChangeWakeGuard() {
      if (storage != nullptr) storage->set_change_wake({});
    }
  } change_wake;
  std::unique_ptr<ContextService> service;
  std::unique_ptr<SelectionEngine> selection;
  std::unique_ptr<ProcessEngine> processing;
  if (auto st = registry.start(sdk::Kind::storage); !st) {
    log.error("{}", st.error().message());
    return kExitFailure;
  }
  // The embedder's vectors live beside the contexts: the storage must keep them.
  const auto embedders = registry.of_kind<sdk::Embedder>(sdk::Kind::embedder);
  if (!embedders.empty() && registry.storage_vectors() == nullptr) {
    log.error(
        "refusing to start: an embedder is configured but the storage plugin keeps no "
        "vectors (it lacks the vector capability of SDK ABI 1.8)");
    return kExitUsage;
  }
  // The audit chain's keys and checkpoint, from outside the database (made at the first start).
  auto trust = load_audit_trust(config.audit, env, true);
  if (!trust) {
    log.error("{}", trust.error().message());
    return kExitUsage;
  }
  if (trust->keys.empty()) {
    log.warn(
        "the audit chain is unkeyed (no audit.key_file nor CTXMGR_AUDIT_KEY): whoever can "
        "write the database can rewrite it unseen (docs/audit.md)");
  } else if (trust->checkpoint_file.empty()) {
    log.warn(
        "no audit.checkpoint_file: a cut or wiped audit log would not be found (set one beside "
        "CTXMGR_AUDIT_KEY; docs/audit.md)");
  }
  if (!storages.empty()) {
    auto applied = storages[0].second->migrate();
    if (!applied) {
      log.error("schema migration failed: {}", applied.error().message());
      return kExitFailure;
    }
    access = std::make_unique<AccessCache>(
        *storages[0].second, registry.storage_access_epoch(),
        AccessCache::Settings{std::chrono::milliseconds(config.service.access_cache_ttl_ms)});
    if (registry.storage_access_epoch() == nullptr) {
      log.info(
          "the storage has no access epoch (ABI < 1.4): tokens and grants are read per request");
    }
    ServiceSettings settings;
    settings.context_changes = registry.storage_context_changes();
    settings.memory_files = registry.storage_memory_files();
    settings.erasure = registry.storage_erasure();
    settings.received_grants = registry.storage_received_grants();
    settings.read_routing = registry.storage_read_routing();
    settings.context_cache =
        ContextCache::Settings{std::chrono::milliseconds(config.service.context_cache_ttl_ms),
                               static_cast<std::size_t>(config.service.context_cache_max_bytes)};
    if (auto* batch = registry.storage_batch();
        batch != nullptr && config.service.group_commit_max_batch > 0) {
      group_commit = std::make_unique<GroupCommit>(
          *storages[0].second, *batch,
          GroupCommit::Settings{static_cast<std::size_t>(config.service.group_commit_max_batch),
                                std::chrono::microseconds(config.service.group_commit_max_wait_us),
                                static_cast<std::size_t>(config.service.group_commit_lanes)});
      settings.group_commit = group_commit.get();
    }
    settings.max_json_depth = static_cast<std::size_t>(config.service.max_json_depth);
    const double rate = config.service.rate_limit_per_second;
    rate_limiter = std::make_unique<RateLimiter>(
        rate, config.service.rate_limit_burst > 0 ? config.service.rate_limit_burst : rate);
    if (rate_limiter->enabled()) settings.rate_limiter = rate_limiter.get();
    settings.auth = config.service.auth == "token" ? AuthMode::token : AuthMode::trust;
    settings.audit_trust = &*trust;
    settings.read_audit = config.audit.reads == "sync"    ? ReadAudit::sync
                          : config.audit.reads == "batch" ? ReadAudit::batch
                                                          : ReadAudit::off;
    if (settings.read_audit == ReadAudit::batch) {
      batcher = std::make_unique<AuditBatcher>(
          *storages[0].second, registry.storage_batch(),
          std::chrono::milliseconds(config.audit.batch_interval_ms),
          static_cast<std::size_t>(config.audit.batch_capacity), &metrics);
      batcher->start();
      settings.batcher = batcher.get();
    }
    // With an embedder, the worker keeps the vectors (nudged by every change) in `index`, and
    // selection searches them. The worker starts with the plugins, below.
    if (!embedders.empty()) {
      vector_index = std::make_unique<VectorIndex>(
          VectorIndexSettings{static_cast<std::size_t>(config.embeddings.hnsw_threshold),
                              static_cast<std::size_t>(config.embeddings.hnsw_ef_search)});
      semantic = std::make_unique<SemanticSearch>(
          *embedders[0].second, *registry.storage_vectors(), *vector_index, clock,
          std::chrono::milliseconds(config.embeddings.cool_down_ms));
      embedding = std::make_unique<EmbeddingWorker>(
          *registry.storage_vectors(), registry.storage_vector_changes(), *embedders[0].second,
          *vector_index, metrics, clock,
          EmbeddingWorkerSettings{static_cast<std::size_t>(config.embeddings.batch_size),
                                  std::chrono::milliseconds(config.embeddings.interval_ms),
                                  std::chrono::milliseconds(config.embeddings.retry_ms),
                                  std::chrono::milliseconds(config.embeddings.reload_ms),
                                  std::chrono::milliseconds(config.embeddings.reconcile_ms),
                                  std::chrono::milliseconds(config.embeddings.settle_ms)});
      settings.embedding = embedding.get();
    }
    auto engine = build_selection(config, source, registry, clock, semantic.get());
    if (!engine) {
      log.error("{}", engine.error().message());
      return kExitUsage;
    }
    selection = std::move(*engine);
    settings.selection = selection.get();
    processing = std::make_unique<ProcessEngine>(
        *access, selection.get(), registry.of_kind<sdk::Provider>(sdk::Kind::provider),
        registry.provider_tools(), config.memory.max_steps);
    settings.processing = processing.get();
    settings.auth_failure_window = std::chrono::milliseconds(config.audit.auth_failure_window_ms);
    if (config.events.enabled) {
      const auto& ec = config.events;
      events = std::make_unique<EventHub>(
          *storages[0].second, *access, metrics,
          EventHubSettings{static_cast<std::size_t>(ec.max_streams),
                           static_cast<std::size_t>(ec.max_streams_per_agent),
                           static_cast<std::size_t>(ec.buffer_bytes),
                           std::chrono::milliseconds(ec.stall_ms),
                           std::chrono::milliseconds(ec.poll_ms)});
      events->start();
      // Another server's change wakes the feed at once (else it finds it at its next poll).
      if (auto* wake = registry.storage_change_wake()) {
        wake->set_change_wake([hub = events.get()] { hub->wake(); });
        change_wake.storage = wake;
      }
      settings.events = events.get();
      if (auto* store = registry.storage_webhooks(); store != nullptr && config.webhooks.enabled) {
        const auto& wc = config.webhooks;
        WebhookSettings ws;
        ws.policy.schemes = wc.schemes;
        ws.policy.hosts = wc.hosts;
        for (const auto& n : wc.denied_networks) ws.policy.denied.push_back(*parse_network(n));
        ws.timeout = std::chrono::milliseconds(wc.timeout_ms);
        ws.retry_min = std::chrono::milliseconds(wc.retry_min_ms);
        ws.retry_max = std::chrono::milliseconds(wc.retry_max_ms);
        ws.lease = std::chrono::milliseconds(wc.lease_ms);
        ws.workers = static_cast<std::size_t>(wc.workers);
        webhooks = std::make_unique<WebhookDispatcher>(*store, *events, *access, metrics, clock,
                                                       std::move(ws));
        webhooks->start();
        settings.webhooks = store;
        settings.webhook_dispatcher = webhooks.get();
        settings.webhooks_per_agent = static_cast<std::size_t>(wc.max_per_agent);
      } else if (config.webhooks.enabled) {
        log.info("webhooks are off: the storage keeps no webhooks (it lacks SDK ABI 1.12's)");
      }
    }
    service = std::make_unique<ContextService>(*access, metrics, clock, settings);
  }
  auto transports = registry.of_kind<sdk::Transport>(sdk::Kind::transport);
  // Trust mode believes a header: only for callers on this machine.
  if (config.service.auth == "trust") {
    for (auto& [name, transport] : transports) {
      if (!transport->loopback_only()) {
        log.error(
            "refusing to start: service.auth is trust (identity from the X-Agent-Id "
            "header) but transport '{}' listens on {}, which is not a loopback address; "
            "set service.auth: token, or listen on 127.0.0.1",
            name, transport->endpoint());
        return kExitUsage;
      }
    }
  }
  if (!transports.empty() && !service) {
    log.error("transports are configured but no storage is: configure `storage:`");
    return kExitUsage;
  }
  for (auto& [name, transport] : transports) transport->attach(*service);
  // The audit chain grows in the background, apart from the writes.
  std::unique_ptr<AuditSealer> sealer;
  if (!storages.empty()) {
    sealer = std::make_unique<AuditSealer>(*storages[0].second, *trust,
                                           std::chrono::milliseconds(config.audit.seal_interval_ms),
                                           metrics);
    sealer->start();
  }
  // Failed authentications folded per window are audited as each window ends.
  std::unique_ptr<Periodic> auth_failures;
  if (service) {
    auth_failures =
        std::make_unique<Periodic>("the folding of failed authentications",
                                   std::chrono::milliseconds(config.audit.auth_failure_window_ms),
                                   [s = service.get()] { s->flush_auth_failures(false); });
    auth_failures->start();
  }
  // Event streams end first (each with what it holds), then transports drain, then the last
  // seals, then the rest: after a stop signal, and when a plugin failed to start (a transport
  // whose port is taken) with the webhooks, seals and batches already running.
  auto stop_in_order = [&] {
    if (webhooks) webhooks->stop();
    if (events) events->stop();
    registry.stop(sdk::Kind::transport);
    if (auth_failures) {
      auth_failures->stop();
      service->flush_auth_failures(true);
    }
    if (embedding) embedding->stop();
    if (batcher) batcher->stop();
    if (sealer) sealer->stop();
    registry.stop_all();
  };
  // Then selectors, providers and the embedder, and transports last: they accept requests at once.
  if (auto st = registry.start_all(); !st) {
    log.error("{}", st.error().message());
    stop_in_order();
    return kExitFailure;
  }
  if (embedding) {
    embedding->start();
    log.info("embedding with '{}' (model {}) in the background", embedders[0].first,
             embedders[0].second->model_id());
  }
  log.info("ready: {} plugin instance(s) started", registry.size());

  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    if (reopen_log_file()) {
      log.info("received SIGHUP: log file reopened");
    } else {
      log.error("received SIGHUP: cannot reopen the log file; still writing to the old one");
    }
  }
  log.info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  stop_in_order();
  log.info("stopped");
  return kExitOk;
}

}  // namespace

}  // namespace ctxmgr::kernel
