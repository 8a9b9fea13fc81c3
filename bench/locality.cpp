// bench_locality: data locality of dataflow tasks on a simulated 100-node cluster.
//
// Modes (each run on the same workload, same seed, so tasks can be paired across modes):
//   none   locality-blind: the scheduler core without input sites (best fit by free cores);
//          where the tasks landed relative to their blocks is still counted, and they run at
//          the speed of that (a remote read is slower).
//   ideal  none's placement with every read as fast as a local one: the queueing the cluster
//          would see if locality cost nothing, the baseline for the wait that waiting adds.
//   delay  the scheduler core's delay scheduling (scheduler.hpp, "Data locality"): each task is a
//          one-core job with its block's replicas as input sites; the bench hands back each
//          pass's Decision::locality_wait_since_ms (0 for a task without a "Locality"
//          decision) and runs a pass at the earliest Decision::locality_retry_at_ms.
//   flow   locality/flow_placement.hpp (Quincy-style min-cost flow) over the first --batch
//          pending tasks in queue order and the free slots, at the same moments; its costs
//          follow the waits (rack-local after wait-node, remote after wait-node + wait-rack).
//
// The cluster: 100 nodes in 10 racks (the leaf switches of Snapshot::network) of 8 one-core
// slots. The workload (fixed seed): --jobs dataflow jobs, one task per 128 MiB block, job sizes
// drawn from the Facebook job size bins of Zaharia et al., "Delay Scheduling" (EuroSys 2010,
// Table 3, from memory of the paper: maps per job 1 | 2 | 3-20 | 21-60 | 61-150 | 151-300 |
// 301-500 | 501-1500 | >1500 for 39 | 16 | 14 | 9 | 6 | 6 | 4 | 4 | 3 % of the jobs; the last bin
// drawn from 1501-4800, 4800 being the size the paper's macrobenchmark used for it), uniform
// within a bin. HDFS's default replica placement, per job: the job's input file was written from
// one random node, which gets the first replica of every block; the second and third replicas of
// each block go to two different nodes of one other random rack (--replicas 1 keeps only the
// first: all of a job's data on one node). Run time per task: a per-job base drawn log-uniform
// in [2 s, 60 s] (or --tasks-ms), times U[0.75, 1.25] per task, times the read penalty of where
// it runs: node-local 1x, rack-local 1.1x, remote 1.5x (assumption: a 128 MiB read over the
// rack switch adds about a second to a task of ten, over an oversubscribed core about five).
// Poisson arrivals at --load of the cluster, counted at node-local speed (so none, whose reads
// are mostly remote, runs above it). One FIFO queue (Policy::kFirstFit, jobs in arrival order).
//
// Event-driven, virtual clock in ms: a pass at each arrival or finish (when a slot is free and a
// task waits) and at the earliest moment a waiting task may relax. Reported per mode: where the
// tasks ran, their mean queue wait, its mean paired change vs none and vs ideal, the part of the
// wait spent while some slot stood idle, job response time, the node locality of small jobs,
// makespan, throughput, utilization, passes and the wall time of the run; and node locality per
// job size bin, as the paper reports it.
//
//   bench_locality [--seed S] [--jobs N] [--mode all|none|ideal|delay|flow] [--tasks-ms MS]
//                  [--load F] [--wait-node-ms MS] [--wait-rack-ms MS] [--batch N]
//                  [--replicas 1-3] [--short-ms MS]
//                  [--scenario all|mixed|short|short-1r|sweep|diag]
//                  [--handback contract|job|keep|paused] [--flow-clock idle|queue]
//
// Scenarios (default all but diag): mixed (per-job run times); short (every task --short-ms =
// 100 ms); short-1r (100 ms, one replica: the tasks of a job pile onto one node, SPARK-18886's
// case); sweep (the waits swept on mixed and short-1r); diag (other ways of counting the waits,
// emulated by the bench: --handback below).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "locality/flow_placement.hpp"

