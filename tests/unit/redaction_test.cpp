#include <gtest/gtest.h>

#include "config/redaction.hpp"

namespace ck = ctxmgr::kernel;

TEST(Redaction, ConnectionStrings) {
  EXPECT_EQ(ck::redact_connection_secrets("postgresql://architect:s3cr%40t@localhost:5432/tzzr_db"),
            "postgresql://architect:***@localhost:5432/tzzr_db");
  EXPECT_EQ(ck::redact_connection_secrets("host=db user=a password=hunter2 dbname=x"),
            "host=db user=a password=*** dbname=x");
  EXPECT_EQ(ck::redact_connection_secrets("postgresql://localhost/db"), "postgresql://localhost/db");
  EXPECT_EQ(ck::redact_connection_secrets("/var/lib/ctxmgr/ctx.db"), "/var/lib/ctxmgr/ctx.db");
}

TEST(Redaction, SecretLookingKeys) {
  EXPECT_TRUE(ck::looks_secret("api_key"));
  EXPECT_TRUE(ck::looks_secret("DB_PASSWORD"));
  EXPECT_TRUE(ck::looks_secret("client_secret"));
  EXPECT_TRUE(ck::looks_secret("bearer_token"));
  EXPECT_FALSE(ck::looks_secret("path"));
  EXPECT_FALSE(ck::looks_secret("base_url"));
}
