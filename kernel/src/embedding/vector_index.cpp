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

std::vector<Neighbour> VectorIndex::nearest(const std::vector<float>& query, std::size_t k) const {
  const auto q = normalised(query);
  std::vector<Neighbour> all;
  {
    std::shared_lock lock(mu_);
    all.reserve(entries_.size());
    for (const auto& [id, e] : entries_) {
      if (e.unit.size() != q.size()) continue;
      all.push_back(Neighbour{id, e.version, dot(e.unit, q)});
    }
  }
  const std::size_t n = std::min(k, all.size());
  auto better = [](const Neighbour& a, const Neighbour& b) {
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    return a.context_id < b.context_id;  // ties in a stable order
  };
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), better);
  all.resize(n);
  return all;
}

std::optional<float> VectorIndex::similarity(const std::string& context_id, std::int64_t version,
                                             const std::vector<float>& query) const {
  const auto q = normalised(query);
  std::shared_lock lock(mu_);
  const auto it = entries_.find(context_id);
  if (it == entries_.end() || it->second.version != version || it->second.unit.size() != q.size()) {
    return std::nullopt;
  }
  return dot(it->second.unit, q);
}

std::size_t VectorIndex::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace ctxmgr::kernel
