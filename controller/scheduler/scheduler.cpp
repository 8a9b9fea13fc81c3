// schedulePass: per job, in priority order:
//   validate -> array throttle -> (kFcfs: stop after the first blocked job) -> start now:
//   total free cores -> failed-shape cache -> choose nodes -> check the picks against the
//   reservations in the profile -> commit into the pass's FreePool.
//   A job that cannot start now may get a reservation: its earliest start in the profile.
// The cheap checks come first because in a busy cluster most pending jobs stop at one of them:
// once the cluster is full, a job costs a comparison or a hash lookup, not a walk over nodes.
#include "controller/scheduler/scheduler.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/constraint.hpp"
#include "controller/scheduler/failed_shapes.hpp"
#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/placement.hpp"
#include "controller/scheduler/preemption.hpp"
#include "controller/scheduler/profile.hpp"
#include "controller/scheduler/task_layout.hpp"

namespace locus::scheduler {
namespace {

constexpr std::string_view kReasonResources = "Resources";
constexpr std::string_view kReasonPriority = "Priority";
constexpr std::string_view kReasonArrayLimit = "JobArrayTaskLimit";
constexpr std::string_view kReasonBadConstraints = "BadConstraints";
constexpr std::string_view kReasonNodeNotAvail = "ReqNodeNotAvail";
constexpr std::string_view kReasonPreempting = "Preempting";
constexpr std::string_view kReasonLocality = "Locality";

// How long planning holds a job's resources from its start: its prediction when it has one.
int64_t planSeconds(const JobRequest& job) {
  if (job.planned_runtime_s <= 0) return job.time_limit_s;
  return job.time_limit_s > 0 ? std::min(job.planned_runtime_s, job.time_limit_s)
                              : job.planned_runtime_s;
}

bool mayPreemptAny(const JobRequest& job) { return job.preempts != 0 || job.reclaim_group != kNoGroup; }

// Jobs that may preempt first, then priority desc, then submit time asc, then id asc; the input
// position breaks the last ties (duplicate ids) so the order never depends on the sort
// implementation. Preempting jobs go first because they would displace whatever started before
// them: the jobs they preempted, requeued and older, would otherwise take the freed resources
// back in the next pass, be preempted again, and so on without end.
std::vector<size_t> passOrder(const std::vector<JobRequest>& pending) {
  std::vector<size_t> order(pending.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto before = [&](size_t a, size_t b) {
    const JobRequest& x = pending[a];
    const JobRequest& y = pending[b];
    if (mayPreemptAny(x) != mayPreemptAny(y)) return mayPreemptAny(x);
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.submit_time != y.submit_time) return x.submit_time < y.submit_time;
    if (x.id != y.id) return x.id < y.id;
    return a < b;
  };
  // A caller that keeps its queue in order (the simulator does) pays a linear check only.
  if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::sort(order.begin(), order.end(), before);
  }
  return order;
}

// Tasks running per array job: those in the snapshot plus those started by this pass.
class ArrayThrottle {
 public:
  explicit ArrayThrottle(const std::vector<std::pair<uint64_t, uint32_t>>& running) {
    for (const auto& [array_id, count] : running) running_[array_id] += count;
  }
  bool atLimit(const JobRequest& job) const {
    if (job.array_job_id == 0 || job.array_max_running == 0) return false;
    auto it = running_.find(job.array_job_id);
    return it != running_.end() && it->second >= job.array_max_running;
  }
  void started(const JobRequest& job) {
    if (job.array_job_id != 0) ++running_[job.array_job_id];
  }

 private:
  std::unordered_map<uint64_t, uint64_t> running_;
};

Decision pending(uint64_t job_id, std::string_view reason) {
  Decision d;
  d.kind = Decision::Kind::kPending;
  d.job_id = job_id;
  d.reason = reason;
  return d;
}

// Which nodes a job may use by its pool and their features: one bitmap per distinct (pool, GPU
// type, constraint) in the pass, computed on first use. Key 0 is "no requirement" (no bitmap).
class Eligibility {
 public:
  struct Entry {
    uint32_t key = 0;
    bool valid = true;             // the constraint parsed
    bool any_schedulable = false;  // some schedulable node matches
    std::vector<uint64_t> mask;
  };

  Eligibility(const Snapshot& s, size_t words) : s_(s), words_(words) {}

