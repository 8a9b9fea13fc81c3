// Frameworks (frameworks.hpp): registration and failover, lease requests, offers, task launches
// inside leases, revocation. Everything here runs under the controller's lock.
#include <algorithm>
#include <cmath>

#include "common/logging.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {

namespace {

auto log() {
  static auto l = logger("controller.frameworks");
  return l;
}

int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sendEvent(const Framework& fw, const proto::FrameworkEvent& event) {
  if (fw.channel) fw.channel->send(event);
}

void sendError(const Framework& fw, const std::string& message) {
  proto::FrameworkEvent e;
  e.set_error(message);
  sendEvent(fw, e);
}

// Bounds on what a framework may send, as the client API's request limits (request_limits.hpp).
constexpr uint32_t kMaxCpusPerLease = 1u << 16;
constexpr uint64_t kMaxMemPerLeaseMb = uint64_t{1} << 32;
constexpr uint32_t kMaxGpusPerLease = 64;
constexpr size_t kMaxLaunchBytes = 1 << 20;  // argv + environment + paths of one task
constexpr double kMaxFilterS = 7 * 86400;

bool absoluteOrEmpty(const std::string& path) { return path.empty() || path.front() == '/'; }

}  // namespace

// ------------------------------------------------------------------ registration and failover

Status Controller::frameworkRegistered(const proto::FrameworkRegister& msg, std::shared_ptr<FrameworkChannel> channel) {
  if (Status s = checkFrameworkName(msg.name()); !s.ok()) return s;
  if (Status s = checkFrameworkMode(msg.mode()); !s.ok()) return s;
  if (Status s = checkFrameworkWeight(msg.weight()); !s.ok()) return s;
  std::lock_guard lock(mu_);
  if (stopping_) return unavailable("controller is shutting down");
  const bool is_admin = msg.uid() == 0 || std::find(config_.admins.begin(), config_.admins.end(), msg.user()) !=
                                              config_.admins.end();
  const uint32_t timeout = std::min(msg.failover_timeout_s() > 0 ? msg.failover_timeout_s()
                                                                 : config_.frameworks.failover_timeout_s,
                                    config_.frameworks.max_failover_timeout_s);
  auto it = frameworks_.find(msg.name());
  if (it != frameworks_.end()) {
    Framework& fw = it->second;
    if (fw.connected()) return failedPrecondition("framework " + fw.name + " is already connected");
    if (!is_admin && msg.uid() != fw.uid)
      return permissionDenied("permission denied: framework " + fw.name + " belongs to " + fw.user);
    // Failover: the same framework again, within its timeout. Its leases are its own again.
    log()->info("framework={} re-registered after {}s away: {} leases held for it", fw.name,
                unixNow() - fw.disconnected_at, fw.leases.size());
  } else {
    Framework fw;
    fw.name = msg.name();
    fw.user = msg.user();
    fw.uid = msg.uid();
    fw.gid = msg.gid();
    auto account = priority_->resolveAccount(msg.user(), msg.account());
    if (!account.ok()) return account.error();
    fw.account = *account;
    auto qos = priority_->resolveQos(msg.qos());
    if (!qos.ok()) return qos.error();
    fw.qos = *qos;
    fw.pool = msg.pool().empty() ? pools_.defaultName() : msg.pool();
    if (!config_.pools.empty() && !pools_.indexOf(fw.pool))
      return invalidArgument("invalid pool specified: " + fw.pool + " (pools: " + pools_.namesList() + ")");
    it = frameworks_.emplace(fw.name, std::move(fw)).first;
    log()->info("framework={} registered by user={} account={} mode={}", msg.name(), msg.user(), it->second.account,
                msg.mode().empty() ? "leases" : msg.mode());
  }
  Framework& fw = it->second;
  fw.mode = msg.mode().empty() ? "leases" : msg.mode();
  fw.weight = msg.weight() > 0 ? msg.weight() : 1.0;
  fw.failover_timeout_s = timeout;
  fw.channel = std::move(channel);
  fw.disconnected_at = 0;
  fw.failover_deadline_ms = 0;
  proto::FrameworkEvent e;
  auto* r = e.mutable_registered();
  r->set_name(fw.name);
  r->set_account(fw.account);
  r->set_failover_timeout_s(fw.failover_timeout_s);
  for (uint64_t id : fw.leases)
    if (auto job = jobs_.find(id); job != jobs_.end() && !isTerminal(job->second.state))
      fillLease(job->second, *r->add_leases());
  sendEvent(fw, e);
  reportEndedLeases(fw);  // those that ended while it was away
  markDirty();            // offers for an offers-mode framework
  return {};
}

