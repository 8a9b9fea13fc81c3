// checkSatisfiable: the same layout rules as the pass (task_layout.hpp), applied to an idle
// cluster, so "refused at submit" and "never starts" cannot disagree.
#include <algorithm>
#include <functional>
#include <string>

#include "common/constraint.hpp"
#include "controller/scheduler/placement.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/scheduler/task_layout.hpp"

namespace locus::scheduler {
namespace {

Error unsatisfiable(std::string message) { return {ErrorCode::kUnsatisfiable, std::move(message)}; }

std::string cpus(uint64_t n) { return std::to_string(n) + (n == 1 ? " cpu" : " cpus"); }

std::string withMem(uint64_t mem_mb) {
  return mem_mb > 0 ? " and " + std::to_string(mem_mb) + " MB" : "";
}

}  // namespace

Status checkSatisfiable(const JobRequest& job, const std::vector<NodeState>& all_nodes) {
  if (auto problem = requestProblem(job)) return invalidArgument(*problem);
  if (all_nodes.empty()) return unsatisfiable("the cluster has no nodes");

  // Only the nodes whose features match count; among them, GPUs decide before cores.
  Constraint constraint;
  if (!job.constraint.empty()) {
    auto parsed = Constraint::parse(job.constraint);
    if (!parsed.ok()) return parsed.error();
    constraint = std::move(*parsed);
  }
  std::vector<NodeState> nodes;
  for (const NodeState& n : all_nodes) {
    if (!job.gpu_type.empty() &&
        std::find(n.features.begin(), n.features.end(), job.gpu_type) == n.features.end())
      continue;
    if (!constraint.matches(n.features)) continue;
    nodes.push_back(n);
  }
  if (nodes.empty()) {
    if (!job.gpu_type.empty() && job.constraint.empty())
      return unsatisfiable("no node has GPUs of type '" + job.gpu_type + "'");
    return unsatisfiable("no node has the features '" + job.constraint + "'" +
                         (job.gpu_type.empty() ? "" : " and GPUs of type '" + job.gpu_type + "'"));
  }
  const uint32_t min_tasks_per_node =
      job.nodes > 0 ? fixedTaskCounts(job).back() : 1;
  const uint32_t gpus_needed = gpusFor(job, min_tasks_per_node);
  if (gpus_needed > 0) {
    uint32_t most = 0;
    std::erase_if(nodes, [&](const NodeState& n) {
      most = std::max(most, static_cast<uint32_t>(n.gpu_numa.size()));
      return n.gpu_numa.size() < gpus_needed;
    });
    if (nodes.empty()) {
      return unsatisfiable("requested " + std::to_string(gpus_needed) +
                           " GPUs per node but the largest node has " + std::to_string(most));
    }
  }

  uint32_t largest_cores = 0;
  uint64_t largest_mem = 0;
  uint32_t largest_gpus = 0;
  for (const NodeState& n : nodes) {
    largest_cores = std::max(largest_cores, n.total_cores);
    largest_mem = std::max(largest_mem, n.total_mem_mb);
    largest_gpus = std::max(largest_gpus, static_cast<uint32_t>(n.gpu_numa.size()));
  }
  if (job.mem_mb > largest_mem) {
    return unsatisfiable("requested " + std::to_string(job.mem_mb) +
                         " MB per node but the largest node has " + std::to_string(largest_mem) +
                         " MB");
  }
  if (job.nodes > 0) {
    if (job.nodes > nodes.size()) {
      return unsatisfiable("requested " + std::to_string(job.nodes) +
                           " nodes but the cluster has " + std::to_string(nodes.size()));
    }
    const std::vector<uint32_t> counts = fixedTaskCounts(job);
    const uint64_t top = uint64_t{counts.front()} * job.cpus_per_task;
    if (top > largest_cores) {
      return unsatisfiable("requested " + cpus(top) + " on one node but the largest node has " +
                           std::to_string(largest_cores));
    }
    // The GPU filter above used the smallest slot; the largest may need more GPUs than any node
    // has (-N 2 -n 3 --gpus-per-task 2: slots {2, 1} need 4 and 2 GPUs).
    const uint32_t top_gpus = gpusFor(job, counts.front());
    if (top_gpus > largest_gpus) {
      return unsatisfiable("requested " + std::to_string(top_gpus) +
                           " GPUs on one node but the largest node has " +
                           std::to_string(largest_gpus));
    }
    // Slot i (non-increasing needs) needs i + 1 nodes that fit it (cores, memory and GPUs); this
    // is exact because every node that fits a larger slot fits all smaller ones. Slots come in
    // at most three runs of equal counts ({4, 4, 2, 1, 1}), so one count over the nodes per run.
    for (size_t i = 0; i < counts.size();) {
      size_t last = i;
      while (last + 1 < counts.size() && counts[last + 1] == counts[i]) ++last;
      const uint64_t need = uint64_t{counts[i]} * job.cpus_per_task;
      const uint32_t gpus = gpusFor(job, counts[i]);
      const size_t have = std::count_if(nodes.begin(), nodes.end(), [&](const NodeState& n) {
        return n.total_mem_mb >= job.mem_mb && n.total_cores >= need && n.gpu_numa.size() >= gpus;
      });
      if (have > last) {
        i = last + 1;
        continue;
      }
      const size_t short_slot = std::max(i, have);  // the first slot of the run left without one
      return unsatisfiable("requested " + std::to_string(short_slot + 1) + " nodes with at least " +
                           cpus(need) + withMem(job.mem_mb) +
                           (gpus > 0 ? " and " + std::to_string(gpus) + " GPUs" : "") +
                           " each but only " + std::to_string(have) +
                           (have == 1 ? " node has" : " nodes have") + " that much");
    }
    return {};
  }

  if (job.cpus_per_task > largest_cores) {
    return unsatisfiable("requested " + cpus(job.cpus_per_task) +
                         " per task but the largest node has " + std::to_string(largest_cores));
  }
  uint64_t capacity = 0;
  for (const NodeState& n : nodes) {
    if (n.total_mem_mb < job.mem_mb) continue;
    uint64_t cap = flexibleCapacity(job, n.total_cores);
    if (job.gpus_per_task > 0)
      cap = std::min<uint64_t>(cap, (n.gpu_numa.size() - job.gpus_per_node) / job.gpus_per_task);
    capacity += cap;
  }
  if (capacity < job.ntasks) {
    return unsatisfiable(
        "requested " + std::to_string(job.ntasks) + " tasks of " + cpus(job.cpus_per_task) +
        (job.mem_mb > 0 ? " with " + std::to_string(job.mem_mb) + " MB per node" : "") +
        " but the cluster can hold at most " + std::to_string(capacity));
  }
  return {};
}

}  // namespace locus::scheduler