  const Entry& of(const JobRequest& job) {
    // A pool of every node restricts nothing: no bitmap (callers pass pools as they are).
    const bool any_pool = job.pool == kAnyPool || job.pool >= s_.pools.size() ||
                          s_.pools[job.pool].size() >= s_.nodes.size();
    if (job.gpu_type.empty() && job.constraint.empty() && any_pool) return none_;
    std::string key = any_pool ? std::string() : std::to_string(job.pool);
    key += '\x1f';
    key += job.gpu_type;
    key += '\x1f';
    key += job.constraint;
    auto [it, fresh] = cache_.try_emplace(std::move(key));
    if (!fresh) return it->second;
    Entry& e = it->second;
    e.key = static_cast<uint32_t>(cache_.size());
    Constraint constraint;
    if (!job.constraint.empty()) {
      auto parsed = Constraint::parse(job.constraint);
      if (!parsed.ok()) {
        e.valid = false;
        return e;
      }
      constraint = std::move(*parsed);
    }
    e.mask.assign(words_, 0);
    std::vector<uint8_t> in_pool;
    if (!any_pool) {
      in_pool.assign(s_.nodes.size(), 0);
      for (uint32_t n : s_.pools[job.pool])
        if (n < in_pool.size()) in_pool[n] = 1;
    }
    for (size_t n = 0; n < s_.nodes.size(); ++n) {
      const NodeState& node = s_.nodes[n];
      if (!in_pool.empty() && !in_pool[n]) continue;
      if (!job.gpu_type.empty() && std::find(node.features.begin(), node.features.end(),
                                             job.gpu_type) == node.features.end())
        continue;
      if (!constraint.matches(node.features)) continue;
      e.mask[n / 64] |= uint64_t{1} << (n % 64);
      e.any_schedulable = e.any_schedulable || node.schedulable;
    }
    return e;
  }

 private:
  const Snapshot& s_;
  size_t words_;
  Entry none_{0, true, true, {}};
  std::unordered_map<std::string, Entry> cache_;
};

// The state of one pass: the free pool now, the plan, and what already failed.
class Pass {
 public:
  explicit Pass(const Snapshot& s)
      : s_(s),
        pool_(s.nodes),
        network_(s.network, s.nodes.size()),
        eligibility_(s, pool_.maskWords()),
        throttle_(s.array_running),
        tried_(s.pools.size() + 1, 0),
        taken_(s.running.size(), false),
        groups_(s.quota_groups) {
    if (s.policy != Policy::kFirstFit) profile_.emplace(s, pool_);
    // Victims still ending: their job's own while it waits, anyone's once it does not. (Only
    // when there are any: a pass over 100,000 pending jobs must not pay for a set of them.)
    std::unordered_set<uint64_t> targets;
    for (const RunningJob& r : s.running)
      if (r.preempted_for != 0) targets.insert(r.preempted_for);
    std::unordered_set<uint64_t> waiting;
    if (!targets.empty())
      for (const JobRequest& j : s.pending)
        if (targets.count(j.id)) waiting.insert(j.id);
    // Delay scheduling's waits are per job (a dataflow job's tasks share one): the earliest
    // wait any of its tasks carries.
    for (size_t i = 0; i < s.pending.size(); ++i) {
      const JobRequest& j = s.pending[i];
      if (!j.hasLocality()) continue;
      const uint64_t g = waitGroup(j);
      group_of_.emplace(j.id, g);
      auto [it, fresh] = waits_.try_emplace(g);
      if (fresh) it->second.first_index = i;
      int64_t& since = it->second.since;
      if (j.locality_wait_since_ms > 0 && (since == 0 || j.locality_wait_since_ms < since))
        since = j.locality_wait_since_ms;
    }
    for (size_t i = 0; i < s.running.size(); ++i) {
      const uint64_t for_job = s.running[i].preempted_for;
      if (for_job == 0) continue;
      if (waiting.count(for_job)) own_[for_job].push_back(i);
      else orphans_.push_back(i);  // what it was preempted for runs already, or is gone
    }
  }

  std::vector<Decision> run() {
    std::vector<Decision> decisions;
    if (s_.report_waiting) decisions.reserve(s_.pending.size());
    auto decideOne = [&](size_t index) {
      Decision d = decide(s_.pending[index]);
      if (postponed_) {  // relaxed, but local slots go first: decided after the others
        postponed_ = false;
        relaxed_.push_back(index);
        return;
      }
      for (Decision& p : preempts_) decisions.push_back(std::move(p));
      preempts_.clear();
      // Without report_waiting a waiting job's wait comes in one decision per job, added by
      // settleLocalityWaits (a backlog of thousands of skipped tasks costs no decision each).
      if (s_.report_waiting || d.kind == Decision::Kind::kStart) decisions.push_back(std::move(d));
    };
    // EASY++: a job whose pool has made its reservations waits for the backfill phase, where
    // such jobs go shortest planned run time first.
    std::vector<size_t> deferred;
    for (size_t index : passOrder(s_.pending)) {
      // Every job needs at least one core: with none free, the rest of the pass starts nothing.
      if (!s_.report_waiting && pool_.totalFreeCores() == 0) break;
      if (s_.policy == Policy::kEasyPredict && tried(s_.pending[index]) >= depth(s_.pending[index])) {
        deferred.push_back(index);
        continue;
      }
      decideOne(index);
    }
    // Jobs whose locality wait is over take rack-local and remote slots only now, once every
    // job has had its chance at a node-local one: a freed slot goes to a task whose data is
    // there before a relaxed task takes it for a remote read.
    local_phase_ = false;
    for (size_t index : relaxed_) {
      if (!s_.report_waiting && pool_.totalFreeCores() == 0) break;
      decideOne(index);
    }
    if (deferred.empty() || (!s_.report_waiting && pool_.totalFreeCores() == 0)) {
      settleLocalityWaits(decisions);
      return decisions;
    }
    const size_t kept = shortestFirst(deferred);
    if (!s_.report_waiting) deferred.resize(kept);  // the others cannot start
    for (size_t index : deferred) {
      if (!s_.report_waiting && pool_.totalFreeCores() == 0) break;
      decideOne(index);
    }
    settleLocalityWaits(decisions);
    return decisions;
  }

