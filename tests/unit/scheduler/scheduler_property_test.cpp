// Randomized checks of schedulePass against a slow, obviously-correct replay: decisions are
// applied in order to a plain model of the cluster, and each one is checked against it.
//  - a start uses only free cores of schedulable nodes, the memory it asks on every node, the
//    task layout the request implies, and as few NUMA domains as possible on each node;
//  - "Resources" is only given when the job really does not fit at that point of the pass (this
//    is what catches a wrong failed-shape cache or node index);
//  - "JobArrayTaskLimit" only when the array is at its limit;
//  - decisions come in priority order, one per pending job.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "controller/scheduler/scheduler.hpp"
#include "controller/scheduler/task_layout.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;

constexpr int kSeeds = 300;

Snapshot randomSnapshot(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&rng](uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
  };
  Snapshot s;
  const uint32_t nodes = pick(1, 24);
  for (uint32_t n = 0; n < nodes; ++n) {
    NodeState ns;
    ns.name = "n" + std::to_string(n);
    ns.schedulable = pick(0, 9) != 0;
    const uint32_t domains = pick(1, 4);
    const uint32_t per = pick(1, 8);
    ns.total_cores = domains * per;
    ns.free_cores_by_numa.resize(domains);
    const uint32_t busy_pct = pick(0, 2) * 40;  // idle, some busy, mostly busy
    for (uint32_t d = 0; d < domains; ++d) {
      for (uint32_t c = 0; c < per; ++c) {
        if (pick(0, 99) >= busy_pct) ns.free_cores_by_numa[d].push_back(d * per + c);
      }
    }
    ns.total_mem_mb = 1000 * pick(1, 16);
    ns.free_mem_mb =
        ns.total_mem_mb - 1000 * pick(0, static_cast<uint32_t>(ns.total_mem_mb / 1000));
    s.nodes.push_back(ns);
  }
  const uint32_t jobs = pick(1, 80);
  for (uint32_t j = 0; j < jobs; ++j) {
    JobRequest r;
    r.id = j + 1;
    r.priority = pick(0, 3);
    r.submit_time = pick(0, 5);
    r.cpus_per_task = pick(1, 4);
    switch (pick(0, 3)) {
      case 0:  // serial
        break;
      case 1:  // fixed nodes, even
        r.nodes = pick(1, 4);
        r.ntasks = r.nodes * pick(1, 3) + pick(0, r.nodes - 1);
        break;
      case 2:  // fixed nodes, tasks per node
        r.nodes = pick(1, 4);
        r.ntasks_per_node = pick(1, 4);
        r.ntasks = pick(r.nodes, r.nodes * r.ntasks_per_node);
        break;
      default:  // flexible
        r.ntasks = pick(1, 20);
        if (pick(0, 1)) r.ntasks_per_node = pick(1, 6);
        break;
    }
    if (pick(0, 2) == 0) r.mem_mb = 500 * pick(1, 12);
    if (pick(0, 3) == 0) {
      r.array_job_id = 1000 + pick(0, 2);
      r.array_max_running = pick(0, 3);
    }
    if (pick(0, 30) == 0) r.cpus_per_task = 0;  // malformed now and then
    s.pending.push_back(r);
  }
  for (uint64_t a = 1000; a < 1003; ++a) {
    if (pick(0, 1)) s.array_running.push_back({a, pick(0, 2)});
  }
  return s;
}

struct ModelNode {
  bool schedulable;
  std::vector<std::set<uint32_t>> free;  // per NUMA domain
  uint64_t mem;
  uint32_t freeCount() const {
    uint32_t n = 0;
    for (const auto& d : free) n += static_cast<uint32_t>(d.size());
    return n;
  }
};

// Whether the job fits the model, by brute force over the definition.
bool fits(const JobRequest& job, const std::vector<ModelNode>& model) {
  std::vector<uint32_t> free;  // free cores of eligible nodes, largest first
  for (const ModelNode& m : model) {
    if (m.schedulable && m.mem >= job.mem_mb) free.push_back(m.freeCount());
  }
  std::sort(free.rbegin(), free.rend());
  if (job.nodes > 0) {
    const std::vector<uint32_t> counts = fixedTaskCounts(job);
    if (counts.size() > free.size()) return false;
    for (size_t i = 0; i < counts.size(); ++i) {
      if (uint64_t{counts[i]} * job.cpus_per_task > free[i]) return false;
    }
    return true;
  }
  uint64_t capacity = 0;
  for (uint32_t f : free) capacity += flexibleCapacity(job, f);
  return capacity >= job.ntasks;
}

// Fewest NUMA domains that can hold `need` cores.
size_t minDomains(const ModelNode& m, uint32_t need) {
  std::vector<size_t> sizes;
  for (const auto& d : m.free) sizes.push_back(d.size());
  std::sort(sizes.rbegin(), sizes.rend());
  size_t k = 0, sum = 0;
  while (sum < need) sum += sizes.at(k++);
  return k;
}

