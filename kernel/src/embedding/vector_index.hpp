#pragma once
// The vectors of the configured model in memory, for nearest-neighbour search (docs/semantic.md).
// Each vector is kept normalised (so cosine similarity is a dot product) with the version it was
// made from; a caller checks that version against the context's current one, so a vector the
// index still holds for an older version is never taken for the new one.
//
// Below `hnsw_threshold` vectors search is exact: every vector is compared (about 1 ms per 10 000
// vectors of 768 dimensions on one core here). From it on, an HNSW graph (hnswlib) answers:
// approximate, logarithmic, built once when the index reaches the threshold and then updated in
// place by every put and reload (a changed vector moves, a vanished context is marked deleted).
// After each change the graph's links are walked from its entry point: a point no search can
// reach (hnswlib may leave one with no link to it) is compared one by one beside every search,
// so none is lost for good.
//
// Thread-safety: searches (nearest, similarity, size) from any thread, concurrently with updates;
// updates (replace_all, put) from one thread at a time — the embedding worker's. The graph is built
// outside the lock, so searches stay exact, not blocked, while it is built.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctxmgr/sdk/storage_vectors.hpp"

namespace ctxmgr::kernel {

struct Neighbour {
  std::string context_id;
  std::int64_t version = 0;
  float similarity = 0;  // cosine, in [-1, 1]
};

struct VectorIndexSettings {
  std::size_t hnsw_threshold = 20000;  // vectors from which the graph answers; 0: always exact
  std::size_t ef_search = 200;         // candidates a graph search keeps (recall against time)
};

class VectorIndex {
 public:
  explicit VectorIndex(VectorIndexSettings settings = {});
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Makes the index hold exactly `vectors` (a reload from the store): what changed is put, what
  // is gone is removed; a vector held already (same version, same values) is left alone.
  void replace_all(const std::vector<sdk::ContextVector>& vectors);
  // Adds or replaces these (newer versions win; an older one, or the vector held, is ignored).
  void put(const std::vector<sdk::ContextVector>& vectors);

  // The `k` most similar to `query` (any length; vectors of another length are skipped), best
  // first.
  std::vector<Neighbour> nearest(const std::vector<float>& query, std::size_t k) const;
  // The similarity of one context's vector to `query`, if the index holds one for `version`.
  std::optional<float> similarity(const std::string& context_id, std::int64_t version,
                                  const std::vector<float>& query) const;
  std::size_t size() const;
  // Whether nearest() searches the HNSW graph (else every vector).
  bool approximate() const;
  // The graph's points that no search reaches, compared one by one beside it (0 without a graph).
  std::size_t unreachable() const;

  // `v` scaled to length 1 (all zeros stays zeros).
  static std::vector<float> normalised(std::vector<float> v);

 private:
  struct Entry {
    std::int64_t version = 0;
    std::vector<float> unit;
  };
  class Graph;  // vector_index.cpp: hnswlib stays out of this header

  static float dot(const std::vector<float>& a, const std::vector<float>& b);
  static float length(const std::vector<float>& v);
  // Under the unique lock.
  void put_locked(const std::string& context_id, std::int64_t version, std::vector<float> unit);
  void remove_locked(const std::string& context_id);
  // Builds the graph when the index has reached the threshold (the updating thread, no lock held).
  void build_graph_if_due();
  // The end of every put and reload: the graph built when due, its reach walked when due.
  // `moved_before`: moved_since_walk_ when the update began.
  void after_update(std::size_t moved_before);
  // Walks the graph's links when enough points moved since the last walk, or any did and this
  // call (`idle`) moved none (the updating thread, no lock held), and keeps the points it did not
  // reach in unreachable_.
  void check_reach_if_due(bool idle);
  // After hnswlib threw: searches compare every vector from then on.
  void drop_graph(const std::exception& e);
  std::vector<Neighbour> nearest_exact(const std::vector<float>& query, std::size_t k) const;

  const VectorIndexSettings settings_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::unique_ptr<Graph> graph_;
  bool graph_failed_ = false;             // the updating thread's alone
  std::vector<std::string> unreachable_;  // ids of graph points no search reaches, at the last walk
  std::size_t moved_since_walk_ = 0;  // points put in the graph since the last walk; the updating
                                      // thread's alone
};

}  // namespace ctxmgr::kernel
