// storage-postgres's postings table (schemas/postgres/10_search_postings.sql): a trigger keeps one
// row per lexeme of a live context's search vector, in the transaction that changes the context.
// A stale row would not show in results (ranking checks each candidate's row), so these tests
// read the table itself.

#include "storage_fixture.hpp"

namespace sdk = ctxmgr::sdk;
namespace ct = ctxmgr::test;
using ct::uuid;

namespace {

class Postings : public ct::StorageConformance {
 protected:
  // One psql answer (unaligned, tuples only) about this test's schema.
  std::string ask(const std::string& sql) {
    auto r = ct::run_process({"/usr/bin/psql", "-qAt", std::getenv("CTXMGR_TEST_PG_DSN"), "-c",
                              "SET search_path TO " + schema_ + "; " + sql});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // "postings lexemes" of context n: its rows in the table, and its vector's lexemes.
  std::string counts(int n) {
    return ask("SELECT (SELECT count(*) FROM context_postings WHERE context_id = '" + uuid(n) +
               "') || ' ' || coalesce((SELECT length(search) FROM context WHERE id = '" + uuid(n) +
               "'), 0)");
  }
  void change(int n, std::int64_t version, const std::string& data, bool deleted = false) {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    auto r = row(uuid(n), "a", 1000 + version, data);
    r.version = version;
    r.deleted = deleted;
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
};

TEST_P(Postings, FollowEveryChangeOfAContext) {
  create(row(uuid(1), "a", 1, R"({"title":"facturación mensual","body":"invoices"})"));
  create(row(uuid(2), "a", 2, R"({"body":"otra nota"})"));
  const std::string first = counts(1);
  EXPECT_NE(first, "0 0\n");
  EXPECT_EQ(first.substr(0, first.find(' ')) + "\n", first.substr(first.find(' ') + 1));
  // tf counts the lexeme's positions in the vector (which joins four analyses of the text):
  // "gamma" twice as often as "delta".
  change(1, 2, R"({"body":"gamma gamma delta"})");
  const std::string tf =
      "SELECT tf FROM context_postings WHERE context_id = '" + uuid(1) + "' AND lexeme = ";
  const std::string positions =
      "SELECT array_length(positions, 1) FROM context, unnest(search) "
      "u WHERE id = '" +
      uuid(1) + "' AND lexeme = ";
  EXPECT_EQ(ask(tf + "'gamma'"), ask(positions + "'gamma'"));
  EXPECT_EQ(ask(tf + "'gamma'"), std::to_string(2 * std::stoi(ask(tf + "'delta'"))) + "\n");
  EXPECT_EQ(ask("SELECT count(*) FROM context_postings WHERE context_id = '" + uuid(1) +
                "' AND lexeme LIKE 'factur%'"),
            "0\n");
  EXPECT_EQ(ask("SELECT DISTINCT dl FROM context_postings WHERE context_id = '" + uuid(1) + "'"),
            ask("SELECT length(search) FROM context WHERE id = '" + uuid(1) + "'"));
  change(1, 3, R"({"body":"gamma gamma delta"})", true);  // deleted: no vector, no postings
  EXPECT_EQ(counts(1), "0 0\n");
  change(1, 4, R"({"body":"epsilon"})");  // restored: the new vector's lexemes, each once
  const std::string id = "'" + uuid(1) + "'";
  const std::string lexemes = ask(
      "SELECT string_agg(lexeme, ',' ORDER BY lexeme) FROM context_postings WHERE context_id = " +
      id);
  EXPECT_NE(lexemes.find("epsilon"), std::string::npos);
  EXPECT_EQ(lexemes, ask("SELECT string_agg(l, ',' ORDER BY l) FROM unnest(tsvector_to_array("
                         "(SELECT search FROM context WHERE id = " +
                         id + "))) l"));
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->purge_context(uuid(1)).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  EXPECT_EQ(counts(1), "0 0\n");
  EXPECT_NE(counts(2), "0 0\n");  // the other context's rows are untouched
}

INSTANTIATE_TEST_SUITE_P(Storage, Postings,
                         testing::Values(ct::StorageCase{"postgres", "Postgres"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
