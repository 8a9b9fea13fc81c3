// A node daemon that dies is marked DOWN after the node timeout; its jobs end NODE_FAIL, or go
// back to PENDING with attempt + 1 when submitted with --requeue, and run again later.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/test_cluster.hpp"

namespace locus::testing {
namespace {

std::string nodeState(const TestCluster& cluster, const std::string& name) {
  auto r = cluster.locus({"nodes", "--json"});
  if (r.exit_code != 0) return "";
  auto parsed = nlohmann::json::parse(r.out);
  for (const auto& n : parsed["nodes"])
    if (n["name"] == name) return n["state"];
  return "";
}

TEST(NodeFailure, JobsOnADeadNodeFailOrRequeue) {
  TestCluster cluster({.nodes = 2});  // node_timeout_s = 3 in the test config
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));

  // Both span the two nodes, so losing n2 hits both.
  auto plain = cluster.submit({"-N", "2", "-n", "2", "--wrap", "sleep 300"});
  auto requeued = cluster.submit({"-N", "2", "-n", "2", "--requeue", "--wrap",
                                  "echo attempt=$LOCUS_RESTART_COUNT; [ \"$LOCUS_RESTART_COUNT\" != 0 ] || sleep 300"});
  ASSERT_TRUE(plain && requeued);
  ASSERT_TRUE(waitUntil([&] { return cluster.jobs("RUNNING").size() == 2; }, std::chrono::seconds(20)));

  cluster.killNode(1);
  ASSERT_TRUE(waitUntil([&] { return nodeState(cluster, "n2") == "DOWN"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(waitUntil([&] { return cluster.job(*plain)["state"] == "NODE_FAIL"; }, std::chrono::seconds(10)));
  auto j = cluster.job(*requeued);
  EXPECT_EQ(j["state"], "PENDING");  // needs two nodes, only one is up
  EXPECT_EQ(j["attempt"], 1);
  // The surviving node was told to kill the scripts and got its cores back.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto parsed = nlohmann::json::parse(cluster.locus({"nodes", "--json"}).out);
        for (const auto& n : parsed["nodes"])
          if (n["name"] == "n1") return n["cpus_alloc"] == 0;
        return false;
      },
      std::chrono::seconds(10)));

  // n2 comes back: the requeued job runs its second attempt and completes.
  ASSERT_TRUE(cluster.startNode(1));
  ASSERT_TRUE(cluster.waitTerminal({*requeued}, std::chrono::seconds(60)));
  j = cluster.job(*requeued);
  EXPECT_EQ(j["state"], "COMPLETED");
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_NE(readFile(j["stdout"]).find("attempt=1"), std::string::npos);
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// A node daemon killed outright and restarted: the processes its tasks left behind are killed,
// and the controller (seeing a new daemon, not a reconnect) requeues the lost --requeue job.
TEST(NodeFailure, RestartedDaemonKillsLeftoversAndTheJobIsRequeued) {
  TestCluster cluster({.nodes = 1});
  ASSERT_TRUE(cluster.startController());
  ASSERT_TRUE(cluster.startNode(0));
  ASSERT_TRUE(cluster.waitNodesUp(1, std::chrono::seconds(20)));
  const std::string pidfile = cluster.workDir() + "/child-$LOCUS_JOB_ATTEMPT.pid";
  auto id = cluster.submit({"--requeue", "--wrap", "sleep 300 & echo $! > " + pidfile + "; wait"});
  ASSERT_TRUE(id);
  const std::string first_child = cluster.workDir() + "/child-0.pid";
  ASSERT_TRUE(waitUntil([&] { return !readFile(first_child).empty(); }, std::chrono::seconds(20)));
  pid_t child = std::stoi(readFile(first_child));
  ASSERT_EQ(kill(child, 0), 0);

  cluster.killNode(0);
  ASSERT_TRUE(cluster.startNode(0));
  // The leftover child of attempt 0 is gone (a zombie until init reaps it counts as gone).
  ASSERT_TRUE(waitUntil(
      [&] {
        std::string stat = readFile("/proc/" + std::to_string(child) + "/stat");
        return stat.empty() || stat.find(") Z") != std::string::npos;
      },
      std::chrono::seconds(10)));
  // Attempt 1 runs.
  ASSERT_TRUE(waitUntil([&] { return !readFile(cluster.workDir() + "/child-1.pid").empty(); },
                        std::chrono::seconds(20)));
  auto j = cluster.job(*id);
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*id)}).exit_code, 0);
  ASSERT_TRUE(cluster.waitTerminal({*id}, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace locus::testing

namespace locus::testing {
namespace {

// A process that exists and is not a zombie.
bool processRuns(pid_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  return !stat.empty() && stat.find(") Z") == std::string::npos;
}

// A node daemon that hangs (SIGSTOP) past the node timeout is marked DOWN and its --requeue job
// runs again elsewhere; the hung daemon could not stop its task, which runs on meanwhile. When
// the daemon wakes, the controller fences it by attempt number: the stale attempt is killed and
// the new one runs on, alone.
TEST(NodeFailure, AHungNodeIsFencedWhenItWakes) {
  TestCluster cluster({.nodes = 2});
  ASSERT_TRUE(cluster.startController());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.startNode(i));
  ASSERT_TRUE(cluster.waitNodesUp(2, std::chrono::seconds(20)));
  auto id = cluster.submit({"--requeue", "--wrap", "echo $$ > pid.$LOCUS_RESTART_COUNT; exec sleep 300"});
  ASSERT_TRUE(id);
  const std::string pid0_file = cluster.workDir() + "/pid.0", pid1_file = cluster.workDir() + "/pid.1";
  ASSERT_TRUE(waitUntil([&] { return !readFile(pid0_file).empty(); }, std::chrono::seconds(20)));
  const pid_t first = std::stoi(readFile(pid0_file));
  const std::string node = cluster.job(*id)["nodes"][0];
  const int hung = node == "n1" ? 0 : 1;

  cluster.signalNode(hung, SIGSTOP);
  ASSERT_TRUE(waitUntil([&] { return nodeState(cluster, node) == "DOWN"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(waitUntil([&] { return !readFile(pid1_file).empty(); }, std::chrono::seconds(20)));
  const pid_t second = std::stoi(readFile(pid1_file));
  auto j = cluster.job(*id);
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_NE(j["nodes"][0], node);
  EXPECT_TRUE(processRuns(first)) << "the hung node's task runs on until its daemon wakes";

  cluster.signalNode(hung, SIGCONT);
  EXPECT_TRUE(waitUntil([&] { return !processRuns(first); }, std::chrono::seconds(20)))
      << "attempt 0 (pid " << first << ") was not fenced";
  EXPECT_TRUE(waitUntil([&] { return nodeState(cluster, node) == "UP"; }, std::chrono::seconds(20)));
  EXPECT_TRUE(processRuns(second));
  j = cluster.job(*id);
  EXPECT_EQ(j["state"], "RUNNING");
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(cluster.locus({"cancel", std::to_string(*id)}).exit_code, 0);
}

}  // namespace
}  // namespace locus::testing
