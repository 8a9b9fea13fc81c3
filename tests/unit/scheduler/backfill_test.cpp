// Table tests for the policies: each case is a small cluster at now = 0, the running jobs that
// hold its busy cores, a few pending jobs in priority order (ids ascending, same priority), and
// the decisions in pass order. Start times are worked out in the comment above each case.
#include <gtest/gtest.h>

#include "controller/scheduler/scheduler.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;
using testing::job;
using testing::node;
using testing::running;

struct Case {
  std::string name;
  Policy policy;
  std::vector<NodeState> nodes;
  std::vector<RunningJob> running;
  std::vector<JobRequest> jobs;
  std::vector<std::string> want;
  uint32_t depth = 1;
};

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " (" + std::string(policyName(c.policy)) + ")");
    Snapshot s;
    s.nodes = c.nodes;
    s.running = c.running;
    s.pending = c.jobs;
    s.policy = c.policy;
    s.reserve_depth = c.depth;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), c.want);
  }
}

// One node of 4 cores; a running job holds cores 0-1 until t=100, so 2 are free now.
//   job 1: 4 cores, 50 s   -> blocked now; all 4 free at 100 -> reserved [100, 150)
//   job 2: 1 core, 150 s   -> would run over [0, 150) and leave 3 cores at 100: delays job 1
//   job 3: 1 core, 100 s   -> ends at 100 exactly, when job 1 starts: backfilled now
std::vector<NodeState> oneNode() { return {node("n1").numa(1, 4).busy({0, 1})}; }
std::vector<RunningJob> oneRunning() { return {running(100, 0, 2, 100)}; }
std::vector<JobRequest> threeJobs() {
  return {job(1).tasks(4).limit(50), job(2).limit(150), job(3).limit(100)};
}

TEST(Backfill, PoliciesOnOneNode) {
  runCases({
      {"easy reserves the head and backfills only what ends in time",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       threeJobs(),
       {"1 reserve@100 n1:4c", "2 pending Resources", "3 -> n1[2]:1t"}},
      {"first fit starts whatever fits now",
       Policy::kFirstFit,
       oneNode(),
       oneRunning(),
       threeJobs(),
       {"1 pending Resources", "2 -> n1[2]:1t", "3 -> n1[3]:1t"}},
      {"fcfs stops at the first blocked job",
       Policy::kFcfs,
       oneNode(),
       oneRunning(),
       threeJobs(),
       {"1 reserve@100 n1:4c", "2 pending Priority", "3 pending Priority"}},
      // Job 2 cannot start now either; after job 1's reservation ends at 150 it fits: [150, 300).
      {"conservative reserves every blocked job",
       Policy::kConservative,
       oneNode(),
       oneRunning(),
       threeJobs(),
       {"1 reserve@100 n1:4c", "2 reserve@150 n1:1c", "3 -> n1[2]:1t"}},
  });
}

TEST(Backfill, Reservations) {
  runCases({
      // n1: all 4 busy until 100; n2: 2 of 4 busy until 500. Job 1 (4 cores, one node) fits
      // first at 100 on n1. Job 2 (2 cores, 1000 s) runs far past 100 but on n2, which the
      // reservation does not touch: EASY's "extra" resources.
      {"a long job may use nodes the reservation leaves alone",
       Policy::kEasy,
       {node("n1").numa(1, 4).busy({0, 1, 2, 3}), node("n2").numa(1, 4).busy({0, 1})},
       {running(100, 0, 4, 100), running(101, 1, 2, 500)},
       {job(1).nodes(1).tasks(4).limit(50), job(2).tasks(2).limit(1000)},
       {"1 reserve@100 n1:4c", "2 -> n2[2-3]:2t"}},
      // Two nodes, n1 busy until 100, n2 until 300: job 1 needs both (8 cores) -> 300.
      {"a multi-node reservation starts when its last node frees",
       Policy::kEasy,
       {node("n1").numa(1, 4).busy({0, 1, 2, 3}), node("n2").numa(1, 4).busy({0, 1, 2, 3})},
       {running(100, 0, 4, 100), running(101, 1, 4, 300)},
       {job(1).nodes(2).tasks(8).limit(50), job(2).tasks(4).limit(200)},
       {"1 reserve@300 n1:4c n2:4c", "2 pending Resources"}},
      // Memory: 8000 MB, a running job holds 6000 MB until 100. Job 1 needs 7000 MB -> 100.
      // Job 2 (2000 MB, 1000 s) would leave 6000 MB at 100: delays job 1. Job 3 (2000 MB,
      // 100 s) ends in time.
      {"memory is planned like cores",
       Policy::kEasy,
       {node("n1").numa(1, 8).busy({0}).mem(8000).freeMem(2000)},
       {running(100, 0, 1, 100, 6000)},
       {job(1).mem(7000).limit(10), job(2).mem(2000).limit(1000), job(3).mem(2000).limit(100)},
       {"1 reserve@100 n1:1c/7000M", "2 pending Resources", "3 -> n1[1]:1t/2000M"}},
      // Depth 2: jobs 1 and 2 both get reservations, job 3 (1 core, 1000 s) delays job 1.
      // Job 2 (4 cores) is planned after job 1 ends: [150, 170).
      {"depth 2 reserves the first two blocked jobs",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(2).tasks(4).limit(20), job(3).limit(1000)},
       {"1 reserve@100 n1:4c", "2 reserve@150 n1:4c", "3 pending Resources"},
       2},
      // Depth 1: job 2 gets no reservation; job 3 (1 core, 90 s) ends before job 1's starts.
      {"depth 1 reserves only the first",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(2).tasks(4).limit(20), job(3).limit(90)},
       {"1 reserve@100 n1:4c", "2 pending Resources", "3 -> n1[2]:1t"}},
  });
}