void checkPass(const Snapshot& s) {
  const std::vector<Decision> decisions = schedulePass(s);
  ASSERT_EQ(decisions.size(), s.pending.size());

  std::map<uint64_t, const JobRequest*> by_id;
  for (const JobRequest& j : s.pending) by_id[j.id] = &j;
  std::vector<ModelNode> model;
  for (const NodeState& n : s.nodes) {
    ModelNode m{n.schedulable, {}, n.free_mem_mb};
    for (const auto& d : n.free_cores_by_numa) m.free.emplace_back(d.begin(), d.end());
    model.push_back(std::move(m));
  }
  std::map<uint64_t, uint64_t> array_running;
  for (const auto& [a, n] : s.array_running) array_running[a] += n;

  std::set<uint64_t> seen;
  const JobRequest* prev = nullptr;
  for (const Decision& d : decisions) {
    SCOPED_TRACE("job " + std::to_string(d.job_id));
    ASSERT_TRUE(by_id.count(d.job_id));
    ASSERT_TRUE(seen.insert(d.job_id).second) << "two decisions for one job";
    const JobRequest& job = *by_id[d.job_id];
    if (prev != nullptr) {
      EXPECT_TRUE(std::tie(prev->priority, job.submit_time, job.id) >=
                  std::tie(job.priority, prev->submit_time, prev->id))
          << "out of order after job " << prev->id;
    }
    prev = &job;

    if (requestProblem(job)) {
      EXPECT_EQ(d.reason, "BadConstraints");
      continue;
    }
    const bool at_limit = job.array_job_id != 0 && job.array_max_running != 0 &&
                          array_running[job.array_job_id] >= job.array_max_running;
    if (d.kind == Decision::Kind::kPending) {
      if (at_limit) {
        EXPECT_EQ(d.reason, "JobArrayTaskLimit");
      } else {
        EXPECT_EQ(d.reason, "Resources");
        EXPECT_FALSE(fits(job, model)) << "job fits but was left pending";
      }
      continue;
    }

    ASSERT_FALSE(at_limit) << "array throttle ignored";
    ASSERT_FALSE(d.allocation.empty());
    if (job.array_job_id != 0) ++array_running[job.array_job_id];
    std::vector<uint32_t> tasks;
    std::set<uint32_t> nodes_used;
    for (const NodeAllocation& a : d.allocation) {
      ASSERT_LT(a.node, model.size());
      ASSERT_TRUE(nodes_used.insert(a.node).second) << "node used twice by one job";
      ModelNode& m = model[a.node];
      ASSERT_TRUE(m.schedulable);
      ASSERT_GE(a.ntasks, 1u);
      EXPECT_EQ(a.cores.size(), uint64_t{a.ntasks} * job.cpus_per_task);
      EXPECT_TRUE(std::is_sorted(a.cores.begin(), a.cores.end()));
      EXPECT_EQ(a.mem_mb, job.mem_mb);
      ASSERT_GE(m.mem, a.mem_mb);
      const size_t want_domains = minDomains(m, static_cast<uint32_t>(a.cores.size()));
      std::set<size_t> domains;
      for (uint32_t c : a.cores) {
        bool found = false;
        for (size_t dom = 0; dom < m.free.size() && !found; ++dom) {
          if (m.free[dom].erase(c)) {
            domains.insert(dom);
            found = true;
          }
        }
        ASSERT_TRUE(found) << "core " << c << " on " << s.nodes[a.node].name << " is not free";
      }
      EXPECT_EQ(domains.size(), want_domains) << "not packed into as few NUMA domains";
      m.mem -= a.mem_mb;
      tasks.push_back(a.ntasks);
    }
    if (job.nodes > 0) {
      EXPECT_EQ(tasks, fixedTaskCounts(job));
    } else {
      uint32_t total = 0;
      for (uint32_t t : tasks) {
        total += t;
        if (job.ntasks_per_node > 0) {
          EXPECT_LE(t, job.ntasks_per_node);
        }
      }
      EXPECT_EQ(total, job.ntasks);
    }
  }
}

TEST(SchedulePassProperty, AgreesWithBruteForceReplay) {
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    checkPass(randomSnapshot(seed));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(SchedulePassProperty, DeterministicAndIndependentOfInputOrder) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Snapshot s = randomSnapshot(seed);
    const auto first = describeAll(schedulePass(s), s.nodes);
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), first);
    std::mt19937 rng(seed);
    std::shuffle(s.pending.begin(), s.pending.end(), rng);
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), first);
  }
}

TEST(SchedulePassProperty, EveryPendingJobGetsExactlyOneDecision) {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Snapshot s = randomSnapshot(seed);
    std::multiset<uint64_t> want, got;
    for (const JobRequest& j : s.pending) want.insert(j.id);
    for (const Decision& d : schedulePass(s)) got.insert(d.job_id);
    EXPECT_EQ(got, want);
  }
}

TEST(SchedulePassProperty, EmptySnapshot) {
  EXPECT_TRUE(schedulePass(Snapshot{}).empty());
  Snapshot no_nodes;
  no_nodes.pending.push_back(testing::job(1));
  no_nodes.pending.push_back(testing::job(2).nodes(2).tasks(2));
  EXPECT_EQ(describeAll(schedulePass(no_nodes), no_nodes.nodes),
            (std::vector<std::string>{"1 pending Resources", "2 pending Resources"}));
}

}  // namespace
}  // namespace locus::scheduler
