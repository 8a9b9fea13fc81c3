#include "controller/controller.hpp"

#include <malloc.h>

#include <csignal>

#include <algorithm>
#include <array>
#include <filesystem>
#include <tuple>

#include "common/constraint.hpp"
#include "common/gpu_request.hpp"
#include "common/http_server.hpp"
#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/controller_internal.hpp"
#include "controller/job_environment.hpp"
#include "controller/profiling.hpp"
#include "controller/request_limits.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "proto/convert.hpp"
#include "proto/locus.pb.h"
#include <nlohmann/json.hpp>

namespace locus::controller {
using namespace internal;

uint32_t Job::effectiveNtasks() const {
  if (spec.ntasks > 0) return spec.ntasks;
  uint32_t per_node = spec.ntasks_per_node > 0 ? spec.ntasks_per_node : 1;
  return std::max<uint32_t>(1, spec.nodes) * per_node;
}

Result<std::unique_ptr<Controller>> Controller::create(const Config& config, std::unique_ptr<Store> store) {
  if (config.state_dir.empty()) return invalidArgument("no state directory (--state DIR)");
  std::unique_ptr<Controller> c(new Controller(config));
  auto engine = PriorityEngine::fromConfig(config);
  if (!engine.ok()) return engine.error();
  c->priority_ = std::make_unique<PriorityEngine>(std::move(*engine));
  auto tree = locality::buildSwitchTree(config.switches, config.configuredNodeNames());
  if (!tree.ok()) return invalidArgument("locus.toml: " + tree.error().message);
  c->switches_ = std::move(*tree);
  // The scheduler's view of the switch tree, built once (the tree is fixed for our lifetime).
  if (!config.switches.empty()) {
    for (const auto& sw : c->switches_.switches)
      c->network_.parent.push_back(sw.parent == locality::SwitchTree::kNone ? scheduler::Network::kNoSwitch
                                                                            : sw.parent);
    for (uint32_t s = 0; s < c->switches_.switches.size(); ++s)
      for (const auto& name : c->switches_.switches[s].nodes) c->switch_of_node_.emplace(name, s);
  }
  auto pools = Pools::fromConfig(config);
  if (!pools.ok()) return invalidArgument("locus.toml: " + pools.error().message);
  c->pools_ = std::move(*pools);
  c->preemption_ = PreemptionPolicy::fromConfig(config.qos);
  auto data = DataInputs::create(config.locality);
  if (!data.ok()) return invalidArgument("locus.toml: " + data.error().message);
  c->data_ = std::move(*data);
  if (store) {
    c->store_ = std::move(store);
  } else {
    auto opened = Store::open(config.state_dir);
    if (!opened.ok()) return opened.error();
    c->store_ = std::move(*opened);
  }
  // Readers behind the in-memory events read the store's, under the lock every store call takes.
  Controller* self = c.get();
  c->events_ = std::make_unique<EventLog>(
      config.events_in_memory, config.events_kept, [self](uint64_t after_id, size_t max) {
        std::lock_guard lock(self->mu_);
        return self->store_->loadEventsAfter(after_id, max);
      });
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
    node->switch_index = switchOf(stored.name);
    node->setTopology(proto::fromProto(topo));
    node->boot_id = stored.boot_id;
    node->last_seen = now;  // it gets a full timeout to reconnect
    nodes_[stored.name] = std::move(node);
  }
  for (const auto& group : config_.nodes)
    for (const auto& name : group.names)
      if (auto it = nodes_.find(name); it != nodes_.end()) it->second->setFeatures(group.features);

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

  // Quotas changed with `locus quota set`, replayed in order.
  auto quota_changes = store_->loadQuotaChanges();
  if (!quota_changes.ok()) return quota_changes.error();
  for (const auto& text : *quota_changes)
    if (Status s = applyQuotaChange(pools_, text); !s.ok())
      log()->warn("stored quota change no longer applies (config changed?): {}: {}", text, s.error().message);

  auto usage = store_->loadUsage();
  if (!usage.ok()) return usage.error();
  for (const auto& [assoc, value, as_of] : *usage) priority_->restoreUsage(assoc, {value, as_of});

