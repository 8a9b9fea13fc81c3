#pragma once
// The cluster's switch tree, configured like Slurm's topology.conf:
//
//   [[switch]]
//   name = "leaf1"
//   nodes = "n[001-032]"        # a leaf switch: the nodes cabled to it
//   [[switch]]
//   name = "spine1"
//   switches = "leaf[1-4]"      # an inner switch: its child switches
//
// Plain values only (no Boost): the controller and the simulator read it, TopologyGraph is built
// from it. Thread-safety: immutable after buildSwitchTree, safe to share across threads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/result.hpp"

namespace locus::locality {

// One [[switch]] table as locus.toml gives it (parsed by common/config). Exactly one of `nodes`
// and `switches` must be non-empty.
using SwitchSpec = locus::SwitchConfig;

struct SwitchTree {
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Switch {
    std::string name;                // "" for the synthesized root
    uint32_t parent = kNone;         // kNone for the root
    std::vector<uint32_t> children;  // child switch indices, in configuration order
    std::vector<std::string> nodes;  // nodes directly under it, in hostlist order
    uint32_t height = 1;             // 1 for a switch with no child switch, else 1 + max child
    uint32_t depth = 0;              // 0 for the root
  };

  std::vector<Switch> switches;  // never empty: at least the root
  uint32_t root = 0;

  // The switch a node hangs off, kNone when the tree does not name the node.
  uint32_t switchOfNode(std::string_view node) const;
  std::optional<uint32_t> findSwitch(std::string_view name) const;
};

// Validates the switch tables and builds the tree. `node_names` are the nodes the cluster knows
// (e.g. the [[node]] tables); those no switch lists hang directly off the root, as do nodes
// TopologyGraph::addNode later meets that the tree does not name. Nodes a switch lists need not
// be in `node_names` (the switch tables name nodes too).
//
// The root: the one switch that is nobody's child. When several switches are top-level (or none
// is configured) a virtual root named "" is synthesized above them, as Slurm does when the
// topology has several top switches; it stands for "connected through the core network".
//
// Errors (kInvalidArgument, message names the switch and its line): empty or duplicate switch
// name; a switch with both nodes and switches, or with neither; a bad hostlist; an unknown child
// switch; a switch listed under two parents; a node under two switches; a cycle.
Result<SwitchTree> buildSwitchTree(const std::vector<SwitchSpec>& specs,
                                   const std::vector<std::string>& node_names);

}  // namespace locus::locality
