#include "controller/scheduler/placement.hpp"

#include "common/result.hpp"
#include "controller/scheduler/task_layout.hpp"

namespace locus::scheduler {

std::optional<std::vector<Pick>> chooseFixed(const JobRequest& job,
                                             const std::vector<uint32_t>& counts, FreePool& pool) {
  // Cheap bounds first: most jobs that fail in a busy pass fail here without touching a node.
  uint64_t total = 0;
  for (uint32_t c : counts) total += uint64_t{c} * job.cpus_per_task;
  if (total > pool.totalFreeCores()) return std::nullopt;
  if (counts.size() > pool.listedNodes()) return std::nullopt;
  if (uint64_t{counts.front()} * job.cpus_per_task > pool.maxFreeCores()) return std::nullopt;

  // Largest slot first: the nodes that fit a larger slot also fit every smaller one, so taking
  // any of them for the larger slot never blocks a smaller one; greedy is exact here.
  std::vector<Pick> picks;
  picks.reserve(counts.size());
  for (uint32_t tasks : counts) {
    const std::optional<uint32_t> n = pool.bestFit(uint64_t{tasks} * job.cpus_per_task, job.mem_mb);
    if (!n) {
      release(picks, pool);
      return std::nullopt;
    }
    pool.hide(*n);
    picks.push_back({*n, tasks});
  }
  return picks;
}

std::optional<std::vector<Pick>> chooseFlexible(const JobRequest& job, FreePool& pool) {
  if (uint64_t{job.ntasks} * job.cpus_per_task > pool.totalFreeCores()) return std::nullopt;
  if (job.cpus_per_task > pool.maxFreeCores()) return std::nullopt;

  // Example: free cores {8, 6, 4} on n0..n2, 10 tasks of 1 cpu: n0 takes 8, the remaining 2 fit
  // on one node, and the best fit for them is n2 -> {n0: 8, n2: 2}, n1 stays whole.
  std::vector<Pick> picks;
  uint32_t remaining = job.ntasks;
  bool remainder_fits = false;
  pool.visitMostFree(job.cpus_per_task, job.mem_mb, [&](uint32_t node) {
    const uint32_t cap = flexibleCapacity(job, pool.freeCores(node));
    if (cap >= remaining) {
      remainder_fits = true;
      return false;
    }
    picks.push_back({node, cap});
    remaining -= cap;
    return true;
  });
  if (!remainder_fits) return std::nullopt;

  for (const Pick& p : picks) pool.hide(p.node);
  // The node where the walk stopped holds the remainder, so a best fit exists. Tasks per node
  // need no check here: the stopping node's capacity >= remaining implies the cap allows it.
  const std::optional<uint32_t> last =
      pool.bestFit(uint64_t{remaining} * job.cpus_per_task, job.mem_mb);
  LOCUS_CHECK(last.has_value()) << "job " << job.id << ": no node for the last " << remaining
                                << " tasks";
  pool.hide(*last);
  picks.push_back({*last, remaining});
  return picks;
}

std::vector<NodeAllocation> commit(const JobRequest& job, const std::vector<Pick>& picks,
                                   FreePool& pool) {
  std::vector<NodeAllocation> allocation;
  allocation.reserve(picks.size());
  for (const Pick& p : picks) {
    allocation.push_back(pool.take(p.node, p.tasks * job.cpus_per_task, job.mem_mb, p.tasks));
  }
  return allocation;
}

void release(const std::vector<Pick>& picks, FreePool& pool) {
  for (const Pick& p : picks) pool.unhide(p.node);
}

std::optional<std::vector<NodeAllocation>> placeFixed(const JobRequest& job,
                                                      const std::vector<uint32_t>& counts,
                                                      FreePool& pool) {
  auto picks = chooseFixed(job, counts, pool);
  if (!picks) return std::nullopt;
  return commit(job, *picks, pool);
}

std::optional<std::vector<NodeAllocation>> placeFlexible(const JobRequest& job, FreePool& pool) {
  auto picks = chooseFlexible(job, pool);
  if (!picks) return std::nullopt;
  return commit(job, *picks, pool);
}

}  // namespace locus::scheduler
