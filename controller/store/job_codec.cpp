// JSON codec for the store's job records. Field names follow `locus show --json` where they
// overlap so a record read with the sqlite3 shell is self-explanatory.
#include <nlohmann/json.hpp>

#include "controller/store/store.hpp"

namespace locus::controller {
using nlohmann::json;

namespace {
// `environment`: the job's (Job::environment(): in memory it is shared, not in the spec).
json specToJson(const JobSpec& s, const std::map<std::string, std::string>& environment) {
  return json{{"name", s.name},
              {"script", s.script},
              {"script_path", s.script_path},
              {"args", s.args},
              {"nodes", s.nodes},
              {"ntasks", s.ntasks},
              {"ntasks_per_node", s.ntasks_per_node},
              {"cpus_per_task", s.cpus_per_task},
              {"mem_mb", s.mem_mb},
              {"mem_per_cpu_mb", s.mem_per_cpu_mb},
              {"time_limit_s", s.time_limit_s},
              {"stdout", s.stdout_path},
              {"stderr", s.stderr_path},
              {"work_dir", s.work_dir},
              {"array", s.array_spec},
              {"requeue", s.requeue},
              {"no_requeue", s.no_requeue},
              {"export", s.export_spec},
              {"environment", environment},
              {"partition", s.partition},
              {"account", s.account},
              {"qos", s.qos},
              {"gres", s.gres},
              {"gpus", s.gpus},
              {"constraint", s.constraint},
              {"dependency", s.dependency},
              {"exclusive", s.exclusive},
              {"switches", s.switches},
              {"mem_bind", s.mem_bind},
              {"gpu_bind", s.gpu_bind},
              {"allocation_only", s.allocation_only},
              {"profile", s.profile},
              {"profile_interval_s", s.profile_interval_s},
              {"container", s.container},
              {"inputs", s.inputs},
              {"dataflow", s.dataflow},
              {"split", s.split},
              {"warnings", s.warnings}};
}

JobSpec specFromJson(const json& j) {
  JobSpec s;
  s.name = j.at("name");
  s.script = j.at("script");
  s.script_path = j.at("script_path");
  s.args = j.at("args").get<std::vector<std::string>>();
  s.nodes = j.at("nodes");
  s.ntasks = j.at("ntasks");
  s.ntasks_per_node = j.at("ntasks_per_node");
  s.cpus_per_task = j.at("cpus_per_task");
  s.mem_mb = j.at("mem_mb");
  s.mem_per_cpu_mb = j.at("mem_per_cpu_mb");
  s.time_limit_s = j.at("time_limit_s");
  s.stdout_path = j.at("stdout");
  s.stderr_path = j.at("stderr");
  s.work_dir = j.at("work_dir");
  s.array_spec = j.at("array");
  s.requeue = j.at("requeue");
  s.no_requeue = j.value("no_requeue", false);
  s.export_spec = j.at("export");
  s.environment = j.at("environment").get<std::map<std::string, std::string>>();
  s.partition = j.at("partition");
  s.account = j.at("account");
  s.qos = j.at("qos");
  s.gres = j.at("gres");
  s.gpus = j.at("gpus");
  s.constraint = j.at("constraint");
  s.dependency = j.at("dependency");
  s.exclusive = j.at("exclusive");
  // Records written before these fields existed lack them.
  s.switches = j.value("switches", "");
  s.mem_bind = j.value("mem_bind", "");
  s.gpu_bind = j.value("gpu_bind", "");
  s.allocation_only = j.value("allocation_only", false);
  s.profile = j.value("profile", "");
  s.profile_interval_s = j.value("profile_interval_s", uint32_t{0});
  s.container = j.value("container", "");
  s.inputs = j.value("inputs", std::vector<std::string>{});
  s.dataflow = j.value("dataflow", false);
  s.split = j.value("split", std::string());
  s.warnings = j.at("warnings").get<std::vector<std::string>>();
  return s;
}
}  // namespace

JobSummary JobSummary::of(const Job& job) {
  JobSummary s;
  s.id = job.id;
  s.user = job.user;
  s.state = job.state;
  s.completing = job.completing;
  s.start_time = job.start_time;
  s.end_time = job.end_time;
  s.array_job_id = job.array_job_id;
  s.lease = !job.framework.empty();
  return s;
}

std::string jobToJson(const Job& job) {
  json alloc = json::array();
  for (const auto& a : job.allocation)
    alloc.push_back({{"node", a.node}, {"cores", a.cores}, {"mem_mb", a.mem_mb}, {"ntasks", a.ntasks},
                     {"gpus", a.gpus}, {"numa", a.numa}});
  json j{{"id", job.id},
         {"spec", specToJson(job.spec, job.environment())},
         {"submit_token", job.submit_token},
         {"user", job.user},
         {"uid", job.uid},
         {"gid", job.gid},
         {"state", std::string(toString(job.state))},
         {"reason", job.reason},
         {"exit_code", job.exit_code},
         {"term_signal", job.term_signal},
         {"attempt", job.attempt},
         {"priority", job.priority},
         {"submit_time", job.submit_time},
         {"start_time", job.start_time},
         {"end_time", job.end_time},
         {"array_job_id", job.array_job_id},
         {"array_task_id", job.array_task_id ? json(*job.array_task_id) : json(nullptr)},
         {"array_max_running", job.array_max_running},
         {"allocation", alloc},
         {"stdout", job.stdout_path},
         {"stderr", job.stderr_path},
         {"completing", job.completing},
         {"cpu_time_s", job.cpu_time_s},
         {"held", job.held},
         {"requeue_requested", job.requeue_requested},
         {"preempted_for", job.preempted_for},
         {"cores_released", job.cores_released},
         {"service", job.service},
         {"service_revision", job.service_revision},
         {"port", job.port},
         {"service_stop", job.service_stop},
         {"preempted_by", job.preempted_by},
         {"preemption", job.preemption},
         {"max_rss_kb", job.max_rss_kb},
         {"billed", job.billed},
         {"cancel_requested", job.cancel_requested}};
  if (!job.input.empty()) {
    json input = json::array();
    for (const InputBlock& b : job.input)
      input.push_back({{"path", b.path}, {"offset", b.offset}, {"length", b.length},
                       {"hosts", b.hosts}, {"nodes", b.nodes}});
    j["input"] = std::move(input);
    j["locality"] = job.locality;
    j["bytes_node_local"] = job.bytes_node_local;
    j["bytes_rack_local"] = job.bytes_rack_local;
    j["bytes_remote"] = job.bytes_remote;
  }
  if (job.isLease()) {
    j["framework"] = job.framework;
    j["lease_request"] = job.lease_request;
    j["lease_nodes"] = job.lease_nodes;
    j["lease_racks"] = job.lease_racks;
    j["lease_strict"] = job.lease_strict;
    j["revoke_at"] = job.revoke_at;
    j["locality"] = job.locality;
  }
  if (!job.steps.empty()) {
    json steps = json::array();
    for (const JobStep& s : job.steps)
      steps.push_back({{"id", s.id}, {"name", s.name}, {"state", std::string(toString(s.state))},
                       {"exit_code", s.exit_code}, {"ntasks", s.ntasks}, {"nodes", s.nodes},
                       {"start_time", s.start_time}, {"end_time", s.end_time},
                       {"nodes_ended", s.nodes_ended}, {"killed", s.killed}, {"ends_job", s.ends_job},
                       {"ended_with_job", s.ended_with_job}});
    j["steps"] = std::move(steps);
  }
  return j.dump();
}

Result<Job> jobFromJson(const std::string& text) {
  try {
    json j = json::parse(text);
    Job job;
    job.id = j.at("id");
    job.spec = specFromJson(j.at("spec"));
    job.submit_token = j.value("submit_token", "");  // records before tokens have none
    job.user = j.at("user");
    job.uid = j.at("uid");
    job.gid = j.at("gid");
    auto state = jobStateFromString(j.at("state").get<std::string>());
    if (!state) return internalError("unknown state in job record " + std::to_string(job.id));
    job.state = *state;
    job.reason = j.at("reason");
    job.exit_code = j.at("exit_code");
    job.term_signal = j.at("term_signal");
    job.attempt = j.at("attempt");
    job.priority = j.at("priority");
    job.submit_time = j.at("submit_time");
    job.start_time = j.at("start_time");
    job.end_time = j.at("end_time");
    job.array_job_id = j.at("array_job_id");
    if (!j.at("array_task_id").is_null()) job.array_task_id = j.at("array_task_id").get<uint32_t>();
    job.array_max_running = j.at("array_max_running");
    for (const auto& a : j.at("allocation")) {
      AllocatedNode n;
      n.node = a.at("node");
      n.cores = a.at("cores").get<std::vector<uint32_t>>();
      n.mem_mb = a.at("mem_mb");
      n.ntasks = a.at("ntasks");
      n.gpus = a.value("gpus", std::vector<uint32_t>{});
      n.numa = a.value("numa", std::vector<uint32_t>{});
      job.allocation.push_back(std::move(n));
    }
    job.stdout_path = j.at("stdout");
    job.stderr_path = j.at("stderr");
    job.completing = j.at("completing");
    job.cpu_time_s = j.value("cpu_time_s", 0.0);
    job.held = j.value("held", false);
    job.requeue_requested = j.value("requeue_requested", false);
    job.preempted_for = j.value("preempted_for", uint64_t{0});
    job.cores_released = j.value("cores_released", false);
    job.service = j.value("service", "");
    job.service_revision = j.value("service_revision", 0u);
    job.port = j.value("port", 0u);
    job.service_stop = j.value("service_stop", false);
    job.preempted_by = j.value("preempted_by", uint64_t{0});
    job.preemption = j.value("preemption", "");
    for (const auto& s : j.value("steps", json::array())) {
      JobStep step;
      step.id = s.at("id");
      step.name = s.at("name");
      auto state = jobStateFromString(s.at("state").get<std::string>());
      if (!state) return invalidArgument("step " + std::to_string(step.id) + ": bad state");
      step.state = *state;
      step.exit_code = s.at("exit_code");
      step.ntasks = s.at("ntasks");
      step.nodes = s.at("nodes").get<std::vector<std::string>>();
      step.start_time = s.at("start_time");
      step.end_time = s.at("end_time");
      step.nodes_ended = s.value("nodes_ended", 0u);
      step.killed = s.value("killed", false);
      step.ends_job = s.value("ends_job", false);
      step.ended_with_job = s.value("ended_with_job", false);
      job.steps.push_back(std::move(step));
    }
    for (const auto& b : j.value("input", json::array())) {
      InputBlock block;
      block.path = b.at("path");
      block.offset = b.at("offset");
      block.length = b.at("length");
      block.hosts = b.at("hosts").get<std::vector<std::string>>();
      block.nodes = b.at("nodes").get<std::vector<std::string>>();
      job.input.push_back(std::move(block));
    }
    job.locality = j.value("locality", "");
    job.framework = j.value("framework", "");
    job.lease_request = j.value("lease_request", "");
    job.lease_nodes = j.value("lease_nodes", std::vector<std::string>{});
    job.lease_racks = j.value("lease_racks", std::vector<std::string>{});
    job.lease_strict = j.value("lease_strict", false);
    job.revoke_at = j.value("revoke_at", int64_t{0});
    job.bytes_node_local = j.value("bytes_node_local", uint64_t{0});
    job.bytes_rack_local = j.value("bytes_rack_local", uint64_t{0});
    job.bytes_remote = j.value("bytes_remote", uint64_t{0});
    job.max_rss_kb = j.value("max_rss_kb", uint64_t{0});
    job.billed = j.value("billed", 0.0);
    job.cancel_requested = j.at("cancel_requested");
    return job;
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

}  // namespace locus::controller
