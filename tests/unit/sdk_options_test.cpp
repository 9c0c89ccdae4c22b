#include <gtest/gtest.h>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/options.hpp"

namespace sdk = ctxmgr::sdk;

TEST(SdkOptions, TypedReads) {
  auto o = sdk::Options::parse(
      R"({"path":"x.db","n":5,"f":0.5,"on":true,"list":["a","b"],"obj":{"k":1}})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->get_string("path"), "x.db");
  EXPECT_EQ(o->get_int("n"), 5);
  EXPECT_DOUBLE_EQ(o->get_number("f"), 0.5);
  EXPECT_DOUBLE_EQ(o->get_number("n"), 5.0);
  EXPECT_TRUE(o->get_bool("on"));
  EXPECT_EQ(o->get_strings("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o->get_json("obj"), R"({"k":1})");
  EXPECT_EQ(o->get_string("missing", "dflt"), "dflt");
  EXPECT_EQ(o->get_int("path", -1), -1);  // wrong type: the fallback
  EXPECT_FALSE(o->has("missing"));
}

TEST(SdkOptions, RejectsNonObjects) {
  EXPECT_FALSE(sdk::Options::parse("[1]").ok());
  EXPECT_FALSE(sdk::Options::parse("{bad").ok());
  EXPECT_TRUE(sdk::Options::parse("").ok());
}

TEST(SdkError, CodesMatchTheRestApi) {
  EXPECT_EQ(sdk::code_name(sdk::Errc::precondition_failed), "precondition_failed");
  EXPECT_EQ(sdk::http_status(sdk::Errc::precondition_failed), 412);
  EXPECT_EQ(sdk::http_status(sdk::Errc::provider_timeout), 504);
  EXPECT_EQ(sdk::http_status(sdk::Errc::unsupported_media_type), 415);
  sdk::Result<int> r = sdk::Error(sdk::Errc::not_found, "gone");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), sdk::Errc::not_found);
}
