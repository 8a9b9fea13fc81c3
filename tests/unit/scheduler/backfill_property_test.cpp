// Randomized checks of the backfill policies against a slow, obviously-correct planner. The
// decisions of one pass are replayed in pass order; the planner keeps every commitment made so
// far (running jobs until their expected end, jobs started now until now + limit, reservations
// over their window) and computes, by brute force over all step times and nodes, each job's
// earliest start given only the commitments before it. Then:
//  - a started job could start now: it delays no reservation made before it, since those are
//    commitments it had to fit around;
//  - a reservation is at exactly the earliest start, on resources that are free over its whole
//    window (so nothing committed later, backfilled jobs included, moved it);
//  - "Resources" is only given to a job that cannot start now, and, for a job that was entitled
//    to a reservation, only when it can never start in the plan;
//  - with fcfs nothing starts after the first blocked job: start order is priority order;
//  - removing the jobs backfilled after a reservation does not change that reservation.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "controller/scheduler/scheduler.hpp"
#include "controller/scheduler/task_layout.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;

constexpr int kSeeds = 400;
constexpr int64_t kNow = 1000;
constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

Snapshot randomSnapshot(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Snapshot s;
  s.now = kNow;
  const int64_t nodes = pick(1, 8);
  for (int64_t n = 0; n < nodes; ++n) {
    NodeState ns;
    ns.name = "n" + std::to_string(n);
    ns.schedulable = pick(0, 9) != 0;
    const int64_t domains = pick(1, 2);
    const int64_t per = pick(1, 6);
    ns.total_cores = static_cast<uint32_t>(domains * per);
    ns.free_cores_by_numa.resize(domains);
    for (int64_t d = 0; d < domains; ++d) {
      for (int64_t c = 0; c < per; ++c) {
        ns.free_cores_by_numa[d].push_back(static_cast<uint32_t>(d * per + c));
      }
    }
    ns.total_mem_mb = ns.free_mem_mb = 1000 * pick(1, 16);
    s.nodes.push_back(ns);
  }
  // Running jobs take random cores (and memory) out of the free lists.
  const int64_t running = pick(0, 14);
  for (int64_t r = 0; r < running; ++r) {
    RunningJob job;
    job.id = 500 + r;
    const int64_t kind = pick(0, 9);
    job.expected_end = kind == 0 ? 0 : kind == 1 ? kNow - pick(0, 50) : kNow + pick(1, 300);
    const int64_t spans = pick(0, 3) == 0 ? 2 : 1;
    std::set<uint32_t> used;
    for (int64_t k = 0; k < spans; ++k) {
      const uint32_t n = static_cast<uint32_t>(pick(0, nodes - 1));
      NodeState& ns = s.nodes[n];
      std::vector<uint32_t*> free;
      for (auto& d : ns.free_cores_by_numa) {
        for (uint32_t& c : d) free.push_back(&c);
      }
      if (free.empty() || !used.insert(n).second) continue;
      const int64_t cores = pick(1, static_cast<int64_t>(free.size()));
      std::shuffle(free.begin(), free.end(), rng);
      std::set<uint32_t> gone;
      for (int64_t i = 0; i < cores; ++i) gone.insert(*free[i]);
      for (auto& d : ns.free_cores_by_numa)
        std::erase_if(d, [&](uint32_t c) { return gone.count(c); });
      const uint64_t mem = std::min<uint64_t>(ns.free_mem_mb, 500 * pick(0, 6));
      ns.free_mem_mb -= mem;
      job.use.push_back({n, static_cast<uint32_t>(cores), mem});
    }
    if (!job.use.empty()) s.running.push_back(job);
  }
  const int64_t jobs = pick(1, 25);
  for (int64_t j = 0; j < jobs; ++j) {
    JobRequest r;
    r.id = static_cast<uint64_t>(j + 1);
    r.priority = pick(0, 3);
    r.submit_time = pick(0, 5);
    r.cpus_per_task = static_cast<uint32_t>(pick(1, 3));
    switch (pick(0, 3)) {
      case 0:  // serial
        break;
      case 1:  // fixed nodes, even
        r.nodes = static_cast<uint32_t>(pick(1, 3));
        r.ntasks = static_cast<uint32_t>(r.nodes * pick(1, 3) + pick(0, r.nodes - 1));
        break;
      case 2:  // fixed nodes, tasks per node
        r.nodes = static_cast<uint32_t>(pick(1, 3));
        r.ntasks_per_node = static_cast<uint32_t>(pick(1, 3));
        r.ntasks = static_cast<uint32_t>(pick(r.nodes, r.nodes * r.ntasks_per_node));
        break;
      default:  // flexible
        r.ntasks = static_cast<uint32_t>(pick(1, 12));
        if (pick(0, 1)) r.ntasks_per_node = static_cast<uint32_t>(pick(1, 4));
        break;
    }
    if (pick(0, 2) == 0) r.mem_mb = 500 * pick(1, 10);
    r.time_limit_s = pick(0, 9) == 0 ? 0 : pick(1, 300);
    if (pick(0, 40) == 0) r.cpus_per_task = 0;  // malformed now and then
    s.pending.push_back(r);
  }
  switch (pick(0, 4)) {
    case 0:
      s.policy = Policy::kFcfs;
      break;
    case 1:
      s.policy = Policy::kConservative;
      break;
    case 2:  // EASY++: some jobs carry a prediction, at times above their limit (capped)
      s.policy = Policy::kEasyPredict;
      s.reserve_depth = static_cast<uint32_t>(pick(0, 3));
      for (JobRequest& r : s.pending)
        if (pick(0, 2) != 0) r.planned_runtime_s = pick(1, 300);
      break;
    default:
      s.policy = Policy::kEasy;
      s.reserve_depth = static_cast<uint32_t>(pick(0, 3));
      break;
  }
  return s;
}

