#pragma once
// Choosing nodes for one job and committing its cores into the pass's FreePool.
// Both functions either commit the whole job and return its allocation, or return nullopt and
// leave the pool as it was (the job does not fit now).
#include <optional>
#include <vector>

#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

// nodes > 0: node i holds counts[i] tasks (fixedTaskCounts). Each slot, largest first, takes the
// best-fit node: the fewest free cores that still hold it, ties to the lower node index.
// Allocation i is slot i, so the batch node is the one with the most tasks.
std::optional<std::vector<NodeAllocation>> placeFixed(const JobRequest& job,
                                                      const std::vector<uint32_t>& counts,
                                                      FreePool& pool);

// nodes == 0: as few nodes as fit. Nodes with the most free cores take as many tasks as they
// can until the remainder fits on one node; that last node is the best fit for the remainder.
// A job that fits on one node therefore lands on the best-fit node, not on the emptiest.
std::optional<std::vector<NodeAllocation>> placeFlexible(const JobRequest& job, FreePool& pool);

}  // namespace locus::scheduler
