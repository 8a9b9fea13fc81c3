#pragma once
// The pass's working copy of free resources: flat per-node arrays plus an index of nodes by free
// core count, so "the node with the fewest free cores >= k" and "nodes by most free cores" are
// walks over a few buckets instead of scans over all nodes.
//
// Only schedulable nodes with at least one free core are listed in the index. A placement first
// hides the nodes it picks (so the next pick of the same job cannot choose them again), then
// either takes from all of them (committing) or unhides them (the job did not fit; nothing
// changed). Free resources only shrink during a pass.
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

class FreePool {
 public:
  explicit FreePool(const std::vector<NodeState>& nodes);

  uint64_t totalFreeCores() const { return total_free_cores_; }  // over listed and hidden nodes
  uint32_t listedNodes() const { return listed_; }
  uint32_t maxFreeCores() const;  // over listed nodes; 0 when none is listed
  uint32_t freeCores(uint32_t node) const { return free_cores_[node]; }
  uint64_t freeMem(uint32_t node) const { return free_mem_[node]; }

  // The listed node with the fewest free cores >= `cores` and free memory >= `mem_mb`; ties go
  // to the lower node index. nullopt when none.
  std::optional<uint32_t> bestFit(uint64_t cores, uint64_t mem_mb) const;

  // Calls visit(node) for listed nodes with free cores >= `min_cores` and free memory >= `mem_mb`,
  // most free cores first, then by node index, until visit returns false. visit must not change
  // the pool.
  template <typename Visit>
  void visitMostFree(uint64_t min_cores, uint64_t mem_mb, Visit&& visit) const {
    if (min_cores == 0 || min_cores >= buckets_.size()) return;
    for (size_t c = buckets_.size() - 1; c >= min_cores; --c) {
      for (uint32_t node : buckets_[c]) {
        if (free_mem_[node] >= mem_mb && !visit(node)) return;
      }
    }
  }

  // Removes a listed node from the index for the duration of one placement.
  void hide(uint32_t node);
  // Puts a hidden node back, unchanged.
  void unhide(uint32_t node);
  // Takes `cores` cores (packed into as few NUMA domains as possible, lowest ids in each domain)
  // and `mem_mb` from a hidden node, then lists it again under its new free count.
  NodeAllocation take(uint32_t node, uint32_t cores, uint64_t mem_mb, uint32_t ntasks);

 private:
  // Free core ids of one NUMA domain are core_ids_[head, end): a job always takes the lowest
  // ids, so taking is advancing `head` (no erase from the front of a vector).
  struct Domain {
    uint32_t head = 0;
    uint32_t end = 0;
  };

  void list(uint32_t node);
  void unlist(uint32_t node);

  std::vector<uint32_t> free_cores_;    // per node
  std::vector<uint64_t> free_mem_;      // per node
  std::vector<uint8_t> state_;          // per node: kUnlisted, kListed, kHidden
  std::vector<uint32_t> domain_begin_;  // per node, into domains_; one extra at the end
  std::vector<Domain> domains_;
  std::vector<uint32_t> core_ids_;
  std::vector<std::set<uint32_t>> buckets_;  // buckets_[c]: listed nodes with c free cores
  std::vector<uint64_t> nonempty_;           // bit c set when buckets_[c] is not empty
  uint64_t total_free_cores_ = 0;
  uint32_t listed_ = 0;
};

}  // namespace locus::scheduler
