// The memory-files capability (sdk/storage_memory_files.hpp) on every storage: a path under
// /memories names at most one live context of an owner (a second is a conflict and writes
// nothing; a deleted file frees its path; other owners and paths outside /memories are free),
// and listing is by prefix, in byte order of the paths, paged, filtered by context grant.

#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

class MemoryFilesConformance : public ct::StorageConformance {
 protected:
  void SetUp() override {
    StorageConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    files_ = registry_->storage_memory_files();
    ASSERT_NE(files_, nullptr) << "the storage has no memory-files capability";
  }
  static std::string at(const std::string& path) { return R"({"path":")" + path + R"("})"; }
  // Inserts a context; the insert's or the commit's outcome.
  sdk::Status try_create(const sdk::ContextRow& r) {
    auto tx = storage_->begin();
    if (!tx) return tx.error();
    if (auto st = (*tx)->insert_context(r); !st) return st;
    if (auto st = (*tx)->append_history(hist(r, "create")); !st) return st;
    return (*tx)->commit();
  }
  std::vector<std::string> paths(const std::string& agent, const std::string& prefix,
                                 std::int64_t limit = 100,
                                 std::optional<std::string> after = std::nullopt,
                                 std::optional<std::string> granted_to = std::nullopt) {
    sdk::MemoryFileQuery q;
    q.agent_id = agent;
    q.prefix = prefix;
    q.limit = limit;
    q.after_path = std::move(after);
    q.granted_to = std::move(granted_to);
    auto rows = files_->memory_files(q);
    EXPECT_TRUE(rows.ok()) << rows.error().message();
    std::vector<std::string> out;
    if (!rows.ok()) return out;
    for (const auto& r : *rows) {
      const auto p = r.metadata.find("\"path\":\"");
      out.push_back(r.metadata.substr(p + 8, r.metadata.find('"', p + 8) - p - 8));
    }
    return out;
  }

  sdk::StorageMemoryFiles* files_ = nullptr;
};

TEST_P(MemoryFilesConformance, APathNamesOneLiveContextOfAnOwner) {
  create(row(ct::uuid(1), "ana", 1000, R"({"text":"a"})", at("/memories/a.md")));
  auto second = try_create(row(ct::uuid(2), "ana", 2000, R"({"text":"b"})", at("/memories/a.md")));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), sdk::Errc::conflict) << second.error().message();
  EXPECT_FALSE(storage_->get(ct::uuid(2))->has_value()) << "the refused insert left a row";
  // Another owner, a path outside /memories, and a deleted file's path are all free.
  EXPECT_TRUE(try_create(row(ct::uuid(3), "bea", 3000, "{}", at("/memories/a.md"))).ok());
  EXPECT_TRUE(try_create(row(ct::uuid(4), "ana", 4000, "{}", at("/home/a.md"))).ok());
  EXPECT_TRUE(try_create(row(ct::uuid(5), "ana", 5000, "{}", at("/home/a.md"))).ok());
  auto cur = storage_->get(ct::uuid(1));
  sdk::ContextRow gone = **cur;
  gone.version = 2;
  gone.deleted = true;
  auto tx = storage_->begin();
  ASSERT_TRUE((*tx)->update_context(gone).ok());
  ASSERT_TRUE((*tx)->append_history(hist(gone, "delete")).ok());
  ASSERT_TRUE((*tx)->commit().ok());
  EXPECT_TRUE(try_create(row(ct::uuid(6), "ana", 6000, "{}", at("/memories/a.md"))).ok());
  // An update that moves a file onto a taken path is refused too.
  create(row(ct::uuid(7), "ana", 7000, "{}", at("/memories/b.md")));
  auto moved = **storage_->get(ct::uuid(7));
  moved.version = 2;
  moved.metadata = at("/memories/a.md");
  auto tx2 = storage_->begin();
  auto st = (*tx2)->update_context(moved);
  if (st.ok()) st = (*tx2)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), sdk::Errc::conflict);
}

TEST_P(MemoryFilesConformance, ListsByPrefixInByteOrderWithPagesAndGrants) {
  int n = 10;
  for (const char* p : {"/memories/b.md", "/memories/a/z.md", "/memories/a.md", "/memories/a b",
                        "/memories/A.md", "/memories/a/b/c.md", "/memories/ñ.md"}) {
    create(row(ct::uuid(n), "ana", 1000 * n, "{}", at(p)));
    ++n;
  }
  create(row(ct::uuid(50), "bea", 1000, "{}", at("/memories/a.md")));
  create(row(ct::uuid(51), "ana", 1000, "{}", at("/elsewhere/a.md")));
  EXPECT_EQ(paths("ana", "/memories/"),
            (std::vector<std::string>{"/memories/A.md", "/memories/a b", "/memories/a.md",
                                      "/memories/a/b/c.md", "/memories/a/z.md", "/memories/b.md",
                                      "/memories/ñ.md"}));
  EXPECT_EQ(paths("ana", "/memories/a/"),
            (std::vector<std::string>{"/memories/a/b/c.md", "/memories/a/z.md"}));
  EXPECT_EQ(paths("ana", "/memories/a.md", 1), (std::vector<std::string>{"/memories/a.md"}));
  EXPECT_EQ(paths("ana", "/memories/", 2, "/memories/a.md"),
            (std::vector<std::string>{"/memories/a/b/c.md", "/memories/a/z.md"}));
  EXPECT_TRUE(paths("ana", "/memories/zzz").empty());
  // Only what was shared with a grantee, one context at a time.
  auto tx = storage_->begin();
  ASSERT_TRUE(
      (*tx)->put_grant(sdk::GrantScope::context, {ct::uuid(12), "cy", "read", "ana", 1}).ok());
  ASSERT_TRUE((*tx)->commit().ok());
  EXPECT_EQ(paths("ana", "/memories/", 100, std::nullopt, "cy"),
            (std::vector<std::string>{"/memories/a.md"}));
}

INSTANTIATE_TEST_SUITE_P(Storage, MemoryFilesConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
