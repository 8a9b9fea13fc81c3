#include "sim/simulator.hpp"

#include <algorithm>
#include <chrono>
#include <queue>
#include <set>

#include "controller/scheduler/runtime_predictor.hpp"

namespace locus::sim {
namespace {

using scheduler::Decision;
using scheduler::JobRequest;
using scheduler::NodeAllocation;
using scheduler::NodeState;
using scheduler::Policy;
using scheduler::RunningJob;
using scheduler::RuntimePredictor;
using scheduler::Snapshot;

constexpr double kBsldTauS = 10.0;  // bounded slowdown's floor on run time (Feitelson et al.)

struct Job {
  int64_t id = 0;
  int64_t submit = 0;
  int64_t run = 0;       // what it runs: the trace's run time, cut at the estimate
  int64_t estimate = 0;  // the time limit the scheduler plans with
  uint32_t procs = 0;
  int64_t start = -1;
  std::string user;            // the trace's user number, for predictions
  int64_t predicted = 0;       // kEasyPredict: the run time planned at arrival
  int64_t expected_end = 0;    // while running: where the plan puts its end
};

// The replay's mutable state. The snapshot is kept between passes and changed in place (a few
// cores per event) rather than rebuilt: schedulePass reads it, never copies it.
class Replay {
 public:
  Replay(std::vector<Job> jobs, uint32_t nodes, uint32_t cores_per_node, const SimConfig& config)
      : jobs_(std::move(jobs)),
        allocation_(jobs_.size()),
        free_cores_(uint64_t{nodes} * cores_per_node) {
    predict_ = config.policy == Policy::kEasyPredict;
    snap_.policy = config.policy;
    snap_.reserve_depth = config.reserve_depth;
    snap_.protect_after_s = config.protect_after_s;
    snap_.report_waiting = false;  // only starts matter here
    snap_.nodes.resize(nodes);
    for (uint32_t n = 0; n < nodes; ++n) {
      NodeState& ns = snap_.nodes[n];
      ns.name = "n" + std::to_string(n);
      ns.total_cores = cores_per_node;
      ns.free_cores_by_numa.assign(1, {});
      for (uint32_t c = 0; c < cores_per_node; ++c) ns.free_cores_by_numa[0].push_back(c);
    }
  }

  void run(SimResult& result, const Progress& progress) {
    size_t next = 0, done = 0;
    size_t report_every = std::max<size_t>(1, jobs_.size() / 200);
    while (next < jobs_.size() || !completions_.empty()) {
      int64_t now = completions_.empty() ? jobs_[next].submit : completions_.top().first;
      if (next < jobs_.size()) now = std::min(now, jobs_[next].submit);
      if (!corrections_.empty()) now = std::min(now, corrections_.top().first);
      for (; next < jobs_.size() && jobs_[next].submit == now; ++next) arrive(next);
      while (!completions_.empty() && completions_.top().first == now) {
        finish(completions_.top().second);
        completions_.pop();
        if (++done % report_every == 0 && progress) {
          progress(static_cast<double>(done) / static_cast<double>(jobs_.size()));
        }
      }
      while (!corrections_.empty() && corrections_.top().first == now) {
        correct(corrections_.top().second, now);
        corrections_.pop();
      }
      if (!worthAPass()) continue;
      freed_ = false;
      arrived_min_procs_ = UINT32_MAX;
      snap_.now = now;
      const std::vector<Decision> decisions = scheduler::schedulePass(snap_);
      ++result.passes;
      result.decisions += snap_.pending.size();  // one per waiting job, reported or not
      bool started = false;
      for (const Decision& d : decisions) {
        if (d.kind != Decision::Kind::kStart) continue;
        const size_t j = d.job_id - 1;
        start(j, now, d.allocation);
        started = true;
      }
      if (started) dropStarted();
    }
    LOCUS_CHECK(snap_.pending.empty()) << snap_.pending.size() << " jobs never started";
    if (progress) progress(1.0);
  }

  const std::vector<Job>& jobs() const { return jobs_; }

 private:
  void arrive(size_t j) {
    JobRequest r;
    r.id = j + 1;  // trace job numbers need not be unique; positions are
    r.submit_time = jobs_[j].submit;
    r.ntasks = jobs_[j].procs;
    r.cpus_per_task = 1;
    r.time_limit_s = jobs_[j].estimate;
    if (predict_) {
      jobs_[j].predicted = predictor_.predict(jobs_[j].user, jobs_[j].estimate);
      r.planned_runtime_s = jobs_[j].predicted;
    }
    snap_.pending.push_back(r);
    pending_procs_.insert(jobs_[j].procs);
    arrived_min_procs_ = std::min(arrived_min_procs_, jobs_[j].procs);
  }

