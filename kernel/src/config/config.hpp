#pragma once
// The kernel's view of ctxmgr.yaml after it was read and checked. Plugin options stay as YAML
// nodes here: they are checked against each plugin's own option table when the plugin is loaded,
// so their errors carry the same file:line:column.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/environment.hpp"
#include "config/yaml_source.hpp"
#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::kernel {

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn (warning), error, off
  std::string format = "text";  // text | json
  std::string file;             // empty: stderr
};

// One configured plugin instance (`storage:`, `embedder:` or an item of `selectors:`,
// `providers:`, `transports:`).
struct PluginEntry {
  sdk::Kind kind = sdk::Kind::storage;
  std::string plugin;  // the plugin's declared name; its file is <kind>-<plugin>.so
  std::string name;    // the instance name, unique per kind (default: plugin)
  std::optional<std::filesystem::path> path;  // an explicit file instead of the search
  bool required = true;
  bool enabled = true;    // `enabled: false` (or empty): left out, as if not written
  YAML::Node options;     // may be null
  YAML::Node node;        // the entry itself, for positions
  std::string yaml_path;  // "storage", "selectors[1]"
};

// Settings of the kernel's context service.
struct ServiceConfig {
  std::int64_t max_json_depth = 64;  // deeper request bodies are 400
  std::string auth = "trust";        // trust | token
  double rate_limit_per_second = 0;  // per agent; 0: no limit
  double rate_limit_burst = 0;       // 0: one second's worth (at least 1)
  // How long a cached token, agent or grant may be used at most (core/access_cache.hpp); the
  // storage's access epoch drops it sooner on any change. 0: no cache.
  std::int64_t access_cache_ttl_ms = 10000;
  // Contexts read by id, kept in memory when the storage reports changes across servers
  // (core/context_cache.hpp): the longest use of one, and the bytes of documents held.
  // Either 0: no cache.
  std::int64_t context_cache_ttl_ms = 10000;
  std::int64_t context_cache_max_bytes = 32 << 20;
  // Group commit (service/group_commit.hpp): changes per shared transaction (0: each alone; at
  // most 64, PostgreSQL's cached subtransactions), how long a leader waits for more, and how many
  // batches run at once.
  std::int64_t group_commit_max_batch = 32;
  std::int64_t group_commit_max_wait_us = 0;
  std::int64_t group_commit_lanes = 2;
};

// The audit log.
struct AuditConfig {
  std::string reads = "off";             // off | sync | batch: are read, history, list audited?
  std::int64_t seal_interval_ms = 1000;  // how often the background sealer extends the chain
  std::int64_t batch_interval_ms = 200;  // batch: how often queued read events are written
  std::int64_t batch_capacity = 10000;   // batch: a full queue is written at once
  // The chain's HMAC keys (docs/audit.md): a file kept outside the database, made (mode 0600)
  // at the first start when missing; empty: $CTXMGR_AUDIT_KEY, else the chain is unkeyed.
  std::string key_file;
  // The signed checkpoint (latest sealed seq and chain head) kept outside the database; empty:
  // beside the key file as audit.checkpoint (none without a key file).
  std::string checkpoint_file;
  // Failed authentications: the first of each window is recorded at once, the rest of that
  // window as one event with their count.
  std::int64_t auth_failure_window_ms = 10000;
};

// Selection (docs/selection.md). Weights and names refer to configured selector instances.
struct SelectionConfig {
  std::string default_selector = "hybrid";
  // hybrid's components; unset: keyword 0.7, recency 0.1, priority 0.2 for those configured.
  std::optional<std::vector<std::pair<std::string, double>>> hybrid;
  std::int64_t candidates = 100;
  double chars_per_token = 4.0;
  std::int64_t translations_per_word = 2;
  // dictd dictionaries (path without .index/.dict.dz); unset: Debian's FreeDict spa-eng and
  // eng-spa when installed.
  std::optional<std::vector<std::filesystem::path>> dictionaries;
  // Apertium bilingual dictionaries as lttoolbox compiles them (.autobil.bin); unset: Debian's
  // apertium-eng-spa when installed.
  std::optional<std::vector<std::filesystem::path>> apertium;
  std::string fusion = "weighted";  // weighted | rank (reciprocal rank fusion)
  // Pseudo-relevance feedback (selection/feedback.hpp).
  bool feedback_enabled = true;
  std::int64_t feedback_docs = 3;
  std::int64_t feedback_terms = 4;
  std::int64_t feedback_min_docs = 2;
  double feedback_weight = 0.5;
  // Synonyms from MyThes thesauri (selection/thesaurus.hpp): whether requests ask for them by
  // default, how many a word, and the files (unset: Debian's mythes-es and mythes-en-us when
  // enabled, none otherwise; set: loaded, for requests that ask).
  bool thesaurus_enabled = false;
  std::int64_t thesaurus_per_word = 2;
  std::optional<std::vector<std::filesystem::path>> thesaurus_files;
  YAML::Node node;  // for positions in errors found later (unknown selector names)
};

