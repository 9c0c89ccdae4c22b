#include <gtest/gtest.h>

#include "json/json_text.hpp"
#include "json/merge_patch.hpp"

namespace ck = ctxmgr::kernel;

namespace {
std::string roundtrip(const std::string& text) {
  auto v = ck::parse_json(text, 64);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? ck::to_json(*v) : std::string();
}
}  // namespace

TEST(JsonText, RoundTripKeepsOrderUnicodeAndNumberForms) {
  EXPECT_EQ(roundtrip(R"({"z":1,"a":2,"información":"valor","😀":"上下文"})"),
            R"({"z":1,"a":2,"información":"valor","😀":"上下文"})");
  EXPECT_EQ(roundtrip(R"([0.1,1.0,1.5,-0.0,100,-7,1e300,2.5e-8,9223372036854775807])"),
            R"([0.1,1.0,1.5,-0.0,100,-7,1e+300,2.5e-08,9223372036854775807])");
  EXPECT_EQ(roundtrip(R"([0.30000000000000004,123.456,3.141592653589793,2.2250738585072014e-308])"),
            R"([0.30000000000000004,123.456,3.141592653589793,2.2250738585072014e-308])");
  EXPECT_EQ(roundtrip(R"(["\u00e9\u0000\n\"\\"])"), "[\"é\\u0000\\n\\\"\\\\\"]");
  EXPECT_EQ(roundtrip("18446744073709551615"), "18446744073709551615");
}

TEST(JsonText, ErrorsAreInvalidRequest) {
  auto bad = ck::parse_json("{\"a\":", 64);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ctxmgr::sdk::Errc::invalid_request);
  EXPECT_TRUE(bad.error().message().starts_with("body is not valid JSON")) << bad.error().message();
  std::string deep(65, '[');
  deep += std::string(65, ']');
  auto too_deep = ck::parse_json(deep, 64);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().message(), "JSON nesting deeper than 64");
  EXPECT_TRUE(ck::parse_json(std::string(64, '[') + std::string(64, ']'), 64).ok());
  EXPECT_FALSE(ck::parse_json("\"\xff\xfe\"", 64).ok());  // invalid UTF-8
  // Beyond a double's range: refused rather than stored as null (the cause of what
  // fuzz_mcp_message found; fuzz_merge_patch now checks that the kernel writes readable JSON).
  auto huge = ck::parse_json("{\"a\":[1e999]}", 64);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().message(),
            "body has a number beyond the range of a double (about 1.8e308)");
  EXPECT_FALSE(ck::parse_json("-1e400", 64).ok());
  EXPECT_TRUE(ck::parse_json("1.7e308", 64).ok());
}

TEST(MergePatch, Rfc7396Examples) {
  // The test cases of RFC 7396, appendix A.
  struct Case {
    const char* target;
    const char* patch;
    const char* result;
  } rfc[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : rfc) {
    auto target = *ck::parse_json(c.target, 64);
    ck::merge_patch(target, *ck::parse_json(c.patch, 64));
    EXPECT_EQ(ck::to_json(target), c.result) << c.target << " + " << c.patch;
  }
}

TEST(MergePatch, ExistingKeysKeepTheirPlace) {
  auto target = *ck::parse_json(R"({"z":1,"m":2,"a":3})", 64);
  ck::merge_patch(target, *ck::parse_json(R"({"m":20,"b":4})", 64));
  EXPECT_EQ(ck::to_json(target), R"({"z":1,"m":20,"a":3,"b":4})");
}
