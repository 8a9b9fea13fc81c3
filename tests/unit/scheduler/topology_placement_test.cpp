// Table tests for topology-aware placement through schedulePass: GPUs near the job's cores, GPU
// types and --constraint over node features, switch trees and --switches, GPUs in backfill
// planning; and checkSatisfiable for GPUs and features. Decisions are written as in
// builders.hpp ("1 -> n1[2-3]:1t g0,1").
#include <gtest/gtest.h>

#include "controller/scheduler/scheduler.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::describeAll;
using testing::job;
using testing::node;
using testing::running;

constexpr uint32_t kNone = Network::kNoSwitch;

struct Case {
  std::string name;
  std::vector<NodeState> nodes;
  std::vector<JobRequest> jobs;
  std::vector<std::string> want;
  Network network = {};
  int64_t now = 0;
  std::vector<RunningJob> running = {};
};

void runCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot s;
    s.now = c.now;
    s.nodes = c.nodes;
    s.pending = c.jobs;
    s.network = c.network;
    s.running = c.running;
    EXPECT_EQ(describeAll(schedulePass(s), s.nodes), c.want);
  }
}

TEST(TopologyPlacement, GpusNearTheCores) {
  runCases({
      // Domain 0 has 2 free cores and GPUs 0, 1; domain 1 has 4 cores and GPUs 2, 3. Both hold
      // the job; domain 0 is the best fit, and its GPUs come with it.
      {"a 2-GPU job gets the GPUs of its cores' domain",
       {node("n1").numa(2, 4).busy({0, 1}).gpus({0, 0, 1, 1})},
       {job(1).cpus(2).gpusPerNode(2)},
       {"1 -> n1[2-3]:1t g0,1"}},
      // Same cores, but domain 0's GPUs are busy: the cores move to domain 1 with the free
      // GPUs. Job 2 (no GPUs) still takes the best-fit domain 0.
      {"cores go where the free GPUs are",
       {node("n1").numa(2, 4).busy({0, 1}).gpus({0, 0, 1, 1}).busyGpus({0, 1})},
       {job(1).cpus(2).gpusPerNode(2), job(2).cpus(2)},
       {"1 -> n1[4-5]:1t g2,3", "2 -> n1[2-3]:1t"}},
      // GPU 0 on domain 0 (1 free core), GPU 1 on domain 1: 2 cores only fit domain 1, so GPU 1.
      {"one GPU from the domain the cores landed in",
       {node("n1").numa(2, 4).busy({0, 1, 2}).gpus({0, 1})},
       {job(1).cpus(2).gpusPerNode(1)},
       {"1 -> n1[4-5]:1t g1"}},
      // 3 GPUs: no domain has them all; domain 0 (4 cores) whole, 2 cores from domain 1. GPUs
      // from domain 0 first (most of the cores), then domain 1: 0, 1, 2.
      {"cores over two domains: GPUs of the domain with most cores first",
       {node("n1").numa(2, 4).gpus({0, 0, 1, 1})},
       {job(1).cpus(6).gpusPerNode(3)},
       {"1 -> n1[0-5]:1t g0,1,2"}},
      {"an NVLink pair beats index order, then the other pair",
       {node("n1").numa(1, 8).gpus({0, 0, 0, 0}).nvlink({{0, 2}, {1, 3}})},
       {job(1).gpusPerNode(2), job(2).gpusPerNode(2)},
       {"1 -> n1[0]:1t g0,2", "2 -> n1[1]:1t g1,3"}},
      {"busy GPUs are not free",
       {node("n1").numa(1, 8).gpus({0, 0}).busyGpus({0})},
       {job(1).gpusPerNode(2), job(2).gpusPerNode(1)},
       {"1 pending Resources", "2 -> n1[0]:1t g1"}},
      {"only nodes with the GPUs",
       {node("n1").numa(1, 8), node("n2").numa(1, 8).gpus({0})},
       {job(1).gpusPerNode(1), job(2).gpusPerNode(1)},
       {"1 -> n2[0]:1t g0", "2 pending Resources"}},
  });
}