  // With min_job_age_s, jobs that ended longer ago than that stay in the store only (as
  // purgeOldJobs would leave them): a long history costs neither memory nor restart time. What
  // is kept whatever its age: array jobs and framework leases (purgeOldJobs, below, decides
  // those with the whole picture). Every job still counts for the next id and the runtime
  // predictor's history, of which it remembers each user's last two runs: only those are kept
  // here, not one entry per job ever run.
  struct EndedRun {
    int64_t end_time = 0;
    uint64_t id = 0;
    int64_t runtime_s = 0;
    bool before(const EndedRun& o) const { return std::tie(end_time, id) < std::tie(o.end_time, o.id); }
  };
  std::unordered_map<std::string, std::array<EndedRun, 2>> last_runs;  // [0] the later one
  const int64_t loaded_at = unixNow();
  auto keep = [&](const JobSummary& job) {
    next_job_id_ = std::max(next_job_id_, job.id + 1);
    if (isTerminal(job.state) && job.start_time > 0 && job.end_time > job.start_time) {
      const EndedRun run{job.end_time, job.id, job.end_time - job.start_time};
      auto& two = last_runs[job.user];
      if (two[0].before(run)) {
        two[1] = two[0];
        two[0] = run;
      } else if (two[1].before(run)) {
        two[1] = run;
      }
    }
    return config_.min_job_age_s <= 0 || !isTerminal(job.state) || job.completing || job.end_time <= 0 ||
           loaded_at - job.end_time < config_.min_job_age_s || job.array_job_id != 0 || job.lease;
  };
  // Each kept job goes in place as it is decoded: 11,000 recent jobs held in a vector first,
  // each with its own copy of its environment, were ~90 MB at a restart under load.
  auto take = [&](Job&& job) {
    if (job.state == JobState::kPending) addPending(job);
    if (job.state == JobState::kRunning || job.state == JobState::kSuspended || job.completing) {
      active_.insert(job.id);
      for (const auto& a : job.allocation) {
        Node* node = findNode(a.node);
        LOCUS_CHECK(node) << "job " << job.id << " allocated on unknown node " << a.node;
        if (job.cores_released) node->allocate({}, a.mem_mb, {});  // suspended: memory only
        else node->allocate(a.cores, a.mem_mb, a.gpus);
      }
    }
    keepJob(std::move(job));
  };
  if (Status s = store_->loadJobs(keep, take); !s.ok()) return s;
  // The predictor's history: each user's last two runs, the earlier first (id 0: none).
  for (const auto& [user, two] : last_runs)
    for (const EndedRun* run : {&two[1], &two[0]})
      if (run->id != 0) predictor_.observe(user, run->runtime_s);
  for (uint64_t id : active_) {
    Job& job = jobs_.at(id);
    job.predicted_runtime_s = predictor_.predict(job.user, job.spec.time_limit_s);
  }
  if (Status s = loadEvents(); !s.ok()) return s;
  if (Status s = loadServices(); !s.ok()) return s;
  restoreFrameworks();
  purgeOldJobs(unixNow());  // a long history is not kept in memory across a restart either
  log()->info("loaded jobs={} pending={} active={} nodes={} services={} next_id={}", jobs_.size(),
              pending_.size(), active_.size(), nodes_.size(), services_.size(), next_job_id_);
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
  if (events_) events_->stop();  // ends every event stream
  if (loop_thread_.joinable()) loop_thread_.join();
}

