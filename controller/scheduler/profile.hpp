#pragma once
// The availability profile of one pass: free resources per node as a step function of time.
//
// free(n, t) = what the pass's FreePool has free on n now
//            + the steps of n at times <= t: up at each running job's expected end and at each job
//              started in this pass's now + time limit; down at each reservation's start and up
//              again at its end.
// Steps are kept sorted by time (for the sweep that finds a blocked job's earliest start; steps
// added during the pass wait in a tail until the next sweep merges them) and, for the few nodes
// that reservations touch, also per node (for "what is the least node n has over a window").
// Only reservations step down, so on a node no reservation touches free(n, t) never drops: its
// minimum over a window is its value at the window's start, and only reserved nodes need a walk.
// Running jobs given in expected-end order (the simulator keeps them so) cost no sort.
//
// Example (one node, 8 cores, 2 free now): a job using 6 ends at 100, a job needing all 8 is
// reserved at [100, 400). A 2-core job of 50 s fits now (window [now, now+50) keeps 2 free); one
// of 200 s does not: over [now, now+200) the node drops to 2 + 6 - 8 = 0 at 100.
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/placement.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// End of a window of `duration_s` seconds from `start`; 0 (unlimited) or overflow -> kNever.
int64_t windowEnd(int64_t start, int64_t duration_s);

class Profile {
 public:
  // Steps up at the running jobs' expected ends (overdue ones at now + 1, never-ending ones none).
  // Steps on unschedulable nodes are left out: nothing is ever planned there. `pool` is the
  // pass's pool, read for what each node has free now (limits ignored).
  Profile(const Snapshot& snapshot, const FreePool& pool);

  bool hasReservations() const { return !reserved_nodes_.empty(); }
  bool reserved(uint32_t node) const { return reserved_[node] != 0; }

  // The lowest sum of node's steps over the times in the open interval (from, to), relative to
  // free(node, from): <= 0 in both fields. Steps at the same time count together (a reservation
  // ending at t and another starting at t leave no dip).
  struct Drop {
    int64_t cores = 0;
    int64_t mem_mb = 0;
    int64_t gpus = 0;
  };
  Drop windowDrop(uint32_t node, int64_t from, int64_t to) const;

  // A job started now on `allocation` that ends at `end` (kNever: never).
  void addStart(const std::vector<NodeAllocation>& allocation, int64_t end);
  // Resources held for a job over [start, end).
  void addReservation(int64_t start, int64_t end, const std::vector<NodeUse>& uses);

  // The earliest time after now at which `job` fits on every node it would use for `duration_s`
  // (0 = unlimited), with the nodes and counts it would get then; `counts` are its per-node task
  // counts when job.nodes > 0. `now_pool` gives what is free now (limits ignored). nullopt when it
  // never fits in the plan (e.g. it needs resources held by jobs that never end).
  // Cost: one walk over the steps after now, plus a placement at each step time where the job
  // could fit by total free cores.
  struct Plan {
    int64_t start = 0;
    std::vector<NodeUse> uses;
  };
  std::optional<Plan> earliestStart(const JobRequest& job, const std::vector<uint32_t>& counts,
                                    int64_t duration_s, const FreePool& now_pool,
                                    const PlaceContext& ctx);

 private:
  struct Step {
    int64_t time = 0;
    uint32_t node = 0;
    int64_t cores = 0;
    int64_t mem_mb = 0;
    int64_t gpus = 0;
  };

  void add(int64_t time, uint32_t node, int64_t cores, int64_t mem_mb, int64_t gpus);
  void sortByTime();

  int64_t now_ = 0;
  std::vector<uint8_t> listable_;    // per node: schedulable
  std::vector<uint32_t> max_cores_;  // per node: the most it can ever have free
  std::vector<uint64_t> max_mem_;    // per node
  std::vector<uint32_t> max_gpus_;   // per node
  std::vector<Step> steps_;          // sorted by time
  std::vector<Step> tail_;           // added since the last sweep, any order
  std::vector<uint8_t> reserved_;    // per node
  std::vector<uint32_t> reserved_nodes_;
  std::vector<std::vector<Step>> node_steps_;  // per reserved node: all its steps, any order
  mutable std::vector<Step> scratch_;          // windowDrop's buffer
};

}  // namespace locus::scheduler
