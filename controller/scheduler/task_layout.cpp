#include "controller/scheduler/task_layout.hpp"

#include <algorithm>

namespace locus::scheduler {

std::optional<std::string> requestProblem(const JobRequest& job) {
  if (job.ntasks == 0) return "ntasks must be at least 1";
  if (job.cpus_per_task == 0) return "cpus_per_task must be at least 1";
  if (job.nodes > job.ntasks) {
    return "requested " + std::to_string(job.nodes) + " nodes for only " +
           std::to_string(job.ntasks) + " tasks";
  }
  if (job.nodes > 0 && job.ntasks_per_node > 0 &&
      uint64_t{job.nodes} * job.ntasks_per_node < job.ntasks) {
    return "requested " + std::to_string(job.ntasks) + " tasks but " + std::to_string(job.nodes) +
           " nodes x " + std::to_string(job.ntasks_per_node) + " tasks per node hold only " +
           std::to_string(uint64_t{job.nodes} * job.ntasks_per_node);
  }
  return std::nullopt;
}

std::vector<uint32_t> fixedTaskCounts(const JobRequest& job) {
  std::vector<uint32_t> counts(job.nodes);
  if (job.ntasks_per_node == 0) {
    const uint32_t base = job.ntasks / job.nodes;
    const uint32_t extra = job.ntasks % job.nodes;
    for (uint32_t i = 0; i < job.nodes; ++i) counts[i] = base + (i < extra ? 1 : 0);
    return counts;
  }
  // Fill nodes in order, but keep one task back for each later node so none is left empty.
  uint32_t remaining = job.ntasks;
  for (uint32_t i = 0; i < job.nodes; ++i) {
    const uint32_t later = job.nodes - 1 - i;
    counts[i] = std::min(job.ntasks_per_node, remaining - later);
    remaining -= counts[i];
  }
  return counts;
}

uint32_t flexibleCapacity(const JobRequest& job, uint64_t free_cores) {
  const uint64_t tasks = free_cores / job.cpus_per_task;
  const uint64_t cap = job.ntasks_per_node > 0 ? job.ntasks_per_node : UINT32_MAX;
  return static_cast<uint32_t>(std::min(tasks, cap));
}

}  // namespace locus::scheduler
