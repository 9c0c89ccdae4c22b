#include <gtest/gtest.h>

#include <set>

#include <boost/json/parse.hpp>

#include "core/ids.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"

namespace ck = ctxmgr::kernel;

TEST(Ids, UuidV7IsTimeOrderedVersion7AndUnique) {
  std::set<std::string> seen;
  const auto a = ck::new_uuid_v7(1732464000123);
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a.substr(0, 13), "01935ee6-bc7b");  // 48-bit ms timestamp, big-endian
  EXPECT_EQ(a[14], '7');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
  for (int i = 0; i < 1000; ++i) seen.insert(ck::new_uuid_v7(1732464000123));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_LT(ck::new_uuid_v7(1000), ck::new_uuid_v7(2000));
}

TEST(Ids, CanonicalUuidAndAgentIds) {
  EXPECT_EQ(ck::canonical_uuid("01936F3E-8C1A-7B2E-9F41-3C5D2A7E8B10"),
            "01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10");
  EXPECT_FALSE(ck::canonical_uuid("01936f3e8c1a7b2e9f413c5d2a7e8b10"));
  EXPECT_FALSE(ck::canonical_uuid("01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b1g"));
  EXPECT_FALSE(ck::canonical_uuid("../../etc/passwd"));
  EXPECT_TRUE(ck::valid_agent_id("mi_agente"));
  EXPECT_TRUE(ck::valid_agent_id("a.b:c-d_e"));
  EXPECT_FALSE(ck::valid_agent_id("_leading"));
  EXPECT_FALSE(ck::valid_agent_id("has space"));
  EXPECT_FALSE(ck::valid_agent_id(std::string(129, 'a')));
  EXPECT_TRUE(ck::valid_agent_id(std::string(128, 'a')));
  EXPECT_FALSE(ck::valid_agent_id("agénte"));
  EXPECT_TRUE(ck::valid_request_id("req-123"));
  EXPECT_FALSE(ck::valid_request_id("has space"));
}

TEST(TimeText, FormatsAndParsesRfc3339) {
  EXPECT_EQ(ck::format_rfc3339_ms(1732464000123456), "2024-11-24T16:00:00.123Z");
  EXPECT_EQ(ck::format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ck::format_rfc3339_ms(951782399999999), "2000-02-28T23:59:59.999Z");
  EXPECT_EQ(ck::format_rfc3339_ms(951868800000000), "2000-03-01T00:00:00.000Z");  // leap day
  EXPECT_EQ(ck::format_rfc3339_ms(-1000), "1969-12-31T23:59:59.999Z");
  // Round trip at every millisecond of a day spread over the years.
  for (std::int64_t us = 0; us < 4102444800000000; us += 86399123456) {
    const std::int64_t ms = us - us % 1000;
    EXPECT_EQ(ck::parse_rfc3339(ck::format_rfc3339_ms(us)), ms) << us;
  }
  EXPECT_EQ(ck::parse_rfc3339("2024-11-24T16:00:00.123456Z"), 1732464000123456);
  EXPECT_EQ(ck::parse_rfc3339("2024-11-24T17:00:00+01:00"), 1732464000000000);
  EXPECT_FALSE(ck::parse_rfc3339("2024-11-24"));
  EXPECT_FALSE(ck::parse_rfc3339("2024-13-24T00:00:00Z"));
  EXPECT_FALSE(ck::parse_rfc3339("tomorrow"));
}

TEST(RequestParsing, IfMatchLimitsAndMetadata) {
  EXPECT_EQ(*ck::parse_if_match("\"3\""), 3);
  EXPECT_EQ(*ck::parse_if_match("W/\"3\""), 3);
  EXPECT_EQ(*ck::parse_if_match("3"), 3);
  EXPECT_FALSE(ck::parse_if_match("*")->has_value());
  EXPECT_FALSE(ck::parse_if_match("\"x\"").ok());
  EXPECT_EQ(*ck::parse_limit(std::nullopt, 50), 50);
  EXPECT_EQ(*ck::parse_limit("1000", 50), 1000);
  EXPECT_FALSE(ck::parse_limit("1001", 50).ok());
  EXPECT_FALSE(ck::parse_limit("0", 50).ok());
  EXPECT_FALSE(ck::parse_limit("5x", 50).ok());
  EXPECT_FALSE(ck::parse_bool("yes", "include_deleted", false).ok());
  namespace json = boost::json;
  EXPECT_TRUE(ck::validate_metadata(json::parse(R"({"priority":"high","tags":["a"],"x":1})")).ok());
  EXPECT_FALSE(ck::validate_metadata(json::parse(R"({"priority":"urgent"})")).ok());
  EXPECT_FALSE(ck::validate_metadata(json::parse(R"({"tags":"a"})")).ok());
  EXPECT_FALSE(ck::validate_metadata(json::parse(R"({"tags":[1]})")).ok());
  EXPECT_FALSE(ck::validate_metadata(json::parse(R"({"expires_at":"soon"})")).ok());
  EXPECT_TRUE(ck::validate_metadata(json::parse(R"({"expires_at":"2026-12-31T23:59:59Z"})")).ok());
}