void Controller::frameworkDisconnected(const std::string& name, const FrameworkChannel* channel) {
  std::lock_guard lock(mu_);
  auto it = frameworks_.find(name);
  if (it == frameworks_.end() || it->second.channel.get() != channel) return;
  Framework& fw = it->second;
  fw.channel.reset();
  fw.offers.clear();  // nobody to answer them: their resources are free again
  fw.disconnected_at = unixNow();
  fw.failover_deadline_ms = steadyMs() + int64_t{fw.failover_timeout_s} * 1000;
  log()->warn("framework={} disconnected: its {} leases are held for {}s", name, fw.leases.size(),
              fw.failover_timeout_s);
  markDirty();
}

void Controller::restoreFrameworks() {
  for (const auto& [id, job] : jobs_) {
    if (!job.isLease() || isTerminal(job.state)) continue;
    auto [it, fresh] = frameworks_.try_emplace(job.framework);
    Framework& fw = it->second;
    if (fresh) {
      fw.name = job.framework;
      fw.user = job.user;
      fw.uid = job.uid;
      fw.gid = job.gid;
      fw.account = job.spec.account;
      fw.qos = job.spec.qos;
      fw.pool = job.spec.partition;
      fw.failover_timeout_s = config_.frameworks.failover_timeout_s;
      fw.disconnected_at = unixNow();
      fw.failover_deadline_ms = steadyMs() + int64_t{fw.failover_timeout_s} * 1000;
    }
    fw.leases.insert(id);
  }
}

// ------------------------------------------------------------------ calls

