// Relevance on the labelled set (tests/data/relevance, made by its generate.py): every selector
// through a real server on every backend, beside a plain BM25 baseline computed here over the
// same texts (lower-cased words, no folding, no stems, no translation), and again with the
// bench's fake embedder for the semantic component. Prints nDCG@10 and recall@10 per selector
// (bench/README.md reports them) and asserts floors under them.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

// Floors a little under what this set gives today on both backends (hybrid nDCG@10 0.78-0.79,
// recall@10 0.72-0.73 with Apertium's dictionary and pseudo-relevance feedback; 0.73 / 0.65
// with FreeDict alone; plain BM25 0.40 / 0.25; bench/README.md has the table). The first aim was
// hybrid 10% over plain BM25; issue 20's, recall@10 0.70 with no embedder.
constexpr double kHybridOverBaseline = 1.10;
constexpr double kHybridNdcgFloor = 0.75;
constexpr double kHybridRecallFloor = 0.70;

struct Query {
  std::string text;
  std::map<std::string, int> grades;  // context key -> 1..3
};

struct LabelledSet {
  std::vector<std::pair<std::string, json::object>> contexts;  // key, {context_data, metadata}
  std::vector<Query> queries;
};

LabelledSet load_set() {
  LabelledSet set;
  std::ifstream lines(RELEVANCE_DATA_DIR "/contexts.jsonl");
  std::string line;
  while (std::getline(lines, line)) {
    auto o = json::parse(line).as_object();
    set.contexts.emplace_back(std::string(o.at("key").as_string()), o);
  }
  std::ifstream qf(RELEVANCE_DATA_DIR "/queries.json");
  std::stringstream buf;
  buf << qf.rdbuf();
  const json::value all = json::parse(buf.str());
  for (const auto& q : all.as_array()) {
    Query query{std::string(q.at("query").as_string()), {}};
    for (const auto& [key, g] : q.at("judgments").as_object()) {
      query.grades[std::string(key)] = static_cast<int>(g.as_int64());
    }
    set.queries.push_back(std::move(query));
  }
  return set;
}

// nDCG@10 with gains 2^g - 1, and recall@10 of the contexts graded 2 or 3.
std::pair<double, double> metrics(const std::vector<std::string>& ranked, const Query& q) {
  double dcg = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, ranked.size()); ++i) {
    auto it = q.grades.find(ranked[i]);
    if (it != q.grades.end()) dcg += (std::pow(2, it->second) - 1) / std::log2(i + 2.0);
  }
  std::vector<int> ideal;
  for (const auto& [k, g] : q.grades) ideal.push_back(g);
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, ideal.size()); ++i) {
    idcg += (std::pow(2, ideal[i]) - 1) / std::log2(i + 2.0);
  }
  std::size_t relevant = 0, found = 0;
  for (const auto& [k, g] : q.grades) {
    if (g < 2) continue;
    ++relevant;
    for (std::size_t i = 0; i < std::min<std::size_t>(10, ranked.size()); ++i) {
      if (ranked[i] == k) ++found;
    }
  }
  return {idcg > 0 ? dcg / idcg : 0, relevant > 0 ? double(found) / double(relevant) : 0};
}

// The plain baseline: words are runs of ASCII letters and digits or of non-ASCII bytes,
// lower-cased (ASCII); BM25 with k1 = 1.2, b = 0.75; any query word makes a candidate.
std::vector<std::string> plain_words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (char ch : std::string(text) + " ") {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c >= 0x80) {
      w += static_cast<char>(std::tolower(c));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  return out;
}

void collect_text(const json::value& v, std::string& out) {
  if (v.is_object()) {
    for (const auto& [k, x] : v.as_object()) {
      out += std::string(k) + " ";
      collect_text(x, out);
    }
  } else if (v.is_array()) {
    for (const auto& x : v.as_array()) collect_text(x, out);
  } else if (v.is_string()) {
    out += std::string(v.as_string()) + " ";
  }
}