Node* Controller::findNode(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

size_t Controller::environmentsInMemory() {
  std::lock_guard lock(mu_);
  return environments_.held();
}

int64_t Controller::predictRuntime(const std::string& user, int64_t time_limit_s) {
  std::lock_guard lock(mu_);
  return predictor_.predict(user, time_limit_s);
}

void Controller::keepJob(Job job) {
  environments_.share(job);
  const uint64_t id = job.id;
  if (!job.submit_token.empty()) submit_tokens_.emplace(job.submit_token, id);
  jobs_.emplace(id, std::move(job));
}

void Controller::addPending(const Job& job) {
  pending_[job.id] = toRequest(job);
  if (!job.spec.dependency.empty()) {
    auto dep = parseDependency(job.spec.dependency);
    if (dep.ok()) {  // validated at submit
      resolveArchivedTargets(*dep);
      dependencies_[job.id] = std::move(*dep);
    }
  }
}

void Controller::resolveArchivedTargets(Dependency& dep) {
  if (config_.min_job_age_s <= 0) return;  // nothing leaves memory
  for (DependencyTerm& term : dep.terms) {
    if (term.kind == DependencyTerm::Kind::kSingleton) continue;
    std::vector<uint64_t> live;
    for (uint64_t id : term.job_ids) {
      if (!dependencyTargets(id).empty()) {
        live.push_back(id);
        continue;
      }
      // Ended more than min_job_age_s ago: its end is in the store and cannot change, so the
      // term's verdict for it is known now.
      auto stored = id < next_job_id_ ? store_->loadJob(id) : Result<std::optional<Job>>(std::optional<Job>());
      if (!stored.ok() || !*stored || (*stored)->array_job_id != 0) {
        live.push_back(id);  // unknown (refused at submit): never satisfied, as before
        continue;
      }
      const Job& ended = **stored;
      switch (evaluateTerm(term.kind, ended.state, ended.start_time > 0)) {
        case DependencyVerdict::kSatisfied: break;  // dropped: this one holds
        case DependencyVerdict::kNever: term.never = true; break;
        case DependencyVerdict::kWaiting: live.push_back(id); break;  // not terminal: cannot be
      }
    }
    term.job_ids = std::move(live);
  }
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
  // Their events too (events.cpp), published only once committed.
  auto events = storeJobEvents(jobs);
  if (!events.ok()) {
    store_->rollback();
    return events.error();
  }
  s = store_->commit();
  if (!s.ok()) {
    store_->rollback();
    return s;
  }
  publishJobEvents(std::move(*events));
  // Every terminal transition is stored here, so this is where waiters learn of them.
  for (const Job* job : jobs)
    if (isTerminal(job->state)) ended_log_.push_back(job->id);
  for (; ended_log_.size() > kEndedLogKept; ++ended_log_start_) ended_log_.pop_front();
  return s;
}

// ------------------------------------------------------------------ client API

Result<std::optional<proto::SubmitJobReply>> Controller::submittedBefore(
    const proto::SubmitJobRequest& request) const {
  if (request.submit_token().empty()) return std::optional<proto::SubmitJobReply>();
  auto token = submit_tokens_.find(request.submit_token());
  if (token == submit_tokens_.end()) return std::optional<proto::SubmitJobReply>();
  auto first = jobs_.find(token->second);
  if (first == jobs_.end()) return std::optional<proto::SubmitJobReply>();  // purged meanwhile
  // Tokens are random: another user's is a forgery or a client bug, never a retry.
  if (first->second.uid != request.uid())
    return invalidArgument("this submit token was used by another user's submit");
  proto::SubmitJobReply reply;
  reply.set_job_id(first->first);
  uint32_t tasks = 0;
  for (auto it = first; it != jobs_.end() && (it == first || it->second.array_job_id == first->first); ++it)
    ++tasks;
  reply.set_tasks(tasks);
  for (const auto& w : first->second.spec.warnings) reply.add_warnings(w);
  log()->info("submit job={} again (token seen: a retry), nothing new", first->first);
  return std::optional<proto::SubmitJobReply>(std::move(reply));
}

Result<proto::SubmitJobReply> Controller::submit(const proto::SubmitJobRequest& request) {
  JobSpec spec = proto::fromProto(request.spec());
  if (Status bounded = checkRequestLimits(spec); !bounded.ok()) return bounded.error();
  if (request.submit_token().size() > RequestLimits::kSubmitTokenBytes)
    return invalidArgument("the submit token is " + std::to_string(request.submit_token().size()) +
                           " bytes, more than the limit of " + std::to_string(RequestLimits::kSubmitTokenBytes));
  if (spec.script.empty()) return invalidArgument("empty job script");
  if (spec.cpus_per_task == 0) spec.cpus_per_task = 1;
  if (spec.ntasks > 0 && spec.nodes > spec.ntasks)
    return invalidArgument("--ntasks (" + std::to_string(spec.ntasks) + ") is smaller than --nodes (" +
                           std::to_string(spec.nodes) + ")");
  if (spec.work_dir.empty() || spec.work_dir[0] != '/')
    return invalidArgument("work directory must be an absolute path");
  // The node daemon checks the bundle itself (it may exist on the nodes only); a relative path
  // is the submitter's, from the work directory.
  if (!spec.container.empty() && spec.container[0] != '/') spec.container = spec.work_dir + "/" + spec.container;
  ArraySpec array;
  if (!spec.array_spec.empty()) {
    auto parsed = parseArraySpec(spec.array_spec);
    if (!parsed.ok()) return invalidArgument("--array: " + parsed.error().message);
    array = std::move(*parsed);
  }
  if (spec.time_limit_s == 0) spec.time_limit_s = config_.default_time_limit_s;

  // Requests the CLI validated already; checked again because any client may call the API.
  if (auto gpus = gpuShareOf(spec); !gpus.ok()) return gpus.error();
  if (!spec.constraint.empty()) {
    if (auto c = Constraint::parse(spec.constraint); !c.ok()) return c.error();
  }
  if (!spec.switches.empty()) {
    if (auto sw = parseSwitches(spec.switches); !sw.ok()) return sw.error();
  }
  if (Status st = checkMemBind(spec.mem_bind); !st.ok()) return st.error();
  if (Status st = checkGpuBind(spec.gpu_bind); !st.ok()) return st.error();

  std::optional<Dependency> dependency;
  if (!spec.dependency.empty()) {
    auto parsed = parseDependency(spec.dependency);
    if (!parsed.ok()) return parsed.error();
    dependency = std::move(*parsed);
  }

  // Data inputs: asked of their store now, before the lock (a NameNode may take its timeout);
  // a store that fails fails the submit, and nothing is stored.
  if (spec.dataflow && spec.inputs.empty()) return invalidArgument("--dataflow needs at least one --input");
  if (spec.dataflow && !spec.array_spec.empty()) return invalidArgument("--dataflow and --array cannot be combined");
  const auto split_mode = locality::parseSplitMode(spec.split.empty() ? "block" : spec.split);
  if (!split_mode) return invalidArgument("--split: '" + spec.split + "' is not block or file");
  std::vector<ResolvedInput> inputs;
  for (const std::string& uri : spec.inputs) {
    auto resolved = data_->resolve(uri);
    if (!resolved.ok()) return resolved.error();
    inputs.push_back(std::move(*resolved));
  }

  std::lock_guard lock(mu_);
  if (stopping_) return unavailable("controller is shutting down");
  // A retry of a submit that was done already (its reply lost): the job it made, nothing new.
  if (auto done = submittedBefore(request); !done.ok() || *done) {
    if (!done.ok()) return done.error();
    return std::move(**done);
  }
  if (dependency)
    for (const auto& term : dependency->terms)
      for (uint64_t id : term.job_ids)
        if (!jobs_.count(id)) {
          // Ended long ago (min_job_age_s) and kept in the store only: its end decides at once
          // (resolveArchivedTargets), unless it was part of an array.
          if (auto archived = archivedJob(id); archived.ok() && *archived) {
            if ((*archived)->array_job_id() == 0) continue;
            return invalidArgument("--dependency: job " + std::to_string(id) + " was an array task that ended more than "
                                   "min_job_age_s (" + std::to_string(config_.min_job_age_s) +
                                   " s) ago; depend on an array only while it is kept in memory");
          }
          return invalidArgument("--dependency: job " + std::to_string(id) + " not found");
        }
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
  // The pool: -p, else the default. Without [[pool]] tables every node is in the one pool and
  // a -p name is kept as a label (scripts from other sites name their own partitions).
  if (spec.partition.empty()) spec.partition = pools_.defaultName();
  const bool pools_configured = !config_.pools.empty();
  std::optional<uint32_t> pool_index = pools_.indexOf(spec.partition);
  if (pools_configured && !pool_index)
    return invalidArgument("invalid partition specified: " + spec.partition + " (pools: " + pools_.namesList() + ")");
  Job proto_job;
  proto_job.spec = spec;
  if (Status fits = checkCouldEverRun(proto_job); !fits.ok()) return fits.error();

  // The input's replicas on Locus nodes: a dataflow job's splits (one task each), or the blocks
  // a plain job is placed near. Hosts that map to no node are said, not silently dropped.
  std::vector<InputBlock> input;
  std::vector<std::string> warnings;
  if (!inputs.empty()) {
    locality::HostMapper mapper = hostMapper();
    std::set<std::string> unmapped;
    for (const ResolvedInput& in : inputs) {
      auto blocks = spec.dataflow ? mapSplits(in, *split_mode, mapper, unmapped) : mapBlocks(in, mapper, unmapped);
      input.insert(input.end(), std::make_move_iterator(blocks.begin()), std::make_move_iterator(blocks.end()));
    }
    if (spec.dataflow && input.empty())
      return invalidArgument("--input " + spec.inputs.front() + ": no data to split (empty input)");
    if (input.size() > kMaxDataflowTasks)
      return invalidArgument("--dataflow: " + std::to_string(input.size()) + " splits, more than " +
                             std::to_string(kMaxDataflowTasks) + " tasks; use --split file or a larger block size");
    if (!unmapped.empty()) {
      std::string hosts;
      size_t shown = 0;
      for (const std::string& h : unmapped) {
        if (shown++ == 5) {
          hosts += ", ...";
          break;
        }
        hosts += (hosts.empty() ? "" : ", ") + h;
      }
      warnings.push_back("input hosts map to no Locus node (" + hosts +
                         "): their replicas count as remote; map them in [locality.hdfs] hosts "
                         "(`locus data locate` shows the mapping)");
    }
  }

  int64_t now = unixNow();
  size_t count = spec.dataflow ? input.size() : array.indices.empty() ? 1 : array.indices.size();
  uint64_t first_id = next_job_id_;
  std::vector<Job> created;
  created.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Job job;
    job.id = first_id + i;
    job.spec = spec;
    if (i == 0) job.submit_token = request.submit_token();
    job.user = request.user();
    job.uid = request.uid();
    job.gid = request.gid();
    job.submit_time = now;
    job.reason = "Priority";
    job.held = spec.hold;
    if (spec.dataflow) {
      // A dataflow job is an array of its splits: task i reads split i.
      job.array_job_id = first_id;
      job.array_task_id = static_cast<uint32_t>(i);
      job.input.push_back(input[i]);
      if (i > 0) {
        job.spec.script.clear();
        job.spec.environment.clear();
      }
    } else if (!array.indices.empty()) {
      job.array_job_id = first_id;
      job.array_task_id = array.indices[i];
      job.array_max_running = array.max_running;
      if (i > 0) {
        // The array's first task holds the script and the environment, stored once.
        job.spec.script.clear();
        job.spec.environment.clear();
      }
    }
    if (!spec.dataflow) job.input = input;
    created.push_back(std::move(job));
  }
  std::vector<const Job*> to_store;
  for (const auto& j : created) to_store.push_back(&j);
  Status s = persist(to_store);
  if (!s.ok()) return unavailable("job not stored: " + s.error().message);

  next_job_id_ = first_id + count;
  for (auto& job : created) {
    addPending(job);
    keepJob(std::move(job));
  }
  markDirty();
  metrics_.jobs_submitted.add(count);
  log()->info("submit job={} tasks={} user={}", first_id, count, request.user());
  proto::SubmitJobReply reply;
  reply.set_job_id(first_id);
  reply.set_tasks(static_cast<uint32_t>(count));
  for (const auto& w : spec.warnings) reply.add_warnings(w);
  for (const auto& w : warnings) reply.add_warnings(w);
  return reply;
}