  // Reservations attempted in the job's pool, and how many it may make (Snapshot::pool_reserve_depth).
  uint32_t& tried(const JobRequest& job) {
    return tried_[job.pool < s_.pools.size() ? job.pool : s_.pools.size()];
  }
  uint32_t depth(const JobRequest& job) const {
    if (job.pool < s_.pool_reserve_depth.size() && s_.pool_reserve_depth[job.pool] != kPassDepth)
      return s_.pool_reserve_depth[job.pool];
    return s_.reserve_depth;
  }

  // EASY++'s backfill order: reorders `order` shortest planned run time first (ties keep pass
  // order). Jobs that need more cores than are free now go last, in pass order, unsorted: free
  // cores only shrink during a pass, so they cannot start and their order changes nothing
  // (unless they may preempt: those are sorted with the rest). A busy cluster's pass then sorts
  // the few jobs that could fit, not the whole queue. Returns where the jobs that cannot start
  // begin.
  size_t shortestFirst(std::vector<size_t>& order) const {
    const uint64_t free = pool_.totalFreeCores();
    std::vector<std::pair<int64_t, size_t>> fitting;  // (planned run time, position in order)
    std::vector<size_t> rest;
    for (size_t i = 0; i < order.size(); ++i) {
      const JobRequest& job = s_.pending[order[i]];
      if (uint64_t{job.ntasks} * job.cpus_per_task <= free || mayPreemptAny(job) || own_.count(job.id)) {
        const int64_t planned = planSeconds(job);
        fitting.emplace_back(planned > 0 ? planned : kNever, i);
      } else {
        rest.push_back(order[i]);
      }
    }
    std::sort(fitting.begin(), fitting.end());  // positions are distinct: a stable order
    for (auto& [planned, i] : fitting) i = order[i];  // positions -> pending indices
    size_t at = 0;
    for (const auto& [planned, index] : fitting) order[at++] = index;
    const size_t kept = at;
    for (size_t index : rest) order[at++] = index;
    return kept;
  }

 private:
  Decision decide(const JobRequest& job) {
    if (requestProblem(job)) return pending(job.id, kReasonBadConstraints);
    const Eligibility::Entry& eligible = eligibility_.of(job);
    if (!eligible.valid) return pending(job.id, kReasonBadConstraints);
    if (!eligible.any_schedulable) return pending(job.id, kReasonNodeNotAvail);
    PlaceContext ctx;
    ctx.network = &network_;
    ctx.allowed = eligible.key == 0 ? nullptr : &eligible.mask;
    ctx.max_switches = job.switches_wait_until > s_.now ? job.max_switches : 0;
    // Throttled before resources: a throttled task must not be reported as waiting for nodes.
    if (throttle_.atLimit(job)) return pending(job.id, kReasonArrayLimit);
    if (blocked_) return pending(job.id, kReasonPriority);
    // Before building per-node counts: a huge node count must cost nothing.
    const bool never = job.nodes > s_.nodes.size();
    const std::vector<uint32_t> counts =
        job.nodes > 0 && !never ? fixedTaskCounts(job) : std::vector<uint32_t>{};

    if (!never) {
      std::optional<std::vector<NodeAllocation>> allocation;
      LocalStart local;
      if (!job.hasLocality()) {
        allocation = startNow(job, counts, ctx, eligible.key);
      } else {
        local = startNearData(job, counts, ctx, eligible.key);
        if (postponed_) return pending(job.id, kReasonLocality);  // not reported: run() decides it later
        if (local.skipped) {
          waits_.at(waitGroup(job)).skipped.push_back(static_cast<size_t>(&job - s_.pending.data()));
          return pending(job.id, kReasonLocality);  // its wait: settleLocalityWaits
        }
        allocation = std::move(local.allocation);
      }
      if (allocation) {
        throttle_.started(job);
        // Its victims still ending are anyone's now: another preempting job may count on them.
        if (auto own = own_.find(job.id); own != own_.end())
          orphans_.insert(orphans_.end(), own->second.begin(), own->second.end());
        if (profile_) profile_->addStart(*allocation, windowEnd(s_.now, holdSeconds(job)));
        Decision d;
        d.kind = Decision::Kind::kStart;
        d.job_id = job.id;
        if (job.hasLocality()) {
          d.locality = classify(job, allocation->front().node);
          if (d.locality == Locality::kNodeLocal) waits_.at(waitGroup(job)).launched_local = true;
        }
        d.allocation = std::move(*allocation);
        d.start_at = s_.now;
        return d;
      }
    }

    if (!never && (job.preempts != 0 || job.reclaim_group != kNoGroup || own_.count(job.id)))
      if (preempt(job, counts, ctx)) return pending(job.id, kReasonPreempting);
    if (job.strict_locality) return pending(job.id, kReasonResources);  // no plan elsewhere

    if (s_.policy == Policy::kFcfs) blocked_ = true;
    // Failed attempts count too: without running jobs in the snapshot no job can be reserved,
    // and trying each of 100,000 blocked jobs would cost a sweep each.
    const bool reserve =
        s_.policy == Policy::kConservative ||
        ((s_.policy == Policy::kEasy || s_.policy == Policy::kEasyPredict ||
          s_.policy == Policy::kFcfs) &&
         tried(job) < depth(job));
    if (!reserve) return pending(job.id, kReasonResources);
    ++tried(job);
    auto plan =
        never ? std::nullopt : profile_->earliestStart(job, counts, planSeconds(job), pool_, ctx);
    if (!plan) return pending(job.id, kReasonResources);
    profile_->addReservation(plan->start, windowEnd(plan->start, planSeconds(job)), plan->uses);
    // EASY++'s starvation guard: a job reserved this long after its submission is protected
    // as plain EASY protects: later jobs must end before its reservation by their time limits.
    if (s_.policy == Policy::kEasyPredict && s_.protect_after_s > 0 &&
        s_.now - job.submit_time >= s_.protect_after_s)
      protected_ = true;
    Decision d = pending(job.id, kReasonResources);
    d.kind = Decision::Kind::kReserve;
    d.start_at = plan->start;
    d.planned = std::move(plan->uses);
    return d;
  }

