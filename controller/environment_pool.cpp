#include "controller/environment_pool.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace locus::controller {

uint64_t EnvironmentPool::hashOf(const Environment& env) {
  // The map's order is fixed, so equal environments hash alike.
  uint64_t h = 1469598103934665603ull;
  const std::hash<std::string_view> hash;
  for (const auto& [k, v] : env) {
    h = (h ^ hash(k)) * 1099511628211ull;
    h = (h ^ hash(v)) * 1099511628211ull;
  }
  return h;
}

std::shared_ptr<const EnvironmentPool::Environment> EnvironmentPool::intern(Environment env) {
  if (env.empty()) return nullptr;
  auto& bucket = by_hash_[hashOf(env)];
  for (const auto& weak : bucket)
    if (auto held = weak.lock(); held && *held == env) return held;
  auto fresh = std::make_shared<const Environment>(std::move(env));
  bucket.push_back(fresh);
  if (++tracked_ >= sweep_at_) sweep();
  return fresh;
}

void EnvironmentPool::share(Job& job) {
  if (job.shared_environment || job.spec.environment.empty()) return;
  job.shared_environment = intern(std::move(job.spec.environment));
  job.spec.environment.clear();  // moved-from: make it certainly empty
}

size_t EnvironmentPool::held() const {
  size_t n = 0;
  for (const auto& [hash, bucket] : by_hash_)
    for (const auto& weak : bucket) n += weak.expired() ? 0 : 1;
  return n;
}

void EnvironmentPool::sweep() {
  tracked_ = 0;
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    auto& bucket = it->second;
    bucket.erase(std::remove_if(bucket.begin(), bucket.end(), [](const auto& w) { return w.expired(); }),
                 bucket.end());
    tracked_ += bucket.size();
    it = bucket.empty() ? by_hash_.erase(it) : std::next(it);
  }
  // Amortized: the next sweep once as many again have been added.
  sweep_at_ = std::max(kFirstSweep, 2 * tracked_);
}

}  // namespace locus::controller
