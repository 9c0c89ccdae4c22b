// The kernel's vector index (kernel/src/embedding/vector_index.cpp) on N random vectors: the time
// to fill it (with the HNSW graph's build when N reaches the threshold), the time per nearest()
// of k = 400 (the semantic component's neighbours), and the graph's recall@10 against exact
// search on the same vectors. bench/vector_index.sh runs it; peak memory from /usr/bin/time -v.
// Vectors are Gaussian noise (`random`: no structure at all, HNSW's worst case) or drawn around
// 1 000 centres (`clustered`: topics, nearer to what an embedding model makes).
//   vector_index_bench N DIMS THRESHOLD QUERIES random|clustered

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "embedding/vector_index.hpp"

namespace ck = ctxmgr::kernel;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: vector_index_bench N DIMS THRESHOLD QUERIES random|clustered\n");
    return 2;
  }
  const auto n = std::strtoul(argv[1], nullptr, 10);
  const auto dims = std::strtoul(argv[2], nullptr, 10);
  const auto threshold = std::strtoul(argv[3], nullptr, 10);
  const auto queries = std::strtoul(argv[4], nullptr, 10);
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss;
  const bool clustered = std::string(argv[5]) == "clustered";
  auto noise = [&] {
    std::vector<float> v(dims);
    for (float& x : v) x = gauss(rng);
    return v;
  };
  std::vector<std::vector<float>> centres;
  for (int c = 0; clustered && c < 1000; ++c) centres.push_back(noise());
  std::uniform_int_distribution<std::size_t> pick(0, 999);
  auto random_vector = [&] {
    auto v = noise();
    if (clustered) {
      const auto& c = centres[pick(rng)];
      for (std::size_t d = 0; d < dims; ++d) v[d] = c[d] + 0.5f * v[d];
    }
    return v;
  };
  std::vector<ctxmgr::sdk::ContextVector> all;
  all.reserve(n);
  for (unsigned long i = 0; i < n; ++i)
    all.push_back({"c" + std::to_string(i), 1, random_vector()});

  ck::VectorIndex index(ck::VectorIndexSettings{threshold, 200});
  const auto fill_start = Clock::now();
  for (std::size_t at = 0; at < all.size(); at += 64) {  // the worker's batches
    const auto end = std::min(all.size(), at + 64);
    index.put({all.begin() + static_cast<std::ptrdiff_t>(at),
               all.begin() + static_cast<std::ptrdiff_t>(end)});
  }
  index.put({});  // the worker's next reload, which finds nothing new: the graph's reach is walked
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();

  // Exact top 10 by brute force over the raw vectors (no second index: peak memory stays the
  // index's own, beside the raw vectors both modes hold).
  auto exact_top10 = [&](const std::vector<float>& query) {
    std::vector<std::pair<float, std::size_t>> scored;
    scored.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto unit = ck::VectorIndex::normalised(all[i].values);
      float dot = 0;
      for (std::size_t d = 0; d < dims; ++d) dot += unit[d] * query[d];
      scored.emplace_back(dot, i);
    }
    std::partial_sort(scored.begin(), scored.begin() + 10, scored.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::unordered_set<std::string> ids;
    for (std::size_t i = 0; i < 10; ++i) ids.insert(all[scored[i].second].context_id);
    return ids;
  };
  double search_ms = 0;
  std::size_t found = 0;
  for (unsigned long q = 0; q < queries; ++q) {
    const auto query = random_vector();
    const auto start = Clock::now();
    const auto got = index.nearest(query, 400);
    search_ms += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (index.approximate() && q < 20) {  // recall on the first 20 queries
      const auto want = exact_top10(query);
      for (std::size_t i = 0; i < 10 && i < got.size(); ++i) found += want.count(got[i].context_id);
    }
  }
  std::printf(
      "RESULT data=%s n=%lu dims=%lu approximate=%d fill_s=%.2f search_ms=%.3f recall10=%.3f "
      "unreachable=%zu\n",
      argv[5], n, dims, index.approximate() ? 1 : 0, fill_s,
      search_ms / static_cast<double>(queries),
      index.approximate() ? static_cast<double>(found) / (10.0 * std::min(20ul, queries)) : 1.0,
      index.unreachable());
  return 0;
}
