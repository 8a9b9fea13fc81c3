// Data locality in schedulePass: input nodes first, then their rack, then anywhere, with delay
// scheduling's bounded waits (scheduler.hpp). Racks are the leaf switches of Snapshot::network.
#include <gtest/gtest.h>

#include "controller/scheduler/scheduler.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describe;
using testing::job;
using testing::node;

// Two racks of three nodes: rack 0 = n1-n3 (indices 0-2), rack 1 = n4-n6 (3-5), 4 cores each.
Snapshot twoRacks() {
  Snapshot s;
  s.policy = Policy::kEasy;
  for (int i = 1; i <= 6; ++i) s.nodes.push_back(node("n" + std::to_string(i)).numa(1, 4));
  s.network.parent = {Network::kNoSwitch, 0, 0};  // spine 0 over leaves 1 and 2
  s.network.switch_of_node = {1, 1, 1, 2, 2, 2};
  s.now = 100;
  s.now_ms = 100'000;
  return s;
}

// A copy: callers pass the pass's decisions as a temporary.
Decision decisionFor(const std::vector<Decision>& ds, uint64_t id) {
  for (const Decision& d : ds)
    if (d.job_id == id && d.kind != Decision::Kind::kPreempt) return d;
  ADD_FAILURE() << "no decision for job " << id;
  return {};
}

// Takes every core of node index n (a busy node).
void fill(Snapshot& s, uint32_t n) { s.nodes[n].free_cores_by_numa = {{}}; }

