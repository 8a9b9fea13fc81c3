// The scheduling loop: node timeouts, dependencies, priorities and limits around each pass of
// the pure scheduler core, and committing its starts.
#include "controller/controller.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/controller_internal.hpp"
#include "controller/job_environment.hpp"
#include "controller/policy/quota.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "proto/convert.hpp"
#include "proto/locus.pb.h"
#include <nlohmann/json.hpp>

namespace locus::controller {
using namespace internal;

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
    if (term.never) return DependencyVerdict::kNever;  // decided by a job that ended long ago
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

// ------------------------------------------------------------------ scheduling loop

void Controller::loop() {
  std::unique_lock lock(mu_);
  dirty_ = true;
  while (!stopping_) {
    // Delay scheduling: a job waiting for a local slot may relax at locality_retry_, which may
    // come before the timer's next pass.
    auto wake = std::chrono::steady_clock::now() + config_.scheduler_interval;
    if (locality_retry_ != std::chrono::steady_clock::time_point{}) wake = std::min(wake, locality_retry_);
    loop_cv_.wait_until(lock, wake, [this] { return dirty_ || stopping_; });
    locality_retry_ = {};
    if (stopping_) break;
    dirty_ = false;
    checkNodeTimeouts();
    checkAllocationJobs();
    resumeSuspended();  // before anyone else may take the cores they wait for
    reconcileServices();
    checkFrameworks();
    if (const int64_t now = unixNow(); now - last_purge_ >= 5) {
      last_purge_ = now;
      purgeOldJobs(now);
    }
    schedule();
    makeOffers();  // what the pass left free
  }
}

void Controller::checkNodeTimeouts() {
  auto now = std::chrono::steady_clock::now();
  for (auto& [name, node] : nodes_) {
    if (node->state == NodeState::kDown) continue;
    if (now - node->last_seen < config_.node_timeout) continue;
    log()->warn("node={} DOWN: silent for more than {}s", name, config_.node_timeout.count());
    setNodeState(*node, NodeState::kDown, "NotResponding");
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
    const bool live = job->state == JobState::kRunning || job->state == JobState::kSuspended;
    if (live && script_elsewhere) sendKill(*job, false);
    if (live) endOnNodeFailure(*job, "NodeFail " + node.name(), now);
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

// The switch tree in the scheduler's terms: the switch of each node in `index` order. Flat
// (empty) when no [[switch]] is configured, so a cluster without topology pays nothing.
scheduler::Network Controller::networkFor(const std::vector<Node*>& index) const {
  scheduler::Network net;
  if (network_.empty()) return net;
  net.parent = network_.parent;
  net.switch_of_node.reserve(index.size());
  for (Node* node : index) net.switch_of_node.push_back(node->switch_index);
  return net;
}

uint32_t Controller::switchOf(const std::string& node) const {
  auto it = switch_of_node_.find(node);
  return it == switch_of_node_.end() ? switches_.root : it->second;
}

namespace {

// The nodes holding a job's input and the bytes on each, most first (JobRequest::input_sites);
// equal bytes keep the store's replica order, so a block's tasks spread over their first
// replicas (HDFS puts the first on the writer) rather than piling on the lowest node index.
std::vector<scheduler::InputSite> inputSites(const Job& job, const std::map<std::string, uint32_t>& node_index) {
  std::vector<scheduler::InputSite> sites;
  std::unordered_map<uint32_t, size_t> at;  // node -> position in sites
  for (const InputBlock& b : job.input)
    for (const std::string& n : b.nodes)
      if (auto it = node_index.find(n); it != node_index.end()) {
        auto [pos, fresh] = at.try_emplace(it->second, sites.size());
        if (fresh) sites.push_back({it->second, 0});
        sites[pos->second].bytes += b.length;
      }
  std::stable_sort(sites.begin(), sites.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  return sites;
}

}  // namespace

void Controller::recordLocality(Job& job, scheduler::Locality where) const {
  job.bytes_node_local = job.bytes_rack_local = job.bytes_remote = 0;
  job.locality.clear();
  if (job.isLease()) {  // no bytes: where it runs against the nodes and racks it asked for
    if (where != scheduler::Locality::kNone) job.locality = std::string(scheduler::localityName(where));
    return;
  }
  if (job.input.empty()) return;
  // Racks are leaf switches; a node under no [[switch]] shares a rack with no one.
  auto rackOf = [&](const std::string& node) -> std::optional<uint32_t> {
    auto it = switch_of_node_.find(node);
    if (it == switch_of_node_.end()) return std::nullopt;
    return it->second;
  };
  std::set<std::string> nodes;
  std::set<uint32_t> racks;
  for (const AllocatedNode& a : job.allocation) {
    nodes.insert(a.node);
    if (auto r = rackOf(a.node)) racks.insert(*r);
  }
  for (const InputBlock& b : job.input) {
    bool local = false, rack = false;
    for (const std::string& n : b.nodes) {
      local = local || nodes.count(n) > 0;
      if (auto r = rackOf(n)) rack = rack || racks.count(*r) > 0;
    }
    (local ? job.bytes_node_local : rack ? job.bytes_rack_local : job.bytes_remote) += b.length;
  }
  job.locality = std::string(scheduler::localityName(where));
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
    for (const GpuInfo& g : node->topology().gpus) {
      n.gpu_numa.push_back(g.numa);
      uint64_t links = 0;
      for (const GpuLink& l : g.links)
        if (l.peer < 64) links |= uint64_t{1} << l.peer;
      n.gpu_links.push_back(links);
    }
    n.free_gpus = node->freeGpuMask();
    n.features = node->allFeatures();
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
  // easy-predict: pending jobs planned by their users' recent run times, running ones by the
  // prediction they started with, corrected once it proves short (runtime_predictor.hpp).
  const bool predict = snap.policy == scheduler::Policy::kEasyPredict;
  snap.network = networkFor(index);
  snap.reserve_depth = config_.reserve_depth;
  snap.protect_after_s = config_.protect_after_s;
  snap.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  snap.locality_wait_node_ms = config_.locality.wait_node_ms;
  snap.locality_wait_rack_ms = config_.locality.wait_rack_ms;
  std::map<std::string, uint32_t> node_index;
  for (uint32_t i = 0; i < index.size(); ++i) node_index[index[i]->name()] = i;

  // Pools: each pool's node indices. A job's pool is its -p (the implicit pool of every node
  // when there are no [[pool]] tables, whatever its -p says).
  const bool pools_configured = !config_.pools.empty();
  for (const Pool& p : pools_.all()) {
    std::vector<uint32_t> members;
    for (uint32_t i = 0; i < index.size(); ++i)
      if (p.hasNode(index[i]->name())) members.push_back(i);
    snap.pools.push_back(std::move(members));
    snap.pool_reserve_depth.push_back(p.reserve_depth.value_or(scheduler::kPassDepth));
  }
  auto poolOf = [&](const Job& job) -> uint32_t {
    if (!pools_configured) return 0;
    auto i = pools_.indexOf(job.spec.partition);
    return i ? *i : scheduler::kAnyPool;
  };
  // Quotas: what each account holds in each pool, and the quota groups preemption sees.
  const bool quotas = pools_.anyQuota();
  std::map<std::pair<uint32_t, std::string>, policy::Resources> held;
  if (quotas)
    for (uint64_t id : active_) {
      const Job& job = jobs_.at(id);
      const uint32_t p = poolOf(job);
      if (p != scheduler::kAnyPool) held[{p, job.spec.account}] = held[{p, job.spec.account}] + heldBy(job);
    }
  auto quotaOf = [&](uint32_t pool, const std::string& account) {
    if (const policy::Quota* q = pools_.at(pool).quotaOf(account)) return *q;
    policy::Quota none;  // no quota: nothing guaranteed, no max
    none.account = account;
    return none;
  };
  std::map<std::pair<uint32_t, std::string>, uint32_t> group_index;
  auto groupOf = [&](uint32_t pool, const std::string& account) -> uint32_t {
    if (!quotas || pool == scheduler::kAnyPool || pools_.at(pool).quotas.empty()) return scheduler::kNoGroup;
    auto [it, fresh] = group_index.try_emplace({pool, account}, static_cast<uint32_t>(snap.quota_groups.size()));
    if (fresh) {
      const policy::Resources h = held[{pool, account}];
      const policy::Quota q = quotaOf(pool, account);
      auto over = [](uint64_t have, uint64_t guaranteed) {
        return static_cast<int64_t>(have) - static_cast<int64_t>(std::min<uint64_t>(guaranteed, INT64_MAX));
      };
      snap.quota_groups.push_back({pool, over(h.cores, q.guaranteed.cores), over(h.mem_mb, q.guaranteed.mem_mb),
                                   over(h.gpus, q.guaranteed.gpus)});
    }
    return it->second;
  };
  const bool preemption = preemption_.any() || quotas;

  for (uint64_t id : active_) {
    const Job& job = jobs_.at(id);
    if (job.cores_released) continue;  // suspended: holds no cores, only memory (in the nodes' view)
    scheduler::RunningJob r;
    r.id = id;
    if (preemption) {
      const PreemptLevel& level = preemption_.of(job.spec.qos);
      r.start_time = job.start_time;
      r.preempt_class = level.cls;
      // A `locus run` allocation has nothing to requeue: it is not preempted.
      // A framework's lease is: it is revoked, with notice.
      r.preemptible = level.mode != PreemptMode::kOff && !job.completing &&
                      (!job.spec.allocation_only || job.isLease()) &&
                      !job.requeue_requested && job.preempted_for == 0 &&
                      snap.now - job.start_time >= level.exempt_s;
      r.keeps_memory = level.mode == PreemptMode::kSuspend;
      r.preempted_for = job.preempted_for;
      r.quota_group = groupOf(poolOf(job), job.spec.account);
    }
    // A completing job is on its way out; unlimited jobs never end in the plan.
    if (job.completing) r.expected_end = snap.now + 1;
    else if (predict && job.predicted_runtime_s > 0)
      r.expected_end = scheduler::RuntimePredictor::correctedEnd(job.start_time, job.predicted_runtime_s,
                                                                 job.spec.time_limit_s, snap.now);
    else if (job.spec.time_limit_s > 0) r.expected_end = job.start_time + job.spec.time_limit_s;
    for (const auto& a : job.allocation)
      r.use.push_back({node_index.at(a.node), static_cast<uint32_t>(a.cores.size()), a.mem_mb,
                       static_cast<uint32_t>(a.gpus.size())});
    snap.running.push_back(std::move(r));
  }
  // Priorities move with age and with usage: recomputed for every pending job each pass.
  uint32_t cluster_cores = refreshPriorities(snap.now);
  for (auto& [id, request] : pending_) {
    Job& job = jobs_.at(id);
    job.priority = priority_->priorityOf(job.spec.account.empty() ? "root" : job.spec.account, job.user,
                                         job.spec.qos, job.submit_time, request.ntasks * request.cpus_per_task,
                                         cluster_cores, snap.now, pools_.priorityOf(job.spec.partition))
                       .total;
    request.priority = job.priority;
    request.planned_runtime_s = predict ? predictor_.predict(job.user, job.spec.time_limit_s) : 0;
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
      if (job.cores_released) continue;  // suspended: not running now
      uint32_t cores = 0, gpus = 0;
      for (const auto& a : job.allocation) {
        cores += static_cast<uint32_t>(a.cores.size());
        gpus += static_cast<uint32_t>(a.gpus.size());
      }
      for (auto* usage : {&qos_user[{job.spec.qos, job.user}], &qos_account[{job.spec.qos, job.spec.account}]}) {
        usage->running_jobs += 1;
        usage->cores += cores;
        usage->gpus += gpus;
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
  std::map<std::pair<uint32_t, std::string>, policy::Resources> admitted = held;  // + this pass's
  for (auto* entry : order) {
    const uint64_t id = entry->first;
    scheduler::JobRequest& request = entry->second;
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
        // GPUs per node count once per node; a job of flexible node count has at least one.
        const uint32_t gpus = request.gpus_per_node * std::max<uint32_t>(1, request.nodes) +
                              request.gpus_per_task * request.ntasks;
        policy::QosRequest want{request.ntasks * request.cpus_per_task, gpus, job.spec.time_limit_s};
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
          usage->gpus += want.gpus;
        }
      }
    }
    Job& job = jobs_.at(id);
    // Its pool: its nodes (a pool of every node restricts nothing) and its reservation depth.
    const uint32_t pool_index = poolOf(job);
    request.pool = pool_index;
    request.preempts = preemption ? preemption_.of(job.spec.qos).preempts : 0;
    request.reclaim_group = scheduler::kNoGroup;
    if (quotas && pool_index != scheduler::kAnyPool && !pools_.at(pool_index).quotas.empty()) {
      // Like the QoS limits: what runs counts, and so does each earlier job of this pass.
      const uint32_t nodes = std::max(1u, request.nodes);
      const policy::Resources want{uint64_t{request.ntasks} * request.cpus_per_task, request.mem_mb * nodes,
                                   uint64_t{request.gpus_per_node} * nodes + uint64_t{request.gpus_per_task} * request.ntasks};
      policy::Resources& have = admitted[{pool_index, job.spec.account}];
      const policy::Quota quota = quotaOf(pool_index, job.spec.account);
      auto verdict = policy::checkMax(quota, pools_.at(pool_index).name, have, want);
      if (!verdict.ok) {
        job.reason = std::string(verdict.reason);
        job.reason_detail = verdict.detail;  // `locus why` says which limit
        job.expected_start = 0;
        continue;
      }
      if (policy::withinGuarantee(quota, have, want)) request.reclaim_group = groupOf(pool_index, job.spec.account);
      have = have + want;
    }
    // Node indices change as nodes come and go: the input's nodes are looked up each pass.
    if (!job.input.empty()) request.input_sites = inputSites(job, node_index);
    if (job.isLease()) {
      // A lease request's preferences: its nodes in the order given, then its racks.
      for (const std::string& n : job.lease_nodes)
        if (auto it = node_index.find(n); it != node_index.end()) request.input_sites.push_back({it->second, 1});
      for (const std::string& r : job.lease_racks)
        if (auto sw = switches_.findSwitch(r)) request.input_racks.push_back(*sw);
      request.strict_locality = job.lease_strict;
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

  const auto pass_began = std::chrono::steady_clock::now();
  auto decisions = scheduler::schedulePass(snap);
  metrics_.pass_duration.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_began).count());

  std::vector<Job*> started;
  std::vector<std::pair<uint64_t, uint64_t>> preemptions;  // (victim, for job)
  std::vector<Job*> preempting;  // pending jobs waiting for their victims
  for (const auto& d : decisions) {
    Job& job = jobs_.at(d.job_id);
    if (d.kind == scheduler::Decision::Kind::kPreempt) {
      preemptions.emplace_back(d.job_id, d.preempted_for);
      continue;
    }
    if (d.kind != scheduler::Decision::Kind::kStart) {
      // Not transitions: kept in memory only.
      job.reason = d.reason;
      job.reason_detail.clear();
      // Delay scheduling's wait goes on from pass to pass while the job is skipped, and the
      // loop wakes when it may relax.
      if (auto p = pending_.find(d.job_id); p != pending_.end())
        p->second.locality_wait_since_ms = d.locality_wait_since_ms;
      if (d.locality_retry_at_ms > 0) {
        const auto at = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::max<int64_t>(0, d.locality_retry_at_ms - snap.now_ms));
        if (locality_retry_ == std::chrono::steady_clock::time_point{} || at < locality_retry_) locality_retry_ = at;
        job.reason_detail = "waiting up to " + std::to_string((d.locality_retry_at_ms - snap.now_ms + 999) / 1000) +
                            "s more for a free node near its input";
      }
      if (d.reason == "Preempting") preempting.push_back(&job);
      job.expected_start = d.kind == scheduler::Decision::Kind::kReserve ? d.start_at : 0;
      continue;
    }
    job.expected_start = 0;
    job.predicted_runtime_s = predictor_.predict(job.user, job.spec.time_limit_s);
    job.state = JobState::kRunning;
    job.reason.clear();
    job.start_time = snap.now;
    job.health = Job::Health::kUnknown;
    job.health_detail.clear();
    if (!job.service.empty()) {
      auto service = services_.find(job.service);
      if (service != services_.end() && service->second.port) job.port = assignPort();
    }
    job.allocation.clear();
    for (const auto& a : d.allocation) {
      Node* node = index.at(a.node);
      node->allocate(a.cores, a.mem_mb, a.gpus);
      job.allocation.push_back(AllocatedNode{node->name(), a.cores, a.mem_mb, a.ntasks, a.gpus, a.numa});
    }
    recordLocality(job, d.locality);
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
  for (Job* job : started) {
    sendLaunch(*job);
    if (job->isLease()) leaseGranted(*job);
  }
  metrics_.jobs_started.add(started.size());
  if (!preemptions.empty()) {
    std::vector<const Job*> victims;
    for (const auto& [victim_id, for_id] : preemptions) {
      Job& victim = jobs_.at(victim_id);
      const Job& for_job = jobs_.at(for_id);
      const PreemptLevel& mine = preemption_.of(for_job.spec.qos);
      const PreemptLevel& theirs = preemption_.of(victim.spec.qos);
      std::string why = (mine.preempts >> theirs.cls & 1) != 0
                            ? "QoS " + mine.name + " may preempt " + theirs.name
                            : "account " + for_job.spec.account + " reclaims its guarantee in pool " +
                                  for_job.spec.partition + " from borrower " + victim.spec.account;
      preempt(victim, for_id, why, snap.now);
      victims.push_back(&victim);
    }
    if (Status st = persist(victims); st.ok()) {
      for (const Job* v : victims) {
        if (v->state == JobState::kSuspended) sendSignal(*v, SIGSTOP);
        else if (v->isLease()) leaseRevoked(*v);  // its framework has the notice period
        else sendKill(*v, v->cancel_requested);
      }
    } else {
      // Not stored: not done. The victims run on; a later pass decides again.
      log()->error("preemptions not stored, undone: {}", st.error().message);
      for (const Job* v : victims) {
        Job& j = jobs_.at(v->id);
        if (j.state == JobState::kSuspended) {  // take its cores back
          for (const auto& a : j.allocation)
            if (Node* node = findNode(a.node)) node->allocate(a.cores, 0, a.gpus);
          j.cores_released = false;
          j.state = JobState::kRunning;
          j.reason.clear();
        }
        j.preempted_for = 0;
        j.revoke_at = 0;
        j.requeue_requested = false;
        if (j.cancel_requested) {
          j.cancel_requested = j.completing = false;
          j.state = JobState::kRunning;
          j.end_time = 0;
          j.reason.clear();
        }
      }
    }
    changed_cv_.notify_all();
  }
  // `locus why`: whose end a preempting job waits for.
  for (Job* job : preempting) {
    for (uint64_t id : active_) {
      const Job& v = jobs_.at(id);
      if (v.preempted_for != job->id) continue;
      job->reason_detail += (job->reason_detail.empty() ? "waiting for job " : ", job ") + std::to_string(id) +
                            " to end (" + v.preemption + ")";
    }
  }
  if (!started.empty()) {
    log()->debug("pass started={} pending={}", started.size(), pending_.size());
    changed_cv_.notify_all();
  }
}

}  // namespace locus::controller
