// Job steps (locus run, srun): creating them in a running job's allocation, recording how they
// end, and allocation-only jobs, whose life is their step's.
#include <algorithm>
#include <random>

#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"
#include "controller/job_environment.hpp"
#include "controller/profiling.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
namespace {

auto log() {
  static auto l = logger("controller.steps");
  return l;
}

// An allocation-only job (not a framework's lease) whose client has not created its step by then
// is abandoned (the client died between allocation and launch): it is cancelled so its nodes
// come back.
constexpr int64_t kAllocationClaimTimeoutS = 60;

}  // namespace

std::string internal::newStepToken() {
  static std::random_device rd;
  static std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static std::mutex mu;
  std::lock_guard lock(mu);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

// Layout, like srun's default block distribution inside an allocation:
//   - nodes: --nodes, else as many of the job's nodes as the tasks need (all of them when -n is
//     not given); always the job's first nodes, in allocation order;
//   - tasks: -n, else --nodes x --ntasks-per-node, else the job's own task count and its per-node
//     layout when no geometry is given at all;
//   - per node: --ntasks-per-node, else spread evenly with the first nodes taking the remainder;
//   - cores: each task gets the next -c cores of the node's allocation (sorted), so tasks never
//     share a core. A layout needing more cores than the job holds on a node is refused.
// Example: a job of 2 nodes x 4 cores, `locus run -n 3 -c 2`: nodes n1, n2; tasks 2 + 1; task 0
// on n1's cores {0,1}, task 1 on {2,3}, task 2 on n2's first two cores.
Result<proto::CreateStepReply> Controller::createStep(const proto::CreateStepRequest& req) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(req.job_id());
  if (it == jobs_.end()) return notFound("job " + std::to_string(req.job_id()) + " not found");
  Job& job = it->second;
  const bool is_admin = req.uid() == 0 || std::find(config_.admins.begin(), config_.admins.end(),
                                                    req.user()) != config_.admins.end();
  if (!is_admin && req.uid() != job.uid)
    return permissionDenied("job " + std::to_string(job.id) + " belongs to " + job.user);
  if (job.state != JobState::kRunning || job.completing || job.allocation.empty())
    return failedPrecondition("job " + std::to_string(job.id) + " is " + std::string(toString(job.state)) +
                              ", not running: steps run inside a running job");

  const uint32_t job_nodes = static_cast<uint32_t>(job.allocation.size());
  if (req.nodes() > job_nodes)
    return invalidArgument("the step asks for " + std::to_string(req.nodes()) + " nodes, job " +
                           std::to_string(job.id) + " has " + std::to_string(job_nodes));
  const uint32_t cpt = req.cpus_per_task() > 0 ? req.cpus_per_task() : std::max(1u, job.spec.cpus_per_task);
  std::vector<uint32_t> per_node;
  std::vector<size_t> chosen;  // indices into job.allocation, in step order
  const bool job_geometry = req.nodes() == 0 && req.ntasks() == 0 && req.ntasks_per_node() == 0;
  if (req.node_names_size() > 0) {
    // Named nodes (an MPI launcher's daemons): one task each, or as the geometry says.
    for (const auto& name : req.node_names()) {
      auto at = std::find_if(job.allocation.begin(), job.allocation.end(),
                             [&](const AllocatedNode& a) { return a.node == name; });
      if (at == job.allocation.end())
        return invalidArgument("node " + name + " is not part of job " + std::to_string(job.id));
      chosen.push_back(static_cast<size_t>(at - job.allocation.begin()));
      per_node.push_back(std::max(1u, req.ntasks_per_node()));
    }
  } else if (job_geometry) {
    for (const auto& a : job.allocation) per_node.push_back(std::max(1u, a.ntasks));
  } else {
    uint32_t ntasks = req.ntasks();
    uint32_t nodes = req.nodes();
    if (ntasks == 0) ntasks = (nodes > 0 ? nodes : job_nodes) * std::max(1u, req.ntasks_per_node());
    if (nodes == 0) nodes = std::min(job_nodes, ntasks);
    if (req.ntasks_per_node() > 0) {
      nodes = std::min(nodes, (ntasks + req.ntasks_per_node() - 1) / req.ntasks_per_node());
      if (static_cast<uint64_t>(req.ntasks_per_node()) * nodes < ntasks)
        return invalidArgument(std::to_string(ntasks) + " tasks do not fit " + std::to_string(nodes) +
                               " nodes at " + std::to_string(req.ntasks_per_node()) + " per node");
    }
    if (ntasks < nodes)
      return invalidArgument("the step asks for " + std::to_string(nodes) + " nodes but only " +
                             std::to_string(ntasks) + " tasks");
    uint32_t left = ntasks;
    for (uint32_t n = 0; n < nodes; ++n) {
      uint32_t here = req.ntasks_per_node() > 0 ? std::min(req.ntasks_per_node(), left - (nodes - n - 1))
                                                : left / (nodes - n) + (left % (nodes - n) ? 1 : 0);
      here = std::max(1u, here);
      per_node.push_back(here);
      left -= here;
    }
  }

  proto::CreateStepReply reply;
  JobStep step;
  step.id = job.steps.empty() ? 0 : job.steps.back().id + 1;
  step.name = req.name().empty() ? "step" : req.name();
  step.start_time = unixNow();
  step.ends_job = req.ends_job() && job.spec.allocation_only;
  uint32_t procid = 0;
  std::vector<proto::StepGrant> grants;
  if (chosen.empty())
    for (size_t n = 0; n < per_node.size(); ++n) chosen.push_back(n);
  for (uint32_t n = 0; n < per_node.size(); ++n) {
    const AllocatedNode& a = job.allocation[chosen[n]];
    std::vector<uint32_t> cores = a.cores;
    std::sort(cores.begin(), cores.end());
    const uint32_t cpt_here = req.whole_node() ? static_cast<uint32_t>(cores.size()) / per_node[n] : cpt;
    if (static_cast<uint64_t>(per_node[n]) * cpt_here > cores.size() || cpt_here == 0)
      return invalidArgument("the step needs " + std::to_string(per_node[n] * cpt) + " cores on " + a.node +
                             " (" + std::to_string(per_node[n]) + " tasks x " + std::to_string(cpt) +
                             "), job " + std::to_string(job.id) + " holds " + std::to_string(cores.size()) + " there");
    Node* node = findNode(a.node);
    if (!node || !node->channel || node->state != NodeState::kUp || node->step_address.empty())
      return failedPrecondition("node " + a.node + " of job " + std::to_string(job.id) + " is not connected");
    proto::StepNode* sn = reply.add_nodes();
    sn->set_node(a.node);
    sn->set_address(node->step_address);
    sn->set_nodeid(n);
    for (uint32_t t = 0; t < per_node[n]; ++t) {
      proto::StepTask* task = sn->add_tasks();
      task->set_procid(procid++);
      task->set_localid(t);
      for (uint32_t c = t * cpt_here; c < (t + 1) * cpt_here; ++c) task->add_cores(cores[c]);
    }
    step.nodes.push_back(a.node);
  }
  step.ntasks = procid;
  reply.set_ntasks(step.ntasks);
  if (req.plan_only()) return reply;  // the layout, for a launcher that starts the ranks itself
  reply.set_step_id(step.id);
  reply.set_token(internal::newStepToken());
  reply.set_ntasks(step.ntasks);

  std::string tasks_per_node;
  for (uint32_t k : per_node) tasks_per_node += (tasks_per_node.empty() ? "" : ",") + std::to_string(k);
  const std::map<std::string, std::string> env = stepEnvironment(job, step, tasks_per_node, cpt);
  job.steps.push_back(step);
  if (Status s = persist({&job}); !s.ok()) {
    job.steps.pop_back();
    return s.error();
  }
  for (int n = 0; n < reply.nodes_size(); ++n) {
    const AllocatedNode& a = job.allocation[chosen[static_cast<size_t>(n)]];
    proto::ControllerToNode cmd;
    proto::StepGrant* g = cmd.mutable_step_grant();
    g->set_job_id(job.id);
    g->set_attempt(job.attempt);
    g->set_step_id(step.id);
    g->set_token(reply.token());
    g->set_uid(job.uid);
    g->set_gid(job.gid);
    g->set_user(job.user);
    *g->mutable_node() = reply.nodes(n);
    for (const auto& [k, v] : env) (*g->mutable_environment())[k] = v;
    g->set_mem_mb(a.mem_mb);
    for (uint32_t gpu : a.gpus) g->add_gpus(gpu);
    for (uint32_t d : a.numa) g->add_numa(d);
    g->set_mem_bind(job.spec.mem_bind.empty() ? "local" : job.spec.mem_bind);
    if (!job.spec.profile.empty()) fillProfileSettings(job.spec, config_, *g->mutable_profile());
    findNode(a.node)->channel->send(cmd);
  }
  log()->info("job={} step={} tasks={} nodes={}", job.id, step.id, step.ntasks, compressHostlist(step.nodes));
  return reply;
}