TEST(TopologyPlacement, GpusPerTask) {
  runCases({
      {"gpus per task times tasks on the node",
       {node("n1").numa(1, 8).gpus({0, 0, 0, 0})},
       {job(1).nodes(1).tasks(2).gpusPerTask(1)},
       {"1 -> n1[0-1]:2t g0,1"}},
      // 1 per node + 2 tasks x 1 per task = 3.
      {"gpus per node and per task add up",
       {node("n1").numa(1, 8).gpus({0, 0, 0, 0})},
       {job(1).nodes(1).tasks(2).gpusPerNode(1).gpusPerTask(1)},
       {"1 -> n1[0-1]:2t g0,1,2"}},
      // 8 cores but 2 GPUs per node: each node holds 2 of the 4 tasks.
      {"flexible: GPUs cap the tasks per node",
       {node("n1").numa(1, 8).gpus({0, 0}), node("n2").numa(1, 8).gpus({0, 0})},
       {job(1).tasks(4).gpusPerTask(1)},
       {"1 -> n1[0-1]:2t g0,1 n2[0-1]:2t g0,1"}},
      {"fixed: every node gets its share",
       {node("n1").numa(1, 8).gpus({0, 0}), node("n2").numa(1, 8).gpus({0, 0})},
       {job(1).nodes(2).tasks(2).gpusPerNode(2)},
       {"1 -> n1[0]:1t g0,1 n2[0]:1t g0,1"}},
      // Slots {3, 1}: the 3-task slot needs 3 GPUs, only n2 has them.
      {"fixed: uneven slots need uneven GPUs",
       {node("n1").numa(1, 8).gpus({0, 0}), node("n2").numa(1, 8).gpus({0, 0, 0})},
       {job(1).nodes(2).tasks(4).perNode(3).gpusPerTask(1)},
       {"1 -> n2[0-2]:3t g0,1,2 n1[0]:1t g0"}},
      // Job 1 needs 4 tasks x 1 GPU and fails; job 2 needs 4 cores but 1 GPU: it must not be
      // skipped as "the same or more than a failed job" (it asks fewer GPUs).
      {"a failed GPU job does not block one asking fewer GPUs on as many cores",
       {node("n1").numa(1, 4).gpus({0, 0})},
       {job(1).nodes(1).tasks(4).gpusPerTask(1), job(2).nodes(1).tasks(1).cpus(4).gpusPerTask(1),
        job(3).nodes(1).tasks(4).gpusPerTask(1)},
       {"1 pending Resources", "2 -> n1[0-3]:1t g0", "3 pending Resources"}},
  });
}

