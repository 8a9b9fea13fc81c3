#include "controller/scheduler/failed_shapes.hpp"

#include <gtest/gtest.h>

#include "controller/scheduler/task_layout.hpp"
#include "tests/unit/scheduler/builders.hpp"

namespace locus::scheduler {
namespace {

using testing::job;

Shape shapeOf(const JobRequest& j) {
  return j.nodes == 0 ? flexibleShape(j) : fixedShape(j, fixedTaskCounts(j));
}

struct Case {
  std::string name;
  JobRequest failed;
  JobRequest later;
  bool covered;
};

TEST(FailedShapes, Table) {
  const std::vector<Case> cases = {
      {"same request", job(1).nodes(2).tasks(4), job(2).nodes(2).tasks(4), true},
      {"more cores per node", job(1).nodes(1).tasks(4), job(2).nodes(1).tasks(8), true},
      {"fewer cores per node", job(1).nodes(1).tasks(4), job(2).nodes(1).tasks(3), false},
      {"more nodes", job(1).nodes(2).tasks(4), job(2).nodes(3).tasks(6), true},
      {"fewer nodes", job(1).nodes(2).tasks(4), job(2).nodes(1).tasks(2), false},
      {"more memory", job(1).nodes(1).mem(100), job(2).nodes(1).mem(200), true},
      {"less memory", job(1).nodes(1).mem(200), job(2).nodes(1).mem(100), false},
      // {3, 2} failed; {3, 3, 3} needs at least 3 everywhere -> covered.
      {"uneven failed, even later", job(1).nodes(2).tasks(5), job(2).nodes(3).tasks(9), true},
      // {3, 2} failed; {2, 2} might fit.
      {"uneven failed, smaller later", job(1).nodes(2).tasks(5), job(2).nodes(2).tasks(4), false},
      // {4, 4, 1} failed; {4, 1, 1} asks less on node 2.
      {"uneven per node", job(1).nodes(3).tasks(9).perNode(4), job(2).nodes(3).tasks(6).perNode(4),
       false},
      {"flexible vs fixed are apart", job(1).tasks(4), job(2).nodes(1).tasks(4), false},
      {"flexible: more tasks", job(1).tasks(4), job(2).tasks(5), true},
      {"flexible: more cpus per task", job(1).tasks(4), job(2).tasks(4).cpus(2), true},
      {"flexible: fewer tasks", job(1).tasks(4), job(2).tasks(3), false},
      {"flexible: tighter per-node cap", job(1).tasks(4).perNode(2), job(2).tasks(4).perNode(1),
       true},
      {"flexible: looser per-node cap", job(1).tasks(4).perNode(2), job(2).tasks(4), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FailedShapes f;
    f.add(shapeOf(c.failed));
    EXPECT_EQ(f.covers(shapeOf(c.later)), c.covered);
  }
}

TEST(FailedShapes, AddingALargerShapeKeepsTheSmallerOne) {
  FailedShapes f;
  f.add(shapeOf(job(1).nodes(1).tasks(4)));
  f.add(shapeOf(job(2).nodes(1).tasks(2).mem(500)));
  EXPECT_TRUE(f.covers(shapeOf(job(3).nodes(1).tasks(5))));
  EXPECT_TRUE(f.covers(shapeOf(job(3).nodes(1).tasks(2).mem(600))));
  EXPECT_FALSE(f.covers(shapeOf(job(3).nodes(1).tasks(2))));
}

}  // namespace
}  // namespace locus::scheduler
