#pragma once
// How a request's tasks are laid out over nodes. Shared by the pass and by checkSatisfiable so the
// two can never disagree about what a job needs.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

// Why the request is malformed, or nullopt when it is well formed. A malformed request never
// runs: the pass leaves it pending "BadConstraints", checkSatisfiable returns kInvalidArgument.
std::optional<std::string> requestProblem(const JobRequest& job);

// For nodes > 0: the tasks on each node, non-increasing (slot 0 is the batch node).
//   -N 2 -n 5                        -> {3, 2}     (evenly, the first nodes get the extra task)
//   -N 3 --ntasks-per-node 4 -n 12   -> {4, 4, 4}
//   -N 3 --ntasks-per-node 4 -n 10   -> {4, 4, 2}  (the last node gets fewer)
//   -N 3 --ntasks-per-node 4 -n 5    -> {3, 1, 1}  (every node keeps at least one task)
// Precondition: requestProblem(job) is nullopt and job.nodes > 0.
std::vector<uint32_t> fixedTaskCounts(const JobRequest& job);

// For nodes == 0: how many tasks a node with `free_cores` free cores can take.
uint32_t flexibleCapacity(const JobRequest& job, uint64_t free_cores);

}  // namespace locus::scheduler
