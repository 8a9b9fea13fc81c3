#pragma once
// Test builders for the scheduler core: node("n1").numa(2, 4).busy({0, 1}).mem(8000) and
// job(1).nodes(2).tasks(5).cpus(2).limit(60), plus a compact text form of decisions for table
// tests:
//   "1 -> n1[0-2]:3t n2[0-1]:2t"   (job 1 starts; cores and tasks per node, "/2000M" if mem)
//   "2 pending Resources"
//   "3 reserve@100 n1:4c n2:4c"    (job 3 is planned at t=100 on 4 cores of n1 and n2)
//   "4 -> n1[0-3]:1t g0,1"         (with GPUs: the GPU indices it got on that node)
//   "5 reserve@100 n1:1c/2g"       (planned with 2 GPUs)
// GPU nodes: node("n1").numa(2, 4).gpus({0, 0, 1, 1}).nvlink({{0, 1}, {2, 3}}).busyGpus({3}).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace locus::scheduler::testing {

class NodeBuilder {
 public:
  explicit NodeBuilder(std::string name) {
    s_.name = std::move(name);
    s_.total_mem_mb = s_.free_mem_mb = 64000;
  }
  // `domains` NUMA domains of `cores_each` cores, numbered consecutively, all free.
  NodeBuilder& numa(uint32_t domains, uint32_t cores_each) {
    s_.free_cores_by_numa.assign(domains, {});
    for (uint32_t d = 0; d < domains; ++d) {
      for (uint32_t c = 0; c < cores_each; ++c)
        s_.free_cores_by_numa[d].push_back(d * cores_each + c);
    }
    s_.total_cores = domains * cores_each;
    return *this;
  }
  NodeBuilder& busy(std::initializer_list<uint32_t> ids) {
    for (auto& dom : s_.free_cores_by_numa) {
      std::erase_if(dom,
                    [&](uint32_t c) { return std::find(ids.begin(), ids.end(), c) != ids.end(); });
    }
    return *this;
  }
  NodeBuilder& mem(uint64_t total_mb) {
    s_.total_mem_mb = s_.free_mem_mb = total_mb;
    return *this;
  }
  NodeBuilder& freeMem(uint64_t mb) {
    s_.free_mem_mb = mb;
    return *this;
  }
  NodeBuilder& down() {
    s_.schedulable = false;
    return *this;
  }
  // One GPU per entry, attached to NUMA domain numa[g] (-1: unknown); all free.
  NodeBuilder& gpus(std::vector<int32_t> numa) {
    s_.gpu_numa = std::move(numa);
    s_.gpu_links.assign(s_.gpu_numa.size(), 0);
    s_.free_gpus =
        s_.gpu_numa.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << s_.gpu_numa.size()) - 1;
    return *this;
  }
  NodeBuilder& busyGpus(std::initializer_list<uint32_t> ids) {
    for (uint32_t g : ids) s_.free_gpus &= ~(uint64_t{1} << g);
    return *this;
  }
  // NVLink connections, both ways. Call after gpus().
  NodeBuilder& nvlink(std::initializer_list<std::pair<uint32_t, uint32_t>> pairs) {
    for (auto [a, b] : pairs) {
      s_.gpu_links.at(a) |= uint64_t{1} << b;
      s_.gpu_links.at(b) |= uint64_t{1} << a;
    }
    return *this;
  }
  NodeBuilder& features(std::vector<std::string> f) {
    s_.features = std::move(f);
    return *this;
  }
  operator NodeState() const { return s_; }  // NOLINT: builders convert implicitly

 private:
  NodeState s_;
};

inline NodeBuilder node(std::string name) { return NodeBuilder(std::move(name)); }