  // How long a job started now holds its resources in the plan: its prediction, unless a
  // protected reservation asks for the guarantee of time limits.
  int64_t holdSeconds(const JobRequest& job) const {
    return protected_ ? job.time_limit_s : planSeconds(job);
  }

  struct LocalStart {
    std::optional<std::vector<NodeAllocation>> allocation;
    bool skipped = false;  // fits elsewhere now, but waits for a local slot
  };

  int64_t nowMs() const { return s_.now_ms != 0 ? s_.now_ms : s_.now * 1000; }

  // Delay scheduling: the job's input nodes first, then (after locality_wait_node_ms of being
  // skipped) their racks, then (after locality_wait_rack_ms more) anywhere. A restricted
  // attempt's failure is not remembered in failed_: the same shape may fit elsewhere.
  LocalStart startNearData(const JobRequest& job, const std::vector<uint32_t>& counts,
                           const PlaceContext& ctx, uint32_t eligibility_key) {
    LocalStart r;
    const int64_t since = waits_.at(waitGroup(job)).since;
    const int64_t waited = since > 0 ? nowMs() - since : 0;
    // Racks named without nodes are the first level.
    const int64_t rack_after = job.input_sites.empty() ? 0 : s_.locality_wait_node_ms;
    const int64_t any_after = anyAfterMs();
    const bool has_racks = hasRacks();

    if (!job.input_sites.empty() && (r.allocation = startOnSites(job, counts, ctx, eligibility_key))) return r;
    if (local_phase_ && waited >= rack_after) {
      postponed_ = true;  // run() decides it again after the others' node-local tries
      return r;
    }
    if (has_racks && waited >= rack_after) {
      if (buildRackMask(job, ctx)) {
        PlaceContext rack = ctx;
        rack.allowed = &rack_mask_;
        if ((r.allocation = startNow(job, counts, rack, eligibility_key, false))) return r;
      }
    }
    if (waited >= any_after && !job.strict_locality) {  // a strict job never goes anywhere
      r.allocation = startNow(job, counts, ctx, eligibility_key);
      return r;
    }
    // Not allowed further yet: wait only if something elsewhere is free for it now.
    r.skipped = fitsNow(job, counts, ctx, eligibility_key);
    return r;
  }

  bool hasRacks() const { return !network_.flat() && !s_.network.switch_of_node.empty(); }
  int64_t anyAfterMs() const {
    return hasRacks() ? s_.locality_wait_node_ms + s_.locality_wait_rack_ms : s_.locality_wait_node_ms;
  }
  static uint64_t waitGroup(const JobRequest& job) { return job.array_job_id != 0 ? job.array_job_id : job.id; }

