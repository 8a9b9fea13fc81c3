// The controller side of the event log (event_log.hpp): job transitions found where they are
// stored (persist), node state changes, restoring the log at restart, and where a WatchEvents
// stream starts.
//
// Job events are not raised at each of the dozens of places that change a job's state: every
// transition reaches the store through persist(), which compares each job with the state its
// last event left it in (event_state_) and writes an event for each difference in the same
// transaction. A transition that is not stored (its commit failed and it was undone) is no event.
#include <algorithm>

#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"
#include "proto/locus.pb.h"

namespace locus::controller {
using namespace internal;

namespace {

Event jobEvent(const Job& job) {
  Event e;
  e.time = unixNow();
  e.job_id = job.id;
  if (!job.allocation.empty()) e.node = job.allocation.front().node;
  e.user = job.user;
  e.new_state = std::string(toString(job.state));
  e.reason = job.reason;
  e.exit_code = job.exit_code;
  e.array_job_id = job.array_job_id;
  e.array_task_id = job.array_task_id ? static_cast<int64_t>(*job.array_task_id) : -1;
  e.attempt = job.attempt;
  return e;
}

std::string nodeEventKind(NodeState state) {
  switch (state) {
    case NodeState::kUp:
      return "node_up";
    case NodeState::kDown:
      return "node_down";
    case NodeState::kUnknown:
      break;
  }
  return "node_unknown";
}

}  // namespace

proto::Event toProto(const Event& e) {
  proto::Event out;
  out.set_id(e.id);
  out.set_time(e.time);
  out.set_kind(e.kind);
  out.set_job_id(e.job_id);
  out.set_node(e.node);
  out.set_user(e.user);
  out.set_old_state(e.old_state);
  out.set_new_state(e.new_state);
  out.set_reason(e.reason);
  out.set_exit_code(e.exit_code);
  out.set_array_job_id(e.array_job_id);
  out.set_array_task_id(e.array_task_id);
  out.set_attempt(e.attempt);
  return out;
}

Status Controller::loadEvents() {
  auto stored = store_->loadEvents(events_->inMemory());
  if (!stored.ok()) return stored.error();
  const uint64_t last = stored->empty() ? 0 : stored->back().id;
  events_->restore(std::move(*stored), last);
  // Jobs stored before the log existed (an older store) raise no event for where they are now.
  for (const auto& [id, job] : jobs_) event_state_[id] = {job.state, job.attempt, job.held};
  return {};
}

Result<Controller::JobEvents> Controller::storeJobEvents(const std::vector<const Job*>& jobs) {
  JobEvents out;
  uint64_t id = events_->nextId();
  for (const Job* job : jobs) {
    // A job may come twice in one transaction (one id twice in a request): its first change
    // counts as its last event already.
    std::optional<EventState> was;
    auto mine = std::find_if(out.states.rbegin(), out.states.rend(),
                             [&](const auto& s) { return s.first == job->id; });
    if (mine != out.states.rend()) {
      was = mine->second;
    } else if (auto it = event_state_.find(job->id); it != event_state_.end()) {
      was = it->second;
    }
    const bool same_state = was && was->state == job->state && was->attempt == job->attempt;
    if (same_state && was->held == job->held) continue;
    Event e = jobEvent(*job);
    e.id = id++;
    // A pending job held or released (scontrol hold/release) stays PENDING: its own kind.
    e.kind = same_state ? (job->held ? "held" : "released")
                        : jobEventKind(was ? std::optional<JobState>(was->state) : std::nullopt,
                                       job->state, job->reason);
    if (was) e.old_state = std::string(toString(was->state));
    if (Status s = store_->saveEvent(e); !s.ok()) return s.error();
    out.states.emplace_back(job->id, EventState{job->state, job->attempt, job->held});
    out.events.push_back(std::move(e));
  }
  if (!out.events.empty() && id - 1 > events_->kept()) {
    if (Status s = store_->pruneEvents(id - 1 - events_->kept()); !s.ok()) return s.error();
  }
  return out;
}

void Controller::publishJobEvents(JobEvents events) {
  for (const auto& [id, state] : events.states) event_state_[id] = state;
  events_->publish(std::move(events.events));
}

void Controller::setNodeState(Node& node, NodeState state, const std::string& reason) {
  const NodeState was = node.state;
  node.state = state;
  if (was == state) return;
  Event e;
  e.id = events_->nextId();
  e.time = unixNow();
  e.kind = nodeEventKind(state);
  e.node = node.name();
  e.old_state = toString(was);
  e.new_state = toString(state);
  e.reason = reason;
  // Its own transaction: node states are not stored otherwise (a restarted controller starts
  // every node UNKNOWN), but the event must be, before anyone hears of it.
  Status s = store_->begin();
  if (s.ok()) s = store_->saveEvent(e);
  if (s.ok() && e.id > events_->kept()) s = store_->pruneEvents(e.id - events_->kept());
  if (s.ok()) s = store_->commit();
  if (!s.ok()) {
    store_->rollback();
    log()->error("node={} {} event not stored: {}", node.name(), e.new_state, s.error().message);
    return;
  }
  events_->publish({std::move(e)});
}

Result<Controller::EventWatch> Controller::watchEvents(const proto::WatchEventsRequest& request) {
  EventWatch watch;
  watch.filter.job_ids.insert(request.job_ids().begin(), request.job_ids().end());
  watch.filter.user = request.user();
  watch.filter.nodes = request.nodes();
  if (request.has_after_id()) {
    if (request.current_state()) return invalidArgument("current_state does not go with after_id");
    if (Status s = events_->checkResumable(request.after_id()); !s.ok()) return s.error();
    watch.after_id = request.after_id();
    return watch;
  }
  // Events are published under mu_: holding it, the last id and the jobs' states agree.
  std::lock_guard lock(mu_);
  watch.after_id = events_->lastId();
  if (!request.current_state()) return watch;
  if (watch.filter.job_ids.empty()) return invalidArgument("current_state needs job ids");
  std::set<uint64_t> seen;
  auto addCurrent = [&](const Job& job) {
    if (!seen.insert(job.id).second) return;
    Event e = jobEvent(job);
    e.id = watch.after_id;
    e.kind = "current";
    e.old_state = e.new_state;
    watch.current.push_back(std::move(e));
  };
  for (uint64_t id : request.job_ids()) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      // Purged from memory (min_job_age_s): finished, as the store has it.
      std::optional<Job> stored;
      if (config_.min_job_age_s > 0 && id < next_job_id_)
        if (auto loaded = store_->loadJob(id); loaded.ok()) stored = std::move(*loaded);
      if (!stored) return notFound("job " + std::to_string(id) + " not found");
      addCurrent(*stored);
      continue;
    }
    // An array job id stands for every task of the array (consecutive ids from the first).
    auto end = std::next(it);
    if (it->second.array_job_id == id)
      while (end != jobs_.end() && end->second.array_job_id == id) ++end;
    for (; it != end; ++it) addCurrent(it->second);
  }
  std::sort(watch.current.begin(), watch.current.end(),
            [](const Event& a, const Event& b) { return a.job_id < b.job_id; });
  return watch;
}

}  // namespace locus::controller