Status Controller::checkCouldEverRun(const Job& job) const {
  const bool pools_configured = !config_.pools.empty();
  const std::optional<uint32_t> pool_index = pools_.indexOf(job.spec.partition);
  std::vector<scheduler::NodeState> totals;
  for (const auto& [name, node] : nodes_) {
    if (pools_configured && pool_index && !pools_.at(*pool_index).hasNode(name)) continue;
    scheduler::NodeState n;
    n.name = name;
    n.total_cores = node->cores();
    n.total_mem_mb = node->memMb();
    for (const GpuInfo& g : node->topology().gpus) n.gpu_numa.push_back(g.numa);
    n.features = node->allFeatures();
    totals.push_back(std::move(n));
  }
  // None of the pool's nodes registered yet: nothing to judge by (like no nodes at all).
  if (totals.empty()) return {};
  return scheduler::checkSatisfiable(toRequest(job), totals);
}

locality::HostMapper Controller::hostMapper() const {
  std::vector<locality::NodeIdentity> identities;
  for (const auto& [name, node] : nodes_) {
    // The daemon's StepApi address is where it is reachable: its host part is the node's address.
    std::string address = node->step_address;
    if (auto hp = splitHostPort(address); hp.ok()) address = hp->first;
    identities.push_back({name, address});
  }
  return locality::HostMapper(data_->hostMap(), std::move(identities));
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
    for (uint32_t g : a.gpus) pa->add_gpus(g);
    for (uint32_t d : a.numa) pa->add_numa(d);
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
  info.set_preempted_by(job.preempted_by);
  info.set_preemption(job.preemption);
  info.set_reason_detail(job.reason_detail);
  info.set_account(job.spec.account);
  info.set_qos(job.spec.qos);
  info.set_command(job.spec.script_path.empty() ? "wrap" : job.spec.script_path);
  info.set_nodes_min(job.spec.nodes);
  info.set_allocation_only(job.spec.allocation_only);
  if (job.isLease()) {
    info.set_framework(job.framework);
    info.set_lease_locality(job.locality);
  }
  if (!job.spec.profile.empty()) info.set_profile_dir(config_.profileDir());
  for (const JobStep& s : job.steps) {
    proto::StepInfo* si = info.add_steps();
    si->set_id(s.id);
    si->set_name(s.name);
    si->set_state(std::string(toString(s.state)));
    si->set_exit_code(s.exit_code);
    si->set_ntasks(s.ntasks);
    for (const auto& n : s.nodes) si->add_nodes(n);
    si->set_start_time(s.start_time);
    si->set_end_time(s.end_time);
  }
  info.set_max_rss_kb(job.max_rss_kb);
  // Charged so far, plus the attempt holding resources now as releaseAllocation would charge it.
  double billing = job.billed;
  if (job.start_time > 0 && active_.count(job.id))
    billing += priority_->billed(billedTres(job), unixNow() - job.start_time);
  info.set_billing(billing);
  if (!job.spec.inputs.empty()) {
    // A dataflow job's id (its first task) counts every task started so far; a task or a plain
    // job counts itself.
    proto::Locality* l = info.mutable_locality();
    auto count = [&](const Job& j) {
      if (j.locality.empty()) return;
      if (j.locality == "node_local") l->set_node_local(l->node_local() + 1);
      else if (j.locality == "rack_local") l->set_rack_local(l->rack_local() + 1);
      else l->set_remote(l->remote() + 1);
      proto::LocalityCounts* b = l->mutable_bytes();
      b->set_node_local(b->node_local() + j.bytes_node_local);
      b->set_rack_local(b->rack_local() + j.bytes_rack_local);
      b->set_remote(b->remote() + j.bytes_remote);
    };
    if (job.spec.dataflow && job.array_job_id == job.id) {
      for (auto it = jobs_.find(job.id); it != jobs_.end() && it->second.array_job_id == job.id; ++it)
        count(it->second);
    } else {
      count(job);
    }
    l->mutable_bytes();  // present even before any task started
  }
  if (job.spec.dataflow && job.input.size() == 1) {
    const InputBlock& split = job.input.front();
    info.set_input_path(split.path);
    info.set_input_offset(split.offset);
    info.set_input_length(split.length);
    for (const auto& h : split.hosts) info.add_input_hosts(h);
  }
  if (with_spec) {
    proto::toProto(job.spec, *info.mutable_spec());
    info.mutable_spec()->set_script(scriptOf(jobs_, job));
  }
  return info;
}

