#include "controller/controller.hpp"

#include <algorithm>
#include <filesystem>

#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/job_environment.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "proto/convert.hpp"
#include "proto/locus.pb.h"

#include <nlohmann/json.hpp>

namespace locus::controller {
namespace {

auto log() {
  static auto l = logger("controller");
  return l;
}

// Per-node memory a job asks for: --mem wins; --mem-per-cpu scales with the cores it gets there.
uint64_t memPerNode(const JobSpec& spec, uint32_t cores_on_node) {
  if (spec.mem_mb > 0) return spec.mem_mb;
  return spec.mem_per_cpu_mb * cores_on_node;
}

scheduler::JobRequest toRequest(const Job& job) {
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

}  // namespace

uint32_t Job::effectiveNtasks() const {
  if (spec.ntasks > 0) return spec.ntasks;
  uint32_t per_node = spec.ntasks_per_node > 0 ? spec.ntasks_per_node : 1;
  return std::max<uint32_t>(1, spec.nodes) * per_node;
}

Result<std::unique_ptr<Controller>> Controller::create(const Config& config) {
  if (config.state_dir.empty()) return invalidArgument("no state directory (--state DIR)");
  std::unique_ptr<Controller> c(new Controller(config));
  auto engine = PriorityEngine::fromConfig(config);
  if (!engine.ok()) return engine.error();
  c->priority_ = std::make_unique<PriorityEngine>(std::move(*engine));
  auto tree = locality::buildSwitchTree(config.switches, config.configuredNodeNames());
  if (!tree.ok()) return invalidArgument("locus.toml: " + tree.error().message);
  c->switches_ = std::move(*tree);
  auto store = Store::open(config.state_dir);
  if (!store.ok()) return store.error();
  c->store_ = std::move(*store);
  Status s = c->load();
  if (!s.ok()) return s.error();
  return c;
}

Controller::~Controller() { stop(); }

Status Controller::load() {
  auto nodes = store_->loadNodes();
  if (!nodes.ok()) return nodes.error();
  auto now = std::chrono::steady_clock::now();
  for (auto& stored : *nodes) {
    proto::Topology topo;
    if (!topo.ParseFromString(stored.topology))
      return internalError("corrupt topology of node " + stored.name + " in the store");
    auto node = std::make_unique<Node>(stored.name);
    node->setTopology(proto::fromProto(topo));
    node->boot_id = stored.boot_id;
    node->last_seen = now;  // it gets a full timeout to reconnect
    nodes_[stored.name] = std::move(node);
  }
  for (const auto& group : config_.nodes)
    for (const auto& name : group.names)
      if (auto it = nodes_.find(name); it != nodes_.end()) it->second->features = group.features;

  // Accounts changed with `locus account` since the config was written, replayed in order.
  auto changes = store_->loadAccountChanges();
  if (!changes.ok()) return changes.error();
  for (const auto& text : *changes) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return internalError("corrupt account change in the store: " + text);
    PriorityEngine::AccountChange change{j.value("op", ""), j.value("name", ""), j.value("parent", ""),
                                         j.value("shares", 0u), j.value("users", std::vector<std::string>{}),
                                         j.value("remove_users", std::vector<std::string>{})};
    if (Status s = priority_->applyAccountChange(change); !s.ok())
      log()->warn("stored account change no longer applies (config changed?): {}: {}", text, s.error().message);
  }

  auto usage = store_->loadUsage();
  if (!usage.ok()) return usage.error();
  for (const auto& [assoc, value, as_of] : *usage) priority_->restoreUsage(assoc, {value, as_of});

  auto jobs = store_->loadJobs();
  if (!jobs.ok()) return jobs.error();
  for (auto& job : *jobs) {
    next_job_id_ = std::max(next_job_id_, job.id + 1);
    if (job.state == JobState::kPending) addPending(job);
    if (job.state == JobState::kRunning || job.completing) {
      active_.insert(job.id);
      for (const auto& a : job.allocation) {
        Node* node = findNode(a.node);
        LOCUS_CHECK(node) << "job " << job.id << " allocated on unknown node " << a.node;
        node->allocate(a.cores, a.mem_mb);
      }
    }
    jobs_.emplace(job.id, std::move(job));
  }
  log()->info("loaded jobs={} pending={} active={} nodes={} next_id={}", jobs_.size(),
              pending_.size(), active_.size(), nodes_.size(), next_job_id_);
  return {};
}

void Controller::start() {
  loop_thread_ = std::thread([this] { loop(); });
}

void Controller::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !loop_thread_.joinable()) return;
    stopping_ = true;
    for (auto& [name, node] : nodes_)
      if (node->channel) node->channel->close();
  }
  loop_cv_.notify_all();
  changed_cv_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
}

