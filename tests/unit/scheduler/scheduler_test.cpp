// Table tests for schedulePass: each case is a small cluster, a few jobs, and the decisions in
// pass order, written as "job -> node[cores]:tasks" (see builders.hpp).
#include "controller/scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;
using testing::job;
using testing::node;

struct Case {
  std::string name;
  std::vector<NodeState> nodes;
  std::vector<JobRequest> jobs;
  std::vector<std::pair<uint64_t, uint32_t>> array_running;
  std::vector<std::string> want;
};

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot s;
    s.nodes = c.nodes;
    s.pending = c.jobs;
    s.array_running = c.array_running;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), c.want);
  }
}

TEST(SchedulePass, NumaPacking) {
  runCases({
      {"one task on an idle node takes the lowest core",
       {node("n1").numa(2, 4)},
       {job(1)},
       {},
       {"1 -> n1[0]:1t"}},
      // Free: domain 0 {2,3}, domain 1 {4..7}; the 2-core domain is the best fit.
      {"packs into the domain with the fewest free cores that fit",
       {node("n1").numa(2, 4).busy({0, 1})},
       {job(1).cpus(2)},
       {},
       {"1 -> n1[2-3]:1t"}},
      // Free: domain 0 {1,2,3}, domain 1 {4..7}; 4 cores fit only domain 1, so no split.
      {"one domain rather than two",
       {node("n1").numa(2, 4).busy({0})},
       {job(1).cpus(4)},
       {},
       {"1 -> n1[4-7]:1t"}},
      // Free: d0 {0-3} (4), d1 {5-7} (3), d2 {10,11} (2); 6 cores need two domains: d0 whole,
      // then the remaining 2 from the best fit d2, keeping d1 whole.
      {"spans domains: most free first, best fit for the rest",
       {node("n1").numa(3, 4).busy({4, 8, 9})},
       {job(1).cpus(6)},
       {},
       {"1 -> n1[0-3,10-11]:1t"}},
      {"takes every domain when it must",
       {node("n1").numa(3, 4).busy({4, 8, 9})},
       {job(1).cpus(9)},
       {},
       {"1 -> n1[0-3,5-7,10-11]:1t"}},
      {"lowest core ids within a domain",
       {node("n1").numa(1, 4).busy({1})},
       {job(1).cpus(2)},
       {},
       {"1 -> n1[0,2]:1t"}},
      // After job 1, domain 0 has 2 free and domain 1 has 4: job 2 fills domain 0.
      {"small jobs share a domain before opening another",
       {node("n1").numa(2, 4)},
       {job(1).cpus(2), job(2).cpus(2), job(3).cpus(3)},
       {},
       {"1 -> n1[0-1]:1t", "2 -> n1[2-3]:1t", "3 -> n1[4-6]:1t"}},
      {"tasks times cpus per task on one node",
       {node("n1").numa(2, 8)},
       {job(1).nodes(1).tasks(3).cpus(2)},
       {},
       {"1 -> n1[0-5]:3t"}},
  });
}

