#include "embedding/vector_index.hpp"

// hnswlib 0.6.2's SSE path prefetches one link past the end of a node's list (a heap read out of
// bounds that AddressSanitizer reports); without manual vectorisation it neither prefetches nor
// uses SIMD distances (the compiler's own vectorisation remains).
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <string_view>
#include <unordered_set>

#include "log/logging.hpp"

namespace ctxmgr::kernel {

// An HNSW graph over unit vectors of one length: inner product is cosine, and hnswlib's distance
// is 1 - cosine. Labels are numbered as contexts arrive; a removed context's label is marked
// deleted (searches skip it) and comes back if the context does. hnswlib throws on failure.
class VectorIndex::Graph {
 public:
  Graph(std::size_t dims, std::size_t capacity, std::size_t ef_search)
      : dims_(dims),
        space_(dims),
        hnsw_(&space_, std::max<std::size_t>(capacity, 16), kM, kEfConstruction, kSeed) {
    hnsw_.setEf(ef_search);
  }

  std::size_t dims() const { return dims_; }

  void put(const std::string& context_id, const std::vector<float>& unit) {
    auto [it, added] = labels_.try_emplace(context_id, ids_.size());
    if (added) {
      ids_.push_back(context_id);
      if (hnsw_.cur_element_count >= hnsw_.max_elements_) {
        hnsw_.resizeIndex(2 * hnsw_.max_elements_);
      }
    }
    hnsw_.addPoint(unit.data(), it->second);  // an existing label moves (and is undeleted)
  }

  void remove(const std::string& context_id) {
    const auto it = labels_.find(context_id);
    if (it != labels_.end()) hnsw_.markDelete(it->second);
  }

  // The live points no search can reach: layer 0 walked from the entry point, where every search
  // starts. A point's links to others are its own, but the links to it are its neighbours', and a
  // neighbour whose list is full keeps the candidates that hnswlib's heuristic prefers: a point
  // unlike the rest (one billing note among forty alike) can lose every link to it and is then
  // never found, not even by its own vector (0.1-0.7 % of 20 000 clustered vectors here).
  std::vector<std::string> unreachable() const {
    const std::size_t n = hnsw_.cur_element_count;
    std::vector<std::string> out;
    if (n == 0) return out;
    std::vector<bool> seen(n, false);
    std::vector<hnswlib::tableint> next{hnsw_.enterpoint_node_};
    seen[hnsw_.enterpoint_node_] = true;
    while (!next.empty()) {
      const hnswlib::tableint at = next.back();
      next.pop_back();
      hnswlib::linklistsizeint* list = hnsw_.get_linklist0(at);
      const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
      for (std::size_t i = 0, count = hnsw_.getListCount(list); i < count; ++i) {
        if (!seen[links[i]]) {
          seen[links[i]] = true;
          next.push_back(links[i]);
        }
      }
    }
    for (hnswlib::tableint i = 0; i < n; ++i) {
      if (!seen[i] && !hnsw_.isMarkedDeleted(i)) out.push_back(ids_[hnsw_.getExternalLabel(i)]);
    }
    return out;
  }

  // (context id, cosine) of the k nearest to a unit `query`, best first.
  std::vector<std::pair<const std::string*, float>> search(const std::vector<float>& query,
                                                           std::size_t k) const {
    auto found = hnsw_.searchKnn(query.data(), k);  // the farthest on top
    std::vector<std::pair<const std::string*, float>> out(found.size());
    for (std::size_t i = found.size(); i-- > 0; found.pop()) {
      out[i] = {&ids_[found.top().second], 1.0f - found.top().first};
    }
    return out;
  }

 private:
  // hnswlib's usual parameters: 16 links a node, 100 candidates while inserting.
  static constexpr std::size_t kM = 16;
  static constexpr std::size_t kEfConstruction = 100;
  static constexpr std::size_t kSeed = 42;

  std::size_t dims_;
  hnswlib::InnerProductSpace space_;  // before hnsw_, which keeps a pointer to it
  hnswlib::HierarchicalNSW<float> hnsw_;
  std::unordered_map<std::string, std::size_t> labels_;
  std::vector<std::string> ids_;  // by label
};

VectorIndex::VectorIndex(VectorIndexSettings settings) : settings_(settings) {}

VectorIndex::~VectorIndex() = default;

std::vector<float> VectorIndex::normalised(std::vector<float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(sum));
    for (float& x : v) x *= scale;
  }
  return v;
}

