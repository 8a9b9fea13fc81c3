// The controller side of the node protocol: registration and reconciliation, task exits,
// and the commands sent to nodes.
#include "controller/controller.hpp"

#include <algorithm>
#include <filesystem>

#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/controller_internal.hpp"
#include "controller/job_environment.hpp"
#include "controller/profiling.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "proto/convert.hpp"
#include "proto/locus.pb.h"
#include <nlohmann/json.hpp>

namespace locus::controller {
using namespace internal;

// ------------------------------------------------------------------ node protocol

Status Controller::nodeRegistered(const proto::RegisterNode& msg, std::shared_ptr<NodeChannel> channel) {
  std::lock_guard lock(mu_);
  if (msg.name().empty()) return invalidArgument("node registered without a name");
  NodeTopology topology = proto::fromProto(msg.topology());
  if (topology.numa.empty()) return invalidArgument("node " + msg.name() + " reported no NUMA domain");
  Node* node = findNode(msg.name());
  if (!node) {
    nodes_[msg.name()] = std::make_unique<Node>(msg.name());
    node = nodes_[msg.name()].get();
    node->switch_index = switchOf(msg.name());
    for (const auto& group : config_.nodes)
      if (std::find(group.names.begin(), group.names.end(), msg.name()) != group.names.end())
        node->setFeatures(group.features);
  }
  if (node->channel && node->channel != channel) node->channel->close();
  if (!node->setTopology(topology) && node->cores() != topology.coreCount())
    log()->warn("node={} re-registered with different hardware while busy; keeping the old view",
                msg.name());
  bool daemon_restarted = node->boot_id != msg.boot_id();
  bool was_down = node->state == NodeState::kDown;
  node->boot_id = msg.boot_id();
  node->limits = msg.limits();
  node->step_address = msg.step_address();
  node->emulated = msg.emulated();
  std::vector<NodeDataset> datasets;
  for (const auto& d : msg.datasets()) datasets.push_back({d.name(), d.path(), d.bytes()});
  data_->setNodeDatasets(msg.name(), std::move(datasets));
  node->channel = std::move(channel);
  setNodeState(*node, NodeState::kUp, daemon_restarted ? "Registered" : "Reconnected");
  node->last_seen = std::chrono::steady_clock::now();

  StoredNode stored{msg.name(), msg.topology().SerializeAsString(), msg.boot_id()};
  if (Status s = store_->saveNode(stored); !s.ok())
    log()->error("node={} not stored: {}", msg.name(), s.error().message);
  log()->info("node={} registered cores={} numa={} gpus={} running={} unacked={}{}", msg.name(),
              node->cores(), topology.numa.size(), topology.gpus.size(), msg.running_size(),
              msg.unacked_size(), was_down ? " (was DOWN)" : "");

  // Exits that happened while we were apart come first: they end jobs.
  std::set<std::pair<uint64_t, uint32_t>> reported;
  for (const auto& exited : msg.unacked()) {
    reported.insert({exited.job_id(), exited.attempt()});
    handleExit(msg.name(), exited);
  }
  std::set<std::pair<uint64_t, uint32_t>> running;
  for (const auto& t : msg.running()) running.insert({t.job_id(), t.attempt()});

  // Reconcile what the store says runs here with what the node says.
  std::vector<uint64_t> relaunch, lost;
  for (uint64_t id : active_) {
    Job& job = jobs_.at(id);
    if (job.allocation.empty() || job.allocation.front().node != msg.name()) continue;
    if (job.spec.allocation_only) continue;  // nothing runs there but steps
    std::pair<uint64_t, uint32_t> key{job.id, job.attempt};
    if (running.count(key)) {
      if (job.completing) sendKill(job, job.cancel_requested);  // ended here while it ran there
      continue;
    }
    if (reported.count(key)) continue;
    if (job.completing || job.state == JobState::kSuspended) {
      lost.push_back(id);  // its processes are gone
    } else if (!daemon_restarted) {
      relaunch.push_back(id);  // the Launch never reached the node (controller died before)
    } else {
      lost.push_back(id);  // the node daemon restarted and its tasks died with it
    }
  }
  std::vector<const Job*> changed;
  int64_t now = unixNow();
  for (uint64_t id : lost) {
    Job& job = jobs_.at(id);
    if (job.state == JobState::kRunning || job.state == JobState::kSuspended) {
      log()->warn("job={} lost: node={} daemon restarted", id, msg.name());
      endOnNodeFailure(job, "NodeDaemonRestarted", now);
    } else {
      releaseAllocation(job);
    }
    changed.push_back(&job);
  }
  if (Status s = persist(changed); !s.ok()) log()->error("reconcile not stored: {}", s.error().message);
  for (uint64_t id : relaunch) {
    log()->info("job={} relaunch on node={} (launch not received)", id, msg.name());
    sendLaunch(jobs_.at(id));
  }
  // Tasks the node runs that no live job owns: stale attempts, or jobs ended while apart.
  for (const auto& [job_id, attempt] : running) {
    auto it = jobs_.find(job_id);
    bool owned = it != jobs_.end() && it->second.attempt == attempt &&
                 (it->second.state == JobState::kRunning || it->second.state == JobState::kSuspended ||
                  it->second.completing);
    if (!owned) {
      proto::ControllerToNode cmd;
      cmd.mutable_kill()->set_job_id(job_id);
      cmd.mutable_kill()->set_attempt(attempt);
      node->channel->send(cmd);
    }
  }
  proto::ControllerToNode hello;
  hello.mutable_registered()->set_heartbeat_interval_ms(config_.heartbeat_interval.count());
  hello.mutable_registered()->set_node_timeout_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.node_timeout).count());
  node->channel->send(hello);
  if (!changed.empty()) changed_cv_.notify_all();
  markDirty();
  return {};
}

