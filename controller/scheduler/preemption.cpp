#include "controller/scheduler/preemption.hpp"

#include <algorithm>

namespace locus::scheduler {
namespace {

bool borrows(const QuotaGroup& g) { return g.over_cores > 0 || g.over_mem_mb > 0 || g.over_gpus > 0; }

// Whether any node of the running job is one the job may use.
bool touchesAllowed(const RunningJob& r, const PlaceContext& ctx) {
  if (!ctx.allowed) return true;
  for (const NodeUse& u : r.use)
    if (((*ctx.allowed)[u.node / 64] >> (u.node % 64) & 1) != 0) return true;
  return false;
}

// A count-only copy of what `now` has free (as later jobs of the pass see it).
FreePool countPool(const Snapshot& s, const FreePool& now) {
  const size_t n = s.nodes.size();
  std::vector<uint32_t> cores(n);
  std::vector<uint64_t> mem(n);
  std::vector<uint32_t> gpus(n);
  std::vector<uint8_t> listable(n);
  uint32_t max_cores = 1;
  for (size_t i = 0; i < n; ++i) {
    cores[i] = now.freeCores(static_cast<uint32_t>(i));
    mem[i] = now.freeMem(static_cast<uint32_t>(i));
    gpus[i] = now.freeGpus(static_cast<uint32_t>(i));
    // A hidden node is kept for an earlier preempting job of the pass.
    listable[i] = s.nodes[i].schedulable && !now.hidden(static_cast<uint32_t>(i)) ? 1 : 0;
    max_cores = std::max(max_cores, s.nodes[i].total_cores);
  }
  return FreePool(std::move(cores), std::move(mem), std::move(gpus), std::move(listable), max_cores);
}

// Gives (sign +1) or takes back (-1) a running job's resources to the count pool.
void shift(FreePool& pool, const Snapshot& s, const RunningJob& r, int sign) {
  for (const NodeUse& u : r.use) {
    const uint32_t n = u.node;
    const int64_t cores = int64_t{pool.realFreeCores(n)} + sign * int64_t{u.cores};
    // A job preempted by suspension keeps its memory (its stopped processes hold it).
    const int64_t freed_mem = r.keeps_memory ? 0 : static_cast<int64_t>(u.mem_mb);
    const int64_t mem = static_cast<int64_t>(pool.realFreeMem(n)) + sign * freed_mem;
    const int64_t gpus = int64_t{pool.realFreeGpus(n)} + sign * int64_t{u.gpus};
    const int64_t cap = s.nodes[n].total_cores;
    pool.set(n, static_cast<uint32_t>(std::clamp<int64_t>(cores, 0, cap)), static_cast<uint64_t>(std::max<int64_t>(mem, 0)),
             static_cast<uint32_t>(std::max<int64_t>(gpus, 0)));
  }
}

std::optional<std::vector<Pick>> place(const JobRequest& job, const std::vector<uint32_t>& counts, FreePool& pool,
                                       const PlaceContext& ctx) {
  auto picks = job.nodes > 0 ? chooseFixed(job, counts, pool, ctx) : chooseFlexible(job, pool, ctx);
  if (picks) release(*picks, pool);
  return picks;
}

void lowerBorrowing(QuotaGroup& g, const RunningJob& r) {
  for (const NodeUse& u : r.use) {
    g.over_cores -= u.cores;
    g.over_mem_mb -= static_cast<int64_t>(u.mem_mb);
    g.over_gpus -= u.gpus;
  }
}

}  // namespace

bool mayPreempt(const JobRequest& job, const RunningJob& running, const std::vector<QuotaGroup>& groups) {
  if (!running.preemptible || running.preempted_for != 0) return false;
  if (running.preempt_class < 64 && (job.preempts >> running.preempt_class & 1) != 0) return true;
  if (job.reclaim_group == kNoGroup || running.quota_group == kNoGroup || running.quota_group == job.reclaim_group)
    return false;
  if (job.reclaim_group >= groups.size() || running.quota_group >= groups.size()) return false;
  return groups[job.reclaim_group].pool == groups[running.quota_group].pool && borrows(groups[running.quota_group]);
}

VictimChoice chooseVictims(const JobRequest& job, const Snapshot& s, const FreePool& now, const PlaceContext& ctx,
                           const std::vector<uint32_t>& counts, const std::vector<size_t>& own,
                           const std::vector<size_t>& spare, const std::vector<bool>& taken,
                           std::vector<QuotaGroup>& groups) {
  VictimChoice choice;
  FreePool pool = countPool(s, now);
  for (size_t i : own) shift(pool, s, s.running[i], +1);
  if (auto picks = place(job, counts, pool, ctx)) {
    choice.fits = true;
    choice.picks = std::move(*picks);
    return choice;
  }
  for (size_t i : spare) {
    if (!touchesAllowed(s.running[i], ctx)) continue;
    shift(pool, s, s.running[i], +1);
    choice.claimed.push_back(i);
    if (auto picks = place(job, counts, pool, ctx)) {
      choice.fits = true;
      choice.picks = std::move(*picks);
      return choice;
    }
  }

  std::vector<size_t> candidates;
  for (size_t i = 0; i < s.running.size(); ++i)
    if (!taken[i] && mayPreempt(job, s.running[i], groups) && touchesAllowed(s.running[i], ctx))
      candidates.push_back(i);
  if (candidates.empty()) return choice;
  auto cores = [&](size_t i) {
    uint64_t c = 0;
    for (const NodeUse& u : s.running[i].use) c += u.cores;
    return c;
  };
  std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    const RunningJob& x = s.running[a];
    const RunningJob& y = s.running[b];
    if (x.start_time != y.start_time) return x.start_time > y.start_time;  // youngest first
    if (cores(a) != cores(b)) return cores(a) < cores(b);
    return x.id > y.id;
  });

  // Greedy: youngest first until the job fits. Reclaiming takes from a borrower only while it
  // still borrows (a local copy: nothing changes unless a set that fits is found).
  std::vector<QuotaGroup> left = groups;
  std::vector<size_t> chosen;
  std::optional<std::vector<Pick>> picks;
  for (size_t i : candidates) {
    if (!mayPreempt(job, s.running[i], left)) continue;
    const RunningJob& r = s.running[i];
    if (!(r.preempt_class < 64 && (job.preempts >> r.preempt_class & 1) != 0) && r.quota_group < left.size())
      lowerBorrowing(left[r.quota_group], r);
    shift(pool, s, r, +1);
    chosen.push_back(i);
    if ((picks = place(job, counts, pool, ctx))) break;
  }
  if (!picks) return choice;

  // Prune, oldest first: a victim the job fits without is spared.
  std::vector<size_t> by_age = chosen;
  std::reverse(by_age.begin(), by_age.end());
  std::vector<size_t> kept;
  for (size_t i : by_age) {
    shift(pool, s, s.running[i], -1);
    if (auto without = place(job, counts, pool, ctx)) {
      picks = std::move(without);
      continue;  // spared
    }
    shift(pool, s, s.running[i], +1);
    kept.push_back(i);
  }
  // The borrowing the kept reclaim victims end, for the jobs after this one in the pass.
  for (size_t i : kept) {
    const RunningJob& r = s.running[i];
    if (!(r.preempt_class < 64 && (job.preempts >> r.preempt_class & 1) != 0) && r.quota_group < groups.size())
      lowerBorrowing(groups[r.quota_group], r);
  }
  std::reverse(kept.begin(), kept.end());  // youngest first, as chosen
  choice.fits = true;
  choice.victims = std::move(kept);
  choice.picks = std::move(*picks);
  return choice;
}

}  // namespace locus::scheduler