TEST(SchedulePass, FixedNodeCount) {
  runCases({
      // 5 tasks over 2 nodes: 5/2 = 2 each, and the first 5%2 = 1 node gets one more.
      {"-N 2 -n 5 puts 3 tasks on the first node and 2 on the second",
       {node("n1").numa(1, 8), node("n2").numa(1, 8)},
       {job(1).nodes(2).tasks(5)},
       {},
       {"1 -> n1[0-2]:3t n2[0-1]:2t"}},
      // Free: n1 8, n2 4, n3 6; each node needs 3: best fit n2 (leaves 1), then n3 (leaves 3).
      {"nodes chosen by best fit",
       {node("n1").numa(1, 8), node("n2").numa(1, 8).busy({0, 1, 2, 3}),
        node("n3").numa(1, 8).busy({0, 1})},
       {job(1).nodes(2).tasks(2).cpus(3)},
       {},
       {"1 -> n2[4-6]:1t n3[2-4]:1t"}},
      {"equal fits go to the lower node index",
       {node("n1").numa(1, 4), node("n2").numa(1, 4), node("n3").numa(1, 4)},
       {job(1).nodes(2).tasks(2)},
       {},
       {"1 -> n1[0]:1t n2[0]:1t"}},
      // Free: n1 3, n2 2. Slot 0 (3 tasks) must take n1, slot 1 (2 tasks) n2.
      {"the largest slot is placed first and is the batch node",
       {node("n1").numa(1, 8).busy({0, 1, 2, 3, 4}),
        node("n2").numa(1, 8).busy({0, 1, 2, 3, 4, 5})},
       {job(1).nodes(2).tasks(5)},
       {},
       {"1 -> n1[5-7]:3t n2[6-7]:2t"}},
      {"--ntasks-per-node 3 -N 2 -n 6",
       {node("n1").numa(1, 8), node("n2").numa(1, 8)},
       {job(1).nodes(2).tasks(6).perNode(3)},
       {},
       {"1 -> n1[0-2]:3t n2[0-2]:3t"}},
      {"--ntasks-per-node 3 -N 2 -n 5 gives the last node fewer",
       {node("n1").numa(1, 8), node("n2").numa(1, 8)},
       {job(1).nodes(2).tasks(5).perNode(3)},
       {},
       {"1 -> n1[0-2]:3t n2[0-1]:2t"}},
      {"--ntasks-per-node 4 -N 3 -n 5 keeps a task on every node",
       {node("n1").numa(1, 8), node("n2").numa(1, 8), node("n3").numa(1, 8)},
       {job(1).nodes(3).tasks(5).perNode(4)},
       {},
       {"1 -> n1[0-2]:3t n2[0]:1t n3[0]:1t"}},
      {"a node without free cores is skipped",
       {node("n1").numa(1, 2).busy({0, 1}), node("n2").numa(1, 2), node("n3").numa(1, 2)},
       {job(1).nodes(2).tasks(2)},
       {},
       {"1 -> n2[0]:1t n3[0]:1t"}},
      {"more nodes than the cluster has",
       {node("n1").numa(1, 8), node("n2").numa(1, 8)},
       {job(1).nodes(3).tasks(3)},
       {},
       {"1 pending Resources"}},
      {"one node too small fails the whole job and changes nothing",
       {node("n1").numa(1, 8), node("n2").numa(1, 2)},
       {job(1).nodes(2).tasks(6).cpus(1), job(2).cpus(8)},
       {},
       {"1 pending Resources", "2 -> n1[0-7]:1t"}},
  });
}

TEST(SchedulePass, FlexibleNodeCount) {
  runCases({
      // Free: n1 8, n2 6, n3 4. n1 takes 8 tasks; the remaining 2 fit one node, and the best
      // fit for 2 cores is n3, so n2 stays whole.
      {"most free nodes first, best fit for the remainder",
       {node("n1").numa(1, 8), node("n2").numa(1, 8).busy({0, 1}),
        node("n3").numa(1, 8).busy({0, 1, 2, 3})},
       {job(1).tasks(10)},
       {},
       {"1 -> n1[0-7]:8t n3[4-5]:2t"}},
      {"a job that fits one node goes to the fullest node that fits",
       {node("n1").numa(1, 8), node("n2").numa(1, 8).busy({0, 1}),
        node("n3").numa(1, 8).busy({0, 1, 2, 3})},
       {job(1)},
       {},
       {"1 -> n3[4]:1t"}},
      {"--ntasks-per-node caps each node",
       {node("n1").numa(1, 8), node("n2").numa(1, 8), node("n3").numa(1, 8)},
       {job(1).tasks(10).perNode(4)},
       {},
       {"1 -> n1[0-3]:4t n2[0-3]:4t n3[0-1]:2t"}},
      // Free: n1 7, n2 5; 2 cpus per task: n1 holds floor(7/2) = 3 tasks, n2 the other 2.
      {"whole tasks per node with cpus per task",
       {node("n1").numa(1, 8).busy({7}), node("n2").numa(1, 8).busy({5, 6, 7})},
       {job(1).tasks(5).cpus(2)},
       {},
       {"1 -> n1[0-5]:3t n2[0-3]:2t"}},
      {"does not fit when the leftovers cannot hold whole tasks",
       {node("n1").numa(1, 3), node("n2").numa(1, 3)},
       {job(1).tasks(3).cpus(2)},
       {},
       {"1 pending Resources"}},
      {"more tasks than free cores",
       {node("n1").numa(1, 4)},
       {job(1).tasks(5)},
       {},
       {"1 pending Resources"}},
      {"nodes without the memory are skipped",
       {node("n1").numa(1, 8).mem(1000), node("n2").numa(1, 4), node("n3").numa(1, 4)},
       {job(1).tasks(6).mem(2000)},
       {},
       {"1 -> n2[0-3]:4t/2000M n3[0-1]:2t/2000M"}},
  });
}

