#pragma once
// A node as the controller tracks it: its topology, which cores and how much memory are
// allocated, and whether it is alive.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/topology.hpp"
#include "controller/node_channel.hpp"

namespace locus::controller {

enum class NodeState {
  kUnknown,  // known from the store, not reconnected since the controller started
  kUp,
  kDown,     // silent past the node timeout
};
const char* toString(NodeState s);

class Node {
 public:
  explicit Node(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  const NodeTopology& topology() const { return topology_; }
  // Replaces the topology. Only allowed while nothing is allocated (a node re-registering with
  // different hardware while running jobs keeps its old view until idle).
  bool setTopology(NodeTopology topology);

  uint32_t cores() const { return static_cast<uint32_t>(core_numa_.size()); }
  uint32_t coresAllocated() const { return cores_alloc_; }
  uint64_t memMb() const { return topology_.mem_mb; }
  uint64_t memAllocatedMb() const { return mem_alloc_mb_; }
  // Free logical core ids per NUMA domain, ascending (the scheduler's view).
  std::vector<std::vector<uint32_t>> freeCoresByNuma() const;

  uint32_t gpus() const { return static_cast<uint32_t>(topology_.gpus.size()); }
  uint32_t gpusAllocated() const { return static_cast<uint32_t>(__builtin_popcountll(gpu_busy_)); }
  uint64_t freeGpuMask() const;  // bit g: GPU g is free

  // Whether every one of these cores and GPUs is free (a suspended job waits for exactly its own).
  bool areFree(const std::vector<uint32_t>& cores, const std::vector<uint32_t>& gpus) const;
  // Accounting: allocating a busy core or GPU, or releasing a free one, is a bug, checked loudly.
  void allocate(const std::vector<uint32_t>& cores, uint64_t mem_mb,
                const std::vector<uint32_t>& gpus = {});
  void release(const std::vector<uint32_t>& cores, uint64_t mem_mb,
               const std::vector<uint32_t>& gpus = {});

  // The configured features ([[node]] features in locus.toml).
  void setFeatures(std::vector<std::string> configured);
  // Those plus what discovery implies (GPU types, CPU vendor), sorted, unique. Kept up to date
  // by setFeatures and setTopology: every scheduling pass reads it for every node.
  const std::vector<std::string>& allFeatures() const { return all_features_; }

  NodeState state = NodeState::kUnknown;
  std::chrono::steady_clock::time_point last_seen{};
  uint64_t boot_id = 0;
  std::string limits;  // how its daemon confines tasks (RegisterNode.limits)
  std::string step_address;  // its daemon's StepApi (RegisterNode.step_address)
  bool emulated = false;     // RegisterNode.emulated
  uint32_t switch_index = 0;  // its switch in the controller's tree (set when created)
  std::shared_ptr<NodeChannel> channel;  // null while disconnected

 private:
  std::string name_;
  NodeTopology topology_;
  std::vector<uint32_t> core_numa_;  // logical core id -> index into topology_.numa
  std::vector<bool> core_busy_;
  uint32_t cores_alloc_ = 0;
  uint64_t mem_alloc_mb_ = 0;
  uint64_t gpu_busy_ = 0;  // bit g: GPU g allocated (at most 64 GPUs per node)
  void refreshFeatures();
  std::vector<std::string> configured_features_;
  std::vector<std::string> all_features_;
};

}  // namespace locus::controller