void Controller::frameworkCall(const std::string& name, const FrameworkChannel* channel,
                               const proto::FrameworkCall& call) {
  std::lock_guard lock(mu_);
  auto it = frameworks_.find(name);
  if (it == frameworks_.end() || it->second.channel.get() != channel) return;  // a stale stream
  Framework& fw = it->second;
  Status result;
  switch (call.call_case()) {
    case proto::FrameworkCall::kRequest:
      result = requestLeases(fw, call.request());
      break;
    case proto::FrameworkCall::kAccept: {
      const proto::AcceptOffer& a = call.accept();
      auto offer = fw.offers.find(a.offer_id());
      if (offer == fw.offers.end()) {
        result = notFound("offer " + a.offer_id() + " is not outstanding (answered, rescinded or unknown)");
        break;
      }
      const FrameworkOffer o = offer->second;
      const uint32_t cpus = a.cpus() == 0 ? o.cpus : a.cpus();
      const uint64_t mem = a.mem_mb() != 0 ? a.mem_mb() : a.cpus() == 0 ? o.mem_mb : o.mem_mb * cpus / o.cpus;
      const uint32_t gpus = a.cpus() == 0 && a.gpus() == 0 ? o.gpus : a.gpus();
      if (cpus > o.cpus || mem > o.mem_mb || gpus > o.gpus) {
        result = invalidArgument("offer " + o.id + " holds " + std::to_string(o.cpus) + " cpus, " +
                                 std::to_string(o.mem_mb) + " MB, " + std::to_string(o.gpus) + " GPUs; asked " +
                                 std::to_string(cpus) + " cpus, " + std::to_string(mem) + " MB, " +
                                 std::to_string(gpus) + " GPUs");
        break;
      }
      fw.offers.erase(offer);
      // The rest of the offer is free again, offered anew after the next pass.
      result = createLeases(fw, a.request_id(), 1, cpus, mem, gpus, {o.node}, {}, /*strict=*/true, 0);
      break;
    }
    case proto::FrameworkCall::kDecline: {
      const proto::DeclineOffer& d = call.decline();
      auto offer = fw.offers.find(d.offer_id());
      if (offer == fw.offers.end()) {
        result = notFound("offer " + d.offer_id() + " is not outstanding (answered, rescinded or unknown)");
        break;
      }
      if (!std::isfinite(d.filter_s()) || d.filter_s() < 0 || d.filter_s() > kMaxFilterS) {
        result = invalidArgument("decline filter must be 0 to 604800 seconds");
        break;
      }
      const double filter_s = d.filter_s() > 0 ? d.filter_s() : config_.frameworks.default_filter_s;
      fw.filters[offer->second.node] = steadyMs() + static_cast<int64_t>(filter_s * 1000);
      fw.offers.erase(offer);
      markDirty();  // the node's resources may go to another framework now
      break;
    }
    case proto::FrameworkCall::kRelease: {
      const uint64_t id = call.release().lease_id();
      auto job = jobs_.find(id);
      if (!fw.leases.count(id) || job == jobs_.end()) {
        result = notFound("lease " + std::to_string(id) + " is not a live lease of framework " + fw.name);
        break;
      }
      endLease(job->second, "Released");
      break;
    }
    case proto::FrameworkCall::kLaunch:
      result = launchFrameworkTask(fw, call.launch());
      break;
    case proto::FrameworkCall::kKill: {
      const proto::KillFrameworkTask& k = call.kill();
      auto tasks = fw.tasks.find(k.lease_id());
      auto job = jobs_.find(k.lease_id());
      const FrameworkTask* task = nullptr;
      if (tasks != fw.tasks.end())
        for (const FrameworkTask& t : tasks->second)
          if (t.id == k.task_id()) task = &t;
      if (!task || job == jobs_.end() || job->second.allocation.empty()) {
        result = notFound("task " + k.task_id() + " is not running in lease " + std::to_string(k.lease_id()));
        break;
      }
      Node* node = findNode(job->second.allocation.front().node);
      if (!node || !node->channel) {
        result = unavailable("node " + job->second.allocation.front().node + " is not connected");
        break;
      }
      proto::ControllerToNode cmd;
      cmd.mutable_end_steps()->set_job_id(k.lease_id());
      cmd.mutable_end_steps()->add_step_ids(task->step_id);
      node->channel->send(cmd);  // its end comes back as the step's, then as TaskStatus
      break;
    }
    case proto::FrameworkCall::kRegister:
      result = failedPrecondition("framework " + fw.name + " is registered already on this stream");
      break;
    case proto::FrameworkCall::CALL_NOT_SET:
      result = invalidArgument("empty framework call");
      break;
  }
  if (!result.ok()) {
    log()->info("framework={} call refused: {}", fw.name, result.error().message);
    sendError(fw, result.error().message);
  }
  reportEndedLeases(fw);
}

Status Controller::requestLeases(Framework& fw, const proto::LeaseRequest& req) {
  if (req.count() == 0 || req.count() > kMaxLeasesPerRequest)
    return invalidArgument("lease request " + req.id() + ": count must be 1 to " + std::to_string(kMaxLeasesPerRequest));
  if (req.cpus() == 0 || req.cpus() > kMaxCpusPerLease)
    return invalidArgument("lease request " + req.id() + ": cpus must be 1 to " + std::to_string(kMaxCpusPerLease));
  if (req.mem_mb() > kMaxMemPerLeaseMb) return invalidArgument("lease request " + req.id() + ": mem_mb out of range");
  if (req.gpus() > kMaxGpusPerLease) return invalidArgument("lease request " + req.id() + ": at most 64 GPUs per lease");
  if (req.id().size() > kMaxTaskIdBytes) return invalidArgument("lease request id longer than 256 bytes");
  if (static_cast<size_t>(req.nodes_size()) > kMaxPreferredPlaces ||
      static_cast<size_t>(req.racks_size()) > kMaxPreferredPlaces)
    return invalidArgument("lease request " + req.id() + ": more than 1000 preferred nodes or racks");
  if (req.duration_hint_s() < 0) return invalidArgument("lease request " + req.id() + ": negative duration hint");
  const bool strict = req.has_relax_locality() && !req.relax_locality();
  // Preferred nodes may be given as the store names them (HDFS hosts): mapped as --input is.
  locality::HostMapper mapper = hostMapper();
  std::vector<std::string> nodes;
  for (const std::string& host : req.nodes())
    if (auto node = mapper.map(host); node && std::find(nodes.begin(), nodes.end(), *node) == nodes.end())
      nodes.push_back(*node);
  std::vector<std::string> racks;
  for (const std::string& rack : req.racks()) {
    auto sw = switches_.findSwitch(rack);
    if (!sw) return invalidArgument("lease request " + req.id() + ": no rack (switch) named '" + rack + "'");
    racks.push_back(rack);
  }
  if (strict && nodes.empty() && racks.empty())
    return invalidArgument("lease request " + req.id() +
                           ": relax_locality is false but none of its nodes or racks is known to Locus");
  return createLeases(fw, req.id(), req.count(), req.cpus(), req.mem_mb(), req.gpus(), std::move(nodes),
                      std::move(racks), strict, req.duration_hint_s());
}