class JobBuilder {
 public:
  explicit JobBuilder(uint64_t id) { j_.id = id; }
  JobBuilder& prio(int64_t p) {
    j_.priority = p;
    return *this;
  }
  JobBuilder& submit(int64_t t) {
    j_.submit_time = t;
    return *this;
  }
  JobBuilder& nodes(uint32_t n) {
    j_.nodes = n;
    return *this;
  }
  JobBuilder& tasks(uint32_t n) {
    j_.ntasks = n;
    return *this;
  }
  JobBuilder& perNode(uint32_t n) {
    j_.ntasks_per_node = n;
    return *this;
  }
  JobBuilder& cpus(uint32_t c) {
    j_.cpus_per_task = c;
    return *this;
  }
  JobBuilder& mem(uint64_t mb) {
    j_.mem_mb = mb;
    return *this;
  }
  JobBuilder& limit(int64_t seconds) {
    j_.time_limit_s = seconds;
    return *this;
  }
  JobBuilder& planned(int64_t seconds) {  // an EASY++ prediction
    j_.planned_runtime_s = seconds;
    return *this;
  }
  JobBuilder& array(uint64_t array_id, uint32_t max_running) {
    j_.array_job_id = array_id;
    j_.array_max_running = max_running;
    return *this;
  }
  JobBuilder& gpusPerNode(uint32_t n) {
    j_.gpus_per_node = n;
    return *this;
  }
  JobBuilder& gpusPerTask(uint32_t n) {
    j_.gpus_per_task = n;
    return *this;
  }
  JobBuilder& gpuType(std::string t) {
    j_.gpu_type = std::move(t);
    return *this;
  }
  JobBuilder& constraint(std::string c) {
    j_.constraint = std::move(c);
    return *this;
  }
  // --switches=count, relaxed from `until` on.
  JobBuilder& switches(uint32_t count, int64_t until) {
    j_.max_switches = count;
    j_.switches_wait_until = until;
    return *this;
  }
  JobBuilder& pool(uint32_t p) {
    j_.pool = p;
    return *this;
  }
  // May preempt running jobs of these preempt classes.
  JobBuilder& preempts(std::initializer_list<uint32_t> classes) {
    for (uint32_t c : classes) j_.preempts |= uint64_t{1} << c;
    return *this;
  }
  JobBuilder& reclaims(uint32_t group) {
    j_.reclaim_group = group;
    return *this;
  }
  // Input on these node indices, bytes each (most bytes first, as callers give them).
  JobBuilder& input(std::initializer_list<std::pair<uint32_t, uint64_t>> sites) {
    for (auto [n, bytes] : sites) j_.input_sites.push_back({n, bytes});
    return *this;
  }
  // Preferred racks (leaf switch indices), and no relaxing past the preferences.
  JobBuilder& racks(std::initializer_list<uint32_t> racks) {
    j_.input_racks.assign(racks);
    return *this;
  }
  JobBuilder& strict() {
    j_.strict_locality = true;
    return *this;
  }
  // Skipped for locality since this time (ms).
  JobBuilder& waitingSince(int64_t ms) {
    j_.locality_wait_since_ms = ms;
    return *this;
  }
  operator JobRequest() const { return j_; }  // NOLINT

 private:
  JobRequest j_;
};

inline JobBuilder job(uint64_t id) { return JobBuilder(id); }

// A running job holding `cores` cores, `mem_mb` and `gpus` GPUs on node index `node` until `end`.
inline RunningJob running(uint64_t id, uint32_t node, uint32_t cores, int64_t end,
                          uint64_t mem_mb = 0, uint32_t gpus = 0) {
  RunningJob r;
  r.id = id;
  r.expected_end = end;
  r.use.push_back({node, cores, mem_mb, gpus});
  return r;
}

// "0-3,8,10-11"
inline std::string coreRanges(const std::vector<uint32_t>& cores) {
  std::string out;
  for (size_t i = 0; i < cores.size();) {
    size_t j = i;
    while (j + 1 < cores.size() && cores[j + 1] == cores[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cores[i]);
    if (j > i) out += "-" + std::to_string(cores[j]);
    i = j + 1;
  }
  return out;
}

// A preemptible running job of preempt class `cls`, started at `start`.
inline RunningJob victim(uint64_t id, uint32_t node, uint32_t cores, int64_t start, uint32_t cls = 0,
                         uint32_t group = kNoGroup) {
  RunningJob r = running(id, node, cores, 0);
  r.start_time = start;
  r.preempt_class = cls;
  r.preemptible = true;
  r.quota_group = group;
  return r;
}

inline std::string describe(const Decision& d, const std::vector<NodeState>& nodes) {
  std::string out = std::to_string(d.job_id);
  if (d.kind == Decision::Kind::kPending) return out + " pending " + d.reason;
  if (d.kind == Decision::Kind::kPreempt) return out + " preempt for " + std::to_string(d.preempted_for);
  if (d.kind == Decision::Kind::kReserve) {
    out += " reserve@" + std::to_string(d.start_at);
    for (const NodeUse& u : d.planned) {
      out += " " + nodes.at(u.node).name + ":" + std::to_string(u.cores) + "c";
      if (u.mem_mb > 0) out += "/" + std::to_string(u.mem_mb) + "M";
      if (u.gpus > 0) out += "/" + std::to_string(u.gpus) + "g";
    }
    return out;
  }
  out += " ->";
  for (const NodeAllocation& a : d.allocation) {
    out += " " + nodes.at(a.node).name + "[" + coreRanges(a.cores) +
           "]:" + std::to_string(a.ntasks) + "t";
    if (a.mem_mb > 0) out += "/" + std::to_string(a.mem_mb) + "M";
    for (size_t i = 0; i < a.gpus.size(); ++i) {
      out += (i == 0 ? " g" : ",") + std::to_string(a.gpus[i]);
    }
  }
  return out;
}

inline std::vector<std::string> describeAll(const std::vector<Decision>& ds,
                                            const std::vector<NodeState>& nodes) {
  std::vector<std::string> out;
  for (const Decision& d : ds) out.push_back(describe(d, nodes));
  return out;
}

}  // namespace locus::scheduler::testing
