// Table tests for pools and preemption in schedulePass (see scheduler.hpp, "Preemption", and
// preemption.hpp): which running jobs a pending job displaces, and that it is never more than
// needed, never a job it may not preempt, never twice for the same need.
#include <gtest/gtest.h>

#include "controller/scheduler/scheduler.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;
using testing::job;
using testing::node;
using testing::victim;

struct Case {
  std::string name;
  std::vector<NodeState> nodes;
  std::vector<RunningJob> running;
  std::vector<JobRequest> jobs;
  std::vector<std::string> want;
  std::vector<std::vector<uint32_t>> pools = {};
  std::vector<QuotaGroup> groups = {};
};

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot s;
    s.now = 100;
    s.nodes = c.nodes;
    s.running = c.running;
    s.pending = c.jobs;
    s.pools = c.pools;
    s.quota_groups = c.groups;
    s.policy = Policy::kFirstFit;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), c.want);
  }
}

TEST(Pools, AJobUsesOnlyItsPoolsNodes) {
  runCases({
      {"the pool's node, though another fits better",
       {node("n1").numa(1, 4).busy({0, 1, 2}), node("n2").numa(1, 4)},
       {},
       {job(1).pool(1)},
       {"1 -> n2[0]:1t"},
       {{0}, {1}}},
      {"its pool full: pending, though another pool's node is idle",
       {node("n1").numa(1, 2), node("n2").numa(1, 2).busy({0, 1})},
       {},
       {job(1).pool(1), job(2).pool(0).cpus(2)},
       {"1 pending Resources", "2 -> n1[0-1]:1t"},
       {{0}, {1}}},
      {"no pool: any node",
       {node("n1").numa(1, 2).busy({0, 1}), node("n2").numa(1, 2)},
       {},
       {job(1)},
       {"1 -> n2[0]:1t"},
       {{0}, {1}}},
      {"a node in two pools serves both",
       {node("n1").numa(1, 2)},
       {},
       {job(1).pool(0), job(2).pool(1)},
       {"1 -> n1[0]:1t", "2 -> n1[1]:1t"},
       {{0}, {0}}},
  });
}

TEST(Preemption, YoungestFirstAndNoMoreThanNeeded) {
  // n1: 4 cores, all held: A (2 cores, started at 10), B (1, at 30), C (1, at 40).
  const std::vector<NodeState> full = {node("n1").numa(1, 4).busy({0, 1, 2, 3})};
  const std::vector<RunningJob> abc = {victim(11, 0, 2, 10), victim(12, 0, 1, 30), victim(13, 0, 1, 40)};
  runCases({
      {"2 cores: the two youngest, not the oldest",
       full, abc, {job(1).cpus(2).preempts({0})},
       {"13 preempt for 1", "12 preempt for 1", "1 pending Preempting"}},
      // Greedy takes C, B, A (1 + 1 + 2 = 4 >= 3); pruning oldest first spares B (A + C = 3).
      {"3 cores: the oldest is needed, so the youngest other suffices",
       full, abc, {job(1).cpus(3).preempts({0})},
       {"13 preempt for 1", "11 preempt for 1", "1 pending Preempting"}},
      {"1 core: one job, the youngest",
       full, abc, {job(1).preempts({0})},
       {"13 preempt for 1", "1 pending Preempting"}},
      {"what is free counts: 1 free core + the youngest",
       {node("n1").numa(1, 4).busy({0, 1, 2})},
       {victim(11, 0, 2, 10), victim(13, 0, 1, 40)},
       {job(1).cpus(2).preempts({0})},
       {"13 preempt for 1", "1 pending Preempting"}},
      {"fits without preempting: starts",
       {node("n1").numa(1, 4).busy({0, 1})},
       {victim(11, 0, 2, 10)},
       {job(1).cpus(2).preempts({0})},
       {"1 -> n1[2-3]:1t"}},
      {"all victims together are not enough: nobody is preempted",
       full, abc, {job(1).cpus(5).preempts({0})},
       {"1 pending Resources"}},
  });
}

TEST(Preemption, OnlyWhatItMayPreempt) {
  const std::vector<NodeState> full = {node("n1").numa(1, 2).busy({0, 1})};
  RunningJob exempt = victim(11, 0, 2, 90);
  exempt.preemptible = false;  // in its exempt time, or its QoS is not preemptible
  runCases({
      {"another class: no", full, {victim(11, 0, 2, 10, /*cls=*/1)}, {job(1).cpus(2).preempts({0})},
       {"1 pending Resources"}},
      {"the job has no right to preempt", full, {victim(11, 0, 2, 10)}, {job(1).cpus(2)},
       {"1 pending Resources"}},
      {"exempt: no", full, {exempt}, {job(1).cpus(2).preempts({0})}, {"1 pending Resources"}},
      {"one of two classes", full, {victim(11, 0, 1, 10, 0), victim(12, 0, 1, 20, 2)},
       {job(1).preempts({2})}, {"12 preempt for 1", "1 pending Preempting"}},
      {"outside its pool: no",
       {node("n1").numa(1, 2).busy({0, 1}), node("n2").numa(1, 2).busy({0, 1})},
       {victim(11, 0, 2, 10), victim(12, 1, 2, 20)},
       {job(1).cpus(2).pool(0).preempts({0})},
       {"11 preempt for 1", "1 pending Preempting"},
       {{0}, {1}}},
  });
}