// How long a job is planned to hold what it gets: its prediction (kEasyPredict), capped at its
// limit, else its limit (0 = forever). Written out here, not taken from the core, so the check
// is independent of it.
int64_t planned(const JobRequest& job) {
  if (job.planned_runtime_s <= 0) return job.time_limit_s;
  if (job.time_limit_s == 0) return job.planned_runtime_s;
  return std::min(job.planned_runtime_s, job.time_limit_s);
}

// Resources held by a commitment on one node over [from, to).
struct Claim {
  uint32_t node;
  int64_t cores;
  int64_t mem;
  int64_t from;
  int64_t to;
};

class Planner {
 public:
  explicit Planner(const Snapshot& s) : s_(s) {
    for (const NodeState& n : s.nodes) {
      int64_t free = 0;
      for (const auto& d : n.free_cores_by_numa) free += static_cast<int64_t>(d.size());
      free_cores_.push_back(free);
      free_mem_.push_back(static_cast<int64_t>(n.free_mem_mb));
    }
    // A running job gives its resources back at its end: the same as a negative claim from
    // then on.
    for (const RunningJob& r : s.running) {
      if (r.expected_end == 0) continue;
      const int64_t end = std::max(r.expected_end, kNow + 1);
      for (const NodeUse& u : r.use) {
        claims_.push_back(
            {u.node, -int64_t{u.cores}, -static_cast<int64_t>(u.mem_mb), end, kForever});
      }
    }
  }

  void commit(uint32_t node, int64_t cores, int64_t mem, int64_t from, int64_t duration) {
    claims_.push_back({node, cores, mem, from, duration > 0 ? from + duration : kForever});
  }

  // Free on node n at time t.
  std::pair<int64_t, int64_t> freeAt(uint32_t n, int64_t t) const {
    int64_t cores = free_cores_[n], mem = free_mem_[n];
    for (const Claim& c : claims_) {
      if (c.node == n && c.from <= t && t < c.to) {
        cores -= c.cores;
        mem -= c.mem;
      }
    }
    return {cores, mem};
  }

  std::vector<int64_t> times() const {
    std::set<int64_t> t{kNow};
    for (const Claim& c : claims_) {
      if (c.from > kNow) t.insert(c.from);
      if (c.to != kForever && c.to > kNow) t.insert(c.to);
    }
    return {t.begin(), t.end()};
  }

  // The least each node has over [t, t + duration).
  std::vector<std::pair<int64_t, int64_t>> windowMin(int64_t t, int64_t duration) const {
    const int64_t end = duration > 0 ? t + duration : kForever;
    std::vector<std::pair<int64_t, int64_t>> low;
    for (uint32_t n = 0; n < s_.nodes.size(); ++n) {
      auto m = freeAt(n, t);
      for (int64_t p : times()) {
        if (p > t && p < end) {
          auto f = freeAt(n, p);
          m.first = std::min(m.first, f.first);
          m.second = std::min(m.second, f.second);
        }
      }
      low.push_back(m);
    }
    return low;
  }