TEST(TopologyPlacement, FeaturesAndGpuTypes) {
  // One core per node: each started job fills its node.
  const std::vector<NodeState> labeled = {
      node("n1").numa(1, 1).features({"ib"}),      node("n2").numa(1, 1).features({"ib", "nvme"}),
      node("n3").numa(1, 1).features({"nvme"}),    node("n4").numa(1, 1).features({"a", "c"}),
      node("n5").numa(1, 1).features({"b", "c"}),  node("n6").numa(1, 1).features({"a"}),
      node("n7").numa(1, 1).features({"x"}).down()};
  const std::vector<NodeState> typed = {
      node("n1").numa(1, 4).gpus({0, 0}).features({"v100"}),
      node("n2").numa(1, 4).gpus({0, 0}).features({"a100", "ib"})};
  runCases({
      {"ib&nvme: only nodes with both",
       labeled,
       {job(1).constraint("ib&nvme"), job(2).constraint("ib&nvme")},
       {"1 -> n2[0]:1t", "2 pending Resources"}},
      {"a|b: either",
       labeled,
       {job(1).constraint("a|b"), job(2).constraint("a|b"), job(3).constraint("a|b"),
        job(4).constraint("a|b")},
       {"1 -> n4[0]:1t", "2 -> n5[0]:1t", "3 -> n6[0]:1t", "4 pending Resources"}},
      // n6 has a but not c.
      {"(a|b)&c: parentheses group",
       labeled,
       {job(1).constraint("(a|b)&c"), job(2).constraint("(a|b)&c"), job(3).constraint("(a|b)&c")},
       {"1 -> n4[0]:1t", "2 -> n5[0]:1t", "3 pending Resources"}},
      // b|a&c = b | (a&c): n5 (b) and n4 (a, c), not n6 (a only).
      {"& binds tighter than |",
       labeled,
       {job(1).constraint("b|a&c"), job(2).constraint("b|a&c"), job(3).constraint("b|a&c")},
       {"1 -> n4[0]:1t", "2 -> n5[0]:1t", "3 pending Resources"}},
      {"a feature no node has: ReqNodeNotAvail",
       labeled,
       {job(1).constraint("gpu")},
       {"1 pending ReqNodeNotAvail"}},
      {"features are case-sensitive",
       labeled,
       {job(1).constraint("IB")},
       {"1 pending ReqNodeNotAvail"}},
      {"a feature only a down node has: ReqNodeNotAvail",
       labeled,
       {job(1).constraint("x|gpu")},
       {"1 pending ReqNodeNotAvail"}},
      {"a malformed constraint: BadConstraints",
       labeled,
       {job(1).constraint("ib&"), job(2).constraint("(ib"), job(3)},
       {"1 pending BadConstraints", "2 pending BadConstraints", "3 -> n1[0]:1t"}},
      {"matching nodes all busy: Resources",
       labeled,
       {job(1).constraint("nvme"), job(2).constraint("nvme"), job(3).constraint("nvme")},
       {"1 -> n2[0]:1t", "2 -> n3[0]:1t", "3 pending Resources"}},
      // Without a type the lower index n1 would win.
      {"a GPU type needs the node feature of that name",
       typed,
       {job(1).gpuType("a100").gpusPerNode(1)},
       {"1 -> n2[0]:1t g0"}},
      {"a GPU type no node has: ReqNodeNotAvail",
       typed,
       {job(1).gpuType("h100").gpusPerNode(1)},
       {"1 pending ReqNodeNotAvail"}},
      {"a GPU type and a constraint together",
       typed,
       {job(1).gpuType("v100").constraint("ib").gpusPerNode(1),
        job(2).gpuType("a100").constraint("ib").gpusPerNode(1)},
       {"1 pending ReqNodeNotAvail", "2 -> n2[0]:1t g0"}},
      {"the typed node's GPUs all busy: Resources",
       {node("n1").numa(1, 4).gpus({0, 0}).features({"v100"}),
        node("n2").numa(1, 4).gpus({0, 0}).busyGpus({0, 1}).features({"a100"})},
       {job(1).gpuType("a100").gpusPerNode(1)},
       {"1 pending Resources"}},
      {"the only typed node is down: ReqNodeNotAvail",
       {node("n1").numa(1, 4).gpus({0, 0}).features({"v100"}),
        node("n2").numa(1, 4).gpus({0, 0}).features({"a100"}).down()},
       {job(1).gpuType("a100").gpusPerNode(1)},
       {"1 pending ReqNodeNotAvail"}},
  });
}

// The header's example tree: leaves L1 (switch 0: n1-n4) and L2 (switch 1: n5-n8) under spine S
// (switch 2).
Network spine() {
  Network n;
  n.parent = {2, 2, kNone};
  n.switch_of_node = {0, 0, 0, 0, 1, 1, 1, 1};
  return n;
}

// Eight 4-core nodes; the listed ones (1-based, as in their names) have every core busy.
std::vector<NodeState> eight(std::initializer_list<int> full) {
  std::vector<NodeState> out;
  for (int i = 1; i <= 8; ++i) {
    auto b = node("n" + std::to_string(i)).numa(1, 4);
    if (std::find(full.begin(), full.end(), i) != full.end()) b.busy({0, 1, 2, 3});
    out.push_back(b);
  }
  return out;
}