class PlainBm25 {
 public:
  explicit PlainBm25(const LabelledSet& set) {
    double total = 0;
    for (const auto& [key, c] : set.contexts) {
      std::string text;
      collect_text(c.at("context_data"), text);
      collect_text(c.at("metadata"), text);
      Doc d{key, {}, 0};
      for (auto& w : plain_words(text)) {
        ++d.tf[w];
        ++d.length;
      }
      for (const auto& [w, n] : d.tf) ++df_[w];
      total += d.length;
      docs_.push_back(std::move(d));
    }
    avgdl_ = total / docs_.size();
  }
  std::vector<std::string> rank(const std::string& query) const {
    std::set<std::string> words;
    for (auto& w : plain_words(query)) words.insert(w);
    std::vector<std::pair<double, std::string>> scored;
    const double n = docs_.size();
    for (const auto& d : docs_) {
      double s = 0;
      for (const auto& w : words) {
        auto it = d.tf.find(w);
        if (it == d.tf.end()) continue;
        const double df = df_.at(w);
        const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
        const double tf = it->second;
        s += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * d.length / avgdl_));
      }
      if (s > 0) scored.emplace_back(s, d.key);
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> out;
    for (std::size_t i = 0; i < std::min<std::size_t>(10, scored.size()); ++i) {
      out.push_back(scored[i].second);
    }
    return out;
  }

 private:
  struct Doc {
    std::string key;
    std::map<std::string, int> tf;
    double length;
  };
  std::vector<Doc> docs_;
  std::map<std::string, double> df_;
  double avgdl_ = 1;
};

struct Score {
  double ndcg = 0;
  double recall = 0;
};

class RelevanceE2E : public testing::TestWithParam<std::string> {};

const std::map<std::string, std::string> kAs{{"X-Agent-Id", "eval"}};

// Creates the set's contexts as agent `eval`: context id -> key.
std::map<std::string, std::string> load_contexts(ct::HttpClient& client, const LabelledSet& set) {
  std::map<std::string, std::string> key_of;
  for (const auto& [key, c] : set.contexts) {
    json::object body{{"agent_id", "eval"},
                      {"context_data", c.at("context_data")},
                      {"metadata", c.at("metadata")}};
    auto r = client.post("/api/context", json::serialize(body), kAs);
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) break;
    key_of[std::string(json::parse(r.body).at("id").as_string())] = key;
  }
  return key_of;
}

// The mean nDCG@10 and recall@10 of every query selected with `fields` (JSON members), and the
// answers' selection records' ids.
Score run_queries(ct::HttpClient& client, const LabelledSet& set,
                  const std::map<std::string, std::string>& key_of, const std::string& fields,
                  std::vector<std::int64_t>* records = nullptr) {
  Score score;
  for (const auto& q : set.queries) {
    auto r = client.post(
        "/api/agent/eval/select",
        "{\"query\":" + json::serialize(json::value(q.text)) + "," + fields + ",\"limit\":10}",
        kAs);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return score;
    std::vector<std::string> ranked;
    const json::value answer = json::parse(r.body);
    for (const auto& item : answer.at("items").as_array()) {
      ranked.push_back(key_of.at(std::string(item.at("context").at("id").as_string())));
    }
    if (records != nullptr) records->push_back(answer.at("selection_id").as_int64());
    const auto [ndcg, recall] = metrics(ranked, q);
    score.ndcg += ndcg / static_cast<double>(set.queries.size());
    score.recall += recall / static_cast<double>(set.queries.size());
  }
  return score;
}

void print_scores(const std::string& title, const std::map<std::string, Score>& score) {
  std::cout << title << "\n";
  for (const auto& [name, s] : score) {
    std::printf("  %-24s nDCG@10 %.3f  recall@10 %.3f\n", name.c_str(), s.ndcg, s.recall);
  }
}

