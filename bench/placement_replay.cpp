#include "bench/placement_replay.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <functional>
#include <queue>
#include <random>
#include <utility>

namespace locus::bench {
namespace {

using scheduler::Decision;
using scheduler::JobRequest;
using scheduler::NodeAllocation;
using scheduler::NodeState;
using scheduler::RunningJob;
using scheduler::Snapshot;

// One GPU per this many cores of a job's per-node share: a node's 4 GPUs to its 128 cores.
constexpr uint32_t kCoresPerGpu = 32;

struct Job {
  int64_t submit = 0;
  int64_t run = 0;
  int64_t estimate = 0;
  JobRequest request;
  int64_t start = -1;
  std::vector<NodeAllocation> allocation;  // while running
};

uint32_t ceilDiv(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

class Replay {
 public:
  Replay(const ReplayCluster& cluster, const ReplayOptions& options, std::vector<Job> jobs)
      : cluster_(cluster), jobs_(std::move(jobs)) {
    const uint32_t nodes = static_cast<uint32_t>(cluster.gpu_node.size());
    const uint32_t gpus = cluster.domains * cluster.gpus_per_domain;
    snap_.policy = options.policy;
    snap_.report_waiting = false;  // only starts matter here
    if (options.topology) snap_.network = cluster.network;
    snap_.nodes.resize(nodes);
    free_cores_.assign(nodes, cluster.domains * cluster.cores_per_domain);
    free_gpus_.assign(nodes, 0);
    for (uint32_t n = 0; n < nodes; ++n) {
      NodeState& ns = snap_.nodes[n];
      ns.name = "n" + std::to_string(n + 1);
      ns.total_cores = cluster.domains * cluster.cores_per_domain;
      ns.free_cores_by_numa.resize(cluster.domains);
      for (uint32_t d = 0; d < cluster.domains; ++d)
        for (uint32_t c = 0; c < cluster.cores_per_domain; ++c)
          ns.free_cores_by_numa[d].push_back(d * cluster.cores_per_domain + c);
      if (cluster.gpu_node[n]) {
        for (uint32_t g = 0; g < gpus; ++g)
          ns.gpu_numa.push_back(static_cast<int32_t>(g / cluster.gpus_per_domain));
        ns.free_gpus = (uint64_t{1} << gpus) - 1;
        free_gpus_[n] = gpus;
      }
    }
    // Leaves: the switch each node hangs off; leaf size = the most nodes on one.
    leaf_of_node_ = cluster.network.switch_of_node;
    std::vector<uint32_t> per_switch(cluster.network.parent.size(), 0);
    for (uint32_t s : leaf_of_node_) leaf_size_ = std::max(leaf_size_, ++per_switch[s]);
    leaf_count_.assign(per_switch.size(), 0);
  }

  ReplayStats run() {
    using Completion = std::pair<int64_t, size_t>;  // (end, job)
    std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions;
    size_t next = 0;
    bool changed = false;  // a job arrived or ended since the last pass
    while (next < jobs_.size() || !completions.empty()) {
      int64_t now = completions.empty() ? jobs_[next].submit : completions.top().first;
      if (next < jobs_.size()) now = std::min(now, jobs_[next].submit);
      for (; next < jobs_.size() && jobs_[next].submit == now; ++next) {
        snap_.pending.push_back(jobs_[next].request);
        changed = true;
      }
      while (!completions.empty() && completions.top().first == now) {
        finish(completions.top().second);
        completions.pop();
        changed = true;
      }
      if (!changed || snap_.pending.empty()) continue;
      changed = false;
      snap_.now = now;
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<Decision> decisions = scheduler::schedulePass(snap_);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      stats_.pass_s += s;
      stats_.pass_times.push_back(s);
      ++stats_.passes;
      std::vector<JobRequest> queue = std::exchange(snap_.pending, {});
      const auto t1 = std::chrono::steady_clock::now();
      LOCUS_CHECK(scheduler::schedulePass(snap_).empty()) << "a pass with no job started one";
      stats_.empty_pass_s +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      snap_.pending = std::move(queue);
      // In commit order: each job is measured against the free resources it saw.
      for (const Decision& d : decisions) {
        if (d.kind != Decision::Kind::kStart) continue;
        const size_t j = d.job_id - 1;
        mix(d.job_id);
        mix(static_cast<uint64_t>(now));
        for (const NodeAllocation& a : d.allocation) {
          mix(a.node);
          for (uint32_t c : a.cores) mix(c);
          for (uint32_t g : a.gpus) mix(g);
        }
        measure(jobs_[j].request, d.allocation);
        start(j, now, d.allocation);
        completions.push({now + jobs_[j].run, j});
        ++stats_.starts;
      }
      std::erase_if(snap_.pending, [&](const JobRequest& r) { return jobs_[r.id - 1].start >= 0; });
    }
    LOCUS_CHECK(snap_.pending.empty()) << snap_.pending.size() << " jobs never started";
    summarize();
    return std::move(stats_);
  }

 private:
  void mix(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      stats_.digest ^= (v >> (8 * i)) & 0xff;
      stats_.digest *= 1099511628211ull;
    }
  }

  // The fewest leaves whose nodes able to hold `job`'s largest per-node share add up to its node
  // count, from the free resources now; 0 when they do not add up.
  uint32_t fewestLeaves(const JobRequest& job) {
    const uint32_t share = ceilDiv(job.ntasks, job.nodes) * job.cpus_per_task;
    std::fill(leaf_count_.begin(), leaf_count_.end(), 0);
    for (size_t n = 0; n < free_cores_.size(); ++n) {
      if (free_cores_[n] >= share && free_gpus_[n] >= job.gpus_per_node)
        ++leaf_count_[leaf_of_node_[n]];
    }
    std::vector<uint32_t> counts = leaf_count_;
    std::sort(counts.begin(), counts.end(), std::greater<>());
    uint32_t have = 0, leaves = 0;
    for (uint32_t c : counts) {
      if (have >= job.nodes || c == 0) break;
      have += c;
      ++leaves;
    }
    return have >= job.nodes ? leaves : 0;
  }

  void measure(const JobRequest& job, const std::vector<NodeAllocation>& allocation) {
    if (job.nodes > 1) {
      ++stats_.multi;
      std::vector<uint32_t> leaves;
      for (const NodeAllocation& a : allocation) leaves.push_back(leaf_of_node_[a.node]);
      std::sort(leaves.begin(), leaves.end());
      const uint32_t used =
          static_cast<uint32_t>(std::unique(leaves.begin(), leaves.end()) - leaves.begin());
      const uint32_t bound = ceilDiv(job.nodes, leaf_size_);
      const uint32_t fewest = fewestLeaves(job);
      stats_.multi_leaves += used;
      if (used == bound) ++stats_.multi_at_bound;
      if (fewest > 0) {
        ++stats_.fewest_known;
        stats_.fewest_leaves += fewest;
        if (used <= fewest) ++stats_.at_fewest;
        if (fewest == bound) {
          ++stats_.bound_possible;
          if (used == bound) ++stats_.at_bound_when_possible;
        }
      }
    }
    uint32_t domains = 0;
    for (const NodeAllocation& a : allocation) {
      const uint32_t cores = static_cast<uint32_t>(a.cores.size());
      domains += static_cast<uint32_t>(a.numa.size());
      ++stats_.node_allocs;
      if (a.numa.size() == ceilDiv(cores, cluster_.cores_per_domain)) ++stats_.node_allocs_at_bound;
      const std::vector<int32_t>& gpu_numa = snap_.nodes[a.node].gpu_numa;
      for (uint32_t g : a.gpus) {
        ++stats_.gpus;
        const auto d = static_cast<uint32_t>(gpu_numa[g]);
        if (std::find(a.numa.begin(), a.numa.end(), d) != a.numa.end()) ++stats_.gpus_local;
      }
    }
    stats_.numa_per_job_sum +=
        static_cast<double>(domains) / static_cast<double>(allocation.size());
    if (job.nodes == 1 && job.ntasks * job.cpus_per_task <= cluster_.cores_per_domain) {
      ++stats_.small_jobs;
      if (allocation.front().numa.size() == 1) ++stats_.small_in_one;
    }
  }

  void start(size_t j, int64_t now, const std::vector<NodeAllocation>& allocation) {
    Job& job = jobs_[j];
    job.start = now;
    RunningJob r;
    r.id = j + 1;
    r.expected_end = now + job.estimate;
    for (const NodeAllocation& a : allocation) {
      NodeState& ns = snap_.nodes[a.node];
      for (auto& free : ns.free_cores_by_numa) {
        std::erase_if(free, [&](uint32_t c) {
          return std::binary_search(a.cores.begin(), a.cores.end(), c);
        });
      }
      for (uint32_t g : a.gpus) ns.free_gpus &= ~(uint64_t{1} << g);
      free_cores_[a.node] -= static_cast<uint32_t>(a.cores.size());
      free_gpus_[a.node] -= static_cast<uint32_t>(a.gpus.size());
      r.use.push_back(
          {a.node, static_cast<uint32_t>(a.cores.size()), 0, static_cast<uint32_t>(a.gpus.size())});
    }
    // In expected-end order, as the simulator keeps it (the profile needs no sort).
    auto at =
        std::upper_bound(snap_.running.begin(), snap_.running.end(), r.expected_end,
                         [](int64_t end, const RunningJob& x) { return end < x.expected_end; });
    snap_.running.insert(at, std::move(r));
    job.allocation = allocation;
  }

  void finish(size_t j) {
    Job& job = jobs_[j];
    for (const NodeAllocation& a : job.allocation) {
      NodeState& ns = snap_.nodes[a.node];
      for (uint32_t c : a.cores) {
        auto& free = ns.free_cores_by_numa[c / cluster_.cores_per_domain];
        free.insert(std::lower_bound(free.begin(), free.end(), c), c);
      }
      for (uint32_t g : a.gpus) ns.free_gpus |= uint64_t{1} << g;
      free_cores_[a.node] += static_cast<uint32_t>(a.cores.size());
      free_gpus_[a.node] += static_cast<uint32_t>(a.gpus.size());
    }
    job.allocation.clear();
    job.allocation.shrink_to_fit();
    const int64_t expected = job.start + job.estimate;
    auto it =
        std::lower_bound(snap_.running.begin(), snap_.running.end(), expected,
                         [](const RunningJob& x, int64_t end) { return x.expected_end < end; });
    while (it != snap_.running.end() && it->id != j + 1) ++it;
    LOCUS_CHECK(it != snap_.running.end()) << "finished job " << j + 1 << " is not running";
    snap_.running.erase(it);
  }

  void summarize() {
    stats_.jobs = jobs_.size();
    double wait = 0;
    int64_t first = jobs_.empty() ? 0 : jobs_.front().submit, last = first;
    for (const Job& j : jobs_) {
      wait += static_cast<double>(j.start - j.submit);
      last = std::max(last, j.start + j.run);
      if (j.request.gpus_per_node > 0) ++stats_.gpu_jobs;
    }
    stats_.wait_mean_s = jobs_.empty() ? 0 : wait / static_cast<double>(jobs_.size());
    stats_.makespan_s = last - first;
  }

  const ReplayCluster& cluster_;
  std::vector<Job> jobs_;
  Snapshot snap_;
  ReplayStats stats_;
  std::vector<uint32_t> free_cores_;  // per node, mirrors snap_
  std::vector<uint32_t> free_gpus_;   // per node, mirrors snap_
  std::vector<uint32_t> leaf_of_node_;
  std::vector<uint32_t> leaf_count_;  // scratch, per switch
  uint32_t leaf_size_ = 1;
};

}  // namespace

Result<ReplayStats> replayPlacement(const sim::SwfTrace& trace, const ReplayCluster& cluster,
                                    const ReplayOptions& options) {
  const uint32_t nodes = static_cast<uint32_t>(cluster.gpu_node.size());
  if (nodes == 0) return invalidArgument("the cluster has no node");
  if (cluster.network.switch_of_node.size() != nodes)
    return invalidArgument("every node needs a leaf switch");
  const uint32_t node_cores = cluster.domains * cluster.cores_per_domain;
  const uint32_t node_gpus = cluster.domains * cluster.gpus_per_domain;
  const uint32_t gpu_nodes =
      static_cast<uint32_t>(std::count(cluster.gpu_node.begin(), cluster.gpu_node.end(), 1));
  const size_t records = std::min(options.jobs, trace.jobs.size());
  int64_t max_procs = trace.max_procs;
  if (max_procs <= 0) {
    for (size_t i = 0; i < records; ++i) max_procs = std::max(max_procs, trace.jobs[i].procs);
  }
  if (max_procs <= 0) return invalidArgument("no job in the trace has processors");
  const double scale = options.cores_per_proc > 0 ? options.cores_per_proc
                                                  : static_cast<double>(nodes) * node_cores /
                                                        static_cast<double>(max_procs);

  std::mt19937_64 rng(options.seed);
  std::bernoulli_distribution wants_gpus(options.gpu_share);
  std::vector<Job> jobs;
  size_t skipped = 0;
  for (size_t i = 0; i < records; ++i) {
    const sim::SwfJob& s = trace.jobs[i];
    // Drawn for every record, so the on and off runs and both cluster sizes agree on which jobs
    // ask for GPUs whatever is skipped.
    const bool gpu = wants_gpus(rng);
    if (s.run <= 0 || s.procs <= 0) {
      ++skipped;
      continue;
    }
    const uint64_t cores = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::llround(static_cast<double>(s.procs) * scale)));
    const uint32_t job_nodes = ceilDiv(cores, node_cores);
    if (job_nodes > nodes) {
      ++skipped;
      continue;
    }
    Job j;
    j.submit = s.submit;
    j.estimate = s.req_time > 0 ? s.req_time : s.run;
    j.run = std::min(s.run, j.estimate);
    JobRequest& r = j.request;
    r.submit_time = s.submit;
    r.nodes = job_nodes;
    r.ntasks = static_cast<uint32_t>(cores);
    r.cpus_per_task = 1;
    r.time_limit_s = j.estimate;
    if (gpu && node_gpus > 0 && job_nodes <= gpu_nodes) {
      r.gpus_per_node = std::min(node_gpus, ceilDiv(ceilDiv(cores, job_nodes), kCoresPerGpu));
    }
    jobs.push_back(std::move(j));
  }
  if (jobs.empty()) return invalidArgument("no job of the trace fits the cluster");
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const Job& a, const Job& b) { return a.submit < b.submit; });
  for (size_t i = 0; i < jobs.size(); ++i) jobs[i].request.id = i + 1;

  Replay replay(cluster, options, std::move(jobs));
  ReplayStats stats = replay.run();
  stats.skipped = skipped;
  return stats;
}

}  // namespace locus::bench