TEST(Locality, GoesToTheNodeWithTheMostInput) {
  Snapshot s = twoRacks();
  // Input on n5 (more bytes) and n2; best fit alone would pick n1.
  s.pending = {job(1).input({{4, 300}, {1, 100}})};
  auto ds = schedulePass(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(describe(ds[0], s.nodes), "1 -> n5[0]:1t");
  EXPECT_EQ(ds[0].locality, Locality::kNodeLocal);
  EXPECT_EQ(ds[0].locality_wait_since_ms, 0);
}

TEST(Locality, NextReplicaWhenTheFirstIsBusy) {
  Snapshot s = twoRacks();
  fill(s, 4);
  s.pending = {job(1).input({{4, 300}, {1, 100}})};
  auto ds = schedulePass(s);
  EXPECT_EQ(describe(ds[0], s.nodes), "1 -> n2[0]:1t");
  EXPECT_EQ(ds[0].locality, Locality::kNodeLocal);
}

TEST(Locality, WaitsWhileOnlyNonLocalSlotsAreFree) {
  Snapshot s = twoRacks();
  fill(s, 1);
  fill(s, 4);
  s.pending = {job(1).input({{4, 300}, {1, 100}})};
  auto ds = schedulePass(s);
  const Decision d = decisionFor(ds, 1);
  EXPECT_EQ(d.kind, Decision::Kind::kPending);
  EXPECT_EQ(d.reason, "Locality");
  EXPECT_EQ(d.locality_wait_since_ms, 100'000);  // starts now
  EXPECT_EQ(d.locality_retry_at_ms, 100'000 + kDefaultLocalityWaitNodeMs);
}

TEST(Locality, AKeptWaitIsHandedBack) {
  Snapshot s = twoRacks();
  fill(s, 1);
  fill(s, 4);
  s.pending = {job(1).input({{4, 300}, {1, 100}}).waitingSince(99'000)};
  const Decision d = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(d.reason, "Locality");
  EXPECT_EQ(d.locality_wait_since_ms, 99'000);
  EXPECT_EQ(d.locality_retry_at_ms, 99'000 + kDefaultLocalityWaitNodeMs);
}

TEST(Locality, RackLocalAfterTheNodeWait) {
  Snapshot s = twoRacks();
  fill(s, 1);
  fill(s, 4);
  // n2 (rack 0) and n5 (rack 1) busy; waited exactly the node wait: a node of either rack.
  s.pending = {job(1).input({{4, 300}, {1, 100}}).waitingSince(100'000 - kDefaultLocalityWaitNodeMs)};
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(d.locality, Locality::kRackLocal);
}

TEST(Locality, AnywhereAfterBothWaits) {
  Snapshot s = twoRacks();
  for (uint32_t n : {0u, 1u, 2u}) fill(s, n);  // all of rack 0 busy
  s.pending = {job(1).input({{1, 100}})};
  // Within the rack wait: still waiting (rack 1 only is free).
  s.pending[0].locality_wait_since_ms = 100'000 - kDefaultLocalityWaitNodeMs;
  const Decision waiting = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(waiting.reason, "Locality");
  EXPECT_EQ(waiting.locality_retry_at_ms,
            100'000 + kDefaultLocalityWaitRackMs);  // since + both waits
  // Past both waits: remote.
  s.pending[0].locality_wait_since_ms = 100'000 - kDefaultLocalityWaitNodeMs - kDefaultLocalityWaitRackMs;
  const Decision started = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(started.kind, Decision::Kind::kStart);
  EXPECT_EQ(started.locality, Locality::kRemote);
  EXPECT_EQ(describe(started, s.nodes), "1 -> n4[0]:1t");
}

TEST(Locality, AFullClusterIsNoReasonToStartTheWait) {
  Snapshot s = twoRacks();
  for (uint32_t n = 0; n < 6; ++n) fill(s, n);
  s.pending = {job(1).input({{1, 100}})};
  const Decision d = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(d.reason, "Resources");
  EXPECT_EQ(d.locality_wait_since_ms, 0);  // nothing elsewhere was free: no wait counted
}

TEST(Locality, ASkippedSlotGoesToATaskLocalToIt) {
  // Delay scheduling's point: job 1 (first in order) skips n4, and job 2, whose data is on n4,
  // takes it in the same pass.
  Snapshot s = twoRacks();
  for (uint32_t n : {0u, 1u, 2u, 4u, 5u}) fill(s, n);
  s.pending = {job(1).prio(10).input({{1, 100}}), job(2).prio(5).input({{3, 100}})};
  auto ds = schedulePass(s);
  EXPECT_EQ(decisionFor(ds, 1).reason, "Locality");
  EXPECT_EQ(describe(decisionFor(ds, 2), s.nodes), "2 -> n4[0]:1t");
  EXPECT_EQ(decisionFor(ds, 2).locality, Locality::kNodeLocal);
}

TEST(Locality, FlatNetworkGoesAnywhereAfterTheNodeWait) {
  Snapshot s = twoRacks();
  s.network = {};
  fill(s, 1);
  s.pending = {job(1).input({{1, 100}}).waitingSince(100'000 - kDefaultLocalityWaitNodeMs)};
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(d.locality, Locality::kRemote);
}

TEST(Locality, ZeroWaitsNeverSkip) {
  Snapshot s = twoRacks();
  s.locality_wait_node_ms = 0;
  s.locality_wait_rack_ms = 0;
  fill(s, 1);
  s.pending = {job(1).input({{1, 100}})};
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(d.locality, Locality::kRackLocal);  // still the nearest free: its rack
}

TEST(Locality, MultiNodeJobOnTheInputNodes) {
  Snapshot s = twoRacks();
  s.pending = {job(1).nodes(2).tasks(2).input({{5, 200}, {2, 100}})};
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  ASSERT_EQ(d.allocation.size(), 2u);
  std::vector<uint32_t> nodes = {d.allocation[0].node, d.allocation[1].node};
  std::sort(nodes.begin(), nodes.end());
  EXPECT_EQ(nodes, (std::vector<uint32_t>{2, 5}));
}

TEST(Locality, ConstraintsStillApply) {
  // The input node lacks the feature asked for: never used, even node-local.
  Snapshot s = twoRacks();
  for (uint32_t n = 1; n < 6; ++n) s.nodes[n].features = {"ssd"};
  s.pending = {job(1).constraint("ssd").input({{0, 100}})};
  s.locality_wait_node_ms = 0;
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_NE(d.allocation[0].node, 0u);
  EXPECT_EQ(d.locality, Locality::kRackLocal);
}

TEST(Locality, SkipsAreReportedWithoutReportWaiting) {
  Snapshot s = twoRacks();
  s.report_waiting = false;
  fill(s, 1);
  s.pending = {job(1).input({{1, 100}}), job(2)};
  auto ds = schedulePass(s);
  EXPECT_EQ(decisionFor(ds, 1).reason, "Locality");
  EXPECT_EQ(decisionFor(ds, 1).locality_wait_since_ms, 100'000);
  EXPECT_EQ(decisionFor(ds, 2).kind, Decision::Kind::kStart);
}

TEST(Locality, OneDecisionPerWaitingJobWithoutReportWaiting) {
  // A dataflow job of 5 tasks, all data on the busy n2: one decision carries the job's wait.
  Snapshot s = twoRacks();
  s.report_waiting = false;
  fill(s, 1);
  for (uint64_t i = 1; i <= 5; ++i) s.pending.push_back(job(i).array(1, 0).input({{1, 100}}));
  auto ds = schedulePass(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].reason, "Locality");
  EXPECT_EQ(ds[0].locality_wait_since_ms, 100'000);
  EXPECT_EQ(ds[0].locality_retry_at_ms, 100'000 + kDefaultLocalityWaitNodeMs);
}

TEST(Locality, JobsWithoutInputAreUnaffected) {
  Snapshot s = twoRacks();
  s.pending = {job(1), job(2).input({{3, 10}})};
  auto ds = schedulePass(s);
  EXPECT_EQ(describe(decisionFor(ds, 1), s.nodes), "1 -> n1[0]:1t");
  EXPECT_EQ(decisionFor(ds, 1).locality, Locality::kNone);
  EXPECT_EQ(describe(decisionFor(ds, 2), s.nodes), "2 -> n4[0]:1t");
}

// ---- per-job waits (a dataflow job's tasks share one), Spark's SPARK-18886 rule ----------------

testing::JobBuilder task(uint64_t id, uint64_t array, std::initializer_list<std::pair<uint32_t, uint64_t>> sites) {
  testing::JobBuilder b = job(id);
  b.array(array, 0).input(sites);
  return b;
}

TEST(LocalityWaits, TheTasksOfAJobShareTheirWait) {
  Snapshot s = twoRacks();
  for (uint32_t n : {0u, 1u, 2u, 4u, 5u}) fill(s, n);  // only n4 free
  // Task 2 carries the job's wait (past both levels); task 1 carries none: it relaxes too.
  s.pending = {task(1, 1, {{1, 100}}), task(2, 1, {{2, 100}})};
  s.pending[1].locality_wait_since_ms = 100'000 - kDefaultLocalityWaitNodeMs - kDefaultLocalityWaitRackMs;
  auto ds = schedulePass(s);
  const Decision first = decisionFor(ds, 1);
  ASSERT_EQ(first.kind, Decision::Kind::kStart);
  EXPECT_EQ(first.locality, Locality::kRemote);
}

TEST(LocalityWaits, ALocalStartWithNothingDeclinedRestartsTheWait) {
  Snapshot s = twoRacks();
  for (uint32_t n : {0u, 2u, 3u, 4u, 5u}) fill(s, n);
  s.nodes[1].free_cores_by_numa = {{3}};  // one core free in all: n2's core 3
  // Task 1's data is on n2 (starts there); task 2's on n1 (busy): it skips nothing, n2 is taken.
  s.pending = {task(1, 1, {{1, 100}}).waitingSince(99'000), task(2, 1, {{0, 100}}).waitingSince(99'000)};
  auto ds = schedulePass(s);
  EXPECT_EQ(describe(decisionFor(ds, 1), s.nodes), "1 -> n2[3]:1t");
  EXPECT_EQ(decisionFor(ds, 1).locality, Locality::kNodeLocal);
  EXPECT_EQ(decisionFor(ds, 2).reason, "Resources");
  EXPECT_EQ(decisionFor(ds, 1).locality_wait_since_ms, 0);
  EXPECT_EQ(decisionFor(ds, 2).locality_wait_since_ms, 0);
}

TEST(LocalityWaits, DecliningIdleSlotsKeepsTheWaitGoingDespiteLocalStarts) {
  // SPARK-18886: all data on n1 (2 free cores... 4 here), three more tasks than n1 holds; the
  // other nodes idle. Local starts happen every pass, yet the job declines idle slots, so its
  // wait goes on from where it began and it relaxes after the waits, not never.
  Snapshot s = twoRacks();
  s.pending = {};
  for (uint64_t i = 1; i <= 7; ++i) s.pending.push_back(task(i, 1, {{0, 100}}).waitingSince(99'500));
  auto ds = schedulePass(s);
  int local = 0, waiting = 0;
  for (const Decision& d : ds) {
    if (d.kind == Decision::Kind::kStart && d.locality == Locality::kNodeLocal) ++local;
    if (d.reason == "Locality") ++waiting;
    EXPECT_EQ(d.locality_wait_since_ms, 99'500) << d.job_id;  // goes on, not restarted
  }
  EXPECT_EQ(local, 4);
  EXPECT_EQ(waiting, 3);
  EXPECT_EQ(decisionFor(ds, 7).locality_retry_at_ms, 99'500 + kDefaultLocalityWaitNodeMs);
}

TEST(LocalityWaits, AFullClusterKeepsTheWaitAsItWas) {
  Snapshot s = twoRacks();
  s.report_waiting = false;
  for (uint32_t n = 0; n < 6; ++n) fill(s, n);
  s.pending = {task(1, 1, {{0, 100}}).waitingSince(98'000), task(2, 1, {{0, 100}})};
  auto ds = schedulePass(s);
  // No decision would be reported (nothing starts); one carries the job's wait all the same.
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].locality_wait_since_ms, 98'000);
  EXPECT_EQ(ds[0].kind, Decision::Kind::kPending);
}

}  // namespace
}  // namespace locus::scheduler

namespace locus::scheduler {
namespace {

// Framework lease requests (controller/frameworks.hpp) name racks and may forbid relaxing.

TEST(LocalityRacks, RacksAloneAreTheFirstLevel) {
  Snapshot s = twoRacks();
  s.pending = {job(1).racks({2})};  // rack 1 = leaf switch 2 = n4-n6
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(s.nodes[d.allocation[0].node].name, "n4");
  EXPECT_EQ(d.locality, Locality::kRackLocal);
}

TEST(LocalityRacks, NamedRacksJoinTheRackLevelAfterTheNodeWait) {
  Snapshot s = twoRacks();
  fill(s, 0);
  fill(s, 1);
  fill(s, 2);  // n1's rack is full; n4-n6 (a named rack) are free
  s.pending = {job(1).input({{0, 100}}).racks({2})};
  Decision d = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(d.reason, "Locality");  // the node wait first
  s.pending = {job(1).input({{0, 100}}).racks({2}).waitingSince(100'000 - kDefaultLocalityWaitNodeMs)};
  d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(s.nodes[d.allocation[0].node].name, "n4");
  EXPECT_EQ(d.locality, Locality::kRackLocal);
}

TEST(LocalityRacks, AStrictRequestNeverGoesAnywhere) {
  Snapshot s = twoRacks();
  fill(s, 3);  // its node is busy; everything else is free
  // Waited far past both levels: a relaxing job would start anywhere now.
  s.pending = {job(1).input({{3, 100}}).strict().waitingSince(1)};
  Decision d = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(d.kind, Decision::Kind::kPending);
  EXPECT_EQ(d.reason, "Locality");
  // Its node frees: it starts there.
  s.nodes[3] = node("n4").numa(1, 4);
  d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(s.nodes[d.allocation[0].node].name, "n4");
}

TEST(LocalityRacks, AStrictRequestTakesItsNamedRackButNotItsNodesRack) {
  Snapshot s = twoRacks();
  fill(s, 0);  // its node n1 is busy; n2, n3 (its rack, not named) and n4-n6 are free
  s.pending = {job(1).input({{0, 100}}).racks({2}).strict().waitingSince(1)};
  const Decision d = decisionFor(schedulePass(s), 1);
  ASSERT_EQ(d.kind, Decision::Kind::kStart);
  EXPECT_EQ(s.nodes[d.allocation[0].node].name, "n4");  // the named rack, never n2
}

TEST(LocalityRacks, AStrictRequestGetsNoReservation) {
  Snapshot s = twoRacks();
  fill(s, 3);
  s.running = {testing::running(9, 3, 4, 200)};
  s.pending = {job(1).input({{3, 100}}).strict().limit(60)};
  for (auto& n : s.nodes) n.free_cores_by_numa = {{}};  // nothing free anywhere: not declined
  const Decision d = decisionFor(schedulePass(s), 1);
  EXPECT_EQ(d.kind, Decision::Kind::kPending);
  EXPECT_EQ(d.reason, "Resources");
}

}  // namespace
}  // namespace locus::scheduler