TEST_P(RelevanceE2E, SelectorsBeatPlainBm25OnTheLabelledSet) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  const LabelledSet set = load_set();
  ASSERT_GE(set.contexts.size(), 300u);
  ASSERT_GE(set.queries.size(), 40u);
  ct::ServerOptions o;
  o.backend = GetParam();
  // Debian's thesauri loaded, synonyms off unless a request asks (the default); Apertium's
  // dictionary as by default (apertium-eng-spa is installed), then without it.
  const std::string thesauri =
      "thesaurus: {files: [/usr/share/mythes/th_es_ES_v2.dat, "
      "/usr/share/mythes/th_en_US_v2.dat]}";
  o.extra_yaml = "selection: {" + thesauri + "}\n";
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient client(server.port());
  const std::map<std::string, std::string>& as = kAs;
  const auto key_of = load_contexts(client, set);
  ASSERT_EQ(key_of.size(), set.contexts.size());

  const std::vector<std::pair<std::string, std::string>> runs = {
      {"hybrid", R"("selector":"hybrid")"},
      {"hybrid, no feedback", R"("selector":"hybrid","expand":false)"},
      {"hybrid, rank fusion", R"("selector":"hybrid","fusion":"rank")"},
      {"hybrid, no translation", R"("selector":"hybrid","translate":false)"},
      {"keyword", R"("selector":"keyword")"},
      {"keyword, no feedback", R"("selector":"keyword","expand":false)"},
      {"keyword, synonyms", R"("selector":"keyword","synonyms":true)"},
      {"hybrid, synonyms", R"("selector":"hybrid","synonyms":true)"},
      {"recency", R"("selector":"recency")"},
      {"priority", R"("selector":"priority")"}};
  std::map<std::string, Score> score;
  for (const auto& [name, fields] : runs) {
    score[name] = run_queries(client, set, key_of, fields);
    ASSERT_FALSE(HasFailure()) << name;
  }
  // Synonyms only when asked (they lower nDCG@10 here, so they are off by default); the record
  // lists the ones searched.
  for (const bool asked : {false, true}) {
    auto r = client.post("/api/agent/eval/select",
                         std::string(R"({"query":"cobro pendiente","limit":3)") +
                             (asked ? R"(,"synonyms":true})" : "}"),
                         as);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto id = json::parse(r.body).at("selection_id").as_int64();
    auto rec = client.get("/api/selections/" + std::to_string(id), as);
    ASSERT_EQ(rec.status, 200) << rec.body;
    const json::value record = json::parse(rec.body);
    EXPECT_EQ(record.at("params").at("synonyms").as_array().empty(), !asked) << rec.body;
  }
  // The same contexts, translated by FreeDict alone.
  ASSERT_EQ(server.stop(), 0);
  server.options().extra_yaml = "selection: {apertium: [], " + thesauri + "}\n";
  ASSERT_TRUE(server.start()) << server.log();
  for (const auto& [name, fields] : std::vector<std::pair<std::string, std::string>>{
           {"hybrid, no Apertium", R"("selector":"hybrid")"},
           {"keyword, no Apertium", R"("selector":"keyword")"}}) {
    score[name] = run_queries(client, set, key_of, fields);
    ASSERT_FALSE(HasFailure()) << name;
  }
  const PlainBm25 baseline(set);
  for (const auto& q : set.queries) {
    const auto [ndcg, recall] = metrics(baseline.rank(q.text), q);
    score["plain BM25 (baseline)"].ndcg += ndcg / set.queries.size();
    score["plain BM25 (baseline)"].recall += recall / set.queries.size();
  }
  print_scores("relevance on " + GetParam() + " (" + std::to_string(set.contexts.size()) +
                   " contexts, " + std::to_string(set.queries.size()) + " queries)",
               score);
  const Score base = score["plain BM25 (baseline)"];
  const Score hybrid = score["hybrid"];
  // A change that makes selection worse fails here.
  EXPECT_GE(hybrid.ndcg, base.ndcg * kHybridOverBaseline);
  EXPECT_GE(hybrid.ndcg, kHybridNdcgFloor);
  EXPECT_GE(hybrid.recall, kHybridRecallFloor);
  EXPECT_GE(score["keyword"].ndcg, base.ndcg);
  EXPECT_GE(hybrid.recall, score["hybrid, no translation"].recall);
  // Feedback is on by default because it helps here: it must never lower nDCG@10 or recall@10.
  EXPECT_GE(hybrid.ndcg, score["hybrid, no feedback"].ndcg);
  EXPECT_GE(hybrid.recall, score["hybrid, no feedback"].recall);
  EXPECT_GE(score["keyword"].ndcg, score["keyword, no feedback"].ndcg);
  // Apertium's dictionary is read by default because it helps here: never lower either.
  EXPECT_GE(hybrid.ndcg, score["hybrid, no Apertium"].ndcg);
  EXPECT_GE(hybrid.recall, score["hybrid, no Apertium"].recall);
  EXPECT_GE(score["keyword"].ndcg, score["keyword, no Apertium"].ndcg);
  EXPECT_GE(score["keyword"].recall, score["keyword, no Apertium"].recall);
  server.stop();
}

