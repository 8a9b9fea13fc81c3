// Table tests for NetworkIndex: fitting a multi-node job into the switch tree. Nodes are written
// by index; trees are built from (switch -> parent) and (node -> switch) lists.
#include "controller/scheduler/network_fit.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace locus::scheduler {
namespace {

constexpr uint32_t kNone = Network::kNoSwitch;

Network tree(std::vector<uint32_t> parent, std::vector<uint32_t> switch_of_node) {
  Network n;
  n.parent = std::move(parent);
  n.switch_of_node = std::move(switch_of_node);
  return n;
}

// The header's example: leaves L1 (switch 0: nodes 0-3, "n1-n4") and L2 (switch 1: nodes 4-7,
// "n5-n8") under spine S (switch 2).
Network spine() { return tree({2, 2, kNone}, {0, 0, 0, 0, 1, 1, 1, 1}); }

// Three leaves under one spine: switch 0 nodes 0-3, switch 1 nodes 4-7, switch 2 nodes 8-11.
Network threeLeaves() { return tree({3, 3, 3, kNone}, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}); }

// Two spines under a top switch: S1 (switch 4) over leaves 0 (nodes 0-1) and 1 (nodes 2-3); S2
// (switch 5) over leaves 2 (nodes 4-5) and 3 (nodes 6-7); top T is switch 6.
Network twoLevels() { return tree({4, 4, 5, 5, 6, 6, kNone}, {0, 0, 1, 1, 2, 2, 3, 3}); }

struct PickCase {
  std::string name;
  Network network;
  size_t nodes;
  std::vector<uint32_t> candidates;
  uint32_t k;
  std::optional<std::vector<uint32_t>> want;  // nullopt: no fit
  uint32_t want_leaves = 0;
};

TEST(NetworkIndex, PickNodes) {
  const std::vector<PickCase> cases = {
      // Free n1, n2, n5, n6, n7: L1 has 2, L2 has 3; L2 is the only leaf holding 3.
      {"header example: 3 nodes go to the one leaf that holds them",
       spine(),
       8,
       {0, 1, 4, 5, 6},
       3,
       std::vector<uint32_t>{4, 5, 6},
       1},
      // 5 nodes need S: L2 (3, the most) first, then 2 of L1. Two leaves, never three.
      {"header example: 5 nodes take the fullest leaf, then the rest",
       spine(),
       8,
       {0, 1, 4, 5, 6},
       5,
       std::vector<uint32_t>{4, 5, 6, 0, 1},
       2},
      // L1 has 3 candidates, L2 has 2: both leaves hold 2, the one with fewer candidates wins.
      {"equal height: the switch with the fewest candidates",
       spine(),
       8,
       {0, 1, 2, 4, 5},
       2,
       std::vector<uint32_t>{4, 5},
       1},
      {"equal height and candidates: the lower switch index",
       spine(),
       8,
       {4, 5, 0, 1},
       2,
       std::vector<uint32_t>{0, 1},
       1},
      {"within a leaf the candidates keep their order",
       spine(),
       8,
       {3, 0, 2, 1},
       2,
       std::vector<uint32_t>{3, 0},
       1},
      // Leaves hold 4, 3, 2; 6 nodes: none alone, so the fullest (4), then the remainder 2 goes
      // to the tightest leaf that holds it alone: switch 2 (2) rather than switch 1 (3).
      {"the remainder goes to the tightest leaf that holds it",
       threeLeaves(),
       12,
       {0, 1, 2, 3, 4, 5, 6, 8, 9},
       6,
       std::vector<uint32_t>{0, 1, 2, 3, 8, 9},
       2},
      // Leaves hold 2, 2, 2; 5 nodes: 2 + 2 + 1, three leaves (lower indices first on ties).
      {"no leaf holds the remainder: fullest leaves first",
       threeLeaves(),
       12,
       {0, 1, 4, 5, 8, 9},
       5,
       std::vector<uint32_t>{0, 1, 4, 5, 8},
       3},
      // S1 has 3 candidates (nodes 0, 2, 3), S2 has 2; 3 nodes fit under S1 (height 2): leaf 1
      // holds 2, leaf 0 the last one.
      {"the lowest spine that holds the job",
       twoLevels(),
       8,
       {0, 2, 3, 4, 6},
       3,
       std::vector<uint32_t>{2, 3, 0},
       2},
      // Neither spine holds 5: the top switch, leaves by size (2, 2, then 1).
      {"crosses spines only when no spine holds the job",
       twoLevels(),
       8,
       {0, 2, 3, 4, 5, 6},
       5,
       std::vector<uint32_t>{2, 3, 4, 5, 0},
       3},
      {"a single leaf beats a spine with more room",
       twoLevels(),
       8,
       {0, 2, 4, 5, 6, 7},
       2,
       std::vector<uint32_t>{4, 5},
       1},
      {"fewer candidates than nodes", spine(), 8, {0, 4}, 3, std::nullopt},
      {"zero nodes", spine(), 8, {0, 4}, 0, std::nullopt},
      {"flat: the first k candidates, one leaf",
       Network{},
       8,
       {5, 1, 3},
       2,
       std::vector<uint32_t>{5, 1},
       1},
      // Nodes 4 and 5 are not in the tree (switch_of_node is shorter, or kNoSwitch): they form
      // one bucket under a virtual root above L1.
      {"unplaced nodes: one bucket that can hold the job alone",
       tree({kNone}, {0, 0, 0, 0}),
       6,
       {0, 4, 5},
       2,
       std::vector<uint32_t>{4, 5},
       1},
      {"unplaced nodes: the real leaf first when it holds the job",
       tree({kNone}, {0, 0, 0, 0}),
       6,
       {4, 0, 5, 1},
       2,
       std::vector<uint32_t>{0, 1},
       1},
      {"unplaced nodes: mixed with a leaf when neither holds the job",
       tree({kNone}, {0, 0, kNone, kNone}),
       4,
       {0, 2, 3},
       3,
       std::vector<uint32_t>{2, 3, 0},
       2},
  };
  for (const PickCase& c : cases) {
    SCOPED_TRACE(c.name);
    const NetworkIndex index(c.network, c.nodes);
    EXPECT_EQ(index.flat(), c.network.empty());
    const auto fit = index.pickNodes(c.candidates, c.k);
    ASSERT_EQ(fit.has_value(), c.want.has_value());
    if (!fit) continue;
    EXPECT_EQ(fit->nodes, *c.want);
    EXPECT_EQ(fit->leaves, c.want_leaves);
    EXPECT_EQ(index.leavesOf(fit->nodes), c.want_leaves);
  }
}

