#include "embedding/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

namespace ctxmgr::kernel {

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

void VectorIndex::put_locked(const sdk::ContextVector& v) {
  auto& e = entries_[v.context_id];
  if (!e.unit.empty() && e.version > v.version) return;
  e.version = v.version;
  e.unit = normalised(v.values);
}

void VectorIndex::replace_all(const std::vector<sdk::ContextVector>& vectors) {
  std::unordered_map<std::string, Entry> fresh;
  fresh.reserve(vectors.size());
  for (const auto& v : vectors) fresh[v.context_id] = Entry{v.version, normalised(v.values)};
  std::unique_lock lock(mu_);
  entries_.swap(fresh);
}

void VectorIndex::put(const std::vector<sdk::ContextVector>& vectors) {
  std::unique_lock lock(mu_);
  for (const auto& v : vectors) put_locked(v);
}

float VectorIndex::length(const std::vector<float>& v) {
  return std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0f));
}

std::vector<Neighbour> VectorIndex::nearest(const std::vector<float>& query, std::size_t k) const {
  // Cosine against unit vectors: the dot product over the query's length, no normalised copy.
  const float norm = length(query);
  const float scale = norm > 0 ? 1.0f / norm : 0.0f;
  struct Scored {
    float similarity;
    const std::string* id;  // a key of entries_, valid while the lock is held
    std::int64_t version;
  };
  std::shared_lock lock(mu_);
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

}  // namespace ctxmgr::kernel