namespace {

using locus::locality::FlowCosts;
using locus::locality::FlowGraphSize;
using locus::locality::FlowTask;
using locus::scheduler::Decision;
using locus::scheduler::InputSite;
using locus::scheduler::JobRequest;
using locus::scheduler::Locality;
using locus::scheduler::Network;
using locus::scheduler::NodeState;
using locus::scheduler::Policy;
using locus::scheduler::Snapshot;

constexpr uint32_t kNodes = 100;
constexpr uint32_t kRacks = 10;
constexpr uint32_t kNodesPerRack = kNodes / kRacks;
constexpr uint32_t kSlotsPerNode = 8;
constexpr uint64_t kBlockBytes = 128ull << 20;  // HDFS's default block size
constexpr double kRackPenalty = 1.1;
constexpr double kRemotePenalty = 1.5;
// locality_wait_since_ms == 0 means "not waiting": a clock starting at 0 would lose a wait
// begun at 0, so the virtual clock starts at 1,000 s.
constexpr int64_t kClockStartMs = 1'000'000;
constexpr uint32_t kSmallJobTasks = 20;  // bins 1-3: 69% of the jobs

// kIdeal: none's placement with every read as fast as a local one (the queueing a cluster would
// see if locality cost nothing: the baseline for the wait delay scheduling adds).
enum class Mode { kNone, kIdeal, kDelay, kFlow };
const char* modeName(Mode m) {
  switch (m) {
    case Mode::kNone:
      return "none";
    case Mode::kIdeal:
      return "ideal";
    case Mode::kDelay:
      return "delay";
    case Mode::kFlow:
      return "flow";
  }
  return "?";
}

// How delay mode hands the waits back to the scheduler core. kContract is what scheduler.hpp
// asks (the decision's locality_wait_since_ms, 0 for a task without a "Locality" decision); the
// others are diagnostics, emulated by the caller, of what the core could do instead:
//   kJob     one wait per job, reset by each node-local start of one of its tasks (Zaharia et
//            al.'s algorithm; Spark before SPARK-18886's fix);
//   kKeep    a wait once begun is kept until the task starts (a pass that did not reach it, or
//            found the cluster full, does not drop it);
//   kPaused  a wait counts only the time the task was being skipped (between a pass that skipped
//            it and the next pass).
enum class Handback { kContract, kJob, kKeep, kPaused };
const char* handbackName(Handback h) {
  switch (h) {
    case Handback::kContract:
      return "delay";
    case Handback::kJob:
      return "delay/job";
    case Handback::kKeep:
      return "delay/keep";
    case Handback::kPaused:
      return "delay/paused";
  }
  return "?";
}

// flow's waited_ms: kIdle (default) from the first pass that left it pending while a slot
// stayed idle, dropped by a pass that leaves none idle: the scheduler core's rule, so that flow
// and delay differ only in how they choose; kQueue since the task was queued (Quincy's clock).
enum class FlowClock { kIdle, kQueue };

uint32_t rackOf(uint32_t node) { return node / kNodesPerRack; }

struct Task {
  uint32_t job = 0;
  int64_t base_ms = 0;             // run time when node-local
  std::vector<uint32_t> replicas;  // nodes, the writer's first
};

struct Job {
  int64_t arrival_ms = 0;
  uint32_t first_task = 0;
  uint32_t tasks = 0;
};

struct Workload {
  std::vector<Job> jobs;
  std::vector<Task> tasks;
};

struct Options {
  uint64_t seed = 1;
  uint32_t jobs = 300;
  double load = 0.75;
  int64_t tasks_ms = 0;  // 0: per-job log-uniform base
  int64_t wait_node_ms = locus::scheduler::kDefaultLocalityWaitNodeMs;
  int64_t wait_rack_ms = locus::scheduler::kDefaultLocalityWaitRackMs;
  size_t batch = 2000;
  uint32_t replicas = 3;  // 1: only the writer's copy (data on one node per job)
  Handback handback = Handback::kContract;
  FlowClock flow_clock = FlowClock::kIdle;
};

// The Facebook bins (see the file comment): [lo, hi] maps and the share of jobs in percent.
struct Bin {
  uint32_t lo, hi, percent;
};
constexpr Bin kBins[] = {{1, 1, 39},    {2, 2, 16},    {3, 20, 14},    {21, 60, 9},    {61, 150, 6},
                         {151, 300, 6}, {301, 500, 4}, {501, 1500, 4}, {1501, 4800, 3}};

size_t binOf(uint32_t tasks) {
  size_t b = 0;
  while (b + 1 < std::size(kBins) && tasks > kBins[b].hi) ++b;
  return b;
}

Workload makeWorkload(const Options& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<double> weights;
  for (const Bin& b : kBins) weights.push_back(b.percent);
  std::discrete_distribution<size_t> bin(weights.begin(), weights.end());
  std::uniform_int_distribution<uint32_t> any_node(0, kNodes - 1);
  std::uniform_int_distribution<uint32_t> other_rack(1, kRacks - 1);  // offset from the writer's
  std::uniform_int_distribution<uint32_t> in_rack(0, kNodesPerRack - 1);
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  std::uniform_real_distribution<double> log_base(std::log(2000.0), std::log(60000.0));

  Workload w;
  double work_ms = 0;
  for (uint32_t j = 0; j < o.jobs; ++j) {
    const Bin& b = kBins[bin(rng)];
    Job job;
    job.first_task = static_cast<uint32_t>(w.tasks.size());
    job.tasks = std::uniform_int_distribution<uint32_t>(b.lo, b.hi)(rng);
    // Drawn either way, so that --tasks-ms changes the run times and nothing else.
    const double drawn = std::exp(log_base(rng));
    const double base = o.tasks_ms > 0 ? static_cast<double>(o.tasks_ms) : drawn;
    const uint32_t writer = any_node(rng);
    for (uint32_t t = 0; t < job.tasks; ++t) {
      Task task;
      task.job = j;
      task.base_ms = std::max<int64_t>(1, std::llround(base * jitter(rng)));
      const uint32_t rack = (rackOf(writer) + other_rack(rng)) % kRacks;
      const uint32_t second = in_rack(rng);
      uint32_t third = in_rack(rng);
      while (third == second) third = in_rack(rng);
      task.replicas = {writer, rack * kNodesPerRack + second, rack * kNodesPerRack + third};
      task.replicas.resize(o.replicas);
      work_ms += static_cast<double>(task.base_ms);
      w.tasks.push_back(std::move(task));
    }
    w.jobs.push_back(job);
  }
  // Poisson arrivals: the work arrives over work / (load x slots).
  const double span_ms = work_ms / (o.load * kNodes * kSlotsPerNode);
  std::exponential_distribution<double> gap(static_cast<double>(o.jobs) / span_ms);
  double at = kClockStartMs;
  for (Job& job : w.jobs) {
    job.arrival_ms = std::llround(at);
    at += gap(rng);
  }
  return w;
}

Locality classify(const Task& t, uint32_t node) {
  for (uint32_t r : t.replicas)
    if (r == node) return Locality::kNodeLocal;
  for (uint32_t r : t.replicas)
    if (rackOf(r) == rackOf(node)) return Locality::kRackLocal;
  return Locality::kRemote;
}

struct Result {
  Mode mode = Mode::kNone;
  uint64_t jobs = 0, tasks = 0, node_local = 0, rack_local = 0, remote = 0;
  uint64_t small_tasks = 0, small_node_local = 0;   // tasks of jobs of <= kSmallJobTasks
  std::vector<uint64_t> bin_tasks, bin_node_local;  // per kBins entry
  double wait_ms = 0;                               // sum of queue waits
  double idle_wait_ms = 0;                          // sum of the parts of them with a slot idle
  double response_ms = 0;                           // sum over jobs
  double busy_ms = 0;                               // sum of run times
  int64_t makespan_ms = 0;
  uint64_t passes = 0;
  double pass_s = 0;  // wall time in schedulePass / placeByFlow
  double wall_s = 0;
  uint64_t graph_tasks = 0, graph_edges = 0, flow_calls = 0;  // flow: summed over calls
  std::vector<int64_t> task_wait_ms;                          // per task, for pairing
};

// One run of the workload in one mode.
class Run {
 public:
  Run(const Workload& w, const Options& o, Mode mode)
      : w_(w),
        o_(o),
        mode_(mode),
        start_(w.tasks.size(), -1),
        wait_since_(w.tasks.size(), 0),
        end_(w.tasks.size(), 0),
        idle_at_arrival_(w.tasks.size(), 0),
        accrued_(w.tasks.size(), 0),
        skipped_(w.tasks.size(), 0),
        node_(w.tasks.size(), 0),
        core_(w.tasks.size(), 0),
        free_(kNodes, kSlotsPerNode) {
    r_.task_wait_ms.assign(w.tasks.size(), 0);
    r_.bin_tasks.assign(std::size(kBins), 0);
    r_.bin_node_local.assign(std::size(kBins), 0);
    r_.jobs = w.jobs.size();
    snap_.policy = Policy::kFirstFit;
    snap_.report_waiting = false;
    snap_.locality_wait_node_ms = o.wait_node_ms;
    snap_.locality_wait_rack_ms = o.wait_rack_ms;
    snap_.nodes.resize(kNodes);
    for (uint32_t n = 0; n < kNodes; ++n) {
      NodeState& ns = snap_.nodes[n];
      ns.name = std::to_string(n);  // then "n" in front: GCC 12 warns (-Wrestrict) on "n" + s
      ns.name.insert(ns.name.begin(), 'n');
      ns.total_cores = kSlotsPerNode;
      ns.free_cores_by_numa.assign(1, {});
      for (uint32_t c = 0; c < kSlotsPerNode; ++c) ns.free_cores_by_numa[0].push_back(c);
    }
    // Racks: leaf switches 1..10 under spine 0.
    snap_.network.parent.assign(kRacks + 1, 0);
    snap_.network.parent[0] = Network::kNoSwitch;
    for (uint32_t n = 0; n < kNodes; ++n) snap_.network.switch_of_node.push_back(1 + rackOf(n));
    rack_of_node_.resize(kNodes);
    for (uint32_t n = 0; n < kNodes; ++n) rack_of_node_[n] = rackOf(n);
    costs_.rack_cost = o.wait_node_ms;
    costs_.remote_cost = o.wait_node_ms + o.wait_rack_ms;
  }

