// Acting on the scheduler core's kPreempt decisions (see preemption_policy.hpp for who may
// preempt whom, and scheduler/preemption.hpp for how victims are chosen).
#include <algorithm>
#include <csignal>
#include <map>

#include "common/logging.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"
#include "controller/policy/quota.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
using namespace internal;

void Controller::preempt(Job& victim, uint64_t for_job, const std::string& why, int64_t now) {
  if (victim.isLease()) {
    // Revoked with notice: it holds its resources until revoke_at (checkFrameworks ends it),
    // and the preempting job waits for them as for any ending victim.
    victim.preempted_for = for_job;
    victim.preempted_by = for_job;
    victim.revoke_at = now + config_.frameworks.revocation_notice_s;
    victim.preemption = "lease revoked for job " + std::to_string(for_job) + " at " + formatRfc3339(now) + ": " +
                        why + "; its tasks are killed at " + formatRfc3339(victim.revoke_at);
    log()->info("lease={} of framework={} revoked for job={}: {}", victim.id, victim.framework, for_job, why);
    return;
  }
  PreemptMode mode = preemption_.of(victim.spec.qos).mode;
  // --no-requeue: never requeued under any circumstances, so preemption ends it.
  if (mode == PreemptMode::kRequeue && victim.spec.no_requeue) mode = PreemptMode::kCancel;
  victim.preempted_for = for_job;
  victim.preempted_by = for_job;
  victim.preemption = std::string("preempted (") + modeName(mode) + ") for job " + std::to_string(for_job) +
                      " at " + formatRfc3339(now) + ": " + why;
  if (mode == PreemptMode::kSuspend) {
    // SIGSTOP (sent once stored); its cores and GPUs go back to the nodes at once, its memory
    // stays held: the processes keep it. Nothing to wait for, so nothing "preempted for" either.
    victim.state = JobState::kSuspended;
    victim.reason = "Preempted";
    victim.cores_released = true;
    victim.preempted_for = 0;
    for (const auto& a : victim.allocation)
      if (Node* node = findNode(a.node)) node->release(a.cores, 0, a.gpus);
  } else if (mode == PreemptMode::kCancel) {
    // As scancel: terminal now, its resources held until the node confirms the processes gone.
    victim.completing = true;
    victim.cancel_requested = true;
    victim.state = JobState::kCancelled;
    victim.reason = "Preempted";
    victim.end_time = now;
  } else {
    // As scontrol requeue: SIGTERM, the grace, SIGKILL; PENDING again with attempt + 1 at exit.
    victim.requeue_requested = true;
  }
  log()->info("job={} preempted ({}) for job={}: {}", victim.id, modeName(mode), for_job, why);
}

namespace {

proto::QuotaAmount amount(const policy::Resources& r) {
  proto::QuotaAmount a;
  a.set_cores(r.cores);
  a.set_mem_mb(r.mem_mb);
  a.set_gpus(r.gpus);
  return a;
}

policy::Resources resources(const proto::QuotaAmount& a) { return {a.cores(), a.mem_mb(), a.gpus()}; }

}  // namespace

