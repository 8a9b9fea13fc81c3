#include <gtest/gtest.h>

#include "controller/scheduler/scheduler.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::job;
using testing::node;

struct Case {
  std::string name;
  JobRequest job;
  ErrorCode code;       // ignored when message is empty
  std::string message;  // empty = satisfiable
};

// Two 16-core nodes with 16000 MB, one 4-core node with 8000 MB (down: satisfiability assumes
// every node idle and up).
std::vector<NodeState> cluster() {
  return {node("n1").numa(2, 8).mem(16000), node("n2").numa(2, 8).mem(16000),
          node("n3").numa(1, 4).mem(8000).down()};
}

TEST(CheckSatisfiable, Table) {
  const std::vector<Case> cases = {
      {"fills the largest node", job(1).cpus(16), {}, ""},
      {"every node, flexible", job(1).tasks(36), {}, ""},
      {"every node, fixed", job(1).nodes(3).tasks(12), {}, ""},
      {"memory on two nodes", job(1).nodes(2).tasks(2).mem(16000), {}, ""},
      {"busy nodes count as idle", job(1).nodes(3).tasks(3), {}, ""},
      {"too many cpus on one node", job(1).nodes(1).tasks(32), ErrorCode::kUnsatisfiable,
       "requested 32 cpus on one node but the largest node has 16"},
      // -N 2 -n 33 -> 17 + 16 tasks.
      {"uneven split exceeds the largest node", job(1).nodes(2).tasks(33),
       ErrorCode::kUnsatisfiable, "requested 17 cpus on one node but the largest node has 16"},
      {"too many cpus per task", job(1).cpus(32), ErrorCode::kUnsatisfiable,
       "requested 32 cpus per task but the largest node has 16"},
      {"too many nodes", job(1).nodes(4).tasks(4), ErrorCode::kUnsatisfiable,
       "requested 4 nodes but the cluster has 3"},
      {"too much memory", job(1).mem(64000), ErrorCode::kUnsatisfiable,
       "requested 64000 MB per node but the largest node has 16000 MB"},
      // Slots {8, 8, 8}: only n1 and n2 have 8 cores.
      {"not enough big nodes", job(1).nodes(3).tasks(24), ErrorCode::kUnsatisfiable,
       "requested 3 nodes with at least 8 cpus each but only 2 nodes have that much"},
      {"not enough nodes with the memory", job(1).nodes(3).tasks(3).mem(10000),
       ErrorCode::kUnsatisfiable,
       "requested 3 nodes with at least 1 cpu and 10000 MB each but only 2 nodes have that much"},
      // 16 + 16 + 4 = 36 single-cpu tasks at most.
      {"flexible: more tasks than cores", job(1).tasks(37), ErrorCode::kUnsatisfiable,
       "requested 37 tasks of 1 cpu but the cluster can hold at most 36"},
      // Only n1 and n2 have 10000 MB: floor(16/4) = 4 tasks each.
      {"flexible: tasks with memory", job(1).tasks(10).cpus(4).mem(10000),
       ErrorCode::kUnsatisfiable,
       "requested 10 tasks of 4 cpus with 10000 MB per node but the cluster can hold at most 8"},
      {"flexible: per-node cap", job(1).tasks(20).perNode(4), ErrorCode::kUnsatisfiable,
       "requested 20 tasks of 1 cpu but the cluster can hold at most 12"},
      {"malformed: cpus per task 0", job(1).cpus(0), ErrorCode::kInvalidArgument,
       "cpus_per_task must be at least 1"},
      {"malformed: more nodes than tasks", job(1).nodes(3).tasks(2), ErrorCode::kInvalidArgument,
       "requested 3 nodes for only 2 tasks"},
      {"malformed: tasks per node too few", job(1).nodes(2).tasks(5).perNode(2),
       ErrorCode::kInvalidArgument, "requested 5 tasks but 2 nodes x 2 tasks per node hold only 4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Status st = checkSatisfiable(c.job, cluster());
    if (c.message.empty()) {
      EXPECT_TRUE(st.ok()) << st.error().message;
      continue;
    }
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, c.code);
    EXPECT_EQ(st.error().message, c.message);
  }
}

TEST(CheckSatisfiable, EmptyCluster) {
  const Status st = checkSatisfiable(job(1), {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnsatisfiable);
  EXPECT_EQ(st.error().message, "the cluster has no nodes");
}

}  // namespace
}  // namespace locus::scheduler