Node* Controller::findNode(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

void Controller::addPending(const Job& job) {
  pending_[job.id] = toRequest(job);
  if (!job.spec.dependency.empty()) {
    auto dep = parseDependency(job.spec.dependency);
    if (dep.ok()) dependencies_[job.id] = std::move(*dep);  // validated at submit
  }
}

std::vector<uint64_t> Controller::dependencyTargets(uint64_t id) const {
  std::vector<uint64_t> out;
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return out;
  if (it->second.array_job_id == id) {
    for (auto jt = it; jt != jobs_.end() && jt->second.array_job_id == id; ++jt) out.push_back(jt->first);
  } else {
    out.push_back(id);
  }
  return out;
}

DependencyVerdict Controller::dependencyVerdict(const Job& job, const Dependency& dep) const {
  auto term_verdict = [&](const DependencyTerm& term) {
    if (term.kind == DependencyTerm::Kind::kSingleton) {
      // Any earlier job of the same name and user still pending or running makes it wait.
      for (const auto& [id, other] : jobs_) {
        if (id >= job.id) break;
        if (other.user == job.user && other.spec.name == job.spec.name && !isTerminal(other.state))
          return DependencyVerdict::kWaiting;
      }
      return DependencyVerdict::kSatisfied;
    }
    DependencyVerdict v = DependencyVerdict::kSatisfied;
    for (uint64_t id : term.job_ids) {
      auto targets = dependencyTargets(id);
      if (targets.empty()) return DependencyVerdict::kNever;  // purged or never existed
      for (uint64_t t : targets) {
        const Job& other = jobs_.at(t);
        auto one = evaluateTerm(term.kind, other.state, other.start_time > 0);
        if (one == DependencyVerdict::kNever) return DependencyVerdict::kNever;
        if (one == DependencyVerdict::kWaiting) v = DependencyVerdict::kWaiting;
      }
    }
    return v;
  };
  if (dep.any) {
    bool all_never = true;
    for (const auto& term : dep.terms) {
      auto v = term_verdict(term);
      if (v == DependencyVerdict::kSatisfied) return v;
      if (v != DependencyVerdict::kNever) all_never = false;
    }
    return all_never ? DependencyVerdict::kNever : DependencyVerdict::kWaiting;
  }
  DependencyVerdict v = DependencyVerdict::kSatisfied;
  for (const auto& term : dep.terms) {
    auto one = term_verdict(term);
    if (one == DependencyVerdict::kNever) return one;
    if (one == DependencyVerdict::kWaiting) v = one;
  }
  return v;
}

void Controller::markDirty() {
  dirty_ = true;
  loop_cv_.notify_one();
}

Status Controller::persist(const std::vector<const Job*>& jobs) {
  if (jobs.empty()) return {};
  Status s = store_->begin();
  if (!s.ok()) return s;
  for (const Job* job : jobs) {
    s = store_->saveJob(*job);
    if (!s.ok()) {
      store_->rollback();
      return s;
    }
  }
  // Usage charged by these transitions goes in the same transaction.
  for (const auto& [assoc, entry] : priority_->takeDirtyUsage()) {
    s = store_->saveUsage(assoc, entry.value, entry.as_of_s);
    if (!s.ok()) {
      store_->rollback();
      return s;
    }
  }
  s = store_->commit();
  if (!s.ok()) {
    store_->rollback();
    return s;
  }
  // Every terminal transition is stored here, so this is where waiters learn of them.
  for (const Job* job : jobs)
    if (isTerminal(job->state)) ended_log_.push_back(job->id);
  return s;
}

// ------------------------------------------------------------------ client API

Result<proto::SubmitJobReply> Controller::submit(const proto::SubmitJobRequest& request) {
  JobSpec spec = proto::fromProto(request.spec());
  if (spec.script.empty()) return invalidArgument("empty job script");
  if (spec.cpus_per_task == 0) spec.cpus_per_task = 1;
  if (spec.ntasks > 0 && spec.nodes > spec.ntasks)
    return invalidArgument("--ntasks (" + std::to_string(spec.ntasks) + ") is smaller than --nodes (" +
                           std::to_string(spec.nodes) + ")");
  if (spec.work_dir.empty() || spec.work_dir[0] != '/')
    return invalidArgument("work directory must be an absolute path");
  ArraySpec array;
  if (!spec.array_spec.empty()) {
    auto parsed = parseArraySpec(spec.array_spec);
    if (!parsed.ok()) return invalidArgument("--array: " + parsed.error().message);
    array = std::move(*parsed);
  }
  if (spec.time_limit_s == 0) spec.time_limit_s = config_.default_time_limit_s;

  std::optional<Dependency> dependency;
  if (!spec.dependency.empty()) {
    auto parsed = parseDependency(spec.dependency);
    if (!parsed.ok()) return parsed.error();
    dependency = std::move(*parsed);
  }

  std::lock_guard lock(mu_);
  if (stopping_) return unavailable("controller is shutting down");
  if (dependency)
    for (const auto& term : dependency->terms)
      for (uint64_t id : term.job_ids)
        if (!jobs_.count(id))
          return invalidArgument("--dependency: job " + std::to_string(id) + " not found");
  auto account = priority_->resolveAccount(request.user(), spec.account);
  if (!account.ok()) return account.error();
  spec.account = *account;
  auto qos = priority_->resolveQos(spec.qos);
  if (!qos.ok()) return qos.error();
  spec.qos = *qos;
  if (const policy::QosLevel* level = priority_->qos(spec.qos); level && level->max_wall_s) {
    // The QoS's wall limit is also its jobs' default time limit; a longer request never runs.
    if (spec.time_limit_s == 0) spec.time_limit_s = *level->max_wall_s;
    if (spec.time_limit_s > *level->max_wall_s)
      return invalidArgument("--time " + formatDuration(spec.time_limit_s) + " exceeds QoS " + spec.qos +
                             "'s limit of " + formatDuration(*level->max_wall_s));
  }
  Job proto_job;
  proto_job.spec = spec;
  // Refuse what no node set could ever hold, judged against the nodes the controller knows.
  if (!nodes_.empty()) {
    std::vector<scheduler::NodeState> totals;
    for (const auto& [name, node] : nodes_) {
      scheduler::NodeState n;
      n.name = name;
      n.total_cores = node->cores();
      n.total_mem_mb = node->memMb();
      totals.push_back(std::move(n));
    }
    Status fits = scheduler::checkSatisfiable(toRequest(proto_job), totals);
    if (!fits.ok()) return fits.error();
  }

  int64_t now = unixNow();
  size_t count = array.indices.empty() ? 1 : array.indices.size();
  uint64_t first_id = next_job_id_;
  std::vector<Job> created;
  created.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Job job;
    job.id = first_id + i;
    job.spec = spec;
    job.user = request.user();
    job.uid = request.uid();
    job.gid = request.gid();
    job.submit_time = now;
    job.reason = "Priority";
    job.held = spec.hold;
    if (!array.indices.empty()) {
      job.array_job_id = first_id;
      job.array_task_id = array.indices[i];
      job.array_max_running = array.max_running;
      if (i > 0) {
        // The array's first task holds the script and the environment, stored once.
        job.spec.script.clear();
        job.spec.environment.clear();
      }
    }
    created.push_back(std::move(job));
  }
  std::vector<const Job*> to_store;
  for (const auto& j : created) to_store.push_back(&j);
  Status s = persist(to_store);
  if (!s.ok()) return unavailable("job not stored: " + s.error().message);

  next_job_id_ = first_id + count;
  for (auto& job : created) {
    addPending(job);
    jobs_.emplace(job.id, std::move(job));
  }
  markDirty();
  log()->info("submit job={} tasks={} user={}", first_id, count, request.user());
  proto::SubmitJobReply reply;
  reply.set_job_id(first_id);
  reply.set_tasks(static_cast<uint32_t>(count));
  for (const auto& w : spec.warnings) reply.add_warnings(w);
  return reply;
}

