#pragma once
// Quincy-style placement (Isard et al., "Quincy: Fair Scheduling for Distributed Computing
// Clusters", SOSP 2009): a batch of single-slot tasks is placed onto free slots all at once, as
// a min-cost flow, instead of one task at a time as delay scheduling does. Each task may run on
//   - a node holding its input (node-local): cost 0,
//   - any node of a rack holding its input (rack-local): FlowCosts::rack_cost,
//   - any node (remote): FlowCosts::remote_cost,
// or stay pending, which costs unscheduledCost(waited_ms): a cost that grows with the task's
// wait. The flow minimizes the sum of the placed tasks' costs plus the pending tasks' costs, so
// a task takes a slot only where that slot costs less than its waiting does: a task just queued
// takes node-local slots only; after waitToTake(rack_cost) ms, rack-local ones too; after
// waitToTake(remote_cost) ms, any. Unlike one-task-at-a-time delay scheduling, competing tasks
// are weighed together: when two tasks want one free node-local slot, the other goes to its
// rack (when it has waited long enough to accept one), and a free slot goes to the task that
// gains most from it.
//
// The graph is built per call from the free nodes and the batch only and solved with
// Boost.Graph's successive shortest paths (kept inside locality/, STYLE.md rule 8). Cost: one
// Dijkstra over the graph per task placed, plus two; the graph has about
// 4 + racks + free nodes + tasks vertices and 2 x (tasks x (preferred nodes + racks + 2) +
// racks + 2 x free nodes) edges (the reverse edges included). Tasks that cannot gain from any
// free slot are left out before the graph is built, so a pass over 2,000 pending tasks with one
// free slot solves a graph of the few tasks local to it. Callers cap the batch (bench/locality:
// the first 2,000 tasks in queue order).
//
// Pure and deterministic: the same arguments give the same placement. Thread-safe.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace locus::locality {

inline constexpr uint32_t kNoRack = UINT32_MAX;  // rack_of_node: the node hangs off no rack

// One pending task of the batch.
struct FlowTask {
  std::vector<uint32_t> nodes;  // the nodes holding its input (indices into free_slots)
  std::vector<uint32_t> racks;  // the racks of those nodes, each once (kNoRack: none)
  int64_t waited_ms = 0;        // how long it has waited for a slot it would take (>= 0)
};

// The costs of the flow, in units of one millisecond of waiting (wait_cost_per_s = 1000).
struct FlowCosts {
  // A rack-local slot is worth taking after 3 s of waiting, a remote one after 6 s: the waits
  // of the scheduler core's delay scheduling (kDefaultLocalityWait{Node,Rack}Ms), so the two
  // differ only in how they choose, not in how long they wait. Quincy prices these by the bytes
  // that cross the rack and core switches; with one 128 MiB block per task the bytes are the
  // same for every task, so one constant per level does.
  int64_t rack_cost = 3000;
  int64_t remote_cost = 6000;
  int64_t wait_cost_per_s = 1000;  // how fast the cost of staying pending grows (> 0)
};

// The cost of leaving a task pending after waited_ms: 1 + waited_ms * wait_cost_per_s / 1000.
// The 1 makes a node-local slot (cost 0) better than waiting even for a task just queued.
int64_t unscheduledCost(const FlowCosts& costs, int64_t waited_ms);

// The least wait after which a slot of this cost is better than staying pending (0 when it
// always is); a caller that leaves slots idle runs its next placement then.
int64_t waitToTake(const FlowCosts& costs, int64_t slot_cost);

// What the last graph held (for benchmarks): after pruning, the tasks, vertices and edges
// (reverse edges included) of the flow network, and a bound on the shortest-path searches it
// took (one per task placed, one for the idle slots, one that finds no path).
struct FlowGraphSize {
  size_t tasks = 0;
  size_t vertices = 0;
  size_t edges = 0;
  size_t searches = 0;
};

// Places the tasks onto the free slots: returns, per task, the node it should start on, or -1
// (it stays pending). free_slots[n] is node n's free slot count; rack_of_node[n] its rack
// (kNoRack: none; rack ids need not be dense). Never places more tasks on a node than it has
// free slots. Preconditions (checked): rack_of_node.size() == free_slots.size(), every
// FlowTask::nodes entry is a valid node index, waited_ms >= 0, 0 <= rack_cost <= remote_cost,
// wait_cost_per_s > 0. `size`, when given, receives the graph's size.
std::vector<int32_t> placeByFlow(const std::vector<FlowTask>& tasks,
                                 const std::vector<uint32_t>& free_slots,
                                 const std::vector<uint32_t>& rack_of_node, const FlowCosts& costs,
                                 FlowGraphSize* size = nullptr);

}  // namespace locus::locality