TEST(Backfill, WithoutRunningInformation) {
  runCases({
      // The controller does not fill running jobs yet: busy cores never free in the plan, so
      // job 1 cannot be reserved and EASY starts job 2, as first fit would.
      {"busy cores never free: no reservation, like first fit",
       Policy::kEasy,
       oneNode(),
       {},
       threeJobs(),
       {"1 pending Resources", "2 -> n1[2]:1t", "3 -> n1[3]:1t"}},
      // A running job without an expected end holds its cores forever.
      {"a running job without an end holds forever",
       Policy::kEasy,
       oneNode(),
       {running(100, 0, 2, 0)},
       threeJobs(),
       {"1 pending Resources", "2 -> n1[2]:1t", "3 -> n1[3]:1t"}},
      // Jobs started in the same pass do end: job 1 (2 cores, 30 s) starts; job 2 (4 cores)
      // is reserved at 30, when job 1 ends... but the unknown 2 busy cores never free: none.
      {"unknown busy cores block the reservation for good",
       Policy::kEasy,
       oneNode(),
       {},
       {job(1).tasks(2).limit(30), job(2).tasks(4).limit(10), job(3).limit(1000)},
       {"1 -> n1[2-3]:2t", "2 pending Resources", "3 pending Resources"}},
      // Idle node, nothing running: job 1 takes 3 of 4 cores for 30 s; job 2 (4 cores) is
      // reserved at 30; job 3 (1 core, 1000 s) would delay it, job 4 (1 core, 30 s) does not.
      {"jobs started in the pass free their cores at their time limit",
       Policy::kEasy,
       {node("n1").numa(1, 4)},
       {},
       {job(1).tasks(3).limit(30), job(2).tasks(4).limit(10), job(3).limit(1000), job(4).limit(30)},
       {"1 -> n1[0-2]:3t", "2 reserve@30 n1:4c", "3 pending Resources", "4 -> n1[3]:1t"}},
      // An overdue running job (expected end -5, now 0) is planned to end at now + 1.
      {"an overdue job is planned to end in one second",
       Policy::kEasy,
       oneNode(),
       {running(100, 0, 2, -5)},
       {job(1).tasks(4).limit(10)},
       {"1 reserve@1 n1:4c"}},
      // A job with no time limit reserved at 100 holds the node forever after: nothing that
      // runs past 100 can start.
      {"an unlimited reservation holds its nodes for good",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4), job(2).limit(101), job(3).limit(100)},
       {"1 reserve@100 n1:4c", "2 pending Resources", "3 -> n1[2]:1t"}},
  });
}

// EASY++ (kEasyPredict) on oneNode(): 2 cores free now, 2 more at 100.
//   job 1: 4 cores, limit 50               -> reserved [100, 150), as under EASY
//   job 2: 2 cores, limit 150, planned 90  -> planned [0, 90): ends before 100, backfilled
// Plain EASY plans job 2 by its limit, [0, 150): it would delay job 1 and waits.
// Shortest first: job 3 (2 cores, planned 90) and job 4 (2 cores, planned 30) both fit before
// 100 but only one at a time; EASY++ tries job 4 first, plain EASY (limits 90, 30) job 3.
TEST(Backfill, EasyPredictPlansWithPredictionsAndBackfillsShortestFirst) {
  runCases({
      {"a prediction lets a job backfill that its limit would not",
       Policy::kEasyPredict,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(2).tasks(2).limit(150).planned(90)},
       {"1 reserve@100 n1:4c", "2 -> n1[2-3]:2t"}},
      {"plain easy ignores the prediction",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(2).tasks(2).limit(150)},
       {"1 reserve@100 n1:4c", "2 pending Resources"}},
      {"shortest planned first once the reservation is made",
       Policy::kEasyPredict,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(3).tasks(2).limit(90), job(4).tasks(2).limit(300).planned(30)},
       {"1 reserve@100 n1:4c", "4 -> n1[2-3]:2t", "3 pending Resources"}},
      {"plain easy backfills in priority order",
       Policy::kEasy,
       oneNode(),
       oneRunning(),
       {job(1).tasks(4).limit(50), job(3).tasks(2).limit(90), job(4).tasks(2).limit(30)},
       {"1 reserve@100 n1:4c", "3 -> n1[2-3]:2t", "4 pending Resources"}},
  });
}