void Controller::nodeMessage(const std::string& node_name, const proto::NodeToController& msg) {
  std::lock_guard lock(mu_);
  Node* node = findNode(node_name);
  if (!node) return;
  node->last_seen = std::chrono::steady_clock::now();
  if (node->state != NodeState::kUp) {
    // A DOWN node speaking on its old stream: its jobs were failed or requeued and its cores
    // handed out again. Make it register anew, so the reconciliation kills what it still runs.
    if (node->channel) node->channel->close();
    return;
  }
  switch (msg.msg_case()) {
    case proto::NodeToController::kHeartbeat:
      if (msg.heartbeat().datasets_changed()) {
        std::vector<NodeDataset> datasets;
        for (const auto& d : msg.heartbeat().datasets()) datasets.push_back({d.name(), d.path(), d.bytes()});
        log()->info("node={} staged datasets now {}", node_name, datasets.size());
        data_->setNodeDatasets(node_name, std::move(datasets));
      }
      break;
    case proto::NodeToController::kExited:
      handleExit(node_name, msg.exited());
      break;
    case proto::NodeToController::kStepEnded:
      handleStepEnded(node_name, msg.step_ended());
      break;
    case proto::NodeToController::kHealth:
      handleHealth(node_name, msg.health());
      break;
    case proto::NodeToController::kStarted:
      log()->debug("job={} started on node={} pid={}", msg.started().job_id(), node_name,
                   msg.started().pid());
      break;
    default:
      break;
  }
}

void Controller::nodeDisconnected(const std::string& node_name, const NodeChannel* channel) {
  std::lock_guard lock(mu_);
  Node* node = findNode(node_name);
  if (node && node->channel.get() == channel) {
    node->channel.reset();
    log()->info("node={} disconnected", node_name);
  }
}

