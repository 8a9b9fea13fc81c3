#pragma once
// Helpers shared by the controller's implementation files (controller.cpp, node_protocol.cpp,
// scheduling.cpp, policy_requests.cpp). Not part of the controller's interface.
#include <algorithm>
#include <map>

#include "common/gpu_request.hpp"
#include "common/logging.hpp"
#include "controller/job.hpp"
#include "controller/policy/quota.hpp"
#include "controller/policy/usage.hpp"
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

// The scheduler's view of a job. Its GPU, switch and constraint fields were validated at submit;
// a stored record that no longer parses asks for nothing extra (logged at submit, not here).
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
  if (auto share = gpuShareOf(job.spec); share.ok()) {
    r.gpus_per_node = share->per_node;
    r.gpus_per_task = share->per_task;
    r.gpu_type = share->type;
    if (share->force_one_node && r.nodes == 0) r.nodes = 1;
  }
  r.constraint = job.spec.constraint;
  if (!job.spec.switches.empty()) {
    if (auto sw = parseSwitches(job.spec.switches); sw.ok()) {
      r.max_switches = sw->count;
      r.switches_wait_until = job.submit_time + sw->wait_s;
    }
  }
  return r;
}

// What a job holds now, in quota terms: its allocation's cores, memory and GPUs; a suspended job
// (cores_released) only its memory.
inline policy::Resources heldBy(const Job& job) {
  policy::Resources r;
  for (const auto& a : job.allocation) {
    if (!job.cores_released) {
      r.cores += a.cores.size();
      r.gpus += a.gpus.size();
    }
    r.mem_mb += a.mem_mb;
  }
  return r;
}

// What a job's allocation is billed for (fair-share usage, locus acct's Billing): every core,
// MB and GPU it was given, for as long as it holds them, suspended or not.
inline policy::Tres billedTres(const Job& job) {
  policy::Tres t;
  for (const auto& a : job.allocation) {
    t.cpus += static_cast<int64_t>(a.cores.size());
    t.mem_mb += static_cast<int64_t>(a.mem_mb);
    t.gpus += static_cast<int64_t>(a.gpus.size());
  }
  return t;
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

// 128 random bits, hex: the capability a client shows the node daemons for one step (steps.cpp).
std::string newStepToken();

}  // namespace locus::controller::internal