  // A job's wait after the pass, by Spark's rule since SPARK-18886: it starts (or goes on) when
  // the job declined resources for locality that are still idle at the end of the pass; it
  // restarts when the job started a node-local task and declined nothing; otherwise (nothing
  // free, or what it skipped went to other jobs) it stays as it was. A job whose data sits on a
  // few busy nodes while others idle therefore relaxes after a bounded wait whatever its own
  // local starts, and a big job on a busy cluster, whose skipped slots go to its own local
  // tasks or to other jobs, keeps its locality. Every decision of the job carries the result
  // (and without report_waiting at least one does, a pending one if need be).
  void settleLocalityWaits(std::vector<Decision>& decisions) {
    if (waits_.empty()) return;
    const int64_t now = nowMs();
    for (auto& [group, w] : waits_) {
      bool declined = false;
      size_t checks = 0;
      for (size_t i : w.skipped) {
        if (checks++ == 8) break;  // tasks of one job ask alike: a few tell
        const JobRequest& job = s_.pending[i];
        const Eligibility::Entry& e = eligibility_.of(job);
        PlaceContext ctx;
        ctx.network = &network_;
        ctx.allowed = e.key == 0 ? nullptr : &e.mask;
        ctx.max_switches = job.switches_wait_until > s_.now ? job.max_switches : 0;
        const std::vector<uint32_t> counts = job.nodes > 0 ? fixedTaskCounts(job) : std::vector<uint32_t>{};
        if (fitsNow(job, counts, ctx, e.key)) {
          declined = true;
          break;
        }
      }
      if (declined) w.next = w.since > 0 ? w.since : now;
      else if (w.launched_local) w.next = 0;
      else w.next = w.since;
      if (declined) {
        const int64_t waited = now - w.next;
        w.retry_at = w.next + (hasRacks() && waited < s_.locality_wait_node_ms ? s_.locality_wait_node_ms : anyAfterMs());
        if (w.retry_at <= now) w.retry_at = 0;  // relaxed already: nothing to wake for
      }
    }
    std::unordered_set<uint64_t> carried;
    for (Decision& d : decisions) {
      if (d.kind == Decision::Kind::kPreempt) continue;
      auto g = group_of_.find(d.job_id);
      if (g == group_of_.end()) continue;
      const GroupWait& w = waits_.at(g->second);
      d.locality_wait_since_ms = w.next;
      d.locality_retry_at_ms = d.kind == Decision::Kind::kStart ? 0 : w.retry_at;
      if (d.kind != Decision::Kind::kStart) carried.insert(g->second);  // a start takes it nowhere
    }
    if (s_.report_waiting) return;
    std::unordered_set<uint64_t> started;
    for (const Decision& d : decisions)
      if (d.kind == Decision::Kind::kStart) started.insert(d.job_id);
    for (const auto& [group, w] : waits_) {
      if (w.next == 0 || carried.count(group)) continue;
      // Carried by a task still pending: one it skipped if any (the reason a caller shows), else
      // any that did not start.
      size_t index = SIZE_MAX;
      if (!w.skipped.empty()) index = w.skipped.front();
      for (size_t i = w.first_index; index == SIZE_MAX && i < s_.pending.size(); ++i) {
        const JobRequest& j = s_.pending[i];
        if (j.hasLocality() && waitGroup(j) == group && !started.count(j.id)) index = i;
      }
      if (index == SIZE_MAX) continue;  // every task of it started
      Decision d = pending(s_.pending[index].id, w.skipped.empty() ? kReasonResources : kReasonLocality);
      d.locality_wait_since_ms = w.next;
      d.locality_retry_at_ms = w.retry_at;
      decisions.push_back(std::move(d));
    }
  }

  // On the input nodes: a one-node job on each in turn, most bytes first; then (or for a
  // multi-node job) on the input nodes together.
  std::optional<std::vector<NodeAllocation>> startOnSites(const JobRequest& job,
                                                          const std::vector<uint32_t>& counts,
                                                          const PlaceContext& ctx,
                                                          uint32_t eligibility_key) {
    constexpr size_t kMostSites = 16;  // a few replicas each; bounds the cost of a wide input
    site_mask_.assign(pool_.maskWords(), 0);
    PlaceContext sites = ctx;
    sites.allowed = &site_mask_;
    size_t tried = 0;
    for (const InputSite& site : job.input_sites) {
      if (site.node >= s_.nodes.size() || !allowedBy(ctx, site.node)) continue;
      // A node without the cores for the whole job is skipped without a walk: on a busy cluster
      // most input nodes are full, and this is the check that fails.
      if (job.nodes <= 1 && tried++ < kMostSites && pool_.listed(site.node) &&
          pool_.freeCores(site.node) >= uint64_t{job.ntasks} * job.cpus_per_task) {
        site_mask_[site.node / 64] |= uint64_t{1} << (site.node % 64);
        auto allocation = startNow(job, counts, sites, eligibility_key, false);
        site_mask_[site.node / 64] &= ~(uint64_t{1} << (site.node % 64));
        if (allocation) return allocation;
      }
    }
    // One node or one task: the sites one by one were every placement there is.
    if (job.nodes == 1 || job.ntasks <= 1) return std::nullopt;
    for (const InputSite& site : job.input_sites)
      if (site.node < s_.nodes.size() && allowedBy(ctx, site.node))
        site_mask_[site.node / 64] |= uint64_t{1} << (site.node % 64);
    return startNow(job, counts, sites, eligibility_key, false);
  }

  static bool allowedBy(const PlaceContext& ctx, uint32_t node) {
    return ctx.allowed == nullptr || ((*ctx.allowed)[node / 64] >> (node % 64) & 1) != 0;
  }

  // The leaf switch of a node; Network::kNoSwitch when it hangs off no switch.
  uint32_t rackOf(uint32_t node) const {
    return node < s_.network.switch_of_node.size() ? s_.network.switch_of_node[node]
                                                   : Network::kNoSwitch;
  }

