#pragma once
// A ContextApi that answers every call with a small fixed JSON body, for fuzzing what sits in
// front of the kernel (HTTP routing, MCP framing): the fuzzer explores the transport, not storage.

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::fuzz {

class StubContextApi final : public sdk::ContextApi {
 public:
  // `trust`: what identity_from_headers() says (trust mode checks Host and every Origin).
  explicit StubContextApi(bool trust = true) : trust_(trust) {}
  using R = sdk::Result<sdk::ApiResponse>;
  static R ok() { return sdk::ApiResponse{"{\"ok\":true}", 200, 0, {}}; }

  R create_context(const sdk::Caller&, std::string_view) override { return ok(); }
  bool submit_create_context(const sdk::Caller&, std::string_view,
                             sdk::SubmittedDone done) override {
    done(sdk::Submitted{ok(), "fuzz"});
    return true;
  }
  R create_context_once(const sdk::Caller&, std::string_view, std::string_view) override {
    return ok();
  }
  R get_context(const sdk::Caller&, std::string_view, std::optional<std::string_view>) override {
    return ok();
  }
  R patch_context(const sdk::Caller&, std::string_view, std::string_view,
                  std::optional<std::string_view>) override {
    return ok();
  }
  R delete_context(const sdk::Caller&, std::string_view, std::optional<std::string_view>) override {
    return sdk::ApiResponse{"", 204, 0, {}};
  }
  R history(const sdk::Caller&, std::string_view, const sdk::PageParams&) override { return ok(); }
  R revert_context(const sdk::Caller&, std::string_view, std::string_view) override { return ok(); }
  R list_contexts(const sdk::Caller&, std::string_view, const sdk::PageParams&) override {
    return ok();
  }
  R create_agent(const sdk::Caller&, std::string_view) override { return ok(); }
  R list_agents(const sdk::Caller&, const sdk::PageParams&) override { return ok(); }
  R get_agent(const sdk::Caller&, std::string_view) override { return ok(); }
  R rotate_token(const sdk::Caller&, std::string_view) override { return ok(); }
  R disable_agent(const sdk::Caller&, std::string_view) override { return ok(); }
  R me(const sdk::Caller&) override { return ok(); }
  R put_grant(const sdk::Caller&, sdk::GrantScope, std::string_view, std::string_view) override {
    return ok();
  }
  R list_grants(const sdk::Caller&, sdk::GrantScope, std::string_view) override { return ok(); }
  R delete_grant(const sdk::Caller&, sdk::GrantScope, std::string_view, std::string_view) override {
    return ok();
  }
  R audit_events(const sdk::Caller&, const sdk::AuditParams&) override { return ok(); }
  R audit_verify(const sdk::Caller&) override { return ok(); }
  R stats(const sdk::Caller&) override { return ok(); }
  sdk::Status ready() override { return {}; }
  bool identity_from_headers() const override { return trust_; }
  std::string authenticated_agent(std::string_view) const override { return {}; }
  std::string metrics_text() override { return "# none\n"; }
  R select_contexts(const sdk::Caller&, std::string_view, std::string_view) override {
    return ok();
  }
  R get_selection(const sdk::Caller&, std::string_view) override { return ok(); }
  R list_selections(const sdk::Caller&, std::string_view, const sdk::PageParams&) override {
    return ok();
  }
  R process(const sdk::Caller&, std::string_view, std::string_view,
            sdk::ProcessStream& stream) override {
    if (stream.begin()) stream.event("done", "{}");
    return ok();
  }
  // The typed calls (SDK 1.6).
  sdk::Result<std::string> whoami(const sdk::Caller&) override { return std::string("fuzz"); }
  R read_context(const sdk::Caller&, std::string_view, std::optional<std::int64_t>) override {
    return ok();
  }
  R update_context(const sdk::Caller&, std::string_view, std::string_view,
                   std::optional<std::int64_t>) override {
    return ok();
  }
  R context_history(const sdk::Caller&, std::string_view, const sdk::TypedPage&) override {
    return ok();
  }
  R agent_contexts(const sdk::Caller&, std::string_view, const sdk::TypedPage&) override {
    return ok();
  }
  sdk::Result<sdk::ContextPage> agent_context_rows(const sdk::Caller&, std::string_view,
                                                   const sdk::TypedPage&) override {
    sdk::ContextPage page;
    page.items.push_back(sdk::ContextRow{"01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10", "fuzz", "{}", "{}",
                                         1, 0, 0, "fuzz", "fuzz", false});
    page.next_cursor = "0.01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10";
    return page;
  }
  // SDK 1.7.
  R refuse(const sdk::Caller&, std::string_view, sdk::Error error) override { return error; }
  R memory_command(const sdk::Caller&, std::string_view, std::string_view) override { return ok(); }
  R list_memory_files(const sdk::Caller&, std::string_view, std::string_view,
                      const sdk::PageParams&) override {
    return ok();
  }
  R redact_version(const sdk::Caller&, std::string_view, std::string_view) override { return ok(); }
  R erase_agent(const sdk::Caller&, std::string_view) override { return ok(); }
  // The feed is refused here: a stream would outlive the one input the fuzzer gives.
  sdk::Result<std::unique_ptr<sdk::EventStream>> open_events(const sdk::Caller&,
                                                             const sdk::EventParams&) override {
    return sdk::Error(sdk::Errc::unavailable, "no feed in the fuzzer");
  }
  R create_webhook(const sdk::Caller&, std::string_view) override { return ok(); }
  R list_webhooks(const sdk::Caller&) override { return ok(); }
  R get_webhook(const sdk::Caller&, std::string_view) override { return ok(); }
  R delete_webhook(const sdk::Caller&, std::string_view) override { return ok(); }
  R webhook_deliveries(const sdk::Caller&, std::string_view, const sdk::PageParams&) override {
    return ok();
  }
  R list_received_grants(const sdk::Caller&, std::string_view, const sdk::PageParams&) override {
    return ok();
  }
  sdk::Status set_consistency(std::string_view) override { return {}; }
  std::string consistency() override { return {}; }
  std::vector<sdk::ReplicaState> read_replicas() override { return {}; }
  void set_received_at(std::chrono::steady_clock::time_point) override {}

 private:
  bool trust_;
};

// Host services that drop everything.
class QuietHost final : public sdk::Host, sdk::Logger, sdk::Metrics, sdk::Clock {
 public:
  sdk::Logger& log() override { return *this; }
  sdk::Metrics& metrics() override { return *this; }
  sdk::Clock& clock() override { return *this; }
  std::string_view instance_name() const override { return "fuzz"; }
  void log(sdk::LogLevel, std::string_view) override {}
  bool enabled(sdk::LogLevel) const override { return false; }
  void counter_add(std::string_view, std::string_view, double) override {}
  void gauge_set(std::string_view, std::string_view, double) override {}
  void observe(std::string_view, std::string_view, double) override {}
  std::int64_t now_us() const override { return 1'800'000'000'000'000; }
  std::int64_t steady_ns() const override { return 0; }
};

}  // namespace ctxmgr::fuzz