// Array tasks after the first share its script text and environment, stored once.
static const Job& arrayHead(const std::map<uint64_t, Job>& jobs, const Job& job) {
  if (!job.isArrayTask() || job.id == job.array_job_id) return job;
  auto it = jobs.find(job.array_job_id);
  return it == jobs.end() ? job : it->second;
}
static const std::string& scriptOf(const std::map<uint64_t, Job>& jobs, const Job& job) {
  return arrayHead(jobs, job).spec.script;
}

proto::JobInfo Controller::toInfo(const Job& job, bool with_spec) const {
  proto::JobInfo info;
  info.set_id(job.id);
  info.set_name(job.spec.name);
  info.set_user(job.user);
  info.set_uid(job.uid);
  info.set_gid(job.gid);
  info.set_state(std::string(toString(job.state)));
  info.set_reason(job.reason);
  info.set_exit_code(job.exit_code);
  info.set_term_signal(job.term_signal);
  for (const auto& a : job.allocation) {
    info.add_nodes(a.node);
    auto* pa = info.add_allocation();
    pa->set_node(a.node);
    for (uint32_t c : a.cores) pa->add_cores(c);
    pa->set_mem_mb(a.mem_mb);
    pa->set_ntasks(a.ntasks);
  }
  info.set_ntasks(job.effectiveNtasks());
  info.set_nodes_requested(job.spec.nodes);
  info.set_cpus_per_task(job.spec.cpus_per_task);
  uint64_t mem = job.spec.mem_mb;
  if (!job.allocation.empty()) mem = job.allocation.front().mem_mb;
  info.set_mem_mb(mem);
  info.set_time_limit_s(job.spec.time_limit_s);
  info.set_submit_time(job.submit_time);
  info.set_start_time(job.start_time);
  info.set_end_time(job.end_time);
  info.set_attempt(job.attempt);
  info.set_array_job_id(job.array_job_id);
  info.set_array_task_id(job.array_task_id ? static_cast<int64_t>(*job.array_task_id) : -1);
  info.set_stdout(job.stdout_path);
  info.set_stderr(job.stderr_path);
  info.set_work_dir(job.spec.work_dir);
  info.set_cpu_time_s(job.cpu_time_s);
  info.set_expected_start_time(job.expected_start);
  info.set_partition(job.spec.partition);
  info.set_account(job.spec.account);
  info.set_qos(job.spec.qos);
  info.set_command(job.spec.script_path.empty() ? "wrap" : job.spec.script_path);
  info.set_nodes_min(job.spec.nodes);
  info.set_max_rss_kb(job.max_rss_kb);
  if (with_spec) {
    proto::toProto(job.spec, *info.mutable_spec());
    info.mutable_spec()->set_script(scriptOf(jobs_, job));
  }
  return info;
}

Result<proto::JobInfo> Controller::getJob(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return notFound("job " + std::to_string(id) + " not found");
  return toInfo(it->second, true);
}

proto::ListJobsReply Controller::listJobs(const proto::ListJobsRequest& request) {
  std::set<JobState> states;
  bool all = false;
  for (const auto& s : request.states()) {
    if (s == "ALL" || s == "all") all = true;
    else if (auto st = jobStateFromString(s)) states.insert(*st);
  }
  if (states.empty() && !all) states = {JobState::kPending, JobState::kRunning};
  std::set<uint64_t> ids(request.job_ids().begin(), request.job_ids().end());

  std::lock_guard lock(mu_);
  proto::ListJobsReply reply;
  auto consider = [&](const Job& job) {
    if (!all && !states.count(job.state)) return;
    if (!request.user().empty() && job.user != request.user()) return;
    *reply.add_jobs() = toInfo(job, false);
  };
  if (!ids.empty()) {
    for (uint64_t id : ids) {
      auto it = jobs_.find(id);
      if (it != jobs_.end()) consider(it->second);
    }
  } else if (!all && std::all_of(states.begin(), states.end(), [](JobState s) {
               return s == JobState::kPending || s == JobState::kRunning;
             })) {
    // The common case (the live queue) walks only live jobs, not the whole history.
    std::set<uint64_t> live(active_.begin(), active_.end());
    for (const auto& [id, request] : pending_) live.insert(id);
    for (uint64_t id : live) consider(jobs_.at(id));
  } else {
    for (const auto& [id, job] : jobs_) consider(job);
  }
  return reply;
}