Result<proto::JobInfo> Controller::getJob(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) return toInfo(it->second, true);
  auto archived = archivedJob(id);
  if (!archived.ok()) return archived.error();
  if (!*archived) return notFound("job " + std::to_string(id) + " not found");
  return **archived;
}

Result<std::optional<proto::JobInfo>> Controller::archivedJob(uint64_t id) const {
  if (config_.min_job_age_s <= 0 || id >= next_job_id_) return std::optional<proto::JobInfo>();
  auto stored = store_->loadJob(id);
  if (!stored.ok()) return stored.error();
  if (!*stored) return std::optional<proto::JobInfo>();
  proto::JobInfo info = toInfo(**stored, true);
  info.set_archived(true);
  return std::optional<proto::JobInfo>(std::move(info));
}

void Controller::purgeOldJobs(int64_t now) {
  if (config_.min_job_age_s <= 0) return;
  // Kept whatever their age: jobs a live job still needs (its array's head holds the script;
  // a pending job's dependency; a framework's lease it has not been told of).
  std::set<uint64_t> needed;
  for (const auto& [id, request] : pending_)
    if (const Job& job = jobs_.at(id); job.array_job_id != 0) needed.insert(job.array_job_id);
  for (uint64_t id : active_)
    if (const Job& job = jobs_.at(id); job.array_job_id != 0) needed.insert(job.array_job_id);
  for (const auto& [id, dep] : dependencies_)
    for (const auto& term : dep.terms) needed.insert(term.job_ids.begin(), term.job_ids.end());
  for (const auto& [name, fw] : frameworks_) needed.insert(fw.leases.begin(), fw.leases.end());
  size_t purged = 0;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const Job& job = it->second;
    if (!isTerminal(job.state) || job.completing || job.end_time <= 0 ||
        now - job.end_time < config_.min_job_age_s || needed.count(job.id) ||
        (job.array_job_id != 0 && needed.count(job.array_job_id))) {
      ++it;
      continue;
    }
    event_state_.erase(job.id);
    if (!job.submit_token.empty()) submit_tokens_.erase(job.submit_token);
    it = jobs_.erase(it);
    ++purged;
  }
  if (purged == 0) return;
  // glibc keeps freed memory for reuse; hand it back, or RSS stays at the high-water mark of the
  // history (a restart loads every job before purging the old ones).
  malloc_trim(0);
  log()->info("purged {} finished jobs from memory (min_job_age_s {}); they stay in the store", purged,
              config_.min_job_age_s);
}