  bool fits(const JobRequest& job, const std::vector<std::pair<int64_t, int64_t>>& caps) const {
    std::vector<int64_t> free;
    for (uint32_t n = 0; n < caps.size(); ++n) {
      if (s_.nodes[n].schedulable && caps[n].second >= static_cast<int64_t>(job.mem_mb)) {
        free.push_back(caps[n].first);
      }
    }
    std::sort(free.rbegin(), free.rend());
    if (job.nodes > 0) {
      const std::vector<uint32_t> counts = fixedTaskCounts(job);
      if (counts.size() > free.size()) return false;
      for (size_t i = 0; i < counts.size(); ++i) {
        if (int64_t{counts[i]} * job.cpus_per_task > free[i]) return false;
      }
      return true;
    }
    uint64_t capacity = 0;
    for (int64_t f : free)
      capacity += flexibleCapacity(job, static_cast<uint64_t>(std::max<int64_t>(0, f)));
    return capacity >= job.ntasks;
  }

  std::optional<int64_t> earliest(const JobRequest& job) const {
    for (int64_t t : times()) {
      if (fits(job, windowMin(t, planned(job)))) return t;
    }
    return std::nullopt;
  }

  // Whether `uses` fit on their nodes over the window, each within a schedulable node.
  bool holds(const std::vector<NodeUse>& uses, int64_t t, int64_t duration) const {
    const auto low = windowMin(t, duration);
    for (const NodeUse& u : uses) {
      if (!s_.nodes[u.node].schedulable) return false;
      if (low[u.node].first < int64_t{u.cores} ||
          low[u.node].second < static_cast<int64_t>(u.mem_mb)) {
        return false;
      }
    }
    return true;
  }

 private:
  const Snapshot& s_;
  std::vector<int64_t> free_cores_, free_mem_;
  std::vector<Claim> claims_;
};

// The per-node core counts a job's uses imply, checked against its layout.
void checkLayout(const JobRequest& job, const std::vector<NodeUse>& uses) {
  std::set<uint32_t> nodes;
  std::vector<uint32_t> tasks;
  for (const NodeUse& u : uses) {
    EXPECT_TRUE(nodes.insert(u.node).second) << "node used twice";
    EXPECT_EQ(u.cores % job.cpus_per_task, 0u);
    EXPECT_EQ(u.mem_mb, job.mem_mb);
    tasks.push_back(u.cores / job.cpus_per_task);
  }
  if (job.nodes > 0) {
    EXPECT_EQ(tasks, fixedTaskCounts(job));
    return;
  }
  uint32_t total = 0;
  for (uint32_t t : tasks) {
    total += t;
    if (job.ntasks_per_node > 0) {
      EXPECT_LE(t, job.ntasks_per_node);
    }
  }
  EXPECT_EQ(total, job.ntasks);
}

std::vector<NodeUse> usesOf(const Decision& d) {
  if (d.kind == Decision::Kind::kReserve) return d.planned;
  std::vector<NodeUse> uses;
  for (const NodeAllocation& a : d.allocation) {
    uses.push_back({a.node, static_cast<uint32_t>(a.cores.size()), a.mem_mb});
  }
  return uses;
}

struct Seen {
  int reservations = 0;
  int backfilled = 0;  // started after a reservation in pass order
};

