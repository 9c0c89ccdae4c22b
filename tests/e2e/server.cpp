#include "server.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "http_client.hpp"
#include "unique_name.hpp"

namespace ctxmgr::test {

bool Server::available(const std::string& backend) {
  if (backend == "sqlite") return true;
  // PostgreSQL runs when the test command started one and its plugin was built.
  return std::getenv("CTXMGR_TEST_PG_DSN") != nullptr &&
         std::filesystem::exists(CTXMGR_PLUGIN_DIR "/storage-postgres.so");
}

Server::Server(ServerOptions options) : options_(std::move(options)), dir_(make_temp_dir()) {
  schema_ = options_.pg_schema.empty() ? unique_name("e2e") : options_.pg_schema;
  if (options_.pg_dsn.empty() && std::getenv("CTXMGR_TEST_PG_DSN") != nullptr) {
    options_.pg_dsn = std::getenv("CTXMGR_TEST_PG_DSN");
  }
}

Server::~Server() {
  child_.reset();
  std::filesystem::remove_all(dir_);
}

void Server::write_config() {
  std::string storage;
  const std::string more = options_.storage_options.empty() ? "" : ", " + options_.storage_options;
  if (!options_.storage_yaml.empty()) {
    storage = options_.storage_yaml;
  } else if (options_.backend == "sqlite") {
    storage = "  plugin: sqlite\n  options: {path: " + sqlite_dir() + "/context.db" + more + "}\n";
  } else {
    storage = "  plugin: postgres\n  options: {url: '" + options_.pg_dsn + "', schema: " + schema_ +
              ", acquire_timeout_ms: 1000, connect_timeout_s: 2" + more + "}\n";
  }
  const std::string http = "listen: " + options_.listen_host + ":" + std::to_string(port_) +
                           (options_.http_options.empty() ? "" : ", " + options_.http_options);
  write_file(
      dir_ + "/ctxmgr.yaml",
      "plugins: {search_paths: [" CTXMGR_PLUGIN_DIR ", " CTXMGR_E2E_PLUGIN_DIR
      "]}\n"
      "server: {log: {level: info" +
          (options_.log_file.empty() ? "" : ", file: " + options_.log_file) + "}}\n" +
          (options_.service_yaml.empty() ? "" : "service: " + options_.service_yaml + "\n") +
          options_.extra_yaml +
          (options_.selectors_yaml.empty() ? "" : "selectors: " + options_.selectors_yaml + "\n") +
          (options_.providers_yaml.empty() ? "" : "providers: " + options_.providers_yaml + "\n") +
          "storage:\n" + storage + "transports:\n  - plugin: http\n    options: {" + http + "}\n");
}

// The first start listens on port 0 and reads the port the server took from its log: a port
// picked here and handed over could be taken meanwhile by a server of a test running beside this
// one, which this test would then talk to. A restart asks for the same port again.
bool Server::start() {
  write_config();
  const std::string log_path = options_.log_file.empty() ? dir_ + "/server.log" : options_.log_file;
  const auto log_size =
      std::filesystem::exists(log_path) ? std::filesystem::file_size(log_path) : 0;
  child_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{CTXMGR_BIN, "--config", dir_ + "/ctxmgr.yaml", "serve"},
      std::map<std::string, std::string>{}, dir_ + "/server.log", dir_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child_->running()) return false;
    if (port_ == 0) {
      const std::string log = read_file(log_path);
      port_ = listening_port(log.size() > log_size ? log.substr(log_size) : std::string());
    }
    if (port_ != 0 && HttpClient(port_).get("/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool Server::running() const { return child_ && child_->running(); }

int Server::stop() {
  if (!child_) return -1;
  child_->signal(SIGTERM);
  const int rc = child_->wait(20000);
  child_.reset();
  if (rc != 0) report_exit(rc);
  return rc;
}

// A server that stops with a signal or an error says why at the end of its log (a sanitizer's
// report, an uncaught exception): printed here, beside the failure it causes, since a whole log
// printed by the test later can be cut short by whoever collects the output.
void Server::report_exit(int rc) const {
  const std::string text = log();
  std::size_t from = text.size();
  for (int lines = 0; lines < 80 && from > 0; ++lines) {
    const auto nl = text.rfind('\n', from - 1);
    if (nl == std::string::npos) {
      from = 0;
      break;
    }
    from = nl;
  }
  std::cerr << "--- the server stopped with " << rc << "; the end of its log ---\n"
            << text.substr(from) << "\n--- end ---\n";
}

void Server::signal(int sig) {
  if (child_) child_->signal(sig);
}

void Server::kill9() {
  if (!child_) return;
  child_->signal(SIGKILL);
  child_->wait(20000);
  child_.reset();
}

std::string Server::log() const { return read_file(dir_ + "/server.log"); }

ProcessResult Server::sql(const std::string& statements) const {
  if (options_.backend == "sqlite") {
    // The server writes all the time (sealer, read audit): wait for its lock like it waits for
    // ours, instead of failing with "database is locked".
    return run_process(
        {"/usr/bin/sqlite3", "-cmd", ".timeout 5000", sqlite_dir() + "/context.db", statements});
  }
  return run_process({"/usr/bin/psql", "-v", "ON_ERROR_STOP=1", "-qAt", options_.pg_dsn, "-c",
                      "SET search_path TO " + schema_ + "; " + statements});
}

}  // namespace ctxmgr::test
