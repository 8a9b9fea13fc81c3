#pragma once
// Replays an SWF trace through the scheduler core (controller/scheduler: the same schedulePass
// the controller runs) on a virtual clock.
//
// Conventions (those of the scheduling literature, so results compare with published ones):
//  - processors = allocated processors (field 5); each job asks for that many cores anywhere
//    (nodes = 0, ntasks = procs, cpus_per_task = 1, no memory);
//  - estimate = requested time (field 9), or the run time where it is missing (<= 0);
//  - a job runs for its recorded run time (field 4), killed at its estimate if that is shorter;
//    its time limit for planning (backfill) is the estimate;
//  - jobs with run time <= 0 or processors <= 0 are skipped and counted, and so is a job larger
//    than the machine;
//  - at one timestamp, arrivals are queued first, then completions free their cores, then one
//    scheduling pass runs: a job arriving at t can start on cores freed at t;
//  - all jobs have the same priority, so the queue order is submit time, then trace order.
// Metrics: wait = start - submit; bounded slowdown = max(1, (wait + run) / max(run, 10 s));
// makespan = last end - first submit; utilization = core-seconds used / (cores x makespan).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "sim/swf_reader.hpp"

namespace locus::sim {

struct SimConfig {
  uint32_t nodes = 0;           // 0: from the trace header (MaxNodes)
  uint32_t cores_per_node = 0;  // 0: from the trace header (MaxProcs / MaxNodes)
  scheduler::Policy policy = scheduler::Policy::kEasyPredict;
  uint32_t reserve_depth = 1;
  int64_t protect_after_s = scheduler::kDefaultProtectAfterS;  // kEasyPredict's starvation guard
  size_t limit = 0;  // replay only the first `limit` job records of the trace; 0 = all
};

struct SimJob {
  int64_t id = 0;  // the trace's job number
  int64_t submit = 0;
  int64_t start = -1;
  int64_t end = -1;
  uint32_t procs = 0;
};

struct SimResult {
  uint32_t nodes = 0;
  uint32_t cores_per_node = 0;
  size_t jobs = 0;     // simulated
  size_t skipped = 0;  // run time or processors <= 0, or larger than the machine
  size_t skipped_too_big = 0;
  int64_t makespan_s = 0;
  double utilization = 0;
  double wait_mean_s = 0;
  double wait_median_s = 0;
  double wait_p95_s = 0;
  double bsld_mean = 0;
  uint64_t passes = 0;
  uint64_t decisions = 0;        // jobs decided on: the queue length summed over passes
  double wall_s = 0;             // the replay, not the reading of the trace
  std::vector<SimJob> schedule;  // the simulated jobs, in queue order
};

// Called now and then with the fraction of jobs finished (for a progress bar).
using Progress = std::function<void(double)>;

// Errors: kInvalidArgument when the cluster size is unknown (no header, no flags) or zero.
Result<SimResult> simulate(const SwfTrace& trace, const SimConfig& config,
                           const Progress& progress = nullptr);

}  // namespace locus::sim