void checkPass(const Snapshot& s, Seen& seen) {
  const std::vector<Decision> decisions = schedulePass(s);
  ASSERT_EQ(decisions.size(), s.pending.size());
  std::map<uint64_t, const JobRequest*> by_id;
  for (const JobRequest& j : s.pending) by_id[j.id] = &j;

  Planner planner(s);
  uint32_t entitled = s.policy == Policy::kConservative ? UINT32_MAX : s.reserve_depth;
  bool blocked = false;
  int64_t shortest = 0;
  for (const Decision& d : decisions) {
    SCOPED_TRACE("job " + std::to_string(d.job_id));
    const JobRequest& job = *by_id.at(d.job_id);
    if (requestProblem(job)) {
      EXPECT_EQ(d.reason, "BadConstraints");
      continue;
    }
    if (s.policy == Policy::kFcfs && blocked) {
      EXPECT_EQ(d.kind, Decision::Kind::kPending) << "fcfs started a job after a blocked one";
      EXPECT_EQ(d.reason, "Priority");
      continue;
    }
    // EASY++: once the reservation attempts are spent, the jobs that may start are tried
    // shortest planned run time first, so those that start do so in that order.
    if (s.policy == Policy::kEasyPredict && entitled == 0 && d.kind == Decision::Kind::kStart) {
      const int64_t p = planned(job) > 0 ? planned(job) : std::numeric_limits<int64_t>::max();
      EXPECT_GE(p, shortest) << "backfill candidates not shortest first";
      shortest = p;
    }
    const std::optional<int64_t> earliest = planner.earliest(job);
    switch (d.kind) {
      case Decision::Kind::kStart: {
        if (blocked) ++seen.backfilled;
        EXPECT_EQ(earliest, std::optional<int64_t>(kNow)) << "started a job that delays a plan";
        const auto uses = usesOf(d);
        checkLayout(job, uses);
        EXPECT_TRUE(planner.holds(uses, kNow, planned(job)));
        for (const NodeUse& u : uses) {
          planner.commit(u.node, u.cores, static_cast<int64_t>(u.mem_mb), kNow, planned(job));
        }
        break;
      }
      case Decision::Kind::kReserve: {
        ASSERT_GT(entitled, 0u) << "reserved beyond the depth";
        ++seen.reservations;
        --entitled;
        EXPECT_EQ(earliest, std::optional<int64_t>(d.start_at)) << "not the earliest start";
        EXPECT_GT(d.start_at, kNow);
        checkLayout(job, d.planned);
        EXPECT_TRUE(planner.holds(d.planned, d.start_at, planned(job)));
        for (const NodeUse& u : d.planned) {
          planner.commit(u.node, u.cores, static_cast<int64_t>(u.mem_mb), d.start_at,
                         planned(job));
        }
        blocked = true;
        break;
      }
      case Decision::Kind::kPending:
        EXPECT_EQ(d.reason, "Resources");
        EXPECT_NE(earliest, std::optional<int64_t>(kNow)) << "could start now";
        if (s.policy != Policy::kFirstFit && entitled > 0) {
          --entitled;  // attempted, found no start
          EXPECT_EQ(earliest, std::nullopt) << "entitled to a reservation but has none";
        }
        blocked = true;
        break;
      case Decision::Kind::kPreempt:
        ADD_FAILURE() << "no job here may preempt";
        break;
    }
  }
}

TEST(BackfillProperty, AgreesWithBruteForcePlanner) {
  Seen seen;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    checkPass(randomSnapshot(seed), seen);
    if (::testing::Test::HasFailure()) return;
  }
  // The workloads must exercise what is checked.
  EXPECT_GT(seen.reservations, kSeeds / 2);
  EXPECT_GT(seen.backfilled, kSeeds / 4);
}

// "No backfilled job delays a reservation", literally: take away every job that started after
// a reservation in pass order and the reservation stays where it was.
TEST(BackfillProperty, BackfilledJobsDoNotMoveReservations) {
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Snapshot s = randomSnapshot(seed);
    const std::vector<Decision> with = schedulePass(s);
    for (size_t r = 0; r < with.size(); ++r) {
      if (with[r].kind != Decision::Kind::kReserve) continue;
      std::set<uint64_t> backfilled;
      for (size_t k = r + 1; k < with.size(); ++k) {
        if (with[k].kind == Decision::Kind::kStart) backfilled.insert(with[k].job_id);
      }
      if (backfilled.empty()) continue;
      Snapshot without = s;
      std::erase_if(without.pending, [&](const JobRequest& j) { return backfilled.count(j.id); });
      for (const Decision& d : schedulePass(without)) {
        if (d.job_id != with[r].job_id) continue;
        EXPECT_EQ(testing::describe(d, s.nodes), testing::describe(with[r], s.nodes));
      }
    }
  }
}

// Backfill off: jobs start in priority order, and the first job that does not fit stops the
// pass.
TEST(BackfillProperty, FcfsStartsInPriorityOrder) {
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Snapshot s = randomSnapshot(seed);
    s.policy = Policy::kFcfs;
    bool blocked = false;
    for (const Decision& d : schedulePass(s)) {
      if (d.reason == "BadConstraints") continue;
      if (blocked) {
        EXPECT_EQ(d.reason, "Priority");
      }
      if (d.kind != Decision::Kind::kStart) blocked = true;
    }
  }
}

TEST(BackfillProperty, DeterministicAndIndependentOfInputOrder) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Snapshot s = randomSnapshot(seed);
    const auto first = describeAll(schedulePass(s), s.nodes);
    std::mt19937 rng(seed);
    std::shuffle(s.pending.begin(), s.pending.end(), rng);
    std::shuffle(s.running.begin(), s.running.end(), rng);
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), first);
  }
}

}  // namespace
}  // namespace locus::scheduler