void Controller::handleExit(const std::string& node_name, const proto::TaskExited& exited) {
  auto it = jobs_.find(exited.job_id());
  if (it == jobs_.end() || it->second.attempt != exited.attempt() || it->second.allocation.empty() ||
      it->second.allocation.front().node != node_name) {
    sendAck(node_name, exited.job_id(), exited.attempt());  // stale: nothing to record
    return;
  }
  Job& job = it->second;
  // A suspended job's processes can end too (killed, or its time limit on the node): as running.
  if (job.state == JobState::kSuspended) job.state = JobState::kRunning;
  if (job.state == JobState::kRunning || job.completing) {
    job.cpu_time_s = exited.cpu_time_s();
    job.max_rss_kb = exited.max_rss_kb();
  }
  if (job.state == JobState::kRunning && job.requeue_requested) {
    // scontrol requeue or preemption: this attempt is over, the job waits for its next one.
    const bool preempted = job.preempted_for != 0;
    releaseAllocation(job);
    job.requeue_requested = false;
    job.state = JobState::kPending;
    job.attempt += 1;
    job.reason = preempted ? "Preempted" : "Requeued";
    job.allocation.clear();
    job.start_time = 0;
    job.stdout_path.clear();
    job.stderr_path.clear();
    addPending(job);
  } else if (job.state == JobState::kRunning) {
    job.end_time = exited.end_time() > 0 ? exited.end_time() : unixNow();
    job.term_signal = exited.term_signal();
    job.exit_code = exited.term_signal() ? 128 + exited.term_signal() : exited.exit_code();
    if (!exited.launch_error().empty()) {
      job.state = JobState::kFailed;
      job.reason = "LaunchFailed: " + exited.launch_error();
    } else if (exited.oom_killed()) {
      // The kernel killed a task process at the job's memory limit (the node's cgroup says so).
      job.state = JobState::kOutOfMemory;
      job.reason = "OutOfMemory";
    } else if (exited.timed_out()) {
      job.state = JobState::kTimeout;
      job.reason = "TimeLimit";
    } else if (exited.cancelled()) {
      job.state = JobState::kCancelled;
      job.reason = "Cancelled";
    } else if (exited.term_signal() == 0 && exited.exit_code() == 0) {
      job.state = JobState::kCompleted;
      job.reason.clear();
    } else {
      job.state = JobState::kFailed;
      job.reason = exited.term_signal() ? "Signal " + std::to_string(exited.term_signal())
                                        : "NonZeroExitCode";
    }
    releaseAllocation(job);
  } else if (job.completing) {
    if (job.exit_code < 0)
      job.exit_code = exited.term_signal() ? 128 + exited.term_signal() : exited.exit_code();
    job.term_signal = exited.term_signal();
    releaseAllocation(job);
  } else {
    sendAck(node_name, exited.job_id(), exited.attempt());
    return;
  }
  Status s = persist({&job});
  if (!s.ok()) {
    // Not acknowledged: the node will report it again when it reconnects.
    log()->error("job={} exit not stored: {}", job.id, s.error().message);
    return;
  }
  log()->info("job={} state={} exit={} node={}", job.id, toString(job.state), job.exit_code, node_name);
  sendAck(node_name, exited.job_id(), exited.attempt());
  changed_cv_.notify_all();
  markDirty();
}

void Controller::releaseAllocation(Job& job, bool charge) {
  job.preempted_for = 0;  // what it was preempted for has its resources now
  for (const auto& a : job.allocation) {
    if (Node* node = findNode(a.node)) {
      if (job.cores_released) node->release({}, a.mem_mb, {});  // suspended: only memory was held
      else node->release(a.cores, a.mem_mb, a.gpus);
    }
  }
  // Usage is charged when the resources come back (not while the job runs); the job keeps the
  // amount for locus acct (stored with it, in the same transaction as the usage).
  if (charge && job.start_time > 0 && active_.count(job.id)) {
    int64_t now = unixNow();
    job.billed += priority_->charge(job.spec.account.empty() ? "root" : job.spec.account, job.user,
                                    billedTres(job), now - job.start_time, now);
    // A run that ended for good is history for easy-predict; one requeued (preempted, node
    // lost) was cut short by others and says nothing of how long this user's jobs run.
    if (isTerminal(job.state)) predictor_.observe(job.user, now - job.start_time);
  }
  job.completing = false;
  job.cores_released = false;
  active_.erase(job.id);
  sendEndSteps(job);
}