  Result run() {
    const auto wall0 = std::chrono::steady_clock::now();
    r_.mode = mode_;
    size_t next_job = 0;
    size_t done = 0;
    int64_t last = kClockStartMs;
    while (done < w_.tasks.size()) {
      int64_t now = INT64_MAX;
      if (next_job < w_.jobs.size()) now = w_.jobs[next_job].arrival_ms;
      if (!ends_.empty()) now = std::min(now, ends_.top().first);
      if (retry_at_ > 0) now = std::min(now, retry_at_);
      LOCUS_CHECK(now != INT64_MAX) << "stuck with " << queue_.size() << " tasks pending";
      // Slot-idle time accrues to every task that waited through it (settled at start).
      if (slot_idle_) idle_clock_ += now - last;
      last = now;
      bool changed = false;
      for (; next_job < w_.jobs.size() && w_.jobs[next_job].arrival_ms == now; ++next_job) {
        arrive(next_job, now);
        changed = true;
      }
      while (!ends_.empty() && ends_.top().first == now) {
        finish(ends_.top().second);
        ends_.pop();
        ++done;
        changed = true;
      }
      const bool retry = retry_at_ > 0 && retry_at_ <= now;
      if (retry) retry_at_ = 0;
      if ((changed || retry) && !queue_.empty() && freeSlots() > 0) {
        ++r_.passes;
        const auto t0 = std::chrono::steady_clock::now();
        if (mode_ == Mode::kFlow)
          flowPass(now);
        else
          schedulerPass(now);
        r_.pass_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      slot_idle_ = !queue_.empty() && freeSlots() > 0;
    }
    LOCUS_CHECK(queue_.empty()) << queue_.size() << " tasks never started";
    const int64_t first = w_.jobs.front().arrival_ms;
    int64_t end = 0;
    for (const Job& job : w_.jobs) {
      int64_t job_end = 0;
      for (uint32_t t = job.first_task; t < job.first_task + job.tasks; ++t)
        job_end = std::max(job_end, end_[t]);
      r_.response_ms += static_cast<double>(job_end - job.arrival_ms);
      end = std::max(end, job_end);
    }
    r_.makespan_ms = end - first;
    r_.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    return std::move(r_);
  }

 private:
  uint64_t freeSlots() const { return free_total_; }

  void arrive(size_t j, int64_t now) {
    const Job& job = w_.jobs[j];
    for (uint32_t t = job.first_task; t < job.first_task + job.tasks; ++t) {
      queue_.push_back(t);
      idle_at_arrival_[t] = idle_clock_;
      if (mode_ == Mode::kFlow) continue;
      JobRequest r;
      r.id = t + 1;  // queue order: arrival, then task index
      r.array_job_id = job.first_task + 1;  // a dataflow job: its tasks share one locality wait
      r.submit_time = now / 1000;
      r.ntasks = 1;
      r.cpus_per_task = 1;
      if (mode_ == Mode::kDelay)
        for (uint32_t n : w_.tasks[t].replicas) r.input_sites.push_back(InputSite{n, kBlockBytes});
      snap_.pending.push_back(std::move(r));
    }
  }

  void start(uint32_t t, uint32_t node, uint32_t core, int64_t now) {
    const Task& task = w_.tasks[t];
    LOCUS_CHECK(free_[node] > 0) << "node " << node << " has no free slot for task " << t;
    --free_[node];
    --free_total_;
    auto& cores = snap_.nodes[node].free_cores_by_numa[0];
    auto it = std::find(cores.begin(), cores.end(), core);
    LOCUS_CHECK(it != cores.end()) << "core " << core << " of node " << node << " is not free";
    cores.erase(it);
    start_[t] = now;
    node_[t] = node;
    core_[t] = core;
    const Locality where = classify(task, node);
    const double penalty = where == Locality::kNodeLocal || mode_ == Mode::kIdeal ? 1.0
                           : where == Locality::kRackLocal                        ? kRackPenalty
                                                                                  : kRemotePenalty;
    const int64_t run = std::llround(static_cast<double>(task.base_ms) * penalty);
    end_[t] = now + run;
    ends_.push({now + run, t});
    ++r_.tasks;
    r_.node_local += where == Locality::kNodeLocal;
    r_.rack_local += where == Locality::kRackLocal;
    r_.remote += where == Locality::kRemote;
    const size_t bin = binOf(w_.jobs[task.job].tasks);
    ++r_.bin_tasks[bin];
    r_.bin_node_local[bin] += where == Locality::kNodeLocal;
    if (w_.jobs[task.job].tasks <= kSmallJobTasks) {
      ++r_.small_tasks;
      r_.small_node_local += where == Locality::kNodeLocal;
    }
    const int64_t arrival = w_.jobs[task.job].arrival_ms;
    r_.wait_ms += static_cast<double>(now - arrival);
    r_.idle_wait_ms += static_cast<double>(idle_clock_ - idle_at_arrival_[t]);
    r_.busy_ms += static_cast<double>(run);
    r_.task_wait_ms[t] = now - arrival;
  }

  void finish(uint32_t t) {
    ++free_[node_[t]];
    ++free_total_;
    auto& cores = snap_.nodes[node_[t]].free_cores_by_numa[0];
    cores.insert(std::upper_bound(cores.begin(), cores.end(), core_[t]), core_[t]);
  }

  // none, ideal, delay: one schedulePass over the whole queue (kept in pass order, so the scheduler
  // sorts nothing). Waits are handed back as the scheduler asks: the decision's
  // locality_wait_since_ms, 0 for a task without a "Locality" decision.
  void schedulerPass(int64_t now) {
    snap_.now = now / 1000;
    snap_.now_ms = now;
    if (o_.handback == Handback::kPaused && mode_ == Mode::kDelay) {
      for (JobRequest& r : snap_.pending) {
        const uint32_t t = static_cast<uint32_t>(r.id - 1);
        if (skipped_[t]) accrued_[t] += now - last_pass_ms_;
        r.locality_wait_since_ms = accrued_[t] > 0 || skipped_[t] ? now - accrued_[t] : 0;
      }
    }
    last_pass_ms_ = now;
    const std::vector<Decision> decisions = locus::scheduler::schedulePass(snap_);
    retry_at_ = 0;
    for (const Decision& d : decisions) {
      const uint32_t t = static_cast<uint32_t>(d.job_id - 1);
      if (d.kind == Decision::Kind::kStart) {
        start(t, d.allocation.front().node, d.allocation.front().cores.front(), now);
      } else if (d.locality_wait_since_ms != 0) {
        wait_since_[t] = d.locality_wait_since_ms;
        if (d.locality_retry_at_ms > now && (retry_at_ == 0 || d.locality_retry_at_ms < retry_at_))
          retry_at_ = d.locality_retry_at_ms;
      }
    }
    // kJob: a node-local start of a task resets the waits of its job's other tasks.
    std::vector<uint32_t> reset_jobs;
    if (o_.handback == Handback::kJob)
      for (const Decision& d : decisions)
        if (d.kind == Decision::Kind::kStart && d.locality == Locality::kNodeLocal)
          reset_jobs.push_back(w_.tasks[d.job_id - 1].job);
    std::sort(reset_jobs.begin(), reset_jobs.end());
    std::vector<JobRequest>& pending = snap_.pending;
    size_t kept = 0;
    for (size_t i = 0; i < pending.size(); ++i) {
      const uint32_t t = static_cast<uint32_t>(pending[i].id - 1);
      if (start_[t] >= 0) continue;
      int64_t since = wait_since_[t];  // the decision's; 0 without a "Locality" decision
      skipped_[t] = since != 0;
      if (o_.handback == Handback::kKeep && since == 0) since = pending[i].locality_wait_since_ms;
      if (std::binary_search(reset_jobs.begin(), reset_jobs.end(), w_.tasks[t].job)) since = 0;
      pending[i].locality_wait_since_ms = since;
      wait_since_[t] = 0;
      if (kept != i) pending[kept] = std::move(pending[i]);
      ++kept;
    }
    pending.resize(kept);
    std::erase_if(queue_, [&](uint32_t t) { return start_[t] >= 0; });
  }

  // flow: placeByFlow over the first --batch tasks. A task's wait (waited_ms), with the default
  // FlowClock::kIdle, runs from the first pass that left it pending while a slot stayed idle and
  // is dropped by a pass that leaves no slot idle, as the scheduler core counts its waits; with
  // kQueue it is the time since the task was queued.
  void flowPass(int64_t now) {
    const size_t n = std::min(queue_.size(), o_.batch);
    std::vector<FlowTask> batch(n);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t t = queue_[i];
      batch[i].nodes = w_.tasks[t].replicas;
      for (uint32_t node : batch[i].nodes)
        if (std::find(batch[i].racks.begin(), batch[i].racks.end(), rackOf(node)) ==
            batch[i].racks.end())
          batch[i].racks.push_back(rackOf(node));
      if (o_.flow_clock == FlowClock::kQueue)
        batch[i].waited_ms = now - w_.jobs[w_.tasks[t].job].arrival_ms;
      else
        batch[i].waited_ms = wait_since_[t] > 0 ? now - wait_since_[t] : 0;
    }
    FlowGraphSize size;
    const std::vector<int32_t> placed =
        locus::locality::placeByFlow(batch, free_, rack_of_node_, costs_, &size);
    ++r_.flow_calls;
    r_.graph_tasks += size.tasks;
    r_.graph_edges += size.edges;
    for (size_t i = 0; i < n; ++i) {
      if (placed[i] < 0) continue;
      const uint32_t node = static_cast<uint32_t>(placed[i]);
      start(queue_[i], node, snap_.nodes[node].free_cores_by_numa[0].front(), now);
    }
    std::erase_if(queue_, [&](uint32_t t) { return start_[t] >= 0; });
    const bool idle = freeSlots() > 0;
    retry_at_ = 0;
    const int64_t to_rack = locus::locality::waitToTake(costs_, costs_.rack_cost);
    const int64_t to_remote = locus::locality::waitToTake(costs_, costs_.remote_cost);
    for (size_t i = 0; i < std::min(queue_.size(), o_.batch); ++i) {
      int64_t& since = wait_since_[queue_[i]];
      if (o_.flow_clock == FlowClock::kQueue) {
        // Relaxes at fixed points after its arrival; only worth a pass while a slot is idle.
        if (!idle) continue;
        const int64_t arrival = w_.jobs[w_.tasks[queue_[i]].job].arrival_ms;
        for (int64_t at : {arrival + to_rack, arrival + to_remote})
          if (at > now && (retry_at_ == 0 || at < retry_at_)) retry_at_ = at;
        continue;
      }
      if (!idle) {
        since = 0;
        continue;
      }
      if (since == 0) since = now;
      for (int64_t at : {since + to_rack, since + to_remote})
        if (at > now && (retry_at_ == 0 || at < retry_at_)) retry_at_ = at;
    }
  }

