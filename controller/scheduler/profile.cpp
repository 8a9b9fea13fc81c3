#include "controller/scheduler/profile.hpp"

#include <algorithm>

#include "common/result.hpp"

namespace locus::scheduler {

int64_t windowEnd(int64_t start, int64_t duration_s) {
  if (duration_s <= 0 || start > kNever - duration_s) return kNever;
  return start + duration_s;
}

Profile::Profile(const Snapshot& snapshot, const FreePool& pool)
    : now_(snapshot.now),
      listable_(snapshot.nodes.size(), 0),
      max_cores_(snapshot.nodes.size(), 0),
      max_mem_(snapshot.nodes.size(), 0),
      max_gpus_(snapshot.nodes.size(), 0),
      reserved_(snapshot.nodes.size(), 0) {
  for (size_t n = 0; n < snapshot.nodes.size(); ++n) {
    const NodeState& node = snapshot.nodes[n];
    listable_[n] = node.schedulable ? 1 : 0;
    // A snapshot whose totals are too small for what it says is free or running must not make
    // the plan index past its buckets; the steps are clamped to these.
    max_cores_[n] = std::max(node.total_cores, pool.realFreeCores(static_cast<uint32_t>(n)));
    max_mem_[n] = std::max(node.total_mem_mb, node.free_mem_mb);
    max_gpus_[n] = std::max(static_cast<uint32_t>(node.gpu_numa.size()),
                            pool.realFreeGpus(static_cast<uint32_t>(n)));
  }
  steps_.reserve(snapshot.running.size() * 2);
  for (const RunningJob& job : snapshot.running) {
    if (job.expected_end == 0) continue;  // never ends: its resources stay taken in the plan
    const int64_t end = std::max(job.expected_end, now_ + 1);
    for (const NodeUse& u : job.use) {
      LOCUS_CHECK(u.node < snapshot.nodes.size())
          << "running job " << job.id << " uses node " << u.node << " of " << snapshot.nodes.size();
      if (listable_[u.node]) {
        steps_.push_back({end, u.node, u.cores, static_cast<int64_t>(u.mem_mb), u.gpus});
      }
    }
  }
  // Steps of one time are applied together before anything looks at them, so their order
  // within a time never changes a result and needs no tie breaker.
  auto earlier = [](const Step& a, const Step& b) { return a.time < b.time; };
  if (!std::is_sorted(steps_.begin(), steps_.end(), earlier)) {
    std::sort(steps_.begin(), steps_.end(), earlier);
  }
}

void Profile::add(int64_t time, uint32_t node, int64_t cores, int64_t mem_mb, int64_t gpus) {
  if (time == kNever) return;
  const Step s{time, node, cores, mem_mb, gpus};
  tail_.push_back(s);
  if (reserved_[node]) node_steps_[node].push_back(s);
}

void Profile::sortByTime() {
  if (tail_.empty()) return;
  auto earlier = [](const Step& a, const Step& b) { return a.time < b.time; };
  std::sort(tail_.begin(), tail_.end(), earlier);
  const size_t mid = steps_.size();
  steps_.insert(steps_.end(), tail_.begin(), tail_.end());
  std::inplace_merge(steps_.begin(), steps_.begin() + static_cast<std::ptrdiff_t>(mid),
                     steps_.end(), earlier);
  tail_.clear();
}

Profile::Drop Profile::windowDrop(uint32_t node, int64_t from, int64_t to) const {
  if (!reserved_[node]) return {};  // no step down: the window's start is its minimum
  scratch_.clear();
  for (const Step& s : node_steps_[node]) {
    if (s.time > from && s.time < to) scratch_.push_back(s);
  }
  std::sort(scratch_.begin(), scratch_.end(),
            [](const Step& a, const Step& b) { return a.time < b.time; });
  Drop low;
  int64_t cores = 0, mem = 0, gpus = 0;
  for (size_t i = 0; i < scratch_.size();) {
    const int64_t t = scratch_[i].time;
    for (; i < scratch_.size() && scratch_[i].time == t; ++i) {
      cores += scratch_[i].cores;
      mem += scratch_[i].mem_mb;
      gpus += scratch_[i].gpus;
    }
    low.cores = std::min(low.cores, cores);
    low.mem_mb = std::min(low.mem_mb, mem);
    low.gpus = std::min(low.gpus, gpus);
  }
  return low;
}

void Profile::addStart(const std::vector<NodeAllocation>& allocation, int64_t end) {
  for (const NodeAllocation& a : allocation) {
    add(end, a.node, static_cast<int64_t>(a.cores.size()), static_cast<int64_t>(a.mem_mb),
        static_cast<int64_t>(a.gpus.size()));
  }
}

void Profile::addReservation(int64_t start, int64_t end, const std::vector<NodeUse>& uses) {
  // Nodes reserved for the first time get their own step list: one walk over all steps.
  if (node_steps_.empty()) node_steps_.resize(listable_.size());
  constexpr uint8_t kFresh = 2;
  const size_t before = reserved_nodes_.size();
  for (const NodeUse& u : uses) {
    if (reserved_[u.node]) continue;
    reserved_[u.node] = kFresh;
    reserved_nodes_.push_back(u.node);
  }
  if (reserved_nodes_.size() > before) {
    for (const std::vector<Step>* list : {&steps_, &tail_}) {
      for (const Step& s : *list) {
        if (reserved_[s.node] == kFresh) node_steps_[s.node].push_back(s);
      }
    }
    for (size_t i = before; i < reserved_nodes_.size(); ++i) reserved_[reserved_nodes_[i]] = 1;
  }
  for (const NodeUse& u : uses) {
    add(start, u.node, -static_cast<int64_t>(u.cores), -static_cast<int64_t>(u.mem_mb),
        -static_cast<int64_t>(u.gpus));
    add(end, u.node, u.cores, static_cast<int64_t>(u.mem_mb), u.gpus);
  }
}

std::optional<Profile::Plan> Profile::earliestStart(const JobRequest& job,
                                                    const std::vector<uint32_t>& counts,
                                                    int64_t duration_s, const FreePool& now_pool,
                                                    const PlaceContext& ctx) {
  sortByTime();
  const size_t n_nodes = listable_.size();
  std::vector<int64_t> cores(n_nodes), mem(n_nodes), gpus(n_nodes);
  std::vector<uint32_t> pool_cores(n_nodes), pool_gpus(n_nodes);
  std::vector<uint64_t> pool_mem(n_nodes);
  uint32_t max_cores = 0;
  for (size_t n = 0; n < n_nodes; ++n) {
    cores[n] = pool_cores[n] = now_pool.realFreeCores(static_cast<uint32_t>(n));
    mem[n] = static_cast<int64_t>(pool_mem[n] = now_pool.realFreeMem(static_cast<uint32_t>(n)));
    gpus[n] = pool_gpus[n] = now_pool.realFreeGpus(static_cast<uint32_t>(n));
    max_cores = std::max(max_cores, max_cores_[n]);
  }
  // The plan at time t, walked forward from now one step time at a time.
  FreePool plan(std::move(pool_cores), std::move(pool_mem), std::move(pool_gpus), listable_,
                max_cores);
  const uint64_t need = uint64_t{job.ntasks} * job.cpus_per_task;
  std::vector<uint32_t> limited;

  for (size_t i = 0; i < steps_.size();) {
    const int64_t t = steps_[i].time;
    bool up = false;
    for (; i < steps_.size() && steps_[i].time == t; ++i) {
      const Step& s = steps_[i];
      cores[s.node] = std::clamp<int64_t>(cores[s.node] + s.cores, 0, max_cores_[s.node]);
      mem[s.node] =
          std::clamp<int64_t>(mem[s.node] + s.mem_mb, 0, static_cast<int64_t>(max_mem_[s.node]));
      gpus[s.node] = std::clamp<int64_t>(gpus[s.node] + s.gpus, 0, max_gpus_[s.node]);
      if (listable_[s.node]) {
        plan.set(s.node, static_cast<uint32_t>(cores[s.node]), static_cast<uint64_t>(mem[s.node]),
                 static_cast<uint32_t>(gpus[s.node]));
      }
      up = up || s.cores > 0 || s.mem_mb > 0 || s.gpus > 0;
    }
    // Starting where free resources only went down is never earlier than the last step time.
    if (!up || plan.totalFreeCores() < need) continue;

    // Hide what reservations take from each node during [t, end).
    const int64_t end = windowEnd(t, duration_s);
    for (uint32_t n : reserved_nodes_) {
      const Drop d = windowDrop(n, t, end);
      if (d.cores == 0 && d.mem_mb == 0 && d.gpus == 0) continue;
      plan.limit(n, static_cast<uint32_t>(std::max<int64_t>(0, cores[n] + d.cores)),
                 static_cast<uint64_t>(std::max<int64_t>(0, mem[n] + d.mem_mb)),
                 static_cast<uint32_t>(std::max<int64_t>(0, gpus[n] + d.gpus)));
      limited.push_back(n);
    }
    const auto picks =
        job.nodes > 0 ? chooseFixed(job, counts, plan, ctx) : chooseFlexible(job, plan, ctx);
    std::optional<Plan> found;
    if (picks) {
      found.emplace();
      found->start = t;
      for (const Pick& p : *picks) {
        found->uses.push_back({p.node, p.tasks * job.cpus_per_task, job.mem_mb, gpusFor(job, p.tasks)});
      }
      release(*picks, plan);
    }
    for (uint32_t n : limited) plan.unlimit(n);
    limited.clear();
    if (found) return found;
  }
  return std::nullopt;
}

}  // namespace locus::scheduler