Status Controller::createLeases(Framework& fw, const std::string& request_id, uint32_t count, uint32_t cpus,
                                uint64_t mem_mb, uint32_t gpus, std::vector<std::string> nodes,
                                std::vector<std::string> racks, bool strict, int64_t duration_hint_s) {
  const int64_t now = unixNow();
  std::vector<Job> created;
  created.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Job job;
    job.id = next_job_id_ + i;
    job.spec.name = fw.name + (request_id.empty() ? "" : ":" + request_id);
    job.spec.allocation_only = true;
    job.spec.nodes = 1;
    job.spec.ntasks = 1;
    job.spec.cpus_per_task = cpus;
    job.spec.mem_mb = mem_mb;
    if (gpus > 0) job.spec.gpus = std::to_string(gpus);
    job.spec.account = fw.account;
    job.spec.qos = fw.qos;
    job.spec.partition = fw.pool;
    job.spec.work_dir = "/";
    job.spec.no_requeue = true;  // a lease lost with its node is the framework's to ask again
    job.user = fw.user;
    job.uid = fw.uid;
    job.gid = fw.gid;
    job.submit_time = now;
    job.reason = "Priority";
    job.framework = fw.name;
    job.lease_request = request_id;
    job.lease_nodes = nodes;
    job.lease_racks = racks;
    job.lease_strict = strict;
    job.predicted_runtime_s = duration_hint_s;
    if (i == 0)
      if (Status fits = checkCouldEverRun(job); !fits.ok()) return fits;
    created.push_back(std::move(job));
  }
  std::vector<const Job*> to_store;
  for (const Job& j : created) to_store.push_back(&j);
  if (Status s = persist(to_store); !s.ok()) return unavailable("leases not stored: " + s.error().message);
  next_job_id_ += count;
  for (Job& job : created) {
    fw.leases.insert(job.id);
    addPending(job);
    keepJob(std::move(job));
  }
  log()->info("framework={} asked {} leases of {} cpus (request {}, {} preferred nodes, {} racks{})", fw.name, count,
              cpus, request_id, nodes.size(), racks.size(), strict ? ", strict" : "");
  markDirty();
  return {};
}

