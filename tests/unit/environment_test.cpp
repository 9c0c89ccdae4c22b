#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "config/environment.hpp"

namespace ck = ctxmgr::kernel;

TEST(Interpolate, VariablesDefaultsAndEscapes) {
  ::setenv("CTXMGR_T_SET", "value", 1);
  ::setenv("CTXMGR_T_EMPTY", "", 1);
  ::unsetenv("CTXMGR_T_UNSET");
  ck::Environment env;
  EXPECT_EQ(*ck::interpolate("a ${CTXMGR_T_SET} b", env), "a value b");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_UNSET:-5000}", env), "5000");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_EMPTY:-dflt}", env), "dflt");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_SET:-dflt}", env), "value");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_UNSET:-}", env), "");
  EXPECT_EQ(*ck::interpolate("cost $$5 and $HOME", env), "cost $5 and $HOME");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_SET}${CTXMGR_T_SET}", env), "valuevalue");
  // :+ gives its word only when the variable is set and not empty (turning an entry on).
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_SET:+true}", env), "true");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_EMPTY:+true}", env), "");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_UNSET:+true}", env), "");
  EXPECT_FALSE(ck::interpolate("${CTXMGR_T_SET:?x}", env).ok());
  EXPECT_FALSE(ck::interpolate("${CTXMGR_T_SET:}", env).ok());
}

TEST(Interpolate, UnsetWithoutDefaultIsAnErrorNamingTheVariable) {
  ::unsetenv("CTXMGR_T_UNSET");
  ck::Environment env;
  auto r = ck::interpolate("x ${CTXMGR_T_UNSET} y", env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "environment variable CTXMGR_T_UNSET is not set (write ${CTXMGR_T_UNSET:-default} to "
            "give a default)");
  EXPECT_FALSE(ck::interpolate("${unterminated", env).ok());
  EXPECT_FALSE(ck::interpolate("${1BAD}", env).ok());
}

TEST(Dotenv, ParsesTheSeedsFile) {
  const char* text =
      "# PostgreSQL\n"
      "DATABASE_URL=postgresql://architect:password@localhost:5432/tzzr_db\n"
      "\n"
      "export ANTHROPIC_API_KEY=sk-ant # inline comment\n"
      "OPENAI_API_KEY='sk-$literal'\n"
      "GREETING=\"hola\\nmundo\"\n"
      "CONTEXT_MANAGER_PORT=5000\r\n"
      "LOG_LEVEL=INFO\n";
  auto r = ck::parse_dotenv(text, ".env");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->at("DATABASE_URL"), "postgresql://architect:password@localhost:5432/tzzr_db");
  EXPECT_EQ(r->at("ANTHROPIC_API_KEY"), "sk-ant");
  EXPECT_EQ(r->at("OPENAI_API_KEY"), "sk-$literal");
  EXPECT_EQ(r->at("GREETING"), "hola\nmundo");
  EXPECT_EQ(r->at("CONTEXT_MANAGER_PORT"), "5000");
  EXPECT_EQ(r->at("LOG_LEVEL"), "INFO");
}

TEST(Dotenv, ErrorsNameFileAndLine) {
  auto r = ck::parse_dotenv("A=1\nthis line has no equals\n", "/x/.env");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "/x/.env:2: expected KEY=value");
  auto bad = ck::parse_dotenv("A=1\n\n9X=2\n", ".env");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), ".env:3: invalid variable name '9X'");
}

TEST(Environment, ProcessEnvironmentWinsOverDotenvWhichWinsOverDefaults) {
  const std::string file = testing::TempDir() + "/ctxmgr_env_test.env";
  std::ofstream(file) << "CTXMGR_T_A=from_file\nCTXMGR_T_B=from_file\n";
  ::setenv("CTXMGR_T_A", "from_process", 1);
  ::unsetenv("CTXMGR_T_B");
  ::unsetenv("CTXMGR_T_C");
  auto env = ck::Environment::load(file, true);
  ASSERT_TRUE(env.ok());
  env->set_default("CTXMGR_T_B", "default");
  env->set_default("CTXMGR_T_C", "default");
  EXPECT_EQ(env->get("CTXMGR_T_A"), "from_process");
  EXPECT_EQ(env->get("CTXMGR_T_B"), "from_file");
  EXPECT_EQ(env->get("CTXMGR_T_C"), "default");
  EXPECT_EQ(*ck::interpolate("${CTXMGR_T_B}", *env), "from_file");
}

TEST(Environment, MissingNamedFileIsAnErrorButImplicitOneIsNot) {
  EXPECT_FALSE(ck::Environment::load(std::filesystem::path("/nonexistent/.env"), true).ok());
  EXPECT_TRUE(ck::Environment::load(std::filesystem::path("/nonexistent/.env"), false).ok());
}