void Controller::sendSignal(const Job& job, int signal) {
  for (const auto& a : job.allocation) {
    Node* node = findNode(a.node);
    if (!node || !node->channel) continue;
    proto::ControllerToNode cmd;
    cmd.mutable_signal()->set_job_id(job.id);
    cmd.mutable_signal()->set_attempt(job.attempt);
    cmd.mutable_signal()->set_signal(signal);
    node->channel->send(cmd);
  }
}

void Controller::sendLaunch(const Job& job) {
  if (job.spec.allocation_only) return;  // its steps come from the client
  Node* node = findNode(job.allocation.front().node);
  if (!node || !node->channel) return;  // delivered on reconnect (see nodeRegistered)
  proto::ControllerToNode cmd;
  auto* launch = cmd.mutable_launch();
  launch->set_job_id(job.id);
  launch->set_attempt(job.attempt);
  launch->set_uid(job.uid);
  launch->set_gid(job.gid);
  launch->set_user(job.user);
  launch->set_script(scriptOf(jobs_, job));
  for (const auto& a : job.spec.args) launch->add_args(a);
  launch->set_work_dir(job.spec.work_dir);
  launch->set_stdout_path(job.stdout_path);
  launch->set_stderr_path(job.stderr_path);
  launch->set_container(job.spec.container);
  // A later array task: the first task's exported environment, its own variables.
  std::map<std::string, std::string> env = jobEnvironment(job, arrayHead(jobs_, job).environment());
  // A job's own locus run (and srun) must find us; the submitter's exported value wins.
  if (!address_.empty()) env.try_emplace("LOCUS_CONTROLLER", address_);
  for (const auto& [k, v] : env) (*launch->mutable_environment())[k] = v;
  if (!job.service.empty()) {
    auto service = services_.find(job.service);
    if (service != services_.end() && service->second.health.any()) {
      const ServiceHealth& h = service->second.health;
      auto* check = launch->mutable_health();
      check->set_cmd(h.cmd);
      check->set_http_path(h.http_path);
      check->set_port(job.port);
      check->set_interval_s(h.interval_s);
      check->set_grace_s(h.grace_s);
      check->set_max_failures(h.max_failures);
    }
  }
  const AllocatedNode& here = job.allocation.front();
  for (uint32_t c : here.cores) launch->add_cores(c);
  for (uint32_t g : here.gpus) launch->add_gpus(g);
  for (uint32_t d : here.numa) launch->add_numa(d);
  launch->set_mem_bind(job.spec.mem_bind.empty() ? "local" : job.spec.mem_bind);
  launch->set_gpu_bind(job.spec.gpu_bind.empty() ? "closest" : job.spec.gpu_bind);
  launch->set_mem_mb(here.mem_mb);
  launch->set_time_limit_s(job.spec.time_limit_s);
  launch->set_kill_grace_s(config_.kill_grace.count());
  if (!job.spec.profile.empty()) fillProfileSettings(job.spec, config_, *launch->mutable_profile());
  node->channel->send(cmd);
}

void Controller::sendKill(const Job& job, bool cancel) {
  Node* node = findNode(job.allocation.front().node);
  if (!node || !node->channel) return;
  proto::ControllerToNode cmd;
  cmd.mutable_kill()->set_job_id(job.id);
  cmd.mutable_kill()->set_attempt(job.attempt);
  cmd.mutable_kill()->set_cancel(cancel);
  node->channel->send(cmd);
}

void Controller::sendAck(const std::string& node_name, uint64_t job_id, uint32_t attempt) {
  Node* node = findNode(node_name);
  if (!node || !node->channel) return;
  proto::ControllerToNode cmd;
  auto* t = cmd.mutable_ack()->add_tasks();
  t->set_job_id(job_id);
  t->set_attempt(attempt);
  node->channel->send(cmd);
}

}  // namespace locus::controller