  // rack_mask_: the eligible nodes in the racks of the job's input nodes. False when none.
  bool buildRackMask(const JobRequest& job, const PlaceContext& ctx) {
    if (rack_nodes_.empty()) {
      rack_nodes_.resize(s_.network.parent.size());
      for (uint32_t n = 0; n < s_.nodes.size(); ++n)
        if (const uint32_t rack = rackOf(n); rack < rack_nodes_.size()) rack_nodes_[rack].push_back(n);
    }
    rack_mask_.assign(pool_.maskWords(), 0);
    bool any = false;
    auto addRack = [&](uint32_t rack) {
      if (rack >= rack_nodes_.size()) return;
      for (uint32_t n : rack_nodes_[rack]) {
        if (!allowedBy(ctx, n)) continue;
        rack_mask_[n / 64] |= uint64_t{1} << (n % 64);
        any = true;
      }
    };
    // A strict request's rack level is the racks it named, not its nodes' racks.
    if (!job.strict_locality)
      for (const InputSite& site : job.input_sites)
        addRack(site.node < s_.nodes.size() ? rackOf(site.node) : Network::kNoSwitch);
    for (uint32_t rack : job.input_racks) addRack(rack);
    return any;
  }

  Locality classify(const JobRequest& job, uint32_t node) const {
    for (const InputSite& site : job.input_sites)
      if (site.node == node) return Locality::kNodeLocal;
    const uint32_t rack = rackOf(node);
    if (rack != Network::kNoSwitch) {
      for (const InputSite& site : job.input_sites)
        if (site.node < s_.nodes.size() && rackOf(site.node) == rack) return Locality::kRackLocal;
      for (uint32_t r : job.input_racks)
        if (r == rack) return Locality::kRackLocal;
    }
    return Locality::kRemote;
  }

  // Whether the job could be placed on what is free now, reservations aside (the pool is left
  // as it was). A shape that failed before in the pass, for any window, cannot; a failure here
  // is remembered like startNow's (on a busy cluster most skipped jobs then cost a lookup).
  bool fitsNow(const JobRequest& job, const std::vector<uint32_t>& counts, const PlaceContext& ctx,
               uint32_t eligibility_key) {
    if (uint64_t{job.ntasks} * job.cpus_per_task > pool_.totalFreeCores()) return false;
    Shape shape = job.nodes > 0 ? fixedShape(job, counts) : flexibleShape(job);
    shape.eligibility = eligibility_key;
    shape.max_switches = ctx.max_switches;
    shape.window_s = kNever;  // covered by a failure for any window
    if (failed_.covers(shape)) return false;
    // A one-node job of a shape that fit on a node still able to hold it fits: a backlog of
    // skipped tasks (a dataflow job waiting for its data's nodes) then costs a check each, not
    // a walk each. Example: 1-replica 100 ms tasks in bench/locality, 8.7 ms per pass before.
    // The key is a hash: two shapes may share it, which costs only a wrong hint, since the node
    // is checked against this job's own needs and nodes before it counts.
    const bool one_node = job.nodes <= 1 && (job.nodes == 1 || job.ntasks <= 1);
    const uint64_t key = (uint64_t{eligibility_key} << 40) ^ (uint64_t{job.ntasks} * job.cpus_per_task << 20) ^
                         (job.mem_mb << 4) ^ gpusFor(job, job.ntasks);
    if (one_node) {
      auto hit = fits_on_.find(key);
      if (hit != fits_on_.end()) {
        const uint32_t n = hit->second;
        if (pool_.listed(n) && pool_.freeCores(n) >= uint64_t{job.ntasks} * job.cpus_per_task &&
            pool_.freeMem(n) >= job.mem_mb && pool_.freeGpus(n) >= gpusFor(job, job.ntasks) && allowedBy(ctx, n))
          return true;
      }
    }
    auto picks = job.nodes > 0 ? chooseFixed(job, counts, pool_, ctx) : chooseFlexible(job, pool_, ctx);
    if (!picks) {
      shape.window_s = 0;  // failed on what is free now, whatever the window
      failed_.add(shape);
      return false;
    }
    if (one_node && picks->size() == 1) fits_on_[key] = picks->front().node;
    release(*picks, pool_);
    return true;
  }