TEST(TopologyPlacement, SwitchTree) {
  runCases({
      // Free n1, n2 (L1) and n5, n6, n7 (L2): L2 is the only leaf that holds 3.
      {"-N 3 goes to the one leaf that holds it",
       eight({3, 4, 8}),
       {job(1).nodes(3).tasks(3)},
       {"1 -> n5[0]:1t n6[0]:1t n7[0]:1t"},
       spine()},
      {"flat: the same job takes the lowest indices",
       eight({3, 4, 8}),
       {job(1).nodes(3).tasks(3)},
       {"1 -> n1[0]:1t n2[0]:1t n5[0]:1t"}},
      // 5 nodes: all 3 of L2 (the fuller leaf), then 2 of L1: two leaves, never three.
      {"-N 5 takes the fullest leaf, then the rest",
       eight({3, 4, 8}),
       {job(1).nodes(5).tasks(5)},
       {"1 -> n5[0]:1t n6[0]:1t n7[0]:1t n1[0]:1t n2[0]:1t"},
       spine()},
      // Idle tree, both leaves tie: L1 (lower index), and in it the lowest node indices.
      {"idle tree: the lowest leaf and the lowest nodes in it",
       eight({}),
       {job(1).nodes(2).tasks(2)},
       {"1 -> n1[0]:1t n2[0]:1t"},
       spine()},
      // L2: n5 4 free, n6 2 free, n7 4 free; L1 only n1. Within L2 the best fit n6 first, then
      // the lower index of the equal fits n5 and n7.
      {"within the leaf: best fit first, then the lower index",
       [] {
         auto nodes = eight({2, 3, 4, 8});
         nodes[5] = node("n6").numa(1, 4).busy({0, 1});
         return nodes;
       }(),
       {job(1).nodes(2).tasks(2)},
       {"1 -> n6[2]:1t n5[0]:1t"},
       spine()},
      // n1: 4 free, n2: 1 free (L1 holds 5 tasks); n5-n7: 3 free each (L2 holds 9). Flat: n1
      // takes 4, the best fit for the other 2 is n5: two leaves.
      {"flexible, flat: most free first, best fit for the rest",
       [] {
         auto nodes = eight({3, 4, 8});
         nodes[1] = node("n2").numa(1, 4).busy({0, 1, 2});
         for (int i : {4, 5, 6}) nodes[i] = node("n" + std::to_string(i + 1)).numa(1, 4).busy({0});
         return nodes;
       }(),
       {job(1).tasks(6)},
       {"1 -> n1[0-3]:4t n5[1-2]:2t"}},
      // Same nodes on the tree: L1 holds only 5, so the job is confined to L2.
      {"flexible on a tree: confined to the lowest subtree that holds it",
       [] {
         auto nodes = eight({3, 4, 8});
         nodes[1] = node("n2").numa(1, 4).busy({0, 1, 2});
         for (int i : {4, 5, 6}) nodes[i] = node("n" + std::to_string(i + 1)).numa(1, 4).busy({0});
         return nodes;
       }(),
       {job(1).tasks(6)},
       {"1 -> n5[1-3]:3t n6[1-3]:3t"},
       spine()},
  });
}

TEST(TopologyPlacement, MaxSwitches) {
  // Free: n1, n2 (L1) and n5, n6 (L2). 3 nodes need both leaves.
  const auto nodes = eight({3, 4, 7, 8});
  runCases({
      {"-N 3 --switches=1 waits while the wait lasts",
       nodes,
       {job(1).nodes(3).tasks(3).switches(1, 100)},
       {"1 pending Resources"},
       spine(),
       /*now=*/0},
      {"-N 3 --switches=1 relaxes once the wait is over",
       nodes,
       {job(1).nodes(3).tasks(3).switches(1, 100)},
       {"1 -> n1[0]:1t n2[0]:1t n5[0]:1t"},
       spine(),
       /*now=*/100},
      {"-N 3 --switches=2 fits now",
       nodes,
       {job(1).nodes(3).tasks(3).switches(2, 100)},
       {"1 -> n1[0]:1t n2[0]:1t n5[0]:1t"},
       spine(),
       /*now=*/0},
      {"-N 2 --switches=1 on one leaf",
       nodes,
       {job(1).nodes(2).tasks(2).switches(1, 100)},
       {"1 -> n1[0]:1t n2[0]:1t"},
       spine(),
       /*now=*/0},
      // 8 tasks fit L1 alone (2 nodes x 4 cores); 12 need three nodes over both leaves.
      {"flexible --switches=1: one leaf or wait",
       nodes,
       {job(1).tasks(12).switches(1, 100), job(2).tasks(8).switches(1, 100)},
       {"1 pending Resources", "2 -> n1[0-3]:4t n2[0-3]:4t"},
       spine(),
       /*now=*/0},
      {"flexible --switches=1 relaxes once the wait is over",
       nodes,
       {job(1).tasks(12).switches(1, 100)},
       {"1 -> n1[0-3]:4t n2[0-3]:4t n5[0-3]:4t"},
       spine(),
       /*now=*/150},
      {"flat network: --switches has nothing to limit",
       nodes,
       {job(1).nodes(3).tasks(3).switches(1, 100)},
       {"1 -> n1[0]:1t n2[0]:1t n5[0]:1t"},
       {},
       /*now=*/0},
  });
}

