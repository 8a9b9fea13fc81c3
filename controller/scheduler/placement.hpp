#pragma once
// Choosing nodes for one job and committing its resources into the pass's FreePool.
// Choosing leaves the picked nodes hidden in the pool; the caller then either commits them
// (takes the resources) or releases them (unhides them: the pool is as it was). Backfill checks
// the picks against the availability profile in between.
#include <optional>
#include <vector>

#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/network_fit.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

struct Pick {
  uint32_t node = 0;
  uint32_t tasks = 0;
};

// What placement knows besides the pool and the request.
struct PlaceContext {
  const NetworkIndex* network = nullptr;           // null: topology-blind
  const std::vector<uint64_t>* allowed = nullptr;  // nodes whose features match; null: all
  uint32_t max_switches = 0;                       // 0: any number of leaf switches
};

// GPUs a node must give for `tasks` of the job's tasks.
inline uint32_t gpusFor(const JobRequest& job, uint32_t tasks) {
  return job.gpus_per_node + tasks * job.gpus_per_task;
}

// nodes > 0: node i holds counts[i] tasks (fixedTaskCounts).
//  - On a switch tree, a multi-node job takes nodes that each hold its largest slot from the
//    lowest switch subtree that has enough of them, leaf by leaf (NetworkIndex::pickNodes);
//    within a leaf the best fits (fewest free cores) first.
//  - Otherwise (flat network, or no subtree has enough such nodes): each slot, largest first,
//    takes the best-fit node: the fewest free cores that still hold it, ties to the lower index.
// Pick i is slot i, so the batch node is the one with the most tasks. A placement over more
// than ctx.max_switches leaf switches fails. nullopt (pool unchanged) when the job does not fit.
std::optional<std::vector<Pick>> chooseFixed(const JobRequest& job,
                                             const std::vector<uint32_t>& counts, FreePool& pool,
                                             const PlaceContext& ctx);

// nodes == 0: as few nodes as fit. Nodes with the most free cores take as many tasks as they
// can until the remainder fits on one node; that last node is the best fit for the remainder.
// A job that fits on one node therefore lands on the best-fit node, not on the emptiest. On a
// switch tree a job that needs several nodes is first confined to the lowest switch subtree
// whose nodes can hold all its tasks.
std::optional<std::vector<Pick>> chooseFlexible(const JobRequest& job, FreePool& pool,
                                                const PlaceContext& ctx);

// Takes the picked (hidden) nodes' resources; allocation i is pick i.
std::vector<NodeAllocation> commit(const JobRequest& job, const std::vector<Pick>& picks,
                                   FreePool& pool);
// Unhides the picked nodes; the pool is as before the choice.
void release(const std::vector<Pick>& picks, FreePool& pool);

}  // namespace locus::scheduler