Status Controller::launchFrameworkTask(Framework& fw, const proto::FrameworkLaunch& launch) {
  const uint64_t id = launch.lease_id();
  auto it = jobs_.find(id);
  if (!fw.leases.count(id) || it == jobs_.end())
    return notFound("lease " + std::to_string(id) + " is not a live lease of framework " + fw.name);
  Job& job = it->second;
  if (job.state != JobState::kRunning || job.completing || job.allocation.empty())
    return failedPrecondition("lease " + std::to_string(id) + " is " + std::string(toString(job.state)) +
                              ", not granted");
  if (job.revoke_at != 0) return failedPrecondition("lease " + std::to_string(id) + " is being revoked");
  if (launch.task_id().empty() || launch.task_id().size() > kMaxTaskIdBytes)
    return invalidArgument("task id must be 1 to 256 bytes");
  if (launch.argv().empty()) return invalidArgument("task " + launch.task_id() + ": no command");
  size_t bytes = launch.work_dir().size() + launch.container().size() + launch.stdout_path().size() +
                 launch.stderr_path().size();
  for (const auto& a : launch.argv()) bytes += a.size();
  for (const auto& [k, v] : launch.environment()) bytes += k.size() + v.size();
  if (bytes > kMaxLaunchBytes) return invalidArgument("task " + launch.task_id() + ": larger than 1 MiB");
  for (const std::string* path : {&launch.work_dir(), &launch.container(), &launch.stdout_path(), &launch.stderr_path()})
    if (!absoluteOrEmpty(*path)) return invalidArgument("task " + launch.task_id() + ": '" + *path + "' is not an absolute path");
  std::vector<FrameworkTask>& running = fw.tasks[id];
  if (std::any_of(running.begin(), running.end(), [&](const FrameworkTask& t) { return t.id == launch.task_id(); }))
    return failedPrecondition("task " + launch.task_id() + " is running in lease " + std::to_string(id) + " already");
  const AllocatedNode& a = job.allocation.front();
  std::vector<uint32_t> cores = pickTaskCores(a.cores, running, launch.cpus());
  if (cores.empty())
    return failedPrecondition("lease " + std::to_string(id) + " has fewer than " + std::to_string(launch.cpus()) +
                              " cores free of its running tasks (it holds " + std::to_string(a.cores.size()) + ")");
  Node* node = findNode(a.node);
  if (!node || !node->channel || node->state != NodeState::kUp || node->step_address.empty())
    return unavailable("node " + a.node + " of lease " + std::to_string(id) + " is not connected");

  JobStep step;
  step.id = job.steps.empty() ? 0 : job.steps.back().id + 1;
  step.name = launch.task_id();
  step.start_time = unixNow();
  step.ntasks = 1;
  step.nodes = {a.node};
  std::map<std::string, std::string> env =
      stepEnvironment(job, step, "1", static_cast<uint32_t>(cores.size()));
  env["LOCUS_FRAMEWORK"] = fw.name;
  env["LOCUS_LEASE_ID"] = std::to_string(id);
  env["LOCUS_TASK_ID"] = launch.task_id();
  job.steps.push_back(step);
  if (Status s = persist({&job}); !s.ok()) {
    job.steps.pop_back();
    return unavailable("task not stored: " + s.error().message);
  }

  proto::ControllerToNode cmd;
  proto::StepGrant* g = cmd.mutable_step_grant();
  g->set_job_id(job.id);
  g->set_attempt(job.attempt);
  g->set_step_id(step.id);
  g->set_token(internal::newStepToken());
  g->set_uid(job.uid);
  g->set_gid(job.gid);
  g->set_user(job.user);
  proto::StepNode* sn = g->mutable_node();
  sn->set_node(a.node);
  sn->set_address(node->step_address);
  sn->set_nodeid(0);
  proto::StepTask* task = sn->add_tasks();
  task->set_procid(0);
  task->set_localid(0);
  for (uint32_t c : cores) task->add_cores(c);
  for (const auto& [k, v] : env) (*g->mutable_environment())[k] = v;
  g->set_mem_mb(a.mem_mb);
  for (uint32_t gpu : a.gpus) g->add_gpus(gpu);
  for (uint32_t d : a.numa) g->add_numa(d);
  g->set_mem_bind("local");
  proto::StepStart* start = g->mutable_detached_start();
  start->set_job_id(job.id);
  start->set_step_id(step.id);
  start->set_token(g->token());
  for (const auto& arg : launch.argv()) start->add_argv(arg);
  for (const auto& [k, v] : launch.environment()) (*start->mutable_environment())[k] = v;
  start->set_work_dir(launch.work_dir().empty() ? "/" : launch.work_dir());
  start->set_container(launch.container());
  start->set_stdout_path(launch.stdout_path());
  start->set_stderr_path(launch.stderr_path());
  node->channel->send(cmd);

  running.push_back(FrameworkTask{launch.task_id(), step.id, cores});
  fw.tasks_launched += 1;
  proto::FrameworkEvent e;
  auto* status = e.mutable_task();
  status->set_lease_id(id);
  status->set_task_id(launch.task_id());
  status->set_state("RUNNING");
  status->set_exit_code(-1);
  status->set_node(a.node);
  sendEvent(fw, e);
  log()->info("framework={} lease={} task={} step={} on {}", fw.name, id, launch.task_id(), step.id, a.node);
  return {};
}

