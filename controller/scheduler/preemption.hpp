#pragma once
// Choosing the running jobs to preempt for one pending job (scheduler.hpp, "Preemption").
//
// The job is placed, count-wise, on what is free now plus what its chosen victims hold. Victims
// come from the running jobs it may preempt (mayPreempt), youngest first (the least work lost;
// then the smaller, then the higher id), added one by one until the job fits; then each chosen
// victim is dropped again, oldest first, if the job still fits without it. So the set is never
// bigger than needed, and what it costs is as recent work as the cluster allows.
// Example: a 4-core job on a full 4-core node running A (2 cores, started 10:00), B (2 cores,
// 10:30) and C (1 core, 10:40) plus 1 free core: C, then B are added (1 + 1 + 2 = 4: fits);
// pruning tries B (without it 2 cores: no) and C (without it 3: no): victims {C, B}, not A.
#include <cstddef>
#include <optional>
#include <vector>

#include "controller/scheduler/free_pool.hpp"
#include "controller/scheduler/placement.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler {

// Whether `job` may preempt `running` now: the running job is preemptible and not being
// preempted already, and either the job may preempt its class, or the job reclaims its
// account's guarantee in a pool where the running job's account borrows (groups: what each
// quota group still holds beyond its guarantee).
bool mayPreempt(const JobRequest& job, const RunningJob& running, const std::vector<QuotaGroup>& groups);

struct VictimChoice {
  bool fits = false;           // the job fits on what is free, its own and the victims' resources
  std::vector<size_t> victims;  // indices into Snapshot::running; empty when `own` suffices
  std::vector<size_t> claimed;  // the `spare` it counts on
  std::vector<Pick> picks;     // where it would go
};

// `now`: the pass's pool (free now, as later jobs in the pass may use it). `own`: running jobs
// whose resources the job counts as its own (its victims from earlier passes, still ending).
// `spare`: jobs being preempted for a job that no longer waits for them; counted on one by one,
// only as far as `own` and what is free fall short, before any new victim. `taken[i]`: running
// job i is a victim of another job in this pass already. `groups`: quota groups' borrowing,
// lowered here by the victims chosen for reclaiming.
VictimChoice chooseVictims(const JobRequest& job, const Snapshot& snapshot, const FreePool& now,
                           const PlaceContext& ctx, const std::vector<uint32_t>& counts,
                           const std::vector<size_t>& own, const std::vector<size_t>& spare,
                           const std::vector<bool>& taken, std::vector<QuotaGroup>& groups);

}  // namespace locus::scheduler