TEST(Preemption, NeverTwiceForTheSameNeed) {
  RunningJob ending = victim(11, 0, 2, 10);
  ending.preempted_for = 1;  // preempted by an earlier pass, still ending
  runCases({
      // n1: 2 free cores + 2 held by job 11, which is ending for job 1: job 1 (4 cores) waits
      // for it and preempts nobody else; job 2 may not take n1's free cores, it goes to n2.
      {"its victims are still ending: no new ones, and their node is kept for it",
       {node("n1").numa(1, 4).busy({0, 1}), node("n2").numa(1, 1)},
       {ending, victim(12, 1, 0, 50)},
       {job(1).cpus(4).preempts({0}).prio(10), job(2).prio(5)},
       {"1 pending Preempting", "2 -> n2[0]:1t"}},
      {"not enough with its ending victims: more, but only what is missing",
       {node("n1").numa(1, 4).busy({0, 1, 2, 3})},
       {ending, victim(12, 0, 1, 50), victim(13, 0, 1, 60)},
       {job(1).cpus(3).preempts({0})},
       {"13 preempt for 1", "1 pending Preempting"}},
      {"enough with its ending victims: waits",
       {node("n1").numa(1, 4).busy({0, 1}), node("n2").numa(1, 4).busy({0, 1, 2, 3})},
       {ending, victim(12, 1, 4, 50)},
       {job(1).cpus(4).preempts({0}).prio(10), job(2).prio(5)},
       {"1 pending Preempting", "2 pending Resources"}},
      // Job 7 is running already (it is not pending): its ending victim 11 is free to count on.
      {"an ending victim whose preemptor runs already serves another preempting job",
       {node("n1").numa(1, 2).busy({0, 1})},
       {[] { RunningJob r = victim(11, 0, 1, 10); r.preempted_for = 7; return r; }(), victim(12, 0, 1, 50)},
       {job(1).preempts({0})},
       {"1 pending Preempting"}},
      {"two jobs in one pass never share a victim",
       {node("n1").numa(1, 4).busy({0, 1, 2, 3})},
       {victim(11, 0, 2, 10), victim(12, 0, 2, 20)},
       {job(1).cpus(2).preempts({0}).prio(10), job(2).cpus(2).preempts({0}).prio(5)},
       {"12 preempt for 1", "1 pending Preempting", "11 preempt for 2", "2 pending Preempting"}},
  });
}

// Suspension frees a victim's cores and GPUs but not its memory: a job that needs that memory
// must not suspend it (it would never fit, and the victim would stay stopped).
TEST(Preemption, ASuspendedVictimsMemoryIsNotCountedAsFreed) {
  RunningJob keeps = victim(11, 0, 16, 10);
  keeps.use[0].mem_mb = 60000;
  keeps.keeps_memory = true;
  RunningJob gives = keeps;
  gives.keeps_memory = false;
  const std::vector<NodeState> full = {node("n1").numa(1, 16).busy({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
                                           .freeMem(4000)};
  runCases({
      {"needs memory the suspended victim keeps: nobody is preempted", full, {keeps},
       {job(1).cpus(16).mem(8000).preempts({0})}, {"1 pending Resources"}},
      {"needs only cores: suspended", full, {keeps}, {job(1).cpus(16).preempts({0})},
       {"11 preempt for 1", "1 pending Preempting"}},
      {"requeued or cancelled, it gives its memory back", full, {gives},
       {job(1).cpus(16).mem(8000).preempts({0})}, {"11 preempt for 1", "1 pending Preempting"}},
  });
}

// The jobs it preempted are requeued and older: were they placed first, they would take their
// cores back and be preempted again, pass after pass.
TEST(Preemption, APreemptingJobGoesBeforeJobsOfHigherPriority) {
  runCases({
      {"before older, higher-priority jobs",
       {node("n1").numa(1, 2)},
       {},
       {job(1).prio(100).submit(1), job(2).prio(100).submit(2), job(3).cpus(2).prio(1).submit(50).preempts({0})},
       {"3 -> n1[0-1]:1t", "1 pending Resources", "2 pending Resources"}},
  });
}

TEST(Preemption, ReclaimingAGuaranteeTakesOnlyWhatOthersBorrow) {
  // Group 0 (the job's account) stays within its guarantee; group 1 holds 2 cores beyond its
  // own in the same pool; group 2 is another pool's.
  const std::vector<QuotaGroup> groups = {{0, -4, 0, 0}, {0, 2, 0, 0}, {1, 8, 0, 0}};
  const std::vector<NodeState> full = {node("n1").numa(1, 4).busy({0, 1, 2, 3})};
  runCases({
      {"the borrower's youngest job", full, {victim(11, 0, 2, 10, 0, 1), victim(12, 0, 2, 20, 0, 1)},
       {job(1).cpus(2).reclaims(0)}, {"12 preempt for 1", "1 pending Preempting"}, {{0}}, groups},
      // After job 12 the borrower holds its guarantee exactly: job 11 is its own.
      {"not below the borrower's guarantee", full, {victim(11, 0, 2, 10, 0, 1), victim(12, 0, 2, 20, 0, 1)},
       {job(1).cpus(4).reclaims(0)}, {"1 pending Resources"}, {{0}}, groups},
      {"its own account's jobs are not reclaimed from", full, {victim(11, 0, 4, 10, 0, 0)},
       {job(1).cpus(2).reclaims(0)}, {"1 pending Resources"}, {{0}}, groups},
      {"a borrower in another pool is not touched", full, {victim(11, 0, 4, 10, 0, 2)},
       {job(1).cpus(2).reclaims(0)}, {"1 pending Resources"}, {{0}}, groups},
      {"a job not within its guarantee reclaims nothing", full, {victim(11, 0, 2, 10, 0, 1), victim(12, 0, 2, 20, 0, 1)},
       {job(1).cpus(2)}, {"1 pending Resources"}, {{0}}, groups},
  });
}

}  // namespace
}  // namespace locus::scheduler
