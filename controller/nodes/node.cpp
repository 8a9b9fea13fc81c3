#include "controller/nodes/node.hpp"

#include <algorithm>

#include "common/result.hpp"

namespace locus::controller {

const char* toString(NodeState s) {
  switch (s) {
    case NodeState::kUnknown: return "UNKNOWN";
    case NodeState::kUp: return "UP";
    case NodeState::kDown: return "DOWN";
  }
  return "UNKNOWN";
}

bool Node::setTopology(NodeTopology topology) {
  if (cores_alloc_ > 0 || mem_alloc_mb_ > 0 || gpu_busy_ != 0) return false;
  if (topology.gpus.size() > 64) topology.gpus.resize(64);  // the scheduler's GPU masks hold 64
  topology_ = std::move(topology);
  refreshFeatures();
  uint32_t max_core = 0;
  bool any = false;
  for (const auto& d : topology_.numa)
    for (const auto& c : d.cores) {
      max_core = std::max(max_core, c.id);
      any = true;
    }
  core_numa_.assign(any ? max_core + 1 : 0, 0);
  for (size_t d = 0; d < topology_.numa.size(); ++d)
    for (const auto& c : topology_.numa[d].cores) core_numa_[c.id] = static_cast<uint32_t>(d);
  core_busy_.assign(core_numa_.size(), false);
  return true;
}

std::vector<std::vector<uint32_t>> Node::freeCoresByNuma() const {
  std::vector<std::vector<uint32_t>> out(topology_.numa.size());
  for (uint32_t c = 0; c < core_numa_.size(); ++c)
    if (!core_busy_[c]) out[core_numa_[c]].push_back(c);
  return out;
}

uint64_t Node::freeGpuMask() const {
  const size_t n = topology_.gpus.size();
  const uint64_t all = n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  return all & ~gpu_busy_;
}

void Node::setFeatures(std::vector<std::string> configured) {
  configured_features_ = std::move(configured);
  refreshFeatures();
}

void Node::refreshFeatures() {
  all_features_ = configured_features_;
  auto discovered = discoveredFeatures(topology_);
  all_features_.insert(all_features_.end(), discovered.begin(), discovered.end());
  std::sort(all_features_.begin(), all_features_.end());
  all_features_.erase(std::unique(all_features_.begin(), all_features_.end()), all_features_.end());
}

bool Node::areFree(const std::vector<uint32_t>& cores, const std::vector<uint32_t>& gpus) const {
  for (uint32_t c : cores)
    if (c >= core_busy_.size() || core_busy_[c]) return false;
  for (uint32_t g : gpus)
    if (g >= 64 || (gpu_busy_ >> g & 1)) return false;
  return true;
}

void Node::allocate(const std::vector<uint32_t>& cores, uint64_t mem_mb,
                    const std::vector<uint32_t>& gpus) {
  for (uint32_t g : gpus) {
    LOCUS_CHECK(g < topology_.gpus.size()) << "node=" << name_ << " gpu=" << g << " out of range";
    LOCUS_CHECK(!(gpu_busy_ >> g & 1)) << "node=" << name_ << " gpu=" << g << " allocated twice";
    gpu_busy_ |= uint64_t{1} << g;
  }
  for (uint32_t c : cores) {
    LOCUS_CHECK(c < core_busy_.size()) << "node=" << name_ << " core=" << c << " out of range";
    LOCUS_CHECK(!core_busy_[c]) << "node=" << name_ << " core=" << c << " allocated twice";
    core_busy_[c] = true;
  }
  cores_alloc_ += static_cast<uint32_t>(cores.size());
  mem_alloc_mb_ += mem_mb;
}

void Node::release(const std::vector<uint32_t>& cores, uint64_t mem_mb,
                   const std::vector<uint32_t>& gpus) {
  for (uint32_t g : gpus) {
    LOCUS_CHECK(g < 64 && (gpu_busy_ >> g & 1)) << "node=" << name_ << " gpu=" << g << " freed while free";
    gpu_busy_ &= ~(uint64_t{1} << g);
  }
  for (uint32_t c : cores) {
    LOCUS_CHECK(c < core_busy_.size()) << "node=" << name_ << " core=" << c << " out of range";
    LOCUS_CHECK(core_busy_[c]) << "node=" << name_ << " core=" << c << " freed while free";
    core_busy_[c] = false;
  }
  LOCUS_CHECK(cores_alloc_ >= cores.size() && mem_alloc_mb_ >= mem_mb) << "node=" << name_;
  cores_alloc_ -= static_cast<uint32_t>(cores.size());
  mem_alloc_mb_ -= mem_mb;
}

}  // namespace locus::controller