proto::CancelJobReply Controller::cancel(const proto::CancelJobRequest& request) {
  std::lock_guard lock(mu_);
  proto::CancelJobReply reply;
  std::vector<Job*> changed;
  int64_t now = unixNow();
  bool is_admin = request.uid() == 0 ||
                  std::find(config_.admins.begin(), config_.admins.end(), request.user()) !=
                      config_.admins.end();
  for (uint64_t id : request.job_ids()) {
    // An array job id cancels every task of the array.
    std::vector<Job*> targets;
    auto it = jobs_.find(id);
    if (it != jobs_.end() && it->second.array_job_id == id) {
      for (auto jt = it; jt != jobs_.end() && jt->second.array_job_id == id; ++jt)
        targets.push_back(&jt->second);
    } else if (it != jobs_.end()) {
      targets.push_back(&it->second);
    }
    auto* result = reply.add_results();
    result->set_job_id(id);
    if (targets.empty()) {
      result->set_message("job " + std::to_string(id) + " not found");
      continue;
    }
    if (!is_admin && targets.front()->uid != request.uid()) {
      result->set_message("permission denied: job " + std::to_string(id) + " belongs to " +
                          targets.front()->user);
      continue;
    }
    bool any = false;
    for (Job* job : targets) {
      if (isTerminal(job->state)) continue;
      any = true;
      if (job->state == JobState::kPending) {
        pending_.erase(job->id);
        dependencies_.erase(job->id);
      } else {
        job->completing = true;
        job->cancel_requested = true;
      }
      job->state = JobState::kCancelled;
      job->reason = "Cancelled";
      job->end_time = now;
      changed.push_back(job);
    }
    result->set_ok(any);
    if (!any) result->set_message("job " + std::to_string(id) + " has already finished");
  }
  std::vector<const Job*> to_store(changed.begin(), changed.end());
  Status s = persist(to_store);
  if (!s.ok()) {
    // Nothing was stored: undo in memory and report failure for all.
    log()->error("cancel not stored: {}", s.error().message);
    reply.clear_results();
    for (uint64_t id : request.job_ids()) {
      auto* r = reply.add_results();
      r->set_job_id(id);
      r->set_message("not stored: " + s.error().message);
    }
    // Reload from the store on failure would be heavier; the in-memory change is reverted.
    for (Job* job : changed) {
      if (job->completing) {
        job->completing = false;
        job->cancel_requested = false;
        job->state = JobState::kRunning;
      } else {
        job->state = JobState::kPending;
        addPending(*job);
      }
      job->end_time = 0;
    }
    return reply;
  }
  for (Job* job : changed) {
    if (!job->completing) continue;
    Node* first = findNode(job->allocation.front().node);
    if (first && first->state == NodeState::kUp && first->channel) {
      sendKill(*job, true);
    } else {
      releaseAllocation(*job);  // its node is gone: nothing left to wait for
    }
  }
  if (!changed.empty()) {
    changed_cv_.notify_all();
    markDirty();
  }
  return reply;
}

proto::ListNodesReply Controller::listNodes() {
  std::lock_guard lock(mu_);
  proto::ListNodesReply reply;
  for (const auto& [name, node] : nodes_) {
    auto* n = reply.add_nodes();
    n->set_name(name);
    n->set_state(toString(node->state));
    n->set_cpus(node->cores());
    n->set_cpus_alloc(node->coresAllocated());
    n->set_mem_mb(node->memMb());
    n->set_mem_alloc_mb(node->memAllocatedMb());
    n->set_numa_domains(static_cast<uint32_t>(node->topology().numa.size()));
    proto::Topology topo;
    proto::toProto(node->topology(), topo);
    *n->mutable_gpus() = topo.gpus();
    *n->mutable_topology() = topo;
    for (const auto& f : node->features) n->add_features(f);
  }
  for (const auto& sw : switches_.switches) {
    auto* s = reply.add_switches();
    s->set_name(sw.name);
    s->set_parent(sw.parent == locality::SwitchTree::kNone ? -1 : static_cast<int32_t>(sw.parent));
    for (const auto& n : sw.nodes) s->add_nodes(n);
  }
  return reply;
}

Result<std::vector<uint64_t>> Controller::waitTargets(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> out;
  for (uint64_t id : ids) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return notFound("job " + std::to_string(id) + " not found");
    if (it->second.array_job_id == id) {
      for (auto jt = it; jt != jobs_.end() && jt->second.array_job_id == id; ++jt)
        out.push_back(jt->first);
    } else {
      out.push_back(id);
    }
  }
  return out;
}

