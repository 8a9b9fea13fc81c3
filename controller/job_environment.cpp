#include "controller/job_environment.hpp"

#include "common/slurm_formats.hpp"

namespace locus::controller {

std::map<std::string, std::string> jobEnvironment(const Job& job, const Job::Environment& exported) {
  std::map<std::string, std::string> env = exported;
  std::vector<std::string> hosts;
  std::string tasks_per_node;  // Slurm's "2(x3),1" format, kept simple: one entry per node
  uint32_t cpus_on_first = 0;
  for (const auto& a : job.allocation) {
    hosts.push_back(a.node);
    if (!tasks_per_node.empty()) tasks_per_node += ",";
    tasks_per_node += std::to_string(a.ntasks);
  }
  if (!job.allocation.empty()) cpus_on_first = static_cast<uint32_t>(job.allocation.front().cores.size());
  std::string nodelist = compressHostlist(hosts);
  std::string id = std::to_string(job.id);
  std::string first = hosts.empty() ? "" : hosts.front();

  // name without prefix -> value; each is set as LOCUS_<name> and SLURM_<name>.
  std::map<std::string, std::string> both{
      {"JOB_ID", id},
      {"JOB_NAME", job.spec.name},
      {"JOB_NODELIST", nodelist},
      {"NODELIST", nodelist},
      {"JOB_NUM_NODES", std::to_string(hosts.size())},
      {"NNODES", std::to_string(hosts.size())},
      {"NTASKS", std::to_string(job.effectiveNtasks())},
      {"NPROCS", std::to_string(job.effectiveNtasks())},
      {"TASKS_PER_NODE", tasks_per_node},
      {"CPUS_PER_TASK", std::to_string(job.spec.cpus_per_task)},
      {"CPUS_ON_NODE", std::to_string(cpus_on_first)},
      {"JOB_CPUS_PER_NODE", std::to_string(cpus_on_first)},
      {"PROCID", "0"},
      {"LOCALID", "0"},
      {"NODEID", "0"},
      {"SUBMIT_DIR", job.spec.work_dir},
      {"RESTART_COUNT", std::to_string(job.attempt)},
      {"JOB_USER", job.user},
      {"JOB_UID", std::to_string(job.uid)},
  };
  if (job.spec.time_limit_s > 0) both["JOB_TIME_LIMIT"] = std::to_string(job.spec.time_limit_s);
  if (job.spec.mem_mb > 0) both["MEM_PER_NODE"] = std::to_string(job.spec.mem_mb);
  if (!job.spec.partition.empty()) both["JOB_PARTITION"] = job.spec.partition;
  if (!job.spec.account.empty()) both["JOB_ACCOUNT"] = job.spec.account;
  if (job.isArrayTask()) {
    both["ARRAY_JOB_ID"] = std::to_string(job.array_job_id);
    both["ARRAY_TASK_ID"] = std::to_string(*job.array_task_id);
  }
  for (const auto& [k, v] : both) {
    env["LOCUS_" + k] = v;
    env["SLURM_" + k] = v;
  }
  env["SLURM_JOBID"] = id;
  env["LOCUS_NODENAME"] = first;
  env["SLURMD_NODENAME"] = first;
  env["LOCUS_JOB_ATTEMPT"] = std::to_string(job.attempt);
  if (!job.service.empty()) {
    // A service replica: its service, revision and (with --port auto) its port on its node.
    env["LOCUS_SERVICE"] = job.service;
    env["LOCUS_SERVICE_REVISION"] = std::to_string(job.service_revision);
    if (job.port > 0) env["LOCUS_PORT"] = std::to_string(job.port);
  }
  // Data locality (docs/locality.md): the job's inputs, and a dataflow task's split.
  auto join = [](const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
  };
  if (!job.spec.inputs.empty()) env["LOCUS_INPUTS"] = join(job.spec.inputs, " ");
  if (job.spec.dataflow && job.input.size() == 1) {
    const InputBlock& split = job.input.front();
    env["LOCUS_INPUT_PATH"] = split.path;
    env["LOCUS_INPUT_OFFSET"] = std::to_string(split.offset);
    env["LOCUS_INPUT_LENGTH"] = std::to_string(split.length);
    env["LOCUS_INPUT_HOSTS"] = join(split.hosts, ",");  // as the store names them
    env["LOCUS_INPUT_NODES"] = join(split.nodes, ",");  // the Locus nodes among them
  }
  return env;
}

}  // namespace locus::controller
