// The pure parts of semantic selection and feedback: the text a context is embedded from, the
// vectors' stored form, the in-memory index (order, versions, lengths), and the RM3 words and
// interpolation.

#include <gtest/gtest.h>

#include <cmath>

#include "ctxmgr/sdk/storage_vectors.hpp"
#include "embedding/embedding_text.hpp"
#include "embedding/vector_index.hpp"
#include "selection/feedback.hpp"

namespace ck = ctxmgr::kernel;
namespace sdk = ctxmgr::sdk;

TEST(EmbeddingText, KeysAndStringValuesInStoredOrder) {
  EXPECT_EQ(
      ck::embedding_text(
          R"({"note":"invoices go out","tags":["billing","ops"],"owner":{"name":"ana","age":3},)"
          R"("done":true,"n":null})"),
      "note: invoices go out\ntags:\n- billing\n- ops\nowner:\nname: ana");
  EXPECT_EQ(ck::embedding_text("{}"), "");
  EXPECT_EQ(ck::embedding_text("not json"), "not json");  // embedded as written
}

TEST(VectorHex, RoundTripsBitForBitAndRefusesWhatIsNotOne) {
  const std::vector<float> v = {1.5f, -0.0f, 3.0e-38f, -7.25e20f};
  const std::string hex = sdk::vector_to_hex(v);
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_EQ(hex.substr(0, 8), "0000c03f");  // 1.5f little-endian
  EXPECT_EQ(sdk::vector_from_hex(hex), v);
  EXPECT_EQ(sdk::vector_from_hex(""), std::vector<float>{});
  EXPECT_FALSE(sdk::vector_from_hex("0000c03"));   // not whole floats
  EXPECT_FALSE(sdk::vector_from_hex("0000c03g"));  // not hex
}

TEST(VectorIndex, NearestByCosineWithVersionsAndLengthsChecked) {
  ck::VectorIndex index;
  index.replace_all(
      {{"a", 1, {1, 0, 0}}, {"b", 1, {1, 1, 0}}, {"c", 2, {0, 0, 5}}, {"d", 1, {1, 0}}});
  const auto near = index.nearest({2, 0, 0}, 2);
  ASSERT_EQ(near.size(), 2u);
  EXPECT_EQ(near[0].context_id, "a");
  EXPECT_NEAR(near[0].similarity, 1.0, 1e-6);
  EXPECT_EQ(near[1].context_id, "b");
  EXPECT_NEAR(near[1].similarity, 1 / std::sqrt(2.0), 1e-6);
  EXPECT_EQ(index.nearest({1, 0, 0}, 10).size(), 3u);  // "d" has another length: never compared
  EXPECT_NEAR(*index.similarity("c", 2, {0, 0, 1}), 1.0, 1e-6);
  EXPECT_FALSE(index.similarity("c", 1, {0, 0, 1}));  // another version
  EXPECT_FALSE(index.similarity("x", 1, {0, 0, 1}));
  // A newer version replaces; an older one arriving late does not.
  index.put({{"a", 3, {0, 1, 0}}});
  index.put({{"a", 2, {1, 0, 0}}});
  EXPECT_FALSE(index.similarity("a", 2, {1, 0, 0}));
  EXPECT_NEAR(*index.similarity("a", 3, {0, 1, 0}), 1.0, 1e-6);
  index.replace_all({});
  EXPECT_EQ(index.size(), 0u);
}

namespace {
sdk::SearchHit hit(const std::string& id, double score, const std::string& data,
                   const std::string& meta = "{}") {
  sdk::SearchHit h;
  h.row.id = id;
  h.row.context_data = data;
  h.row.metadata = meta;
  h.text_score = score;
  return h;
}
}  // namespace

TEST(Feedback, TheTopicsWordsOfTheFirstHitsNotTheQuerysNorOneNotesAlone) {
  const std::vector<sdk::SearchHit> hits = {
      hit("1", 3, R"({"t":"Facturación y cobros del mes"})",
          R"({"tags":["billing"],"priority":"high"})"),
      hit("2", 2, R"({"t":"revisar cobros pendientes de facturación"})", R"({"tags":["billing"]})"),
      hit("3", 1, R"({"t":"facturación anual"})", R"({"tags":["billing"],"priority":"high"})"),
      hit("4", 1, R"({"t":"cobros cobros cobros"})", R"({"tags":["other"]})")};
  ck::FeedbackSettings s;  // docs 3, terms 4, min_docs 2
  const auto words = ck::feedback_terms(hits, {"Facturacion"}, s);
  // "billing" (3 of 3 notes), "cobros" (2 of 3); "high" is priority, not a tag; "mes",
  // "pendientes", "revisar", "anual" are in one note only; the query word and "del" never.
  EXPECT_EQ(words, (std::vector<std::string>{"billing", "cobros"}));
  s.min_docs = 1;
  s.terms = 10;
  const auto more = ck::feedback_terms(hits, {"facturación"}, s);
  EXPECT_NE(std::find(more.begin(), more.end(), "anual"), more.end());
  EXPECT_EQ(std::find(more.begin(), more.end(), "high"), more.end());
  EXPECT_TRUE(ck::feedback_terms({}, {"x"}, s).empty());
}

TEST(Feedback, InterpolationKeepsTheQuerysOrderAndAddsTheNewOnesBelowTheirWeight) {
  std::vector<sdk::SearchHit> first = {hit("a", 4, "{}"), hit("b", 2, "{}")};
  ck::interpolate(first, {hit("b", 10, "{}"), hit("c", 5, "{}")}, 0.5);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_DOUBLE_EQ(first[0].text_score, 1.0);        // a: 4/4
  EXPECT_DOUBLE_EQ(first[1].text_score, 0.5 + 0.5);  // b: 2/4 + 0.5 * 10/10
  EXPECT_EQ(first[2].row.id, "c");
  EXPECT_DOUBLE_EQ(first[2].text_score, 0.25);  // c: 0.5 * 5/10
}