void Controller::resumeSuspended() {
  std::vector<Job*> resumed;
  for (uint64_t id : active_) {
    Job& job = jobs_.at(id);
    if (job.state != JobState::kSuspended || job.completing) continue;
    // Not while the job it was suspended for still waits to start on its cores: that one goes
    // first. A preemptor that no longer tries (held, or held back by a limit) keeps nobody stopped.
    if (pending_.count(job.preempted_by)) {
      const Job& by = jobs_.at(job.preempted_by);
      if (!by.held && by.reason == "Preempting") continue;
    }
    bool free = true;
    for (const auto& a : job.allocation) {
      Node* node = findNode(a.node);
      free = free && node && node->state == NodeState::kUp && node->channel && node->areFree(a.cores, a.gpus);
    }
    if (!free) continue;
    for (const auto& a : job.allocation) findNode(a.node)->allocate(a.cores, 0, a.gpus);
    job.cores_released = false;
    job.state = JobState::kRunning;
    job.reason.clear();
    resumed.push_back(&job);
  }
  if (resumed.empty()) return;
  std::vector<const Job*> to_store(resumed.begin(), resumed.end());
  if (Status s = persist(to_store); !s.ok()) {
    log()->error("resumptions not stored, undone: {}", s.error().message);
    for (Job* job : resumed) {
      for (const auto& a : job->allocation) findNode(a.node)->release(a.cores, 0, a.gpus);
      job->cores_released = true;
      job->state = JobState::kSuspended;
      job->reason = "Preempted";
    }
    return;
  }
  for (Job* job : resumed) {
    sendSignal(*job, SIGCONT);
    log()->info("job={} resumed (SIGCONT): its cores are free again", job->id);
  }
  changed_cv_.notify_all();
}

Result<proto::QuotasReply> Controller::quotas(const std::string& pool_name) {
  std::lock_guard lock(mu_);
  proto::QuotasReply reply;
  if (!pool_name.empty() && !pools_.indexOf(pool_name))
    return notFound("no pool '" + pool_name + "' (pools: " + pools_.namesList() + ")");
  const bool pools_configured = !config_.pools.empty();
  for (const Pool& pool : pools_.all()) {
    if (!pool_name.empty() && pool.name != pool_name) continue;
    reply.add_pools(pool.name);
    // The pool's capacity: its nodes' totals. What each account holds there: its running jobs'.
    policy::Resources total;
    for (const auto& [name, node] : nodes_) {
      if (!pool.hasNode(name)) continue;
      total.cores += node->cores();
      total.mem_mb += node->memMb();
      total.gpus += node->topology().gpus.size();
    }
    std::map<std::string, policy::Resources> by_account;
    for (uint64_t id : active_) {
      const Job& job = jobs_.at(id);
      if (pools_configured && job.spec.partition != pool.name) continue;
      by_account[job.spec.account] = by_account[job.spec.account] + heldBy(job);
    }
    std::vector<std::pair<std::string, policy::Resources>> in_use(by_account.begin(), by_account.end());
    for (const policy::QuotaRow& row : policy::quotaReport(pool.quotas, in_use, total)) {
      auto* r = reply.add_rows();
      r->set_pool(pool.name);
      r->set_account(row.account);
      *r->mutable_guaranteed() = amount(row.guaranteed);
      *r->mutable_max() = amount(row.max);
      *r->mutable_in_use() = amount(row.in_use);
      *r->mutable_borrowed() = amount(row.borrowed);
      *r->mutable_lent() = amount(row.lent);
      r->set_configured(pool.quotaOf(row.account) != nullptr);
    }
  }
  return reply;
}

Status Controller::setQuota(const proto::SetQuotaRequest& request) {
  std::lock_guard lock(mu_);
  const bool is_admin = request.uid() == 0 || std::find(config_.admins.begin(), config_.admins.end(),
                                                        request.user()) != config_.admins.end();
  if (!is_admin) return Error{ErrorCode::kPermissionDenied, "permission denied: only admins may change quotas"};
  const std::string change = quotaChangeToJson(request.pool(), request.account(), request.remove(),
                                               resources(request.guaranteed()), resources(request.max()));
  // Tried on a copy first: stored only if it applies, applied only once stored.
  Pools trial = pools_;
  if (Status s = applyQuotaChange(trial, change); !s.ok()) return s;
  if (Status s = store_->appendQuotaChange(change); !s.ok()) return s;
  pools_ = std::move(trial);
  log()->info("quota {} {} in pool {} by {}", request.remove() ? "removed for" : "set for", request.account(),
              request.pool(), request.user());
  markDirty();  // a raised max or guarantee may let jobs start
  return {};
}

}  // namespace locus::controller
