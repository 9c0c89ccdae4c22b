#pragma once
// The ctxmgr commands. Each returns the process exit code (see bootstrap.hpp).

#include <string>

#include "cli/bootstrap.hpp"

namespace ctxmgr::kernel {

int run_serve(const CommonOptions& opts);
// MCP on stdio: identity from CTXMGR_TOKEN (token mode) or CTXMGR_AGENT (trust mode).
int run_mcp(const CommonOptions& opts);
int run_config_check(const CommonOptions& opts);
int run_config_show(const CommonOptions& opts);
int run_plugins_list(const CommonOptions& opts, bool as_json);
int run_plugins_describe(const CommonOptions& opts, const std::string& name);
struct AgentCommand {
  std::string action;  // create | list | disable | rotate-token
  std::string agent_id;
  std::string role = "agent";
  std::string name;
};
int run_agent(const CommonOptions& opts, const AgentCommand& cmd);

int run_stats(const CommonOptions& opts, bool as_json);

// action: verify | seal
int run_audit(const CommonOptions& opts, const std::string& action);
// Prints "ctxmgr: <message>" to stderr and returns `code`: how a command ends on an error.
int fail(const std::string& message, int code = kExitFailure);
// Retention (retention_commands.cpp): `before` is an RFC 3339 time.
int run_audit_prune(const CommonOptions& opts, const std::string& before);
int run_selections_prune(const CommonOptions& opts, const std::string& before);

struct BackupCommand {
  std::string out;       // --out FILE
  std::string to;        // --to s3://bucket/key
  std::string endpoint;  // --endpoint-url (else from the environment)
};
int run_backup(const CommonOptions& opts, const BackupCommand& cmd);
struct RestoreCommand {
  std::string source;  // a file or s3://bucket/key
  bool replace = false;
  std::string endpoint;
  bool trust_unsigned = false;  // accept a backup no audit key here can authenticate
};
int run_restore(const CommonOptions& opts, const RestoreCommand& cmd);

// action: init | migrate | status | check
int run_db(const CommonOptions& opts, const std::string& action);

// The vectors of semantic selection (embeddings_commands.cpp).
int run_embeddings_status(const CommonOptions& opts, bool as_json);
// Drops the configured model's vectors (every model's with `all`) to be made again.
int run_embeddings_rebuild(const CommonOptions& opts, bool all);

}  // namespace ctxmgr::kernel