void Controller::frameworkTaskEnded(const Job& lease, const JobStep& step, const std::string& node) {
  auto it = frameworks_.find(lease.framework);
  if (it == frameworks_.end()) return;
  Framework& fw = it->second;
  // Told already when its lease ended first (endLease): once is enough.
  auto tasks = fw.tasks.find(lease.id);
  if (tasks == fw.tasks.end() ||
      std::erase_if(tasks->second, [&](const FrameworkTask& t) { return t.step_id == step.id; }) == 0)
    return;
  proto::FrameworkEvent e;
  auto* status = e.mutable_task();
  status->set_lease_id(lease.id);
  status->set_task_id(step.name);
  status->set_state(std::string(toString(step.state)));
  status->set_exit_code(step.exit_code);
  status->set_node(node);
  if (step.exit_code == 127 && !step.killed) status->set_message("the task could not be started (see the node's log)");
  sendEvent(fw, e);
}

// ------------------------------------------------------------------ leases

void Controller::fillLease(const Job& job, proto::Lease& out) const {
  out.set_id(job.id);
  out.set_request_id(job.lease_request);
  out.set_cpus(job.spec.cpus_per_task);
  out.set_mem_mb(job.spec.mem_mb);
  out.set_revocation_notice_s(config_.frameworks.revocation_notice_s);
  out.set_state(job.revoke_at != 0 ? "REVOKING" : std::string(toString(job.state)));
  out.set_locality(job.locality);
  if (!job.allocation.empty()) {
    const AllocatedNode& a = job.allocation.front();
    out.set_node(a.node);
    const uint32_t sw = switchOf(a.node);
    if (sw != switches_.root) out.set_rack(switches_.switches[sw].name);
    out.set_cpus(static_cast<uint32_t>(a.cores.size()));
    for (uint32_t c : a.cores) out.add_cores(c);
    out.set_mem_mb(a.mem_mb);
    for (uint32_t g : a.gpus) out.add_gpus(g);
  }
  uint32_t running = 0;
  for (const JobStep& s : job.steps) running += s.state == JobState::kRunning ? 1 : 0;
  out.set_tasks_running(running);
}

void Controller::leaseGranted(const Job& lease) {
  auto it = frameworks_.find(lease.framework);
  if (it == frameworks_.end()) return;
  proto::FrameworkEvent e;
  fillLease(lease, *e.mutable_lease());
  sendEvent(it->second, e);  // a disconnected framework learns of it at re-registration
}

void Controller::leaseRevoked(const Job& lease) {
  auto it = frameworks_.find(lease.framework);
  if (it == frameworks_.end()) return;
  proto::FrameworkEvent e;
  auto* r = e.mutable_revoked();
  r->set_lease_id(lease.id);
  r->set_notice_s(static_cast<uint32_t>(std::max<int64_t>(0, lease.revoke_at - unixNow())));
  r->set_deadline(lease.revoke_at);
  r->set_reason(lease.preemption);
  sendEvent(it->second, e);
}

void Controller::endLease(Job& lease, const std::string& reason) {
  if (isTerminal(lease.state)) return;
  if (lease.state == JobState::kPending) {
    pending_.erase(lease.id);
    lease.state = JobState::kCancelled;
    lease.reason = reason;
    lease.end_time = unixNow();
    if (Status s = persist({&lease}); !s.ok())
      log()->error("lease={} end not stored: {}", lease.id, s.error().message);
    changed_cv_.notify_all();
    return;
  }
  // Its tasks are killed: the framework hears of their ends before the lease's (the nodes'
  // reports of the kills come later and are not passed on again).
  if (auto fw = frameworks_.find(lease.framework); fw != frameworks_.end()) {
    auto tasks = fw->second.tasks.find(lease.id);
    if (tasks != fw->second.tasks.end()) {
      for (const FrameworkTask& t : tasks->second) {
        proto::FrameworkEvent e;
        auto* status = e.mutable_task();
        status->set_lease_id(lease.id);
        status->set_task_id(t.id);
        status->set_state("CANCELLED");
        status->set_exit_code(128 + 9);
        status->set_node(lease.allocation.empty() ? "" : lease.allocation.front().node);
        status->set_message("killed: lease " + reason);
        sendEvent(fw->second, e);
      }
      tasks->second.clear();
    }
  }
  sendEndSteps(lease);
  endAllocationJob(lease, JobState::kCancelled, 0, reason);
}