float VectorIndex::dot(const std::vector<float>& a, const std::vector<float>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0f);
}

float VectorIndex::length(const std::vector<float>& v) {
  return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0f));
}

void VectorIndex::put_locked(const std::string& context_id, std::int64_t version,
                             std::vector<float> unit) {
  auto& e = entries_[context_id];
  if (!e.unit.empty() && e.version > version) return;
  // The same vector again (the worker's own, read back from the store) changes nothing; the same
  // version with other values (re-embedded after `embeddings rebuild`) replaces it.
  if (!e.unit.empty() && e.version == version && e.unit == unit) return;
  e.version = version;
  e.unit = std::move(unit);
  if (graph_ && e.unit.size() == graph_->dims()) {
    graph_->put(context_id, e.unit);
    ++moved_since_walk_;
  }
}

void VectorIndex::remove_locked(const std::string& context_id) {
  entries_.erase(context_id);
  if (graph_) graph_->remove(context_id);
}

void VectorIndex::replace_all(const std::vector<sdk::ContextVector>& vectors) {
  // The updating thread is the only one that changes entries_: it reads them without the lock.
  std::unordered_set<std::string_view> present;
  present.reserve(vectors.size());
  std::vector<std::pair<const sdk::ContextVector*, std::vector<float>>> changed;  // with its unit
  for (const auto& v : vectors) {
    present.insert(v.context_id);
    auto unit = normalised(v.values);
    const auto it = entries_.find(v.context_id);
    if (it == entries_.end() || it->second.version != v.version || it->second.unit != unit) {
      changed.emplace_back(&v, std::move(unit));
    }
  }
  std::vector<std::string> gone;
  for (const auto& [id, e] : entries_) {
    if (present.count(id) == 0) gone.push_back(id);
  }
  const std::size_t moved = moved_since_walk_;
  try {
    std::unique_lock lock(mu_);
    for (auto& [v, unit] : changed) put_locked(v->context_id, v->version, std::move(unit));
    for (const auto& id : gone) remove_locked(id);
  } catch (const std::exception& e) {
    drop_graph(e);
  }
  after_update(moved);
}

void VectorIndex::put(const std::vector<sdk::ContextVector>& vectors) {
  const std::size_t moved = moved_since_walk_;
  try {
    std::unique_lock lock(mu_);
    for (const auto& v : vectors) put_locked(v.context_id, v.version, normalised(v.values));
  } catch (const std::exception& e) {
    drop_graph(e);
  }
  after_update(moved);
}

void VectorIndex::drop_graph(const std::exception& e) {
  kernel_log().warn("vector index: the HNSW graph failed ({}); searches compare every vector",
                    e.what());
  std::unique_lock lock(mu_);
  graph_.reset();
  graph_failed_ = true;
}