std::map<std::string, std::string> Controller::stepEnvironment(const Job& job, const JobStep& step,
                                                               const std::string& tasks_per_node,
                                                               uint32_t cpus_per_task) const {
  // Step-wide variables, over the job's own (a client outside the job has none of them).
  std::map<std::string, std::string> env = jobEnvironment(job);
  if (!address_.empty()) env.try_emplace("LOCUS_CONTROLLER", address_);
  for (const char* p : {"LOCUS_", "SLURM_"}) {
    const std::string prefix = p;
    env[prefix + "STEP_ID"] = std::to_string(step.id);
    env[prefix + "STEPID"] = std::to_string(step.id);
    env[prefix + "STEP_NUM_TASKS"] = std::to_string(step.ntasks);
    env[prefix + "STEP_NUM_NODES"] = std::to_string(step.nodes.size());
    env[prefix + "STEP_NODELIST"] = compressHostlist(step.nodes);
    env[prefix + "STEP_TASKS_PER_NODE"] = tasks_per_node;
    env[prefix + "NTASKS"] = std::to_string(step.ntasks);
    env[prefix + "NPROCS"] = std::to_string(step.ntasks);
    env[prefix + "CPUS_PER_TASK"] = std::to_string(cpus_per_task);
  }
  return env;
}