// The index reuses scratch counters between calls: a second pick must not see the first's.
TEST(NetworkIndex, PicksAreIndependent) {
  const NetworkIndex index(spine(), 8);
  const auto first = index.pickNodes({0, 1, 4, 5, 6}, 3);
  const auto second = index.pickNodes({0, 1, 2, 4}, 3);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->nodes, (std::vector<uint32_t>{4, 5, 6}));
  EXPECT_EQ(second->nodes, (std::vector<uint32_t>{0, 1, 2}));
}

struct LeavesCase {
  std::string name;
  Network network;
  size_t nodes;
  std::vector<uint32_t> of;
  uint32_t want;
};

TEST(NetworkIndex, LeavesOf) {
  const std::vector<LeavesCase> cases = {
      {"none", spine(), 8, {}, 0},
      {"one leaf", spine(), 8, {0, 3, 1}, 1},
      {"two leaves", spine(), 8, {0, 4, 5}, 2},
      {"flat: one", Network{}, 8, {0, 7}, 1},
      {"flat: none", Network{}, 8, {}, 0},
      {"unplaced nodes count as one bucket", tree({kNone}, {0, 0}), 4, {2, 3}, 1},
      {"unplaced and placed", tree({kNone}, {0, 0}), 4, {0, 2, 3}, 2},
      {"three leaves under two spines", twoLevels(), 8, {0, 2, 7}, 3},
  };
  for (const LeavesCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NetworkIndex(c.network, c.nodes).leavesOf(c.of), c.want);
  }
}

struct CapacityCase {
  std::string name;
  Network network;
  size_t nodes;
  std::vector<uint32_t> candidates;
  std::vector<uint32_t> capacity;
  uint64_t need;
  std::optional<std::vector<uint32_t>> want;  // the nodes of the returned mask
};

std::vector<uint32_t> bits(const std::vector<uint64_t>& mask) {
  std::vector<uint32_t> out;
  for (size_t w = 0; w < mask.size(); ++w) {
    for (uint32_t b = 0; b < 64; ++b) {
      if (mask[w] >> b & 1) out.push_back(static_cast<uint32_t>(w * 64 + b));
    }
  }
  return out;
}

TEST(NetworkIndex, SubtreeWithCapacity) {
  // Candidates n1, n2 (L1, 4 tasks each) and n5, n6, n7 (L2, 1 task each).
  const std::vector<uint32_t> cands = {0, 1, 4, 5, 6};
  const std::vector<uint32_t> caps = {4, 4, 1, 1, 1};
  // 70 nodes: 0-63 on leaf 0, 64-69 on leaf 1, both under spine 2 (masks of two words).
  std::vector<uint32_t> wide(70, 0);
  for (size_t n = 64; n < 70; ++n) wide[n] = 1;
  const std::vector<CapacityCase> cases = {
      // L1 holds 8, L2 holds 3: both hold 3, the least capacity wins.
      {"the leaf with the least capacity that suffices", spine(), 8, cands, caps, 3,
       std::vector<uint32_t>{4, 5, 6}},
      {"a leaf with more capacity when the tighter one falls short", spine(), 8, cands, caps, 5,
       std::vector<uint32_t>{0, 1}},
      // 8 + 3 = 11 >= 9: only the spine.
      {"the spine when no leaf suffices", spine(), 8, cands, caps, 9,
       std::vector<uint32_t>{0, 1, 4, 5, 6}},
      {"not enough anywhere", spine(), 8, cands, caps, 12, std::nullopt},
      {"flat: every candidate", Network{}, 8, cands, caps, 9, std::vector<uint32_t>{0, 1, 4, 5, 6}},
      {"flat: not enough", Network{}, 8, cands, caps, 12, std::nullopt},
      // Leaf 0 holds 1 + 1 = 2 (nodes 3, 10), leaf 1 holds 2 + 2 = 4 (nodes 65, 69).
      {"nodes past the first word",
       tree({2, 2, kNone}, wide),
       70,
       {3, 10, 65, 69},
       {1, 1, 2, 2},
       3,
       std::vector<uint32_t>{65, 69}},
  };
  for (const CapacityCase& c : cases) {
    SCOPED_TRACE(c.name);
    const NetworkIndex index(c.network, c.nodes);
    const size_t words = c.nodes / 64 + 1;
    const auto mask = index.subtreeWithCapacity(c.candidates, c.capacity, c.need, words);
    ASSERT_EQ(mask.has_value(), c.want.has_value());
    if (!mask) continue;
    EXPECT_EQ(mask->size(), words);
    EXPECT_EQ(bits(*mask), *c.want);
  }
}

}  // namespace
}  // namespace locus::scheduler