  const Workload& w_;
  const Options& o_;
  Mode mode_;
  Result r_;
  Snapshot snap_;
  FlowCosts costs_;
  std::vector<uint32_t> rack_of_node_;
  std::vector<uint32_t> queue_;  // pending tasks in queue order
  std::vector<int64_t> start_, wait_since_, end_;
  std::vector<int64_t> idle_at_arrival_;
  std::vector<int64_t> accrued_;  // kPaused: ms spent being skipped
  std::vector<uint8_t> skipped_;  // skipped for locality by the last pass
  int64_t last_pass_ms_ = 0;
  std::vector<uint32_t> node_, core_;
  std::vector<uint32_t> free_;
  uint64_t free_total_ = uint64_t{kNodes} * kSlotsPerNode;
  std::priority_queue<std::pair<int64_t, uint32_t>, std::vector<std::pair<int64_t, uint32_t>>,
                      std::greater<>>
      ends_;
  int64_t retry_at_ = 0;
  bool slot_idle_ = false;
  int64_t idle_clock_ = 0;
};

void printHeader(const std::string& title, const Workload& w, const Options& o,
                 bool waits_swept = false) {
  uint64_t small = 0;
  for (const Job& j : w.jobs) small += j.tasks <= kSmallJobTasks;
  char waits[64] = "waits as labelled";
  if (!waits_swept)
    std::snprintf(waits, sizeof waits, "waits %lld/%lld ms", static_cast<long long>(o.wait_node_ms),
                  static_cast<long long>(o.wait_rack_ms));
  std::printf(
      "\n== %s: %zu jobs (%.0f%% of them <= %u tasks), %zu tasks, load %.2f, seed %llu, %s\n",
      title.c_str(), w.jobs.size(), 100.0 * static_cast<double>(small) / w.jobs.size(),
      kSmallJobTasks, w.tasks.size(), o.load, static_cast<unsigned long long>(o.seed), waits);
  std::printf("%-16s %6s %6s %7s %7s %7s %7s %7s %8s %6s %8s %7s %5s %7s %6s\n", "mode", "node%",
              "rack%", "remote%", "wait s", "+none", "+ideal", "idle s", "job s", "small%",
              "makespan", "tasks/s", "util%", "passes", "wall s");
}

// Mean over tasks of (this run's wait - the base run's wait): the same tasks, the same seed.
std::string pairedWait(const Result& r, const Result* base) {
  if (base == nullptr || base->mode == r.mode) return "-";
  double sum = 0;
  for (size_t t = 0; t < r.task_wait_ms.size(); ++t)
    sum += static_cast<double>(r.task_wait_ms[t] - base->task_wait_ms[t]);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", sum / static_cast<double>(r.tasks) / 1000.0);
  return buf;
}

void printRow(const std::string& label, const Result& r, const Result* none, const Result* ideal) {
  const double n = static_cast<double>(r.tasks);
  const double makespan_s = static_cast<double>(r.makespan_ms) / 1000.0;
  std::printf(
      "%-16s %6.1f %6.1f %7.1f %7.2f %7s %7s %7.2f %8.1f %6.1f %8.1f %7.1f %5.1f %7llu %6.2f\n",
      label.c_str(), 100.0 * r.node_local / n, 100.0 * r.rack_local / n, 100.0 * r.remote / n,
      r.wait_ms / n / 1000.0, pairedWait(r, none).c_str(), pairedWait(r, ideal).c_str(),
      r.idle_wait_ms / n / 1000.0, r.response_ms / static_cast<double>(r.jobs) / 1000.0,
      100.0 * r.small_node_local / std::max<double>(1, r.small_tasks), makespan_s, n / makespan_s,
      100.0 * r.busy_ms / (makespan_s * 1000.0 * kNodes * kSlotsPerNode),
      static_cast<unsigned long long>(r.passes), r.wall_s);
  if (r.mode == Mode::kFlow)
    std::printf("%-16s graph per call: %.1f tasks, %.0f edges; %.0f us per call\n", "",
                static_cast<double>(r.graph_tasks) / std::max<uint64_t>(1, r.flow_calls),
                static_cast<double>(r.graph_edges) / std::max<uint64_t>(1, r.flow_calls),
                1e6 * r.pass_s / std::max<uint64_t>(1, r.flow_calls));
  std::fflush(stdout);
}

// The paper's view: node locality per job size bin.
void printBins(const std::vector<Result>& runs) {
  std::printf("node-local %% by job size bin (tasks per job):\n%-16s", "bin");
  for (const Bin& b : kBins) {
    const std::string label =
        b.lo == b.hi ? std::to_string(b.lo) : std::to_string(b.lo) + "-" + std::to_string(b.hi);
    std::printf(" %9s", label.c_str());
  }
  std::printf("\n%-16s", "tasks");
  for (uint64_t n : runs.front().bin_tasks)
    std::printf(" %9llu", static_cast<unsigned long long>(n));
  for (const Result& r : runs) {
    if (r.mode == Mode::kIdeal) continue;  // the same placement as none
    std::printf("\n%-16s", modeName(r.mode));
    for (size_t b = 0; b < r.bin_tasks.size(); ++b)
      std::printf(" %9.1f", r.bin_tasks[b] ? 100.0 * r.bin_node_local[b] / r.bin_tasks[b] : 0.0);
  }
  std::printf("\n");
}

// Runs the modes on one workload; none and ideal first (the others are paired with them).
void scenario(const std::string& title, const Options& o, const std::vector<Mode>& modes) {
  const Workload w = makeWorkload(o);
  printHeader(title, w, o);
  std::vector<Result> runs;
  const Result* none = nullptr;
  const Result* ideal = nullptr;
  runs.reserve(modes.size());
  for (Mode m : modes) {
    runs.push_back(Run(w, o, m).run());
    printRow(modeName(m), runs.back(), none, ideal);
    if (m == Mode::kNone) none = &runs.back();
    if (m == Mode::kIdeal) ideal = &runs.back();
  }
  printBins(runs);
}

// The waits swept (node wait = rack wait; the flow's costs follow them), paired with none and
// ideal on the same workload.
void sweep(const std::string& title, const Options& base, const std::vector<int64_t>& waits) {
  const Workload w = makeWorkload(base);
  printHeader("sweep of the waits (node wait = rack wait), " + title, w, base, true);
  const Result none = Run(w, base, Mode::kNone).run();
  printRow("none", none, nullptr, nullptr);
  const Result ideal = Run(w, base, Mode::kIdeal).run();
  printRow("ideal", ideal, &none, nullptr);
  for (Mode m : {Mode::kDelay, Mode::kFlow}) {
    for (int64_t wait : waits) {
      Options o = base;
      o.wait_node_ms = o.wait_rack_ms = wait;
      printRow(std::string(modeName(m)) + " " + std::to_string(wait) + " ms", Run(w, o, m).run(),
               &none, &ideal);
    }
  }
}

// Delay scheduling's ways of handing the waits back, and flow's two clocks, on one workload.
void diagnose(const std::string& title, const Options& base) {
  const Workload w = makeWorkload(base);
  printHeader("diagnostics, " + title, w, base);
  const Result none = Run(w, base, Mode::kNone).run();
  printRow("none", none, nullptr, nullptr);
  const Result ideal = Run(w, base, Mode::kIdeal).run();
  printRow("ideal", ideal, &none, nullptr);
  for (Handback h : {Handback::kContract, Handback::kJob, Handback::kKeep, Handback::kPaused}) {
    Options o = base;
    o.handback = h;
    printRow(handbackName(h), Run(w, o, Mode::kDelay).run(), &none, &ideal);
  }
  for (FlowClock c : {FlowClock::kIdle, FlowClock::kQueue}) {
    Options o = base;
    o.flow_clock = c;
    printRow(c == FlowClock::kQueue ? "flow/queue-clk" : "flow/idle-clk",
             Run(w, o, Mode::kFlow).run(), &none, &ideal);
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_locality [--seed S] [--jobs N] [--mode all|none|ideal|delay|"
               "delay-job|flow] [--tasks-ms MS] [--load F] [--wait-node-ms MS] "
               "[--wait-rack-ms MS] [--batch N] [--replicas 1-3] "
               "[--scenario all|mixed|short|short-1r|sweep|diag] [--short-ms MS] "
               "[--handback contract|job|keep|paused] [--flow-clock queue|idle]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string mode = "all", which = "all";
  int64_t short_ms = 100;
  for (int i = 1; i < argc; ++i) {
    const bool more = i + 1 < argc;
    if (!std::strcmp(argv[i], "--seed") && more)
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--jobs") && more)
      o.jobs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--mode") && more)
      mode = argv[++i];
    else if (!std::strcmp(argv[i], "--tasks-ms") && more)
      o.tasks_ms = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--load") && more)
      o.load = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--wait-node-ms") && more)
      o.wait_node_ms = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--wait-rack-ms") && more)
      o.wait_rack_ms = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && more)
      o.batch = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--replicas") && more)
      o.replicas = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--scenario") && more)
      which = argv[++i];
    else if (!std::strcmp(argv[i], "--short-ms") && more)
      short_ms = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--handback") && more) {
      const std::string h = argv[++i];
      if (h == "contract")
        o.handback = Handback::kContract;
      else if (h == "job")
        o.handback = Handback::kJob;
      else if (h == "keep")
        o.handback = Handback::kKeep;
      else if (h == "paused")
        o.handback = Handback::kPaused;
      else
        return usage();
    } else if (!std::strcmp(argv[i], "--flow-clock") && more) {
      const std::string c = argv[++i];
      if (c == "queue")
        o.flow_clock = FlowClock::kQueue;
      else if (c == "idle")
        o.flow_clock = FlowClock::kIdle;
      else
        return usage();
    } else
      return usage();
  }
  std::vector<Mode> modes;
  const bool all = mode == "all";
  if (all || mode == "none") modes.push_back(Mode::kNone);
  if (all || mode == "ideal") modes.push_back(Mode::kIdeal);
  if (all || mode == "delay") modes.push_back(Mode::kDelay);
  if (all || mode == "flow") modes.push_back(Mode::kFlow);
  if (modes.empty() || o.jobs == 0 || o.load <= 0 || o.batch == 0 || o.replicas < 1 ||
      o.replicas > 3 || o.wait_node_ms < 0 || o.wait_rack_ms < 0 || short_ms <= 0)
    return usage();
  std::printf(
      "bench_locality: %u nodes in %u racks, %u slots each; read penalty rack-local "
      "%.1fx, remote %.1fx; flow batch %zu\n",
      kNodes, kRacks, kSlotsPerNode, kRackPenalty, kRemotePenalty, o.batch);
  std::printf(
      "columns: where tasks ran (%%); mean queue wait per task (s); its mean paired change "
      "vs none and vs ideal; the part of it\nspent while some slot stood idle; mean job "
      "response (s); node-local %% of the tasks of jobs of <= %u tasks; makespan (s); "
      "tasks/s over it; utilization\n",
      kSmallJobTasks);
  const bool every = which == "all";
  if (every || which == "mixed") {
    scenario(o.tasks_ms > 0 ? "mixed jobs, " + std::to_string(o.tasks_ms) + " ms tasks, " +
                                  std::to_string(o.replicas) + " replicas"
                            : "mixed jobs, per-job task times 2-60 s, " +
                                  std::to_string(o.replicas) + " replicas",
             o, modes);
  }
  if (every || which == "short") {
    Options s = o;
    s.tasks_ms = short_ms;
    scenario("short tasks, " + std::to_string(short_ms) + " ms, " + std::to_string(s.replicas) +
                 " replicas",
             s, modes);
  }
  if (every || which == "short-1r") {
    Options s = o;
    s.tasks_ms = short_ms;
    s.replicas = 1;
    scenario("short tasks, " + std::to_string(short_ms) +
                 " ms, 1 replica (each job's data on one node: SPARK-18886)",
             s, modes);
  }
  if (every || which == "sweep") {
    sweep("mixed jobs", o, {500, 1000, 3000, 10000});
    Options s = o;
    s.tasks_ms = short_ms;
    s.replicas = 1;
    sweep("short tasks, 1 replica", s, {0, 50, 100});  // 3000: the short-1r table
  }
  if (which == "diag") {
    diagnose("mixed jobs", o);
    Options s = o;
    s.tasks_ms = short_ms;
    diagnose("short tasks", s);
    s.replicas = 1;
    diagnose("short tasks, 1 replica", s);
  }
  return 0;
}