  // Whether a pass now could start anything; skipping the others is what keeps a 450,000-job
  // replay within a minute. Every job here is flexible, one core per task, no memory, so
  // "fits in what is free" is counting.
  //  - fcfs: only the first in line may start.
  //  - otherwise, if no job finished since the last pass, the jobs that waited then still wait:
  //    nothing was freed, the plan's steps all lie after now (a running job ends at or before
  //    its expected end, and none has ended; one that outlives a prediction gets a later
  //    expected end then, and counts as freeing: its successors' reservations move later,
  //    which opens windows), so each reservation stays where it was and each
  //    waiting job's window [now, now + limit) only moved later. Only the jobs that arrived
  //    since (last in the queue: same priority, later submit) may start, if one fits.
  //  - else some waiting job must fit in the free cores.
  bool worthAPass() const {
    if (snap_.pending.empty()) return false;
    if (snap_.policy == Policy::kFcfs) return snap_.pending.front().ntasks <= free_cores_;
    if (!freed_) return arrived_min_procs_ <= free_cores_;
    return *pending_procs_.begin() <= free_cores_;
  }

  void start(size_t j, int64_t now, const std::vector<NodeAllocation>& allocation) {
    Job& job = jobs_[j];
    job.start = now;
    job.expected_end = now + (predict_ ? job.predicted : job.estimate);
    completions_.push({now + job.run, j});
    if (job.expected_end < now + job.run) corrections_.push({job.expected_end, j});
    RunningJob r;
    r.id = j + 1;
    r.expected_end = job.expected_end;
    for (const NodeAllocation& a : allocation) {
      auto& free = snap_.nodes[a.node].free_cores_by_numa[0];
      std::erase_if(
          free, [&](uint32_t c) { return std::binary_search(a.cores.begin(), a.cores.end(), c); });
      r.use.push_back({a.node, static_cast<uint32_t>(a.cores.size()), 0});
      free_cores_ -= a.cores.size();
    }
    // In expected-end order, so the pass's profile needs no sort.
    insertRunning(std::move(r));
    allocation_[j] = allocation;
    pending_procs_.erase(pending_procs_.find(jobs_[j].procs));
  }

  // Removes started jobs from the queue, keeping its order (so the pass finds it sorted).
  void dropStarted() {
    std::erase_if(snap_.pending, [&](const JobRequest& r) { return jobs_[r.id - 1].start >= 0; });
  }

  void finish(size_t j) {
    for (const NodeAllocation& a : allocation_[j]) {
      auto& free = snap_.nodes[a.node].free_cores_by_numa[0];
      const size_t middle = free.size();
      free.insert(free.end(), a.cores.begin(), a.cores.end());
      std::inplace_merge(free.begin(), free.begin() + static_cast<std::ptrdiff_t>(middle),
                         free.end());
      free_cores_ += a.cores.size();
    }
    freed_ = true;
    allocation_[j].clear();
    allocation_[j].shrink_to_fit();
    snap_.running.erase(findRunning(j));
    if (predict_) predictor_.observe(jobs_[j].user, jobs_[j].run);
  }

  // A running job outlived its prediction: planned to end later (RuntimePredictor::correctedEnd).
  void correct(size_t j, int64_t now) {
    Job& job = jobs_[j];
    auto it = findRunning(j);
    RunningJob r = std::move(*it);
    snap_.running.erase(it);
    job.expected_end =
        RuntimePredictor::correctedEnd(job.start, job.predicted, job.estimate, now);
    r.expected_end = job.expected_end;
    insertRunning(std::move(r));
    if (job.expected_end < job.start + job.run) corrections_.push({job.expected_end, j});
    freed_ = true;
  }

  // snap_.running is kept in expected-end order, so the pass's profile needs no sort.
  void insertRunning(RunningJob r) {
    auto at =
        std::upper_bound(snap_.running.begin(), snap_.running.end(), r.expected_end,
                         [](int64_t end, const RunningJob& x) { return end < x.expected_end; });
    snap_.running.insert(at, std::move(r));
  }

  std::vector<RunningJob>::iterator findRunning(size_t j) {
    auto it = std::lower_bound(
        snap_.running.begin(), snap_.running.end(), jobs_[j].expected_end,
        [](const RunningJob& x, int64_t end) { return x.expected_end < end; });
    while (it != snap_.running.end() && it->id != j + 1) ++it;
    LOCUS_CHECK(it != snap_.running.end()) << "job " << j + 1 << " is not running";
    return it;
  }

