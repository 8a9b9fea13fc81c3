#include "controller/scheduler/network_fit.hpp"

#include <algorithm>

#include "common/result.hpp"

namespace locus::scheduler {

NetworkIndex::NetworkIndex(const Network& network, size_t nodes) {
  flat_ = network.empty();
  if (flat_) return;
  const uint32_t switches = static_cast<uint32_t>(network.parent.size());
  const uint32_t vroot = switches;  // above every top switch and the unplaced nodes
  parent_ = network.parent;
  parent_.push_back(Network::kNoSwitch);
  for (uint32_t s = 0; s < switches; ++s) {
    if (parent_[s] == Network::kNoSwitch) parent_[s] = vroot;
    LOCUS_CHECK(parent_[s] <= vroot) << "switch " << s << " has parent " << parent_[s];
  }
  leaf_of_node_.assign(nodes, vroot);
  for (size_t n = 0; n < nodes && n < network.switch_of_node.size(); ++n) {
    const uint32_t sw = network.switch_of_node[n];
    leaf_of_node_[n] = sw < switches ? sw : vroot;
  }
  // Heights: every switch lifts its ancestors' heights; trees are shallow (depth < 10).
  height_.assign(switches + 1, 1);
  for (uint32_t s = 0; s <= switches; ++s) {
    uint32_t h = 1;
    uint32_t guard = 0;
    for (uint32_t p = parent_[s]; p != Network::kNoSwitch; p = parent_[p]) {
      ++h;
      height_[p] = std::max(height_[p], h);
      LOCUS_CHECK(++guard <= switches + 1) << "switch tree has a cycle at switch " << s;
    }
  }
  count_.assign(switches + 1, 0);
}

bool NetworkIndex::under(uint32_t sw, uint32_t ancestor) const {
  for (uint32_t s = sw; s != Network::kNoSwitch; s = parent_[s]) {
    if (s == ancestor) return true;
  }
  return false;
}

uint32_t NetworkIndex::leavesOf(const std::vector<uint32_t>& nodes) const {
  if (flat_) return nodes.empty() ? 0 : 1;
  std::vector<uint32_t> leaves;
  for (uint32_t n : nodes) leaves.push_back(leafOf(n));
  std::sort(leaves.begin(), leaves.end());
  return static_cast<uint32_t>(std::unique(leaves.begin(), leaves.end()) - leaves.begin());
}

std::optional<NetworkIndex::Fit> NetworkIndex::pickNodes(const std::vector<uint32_t>& candidates,
                                                         uint32_t k) const {
  if (k == 0 || candidates.size() < k) return std::nullopt;
  if (flat_) {
    Fit fit;
    fit.nodes.assign(candidates.begin(), candidates.begin() + k);
    fit.leaves = 1;
    return fit;
  }
  // Candidates per switch, counted at the leaf and at every ancestor.
  touched_.clear();
  for (uint32_t n : candidates) {
    for (uint32_t s = leafOf(n); s != Network::kNoSwitch; s = parent_[s]) {
      if (count_[s]++ == 0) touched_.push_back(s);
    }
  }
  uint32_t best = Network::kNoSwitch;
  for (uint32_t s : touched_) {
    if (count_[s] < k) continue;
    if (best == Network::kNoSwitch || height_[s] < height_[best] ||
        (height_[s] == height_[best] &&
         (count_[s] < count_[best] || (count_[s] == count_[best] && s < best)))) {
      best = s;
    }
  }
  // Leaves inside the chosen switch, with their candidates in preference order.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> leaves;
  if (best != Network::kNoSwitch) {
    std::vector<int32_t> slot(count_.size(), -1);
    for (uint32_t n : candidates) {
      const uint32_t leaf = leafOf(n);
      if (!under(leaf, best)) continue;
      if (slot[leaf] < 0) {
        slot[leaf] = static_cast<int32_t>(leaves.size());
        leaves.push_back({leaf, {}});
      }
      leaves[static_cast<size_t>(slot[leaf])].second.push_back(n);
    }
  }
  for (uint32_t s : touched_) count_[s] = 0;
  if (best == Network::kNoSwitch) return std::nullopt;

  Fit fit;
  std::vector<bool> used(leaves.size(), false);
  uint32_t remaining = k;
  while (remaining > 0) {
    // A leaf holding the remainder alone, the tightest; else the fullest leaf.
    int64_t pick = -1;
    bool alone = false;
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (used[i]) continue;
      const size_t size = leaves[i].second.size();
      const bool holds = size >= remaining;
      if (pick < 0) {
        pick = static_cast<int64_t>(i);
        alone = holds;
        continue;
      }
      const size_t best_size = leaves[static_cast<size_t>(pick)].second.size();
      const uint32_t best_leaf = leaves[static_cast<size_t>(pick)].first;
      if (holds && (!alone || size < best_size || (size == best_size && leaves[i].first < best_leaf))) {
        pick = static_cast<int64_t>(i);
        alone = true;
      } else if (!holds && !alone &&
                 (size > best_size || (size == best_size && leaves[i].first < best_leaf))) {
        pick = static_cast<int64_t>(i);
      }
    }
    LOCUS_CHECK(pick >= 0) << "switch " << best << " ran out of leaves with " << remaining
                           << " nodes to place";
    used[static_cast<size_t>(pick)] = true;
    const auto& nodes = leaves[static_cast<size_t>(pick)].second;
    const size_t take = std::min<size_t>(remaining, nodes.size());
    fit.nodes.insert(fit.nodes.end(), nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(take));
    remaining -= static_cast<uint32_t>(take);
    ++fit.leaves;
  }
  return fit;
}

std::optional<std::vector<uint64_t>> NetworkIndex::subtreeWithCapacity(
    const std::vector<uint32_t>& candidates, const std::vector<uint32_t>& capacity, uint64_t need,
    size_t words) const {
  uint64_t total = 0;
  for (uint32_t c : capacity) total += c;
  if (total < need) return std::nullopt;
  std::vector<uint64_t> mask(words, 0);
  if (flat_) {
    for (uint32_t n : candidates) mask[n / 64] |= uint64_t{1} << (n % 64);
    return mask;
  }
  touched_.clear();
  for (size_t i = 0; i < candidates.size(); ++i) {
    for (uint32_t s = leafOf(candidates[i]); s != Network::kNoSwitch; s = parent_[s]) {
      if (count_[s] == 0) touched_.push_back(s);
      count_[s] += capacity[i];
    }
  }
  uint32_t best = Network::kNoSwitch;
  for (uint32_t s : touched_) {
    if (count_[s] < need) continue;
    if (best == Network::kNoSwitch || height_[s] < height_[best] ||
        (height_[s] == height_[best] &&
         (count_[s] < count_[best] || (count_[s] == count_[best] && s < best)))) {
      best = s;
    }
  }
  for (uint32_t s : touched_) count_[s] = 0;
  LOCUS_CHECK(best != Network::kNoSwitch) << "the root holds every candidate";
  for (uint32_t n : candidates) {
    if (under(leafOf(n), best)) mask[n / 64] |= uint64_t{1} << (n % 64);
  }
  return mask;
}

}  // namespace locus::scheduler