void Controller::handleStepEnded(const std::string& node_name, const proto::StepEnded& ended) {
  auto it = jobs_.find(ended.job_id());
  if (it == jobs_.end()) return;
  Job& job = it->second;
  auto st = std::find_if(job.steps.begin(), job.steps.end(),
                         [&](const JobStep& s) { return s.id == ended.step_id(); });
  if (st == job.steps.end() || (st->state != JobState::kRunning && !st->ended_with_job)) return;
  if (std::find(st->nodes.begin(), st->nodes.end(), node_name) == st->nodes.end()) return;
  for (const auto& t : ended.tasks()) st->exit_code = std::max(st->exit_code, t.exit_code());
  st->killed = st->killed || ended.killed();
  st->nodes_ended += 1;
  if (st->nodes_ended >= st->nodes.size()) {
    st->ended_with_job = false;
    st->end_time = unixNow();
    st->state = st->killed ? JobState::kCancelled
                : st->exit_code == 0 ? JobState::kCompleted
                                     : JobState::kFailed;
    if (st->exit_code < 0) st->exit_code = 0;
    log()->info("job={} step={} state={} exit={}", job.id, st->id, toString(st->state), st->exit_code);
    if (job.isLease()) frameworkTaskEnded(job, *st, node_name);
    if (st->ends_job && job.state == JobState::kRunning && !job.completing) {
      endAllocationJob(job, st->state == JobState::kCompleted ? JobState::kCompleted
                            : st->state == JobState::kCancelled ? JobState::kCancelled
                                                                 : JobState::kFailed,
                       st->exit_code, st->state == JobState::kCompleted ? "" : "StepFailed");
      return;  // stored there
    }
  }
  if (Status s = persist({&job}); !s.ok())
    log()->error("job={} step={} end not stored: {}", job.id, ended.step_id(), s.error().message);
  changed_cv_.notify_all();
}

void Controller::sendEndSteps(Job& job) {
  for (const auto& a : job.allocation) {
    Node* node = findNode(a.node);
    if (!node || !node->channel) continue;
    proto::ControllerToNode cmd;
    cmd.mutable_end_steps()->set_job_id(job.id);
    node->channel->send(cmd);
  }
  // Steps still running when the job ended ended with it.
  for (JobStep& s : job.steps) {
    if (s.state != JobState::kRunning) continue;
    s.state = JobState::kCancelled;
    s.ended_with_job = true;
    s.end_time = unixNow();
  }
}

void Controller::endAllocationJob(Job& job, JobState state, int32_t exit_code, const std::string& reason) {
  job.state = state;
  job.exit_code = exit_code;
  job.reason = reason;
  job.end_time = unixNow();
  releaseAllocation(job);
  if (Status s = persist({&job}); !s.ok())
    log()->error("job={} end not stored: {}", job.id, s.error().message);
  log()->info("job={} state={} exit={} (allocation for locus run)", job.id, toString(state), exit_code);
  changed_cv_.notify_all();
  markDirty();
}

void Controller::checkAllocationJobs() {
  const int64_t now = unixNow();
  std::vector<Job*> ending;
  for (uint64_t id : active_) {
    Job& job = jobs_.at(id);
    if (!job.spec.allocation_only || job.state != JobState::kRunning) continue;
    if (job.spec.time_limit_s > 0 && now >= job.start_time + job.spec.time_limit_s) ending.push_back(&job);
    else if (job.steps.empty() && !job.isLease() && now >= job.start_time + kAllocationClaimTimeoutS)
      ending.push_back(&job);  // a lease may wait for its framework's first task
  }
  for (Job* job : ending) {
    const bool timeout = job->spec.time_limit_s > 0 && now >= job->start_time + job->spec.time_limit_s;
    endAllocationJob(*job, timeout ? JobState::kTimeout : JobState::kCancelled, timeout ? 128 + 15 : 0,
                     timeout ? "TimeLimit" : "NoStep");
  }
}

}  // namespace locus::controller
