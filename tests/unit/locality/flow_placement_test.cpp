// placeByFlow: Quincy-style min-cost-flow placement of single-slot tasks (flow_placement.hpp).
#include "locality/flow_placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace locus::locality {
namespace {

// Three racks of three nodes: rack 0 = nodes 0-2, rack 1 = 3-5, rack 2 = 6-8.
const std::vector<uint32_t> kRacks = {0, 0, 0, 1, 1, 1, 2, 2, 2};

// A task with input on `nodes` (racks taken from kRacks) that has waited `waited_ms`.
FlowTask task(std::vector<uint32_t> nodes, int64_t waited_ms = 0) {
  FlowTask t;
  t.nodes = std::move(nodes);
  for (uint32_t n : t.nodes)
    if (std::find(t.racks.begin(), t.racks.end(), kRacks[n]) == t.racks.end())
      t.racks.push_back(kRacks[n]);
  t.waited_ms = waited_ms;
  return t;
}

// Free slots per node: the nodes named get the count given, the others none.
std::vector<uint32_t> slots(std::map<uint32_t, uint32_t> free) {
  std::vector<uint32_t> s(kRacks.size(), 0);
  for (auto [n, count] : free) s[n] = count;
  return s;
}

struct Case {
  std::string name;
  std::vector<FlowTask> tasks;
  std::vector<uint32_t> free;
  std::vector<int32_t> want;  // node per task, -1 pending
};

TEST(PlaceByFlow, Table) {
  const FlowCosts costs;  // rack after 3 s of waiting, remote after 6 s
  const std::vector<Case> cases = {
      {"a free input node is taken at once", {task({4, 7})}, slots({{7, 1}}), {7}},
      {"just queued: non-local slots stay idle", {task({0})}, slots({{1, 8}, {4, 8}}), {-1}},
      {"waited 3 s: its rack", {task({0}, 3000)}, slots({{1, 1}, {4, 1}}), {1}},
      {"waited just under 3 s: still pending", {task({0}, 2999)}, slots({{1, 1}, {4, 1}}), {-1}},
      {"waited 5 s: no rack slot, remote not yet", {task({0}, 5000)}, slots({{4, 1}}), {-1}},
      {"a long-waiting task takes a remote slot", {task({0}, 6000)}, slots({{4, 1}}), {4}},
      {"rack before remote for a long-waiting task",
       {task({0}, 60000)},
       slots({{2, 1}, {4, 1}}),
       {2}},
      // Greedy in queue order would put the first task on node 0 and strand the second.
      {"the flow swaps to keep both node-local",
       {task({0, 1}), task({0})},
       slots({{0, 1}, {1, 1}}),
       {1, 0}},
      // 1 - 0 saved by the queued task, 4001 - 3000 by the one that waited.
      {"the slot goes to the task that gains most",
       {task({5}), task({3}, 4000)},
       slots({{5, 1}}),
       {-1, 5}},
      {"no free slot: all pending", {task({0}, 10000), task({3})}, slots({}), {-1, -1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(placeByFlow(c.tasks, c.free, kRacks, costs), c.want);
  }
}

TEST(PlaceByFlow, TwoTasksOneLocalSlotOneGoesToItsRack) {
  // Both want node 0 (one slot) and have waited 4 s: one gets node 0, the other node 1 of the
  // same rack (cost 3000 < 4001), not node 6 of another rack (6000 > 4001).
  const auto placed =
      placeByFlow({task({0}, 4000), task({0}, 4000)}, slots({{0, 1}, {1, 1}, {6, 1}}), kRacks, {});
  std::vector<int32_t> sorted = placed;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int32_t>{0, 1}));
}

TEST(PlaceByFlow, CapacityTwoSlotsForFourLocalTasks) {
  // Equal gains: which two start is the solver's (deterministic) choice; how many is not.
  const auto placed =
      placeByFlow({task({2}), task({2}), task({2}), task({2})}, slots({{2, 2}}), kRacks, {});
  EXPECT_EQ(std::count(placed.begin(), placed.end(), 2), 2);
  EXPECT_EQ(std::count(placed.begin(), placed.end(), -1), 2);
}

TEST(PlaceByFlow, CapacityIsRespectedThroughTheAggregators) {
  // Six tasks whose input sits on busy rack 0, all past the remote wait: four slots elsewhere
  // (node 4: 2, node 6: 1, node 8: 1). Four start, no node over its count.
  std::vector<FlowTask> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(task({static_cast<uint32_t>(i % 3)}, 10000));
  const std::vector<uint32_t> free = slots({{4, 2}, {6, 1}, {8, 1}});
  FlowGraphSize size;
  const auto placed = placeByFlow(tasks, free, kRacks, {}, &size);
  std::map<int32_t, uint32_t> per_node;
  for (int32_t n : placed) ++per_node[n];
  EXPECT_EQ(per_node, (std::map<int32_t, uint32_t>{{-1, 2}, {4, 2}, {6, 1}, {8, 1}}));
  EXPECT_EQ(size.tasks, 6u);
  EXPECT_EQ(size.searches, 4u + 2u);
}

TEST(PlaceByFlow, TasksThatCannotGainAreLeftOutOfTheGraph) {
  // 100 just-queued tasks local to busy node 0 and one local to free node 5: the graph holds
  // one task.
  std::vector<FlowTask> tasks(100, task({0}));
  tasks.push_back(task({5}));
  FlowGraphSize size;
  const auto placed = placeByFlow(tasks, slots({{5, 3}, {7, 3}}), kRacks, {}, &size);
  EXPECT_EQ(placed.back(), 5);
  EXPECT_EQ(std::count(placed.begin(), placed.end(), -1), 100);
  EXPECT_EQ(size.tasks, 1u);
}

TEST(PlaceByFlow, NodesUnderNoRackAreRemoteOnly) {
  // Node 1 hangs off no rack: a task past the remote wait may use it, one past the rack wait
  // only may not.
  std::vector<uint32_t> racks = kRacks;
  racks[1] = kNoRack;
  const std::vector<uint32_t> free = slots({{1, 1}});
  EXPECT_EQ(placeByFlow({task({0}, 6000)}, free, racks, {}), (std::vector<int32_t>{1}));
  EXPECT_EQ(placeByFlow({task({0}, 4000)}, free, racks, {}), (std::vector<int32_t>{-1}));
}

TEST(PlaceByFlow, SparseRackIds) {
  // Rack ids need not be dense (leaf switch indices: 7 and 42).
  const std::vector<uint32_t> racks = {7, 7, 42};
  FlowTask t;
  t.nodes = {0};
  t.racks = {7};
  t.waited_ms = 3000;
  EXPECT_EQ(placeByFlow({t}, {0, 1, 1}, racks, {}), (std::vector<int32_t>{1}));
}

TEST(FlowCosts, WaitingArithmetic) {
  const FlowCosts costs;  // 1000 per second of waiting
  EXPECT_EQ(unscheduledCost(costs, 0), 1);
  EXPECT_EQ(unscheduledCost(costs, 2500), 2501);
  // 1 + 3000 > 3000: a rack-local slot wins at exactly 3 s, as delay scheduling relaxes then.
  EXPECT_EQ(waitToTake(costs, costs.rack_cost), 3000);
  EXPECT_EQ(waitToTake(costs, costs.remote_cost), 6000);
  EXPECT_EQ(waitToTake(costs, 0), 0);
  FlowCosts slow = costs;
  slow.wait_cost_per_s = 400;  // 3000 / 0.4 per ms = 7500 ms
  EXPECT_EQ(waitToTake(slow, 3000), 7500);
  EXPECT_GT(unscheduledCost(slow, 7500), 3000);
  EXPECT_LE(unscheduledCost(slow, 7499), 3000);
}

}  // namespace
}  // namespace locus::locality
