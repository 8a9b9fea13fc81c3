#include "controller/scheduler/task_layout.hpp"

#include <gtest/gtest.h>

#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::job;

struct Case {
  std::string name;
  JobRequest job;
  std::vector<uint32_t> want;
};

TEST(FixedTaskCounts, Table) {
  const std::vector<Case> cases = {
      {"one node", job(1).nodes(1).tasks(4), {4}},
      {"even", job(1).nodes(2).tasks(6), {3, 3}},
      // 5 / 2 = 2 each, the first 5 % 2 = 1 node gets one more.
      {"-N 2 -n 5", job(1).nodes(2).tasks(5), {3, 2}},
      {"-N 3 -n 8", job(1).nodes(3).tasks(8), {3, 3, 2}},
      {"one task per node", job(1).nodes(3).tasks(3), {1, 1, 1}},
      {"per node, exact", job(1).nodes(3).tasks(12).perNode(4), {4, 4, 4}},
      {"per node, last gets fewer", job(1).nodes(3).tasks(10).perNode(4), {4, 4, 2}},
      {"per node, one task kept for each later node",
       job(1).nodes(3).tasks(5).perNode(4),
       {3, 1, 1}},
      {"per node, larger than needed", job(1).nodes(2).tasks(2).perNode(8), {1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(requestProblem(c.job).has_value());
    EXPECT_EQ(fixedTaskCounts(c.job), c.want);
  }
}

TEST(FlexibleCapacity, WholeTasksAndCap) {
  EXPECT_EQ(flexibleCapacity(job(1).cpus(2), 7), 3u);
  EXPECT_EQ(flexibleCapacity(job(1).cpus(2).perNode(2), 7), 2u);
  EXPECT_EQ(flexibleCapacity(job(1).cpus(4), 3), 0u);
}

}  // namespace
}  // namespace locus::scheduler
