#pragma once
// Choosing nodes for one job and committing its cores into the pass's FreePool.
// Choosing leaves the picked nodes hidden in the pool; the caller then either commits them
// (takes the resources) or releases them (unhides them: the pool is as it was). Backfill checks
// the picks against the availability profile in between.
#include <optional>
#include <vector>

#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

struct Pick {
  uint32_t node = 0;
  uint32_t tasks = 0;
};

// nodes > 0: node i holds counts[i] tasks (fixedTaskCounts). Each slot, largest first, takes the
// best-fit node: the fewest free cores that still hold it, ties to the lower node index.
// Pick i is slot i, so the batch node is the one with the most tasks.
// nullopt (pool unchanged) when the job does not fit.
std::optional<std::vector<Pick>> chooseFixed(const JobRequest& job,
                                             const std::vector<uint32_t>& counts, FreePool& pool);

// nodes == 0: as few nodes as fit. Nodes with the most free cores take as many tasks as they
// can until the remainder fits on one node; that last node is the best fit for the remainder.
// A job that fits on one node therefore lands on the best-fit node, not on the emptiest.
std::optional<std::vector<Pick>> chooseFlexible(const JobRequest& job, FreePool& pool);

// Takes the picked (hidden) nodes' resources; allocation i is pick i.
std::vector<NodeAllocation> commit(const JobRequest& job, const std::vector<Pick>& picks,
                                   FreePool& pool);
// Unhides the picked nodes; the pool is as before the choice.
void release(const std::vector<Pick>& picks, FreePool& pool);

// Choose and commit in one step: the whole job's allocation, or nullopt with the pool unchanged.
std::optional<std::vector<NodeAllocation>> placeFixed(const JobRequest& job,
                                                      const std::vector<uint32_t>& counts,
                                                      FreePool& pool);
std::optional<std::vector<NodeAllocation>> placeFlexible(const JobRequest& job, FreePool& pool);

}  // namespace locus::scheduler
