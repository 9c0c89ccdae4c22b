// ctxmgr: the Context Manager executable. Parses the command line (CLI11) and runs a command.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/process_hardening.hpp"

int main(int argc, char** argv) {
  using namespace ctxmgr::kernel;
  harden_process();
  CLI::App app{"Context Manager: keeps, shares, versions and selects the context of AI agents"};
  app.set_version_flag("--version", std::string("ctxmgr " CTXMGR_VERSION_TEXT " (SDK ABI ") +
                                        std::to_string(CTXMGR_SDK_ABI_MAJOR) + "." +
                                        std::to_string(CTXMGR_SDK_ABI_MINOR) + ")");
  app.require_subcommand(1);
  CommonOptions opts;
  app.add_option("-c,--config", opts.config,
                 "config file (default: $CTXMGR_CONFIG, ./config/ctxmgr.yaml, "
                 "<prefix>/etc/ctxmgr/ctxmgr.yaml, /etc/ctxmgr/ctxmgr.yaml)");
  app.add_option("--env-file", opts.env_file,
                 "file of KEY=value lines for ${VAR} in the config (default: ./.env if present)");

  int code = kExitOk;
  auto* serve = app.add_subcommand("serve", "run the server until SIGINT or SIGTERM");
  serve->callback([&] { code = run_serve(opts); });

  app.add_subcommand("mcp",
                     "serve MCP on stdin/stdout for one client (identity: CTXMGR_TOKEN or "
                     "CTXMGR_AGENT); logs go to stderr")
      ->callback([&] { code = run_mcp(opts); });

  auto* config = app.add_subcommand("config", "check or show the configuration");
  config->require_subcommand(1);
  config->add_subcommand("check", "load every plugin and validate every option; start nothing")
      ->callback([&] { code = run_config_check(opts); });
  config->add_subcommand("show", "print the effective configuration with secrets redacted")
      ->callback([&] { code = run_config_show(opts); });

  auto* db = app.add_subcommand("db", "the storage's schema and reachability");
  db->require_subcommand(1);
  db->add_subcommand("init", "create the schema (harmless on an existing store)")->callback([&] {
    code = run_db(opts, "init");
  });
  db->add_subcommand("migrate", "apply the pending schema migrations in order")->callback([&] {
    code = run_db(opts, "migrate");
  });
  db->add_subcommand("status", "which migrations are applied and which are pending")->callback([&] {
    code = run_db(opts, "status");
  });
  db->add_subcommand("check", "is the store reachable and at the latest schema? (exit 1 if not)")
      ->callback([&] { code = run_db(opts, "check"); });

  auto* agent = app.add_subcommand("agent", "the agent registry, as the admin");
  agent->require_subcommand(1);
  AgentCommand agent_cmd;
  auto* agent_create =
      agent->add_subcommand("create", "register an agent and print its token once");
  agent_create->add_option("agent_id", agent_cmd.agent_id, "the agent's id")->required();
  agent_create->add_option("--role", agent_cmd.role, "agent or admin")
      ->check(CLI::IsMember({"agent", "admin"}));
  agent_create->add_option("--name", agent_cmd.name, "a display name");
  agent_create->callback([&] {
    agent_cmd.action = "create";
    code = run_agent(opts, agent_cmd);
  });
  agent->add_subcommand("list", "every agent: id, role, active or disabled, name")->callback([&] {
    agent_cmd.action = "list";
    code = run_agent(opts, agent_cmd);
  });
  auto* agent_disable =
      agent->add_subcommand("disable", "disable an agent; its tokens stop at once");
  agent_disable->add_option("agent_id", agent_cmd.agent_id, "the agent's id")->required();
  agent_disable->callback([&] {
    agent_cmd.action = "disable";
    code = run_agent(opts, agent_cmd);
  });
  auto* agent_erase = agent->add_subcommand(
      "erase",
      "remove an agent's contexts, versions, vectors, grants, selection records and "
      "tokens (its audit events stay); print what was removed");
  agent_erase->add_option("agent_id", agent_cmd.agent_id, "the agent's id")->required();
  agent_erase->callback([&] {
    agent_cmd.action = "erase";
    code = run_agent(opts, agent_cmd);
  });
  auto* agent_rotate =
      agent->add_subcommand("rotate-token", "issue a new token; the old one stops");
  agent_rotate->add_option("agent_id", agent_cmd.agent_id, "the agent's id")->required();
  agent_rotate->callback([&] {
    agent_cmd.action = "rotate-token";
    code = run_agent(opts, agent_cmd);
  });

  auto* audit = app.add_subcommand("audit", "the audit log's hash chain");
  audit->require_subcommand(1);
  audit->add_subcommand("verify", "recompute the chain; name the first broken link (exit 1)")
      ->callback([&] { code = run_audit(opts, "verify"); });
  audit->add_subcommand("seal", "seal the committed events now (serve does it in the background)")
      ->callback([&] { code = run_audit(opts, "seal"); });
  audit->add_subcommand("rotate-key", "add a new key to audit.key_file; it seals from now on")
      ->callback([&] { code = run_audit(opts, "rotate-key"); });
  std::string prune_before;
  auto* audit_prune = audit->add_subcommand(
      "prune", "delete the events before the last sealed one older than --before (back up first)");
  audit_prune->add_option("--before", prune_before, "an RFC 3339 time")->required();
  audit_prune->callback([&] { code = run_audit_prune(opts, prune_before); });
  auto* selections = app.add_subcommand("selections", "the selection log");
  selections->require_subcommand(1);
  auto* selections_prune =
      selections->add_subcommand("prune", "delete the selection records made before --before");
  selections_prune->add_option("--before", prune_before, "an RFC 3339 time")->required();
  selections_prune->callback([&] { code = run_selections_prune(opts, prune_before); });

  BackupCommand backup_cmd;
  auto* backup = app.add_subcommand(
      "backup", "write a consistent snapshot of the whole store (while it serves) to a file or S3");
  backup->add_option("--out", backup_cmd.out, "the backup file to write (gzip JSON Lines)");
  backup->add_option("--to", backup_cmd.to, "upload to s3://bucket/key instead");
  backup->add_option("--endpoint-url", backup_cmd.endpoint,
                     "the S3 endpoint (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, AWS)");
  backup->callback([&] { code = run_backup(opts, backup_cmd); });
  RestoreCommand restore_cmd;
  auto* restore = app.add_subcommand(
      "restore", "load a backup (file or s3://bucket/key) into an empty store of any backend");
  restore->add_option("source", restore_cmd.source, "the backup file or s3://bucket/key")
      ->required();
  restore->add_flag("--replace", restore_cmd.replace,
                    "erase a non-empty store first (its audit log included)");
  restore->add_option("--endpoint-url", restore_cmd.endpoint,
                      "the S3 endpoint (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, AWS)");
  restore->add_flag("--trust-unsigned", restore_cmd.trust_unsigned,
                    "accept a backup without a signature an audit key here can check (one made "
                    "without a key); never one whose signature is wrong");
  restore->callback([&] { code = run_restore(opts, restore_cmd); });

  auto* embeddings =
      app.add_subcommand("embeddings", "the vectors of semantic selection (docs/semantic.md)");
  embeddings->require_subcommand(1);
  bool embeddings_json = false;
  auto* emb_status = embeddings->add_subcommand(
      "status", "the embedder's model, how many live contexts have a current vector, the backlog");
  emb_status->add_flag("--json", embeddings_json, "print it as JSON");
  emb_status->callback([&] { code = run_embeddings_status(opts, embeddings_json); });
  bool rebuild_all = false;
  auto* emb_rebuild = embeddings->add_subcommand(
      "rebuild", "drop the configured model's vectors; running servers make them again");
  emb_rebuild->add_flag("--all", rebuild_all, "drop the vectors of every model");
  emb_rebuild->callback([&] { code = run_embeddings_rebuild(opts, rebuild_all); });

  bool stats_json = false;
  auto* stats = app.add_subcommand("stats", "contexts per agent, the latest accesses, totals");
  stats->add_flag("--json", stats_json, "print the JSON of GET /api/stats");
  stats->callback([&] { code = run_stats(opts, stats_json); });

  auto* plugins = app.add_subcommand("plugins", "inspect the plugins in the search paths");
  plugins->require_subcommand(1);
  bool as_json = false;
  auto* list = plugins->add_subcommand(
      "list", "every plugin file found: kind, name, version, ABI, loadable or why not");
  list->add_flag("--json", as_json, "print JSON instead of a table");
  list->callback([&] { code = run_plugins_list(opts, as_json); });
  std::string name;
  auto* describe = plugins->add_subcommand("describe", "a plugin's options as JSON");
  describe->add_option("name", name, "the plugin's name")->required();
  describe->callback([&] { code = run_plugins_describe(opts, name); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // --help and --version are successes; every other parse error is bad usage.
    return rc == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    // The commands' boundary: what a plugin (or the kernel) throws outside a served request —
    // a storage's migrate at start-up, a CLI command's call — ends the command with an error,
    // never with std::terminate.
    std::fprintf(stderr, "ctxmgr: failed with an exception: %s\n", e.what());
    return kExitFailure;
  } catch (...) {
    std::fprintf(stderr, "ctxmgr: failed with an exception that is not a std::exception\n");
    return kExitFailure;
  }
  return code;
}