void Controller::reportEndedLeases(Framework& fw) {
  if (!fw.connected()) return;  // told at re-registration
  for (auto it = fw.leases.begin(); it != fw.leases.end();) {
    auto job = jobs_.find(*it);
    if (job != jobs_.end() && !isTerminal(job->second.state)) {
      ++it;
      continue;
    }
    proto::FrameworkEvent e;
    e.mutable_lease_ended()->set_lease_id(*it);
    if (job != jobs_.end())
      e.mutable_lease_ended()->set_reason(job->second.reason.empty() ? std::string(toString(job->second.state))
                                                                     : job->second.reason);
    sendEvent(fw, e);
    fw.tasks.erase(*it);
    it = fw.leases.erase(it);
  }
}

void Controller::checkFrameworks() {
  if (frameworks_.empty()) return;
  const int64_t now = unixNow();
  const int64_t now_ms = steadyMs();
  std::vector<std::string> gone;
  for (auto& [name, fw] : frameworks_) {
    // Revocations whose notice is over.
    for (uint64_t id : fw.leases) {
      Job& job = jobs_.at(id);
      if (job.revoke_at != 0 && now >= job.revoke_at && job.state == JobState::kRunning) {
        log()->info("framework={} lease={} revoked: notice over, its tasks are killed", name, id);
        endLease(job, "Revoked");
      }
    }
    // A framework away longer than its failover timeout gives everything back.
    if (!fw.connected() && now_ms >= fw.failover_deadline_ms) {
      log()->warn("framework={} did not come back within {}s: its {} leases are released", name,
                  fw.failover_timeout_s, fw.leases.size());
      for (uint64_t id : fw.leases) endLease(jobs_.at(id), "FrameworkFailoverTimeout");
      gone.push_back(name);
      continue;
    }
    for (auto it = fw.offers.begin(); it != fw.offers.end();) {
      if (now_ms < it->second.expires_ms) {
        ++it;
        continue;
      }
      proto::FrameworkEvent e;
      e.mutable_rescinded()->set_offer_id(it->first);
      sendEvent(fw, e);
      it = fw.offers.erase(it);
    }
    std::erase_if(fw.filters, [&](const auto& f) { return f.second <= now_ms; });
    reportEndedLeases(fw);
  }
  for (const std::string& name : gone) frameworks_.erase(name);
}

