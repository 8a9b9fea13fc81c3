#pragma once
// Request shapes that already failed in this pass. Free resources only shrink during a pass, so a
// job asking for the same or more than a failed job cannot fit either and is skipped in O(1)
// instead of walking the nodes again (Slurm keeps a similar per-pass cache).
//
// Fixed node count: a failed job that needed up to `cores_hi` cores on each of `nodes` nodes with
// `mem_mb` each covers any later job needing at least that many cores on every one of at least
// as many nodes with at least as much memory: any placement of the later job would contain one
// of the failed job. Example: -N 2 -n 5 (3+2 tasks) failed -> -N 3 -n 9 (3+3+3) is skipped,
// -N 2 -n 4 (2+2) is still tried.
//
// Flexible (nodes == 0): a failed job covers later jobs with at least as many tasks, cpus per task
// and memory and at most as many tasks per node: no node can hold more of their tasks.
//
// With backfill, what a node can give a job also depends on how long the job runs: a reservation
// later in the profile takes part of the node only from its start on. A shape therefore carries
// the window it failed for, and covers later jobs asking as much for at least as long (the
// profile's minimum over a longer window can only be lower). A failure that no reservation caused
// is recorded with window 0 and covers every window. Reservations and starts only ever lower the
// profile during a pass, so this stays true while the pass goes on.
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

struct Shape {
  // The request as given; equal requests need exactly the same resources.
  uint32_t nodes = 0;  // 0 = flexible
  uint32_t ntasks = 0;
  uint32_t per_node = 0;  // max tasks per node; UINT32_MAX when not given
  uint32_t cpus_per_task = 0;
  uint64_t mem_mb = 0;   // per node
  int64_t window_s = 0;  // the window it failed for; 0 = failed regardless of the window
  uint32_t gpus_per_node = 0;
  uint32_t gpus_per_task = 0;
  uint32_t eligibility = 0;   // which nodes it may use (by features); only equal keys compare
  uint32_t max_switches = 0;  // only equal limits compare
  // Derived, fixed node count only: the most and the fewest cores one node must give.
  uint64_t cores_hi = 0;
  uint64_t cores_lo = 0;

  bool operator==(const Shape& o) const {
    return nodes == o.nodes && ntasks == o.ntasks && per_node == o.per_node &&
           cpus_per_task == o.cpus_per_task && mem_mb == o.mem_mb && window_s == o.window_s &&
           gpus_per_node == o.gpus_per_node && gpus_per_task == o.gpus_per_task &&
           eligibility == o.eligibility && max_switches == o.max_switches;
  }
};

// The shape of a flexible request (job.nodes == 0).
Shape flexibleShape(const JobRequest& job);
// The shape of a fixed request with per-node task counts `counts` (non-increasing).
Shape fixedShape(const JobRequest& job, const std::vector<uint32_t>& counts);

class FailedShapes {
 public:
  // Whether `s` is known not to fit: the same or a larger request already failed in this pass.
  bool covers(const Shape& s) const;
  // Records a shape that did not fit. Precondition: !covers(s).
  void add(const Shape& s);

 private:
  struct ShapeHash {
    size_t operator()(const Shape& s) const;
  };
  // Dominance is checked against a frontier of minimal failed shapes, which stays small for real
  // job mixes (a handful of shapes per distinct request). Past kMaxFrontier entries only exact
  // repeats are remembered, so a pathological mix cannot make each lookup slow.
  static constexpr size_t kMaxFrontier = 256;
  std::vector<Shape> frontier_;
  std::unordered_set<Shape, ShapeHash> exact_;
};

}  // namespace locus::scheduler