  using Event = std::pair<int64_t, size_t>;  // (time, job)
  using EventQueue = std::priority_queue<Event, std::vector<Event>, std::greater<>>;

  std::vector<Job> jobs_;
  Snapshot snap_;
  EventQueue completions_;
  EventQueue corrections_;  // kEasyPredict: running jobs reaching their planned end early
  bool predict_ = false;
  RuntimePredictor predictor_;
  std::vector<std::vector<NodeAllocation>> allocation_;
  std::multiset<uint32_t> pending_procs_;
  uint64_t free_cores_;
  bool freed_ = true;  // a job finished (or its planned end moved) since the last pass
  uint32_t arrived_min_procs_ = UINT32_MAX;  // smallest job that arrived since the last pass
};

double percentile(std::vector<double> sorted_values, double p) {
  if (sorted_values.empty()) return 0;
  const size_t k = std::min(sorted_values.size() - 1,
                            static_cast<size_t>(p * static_cast<double>(sorted_values.size())));
  return sorted_values[k];
}

}  // namespace

Result<SimResult> simulate(const SwfTrace& trace, const SimConfig& config,
                           const Progress& progress) {
  SimResult result;
  uint32_t nodes = config.nodes, cores = config.cores_per_node;
  if (nodes == 0 && cores == 0) {
    if (trace.max_nodes > 0 && trace.max_procs > 0) {
      nodes = static_cast<uint32_t>(trace.max_nodes);
      cores = static_cast<uint32_t>(std::max<int64_t>(1, trace.max_procs / trace.max_nodes));
    } else if (trace.max_procs > 0) {
      nodes = static_cast<uint32_t>(trace.max_procs);
      cores = 1;
    } else {
      return invalidArgument(
          "the trace has no MaxNodes/MaxProcs header: give --nodes N --cores-per-node C");
    }
  } else if (nodes == 0 || cores == 0) {
    return invalidArgument("give both --nodes and --cores-per-node");
  }
  result.nodes = nodes;
  result.cores_per_node = cores;
  const uint64_t machine = uint64_t{nodes} * cores;

  std::vector<Job> jobs;
  const size_t records =
      config.limit > 0 ? std::min(config.limit, trace.jobs.size()) : trace.jobs.size();
  jobs.reserve(records);
  for (size_t i = 0; i < records; ++i) {
    const SwfJob& s = trace.jobs[i];
    if (s.run <= 0 || s.procs <= 0) {
      ++result.skipped;
      continue;
    }
    if (static_cast<uint64_t>(s.procs) > machine) {
      ++result.skipped;
      ++result.skipped_too_big;
      continue;
    }
    Job j;
    j.id = s.id;
    j.submit = s.submit;
    j.estimate = s.req_time > 0 ? s.req_time : s.run;
    j.run = std::min(s.run, j.estimate);
    j.procs = static_cast<uint32_t>(s.procs);
    j.user = std::to_string(s.user);
    jobs.push_back(j);
  }
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const Job& a, const Job& b) { return a.submit < b.submit; });

  const auto t0 = std::chrono::steady_clock::now();
  Replay replay(std::move(jobs), nodes, cores, config);
  replay.run(result, progress);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<Job>& done = replay.jobs();
  result.jobs = done.size();
  if (done.empty()) return result;
  int64_t first_submit = done.front().submit, last_end = 0;
  double core_seconds = 0, wait_sum = 0, bsld_sum = 0;
  std::vector<double> waits;
  waits.reserve(done.size());
  result.schedule.reserve(done.size());
  for (const Job& j : done) {
    const int64_t end = j.start + j.run;
    const double wait = static_cast<double>(j.start - j.submit);
    last_end = std::max(last_end, end);
    core_seconds += static_cast<double>(j.procs) * static_cast<double>(j.run);
    wait_sum += wait;
    waits.push_back(wait);
    const double run = static_cast<double>(j.run);
    bsld_sum += std::max(1.0, (wait + run) / std::max(run, kBsldTauS));
    result.schedule.push_back({j.id, j.submit, j.start, end, j.procs});
  }
  std::sort(waits.begin(), waits.end());
  const double n = static_cast<double>(done.size());
  result.makespan_s = last_end - first_submit;
  result.utilization =
      result.makespan_s > 0
          ? core_seconds / (static_cast<double>(machine) * static_cast<double>(result.makespan_s))
          : 0;
  result.wait_mean_s = wait_sum / n;
  result.wait_median_s = percentile(waits, 0.5);
  result.wait_p95_s = percentile(waits, 0.95);
  result.bsld_mean = bsld_sum / n;
  return result;
}

}  // namespace locus::sim