std::vector<proto::JobInfo> Controller::waitSome(std::set<uint64_t>& pending, size_t& cursor,
                                                 std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  std::vector<proto::JobInfo> done;
  auto take = [&](uint64_t id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    const Job& job = jobs_.at(id);
    // A job requeued since its end was logged is pending again: not done.
    if (!isTerminal(job.state)) return;
    done.push_back(toInfo(job, false));
    pending.erase(it);
  };
  if (cursor == kWaitFromScratch) {
    // First call: jobs that ended before the wait began.
    std::vector<uint64_t> ids(pending.begin(), pending.end());
    for (uint64_t id : ids) take(id);
    cursor = ended_log_.size();
  }
  while (true) {
    for (; cursor < ended_log_.size(); ++cursor) take(ended_log_[cursor]);
    if (!done.empty() || pending.empty() || stopping_) return done;
    if (changed_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; cursor < ended_log_.size(); ++cursor) take(ended_log_[cursor]);
      return done;
    }
  }
}

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
    for (const auto& group : config_.nodes)
      if (std::find(group.names.begin(), group.names.end(), msg.name()) != group.names.end())
        node->features = group.features;
  }
  if (node->channel && node->channel != channel) node->channel->close();
  if (!node->setTopology(topology) && node->cores() != topology.coreCount())
    log()->warn("node={} re-registered with different hardware while busy; keeping the old view",
                msg.name());
  bool daemon_restarted = node->boot_id != msg.boot_id();
  bool was_down = node->state == NodeState::kDown;
  node->boot_id = msg.boot_id();
  node->channel = std::move(channel);
  node->state = NodeState::kUp;
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
    std::pair<uint64_t, uint32_t> key{job.id, job.attempt};
    if (running.count(key)) {
      if (job.completing) sendKill(job, job.cancel_requested);  // ended here while it ran there
      continue;
    }
    if (reported.count(key)) continue;
    if (job.completing) {
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
    if (job.state == JobState::kRunning) {
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
                 (it->second.state == JobState::kRunning || it->second.completing);
    if (!owned) {
      proto::ControllerToNode cmd;
      cmd.mutable_kill()->set_job_id(job_id);
      cmd.mutable_kill()->set_attempt(attempt);
      node->channel->send(cmd);
    }
  }
  proto::ControllerToNode hello;
  hello.mutable_registered()->set_heartbeat_interval_ms(config_.heartbeat_interval.count());
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
    case proto::NodeToController::kExited:
      handleExit(node_name, msg.exited());
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
  if (job.state == JobState::kRunning || job.completing) {
    job.cpu_time_s = exited.cpu_time_s();
    job.max_rss_kb = exited.max_rss_kb();
  }
  if (job.state == JobState::kRunning && job.requeue_requested) {
    // scontrol requeue: this attempt is over, the job waits for its next one.
    releaseAllocation(job);
    job.requeue_requested = false;
    job.state = JobState::kPending;
    job.attempt += 1;
    job.reason = "Requeued";
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
  uint32_t cores = 0;
  uint64_t mem = 0;
  for (const auto& a : job.allocation) {
    if (Node* node = findNode(a.node)) node->release(a.cores, a.mem_mb);
    cores += static_cast<uint32_t>(a.cores.size());
    mem += a.mem_mb;
  }
  // Usage is charged when the resources come back (not while the job runs).
  if (charge && job.start_time > 0 && active_.count(job.id)) {
    int64_t now = unixNow();
    priority_->charge(job.spec.account.empty() ? "root" : job.spec.account, job.user, cores, mem,
                      now - job.start_time, now);
  }
  job.completing = false;
  active_.erase(job.id);
}

void Controller::sendLaunch(const Job& job) {
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
  const Job& head = arrayHead(jobs_, job);
  std::map<std::string, std::string> env;
  if (&head == &job) {
    env = jobEnvironment(job);
  } else {
    Job view = job;  // a later array task: the head's exported environment, its own variables
    view.spec.environment = head.spec.environment;
    env = jobEnvironment(view);
  }
  for (const auto& [k, v] : env) (*launch->mutable_environment())[k] = v;
  for (uint32_t c : job.allocation.front().cores) launch->add_cores(c);
  launch->set_mem_mb(job.allocation.front().mem_mb);
  launch->set_time_limit_s(job.spec.time_limit_s);
  launch->set_kill_grace_s(config_.kill_grace.count());
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

// ------------------------------------------------------------------ scheduling loop

void Controller::loop() {
  std::unique_lock lock(mu_);
  dirty_ = true;
  while (!stopping_) {
    loop_cv_.wait_for(lock, config_.scheduler_interval, [this] { return dirty_ || stopping_; });
    if (stopping_) break;
    dirty_ = false;
    checkNodeTimeouts();
    schedule();
  }
}

void Controller::checkNodeTimeouts() {
  auto now = std::chrono::steady_clock::now();
  for (auto& [name, node] : nodes_) {
    if (node->state == NodeState::kDown) continue;
    if (now - node->last_seen < config_.node_timeout) continue;
    log()->warn("node={} DOWN: silent for more than {}s", name, config_.node_timeout.count());
    node->state = NodeState::kDown;
    failJobsOnNode(*node);
  }
}

void Controller::failJobsOnNode(Node& node) {
  std::vector<Job*> affected;
  for (uint64_t id : active_) {
    Job& job = jobs_.at(id);
    for (const auto& a : job.allocation)
      if (a.node == node.name()) {
        affected.push_back(&job);
        break;
      }
  }
  int64_t now = unixNow();
  std::vector<const Job*> changed;
  for (Job* job : affected) {
    bool script_elsewhere = job->allocation.front().node != node.name();
    if (job->state == JobState::kRunning && script_elsewhere) sendKill(*job, false);
    if (job->state == JobState::kRunning) endOnNodeFailure(*job, "NodeFail " + node.name(), now);
    else releaseAllocation(*job);
    changed.push_back(job);
  }
  if (Status s = persist(changed); !s.ok()) log()->error("node failure not stored: {}", s.error().message);
  if (!changed.empty()) changed_cv_.notify_all();
}

void Controller::endOnNodeFailure(Job& job, const std::string& reason, int64_t now) {
  releaseAllocation(job);
  if (job.spec.requeue) {
    job.state = JobState::kPending;
    job.attempt += 1;
    job.reason = reason + ", requeued";
    job.allocation.clear();
    job.start_time = 0;
    job.stdout_path.clear();
    job.stderr_path.clear();
    addPending(job);
  } else {
    job.state = JobState::kNodeFail;
    job.reason = reason;
    job.end_time = now;
  }
}

void Controller::schedule() {
  if (pending_.empty()) return;
  scheduler::Snapshot snap;
  snap.now = unixNow();
  std::vector<Node*> index;
  for (auto& [name, node] : nodes_) {
    scheduler::NodeState n;
    n.name = name;
    n.schedulable = node->state == NodeState::kUp && node->channel != nullptr;
    n.total_cores = node->cores();
    n.total_mem_mb = node->memMb();
    n.free_cores_by_numa = node->freeCoresByNuma();
    n.free_mem_mb = node->memMb() - node->memAllocatedMb();
    snap.nodes.push_back(std::move(n));
    index.push_back(node.get());
  }
  std::map<uint64_t, uint32_t> array_running;
  for (uint64_t id : active_) {
    const Job& job = jobs_.at(id);
    if (job.isArrayTask()) array_running[job.array_job_id]++;
  }
  snap.array_running.assign(array_running.begin(), array_running.end());
  // What the backfill planner needs: when each running job's resources come back (its time limit).
  snap.policy = *scheduler::parsePolicy(config_.scheduler_policy);
  snap.reserve_depth = config_.reserve_depth;
  std::map<std::string, uint32_t> node_index;
  for (uint32_t i = 0; i < index.size(); ++i) node_index[index[i]->name()] = i;
  for (uint64_t id : active_) {
    const Job& job = jobs_.at(id);
    scheduler::RunningJob r;
    r.id = id;
    // A completing job is on its way out; unlimited jobs never end in the plan.
    if (job.completing) r.expected_end = snap.now + 1;
    else if (job.spec.time_limit_s > 0) r.expected_end = job.start_time + job.spec.time_limit_s;
    for (const auto& a : job.allocation)
      r.use.push_back({node_index.at(a.node), static_cast<uint32_t>(a.cores.size()), a.mem_mb});
    snap.running.push_back(std::move(r));
  }
  // Priorities move with age and with usage: recomputed for every pending job each pass.
  uint32_t cluster_cores = refreshPriorities(snap.now);
  for (auto& [id, request] : pending_) {
    Job& job = jobs_.at(id);
    job.priority = priority_->priorityOf(job.spec.account.empty() ? "root" : job.spec.account, job.user,
                                         job.spec.qos, job.submit_time, request.ntasks * request.cpus_per_task,
                                         cluster_cores, snap.now)
                       .total;
    request.priority = job.priority;
  }
  snap.pending.reserve(pending_.size());
  std::vector<Job*> never;
  // QoS limits on running jobs and cores per user and per account: what runs counts, and so does
  // each earlier-priority job admitted to this pass (conservative: one that then finds no room
  // still holds its share of the limit until the next pass).
  std::map<std::pair<std::string, std::string>, policy::RunningUsage> qos_user, qos_account;
  if (priority_->hasQos()) {
    for (uint64_t id : active_) {
      const Job& job = jobs_.at(id);
      uint32_t cores = 0;
      for (const auto& a : job.allocation) cores += static_cast<uint32_t>(a.cores.size());
      for (auto* usage : {&qos_user[{job.spec.qos, job.user}], &qos_account[{job.spec.qos, job.spec.account}]}) {
        usage->running_jobs += 1;
        usage->cores += cores;
      }
    }
  }
  std::vector<std::pair<const uint64_t, scheduler::JobRequest>*> order;
  order.reserve(pending_.size());
  for (auto& entry : pending_) order.push_back(&entry);
  if (priority_->hasQos())
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
      if (a->second.priority != b->second.priority) return a->second.priority > b->second.priority;
      if (a->second.submit_time != b->second.submit_time) return a->second.submit_time < b->second.submit_time;
      return a->first < b->first;
    });
  for (auto* entry : order) {
    const uint64_t id = entry->first;
    const scheduler::JobRequest& request = entry->second;
    if (Job& held = jobs_.at(id); held.held) {
      held.reason = "JobHeldUser";
      held.expected_start = 0;
      continue;
    }
    if (auto dep = dependencies_.find(id); dep != dependencies_.end()) {
      Job& job = jobs_.at(id);
      auto verdict = dependencyVerdict(job, dep->second);
      if (verdict == DependencyVerdict::kNever) never.push_back(&job);
      if (verdict != DependencyVerdict::kSatisfied) {
        job.reason = "Dependency";
        job.expected_start = 0;
        continue;
      }
    }
    if (priority_->hasQos()) {
      Job& job = jobs_.at(id);
      if (const policy::QosLevel* level = priority_->qos(job.spec.qos)) {
        policy::QosRequest want{request.ntasks * request.cpus_per_task, 0, job.spec.time_limit_s};
        auto& user = qos_user[{job.spec.qos, job.user}];
        auto& account = qos_account[{job.spec.qos, job.spec.account}];
        auto verdict = policy::checkLimits(*level, user, account, want);
        if (!verdict.ok) {
          job.reason = std::string(verdict.reason);
          job.expected_start = 0;
          continue;
        }
        for (auto* usage : {&user, &account}) {
          usage->running_jobs += 1;
          usage->cores += want.cores;
        }
      }
    }
    snap.pending.push_back(request);
  }
  // Dependencies that can no longer hold cancel their job (Slurm's kill_invalid_depend).
  if (!never.empty()) {
    for (Job* job : never) {
      job->state = JobState::kCancelled;
      job->reason = "DependencyNeverSatisfied";
      job->end_time = snap.now;
    }
    std::vector<const Job*> to_store(never.begin(), never.end());
    if (Status s = persist(to_store); s.ok()) {
      for (Job* job : never) {
        pending_.erase(job->id);
        dependencies_.erase(job->id);
        log()->info("job={} cancelled: dependency never satisfied", job->id);
      }
      changed_cv_.notify_all();
      markDirty();  // a cancel may satisfy someone's afterany/afternotok
    } else {
      for (Job* job : never) {
        job->state = JobState::kPending;
        job->end_time = 0;
      }
    }
  }

  auto decisions = scheduler::schedulePass(snap);

  std::vector<Job*> started;
  for (const auto& d : decisions) {
    Job& job = jobs_.at(d.job_id);
    if (d.kind != scheduler::Decision::Kind::kStart) {
      // Not transitions: kept in memory only.
      job.reason = d.reason;
      job.expected_start = d.kind == scheduler::Decision::Kind::kReserve ? d.start_at : 0;
      continue;
    }
    job.expected_start = 0;
    job.state = JobState::kRunning;
    job.reason.clear();
    job.start_time = snap.now;
    job.allocation.clear();
    for (const auto& a : d.allocation) {
      Node* node = index.at(a.node);
      node->allocate(a.cores, a.mem_mb);
      job.allocation.push_back(AllocatedNode{node->name(), a.cores, a.mem_mb, a.ntasks});
    }
    PatternContext ctx;
    ctx.job_id = job.id;
    ctx.array_job_id = job.array_job_id;
    ctx.array_task_id = job.array_task_id;
    ctx.node = job.allocation.front().node;
    ctx.user = job.user;
    ctx.job_name = job.spec.name;
    std::string out = job.spec.stdout_path.empty()
                          ? (job.isArrayTask() ? "locus-%A_%a.out" : "locus-%j.out")
                          : job.spec.stdout_path;
    auto absolute = [&](std::string p) { return p.front() == '/' ? p : job.spec.work_dir + "/" + p; };
    job.stdout_path = absolute(expandOutputPattern(out, ctx));
    job.stderr_path = job.spec.stderr_path.empty() ? job.stdout_path
                                                   : absolute(expandOutputPattern(job.spec.stderr_path, ctx));
    pending_.erase(job.id);
    dependencies_.erase(job.id);
    active_.insert(job.id);
    started.push_back(&job);
  }
  std::vector<const Job*> to_store(started.begin(), started.end());
  Status s = persist(to_store);
  if (!s.ok()) {
    // Undo: the jobs stay pending and the next pass tries again.
    log()->error("pass not stored, {} starts undone: {}", started.size(), s.error().message);
    for (Job* job : started) {
      releaseAllocation(*job, /*charge=*/false);
      job->state = JobState::kPending;
      job->allocation.clear();
      job->start_time = 0;
      addPending(*job);
    }
    return;
  }
  for (Job* job : started) sendLaunch(*job);
  if (!started.empty()) {
    log()->debug("pass started={} pending={}", started.size(), pending_.size());
    changed_cv_.notify_all();
  }
}