TEST(SchedulePass, MemoryAndNodeState) {
  runCases({
      // n1 lacks the memory; n2 holds two 2000 MB jobs, then its memory is gone.
      {"memory is per node and is used up",
       {node("n1").numa(1, 8).mem(1000), node("n2").numa(1, 8).mem(4000)},
       {job(1).mem(2000), job(2).mem(2000), job(3).mem(2000)},
       {},
       {"1 -> n2[0]:1t/2000M", "2 -> n2[1]:1t/2000M", "3 pending Resources"}},
      {"free memory counts, not total",
       {node("n1").numa(1, 8).mem(8000).freeMem(500), node("n2").numa(1, 8).mem(8000)},
       {job(1).mem(1000)},
       {},
       {"1 -> n2[0]:1t/1000M"}},
      {"every node of a multi-node job needs the memory",
       {node("n1").numa(1, 8).mem(1000), node("n2").numa(1, 8).mem(4000),
        node("n3").numa(1, 8).mem(4000)},
       {job(1).nodes(2).tasks(2).mem(2000)},
       {},
       {"1 -> n2[0]:1t/2000M n3[0]:1t/2000M"}},
      {"unschedulable nodes are skipped",
       {node("n1").numa(1, 8).down(), node("n2").numa(1, 4)},
       {job(1), job(2).nodes(2).tasks(2)},
       {},
       {"1 -> n2[0]:1t", "2 pending Resources"}},
      {"a full cluster leaves every job pending",
       {node("n1").numa(1, 2).busy({0, 1})},
       {job(1), job(2).tasks(4), job(3).nodes(1)},
       {},
       {"1 pending Resources", "2 pending Resources", "3 pending Resources"}},
      {"malformed requests are BadConstraints",
       {node("n1").numa(1, 8)},
       {job(1).cpus(0), job(2).nodes(3).tasks(2), job(3).tasks(0),
        job(4).nodes(2).tasks(5).perNode(2), job(5)},
       {},
       {"1 pending BadConstraints", "2 pending BadConstraints", "3 pending BadConstraints",
        "4 pending BadConstraints", "5 -> n1[0]:1t"}},
  });
}

TEST(SchedulePass, Order) {
  runCases({
      {"higher priority first",
       {node("n1").numa(1, 4)},
       {job(1).prio(1).cpus(4), job(2).prio(10).cpus(4)},
       {},
       {"2 -> n1[0-3]:1t", "1 pending Resources"}},
      {"then earlier submit time",
       {node("n1").numa(1, 4)},
       {job(1).submit(100).cpus(4), job(2).submit(50).cpus(4)},
       {},
       {"2 -> n1[0-3]:1t", "1 pending Resources"}},
      {"then lower id",
       {node("n1").numa(1, 4)},
       {job(2).cpus(4), job(1).cpus(4)},
       {},
       {"1 -> n1[0-3]:1t", "2 pending Resources"}},
      {"priority beats submit time",
       {node("n1").numa(1, 4)},
       {job(1).submit(1).cpus(4), job(2).submit(99).prio(1).cpus(4)},
       {},
       {"2 -> n1[0-3]:1t", "1 pending Resources"}},
      // No reservations in v1: a smaller lower-priority job starts while a bigger one waits.
      {"a later smaller job may start ahead of a waiting bigger one",
       {node("n1").numa(1, 4).busy({0, 1})},
       {job(1).prio(5).cpus(4), job(2).cpus(2)},
       {},
       {"1 pending Resources", "2 -> n1[2-3]:1t"}},
  });
}

