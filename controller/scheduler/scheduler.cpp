// schedulePass: the v1 pipeline. Per job, in priority order:
//   validate -> array throttle -> failed-shape cache -> place (filter + pick nodes + pick cores)
//   -> commit into the pass's FreePool.
// The cheap checks come first because in a busy cluster most pending jobs stop at one of them:
// once the cluster is full, a job costs a hash lookup or a comparison, not a walk over nodes.
#include "controller/scheduler/scheduler.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "controller/scheduler/failed_shapes.hpp"
#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/placement.hpp"
#include "controller/scheduler/task_layout.hpp"

namespace locus::scheduler {
namespace {

constexpr std::string_view kReasonResources = "Resources";
constexpr std::string_view kReasonArrayLimit = "JobArrayTaskLimit";
constexpr std::string_view kReasonBadConstraints = "BadConstraints";

// Priority desc, then submit time asc, then id asc; the input position breaks the last ties
// (duplicate ids) so the order never depends on the sort implementation.
std::vector<size_t> passOrder(const std::vector<JobRequest>& pending) {
  std::vector<size_t> order(pending.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const JobRequest& x = pending[a];
    const JobRequest& y = pending[b];
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.submit_time != y.submit_time) return x.submit_time < y.submit_time;
    if (x.id != y.id) return x.id < y.id;
    return a < b;
  });
  return order;
}

// Tasks running per array job: those in the snapshot plus those started by this pass.
class ArrayThrottle {
 public:
  explicit ArrayThrottle(const std::vector<std::pair<uint64_t, uint32_t>>& running) {
    for (const auto& [array_id, count] : running) running_[array_id] += count;
  }
  bool atLimit(const JobRequest& job) const {
    if (job.array_job_id == 0 || job.array_max_running == 0) return false;
    auto it = running_.find(job.array_job_id);
    return it != running_.end() && it->second >= job.array_max_running;
  }
  void started(const JobRequest& job) {
    if (job.array_job_id != 0) ++running_[job.array_job_id];
  }

 private:
  std::unordered_map<uint64_t, uint64_t> running_;
};

Decision pending(uint64_t job_id, std::string_view reason) {
  Decision d;
  d.kind = Decision::Kind::kPending;
  d.job_id = job_id;
  d.reason = reason;
  return d;
}

}  // namespace

std::vector<Decision> schedulePass(const Snapshot& snapshot) {
  FreePool pool(snapshot.nodes);
  FailedShapes failed;
  ArrayThrottle throttle(snapshot.array_running);

  std::vector<Decision> decisions;
  decisions.reserve(snapshot.pending.size());
  for (size_t index : passOrder(snapshot.pending)) {
    const JobRequest& job = snapshot.pending[index];
    if (requestProblem(job)) {
      decisions.push_back(pending(job.id, kReasonBadConstraints));
      continue;
    }
    // Throttled before resources: a throttled task must not be reported as waiting for nodes.
    if (throttle.atLimit(job)) {
      decisions.push_back(pending(job.id, kReasonArrayLimit));
      continue;
    }

    std::optional<std::vector<NodeAllocation>> allocation;
    if (job.nodes > 0) {
      // Before building per-node counts: a huge node count must cost nothing.
      if (job.nodes > pool.listedNodes()) {
        decisions.push_back(pending(job.id, kReasonResources));
        continue;
      }
      const std::vector<uint32_t> counts = fixedTaskCounts(job);
      const Shape shape = fixedShape(job, counts);
      if (failed.covers(shape)) {
        decisions.push_back(pending(job.id, kReasonResources));
        continue;
      }
      allocation = placeFixed(job, counts, pool);
      if (!allocation) failed.add(shape);
    } else {
      const Shape shape = flexibleShape(job);
      if (failed.covers(shape)) {
        decisions.push_back(pending(job.id, kReasonResources));
        continue;
      }
      allocation = placeFlexible(job, pool);
      if (!allocation) failed.add(shape);
    }

    if (!allocation) {
      decisions.push_back(pending(job.id, kReasonResources));
      continue;
    }
    throttle.started(job);
    Decision d;
    d.kind = Decision::Kind::kStart;
    d.job_id = job.id;
    d.allocation = std::move(*allocation);
    decisions.push_back(std::move(d));
  }
  return decisions;
}

}  // namespace locus::scheduler
