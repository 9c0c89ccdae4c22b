#pragma once
// A real `ctxmgr serve` for end-to-end tests: its own temporary folder, config and free port,
// on SQLite or (when CTXMGR_TEST_PG_DSN is set) PostgreSQL.

#include <memory>
#include <string>

#include "process.hpp"

namespace ctxmgr::test {

struct ServerOptions {
  std::string backend = "sqlite";  // sqlite | postgres
  std::string http_options;        // extra YAML flow-mapping entries, e.g. "max_body_bytes: 4096"
  std::string storage_options;     // the same for the storage plugin's options
  std::string listen_host = "127.0.0.1";
  std::string service_yaml;  // the `service:` mapping, e.g. "{auth: token}"
  std::string extra_yaml;    // more top-level config, e.g. "audit: {reads: sync}\n"
  // The `selectors:` list (empty for none); the default configuration's three by default.
  std::string selectors_yaml = "[{plugin: keyword}, {plugin: priority}, {plugin: recency}]";
  std::string log_file;  // server.log.file (empty: stderr, which log() reads)
  // The `providers:` list (empty for none).
  std::string providers_yaml = "[{plugin: offline}]";
  std::string pg_dsn;      // postgres: default $CTXMGR_TEST_PG_DSN
  std::string sqlite_dir;  // sqlite: where context.db lives (default: the server's dir)
  std::string pg_schema;   // postgres: default a new schema per Server (share one to
                           // run several servers on one database)
  // The `storage:` block's YAML instead of the backend's, e.g. "  plugin: throwing\n"; with it
  // the suites' own plugins (CTXMGR_E2E_PLUGIN_DIR) are found too.
  std::string storage_yaml;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Starts and waits until /healthz answers; false if it did not come up.
  bool start();
  // SIGTERM and wait; the exit code (of a server that already exited: that one).
  int stop();
  // Whether the process is still there.
  bool running() const;
  // SIGKILL and wait.
  void kill9();
  // Sends a signal and does not wait (SIGHUP).
  void signal(int sig);

  int port() const { return port_; }
  // The options the next start() writes its config from: a restart may run with others (same
  // folder, schema and port).
  ServerOptions& options() { return options_; }
  // The server process, -1 when it is not running.
  int pid() const { return child_ ? child_->pid() : -1; }
  // The config file the server runs with (written by start()).
  std::string config_path() const { return dir_ + "/ctxmgr.yaml"; }
  // Writes the config without starting the server (for CLI commands before the first start).
  void write_config();
  const std::string& dir() const { return dir_; }
  std::string log() const;
  // Direct SQL on the server's database (sqlite3 or psql), to look at or tamper with it.
  ProcessResult sql(const std::string& statements) const;
  // Whether the backend can run here (PostgreSQL needs CTXMGR_TEST_PG_DSN).
  static bool available(const std::string& backend);

 private:
  void report_exit(int rc) const;
  std::string sqlite_dir() const {
    return options_.sqlite_dir.empty() ? dir_ : options_.sqlite_dir;
  }
  ServerOptions options_;
  std::string dir_;
  int port_ = 0;
  std::string schema_;  // postgres: this server's own schema, kept across restarts
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace ctxmgr::test