TEST(SchedulePass, ArrayThrottle) {
  runCases({
      // Array 7 has 1 running and a limit of 2: one more may start this pass.
      {"counts running tasks and tasks started in this pass",
       {node("n1").numa(1, 8)},
       {job(71).array(7, 2), job(72).array(7, 2), job(73).array(7, 2), job(81).array(8, 0),
        job(82).array(8, 0)},
       {{7, 1}},
       {"71 -> n1[0]:1t", "72 pending JobArrayTaskLimit", "73 pending JobArrayTaskLimit",
        "81 -> n1[1]:1t", "82 -> n1[2]:1t"}},
      {"a task that did not start does not count",
       {node("n1").numa(1, 8)},
       {job(1).array(7, 1).cpus(16), job(2).array(7, 1), job(3).array(7, 1)},
       {},
       {"1 pending Resources", "2 -> n1[0]:1t", "3 pending JobArrayTaskLimit"}},
      {"already at the limit",
       {node("n1").numa(1, 8)},
       {job(1).array(7, 3)},
       {{7, 2}, {7, 1}},
       {"1 pending JobArrayTaskLimit"}},
  });
}

TEST(SchedulePass, FailedShapeCache) {
  runCases({
      {"a failed shape does not block a smaller job",
       {node("n1").numa(1, 4)},
       {job(1).cpus(8), job(2).cpus(4), job(3).cpus(8), job(4)},
       {},
       {"1 pending Resources", "2 -> n1[0-3]:1t", "3 pending Resources", "4 pending Resources"}},
      {"less memory is tried again",
       {node("n1").numa(1, 4).mem(4000)},
       {job(1).cpus(2).mem(8000), job(2).cpus(2).mem(1000), job(3).cpus(1).mem(9000),
        job(4).cpus(3).mem(1000), job(5).cpus(2)},
       {},
       {"1 pending Resources", "2 -> n1[0-1]:1t/1000M", "3 pending Resources",
        "4 pending Resources", "5 -> n1[2-3]:1t"}},
      // Job 1 needs {4, 4, 1} tasks per node: only n1 has 4 free. Job 2 needs {4, 1, 1}: fits.
      {"uneven per-node needs: fewer on the other nodes is tried again",
       {node("n1").numa(1, 4), node("n2").numa(1, 1), node("n3").numa(1, 1)},
       {job(1).nodes(3).tasks(9).perNode(4), job(2).nodes(3).tasks(6).perNode(4)},
       {},
       {"1 pending Resources", "2 -> n1[0-3]:4t n2[0]:1t n3[0]:1t"}},
      {"fewer nodes are tried again",
       {node("n1").numa(1, 4), node("n2").numa(1, 4)},
       {job(1).nodes(2).tasks(2).cpus(3).mem(100000), job(2).nodes(1).tasks(1).cpus(3)},
       {},
       {"1 pending Resources", "2 -> n1[0-2]:1t"}},
      {"flexible: fewer tasks are tried again",
       {node("n1").numa(1, 4)},
       {job(1).tasks(5), job(2).tasks(3), job(3).tasks(2)},
       {},
       {"1 pending Resources", "2 -> n1[0-2]:3t", "3 pending Resources"}},
      {"flexible: a looser per-node cap is tried again",
       {node("n1").numa(1, 4), node("n2").numa(1, 4)},
       {job(1).tasks(6).perNode(2), job(2).tasks(6).perNode(3)},
       {},
       {"1 pending Resources", "2 -> n1[0-2]:3t n2[0-2]:3t"}},
  });
}

}  // namespace
}  // namespace locus::scheduler
