// MCP on the kernel's typed calls (ABI 1.6): versions, expected versions and limits travel as
// numbers, a wrong type is named in the tool's error, the kernel's range checks answer the rest,
// and resources/list pages through rows (100 a page, then nextCursor), on SQLite and PostgreSQL.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "mcp_over_http.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class McpTyped : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    ct::ServerOptions o;
    o.backend = GetParam();
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
    headers_ = ct::mcp_headers({{"X-Agent-Id", "ana"}});
    auto init = client_->post("/mcp", ct::kMcpInitialize, headers_);
    ASSERT_EQ(init.status, 200) << init.body;
    headers_["Mcp-Session-Id"] = init.header("mcp-session-id");
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  json::object rpc(const std::string& method, const std::string& params) {
    auto r = client_->post("/mcp",
                           R"({"jsonrpc":"2.0","id":)" + std::to_string(++id_) + R"(,"method":")" +
                               method + R"(","params":)" + params + "}",
                           headers_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object();
  }
  // A tool's result: its error message when it failed, else "" (and `out` its answer).
  std::string call(const std::string& tool, const std::string& args, json::value* out = nullptr) {
    auto result = rpc("tools/call", R"({"name":")" + tool + R"(","arguments":)" + args + "}")
                      .at("result")
                      .as_object();
    const auto text = json::parse(result.at("content").at(0).at("text").as_string());
    if (result.contains("isError") && result.at("isError").as_bool()) {
      return std::string(text.at("error").at("message").as_string());
    }
    if (out != nullptr) *out = text;
    return "";
  }
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
  std::map<std::string, std::string> headers_;
  int id_ = 1;
};

TEST_P(McpTyped, NumbersTravelAsNumbersAndWrongTypesAreNamed) {
  json::value made;
  ASSERT_EQ(call("context_create", R"({"agent_id":"ana","context_data":{"k":1}})", &made), "");
  const std::string id(made.at("id").as_string());
  const std::string with_id = R"({"id":")" + id + "\"";
  // The expected version as a number: the current one passes, an old one is refused.
  ASSERT_EQ(call("context_update", with_id + R"(,"context_data":{"k":2},"if_match":1})"), "");
  EXPECT_NE(call("context_update", with_id + R"(,"context_data":{"k":3},"if_match":1})")
                .find("current version is 2"),
            std::string::npos);
  // Wrong types are named by the argument; out-of-range numbers get the kernel's own checks.
  EXPECT_EQ(call("context_update", with_id + R"(,"context_data":{"k":3},"if_match":"2"})"),
            "if_match must be an integer");
  EXPECT_EQ(call("context_get", with_id + R"(,"version":"1"})"), "version must be an integer");
  EXPECT_EQ(call("context_get", with_id + R"(,"version":0})"),
            "version must be a positive integer");
  EXPECT_EQ(call("context_history", with_id + R"(,"limit":0})"),
            "limit must be an integer from 1 to 1000");
  EXPECT_EQ(call("context_list", R"({"agent_id":"ana","limit":18446744073709551615})"),
            "limit must be an integer from 1 to 1000");
  // And the values arrive: version 1 by number, a history page of one with its cursor.
  json::value v1;
  ASSERT_EQ(call("context_get", with_id + R"(,"version":1})", &v1), "");
  EXPECT_EQ(v1.at("context_data").at("k").as_int64(), 1);
  json::value page;
  ASSERT_EQ(call("context_history", with_id + R"(,"limit":1})", &page), "");
  EXPECT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_TRUE(page.at("next_cursor").is_string());
}

TEST_P(McpTyped, ResourcesPageThroughRows) {
  for (int i = 0; i < 130; ++i) {
    ASSERT_EQ(call("context_create",
                   R"({"agent_id":"ana","context_data":{"i":)" + std::to_string(i) + "}}"),
              "");
  }
  auto first = rpc("resources/list", "{}").at("result").as_object();
  EXPECT_EQ(first.at("resources").as_array().size(), 100u);
  ASSERT_TRUE(first.contains("nextCursor"));
  auto second =
      rpc("resources/list", R"({"cursor":)" + json::serialize(first.at("nextCursor")) + "}")
          .at("result")
          .as_object();
  EXPECT_EQ(second.at("resources").as_array().size(), 30u);
  EXPECT_FALSE(second.contains("nextCursor"));
  const auto& r0 = first.at("resources").at(0).as_object();
  EXPECT_TRUE(std::string(r0.at("uri").as_string()).starts_with("context://"));
  EXPECT_NE(std::string(r0.at("title").as_string()).find(" of ana"), std::string::npos);
}

// The typed calls keep the access rules: an agent without a grant sees neither the context nor
// its resource.
TEST_P(McpTyped, AnAgentWithoutRightsSeesNothing) {
  json::value made;
  ASSERT_EQ(call("context_create", R"({"agent_id":"ana","context_data":{"k":1}})", &made), "");
  const std::string id(made.at("id").as_string());
  auto bob = ct::mcp_headers({{"X-Agent-Id", "bob"}});
  auto init = client_->post("/mcp", ct::kMcpInitialize, bob);
  ASSERT_EQ(init.status, 200) << init.body;
  headers_ =
      ct::mcp_headers({{"X-Agent-Id", "bob"}, {"Mcp-Session-Id", init.header("mcp-session-id")}});
  EXPECT_NE(call("context_get", R"({"id":")" + id + R"(","version":1})").find("does not exist"),
            std::string::npos);
  EXPECT_NE(call("context_history", R"({"id":")" + id + R"(","limit":5})").find("does not exist"),
            std::string::npos);
  EXPECT_EQ(rpc("resources/list", "{}").at("result").at("resources").as_array().size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, McpTyped, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