// The embedding worker (docs/semantic.md), active when an `embedder:` is configured.
struct EmbeddingsConfig {
  std::int64_t batch_size = 32;         // contexts claimed and embedded per request to the embedder
  std::int64_t interval_ms = 10000;     // how often the worker looks for versions without a vector
  std::int64_t retry_ms = 10000;        // a claim's lease: a failed batch is tried again after it
  std::int64_t reload_ms = 5000;        // how often the in-memory index reads what was stored since
  std::int64_t reconcile_ms = 600000;   // how often it reads every vector again
  std::int64_t cool_down_ms = 10000;    // after a failed query embedding, selection stays lexical
                                        // this long without asking the embedder
  std::int64_t settle_ms = 200;         // a pass waits this long before claiming (writes in bursts)
  std::int64_t hnsw_threshold = 20000;  // vectors from which an HNSW graph answers; 0: exact
  std::int64_t hnsw_ef_search = 200;    // candidates a graph search keeps
};

// Claude's memory tool (docs/memory-tool.md).
struct MemoryConfig {
  std::int64_t max_steps = 8;  // model calls a server-run loop makes at most (process "memory")
};

// The change feed (docs/events.md).
struct EventsConfig {
  bool enabled = true;
  std::int64_t max_streams = 1000;          // open event streams in all
  std::int64_t max_streams_per_agent = 16;  // open event streams of one agent
  std::int64_t buffer_bytes = 1 << 20;      // events waiting for one stream's client, at most
  std::int64_t stall_ms = 30000;  // a full buffer not read from for this long ends the stream
  std::int64_t poll_ms = 250;     // how often changes made by other servers are looked for
};

// Webhooks (docs/events.md: Webhooks): the change feed POSTed to URLs agents register.
struct WebhooksConfig {
  bool enabled = true;  // with events.enabled and a storage that keeps webhooks
  std::int64_t max_per_agent = 20;
  std::int64_t timeout_ms = 10000;      // one POST, connection included
  std::int64_t retry_min_ms = 1000;     // backoff after the first failure, doubling
  std::int64_t retry_max_ms = 300000;   // up to this
  std::int64_t lease_ms = 30000;        // a server that stops renewing loses its webhooks after it
  std::int64_t workers = 4;             // POSTs under way at once on this server
  // Where deliveries may go (SSRF): URL schemes, host names (empty: any; "*.example.com"), and
  // networks refused whatever the host (link-local and cloud metadata addresses by default).
  std::vector<std::string> schemes{"http", "https"};
  std::vector<std::string> hosts;
  // Link-local (where the cloud metadata services answer) and the metadata addresses outside it
  // (AWS's IPv6 one, Alibaba's). A list in the YAML replaces this one.
  std::vector<std::string> denied_networks{"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                                           "100.100.100.200/32"};
};

struct Config {
  std::filesystem::path file;
  LogConfig log;
  ServiceConfig service;
  AuditConfig audit;
  SelectionConfig selection;
  EmbeddingsConfig embeddings;
  MemoryConfig memory;
  EventsConfig events;
  WebhooksConfig webhooks;
  std::vector<std::filesystem::path> plugin_paths;
  std::vector<PluginEntry> plugins;  // storage, embedder, selectors, providers, transports
};

// Reads and checks a config file. Interpolation uses `env`, which must outlive the returned
// source (plugin options are interpolated later, when they are validated).
struct LoadedConfig {
  Config config;
  std::shared_ptr<YamlSource> source;
};
sdk::Result<LoadedConfig> load_config(const std::filesystem::path& file, const Environment& env);
// The same from text, for tests; `file` is only the name used in messages.
sdk::Result<LoadedConfig> parse_config(std::string_view text, const std::string& file,
                                       const Environment& env);

}  // namespace ctxmgr::kernel