void Controller::makeOffers() {
  std::vector<Framework*> takers;
  for (auto& [name, fw] : frameworks_)
    if (fw.connected() && fw.offersMode()) takers.push_back(&fw);
  if (takers.empty()) return;
  // What each holds (granted leases and outstanding offers), for DRF; what is offered already.
  std::vector<DrfClaim> claims;
  std::map<std::string, FrameworkOffer> offered;  // node -> sum of outstanding offers there
  for (Framework* fw : takers) {
    DrfClaim c{fw->name, fw->weight};
    for (uint64_t id : fw->leases) {
      const Job& job = jobs_.at(id);
      if (job.state != JobState::kRunning) continue;
      for (const AllocatedNode& a : job.allocation) {
        c.cpus += a.cores.size();
        c.mem_mb += a.mem_mb;
        c.gpus += a.gpus.size();
      }
    }
    claims.push_back(c);
  }
  for (auto& [name, fw] : frameworks_)
    for (const auto& [id, o] : fw.offers) {
      FrameworkOffer& sum = offered[o.node];
      sum.cpus += o.cpus;
      sum.mem_mb += o.mem_mb;
      sum.gpus += o.gpus;
      for (size_t i = 0; i < takers.size(); ++i)
        if (takers[i] == &fw) {
          claims[i].cpus += o.cpus;
          claims[i].mem_mb += o.mem_mb;
          claims[i].gpus += o.gpus;
        }
    }
  uint64_t total_cpus = 0, total_mem = 0, total_gpus = 0;
  for (const auto& [name, node] : nodes_) {
    if (node->state != NodeState::kUp) continue;
    total_cpus += node->cores();
    total_mem += node->memMb();
    total_gpus += node->gpus();
  }
  const int64_t now_ms = steadyMs();
  for (const auto& [name, node] : nodes_) {
    if (node->state != NodeState::kUp || !node->channel) continue;
    const FrameworkOffer& already = offered[name];
    const uint32_t free_cpus = node->cores() - node->coresAllocated();
    const uint64_t free_mem = node->memMb() - std::min(node->memMb(), node->memAllocatedMb());
    const uint32_t free_gpus = node->gpus() - node->gpusAllocated();
    if (free_cpus <= already.cpus) continue;
    const uint32_t cpus = free_cpus - already.cpus;
    const uint64_t mem = free_mem - std::min(free_mem, already.mem_mb);
    const uint32_t gpus = free_gpus - std::min(free_gpus, already.gpus);
    for (size_t i : offerOrder(claims, total_cpus, total_mem, total_gpus)) {
      Framework& fw = *takers[i];
      if (auto f = fw.filters.find(name); f != fw.filters.end() && f->second > now_ms) continue;
      if (!config_.pools.empty()) {
        auto pool = pools_.indexOf(fw.pool);
        if (pool && !pools_.at(*pool).hasNode(name)) continue;
      }
      FrameworkOffer o{"offer-" + std::to_string(next_offer_id_++), name, cpus, mem, gpus,
                       now_ms + int64_t{config_.frameworks.offer_timeout_s} * 1000};
      fw.offers[o.id] = o;
      claims[i].cpus += cpus;
      claims[i].mem_mb += mem;
      claims[i].gpus += gpus;
      proto::FrameworkEvent e;
      auto* out = e.mutable_offer();
      out->set_id(o.id);
      out->set_node(name);
      const uint32_t sw = switchOf(name);
      if (sw != switches_.root) out->set_rack(switches_.switches[sw].name);
      out->set_cpus(cpus);
      out->set_mem_mb(mem);
      out->set_gpus(gpus);
      sendEvent(fw, e);
      break;
    }
  }
}

proto::ListFrameworksReply Controller::listFrameworks() {
  std::lock_guard lock(mu_);
  proto::ListFrameworksReply reply;
  for (const auto& [name, fw] : frameworks_) {
    auto* f = reply.add_frameworks();
    f->set_name(name);
    f->set_user(fw.user);
    f->set_account(fw.account);
    f->set_mode(fw.mode);
    f->set_weight(fw.weight);
    f->set_connected(fw.connected());
    f->set_disconnected_at(fw.disconnected_at);
    f->set_failover_timeout_s(fw.failover_timeout_s);
    f->set_tasks_launched(fw.tasks_launched);
    double billing = 0;
    for (uint64_t id : fw.leases) {
      const Job& job = jobs_.at(id);
      if (isTerminal(job.state)) continue;
      fillLease(job, *f->add_leases());
      billing += job.billed;
      if (job.state == JobState::kPending) {
        f->set_pending_leases(f->pending_leases() + 1);
        continue;
      }
      for (const AllocatedNode& a : job.allocation) {
        f->set_cpus(f->cpus() + static_cast<uint32_t>(a.cores.size()));
        f->set_mem_mb(f->mem_mb() + a.mem_mb);
        f->set_gpus(f->gpus() + static_cast<uint32_t>(a.gpus.size()));
      }
      if (job.start_time > 0)
        billing += priority_->billed(internal::billedTres(job), std::max<int64_t>(0, unixNow() - job.start_time));
    }
    f->set_billing(billing);
  }
  return reply;
}

}  // namespace locus::controller