uint32_t Controller::refreshPriorities(int64_t now) {
  uint32_t cluster_cores = 0;
  uint64_t cluster_mem = 0;
  for (const auto& [name, node] : nodes_) {
    cluster_cores += node->cores();
    cluster_mem += node->memMb();
  }
  std::vector<PriorityEngine::Holding> holdings;
  for (uint64_t id : active_) {
    const Job& job = jobs_.at(id);
    PriorityEngine::Holding h{job.spec.account.empty() ? "root" : job.spec.account};
    for (const auto& a : job.allocation) {
      h.cores += static_cast<uint32_t>(a.cores.size());
      h.mem_mb += a.mem_mb;
    }
    holdings.push_back(std::move(h));
  }
  priority_->refresh(now, policy::Tres{cluster_cores, static_cast<int64_t>(cluster_mem), 0}, holdings);
  return cluster_cores;
}

proto::SharesReply Controller::shares() {
  std::lock_guard lock(mu_);
  refreshPriorities(unixNow());
  proto::SharesReply reply;
  for (const auto& r : priority_->table().rows) {
    auto* row = reply.add_rows();
    row->set_account(r.id.account);
    row->set_user(r.id.user);
    row->set_depth(r.depth);
    row->set_raw_shares(r.raw_shares);
    row->set_norm_shares(r.norm_shares);
    row->set_raw_usage(r.raw_usage);
    row->set_norm_usage(r.norm_usage);
    row->set_effective_usage(r.effective_usage);
    row->set_fair_share(r.fair_share);
  }
  return reply;
}

