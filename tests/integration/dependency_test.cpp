// --dependency in the live controller: a job waits (reason Dependency) until its condition holds,
// and is cancelled (DependencyNeverSatisfied) when the condition can no longer hold.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

TEST(Dependencies, WaitRunOrCancelAsTheirConditionsSay) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));

  // The first step waits for a marker file the test creates, so its dependents are seen waiting.
  const std::string gate = cluster.workDir() + "/gate";
  auto first = cluster.submit({"--wrap", "while [ ! -e " + gate + " ]; do sleep 0.05; done"});
  auto failing = cluster.submit({"--wrap", "exit 3"});
  ASSERT_TRUE(first && failing);
  auto on_ok = cluster.submit({"--dependency=afterok:" + std::to_string(*first), "--wrap", "echo after-ok"});
  auto on_fail = cluster.submit({"--dependency=afternotok:" + std::to_string(*failing), "--wrap", "echo after-notok"});
  auto doomed = cluster.submit({"--dependency=afterok:" + std::to_string(*failing), "--wrap", "echo never"});
  auto any = cluster.submit({"--dependency=afterany:" + std::to_string(*first) + ":" + std::to_string(*failing),
                             "--wrap", "echo after-any"});
  ASSERT_TRUE(on_ok && on_fail && doomed && any);

  ASSERT_TRUE(waitUntil([&] { return cluster.job(*doomed)["state"] == "CANCELLED"; }, std::chrono::seconds(20)));
  EXPECT_EQ(cluster.job(*doomed)["reason"], "DependencyNeverSatisfied");
  ASSERT_TRUE(cluster.waitTerminal({*on_fail}, std::chrono::seconds(20)));
  EXPECT_EQ(cluster.job(*on_fail)["state"], "COMPLETED");
  auto waiting = cluster.job(*on_ok);
  EXPECT_EQ(waiting["state"], "PENDING");
  EXPECT_EQ(waiting["reason"], "Dependency");
  EXPECT_EQ(cluster.job(*any)["state"], "PENDING");

  std::ofstream(gate).put('\n');
  ASSERT_TRUE(cluster.waitTerminal({*on_ok, *any}, std::chrono::seconds(30)));
  auto done = cluster.job(*on_ok);
  EXPECT_EQ(done["state"], "COMPLETED");
  EXPECT_GE(done["start_time"].get<std::string>(), cluster.job(*first)["end_time"].get<std::string>());
  EXPECT_EQ(readFile(done["stdout"]), "after-ok\n");
  EXPECT_EQ(cluster.job(*any)["state"], "COMPLETED");

  // A dependency on a job that does not exist is refused at submit, and nothing is stored.
  size_t before = cluster.jobs("all").size();
  auto bad = cluster.locus({"submit", "--dependency=afterok:9999", "--wrap", "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("job 9999 not found"), std::string::npos) << bad.err;
  EXPECT_EQ(cluster.jobs("all").size(), before);
}

}  // namespace
}  // namespace locus::testing