// The starvation guard: job 1 was submitted at -100 (now is 0). Reserved once it has waited
// protect_after_s, its reservation at 100 is kept from job 2 by job 2's limit (150 s: it would
// run past 100), not by its prediction (90 s), as plain EASY would keep it.
TEST(Backfill, EasyPredictGuardsAStarvingReservationWithTimeLimits) {
  for (const auto& [protect_after, want] :
       std::vector<std::pair<int64_t, std::string>>{{101, "2 -> n1[2-3]:2t"},
                                                   {100, "2 pending Resources"},
                                                   {0, "2 -> n1[2-3]:2t"}}) {
    SCOPED_TRACE("protect_after_s " + std::to_string(protect_after));
    Snapshot s;
    s.nodes = oneNode();
    s.running = oneRunning();
    s.pending = {job(1).tasks(4).limit(50).submit(-100), job(2).tasks(2).limit(150).planned(90)};
    s.policy = Policy::kEasyPredict;
    s.protect_after_s = protect_after;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes),
              (std::vector<std::string>{"1 reserve@100 n1:4c", want}));
  }
}

// Reservation depth per pool. Two pools of one 4-core node each, both half busy until 100 (so
// 2 cores free on each). In each pool two whole-node jobs wait (4 cores, 50 s).
//   depth 1 everywhere: each pool reserves its first blocked job (counted per pool, not once
//                       for the cluster), its second gets none.
//   pool 1 depth 2:     pool 1 reserves both (the second after the first: [150, 200)).
TEST(Backfill, ReservationDepthPerPool) {
  for (const auto& [depths, want] : std::vector<std::pair<std::vector<uint32_t>, std::vector<std::string>>>{
           {{}, {"1 reserve@100 a:4c", "2 pending Resources", "3 reserve@100 b:4c", "4 pending Resources"}},
           {{kPassDepth, 2}, {"1 reserve@100 a:4c", "2 pending Resources", "3 reserve@100 b:4c",
                              "4 reserve@150 b:4c"}}}) {
    SCOPED_TRACE(std::to_string(depths.size()));
    Snapshot s;
    s.nodes = {node("a").numa(1, 4).busy({0, 1}), node("b").numa(1, 4).busy({0, 1})};
    s.running = {running(100, 0, 2, 100), running(101, 1, 2, 100)};
    s.pools = {{0}, {1}};
    s.pool_reserve_depth = depths;
    s.pending = {job(1).tasks(4).limit(50).pool(0), job(2).tasks(4).limit(50).pool(0),
                 job(3).tasks(4).limit(50).pool(1), job(4).tasks(4).limit(50).pool(1)};
    s.policy = Policy::kEasy;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), want);
  }
}

// EASY++ with pools: a job whose pool has made its reservation waits for the shortest-first
// phase; jobs of a pool still without one are decided in priority order before it. Pool 0's
// head (job 1) is reserved, so job 2 (pool 0, short) is deferred; job 3 heads pool 1 and is
// reserved in priority order; then jobs 2 and 4 go shortest first: 4 (10 s) before 2 (40 s).
TEST(Backfill, EasyPredictDefersPerPool) {
  Snapshot s;
  s.nodes = {node("a").numa(1, 4).busy({0, 1}), node("b").numa(1, 4).busy({0, 1})};
  s.running = {running(100, 0, 2, 100), running(101, 1, 2, 100)};
  s.pools = {{0}, {1}};
  s.pending = {job(1).tasks(4).limit(50).pool(0), job(2).tasks(1).limit(40).pool(0),
               job(3).tasks(4).limit(50).pool(1), job(4).tasks(1).limit(10).pool(1)};
  s.policy = Policy::kEasyPredict;
  EXPECT_EQ(describeAll(schedulePass(s), s.nodes),
            (std::vector<std::string>{"1 reserve@100 a:4c", "3 reserve@100 b:4c", "4 -> b[2]:1t",
                                      "2 -> a[2]:1t"}));
}

TEST(Backfill, PolicyNames) {
  for (Policy p : {Policy::kFirstFit, Policy::kFcfs, Policy::kEasy, Policy::kConservative,
                   Policy::kEasyPredict}) {
    EXPECT_EQ(parsePolicy(policyName(p)), p);
  }
  EXPECT_FALSE(parsePolicy("backfill").has_value());
  EXPECT_EQ(Snapshot{}.policy, Policy::kEasy);
}

}  // namespace
}  // namespace locus::scheduler