  // Commits the job into the pool now if it fits without delaying a reservation. A failure is
  // remembered for the rest of the pass (failed_) unless `remember` is false (a placement
  // restricted to some nodes: the same shape may fit on others).
  std::optional<std::vector<NodeAllocation>> startNow(const JobRequest& job,
                                                      const std::vector<uint32_t>& counts,
                                                      const PlaceContext& ctx,
                                                      uint32_t eligibility_key,
                                                      bool remember = true) {
    if (uint64_t{job.ntasks} * job.cpus_per_task > pool_.totalFreeCores()) return std::nullopt;
    Shape shape = job.nodes > 0 ? fixedShape(job, counts) : flexibleShape(job);
    shape.eligibility = eligibility_key;
    shape.max_switches = ctx.max_switches;
    shape.window_s = holdSeconds(job) > 0 ? holdSeconds(job) : kNever;
    // A shape that failed on all eligible nodes fails on any subset of them too.
    if (failed_.covers(shape)) return std::nullopt;

    // Choose as if the pool were all there is; if a picked node is needed by a reservation
    // within the job's window, lower that node to what the reservations leave it and choose
    // again. Each round lowers at least one node, and lowering only ever removes choices, so a
    // failure with some nodes not yet lowered is a failure with all of them lowered.
    const int64_t end = windowEnd(s_.now, holdSeconds(job));
    std::optional<std::vector<NodeAllocation>> allocation;
    limited_.clear();
    while (true) {
      auto picks = job.nodes > 0 ? chooseFixed(job, counts, pool_, ctx)
                                 : chooseFlexible(job, pool_, ctx);
      if (!picks) break;
      bool conflict = false;
      if (profile_ && profile_->hasReservations()) {
        for (const Pick& p : *picks) {
          if (!profile_->reserved(p.node)) continue;
          const Profile::Drop drop = profile_->windowDrop(p.node, s_.now, end);
          const int64_t cores = pool_.realFreeCores(p.node) + drop.cores;
          const int64_t mem = static_cast<int64_t>(pool_.realFreeMem(p.node)) + drop.mem_mb;
          const int64_t gpus = int64_t{pool_.realFreeGpus(p.node)} + drop.gpus;
          if (cores >= int64_t{p.tasks} * job.cpus_per_task &&
              mem >= static_cast<int64_t>(job.mem_mb) && gpus >= gpusFor(job, p.tasks)) {
            continue;
          }
          conflict = true;
          lowered_.push_back({p.node, static_cast<uint32_t>(std::max<int64_t>(0, cores)),
                              static_cast<uint64_t>(std::max<int64_t>(0, mem)),
                              static_cast<uint32_t>(std::max<int64_t>(0, gpus))});
        }
      }
      if (!conflict) {
        allocation = commit(job, *picks, pool_);
        break;
      }
      release(*picks, pool_);
      for (NodeUse& l : lowered_) {
        if (auto r = reserved_.find(l.node); r != reserved_.end()) {
          auto less = [](uint64_t have, uint64_t keep) { return have > keep ? have - keep : 0; };
          l.cores = std::min<uint32_t>(l.cores, static_cast<uint32_t>(less(pool_.realFreeCores(l.node), r->second.cores)));
          l.mem_mb = std::min<uint64_t>(l.mem_mb, less(pool_.realFreeMem(l.node), r->second.mem_mb));
          l.gpus = std::min<uint32_t>(l.gpus, static_cast<uint32_t>(less(pool_.realFreeGpus(l.node), r->second.gpus)));
        }
        pool_.limit(l.node, l.cores, l.mem_mb, l.gpus);
        limited_.push_back(l.node);
      }
      lowered_.clear();
    }
    for (uint32_t n : limited_) {
      pool_.unlimit(n);
      applyReserved(n);  // what a preempting job keeps stays kept
    }
    if (!allocation && remember) {
      if (limited_.empty()) shape.window_s = 0;  // failed on what is free now, whatever the window
      failed_.add(shape);
    }
    return allocation;
  }

  // Makes room for the job by preemption (preemption.hpp). True when it will fit once its
  // victims (new ones, in preempts_, or those of earlier passes) are gone: the nodes it will use
  // are then kept from the jobs after it in this pass.
  bool preempt(const JobRequest& job, const std::vector<uint32_t>& counts, const PlaceContext& ctx) {
    // Its own victims still ending, and those whose preemptor started without them (orphans): a
    // resource soon free is not a reason to preempt more. Found running two jobs that each
    // preempted for itself: the first took the second's freed core, and the second, its victim
    // gone, preempted again.
    std::vector<size_t> own;
    if (auto it = own_.find(job.id); it != own_.end()) own = it->second;
    std::vector<size_t> orphans;
    for (size_t i : orphans_)
      if (!taken_[i]) orphans.push_back(i);
    VictimChoice choice = chooseVictims(job, s_, pool_, ctx, counts, own, orphans, taken_, groups_);
    if (!choice.fits) return false;
    // The orphans it counts on are its own from now on (in this pass).
    for (size_t i : choice.claimed) taken_[i] = true;
    std::vector<size_t> mine = own;
    mine.insert(mine.end(), choice.claimed.begin(), choice.claimed.end());
    mine.insert(mine.end(), choice.victims.begin(), choice.victims.end());
    for (size_t v : choice.victims) {
      taken_[v] = true;
      Decision d;
      d.kind = Decision::Kind::kPreempt;
      d.job_id = s_.running[v].id;
      d.preempted_for = job.id;
      preempts_.push_back(std::move(d));
    }
    // Keep from later jobs what it will take of what is free now: its share on each node it
    // will use, less what its victims there give back. (Not the whole node: found hiding nodes
    // whole made the next preempting jobs preempt again for cores that were free.)
    for (const Pick& p : choice.picks) {
      int64_t cores = int64_t{p.tasks} * job.cpus_per_task;
      int64_t mem = static_cast<int64_t>(job.mem_mb);
      int64_t gpus = gpusFor(job, p.tasks);
      for (size_t i : mine)
        for (const NodeUse& u : s_.running[i].use)
          if (u.node == p.node) {
            cores -= u.cores;
            if (!s_.running[i].keeps_memory) mem -= static_cast<int64_t>(u.mem_mb);
            gpus -= u.gpus;
          }
      NodeUse& r = reserved_[p.node];
      r.node = p.node;
      r.cores += static_cast<uint32_t>(std::max<int64_t>(0, cores));
      r.mem_mb += static_cast<uint64_t>(std::max<int64_t>(0, mem));
      r.gpus += static_cast<uint32_t>(std::max<int64_t>(0, gpus));
      applyReserved(p.node);
    }
    return true;
  }