void VectorIndex::build_graph_if_due() {
  if (graph_ || graph_failed_ || settings_.hnsw_threshold == 0 ||
      entries_.size() < settings_.hnsw_threshold) {
    return;
  }
  // The graph takes the most common length (one model's vectors have one).
  std::unordered_map<std::size_t, std::size_t> lengths;
  for (const auto& [id, e] : entries_) ++lengths[e.unit.size()];
  const std::size_t dims =
      std::max_element(lengths.begin(), lengths.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  try {
    auto graph = std::make_unique<Graph>(dims, 2 * entries_.size(), settings_.ef_search);
    for (const auto& [id, e] : entries_) {
      if (e.unit.size() == dims) graph->put(id, e.unit);
    }
    std::unique_lock lock(mu_);
    graph_ = std::move(graph);
    moved_since_walk_ = entries_.size();
  } catch (const std::exception& e) {
    drop_graph(e);
  }
}

void VectorIndex::after_update(std::size_t moved_before) {
  build_graph_if_due();
  check_reach_if_due(moved_since_walk_ == moved_before);
}

void VectorIndex::check_reach_if_due(bool idle) {
  if (moved_since_walk_ == 0 || !graph_) return;
  // The walk reads every link (about 3 ms for 20 000 points here): it waits until a thirty-second
  // of the points moved since the last one (a few link reads per point put, beside the hundred
  // distances hnswlib computes to insert it), or for a call that moved none (the worker's next
  // reload, within `reload`), so a burst of puts is walked once at its end.
  if (!idle && moved_since_walk_ < std::max<std::size_t>(1, entries_.size() / 32)) return;
  // The updating thread is the graph's only writer: it reads the links without the lock.
  std::vector<std::string> lost = graph_->unreachable();
  moved_since_walk_ = 0;
  std::unique_lock lock(mu_);
  unreachable_ = std::move(lost);
}

std::vector<Neighbour> VectorIndex::nearest(const std::vector<float>& query, std::size_t k) const {
  std::shared_lock lock(mu_);
  if (!graph_ || query.size() != graph_->dims() || k == 0) return nearest_exact(query, k);
  std::vector<Neighbour> out;
  const std::vector<float> unit = normalised(query);
  try {
    for (const auto& [id, similarity] : graph_->search(unit, k)) {
      out.push_back(Neighbour{*id, entries_.at(*id).version, similarity});
    }
  } catch (const std::exception& e) {
    kernel_log().warn("vector index: an HNSW search failed ({}); this one compares every vector",
                      e.what());
    return nearest_exact(query, k);
  }
  // The points the graph cannot reach are compared one by one (a later link may have made one
  // reachable again since the last walk: it is not taken twice).
  if (!unreachable_.empty()) {
    out.reserve(out.size() + unreachable_.size());  // `found` views out's ids: no reallocation
    std::unordered_set<std::string_view> found;
    found.reserve(out.size());
    for (const auto& n : out) found.insert(n.context_id);
    for (const auto& id : unreachable_) {
      const auto it = entries_.find(id);
      if (it == entries_.end() || it->second.unit.size() != unit.size() || found.count(id) != 0) {
        continue;
      }
      out.push_back(Neighbour{id, it->second.version, dot(it->second.unit, unit)});
    }
  }
  std::sort(out.begin(), out.end(), [](const Neighbour& a, const Neighbour& b) {
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    return a.context_id < b.context_id;  // ties in a stable order
  });
  if (out.size() > k) out.resize(k);
  return out;
}

std::vector<Neighbour> VectorIndex::nearest_exact(const std::vector<float>& query,
                                                  std::size_t k) const {
  // Cosine against unit vectors: the dot product over the query's length, no normalised copy.
  const float norm = length(query);
  const float scale = norm > 0 ? 1.0f / norm : 0.0f;
  struct Scored {
    float similarity;
    const std::string* id;  // a key of entries_, valid while the caller holds the lock
    std::int64_t version;
  };
  std::vector<Scored> all;
  all.reserve(entries_.size());
  for (const auto& [id, e] : entries_) {
    if (e.unit.size() != query.size()) continue;
    all.push_back(Scored{dot(e.unit, query) * scale, &id, e.version});
  }
  const std::size_t n = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    [](const Scored& a, const Scored& b) {
                      if (a.similarity != b.similarity) return a.similarity > b.similarity;
                      return *a.id < *b.id;  // ties in a stable order
                    });
  // Only the k best ids are copied.
  std::vector<Neighbour> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(Neighbour{*all[i].id, all[i].version, all[i].similarity});
  return out;
}

std::optional<float> VectorIndex::similarity(const std::string& context_id, std::int64_t version,
                                             const std::vector<float>& query) const {
  const float norm = length(query);
  std::shared_lock lock(mu_);
  const auto it = entries_.find(context_id);
  if (it == entries_.end() || it->second.version != version ||
      it->second.unit.size() != query.size()) {
    return std::nullopt;
  }
  return norm > 0 ? dot(it->second.unit, query) / norm : 0.0f;
}

std::size_t VectorIndex::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

std::size_t VectorIndex::unreachable() const {
  std::shared_lock lock(mu_);
  return graph_ ? unreachable_.size() : 0;
}

bool VectorIndex::approximate() const {
  std::shared_lock lock(mu_);
  return graph_ != nullptr;
}

}  // namespace ctxmgr::kernel
