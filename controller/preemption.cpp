// Acting on the scheduler core's kPreempt decisions (see preemption_policy.hpp for who may
// preempt whom, and scheduler/preemption.hpp for how victims are chosen).
#include "common/logging.hpp"
#include "common/time_util.hpp"
#include "controller/controller.hpp"
#include "controller/controller_internal.hpp"

namespace locus::controller {
using namespace internal;

void Controller::preempt(Job& victim, uint64_t for_job, const std::string& why, int64_t now) {
  PreemptMode mode = preemption_.of(victim.spec.qos).mode;
  // Suspension (SIGSTOP, resources kept in memory) is not built yet: such jobs are requeued.
  if (mode == PreemptMode::kSuspend) mode = PreemptMode::kRequeue;
  // --no-requeue: never requeued under any circumstances, so preemption ends it.
  if (mode == PreemptMode::kRequeue && victim.spec.no_requeue) mode = PreemptMode::kCancel;
  victim.preempted_for = for_job;
  victim.preempted_by = for_job;
  victim.preemption = std::string("preempted (") + modeName(mode) + ") for job " + std::to_string(for_job) +
                      " at " + formatRfc3339(now) + ": " + why;
  if (mode == PreemptMode::kCancel) {
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

}  // namespace locus::controller