proto::ListJobsReply Controller::listJobs(const proto::ListJobsRequest& request) {
  std::set<JobState> states;
  bool all = false;
  for (const auto& s : request.states()) {
    if (s == "ALL" || s == "all") all = true;
    else if (auto st = jobStateFromString(s)) states.insert(*st);
  }
  if (states.empty() && !all) states = {JobState::kPending, JobState::kRunning, JobState::kSuspended};
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
      if (it != jobs_.end()) {
        consider(it->second);
      } else if (auto archived = archivedJob(id); archived.ok() && *archived) {
        const proto::JobInfo& info = **archived;
        if (request.user().empty() || info.user() == request.user()) *reply.add_jobs() = info;
      }
    }
  } else if (!all && std::all_of(states.begin(), states.end(), [](JobState s) {
               return s == JobState::kPending || s == JobState::kRunning || s == JobState::kSuspended;
             })) {
    // The common case (the live queue) walks only live jobs, not the whole history.
    std::set<uint64_t> live(active_.begin(), active_.end());
    for (const auto& [id, request] : pending_) live.insert(id);
    for (uint64_t id : live) consider(jobs_.at(id));
  } else {
    // History: with finished jobs purged from memory (min_job_age_s), the store has the rest.
    if (config_.min_job_age_s > 0) {
      auto stored = store_->loadJobs();
      if (!stored.ok()) log()->error("archived jobs not listed: {}", stored.error().message);
      else
        for (const Job& job : *stored)
          if (!jobs_.count(job.id) && isTerminal(job.state)) {
            if (!all && !states.count(job.state)) continue;
            if (!request.user().empty() && job.user != request.user()) continue;
            *reply.add_jobs() = toInfo(job, false);
            reply.mutable_jobs()->rbegin()->set_archived(true);
          }
    }
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
      auto archived = archivedJob(id);
      result->set_message("job " + std::to_string(id) +
                          (archived.ok() && *archived ? " has already finished" : " not found"));
      continue;
    }
    if (!is_admin && targets.front()->uid != request.uid()) {
      result->set_message("permission denied: job " + std::to_string(id) + " belongs to " +
                          targets.front()->user);
      continue;
    }
    bool any = false;
    if (request.signal() != 0) {
      // scancel --signal: to every node of each running job; nothing changes state.
      if (request.signal() < 1 || request.signal() > 64) {
        result->set_message("invalid signal " + std::to_string(request.signal()));
        continue;
      }
      for (Job* job : targets) {
        if (job->state != JobState::kRunning || job->completing) continue;
        any = true;
        sendSignal(*job, request.signal());
      }
      result->set_ok(any);
      if (!any) result->set_message("job " + std::to_string(id) + " is not running");
      continue;
    }
    for (Job* job : targets) {
      if (isTerminal(job->state)) continue;
      any = true;
      if (job->state == JobState::kPending) {
        pending_.erase(job->id);
        dependencies_.erase(job->id);
      } else if (job->spec.allocation_only) {
        releaseAllocation(*job);  // no script to wait for; its step tasks are killed
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
        job->state = job->cores_released ? JobState::kSuspended : JobState::kRunning;
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
      // A suspended job is stopped: it must run again to take its SIGTERM.
      if (job->cores_released) sendSignal(*job, SIGCONT);
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

Result<proto::DashboardTokenReply> Controller::dashboardToken(
    const proto::DashboardTokenRequest& request) {
  const bool is_admin = request.uid() == 0 ||
                        std::find(config_.admins.begin(), config_.admins.end(), request.user()) !=
                            config_.admins.end();
  if (!is_admin)
    return Error{ErrorCode::kPermissionDenied,
                 "permission denied: only admins may get a dashboard token"};
  const std::chrono::seconds ttl = request.ttl_s() == 0
                                       ? std::chrono::seconds{DashboardTokens::kDefaultTtl}
                                       : std::chrono::seconds{request.ttl_s()};
  const auto now = DashboardTokens::Clock::now();
  auto token = dashboard_tokens_.issue(request.user(), request.uid(), ttl, now);
  if (!token.ok()) return token.error();
  log()->info("dashboard token for user={} ttl_s={}", request.user(), ttl.count());
  proto::DashboardTokenReply reply;
  reply.set_token(*token);
  reply.set_expires(
      std::chrono::duration_cast<std::chrono::seconds>((now + ttl).time_since_epoch()).count());
  reply.set_user(request.user());
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
    for (const auto& f : node->allFeatures()) n->add_features(f);
    n->set_limits(node->limits);
    n->set_address(node->step_address);
    n->set_emulated(node->emulated);
    n->set_gpus_alloc(node->gpusAllocated());
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
    if (it == jobs_.end()) {
      // Finished long ago (purged from memory) is finished: waitSome finds it in the store.
      auto archived = archivedJob(id);
      if (!archived.ok()) return archived.error();
      if (!*archived) return notFound("job " + std::to_string(id) + " not found");
      out.push_back(id);
      continue;
    }
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
    auto in_memory = jobs_.find(id);
    if (in_memory == jobs_.end()) {  // purged: finished, in the store
      if (auto archived = archivedJob(id); archived.ok() && *archived) {
        done.push_back(**archived);
        pending.erase(it);
      }
      return;
    }
    const Job& job = in_memory->second;
    // A job requeued since its end was logged is pending again: not done.
    if (!isTerminal(job.state)) return;
    done.push_back(toInfo(job, false));
    pending.erase(it);
  };
  auto catchUp = [&] {
    const size_t end = ended_log_start_ + ended_log_.size();
    if (cursor == kWaitFromScratch || cursor < ended_log_start_) {
      // The first call (jobs that ended before the wait began), or one that fell behind what the
      // log keeps: each of the jobs, once.
      std::vector<uint64_t> ids(pending.begin(), pending.end());
      for (uint64_t id : ids) take(id);
      cursor = end;
    }
    for (; cursor < end; ++cursor) take(ended_log_[cursor - ended_log_start_]);
  };
  while (true) {
    catchUp();
    if (!done.empty() || pending.empty() || stopping_) return done;
    if (changed_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      catchUp();
      return done;
    }
  }
}

}  // namespace locus::controller