proto::PrioritiesReply Controller::priorities(const std::vector<uint64_t>& job_ids) {
  std::lock_guard lock(mu_);
  int64_t now = unixNow();
  uint32_t cluster_cores = refreshPriorities(now);
  proto::PrioritiesReply reply;
  auto add = [&](const Job& job) {
    const auto& request = pending_.at(job.id);
    std::string account = job.spec.account.empty() ? "root" : job.spec.account;
    auto b = priority_->priorityOf(account, job.user, job.spec.qos, job.submit_time,
                                   request.ntasks * request.cpus_per_task,
                                   cluster_cores, now);
    auto* p = reply.add_jobs();
    p->set_job_id(job.id);
    p->set_user(job.user);
    p->set_account(account);
    p->set_priority(b.total);
    p->set_age(b.w_age);
    p->set_fairshare(b.w_fairshare);
    p->set_job_size(b.w_job_size);
  };
  if (job_ids.empty()) {
    for (const auto& [id, request] : pending_) add(jobs_.at(id));
  } else {
    for (uint64_t id : job_ids)
      if (pending_.count(id)) add(jobs_.at(id));
  }
  return reply;
}

proto::CancelJobReply Controller::update(const proto::UpdateJobsRequest& request) {
  std::lock_guard lock(mu_);
  proto::CancelJobReply reply;
  bool is_admin = request.uid() == 0 ||
                  std::find(config_.admins.begin(), config_.admins.end(), request.user()) != config_.admins.end();
  std::vector<const Job*> changed;
  std::vector<Job*> to_kill;
  std::vector<std::pair<Job*, Job>> before;  // to undo in memory if the store refuses
  for (uint64_t id : request.job_ids()) {
    auto* result = reply.add_results();
    result->set_job_id(id);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      result->set_message("job " + std::to_string(id) + " not found");
      continue;
    }
    Job& job = it->second;
    if (!is_admin && job.uid != request.uid()) {
      result->set_message("permission denied: job " + std::to_string(id) + " belongs to " + job.user);
      continue;
    }
    before.emplace_back(&job, job);
    switch (request.action()) {
      case proto::UpdateJobsRequest::HOLD:
      case proto::UpdateJobsRequest::RELEASE: {
        bool hold = request.action() == proto::UpdateJobsRequest::HOLD;
        if (job.state != JobState::kPending) {
          result->set_message("job " + std::to_string(id) + " is not pending");
          continue;
        }
        job.held = hold;
        job.reason = hold ? "JobHeldUser" : "Priority";
        break;
      }
      case proto::UpdateJobsRequest::REQUEUE:
        if (job.state == JobState::kPending) {
          result->set_message("job " + std::to_string(id) + " is pending already");
          continue;
        }
        if (job.state == JobState::kRunning) {
          if (job.completing) {
            result->set_message("job " + std::to_string(id) + " is being cancelled");
            continue;
          }
          job.requeue_requested = true;  // becomes PENDING when the node reports the exit
          to_kill.push_back(&job);
        } else {
          if (job.completing) {
            result->set_message("job " + std::to_string(id) + " is still completing");
            continue;
          }
          job.state = JobState::kPending;
          job.attempt += 1;
          job.reason = "Requeued";
          job.exit_code = -1;
          job.term_signal = 0;
          job.start_time = job.end_time = 0;
          job.allocation.clear();
          job.stdout_path.clear();
          job.stderr_path.clear();
          addPending(job);
        }
        break;
      default:
        result->set_message("unknown action");
        before.pop_back();
        continue;
    }
    result->set_ok(true);
    changed.push_back(&job);
  }
  if (Status s = persist(changed); !s.ok()) {
    log()->error("update not stored: {}", s.error().message);
    for (auto& [job, old] : before) {
      if (job->state == JobState::kPending && old.state != JobState::kPending) {
        pending_.erase(job->id);
        dependencies_.erase(job->id);
      }
      *job = std::move(old);
    }
    for (auto& r : *reply.mutable_results())
      if (r.ok()) {
        r.set_ok(false);
        r.set_message("not stored: " + s.error().message);
      }
    return reply;
  }
  for (Job* job : to_kill) sendKill(*job, false);
  if (!changed.empty()) {
    changed_cv_.notify_all();
    markDirty();
  }
  return reply;
}

Status Controller::changeAccount(const proto::AccountChangeRequest& request) {
  std::lock_guard lock(mu_);
  bool is_admin = request.uid() == 0 ||
                  std::find(config_.admins.begin(), config_.admins.end(), request.user()) != config_.admins.end();
  if (!is_admin)
    return Error{ErrorCode::kPermissionDenied, "permission denied: only admins may change accounts"};
  PriorityEngine::AccountChange change{request.op(),
                                       request.name(),
                                       request.parent(),
                                       request.shares(),
                                       {request.users().begin(), request.users().end()},
                                       {request.remove_users().begin(), request.remove_users().end()}};
  // Tried on a copy first: stored only if it applies, applied only once stored.
  PriorityEngine trial = *priority_;
  if (Status s = trial.applyAccountChange(change); !s.ok()) return s;
  nlohmann::json j{{"op", change.op},       {"name", change.name},   {"parent", change.parent},
                   {"shares", change.shares}, {"users", change.users}, {"remove_users", change.remove_users}};
  if (Status s = store_->appendAccountChange(j.dump()); !s.ok()) return s;
  *priority_ = std::move(trial);
  log()->info("account {} {} by {}", change.op, change.name, request.user());
  markDirty();
  return {};
}

}  // namespace locus::controller
