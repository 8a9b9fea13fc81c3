#pragma once
// Helpers shared by the controller's implementation files (controller.cpp, node_protocol.cpp,
// scheduling.cpp, policy_requests.cpp). Not part of the controller's interface.
#include <algorithm>
#include <map>

#include "common/logging.hpp"
#include "controller/job.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::controller::internal {

inline std::shared_ptr<spdlog::logger> log() {
  static auto l = logger("controller");
  return l;
}

// Per-node memory a job asks for: --mem wins; --mem-per-cpu scales with the cores it gets there.
inline uint64_t memPerNode(const JobSpec& spec, uint32_t cores_on_node) {
  if (spec.mem_mb > 0) return spec.mem_mb;
  return spec.mem_per_cpu_mb * cores_on_node;
}

inline scheduler::JobRequest toRequest(const Job& job) {
  scheduler::JobRequest r;
  r.id = job.id;
  r.priority = job.priority;
  r.submit_time = job.submit_time;
  r.nodes = job.spec.nodes;
  r.ntasks = job.effectiveNtasks();
  r.ntasks_per_node = job.spec.ntasks_per_node;
  r.cpus_per_task = std::max<uint32_t>(1, job.spec.cpus_per_task);
  // The scheduler takes memory per node; --mem-per-cpu is estimated for the even split.
  uint32_t nodes = std::max<uint32_t>(1, job.spec.nodes);
  uint32_t tasks_per_node = (r.ntasks + nodes - 1) / nodes;
  if (job.spec.ntasks_per_node > 0) tasks_per_node = job.spec.ntasks_per_node;
  r.mem_mb = memPerNode(job.spec, tasks_per_node * r.cpus_per_task);
  r.array_job_id = job.array_job_id;
  r.array_max_running = job.array_max_running;
  r.time_limit_s = job.spec.time_limit_s;
  return r;
}

// Array tasks after the first share its script text and environment, stored once.
inline const Job& arrayHead(const std::map<uint64_t, Job>& jobs, const Job& job) {
  if (!job.isArrayTask() || job.id == job.array_job_id) return job;
  auto it = jobs.find(job.array_job_id);
  return it == jobs.end() ? job : it->second;
}
inline const std::string& scriptOf(const std::map<uint64_t, Job>& jobs, const Job& job) {
  return arrayHead(jobs, job).spec.script;
}

}  // namespace locus::controller::internal