// n1: 8 cores, 2 GPUs; a running job holds 4 cores and GPU 0 until t=100.
//   job 1: 2 GPUs, 100 s -> 1 free now; both at 100 -> reserved [100, 200) with 2 GPUs
//   job 2: 1 GPU, 200 s  -> fits now but holds GPU 1 past 100: job 1 would find 2 - 1 = 1
//   job 3: 1 GPU, 50 s   -> ends before 100: backfilled on GPU 1
TEST(TopologyPlacement, GpusInBackfill) {
  const std::vector<NodeState> nodes = {
      node("n1").numa(1, 8).busy({0, 1, 2, 3}).gpus({0, 0}).busyGpus({0})};
  const std::vector<JobRequest> jobs = {job(1).gpusPerNode(2).limit(100),
                                        job(2).gpusPerNode(1).limit(200),
                                        job(3).gpusPerNode(1).limit(50)};
  runCases({
      {"a running job's GPUs come back at its end",
       nodes,
       jobs,
       {"1 reserve@100 n1:1c/2g", "2 pending Resources", "3 -> n1[4]:1t g1"},
       {},
       0,
       {running(100, 0, 4, 100, 0, 1)}},
      // Held forever: job 1 can never be planned, so nothing protects GPU 1 (EASY degrades to
      // first fit) and job 2 takes it.
      {"GPUs held forever are never planned free",
       nodes,
       jobs,
       {"1 pending Resources", "2 -> n1[4]:1t g1", "3 pending Resources"},
       {},
       0,
       {running(100, 0, 4, 0, 0, 1)}},
  });
}

struct SatCase {
  std::string name;
  std::vector<NodeState> nodes;
  JobRequest job;
  ErrorCode code;       // ignored when message is empty
  std::string message;  // empty = satisfiable
};

