#pragma once
// The scheduler core: a pure function from a snapshot to decisions. No RPC, no SQL, no clock
// (time comes in the snapshot), so the controller and the simulator run the same code.
//
// Pass (v1): jobs in (priority desc, submit time asc, id asc) order; for each, filter the nodes
// that can hold its per-node share, pick nodes, pick cores packed into as few NUMA domains as
// possible, commit into the pass's working copy of free resources. A job that does not fit stays
// pending with a reason; a later smaller job may still start (no reservations until backfill).
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace locus::scheduler {

// Free and total resources of one node. free_cores_by_numa[d] lists the free logical core ids of
// NUMA domain d, ascending.
struct NodeState {
  std::string name;
  bool schedulable = true;                        // UP (not DOWN, not drained)
  uint32_t total_cores = 0;
  uint64_t total_mem_mb = 0;
  std::vector<std::vector<uint32_t>> free_cores_by_numa;
  uint64_t free_mem_mb = 0;
};

struct JobRequest {
  uint64_t id = 0;
  int64_t priority = 0;
  int64_t submit_time = 0;         // seconds since epoch, the tie breaker after priority
  uint32_t nodes = 0;              // 0 = as few nodes as fit
  uint32_t ntasks = 1;             // >= 1, >= nodes when nodes > 0
  uint32_t ntasks_per_node = 0;    // 0 = not given
  uint32_t cpus_per_task = 1;
  uint64_t mem_mb = 0;             // per node; 0 = no memory requested
  uint64_t array_job_id = 0;       // 0 = not an array task
  uint32_t array_max_running = 0;  // 0 = no throttle
};

struct NodeAllocation {
  uint32_t node = 0;               // index into Snapshot::nodes
  std::vector<uint32_t> cores;     // logical core ids, ascending
  uint64_t mem_mb = 0;
  uint32_t ntasks = 0;             // tasks placed on this node
};

struct Decision {
  enum class Kind { kStart, kPending };
  Kind kind = Kind::kPending;
  uint64_t job_id = 0;
  std::vector<NodeAllocation> allocation;  // kStart only; the first node runs the batch script
  std::string reason;                       // kPending only: "Resources", "JobArrayTaskLimit", ...
};

struct Snapshot {
  int64_t now = 0;
  std::vector<NodeState> nodes;
  std::vector<JobRequest> pending;                               // any order
  std::vector<std::pair<uint64_t, uint32_t>> array_running;      // array_job_id -> running tasks
};

// One scheduling pass. Deterministic: the same snapshot gives the same decisions.
// Every pending job gets exactly one decision; decisions come in pass order (the order above),
// which is also the order in which their allocations were committed.
// Pending reasons: "Resources" (does not fit now), "JobArrayTaskLimit" (array throttle),
// "BadConstraints" (malformed request, e.g. cpus_per_task == 0; checkSatisfiable refuses those).
std::vector<Decision> schedulePass(const Snapshot& snapshot);

// Could this request ever run on these nodes if they were all idle and up? Used at submit time to
// refuse the impossible ("requested 64 cpus per node, largest node has 16"). `nodes` totals only.
// Errors: kUnsatisfiable (never fits these nodes), kInvalidArgument (malformed request).
Status checkSatisfiable(const JobRequest& job, const std::vector<NodeState>& nodes);

}  // namespace locus::scheduler
