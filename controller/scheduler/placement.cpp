#include "controller/scheduler/placement.hpp"

#include <algorithm>

#include "common/result.hpp"
#include "controller/scheduler/task_layout.hpp"

namespace locus::scheduler {
namespace {

Need needFor(const JobRequest& job, uint32_t tasks, const PlaceContext& ctx) {
  return Need{uint64_t{tasks} * job.cpus_per_task, job.mem_mb, gpusFor(job, tasks), ctx.allowed};
}

bool tooManySwitches(const std::vector<Pick>& picks, const PlaceContext& ctx) {
  if (ctx.max_switches == 0 || ctx.network == nullptr || ctx.network->flat()) return false;
  std::vector<uint32_t> nodes;
  for (const Pick& p : picks) nodes.push_back(p.node);
  return ctx.network->leavesOf(nodes) > ctx.max_switches;
}

// Tasks a node can take of a flexible job: its cores, its GPUs and the per-node cap.
uint32_t capacityOn(const JobRequest& job, const FreePool& pool, uint32_t node) {
  uint32_t cap = flexibleCapacity(job, pool.freeCores(node));
  if (job.gpus_per_task > 0) {
    const uint32_t gpus = pool.freeGpus(node);
    cap = std::min(cap,
                   gpus < job.gpus_per_node ? 0 : (gpus - job.gpus_per_node) / job.gpus_per_task);
  }
  return cap;
}

// Greedy per slot, largest first: the nodes that fit a larger slot also fit every smaller one,
// so taking any of them for the larger slot never blocks a smaller one; greedy is exact here.
// Slots of one size share a need, and a best fit after hiding the earlier picks is the next node
// in best-fit order, so each run of equal slots is one walk rather than one walk per slot.
// Example: 64 slots of 16 tasks on a full cluster used to walk the busy nodes 64 times.
std::optional<std::vector<Pick>> bestFitPerSlot(const JobRequest& job,
                                                const std::vector<uint32_t>& counts, FreePool& pool,
                                                const PlaceContext& ctx) {
  std::vector<Pick> picks;
  picks.reserve(counts.size());
  for (size_t run = 0; run < counts.size();) {
    const uint32_t tasks = counts[run];
    size_t end = run;
    while (end < counts.size() && counts[end] == tasks) ++end;
    const size_t before = picks.size();
    pool.visitBestFit(needFor(job, tasks, ctx), [&](uint32_t node) {
      picks.push_back({node, tasks});
      return picks.size() - before < end - run;
    });
    for (size_t i = before; i < picks.size(); ++i) pool.hide(picks[i].node);
    if (picks.size() - before < end - run) {
      release(picks, pool);
      return std::nullopt;
    }
    run = end;
  }
  return picks;
}

}  // namespace

std::optional<std::vector<Pick>> chooseFixed(const JobRequest& job,
                                             const std::vector<uint32_t>& counts, FreePool& pool,
                                             const PlaceContext& ctx) {
  // Cheap bounds first: most jobs that fail in a busy pass fail here without touching a node.
  uint64_t total = 0;
  for (uint32_t c : counts) total += uint64_t{c} * job.cpus_per_task;
  if (total > pool.totalFreeCores()) return std::nullopt;
  if (counts.size() > pool.listedNodes()) return std::nullopt;
  if (uint64_t{counts.front()} * job.cpus_per_task > pool.maxFreeCores()) return std::nullopt;

  if (counts.size() > 1 && ctx.network != nullptr && !ctx.network->flat()) {
    // Every node that holds the largest slot, best fits first.
    std::vector<uint32_t> candidates;
    pool.visitMostFree(needFor(job, counts.front(), ctx), [&](uint32_t node) {
      candidates.push_back(node);
      return true;
    });
    // Fewest free cores first, ties in node index order as everywhere else in placement. The
    // walk lists most free first, equal fits by index; reversed whole, equal fits came in
    // reverse index order (on an idle tree -N 2 got n4, n3 instead of n1, n2), so each run of
    // equal free cores is turned back. O(candidates), no sort.
    std::reverse(candidates.begin(), candidates.end());
    for (auto run = candidates.begin(); run != candidates.end();) {
      const uint32_t free = pool.freeCores(*run);
      auto end = std::find_if(run, candidates.end(),
                              [&](uint32_t n) { return pool.freeCores(n) != free; });
      std::reverse(run, end);
      run = end;
    }
    if (auto fit = ctx.network->pickNodes(candidates, static_cast<uint32_t>(counts.size()))) {
      if (ctx.max_switches > 0 && fit->leaves > ctx.max_switches) return std::nullopt;
      std::vector<Pick> picks;
      for (size_t i = 0; i < counts.size(); ++i) {
        pool.hide(fit->nodes[i]);
        picks.push_back({fit->nodes[i], counts[i]});
      }
      return picks;
    }
    // Too few nodes hold the largest slot: uneven slots may still fit, topology-blind, but only
    // if the candidates cover the slots of the largest size (all of them when the slots are
    // equal); the per-slot walk would fail, so skip it.
    const auto largest =
        static_cast<size_t>(std::count(counts.begin(), counts.end(), counts.front()));
    if (candidates.size() < largest) return std::nullopt;
  }
  auto picks = bestFitPerSlot(job, counts, pool, ctx);
  if (picks && tooManySwitches(*picks, ctx)) {
    release(*picks, pool);
    return std::nullopt;
  }
  return picks;
}

std::optional<std::vector<Pick>> chooseFlexible(const JobRequest& job, FreePool& pool,
                                                const PlaceContext& ctx) {
  if (uint64_t{job.ntasks} * job.cpus_per_task > pool.totalFreeCores()) return std::nullopt;
  if (job.cpus_per_task > pool.maxFreeCores()) return std::nullopt;

  // One node, the best fit, when one holds the whole job.
  const Need whole = needFor(job, job.ntasks, ctx);
  if (job.ntasks_per_node == 0 || job.ntasks_per_node >= job.ntasks) {
    if (auto n = pool.bestFit(whole)) {
      pool.hide(*n);
      return std::vector<Pick>{{*n, job.ntasks}};
    }
  }

  // Several nodes: on a switch tree, only those of the lowest subtree that can hold the job.
  PlaceContext inner = ctx;
  std::vector<uint64_t> subtree;
  const Need one = needFor(job, 1, ctx);
  if (ctx.network != nullptr && !ctx.network->flat()) {
    std::vector<uint32_t> candidates, capacity;
    pool.visitMostFree(one, [&](uint32_t node) {
      const uint32_t cap = capacityOn(job, pool, node);
      if (cap > 0) {
        candidates.push_back(node);
        capacity.push_back(cap);
      }
      return true;
    });
    auto mask =
        ctx.network->subtreeWithCapacity(candidates, capacity, job.ntasks, pool.maskWords());
    if (!mask) return std::nullopt;
    subtree = std::move(*mask);
    inner.allowed = &subtree;  // the subtree's candidates already passed ctx.allowed
  }

  // Example: free cores {8, 6, 4} on n0..n2, 10 tasks of 1 cpu: n0 takes 8, the remaining 2 fit
  // on one node, and the best fit for them is n2 -> {n0: 8, n2: 2}, n1 stays whole.
  std::vector<Pick> picks;
  uint32_t remaining = job.ntasks;
  bool remainder_fits = false;
  Need first = needFor(job, 1, inner);
  pool.visitMostFree(first, [&](uint32_t node) {
    const uint32_t cap = capacityOn(job, pool, node);
    if (cap >= remaining) {
      remainder_fits = true;
      return false;
    }
    if (cap > 0) {
      picks.push_back({node, cap});
      remaining -= cap;
    }
    return true;
  });
  if (!remainder_fits) return std::nullopt;

  for (const Pick& p : picks) pool.hide(p.node);
  // The node where the walk stopped holds the remainder, so a best fit exists. Tasks per node
  // need no check here: the stopping node's capacity >= remaining implies the cap allows it.
  const std::optional<uint32_t> last = pool.bestFit(needFor(job, remaining, inner));
  LOCUS_CHECK(last.has_value()) << "job " << job.id << ": no node for the last " << remaining
                                << " tasks";
  pool.hide(*last);
  picks.push_back({*last, remaining});
  if (tooManySwitches(picks, ctx)) {
    release(picks, pool);
    return std::nullopt;
  }
  return picks;
}

std::vector<NodeAllocation> commit(const JobRequest& job, const std::vector<Pick>& picks,
                                   FreePool& pool) {
  std::vector<NodeAllocation> allocation;
  allocation.reserve(picks.size());
  for (const Pick& p : picks) {
    allocation.push_back(
        pool.take(p.node, p.tasks * job.cpus_per_task, job.mem_mb, gpusFor(job, p.tasks), p.tasks));
  }
  return allocation;
}

void release(const std::vector<Pick>& picks, FreePool& pool) {
  for (const Pick& p : picks) pool.unhide(p.node);
}

}  // namespace locus::scheduler
