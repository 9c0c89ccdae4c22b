// A storage whose every method throws (issue 19: the one boundary). With `start_healthy` (the
// default) the server can start — migrate and schema_status answer — and every request
// that reaches the store meets an exception; without it, migrate throws too. The kernel must turn
// each into a logged `internal` error with the request id, on every transport and in every
// background thread, and never let one unwind into a thread it does not own.

#include <stdexcept>
#include <string>

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

[[noreturn]] void boom(const char* method) {
  throw std::runtime_error(std::string("the throwing test storage throws from ") + method);
}

class ThrowingStorage final : public sdk::Storage {
 public:
  ThrowingStorage(sdk::Host&, const sdk::Options& options)
      : healthy_start_(options.get_bool("start_healthy", true)) {}

  sdk::Result<std::unique_ptr<sdk::Transaction>> begin() override { boom("begin"); }
  sdk::Result<std::optional<sdk::ContextRow>> get(std::string_view) override { boom("get"); }
  sdk::Result<std::optional<sdk::HistoryRow>> get_version(std::string_view, std::int64_t) override {
    boom("get_version");
  }
  sdk::Result<std::vector<sdk::HistoryRow>> history(std::string_view, std::int64_t,
                                                    std::int64_t) override {
    boom("history");
  }
  sdk::Result<std::vector<sdk::ContextRow>> list(const sdk::ListQuery&) override { boom("list"); }
  sdk::Result<std::vector<sdk::AuditEvent>> audit(const sdk::AuditQuery&) override {
    boom("audit");
  }
  sdk::Result<std::vector<sdk::AuditEvent>> audit_range(std::int64_t, std::int64_t,
                                                        std::int64_t) override {
    boom("audit_range");
  }
  sdk::Result<std::int64_t> audit_horizon() override { boom("audit_horizon"); }
  sdk::Result<std::vector<sdk::AuditSeal>> seals(std::int64_t, std::int64_t) override {
    boom("seals");
  }
  sdk::Result<std::optional<sdk::AgentRow>> get_agent(std::string_view) override {
    boom("get_agent");
  }
  sdk::Result<std::vector<sdk::AgentRow>> list_agents(std::string_view, std::int64_t) override {
    boom("list_agents");
  }
  sdk::Result<std::optional<sdk::AgentRow>> agent_by_token(std::string_view) override {
    boom("agent_by_token");
  }
  sdk::Result<std::vector<sdk::GrantRow>> grants(sdk::GrantScope, std::string_view) override {
    boom("grants");
  }
  sdk::Result<std::vector<std::string>> permissions(std::string_view, std::string_view,
                                                    std::string_view) override {
    boom("permissions");
  }
  sdk::Result<sdk::StoreStats> stats() override { boom("stats"); }
  sdk::Status ping() override { boom("ping"); }
  sdk::Result<sdk::SchemaStatus> schema_status() override {
    if (!healthy_start_) boom("schema_status");
    return sdk::SchemaStatus{};
  }
  sdk::Result<std::vector<std::string>> migrate() override {
    if (!healthy_start_) boom("migrate");
    return std::vector<std::string>{};
  }

 private:
  bool healthy_start_;
};

constexpr ctxmgr_option_spec kOptions[] = {
    {.name = "start_healthy",
     .type = CTXMGR_OPT_BOOLEAN,
     .flags = 0,
     .default_json = "true",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "migrate and schema_status answer; false: they throw too"},
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::storage, "throwing", "1.0.0",
              "a test storage that throws from every method", ThrowingStorage, kOptions)
