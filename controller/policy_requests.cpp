// Policy requests: fair-share and priority views, hold/release/requeue, account changes.
#include "controller/controller.hpp"

#include <algorithm>
#include <filesystem>

#include "common/logging.hpp"
#include "common/slurm_formats.hpp"
#include "common/time_util.hpp"
#include "controller/controller_internal.hpp"
#include "controller/job_environment.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "proto/convert.hpp"
#include "proto/locus.pb.h"
#include <nlohmann/json.hpp>

namespace locus::controller {
using namespace internal;

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
                                   cluster_cores, now, pools_.priorityOf(job.spec.partition));
    auto* p = reply.add_jobs();
    p->set_job_id(job.id);
    p->set_user(job.user);
    p->set_account(account);
    p->set_priority(b.total);
    p->set_age(b.w_age);
    p->set_fairshare(b.w_fairshare);
    p->set_job_size(b.w_job_size);
    p->set_qos(b.w_qos);
    p->set_pool(b.w_partition);
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
        if (job.state == JobState::kSuspended) {
          result->set_message("job " + std::to_string(id) + " is suspended (preempted): cancel it, or requeue it once it runs again");
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
