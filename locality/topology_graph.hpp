#pragma once
// The controller's topology graph: ONE graph for the whole cluster,
//
//   switch tree  ->  nodes  ->  NUMA domains  ->  cores
//                                           \->  GPUs (attached to the NUMA domain of their PCI
//                                                locality; to the node when it is unknown)
//
// and the queries placement needs: hops between nodes, the smallest switch subtree holding K
// nodes with enough free cores, NUMA distances, GPU-to-GPU link classes. The graph is a
// Boost.Graph adjacency_list kept inside locality/ (STYLE.md rule 8): this header exposes only
// indices. Free resources are not stored here; queries take them as flat arrays indexed by
// NodeIndex, so one graph serves every scheduler pass and the simulator.
//
// Thread-safety: const methods may run concurrently; addNode needs exclusive access.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/topology.hpp"
#include "locality/switch_tree.hpp"

namespace locus::locality {

using NodeIndex = uint32_t;    // 0, 1, 2, ... in addNode order
using SwitchIndex = uint32_t;  // index into SwitchTree::switches

enum class GpuLinkClass {
  kSameGpu,
  kNvlink,          // an NVLink between the two, direct or through NVSwitches (GpuInfo::links)
  kSamePcieSwitch,  // behind one PCIe switch (GpuInfo::pcie_switch)
  kSameNuma,        // same NUMA domain (same socket)
  kCrossSocket,     // different NUMA domains
  kUnknown,         // a GPU whose NUMA locality is unknown
};
std::string_view gpuLinkClassName(GpuLinkClass c);

// The answer of smallestSubtreeWithFree.
struct SubtreeFit {
  SwitchIndex switch_index = 0;  // the lowest switch whose subtree holds the nodes
  uint32_t height = 0;           // its SwitchTree height (1 = leaf switch)
  std::vector<NodeIndex> nodes;  // exactly k nodes, ascending
  uint32_t switches_used = 0;    // distinct switches the nodes hang off (leaf switches)
};

class TopologyGraph {
 public:
  explicit TopologyGraph(SwitchTree tree);
  ~TopologyGraph();
  TopologyGraph(TopologyGraph&&) noexcept;
  TopologyGraph& operator=(TopologyGraph&&) noexcept;
  TopologyGraph(const TopologyGraph&) = delete;
  TopologyGraph& operator=(const TopologyGraph&) = delete;

  // Adds a node under the switch the tree names for it (the root when none does). Core ids must
  // be 0..n-1 in NUMA-domain order and GPU indices 0..g-1 in order, as discovery produces them.
  // Errors (kInvalidArgument): duplicate name, no NUMA domain, core or GPU ids out of order, a
  // GPU's numa out of range, more than 65535 NUMA domains or GPUs.
  Result<NodeIndex> addNode(const std::string& name, const NodeTopology& topology);

  size_t nodeCount() const;
  std::optional<NodeIndex> findNode(std::string_view name) const;
  const std::string& nodeName(NodeIndex node) const;
  const SwitchTree& switchTree() const;
  SwitchIndex switchOf(NodeIndex node) const;  // the switch the node hangs off

  // Links on the tree path between two nodes, through their lowest common switch: 0 same node,
  // 2 same leaf switch, 4 same spine (different leaves), 6 one level up, ... In an unbalanced
  // tree a node directly under the root is 1 link from it. A synthesized root counts like a real
  // switch. Precondition: both indices < nodeCount().
  uint32_t hops(NodeIndex a, NodeIndex b) const;

  // The lowest switch whose subtree holds k nodes with free_cores[node] >= cores_per_node, and
  // k such nodes. Best fit: the smallest height first; among switches of equal height the one
  // with the fewest qualifying nodes (to limit fragmentation), then the lowest index. Inside it,
  // the nodes come from as few child subtrees as possible: a child that holds the remainder on
  // its own is preferred (the one with the fewest free nodes), else the child with the most.
  // Nodes inside a switch are taken in addNode order.
  // std::nullopt when no switch (not even the root) holds k such nodes, or k == 0.
  // Precondition: free_cores.size() >= nodeCount(). Cost: O(nodes + switches).
  std::optional<SubtreeFit> smallestSubtreeWithFree(uint32_t k,
                                                    const std::vector<uint32_t>& free_cores,
                                                    uint32_t cores_per_node) const;

  // Per-node hardware as the graph holds it. Preconditions: indices in range.
  uint32_t numaCount(NodeIndex node) const;
  uint32_t coreCount(NodeIndex node) const;
  uint32_t gpuCount(NodeIndex node) const;
  uint32_t coresInNuma(NodeIndex node, uint32_t numa) const;
  uint32_t numaOfCore(NodeIndex node, uint32_t core) const;
  int32_t numaOfGpu(NodeIndex node, uint32_t gpu) const;  // -1 when unknown

  // hwloc NUMALatency when discovery reported it, else 10 for the same domain, 20 otherwise
  // (the ACPI SLIT convention). Indices are positions in NodeTopology::numa.
  uint32_t numaDistance(NodeIndex node, uint32_t numa_a, uint32_t numa_b) const;
  // What the graph can derive: same GPU; same NUMA domain; different domains; unknown locality.
  GpuLinkClass gpuLinkClass(NodeIndex node, uint32_t gpu_a, uint32_t gpu_b) const;

  size_t vertexCount() const;
  size_t edgeCount() const;
  // Estimate of the heap bytes the graph and its indexes hold (vertex and edge storage by
  // capacity, per-edge allocations, names, distance tables).
  size_t memoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace locus::locality