TEST(TopologySatisfiable, GpusAndFeatures) {
  // n1: 16 cores, 4 GPUs (v100, ib); n2: 16 cores, 2 GPUs (a100); n3: 4 cores, no GPU (ib),
  // down (satisfiability assumes every node up).
  const std::vector<NodeState> cluster = {
      node("n1").numa(2, 8).gpus({0, 0, 1, 1}).features({"v100", "ib"}),
      node("n2").numa(2, 8).gpus({0, 0}).features({"a100"}),
      node("n3").numa(1, 4).features({"ib"}).down()};
  // Two 8-core nodes with 2 GPUs each.
  const std::vector<NodeState> pairs = {node("p1").numa(1, 8).gpus({0, 0}),
                                        node("p2").numa(1, 8).gpus({0, 0})};
  // The pairs plus one 8-core node with 4 GPUs.
  std::vector<NodeState> mixed = pairs;
  mixed.push_back(node("q1").numa(1, 8).gpus({0, 0, 0, 0}));
  const std::vector<SatCase> cases = {
      {"GPUs per node within the largest node", cluster, job(1).gpusPerNode(4), {}, ""},
      {"more GPUs per node than any node has", cluster, job(1).gpusPerNode(8),
       ErrorCode::kUnsatisfiable, "requested 8 GPUs per node but the largest node has 4"},
      // 5 tasks x 1 GPU on one node.
      {"GPUs per task on one node", cluster, job(1).nodes(1).tasks(5).gpusPerTask(1),
       ErrorCode::kUnsatisfiable, "requested 5 GPUs per node but the largest node has 4"},
      // Flexible: n1 holds 4 tasks (4 GPUs), n2 2, n3 none: 6 at most.
      {"flexible GPUs per task over nodes", cluster, job(1).tasks(6).gpusPerTask(1), {}, ""},
      {"flexible GPUs per task: more tasks than GPUs", cluster, job(1).tasks(7).gpusPerTask(1),
       ErrorCode::kUnsatisfiable, "requested 7 tasks of 1 cpu but the cluster can hold at most 6"},
      {"a GPU type no node has", cluster, job(1).gpuType("h100").gpusPerNode(1),
       ErrorCode::kUnsatisfiable, "no node has GPUs of type 'h100'"},
      {"the GPU type narrows the nodes", cluster, job(1).gpuType("a100").gpusPerNode(4),
       ErrorCode::kUnsatisfiable, "requested 4 GPUs per node but the largest node has 2"},
      {"an unknown feature", cluster, job(1).constraint("nvme"), ErrorCode::kUnsatisfiable,
       "no node has the features 'nvme'"},
      {"a feature and a GPU type no node has together", cluster,
       job(1).constraint("ib").gpuType("a100"), ErrorCode::kUnsatisfiable,
       "no node has the features 'ib' and GPUs of type 'a100'"},
      {"a down node's features count", cluster, job(1).constraint("ib").nodes(2).tasks(2), {}, ""},
      // Only n1 and n3 have ib; n3 has 4 cores.
      {"the feature narrows the cores", cluster, job(1).constraint("ib").nodes(2).tasks(2).cpus(8),
       ErrorCode::kUnsatisfiable,
       "requested 2 nodes with at least 8 cpus each but only 1 node has that much"},
      {"a malformed constraint", cluster, job(1).constraint("ib&"), ErrorCode::kInvalidArgument,
       "invalid --constraint 'ib&': a feature name is missing at the end"},
      // Slots {2, 1} x 1 GPU per task: 2 and 1 GPUs.
      {"uneven slots that fit", pairs, job(1).nodes(2).tasks(3).gpusPerTask(1), {}, ""},
      // Slots {2, 1} x 2 GPUs per task: the first node needs 4 GPUs, each has 2.
      {"uneven slots: the largest slot's GPUs decide", pairs,
       job(1).nodes(2).tasks(3).gpusPerTask(2), ErrorCode::kUnsatisfiable,
       "requested 4 GPUs on one node but the largest node has 2"},
      // Slots {3, 1} x 1 GPU per task: 3 GPUs on q1, 1 on a pair node.
      {"uneven slots over different nodes",
       mixed,
       job(1).nodes(2).tasks(4).perNode(3).gpusPerTask(1),
       {},
       ""},
      // Slots {3, 3, 1}: two nodes with 3 GPUs each, only q1 has them.
      {"uneven slots: too few nodes with the GPUs", mixed,
       job(1).nodes(3).tasks(7).perNode(3).gpusPerTask(1), ErrorCode::kUnsatisfiable,
       "requested 2 nodes with at least 3 cpus and 3 GPUs each but only 1 node has that much"},
      // Slots {1, 1, 1} x 1 GPU with 3 nodes: both are too few nodes, whatever their GPUs.
      {"GPU jobs still need the nodes", pairs, job(1).nodes(3).tasks(3).gpusPerTask(1),
       ErrorCode::kUnsatisfiable, "requested 3 nodes but the cluster has 2"},
  };
  for (const SatCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Status st = checkSatisfiable(c.job, c.nodes);
    if (c.message.empty()) {
      EXPECT_TRUE(st.ok()) << st.error().message;
      continue;
    }
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, c.code);
    EXPECT_EQ(st.error().message, c.message);
  }
}

}  // namespace
}  // namespace locus::scheduler
