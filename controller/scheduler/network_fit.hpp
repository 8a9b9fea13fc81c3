#pragma once
// Fitting a multi-node job into the switch tree, like Slurm's topology/tree: the lowest switch
// whose subtree holds the job, and inside it as few leaf switches as possible.
//
// Example: leaves L1 (nodes n1-n4) and L2 (n5-n8) under spine S. A 3-node job with n1, n2, n5,
// n6, n7 free goes to L2 (height 1, the only leaf holding 3); a 5-node job needs S, takes all
// three of L2 (the leaf that alone holds the most) and then 2 of L1: two leaves, never three.
#include <cstdint>
#include <optional>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

class NetworkIndex {
 public:
  // `nodes`: Snapshot::nodes.size(). Nodes the network does not place hang off a virtual root
  // above the configured top switch(es), as one bucket of their own.
  NetworkIndex(const Network& network, size_t nodes);

  bool flat() const { return flat_; }

  // k nodes out of `candidates` (each able to hold any of the job's slots), given in preference
  // order: from the lowest switch with at least k candidates (ties: the fewest candidates, then
  // the lower index), inside it leaf by leaf: a leaf that holds the remainder alone (the one
  // with the fewest candidates), else the leaf with the most. Within a leaf, candidates keep
  // their order. nullopt when fewer than k candidates. Cost: O(candidates x depth + switches).
  struct Fit {
    std::vector<uint32_t> nodes;
    uint32_t leaves = 0;  // distinct leaf switches used
  };
  std::optional<Fit> pickNodes(const std::vector<uint32_t>& candidates, uint32_t k) const;

  // The lowest switch whose candidates' capacities (capacity[i] for candidates[i]) sum to at least
  // `need` (ties: the least capacity, then the lower index), as a bitmap over nodes (`words`
  // 64-bit words) of its subtree's candidates. nullopt when even all together fall short.
  std::optional<std::vector<uint64_t>> subtreeWithCapacity(const std::vector<uint32_t>& candidates,
                                                           const std::vector<uint32_t>& capacity,
                                                           uint64_t need, size_t words) const;

  // Distinct leaf switches among `nodes`.
  uint32_t leavesOf(const std::vector<uint32_t>& nodes) const;

 private:
  uint32_t leafOf(uint32_t node) const { return leaf_of_node_[node]; }
  bool under(uint32_t sw, uint32_t ancestor) const;

  bool flat_ = true;
  std::vector<uint32_t> leaf_of_node_;  // per node: its switch (the virtual root when none)
  std::vector<uint32_t> parent_;        // per switch, kNoSwitch for the (virtual) root
  std::vector<uint32_t> height_;        // per switch: 1 for a switch without child switches
  mutable std::vector<uint64_t> count_;  // scratch, per switch
  mutable std::vector<uint32_t> touched_;
};

}  // namespace locus::scheduler
