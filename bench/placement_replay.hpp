#pragma once
// Replays the head of an SWF trace through the scheduler core (schedulePass, the pass the
// controller runs) on an emulated cluster, event by event on a virtual clock, and records where
// each job landed: leaf switches per multi-node job against the fewest possible, NUMA domains
// per node, GPUs on the NUMA domains of the job's cores, and the wall time of every pass.
// bench_placement runs it with topology placement on and off on the same jobs.
//
// Jobs (same conventions as sim/simulator.hpp where they apply): processors = field 5, run time
// = field 4 cut at the estimate (field 9, or the run time when missing); records with run time
// or processors <= 0 are skipped. A job's cores keep its share of the trace's machine:
//   cores = max(1, round(procs x cluster cores / MaxProcs))
// (RICC-2010, 8,192 processors on 1,024 nodes of 8, onto 1,024 nodes of 128 cores: x16, so a job
// that filled k RICC nodes fills k nodes here), unless ReplayOptions::cores_per_proc says. It asks
// for nodes = ceil(cores / node cores) nodes and ntasks = cores tasks of one core (the pass spreads
// them evenly, fixedTaskCounts), no memory, time limit = its estimate, all at one priority (queue
// order = submit order). A job asks for GPUs with probability ReplayOptions::gpu_share (fixed
// seed), if it has at most as many nodes as the cluster has GPU nodes: one GPU per 32 cores of its
// largest per-node share, at most the node's GPUs, on every node (gpus_per_node).
//
// Events at one timestamp: arrivals are queued, then completions free their resources, then one
// pass runs if a job arrived or one ended since the last pass (nothing else can make a job fit).
#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "sim/swf_reader.hpp"

namespace locus::bench {

// The emulated cluster. Every node has `domains` NUMA domains of `cores_per_domain` cores; a
// node with gpu_node[n] != 0 also has `gpus_per_domain` GPUs attached to each domain (GPU g on
// domain g / gpus_per_domain).
struct ReplayCluster {
  uint32_t domains = 2;
  uint32_t cores_per_domain = 64;
  uint32_t gpus_per_domain = 2;
  std::vector<uint8_t> gpu_node;  // per node; its size is the node count
  // Every node hangs off a leaf switch (switch_of_node), leaves off spines (parent).
  scheduler::Network network;
};

struct ReplayOptions {
  bool topology = true;  // false: the pass gets an empty Network (topology-blind)
  scheduler::Policy policy = scheduler::Policy::kFirstFit;
  size_t jobs = 5000;      // the first `jobs` records of the trace
  double gpu_share = 0.2;  // probability that a job asks for GPUs
  // Cores per trace processor; 0: the job's share of the trace's machine (see above).
  double cores_per_proc = 0;
  uint64_t seed = 42;
};

struct ReplayStats {
  size_t jobs = 0;     // replayed
  size_t skipped = 0;  // run time or processors <= 0, or more nodes than the cluster has
  size_t gpu_jobs = 0;
  double wait_mean_s = 0;
  int64_t makespan_s = 0;

  // Multi-node jobs (nodes > 1). The bound for a job of N nodes is ceil(N / leaf size). At its
  // start the job could use the nodes that hold its largest per-node share (cores, GPUs) in the
  // free resources left by the jobs started before it; "fewest possible" is the fewest leaves
  // whose such nodes add up to N (largest leaves first), "bound possible" that this equals the
  // bound. A job for which the free nodes do not add up to N is counted in none of those.
  // Under a reserving policy (--policy easy) nodes that a reservation holds count as free.
  size_t multi = 0;
  uint64_t multi_leaves = 0;  // leaf switches used, summed
  size_t multi_at_bound = 0;  // used ceil(N / leaf size) leaves
  size_t bound_possible = 0;  // the free nodes allowed ceil(N / leaf size) leaves
  size_t at_bound_when_possible = 0;
  size_t fewest_known = 0;     // the free nodes added up to N
  size_t at_fewest = 0;        // used the fewest possible leaves
  uint64_t fewest_leaves = 0;  // the fewest possible, summed over fewest_known

  // NUMA: per job, the mean over its nodes of the NUMA domains its cores span there; the bound
  // on a node is ceil(cores there / domain size).
  double numa_per_job_sum = 0;
  uint64_t node_allocs = 0;
  uint64_t node_allocs_at_bound = 0;
  size_t small_jobs = 0;  // single-node jobs that fit one domain
  size_t small_in_one = 0;

  uint64_t gpus = 0;        // GPUs allocated
  uint64_t gpus_local = 0;  // ... attached to a NUMA domain of the job's cores on that node

  uint64_t passes = 0;
  uint64_t starts = 0;
  // FNV-1a over every start decision in order (job id, time, node, core ids, GPU ids): equal
  // digests from two builds mean they placed every job alike (a scheduler change that must not
  // change decisions is checked against it).
  uint64_t digest = 14695981039346656037ull;
  double pass_s = 0;  // schedulePass wall time, summed
  // The same pass with no pending job, run right after each pass, summed: what a pass costs
  // before it places anything (its FreePool from the snapshot, the NetworkIndex, the profile).
  // It runs with warm caches, so pass_s - empty_pass_s overstates the placing.
  double empty_pass_s = 0;
  std::vector<double> pass_times;  // seconds, per pass
};

// Errors: kInvalidArgument when the trace has no usable job, or the cluster no node.
Result<ReplayStats> replayPlacement(const sim::SwfTrace& trace, const ReplayCluster& cluster,
                                    const ReplayOptions& options);

}  // namespace locus::bench