// A number from the server's /metrics, -1 when it has no such line.
double metric(ct::HttpClient& client, const std::string& name) {
  const auto text = client.get("/metrics").body;
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

// With an embedder: the bench's fake (bench/fake_embedder.mjs, real HTTP on loopback: each text's
// words, as written, hashed into 384 buckets; no model). Its `semantic` component is a bag of the
// words as written — no stems, no translation, no meaning — so this run shows the fusion's
// mechanics on the set and what a weak component does to hybrid, not a model's recall.
TEST_P(RelevanceE2E, HybridWithTheFakeEmbedder) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  if (!std::filesystem::exists(NODE_EXECUTABLE)) GTEST_SKIP() << "no node for the fake embedder";
  const LabelledSet set = load_set();
  const std::string dir = ct::make_temp_dir();
  ct::ChildProcess fake({NODE_EXECUTABLE, FAKE_EMBEDDER, "0", "384"}, {}, dir + "/embedder.log");
  int eport = 0;
  ct::time_until(
      [&] { return (eport = ct::listening_port(ct::read_file(dir + "/embedder.log"))) != 0; },
      std::chrono::milliseconds(10000));
  ASSERT_NE(eport, 0) << ct::read_file(dir + "/embedder.log");
  ct::ServerOptions o;
  o.backend = GetParam();
  o.extra_yaml =
      "embedder: {plugin: openai, options: {base_url: 'http://127.0.0.1:" + std::to_string(eport) +
      "/v1', model: fake-384, batch_size: 64}}\n"
      "embeddings: {batch_size: 64, interval_ms: 20, settle_ms: 0, reload_ms: 200}\n";
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient client(server.port());
  const auto key_of = load_contexts(client, set);
  ASSERT_EQ(key_of.size(), set.contexts.size());
  const auto n = static_cast<double>(set.contexts.size());
  for (int i = 0; i < 1200 && metric(client, "ctxmgr_vector_index_size") < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(metric(client, "ctxmgr_vector_index_size"), n) << server.log();

  std::map<std::string, Score> score;
  std::vector<std::int64_t> records;
  score["semantic"] = run_queries(client, set, key_of, R"("selector":"semantic")");
  score["hybrid with semantic"] =
      run_queries(client, set, key_of, R"("selector":"hybrid")", &records);
  score["hybrid with semantic, rank fusion"] =
      run_queries(client, set, key_of, R"("selector":"hybrid","fusion":"rank")");
  score["keyword"] = run_queries(client, set, key_of, R"("selector":"keyword")");
  ASSERT_FALSE(HasFailure());
  print_scores("relevance on " + GetParam() + " with the fake embedder", score);
  // The component ran for every query (not skipped): its model is in every record.
  for (const auto id : records) {
    auto rec = client.get("/api/selections/" + std::to_string(id), kAs);
    ASSERT_EQ(rec.status, 200) << rec.body;
    const json::value record = json::parse(rec.body);
    const auto* semantic = record.at("params").as_object().if_contains("semantic");
    ASSERT_NE(semantic, nullptr) << rec.body;
    EXPECT_EQ(semantic->at("model"), "fake-384") << rec.body;
  }
  const PlainBm25 baseline(set);
  Score base;
  for (const auto& q : set.queries) {
    const auto [ndcg, recall] = metrics(baseline.rank(q.text), q);
    base.ndcg += ndcg / static_cast<double>(set.queries.size());
  }
  // Words as written rank like plain BM25 at best; fused with the text search they must not
  // undo its analysis (stems, accents, translations, feedback).
  EXPECT_GE(score["hybrid with semantic"].ndcg, base.ndcg * kHybridOverBaseline);
  server.stop();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, RelevanceE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
