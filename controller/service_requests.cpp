// Services (services.hpp) in the controller: `locus service` requests, the reconciler that keeps
// each service's replicas (batch jobs) as planned, replica ports, and the nodes' health reports.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <regex>

#include "common/logging.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
using namespace internal;

namespace {

// Restart back-off after the k-th failure in a row: 1, 2, 4, ... 60 s.
int64_t backoffSeconds(uint32_t failures) {
  if (failures == 0) return 0;
  return std::min<int64_t>(60, int64_t{1} << std::min<uint32_t>(failures - 1, 6));
}

// A replica without a health check counts as healthy once it has run this long (its failures
// in a row are forgotten then, as they are when a checked replica passes).
constexpr int64_t kSettledS = 30;

std::string hostOf(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool validName(const std::string& name) {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  return std::regex_match(name, re);
}

}  // namespace

Status Controller::loadServices() {
  auto records = store_->loadServices();
  if (!records.ok()) return records.error();
  for (const auto& text : *records) {
    auto s = serviceFromJson(text);
    if (!s) return internalError("corrupt service record in the store: " + text);
    service_runtime_[s->name];
    services_.emplace(s->name, std::move(*s));
  }
  for (const auto& [id, job] : jobs_)
    if (!job.service.empty() && !isTerminal(job.state)) service_runtime_[job.service].live.insert(id);
  return {};
}

bool Controller::replicaHealthy(const Job& job, const Service& service) const {
  if (job.state != JobState::kRunning || job.completing) return false;
  if (service.health.any()) return job.health == Job::Health::kHealthy;
  return true;  // no check: running is all there is to know
}

void Controller::reconcileServices() {
  const int64_t now = unixNow();
  std::vector<Job> created;
  std::vector<Job*> stopped;
  std::vector<std::string> gone;
  for (auto& [name, service] : services_) {
    ServiceRuntime& rt = service_runtime_[name];
    // Replicas that ended since the last look: the service's own stops, or failures.
    for (auto it = rt.live.begin(); it != rt.live.end();) {
      auto job = jobs_.find(*it);
      if (job != jobs_.end() && !isTerminal(job->second.state)) {
        ++it;
        continue;
      }
      if (job != jobs_.end() && !job->second.service_stop && !service.deleting) {
        rt.failures += 1;
        rt.restarts += 1;
        rt.next_create_after = now + backoffSeconds(rt.failures);
        log()->warn("service={} replica job={} ended {} ({}): restart in {}s", name, *it,
                    toString(job->second.state), job->second.reason, backoffSeconds(rt.failures));
      }
      it = rt.live.erase(it);
    }
    std::vector<ReplicaView> live;
    for (uint64_t id : rt.live) {
      const Job& job = jobs_.at(id);
      if (job.service_stop || job.completing) continue;  // on its way out
      ReplicaView v;
      v.job_id = id;
      v.revision = job.service_revision;
      v.running = job.state == JobState::kRunning;
      v.healthy = replicaHealthy(job, service);
      v.unhealthy = v.running && service.health.any() && job.health == Job::Health::kUnhealthy;
      v.start_time = job.start_time;
      live.push_back(v);
      // A replica that is up and settled: the service's failures in a row are over.
      if (v.healthy && (service.health.any() || now - job.start_time >= kSettledS)) rt.failures = 0;
    }
    if (service.deleting && live.empty() && std::none_of(rt.live.begin(), rt.live.end(), [&](uint64_t id) {
          return !isTerminal(jobs_.at(id).state);
        })) {
      gone.push_back(name);
      continue;
    }
    ReconcilePlan plan = planReconcile(service, live, now >= rt.next_create_after);
    for (uint64_t id : plan.stop) {
      Job& job = jobs_.at(id);
      const bool failed = job.health == Job::Health::kUnhealthy && !service.deleting;
      job.service_stop = !failed;  // a failed check is a failure: back-off applies
      if (job.state == JobState::kPending) {
        pending_.erase(id);
      } else {
        job.completing = true;
        job.cancel_requested = true;
      }
      job.state = JobState::kCancelled;
      job.reason = failed ? "HealthCheckFailed" : "ServiceStopped";
      job.end_time = now;
      stopped.push_back(&job);
    }
    const ServiceRevision& rev = service.currentRevision();
    for (uint32_t i = 0; i < plan.create; ++i) {
      Job job;
      job.id = next_job_id_ + created.size();
      job.spec.name = name;
      job.spec.script = "#!/bin/sh\n# replica of service " + name + ", revision " + std::to_string(rev.number) +
                        "\n" + rev.command + "\n";
      job.spec.nodes = 1;
      job.spec.ntasks = 1;
      job.spec.cpus_per_task = std::max(1u, rev.cpus);
      job.spec.mem_mb = rev.mem_mb;
      if (service.gpus > 0) job.spec.gpus = std::to_string(service.gpus);
      job.spec.partition = service.pool;
      job.spec.account = service.account;
      job.spec.qos = "service";
      job.spec.work_dir = service.work_dir;
      job.spec.container = service.container;
      job.spec.environment = rev.environment;
      job.spec.stdout_path = "service-" + name + "-%j.out";
      job.spec.requeue = true;  // its node failing puts it back in the queue, to run elsewhere
      job.user = service.user;
      job.uid = service.uid;
      job.gid = service.gid;
      job.submit_time = now;
      job.reason = "Priority";
      job.service = name;
      job.service_revision = rev.number;
      created.push_back(std::move(job));
    }
  }
  if (created.empty() && stopped.empty() && gone.empty()) return;
  std::vector<const Job*> to_store(stopped.begin(), stopped.end());
  for (const auto& j : created) to_store.push_back(&j);
  if (Status s = persist(to_store); !s.ok()) {
    log()->error("service changes not stored, tried again next pass: {}", s.error().message);
    for (Job* job : stopped) {  // undo
      job->service_stop = false;
      if (job->completing) {
        job->completing = job->cancel_requested = false;
        job->state = job->cores_released ? JobState::kSuspended : JobState::kRunning;
      } else {
        job->state = JobState::kPending;
        addPending(*job);
      }
      job->end_time = 0;
    }
    return;
  }
  for (Job* job : stopped) {
    if (!job->completing) continue;
    sendKill(*job, true);
    if (job->cores_released) sendSignal(*job, SIGCONT);  // suspended: it must run to take SIGTERM
  }
  next_job_id_ += created.size();
  for (auto& job : created) {
    service_runtime_[job.service].live.insert(job.id);
    addPending(job);
    log()->info("service={} replica job={} revision={}", job.service, job.id, job.service_revision);
    keepJob(std::move(job));
  }
  for (const auto& name : gone) {
    if (Status s = store_->deleteService(name); !s.ok()) {
      log()->error("service={} not deleted from the store: {}", name, s.error().message);
      continue;
    }
    services_.erase(name);
    service_runtime_.erase(name);
    log()->info("service={} deleted", name);
  }
  changed_cv_.notify_all();
  markDirty();
}

uint32_t Controller::assignPort() {
  std::set<uint32_t> used;
  for (uint64_t id : active_) used.insert(jobs_.at(id).port);
  // Round robin through the range rather than the lowest free port: a port something outside
  // the cluster holds (or a replica that just failed on it) is not handed out again at once.
  const uint32_t span = config_.service_port_max - config_.service_port_min + 1;
  for (uint32_t k = 0; k < span; ++k) {
    const uint32_t p = config_.service_port_min + (next_port_ + k) % span;
    if (used.count(p)) continue;
    next_port_ = (p - config_.service_port_min + 1) % span;
    return p;
  }
  return 0;
}

void Controller::handleHealth(const std::string& node_name, const proto::HealthReport& report) {
  auto it = jobs_.find(report.job_id());
  if (it == jobs_.end()) return;
  Job& job = it->second;
  if (job.attempt != report.attempt() || job.state != JobState::kRunning || job.allocation.empty() ||
      job.allocation.front().node != node_name)
    return;
  const auto before = job.health;
  job.health = report.healthy() ? Job::Health::kHealthy : Job::Health::kUnhealthy;
  job.health_detail = report.detail();
  if (before != job.health) {
    log()->info("service={} replica job={} {} ({})", job.service, job.id, report.healthy() ? "healthy" : "unhealthy",
                report.detail());
    markDirty();  // the reconciler acts on it
    changed_cv_.notify_all();
  }
}

void Controller::fillServiceInfo(const Service& s, proto::ServiceInfo& info) const {
  const ServiceRevision& rev = s.currentRevision();
  auto* spec = info.mutable_spec();
  spec->set_name(s.name);
  spec->set_replicas(s.replicas);
  spec->set_cpus(rev.cpus);
  spec->set_mem_mb(rev.mem_mb);
  spec->set_gpus(s.gpus);
  spec->set_pool(s.pool);
  spec->set_port(s.port);
  spec->set_health_cmd(s.health.cmd);
  spec->set_health_http(s.health.http_path);
  spec->set_health_interval_s(s.health.interval_s);
  spec->set_health_grace_s(s.health.grace_s);
  spec->set_health_max_failures(s.health.max_failures);
  spec->set_command(rev.command);
  for (const auto& [k, v] : rev.environment)
    if (k.rfind("LOCUS_", 0) != 0) (*spec->mutable_environment())[k] = v;
  spec->set_min_healthy(s.min_healthy);
  spec->set_max_surge(s.max_surge);
  spec->set_work_dir(s.work_dir);
  spec->set_container(s.container);
  spec->set_account(s.account);
  spec->set_revision(s.current);
  for (const auto& r : s.revisions) info.add_revisions(r.number);
  info.set_user(s.user);
  info.set_created(s.created);
  uint32_t running = 0, healthy = 0;
  bool other_revision = false;
  auto rt = service_runtime_.find(s.name);
  if (rt != service_runtime_.end()) {
    info.set_restarts(rt->second.restarts);
    for (uint64_t id : rt->second.live) {
      const Job& job = jobs_.at(id);
      if (isTerminal(job.state)) continue;
      auto* r = info.add_replicas();
      r->set_job_id(id);
      r->set_state(std::string(toString(job.state)));
      r->set_revision(job.service_revision);
      r->set_port(job.port);
      if (!job.allocation.empty()) {
        r->set_node(job.allocation.front().node);
        auto node = nodes_.find(job.allocation.front().node);
        if (node != nodes_.end()) r->set_host(hostOf(node->second->step_address));
      }
      const bool ok = replicaHealthy(job, s);
      r->set_health(!s.health.any() ? "none"
                    : job.health == Job::Health::kHealthy   ? "healthy"
                    : job.health == Job::Health::kUnhealthy ? "unhealthy"
                                                            : "unknown");
      r->set_detail(job.health_detail);
      running += job.state == JobState::kRunning ? 1 : 0;
      healthy += ok ? 1 : 0;
      other_revision = other_revision || job.service_revision != s.current;
    }
  }
  info.set_running(running);
  info.set_healthy(healthy);
  info.set_status(s.deleting        ? "deleting"
                  : other_revision  ? "updating"
                  : healthy != s.replicas || static_cast<uint32_t>(info.replicas_size()) != s.replicas ? "scaling"
                                                                                                       : "stable");
}

Result<proto::ServiceReply> Controller::manageService(const proto::ServiceRequest& req) {
  std::lock_guard lock(mu_);
  proto::ServiceReply reply;
  const std::string& op = req.op();
  const bool is_admin = req.uid() == 0 ||
                        std::find(config_.admins.begin(), config_.admins.end(), req.user()) != config_.admins.end();
  if (op == "list") {
    for (const auto& [name, s] : services_) fillServiceInfo(s, *reply.add_services());
    return reply;
  }
  auto found = services_.find(req.name());
  if (op != "create") {
    if (found == services_.end()) return notFound("no service '" + req.name() + "'");
    if (op == "show") {
      fillServiceInfo(found->second, *reply.add_services());
      return reply;
    }
    if (op == "endpoints") {
      proto::ServiceInfo info;
      fillServiceInfo(found->second, info);
      for (const auto& r : info.replicas())
        if (!r.host().empty() && r.port() > 0 && (r.health() == "healthy" || (r.health() == "none" && r.state() == "RUNNING")))
          reply.add_endpoints(r.host() + ":" + std::to_string(r.port()));
      *reply.add_services() = std::move(info);
      return reply;
    }
    if (!is_admin && found->second.uid != req.uid())
      return Error{ErrorCode::kPermissionDenied,
                   "permission denied: service " + req.name() + " belongs to " + found->second.user};
  }

  const int64_t now = unixNow();
  Service next = found == services_.end() ? Service{} : found->second;
  if (op == "create") {
    if (found != services_.end()) return invalidArgument("service '" + req.name() + "' exists already");
    const proto::ServiceSpec& spec = req.spec();
    if (!validName(req.name()))
      return invalidArgument("invalid service name '" + req.name() + "' (letters, digits, '_', '.', '-')");
    if (spec.command().empty()) return invalidArgument("a service needs a command (after --)");
    if (!spec.health_cmd().empty() && !spec.health_http().empty())
      return invalidArgument("--health-cmd and --health-http exclude each other");
    if (!spec.health_http().empty() && !spec.port())
      return invalidArgument("--health-http needs --port auto (the check goes to the replica's LOCUS_PORT)");
    if (!spec.health_http().empty() && spec.health_http().front() != '/')
      return invalidArgument("--health-http: a path starting with '/', e.g. /healthz");
    next.name = req.name();
    next.user = req.user();
    next.uid = req.uid();
    next.gid = req.gid();
    auto account = priority_->resolveAccount(req.user(), spec.account());
    if (!account.ok()) return account.error();
    next.account = *account;
    next.pool = spec.pool().empty() ? pools_.defaultName() : spec.pool();
    if (!config_.pools.empty() && !pools_.indexOf(next.pool))
      return invalidArgument("invalid partition specified: " + next.pool + " (pools: " + pools_.namesList() + ")");
    next.work_dir = spec.work_dir().empty() ? "/" : spec.work_dir();
    // Relative to the work directory, as a batch job's --container.
    next.container = spec.container();
    if (!next.container.empty() && next.container.front() != '/') next.container = next.work_dir + "/" + next.container;
    next.replicas = spec.replicas();
    next.gpus = spec.gpus();
    next.port = spec.port();
    next.health.cmd = spec.health_cmd();
    next.health.http_path = spec.health_http();
    // The CLI sends its defaults for what was not given.
    if (next.health.any() && (spec.health_interval_s() == 0 || spec.health_max_failures() == 0))
      return invalidArgument("--health-interval and --health-max-failures must be at least 1");
    next.health.interval_s = spec.health_interval_s();
    next.health.grace_s = spec.health_grace_s();
    next.health.max_failures = spec.health_max_failures();
    if (spec.min_healthy() > 0) next.min_healthy = spec.min_healthy();
    if (spec.max_surge() > 0) next.max_surge = spec.max_surge();
    ServiceRevision rev;
    rev.number = 1;
    rev.command = spec.command();
    rev.environment = {spec.environment().begin(), spec.environment().end()};
    rev.cpus = std::max(1u, spec.cpus());
    rev.mem_mb = spec.mem_mb();
    rev.created = now;
    next.revisions.push_back(rev);
    next.current = 1;
    next.created = now;
  } else if (op == "scale") {
    next.replicas = req.replicas();
  } else if (op == "delete") {
    next.deleting = true;
  } else if (op == "update") {
    ServiceRevision rev = next.currentRevision();
    rev.number = next.revisions.back().number + 1;
    rev.created = now;
    if (!req.command().empty()) rev.command = req.command();
    for (const auto& kv : req.env()) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return invalidArgument("--env: '" + kv + "' is not K=V");
      rev.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (req.has_cpus()) rev.cpus = std::max(1u, req.cpus());
    if (req.has_mem_mb()) rev.mem_mb = req.mem_mb();
    if (req.has_min_healthy()) next.min_healthy = req.min_healthy();
    if (req.has_max_surge()) next.max_surge = req.max_surge();
    const ServiceRevision& cur = next.currentRevision();
    const bool changed = rev.command != cur.command || rev.environment != cur.environment || rev.cpus != cur.cpus ||
                         rev.mem_mb != cur.mem_mb;
    if (changed) {
      next.revisions.push_back(rev);
      next.current = rev.number;
    } else if (!req.has_min_healthy() && !req.has_max_surge()) {
      return invalidArgument("nothing to update: give --env, --cpus, --mem, -- COMMAND, --min-healthy or --max-surge");
    }
  } else if (op == "rollback") {
    uint32_t target = req.to_revision();
    if (target == 0) {
      // The revision before the current one.
      for (const auto& r : next.revisions)
        if (r.number < next.current) target = r.number;
      if (target == 0) return invalidArgument("service '" + next.name + "' has no revision before " + std::to_string(next.current));
    }
    if (std::none_of(next.revisions.begin(), next.revisions.end(), [&](const ServiceRevision& r) { return r.number == target; }))
      return notFound("service '" + next.name + "' has no revision " + std::to_string(target));
    if (target == next.current) return invalidArgument("revision " + std::to_string(target) + " is the current one");
    next.current = target;
  } else {
    return invalidArgument("unknown service operation '" + op + "'");
  }
  if (next.min_healthy < 0 || next.min_healthy > 1 || next.max_surge < 0 || next.max_surge > 1)
    return invalidArgument("--min-healthy and --max-surge are fractions between 0.0 and 1.0");
  if (next.replicas > 0 && minHealthy(next) >= next.replicas && maxTotal(next) == next.replicas)
    return invalidArgument("--min-healthy 1.0 with --max-surge 0 leaves a rolling update no room to move");
  if (Status s = store_->saveService(next.name, serviceToJson(next)); !s.ok()) return s.error();
  services_[next.name] = next;
  service_runtime_[next.name];
  log()->info("service={} {} by {} (replicas={} revision={})", next.name, op, req.user(), next.replicas, next.current);
  markDirty();
  fillServiceInfo(next, *reply.add_services());
  return reply;
}

}  // namespace locus::controller