  // Lists a node with what preempting jobs of this pass keep of it taken away.
  void applyReserved(uint32_t node) {
    auto it = reserved_.find(node);
    if (it == reserved_.end()) return;
    const NodeUse& r = it->second;
    auto less = [](uint64_t have, uint64_t keep) { return have > keep ? have - keep : 0; };
    pool_.limit(node, static_cast<uint32_t>(less(pool_.realFreeCores(node), r.cores)),
                less(pool_.realFreeMem(node), r.mem_mb), static_cast<uint32_t>(less(pool_.realFreeGpus(node), r.gpus)));
  }

  const Snapshot& s_;
  FreePool pool_;
  NetworkIndex network_;
  Eligibility eligibility_;
  std::optional<Profile> profile_;
  FailedShapes failed_;
  ArrayThrottle throttle_;
  bool blocked_ = false;  // kFcfs: a job did not fit; everything after it waits
  bool protected_ = false;  // kEasyPredict: a starving job is reserved; later jobs by their limits
  std::vector<uint32_t> tried_;  // per pool (+ one for no pool): reservations attempted (kEasy,
                                 // kEasyPredict and kFcfs count them against the depth)
  std::vector<uint32_t> limited_;
  std::vector<NodeUse> lowered_;
  std::vector<bool> taken_;      // running job i is a victim of this pass already
  std::vector<QuotaGroup> groups_;  // borrowing left after this pass's reclaims
  std::unordered_map<uint64_t, std::vector<size_t>> own_;  // pending job -> its victims still ending
  std::vector<size_t> orphans_;  // victims still ending whose preemptor no longer waits for them
  std::unordered_map<uint32_t, NodeUse> reserved_;  // node -> kept for preempting jobs of the pass
  std::vector<Decision> preempts_;  // the current job's kPreempt decisions
  // Delay scheduling, per job (waitGroup: a dataflow job's tasks are one): its wait coming in,
  // what the pass did, and its wait going out (settleLocalityWaits).
  struct GroupWait {
    int64_t since = 0;        // the earliest wait its tasks carried in; 0: not waiting
    size_t first_index = 0;   // a pending task of it
    std::vector<size_t> skipped;  // its tasks skipped for locality (pending indices)
    bool launched_local = false;
    int64_t next = 0;
    int64_t retry_at = 0;
  };
  std::unordered_map<uint64_t, GroupWait> waits_;     // by group
  bool local_phase_ = true;       // relaxed jobs try their input nodes only, then wait (relaxed_)
  bool postponed_ = false;        // the job just decided went to relaxed_
  std::vector<size_t> relaxed_;   // pending indices: relaxed jobs not placed node-local
  std::unordered_map<uint64_t, uint64_t> group_of_;   // job id -> group, jobs with input only
  // fitsNow: for a one-node request (eligibility, cores, memory, GPUs hashed), the node it last
  // fit on in this pass.
  std::unordered_map<uint64_t, uint32_t> fits_on_;
  std::vector<uint64_t> site_mask_;  // scratch: the input nodes a placement may use
  std::vector<uint64_t> rack_mask_;  // scratch: the nodes of the input nodes' racks
  std::vector<std::vector<uint32_t>> rack_nodes_;  // per switch: the nodes under it; on first use
};

}  // namespace

std::vector<Decision> schedulePass(const Snapshot& snapshot) { return Pass(snapshot).run(); }

std::string_view localityName(Locality l) {
  switch (l) {
    case Locality::kNone:
      return "none";
    case Locality::kNodeLocal:
      return "node_local";
    case Locality::kRackLocal:
      return "rack_local";
    case Locality::kRemote:
      return "remote";
  }
  return "none";
}

std::string_view policyName(Policy policy) {
  switch (policy) {
    case Policy::kFirstFit:
      return "firstfit";
    case Policy::kFcfs:
      return "fcfs";
    case Policy::kEasy:
      return "easy";
    case Policy::kConservative:
      return "conservative";
    case Policy::kEasyPredict:
      return "easy-predict";
  }
  return "unknown";
}

std::optional<Policy> parsePolicy(std::string_view name) {
  for (Policy p : {Policy::kFirstFit, Policy::kFcfs, Policy::kEasy, Policy::kConservative,
                   Policy::kEasyPredict}) {
    if (policyName(p) == name) return p;
  }
  return std::nullopt;
}

}  // namespace locus::scheduler
